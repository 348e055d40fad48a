//! The store layer: the catalogue directory and what keeps it consistent.
//! [`layout`] knows where every file is; [`catalogue`] opens it and writes it
//! atomically under the writer [`lock`], through the [`staging`] directory
//! (where large sorts [`spill`] their runs); the derived store ([`derived`],
//! with its [`tables`]) holds what is computed from the files, kept current by
//! the writer ([`sync`]): the incremental and operation caches, the access
//! lookups ([`access`]) and the reverse index ([`locate`]).

pub mod access;
pub mod catalogue;
pub mod derived;
pub mod journal;
pub mod layout;
pub mod locate;
pub mod lock;
pub mod regular;
pub mod spill;
pub mod staging;
pub mod sync;
pub mod tables;

pub use derived::{ExtraDigestTable, Origin, SourceFile, Store, StoreReader};
