//! The error type of `faircore`.
//!
//! Policy: every variant names the file or directory it is about and says what was
//! expected, so a caller can print it as it is. Libraries return this enum; the
//! binary adds context with `anyhow` and maps it to an exit code.

use std::io;
use std::path::PathBuf;

/// What can go wrong while reading or writing a catalogue.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The directory has neither `fair.toml` nor Seamless subdirectories.
    #[error(
        "{}: not a fair catalogue (no fair.toml and no Seamless FAIR subdirectories); create one with `fair init`",
        path.display()
    )]
    NotACatalogue {
        /// The directory.
        path: PathBuf,
    },
    /// `fair init` on a directory that already has `fair.toml`.
    #[error("{}: already a fair catalogue", path.display())]
    AlreadyInitialised {
        /// The existing `fair.toml`.
        path: PathBuf,
    },
    /// `fair init` with another algorithm than the Seamless data already present.
    #[error(
        "{}: holds Seamless FAIR data, which is hashed with sha3-256; initialise it with `--hash sha3-256`",
        path.display()
    )]
    SeamlessNeedsSha3 {
        /// The directory.
        path: PathBuf,
    },
    /// `fair.toml` is not valid.
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, with line and column when known.
        message: String,
    },
    /// Another process holds the writer lock.
    #[error(
        "{}: the catalogue is locked by another writer ({holder}); try again when it has finished (the lock is released when that process exits)",
        path.display()
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as recorded in the lock file.
        holder: String,
    },
    /// A JSON file of the catalogue could not be parsed.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
    /// A request or a catalogue file is refused: `subject` is the parameter, file
    /// or record, `message` what was expected.
    #[error("{subject}: {message}")]
    Invalid {
        /// What is refused.
        subject: String,
        /// Why, and what was expected.
        message: String,
    },
    /// The embedded database failed.
    #[error("{}: database error: {message}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// The redb error.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A refusal of `subject`, saying what was expected.
    pub fn invalid(subject: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Invalid {
            subject: subject.to_string(),
            message: message.into(),
        }
    }

    /// Wraps a database error with the database path.
    pub fn database(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Error::Database {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// `Result` with the `faircore` error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
