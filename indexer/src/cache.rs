//! The incremental cache of the indexer: reading a collection's rows while the
//! walk runs, and recording the rows that changed. The rows' format is
//! `faircore::statcache`.

use std::collections::HashSet;

use faircore::Store;
use faircore::statcache::decode;
pub use faircore::statcache::{Directory, Entry, RACY_WINDOW_NS, encode};
use faircore::store::tables;
use redb::{ReadableDatabase, ReadableTable};

/// Read access to one collection's cache, shared by the walking threads.
pub struct Cache {
    table: Option<redb::ReadOnlyTable<&'static str, &'static [u8]>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Cache {
    /// Opens the cache of `collection` for reading.
    pub fn open(db: &Store, collection: &str) -> faircore::Result<Self> {
        let name = tables::stat_cache(collection);
        let txn = db.redb().begin_read().map_err(|e| db.error(e))?;
        let table = match txn.open_table(tables::stat_cache_table(&name)) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(db.error(e)),
        };
        Ok(Cache { table })
    }

    /// The cached files of the directory `dir` ("" for the source itself). An
    /// unreadable row counts as empty: its files are then simply hashed.
    pub fn directory(&self, dir: &str) -> Directory {
        let Some(table) = &self.table else {
            return Directory::default();
        };
        let bytes = match table.get(dir) {
            Ok(Some(row)) => row.value().to_vec(),
            Ok(None) => return Directory::default(),
            Err(e) => {
                tracing::warn!("incremental cache of {dir:?}: {e}; hashing its files");
                return Directory::default();
            }
        };
        match decode(bytes) {
            Some(directory) => directory,
            None => {
                tracing::warn!("incremental cache of {dir:?} is malformed; hashing its files");
                Directory::default()
            }
        }
    }

    /// The directories that have a row, visited or not.
    pub fn directories(&self) -> Result<Vec<String>, redb::StorageError> {
        let Some(table) = &self.table else {
            return Ok(Vec::new());
        };
        table
            .iter()?
            .map(|item| item.map(|(k, _)| k.value().to_owned()))
            .collect()
    }
}

/// Records the run's changes for `collection`: `changed` rows (directory, encoded
/// entries; empty means none) are stored, and rows of directories that are not in
/// `visited` are dropped. Nothing to do costs no transaction.
pub fn update(
    db: &Store,
    collection: &str,
    cache: &Cache,
    visited: &HashSet<&str>,
    changed: &[(&str, &[u8])],
) -> faircore::Result<()> {
    let stale: Vec<String> = cache
        .directories()
        .map_err(|e| db.error(e))?
        .into_iter()
        .filter(|d| !visited.contains(d.as_str()))
        .collect();
    if stale.is_empty() && changed.is_empty() {
        return Ok(());
    }
    let name = tables::stat_cache(collection);
    let write = || -> Result<(), redb::Error> {
        let txn = db.redb().begin_write()?;
        {
            let mut table = txn.open_table(tables::stat_cache_table(&name))?;
            for dir in &stale {
                table.remove(dir.as_str())?;
            }
            for (dir, bytes) in changed {
                if bytes.is_empty() {
                    table.remove(*dir)?;
                } else {
                    table.insert(*dir, *bytes)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    };
    write().map_err(|e| db.error(e))
}
