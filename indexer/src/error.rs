//! The error type of the indexer.
//!
//! Policy: an `Error` stops the run before anything is published (bad source
//! directory, unusable buffer directory, catalogue failure). A problem with one file
//! is not an `Error`: it becomes a [`crate::Problem`] in the report and the walk goes
//! on.

use std::path::PathBuf;

/// Why an index run could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The catalogue could not be read or written.
    #[error(transparent)]
    Catalogue(#[from] faircore::Error),
    /// The source directory is not a readable directory.
    #[error("--source {}: {reason}", path.display())]
    Source {
        /// The source directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Hard links cannot cross filesystems.
    #[error(
        "--intern hardlink: {} and the buffer directory {} are on different filesystems, so files cannot be hard-linked; use --intern copy",
        source_dir.display(), buffer_dir.display()
    )]
    CrossDevice {
        /// The source directory.
        source_dir: PathBuf,
        /// The buffer directory.
        buffer_dir: PathBuf,
    },
    /// The buffer directory cannot take the run's copies: its filesystem is
    /// full, or would fall under the free-space reserve (`--min-free`).
    #[error(
        "the buffer directory {}: {reason}; the run stopped and published nothing",
        dir.display()
    )]
    BufferFull {
        /// The buffer directory.
        dir: PathBuf,
        /// What its filesystem said, or the free space and the reserve.
        reason: String,
    },
    /// An action file is invalid, or one of its actions cannot be done.
    #[error("{0}")]
    Action(String),
    /// A shard run or a merge of shards cannot be done (the message names the shard).
    #[error("{0}")]
    Shard(String),
    /// `--jobs` could not start its thread pool.
    #[error("--jobs: cannot start the worker threads: {0}")]
    Threads(String),
}
