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
    #[error("{}: {source}", crate::display::path(path))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The directory has neither `fair.toml` nor Seamless subdirectories.
    #[error(
        "{}: not a fair catalogue (no fair.toml and no Seamless FAIR subdirectories); create one with `fair init`",
        crate::display::path(path)
    )]
    NotACatalogue {
        /// The directory.
        path: PathBuf,
    },
    /// `fair.toml` is missing from a catalogue fair wrote with one.
    #[error(
        "{}: missing, but fair wrote this catalogue with one; restore it ({}), or, to read the directory as a Seamless FAIR dir (sha3-256) and re-hash its sources, remove {}",
        crate::display::path(path),
        hash.map_or("from a backup".to_string(), |h| format!("from a backup, or with the lines `format = {}` and `hash = \"{h}\"`", crate::config::FORMAT_VERSION)),
        crate::display::path(store)
    )]
    ConfigMissing {
        /// The missing `fair.toml`.
        path: PathBuf,
        /// The algorithm the store records, if it does.
        hash: Option<crate::HashAlgo>,
        /// fair's state directory (`.fair/`).
        store: PathBuf,
    },
    /// `fair init` on a directory that already has `fair.toml`.
    #[error("{}: already a fair catalogue", crate::display::path(path))]
    AlreadyInitialised {
        /// The existing `fair.toml`.
        path: PathBuf,
    },
    /// `fair init` with another algorithm than the Seamless data already present.
    #[error(
        "{}: holds Seamless FAIR data, which is hashed with sha3-256; initialise it with `--hash sha3-256`",
        crate::display::path(path)
    )]
    SeamlessNeedsSha3 {
        /// The directory.
        path: PathBuf,
    },
    /// `fair.toml` is not valid.
    #[error("{}: {message}", crate::display::path(path))]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, with line and column when known.
        message: String,
    },
    /// Another process holds the writer lock.
    #[error(
        "{}: locked by another writer ({holder}); try again when it has finished (the lock is released when that process exits)",
        crate::display::path(path)
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as recorded in the lock file.
        holder: String,
    },
    /// A JSON file of the catalogue could not be parsed.
    #[error("{}: {source}", crate::display::path(path))]
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
    #[error("{}: database error: {message}", crate::display::path(path))]
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
