//! The operations on a catalogue: its read side ([`view`], with the
//! resolution of queries and names, [`resolve`]), adding a distribution
//! ([`snapshot`]), checking it ([`verify`]), comparing two distributions
//! ([`diff`], over [`stream`]ed collections), bulk download lists ([`manifest`],
//! with the access index [`lookup`]).

pub mod diff;
pub mod lookup;
pub mod manifest;
pub mod resolve;
pub mod snapshot;
pub mod stream;
pub mod verify;
pub mod view;
