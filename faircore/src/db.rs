//! The embedded database in `.fair/` (redb): derived state only. Deleting it costs
//! a re-hash, never a wrong answer; a database that cannot be opened, or that was
//! written by another schema version, is set aside and rebuilt.

use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, TableDefinition};

use crate::lock::WriteLock;
use crate::{Checksum, Error, Result};

/// Bump when a table's layout changes: older databases are then rebuilt.
const SCHEMA_VERSION: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Collection checksum → the sum of its element sizes.
const CONTENT_SIZES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("content_sizes");

/// Why a database could not be opened: unusable ones are rebuilt; any other
/// failure (permissions, another process, a full disk) is reported.
enum Failure {
    Unusable(String),
    Other(String),
}

impl Failure {
    fn reason(self) -> String {
        match self {
            Failure::Unusable(r) | Failure::Other(r) => r,
        }
    }
}

/// The catalogue's database.
#[derive(Debug)]
pub struct Database {
    db: redb::Database,
    path: PathBuf,
}

impl Database {
    /// Opens (or creates, or rebuilds) the database at `path`, as the writer.
    pub fn open(path: &Path, _lock: &WriteLock) -> Result<Self> {
        match Self::try_open(path) {
            Ok(db) => Ok(db),
            Err(Failure::Unusable(reason)) => {
                tracing::warn!(
                    "{}: {reason}; rebuilding it (derived state: unchanged files will be re-hashed once)",
                    path.display()
                );
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
                Self::try_open(path).map_err(|f| Error::database(path, f.reason()))
            }
            Err(Failure::Other(reason)) => Err(Error::database(path, reason)),
        }
    }

    fn try_open(path: &Path) -> Result<Self, Failure> {
        let db = redb::Database::create(path).map_err(|e| match e {
            redb::DatabaseError::Storage(redb::StorageError::Io(io))
                if io.kind() == std::io::ErrorKind::InvalidData =>
            {
                Failure::Unusable(io.to_string())
            }
            redb::DatabaseError::UpgradeRequired(_)
            | redb::DatabaseError::Storage(redb::StorageError::Corrupted(_)) => {
                Failure::Unusable(e.to_string())
            }
            other => Failure::Other(other.to_string()),
        })?;
        let other = |e: &dyn std::fmt::Display| Failure::Other(e.to_string());
        let version = {
            let txn = db.begin_read().map_err(|e| other(&e))?;
            match txn.open_table(META) {
                Ok(table) => table
                    .get("schema")
                    .map_err(|e| other(&e))?
                    .map(|v| v.value()),
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(other(&e)),
            }
        };
        match version {
            Some(SCHEMA_VERSION) => {}
            None => {
                let txn = db.begin_write().map_err(|e| other(&e))?;
                txn.open_table(META)
                    .map_err(|e| other(&e))?
                    .insert("schema", SCHEMA_VERSION)
                    .map_err(|e| other(&e))?;
                txn.commit().map_err(|e| other(&e))?;
            }
            Some(v) => {
                return Err(Failure::Unusable(format!(
                    "schema version {v}, expected {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(Database {
            db,
            path: path.to_owned(),
        })
    }

    /// The redb handle, for the tables other crates own.
    pub fn redb(&self) -> &redb::Database {
        &self.db
    }

    /// Wraps a redb error with this database's path.
    pub fn error(&self, err: impl std::fmt::Display) -> Error {
        Error::database(&self.path, err)
    }

    /// Records the content size (sum of element sizes) of collections, by their
    /// checksum, as the indexer knows them when it writes the collections.
    pub fn record_content_sizes(&self, sizes: &[(Checksum, u64)]) -> Result<()> {
        if sizes.is_empty() {
            return Ok(());
        }
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(CONTENT_SIZES)?;
                for (checksum, size) in sizes {
                    table.insert(checksum.as_bytes(), size)?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| self.error(e))
    }

    /// The recorded content size of the collection `checksum`.
    pub fn content_size(&self, checksum: &Checksum) -> Result<Option<u64>> {
        let read = || -> Result<Option<u64>, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = match txn.open_table(CONTENT_SIZES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            Ok(table.get(checksum.as_bytes())?.map(|v| v.value()))
        };
        read().map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rebuilt_not_trusted() {
        const T: TableDefinition<&str, u64> = TableDefinition::new("t");
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = WriteLock::acquire(&dir.path().join("lock")).expect("lock");
        let path = dir.path().join("cache.redb");
        std::fs::write(&path, b"not a database at all").expect("write");
        let db = Database::open(&path, &lock).expect("rebuilt");
        let txn = db.redb().begin_write().expect("txn");
        txn.open_table(T)
            .expect("table")
            .insert("k", 42)
            .expect("insert");
        txn.commit().expect("commit");
        drop(db);
        let db = Database::open(&path, &lock).expect("reopens");
        let txn = db.redb().begin_read().expect("txn");
        let value = txn
            .open_table(T)
            .expect("table")
            .get("k")
            .expect("get")
            .map(|v| v.value());
        assert_eq!(value, Some(42));
    }
}
