//! The part of `fair` that touches source trees: walking a mirror directory,
//! hashing its files in parallel, reusing checksums of unchanged files from an
//! incremental cache, and interning element buffers.
//!
//! The entry point is [`index`]: it takes a catalogue [`faircore::Writer`] (so the
//! catalogue is locked) and [`Options`], and returns a [`Report`]. A problem with one
//! file never stops the run; it is listed in the report, and the collection is then
//! only published with [`Options::allow_errors`].

pub mod actions;
mod cache;
mod error;
mod exclude;
mod filehash;
mod index;
mod intern;
mod merge;
mod ordered;
mod report;
mod shard;
mod space;
mod stat;
mod walk;

pub use cache::RACY_WINDOW_NS;
pub use error::Error;
pub use exclude::{BadPattern, Exclude};
pub use index::{Options, Scan, index, last_totals, scan};
pub use intern::InternMode;
pub use merge::merge;
pub use report::{Operations, Problem, Report, ShardOutput};
pub use shard::ShardRun;
