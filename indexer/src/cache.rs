//! The incremental cache of the indexer: reading a collection's rows while the
//! walk runs, and recording the rows that changed in batches as the run goes.
//! The rows' format is `faircore::statcache`.

use faircore::statcache::decode;
pub use faircore::statcache::{Directory, Entry, RACY_WINDOW_NS, encode};
use faircore::store::tables;
use faircore::{Checksum, ExtraDigests, Store};
use redb::ReadableDatabase;

use crate::walk;

/// Bytes of changed rows gathered before they are written (one transaction).
/// Well under the store's 16 MiB cache: a transaction bigger than the cache
/// spills dirty pages before its commit and writes them again (measured on a
/// first index of 10^6 files: 253 MB written at 16 MiB, 187 MB at 8, 132 MB at
/// 4 and at 2).
const BATCH_BYTES: usize = 4 << 20;

/// Read access to one collection's cache as it was when the run started, shared
/// by the worker threads.
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

    /// The rows under the directory `dir` that belong to no subdirectory it
    /// has now (`subdirs`, in walk order): rows of directories that are gone.
    /// Rows under a subdirectory that is still there are skipped, not read.
    pub fn gone_under(
        &self,
        dir: &str,
        subdirs: &[String],
    ) -> Result<Vec<String>, redb::StorageError> {
        let Some(table) = &self.table else {
            return Ok(Vec::new());
        };
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        // Every key under `dir/` sorts before `dir0` ('0' follows '/').
        let end = (!dir.is_empty()).then(|| format!("{dir}0"));
        let mut gone = Vec::new();
        let mut from = prefix.clone();
        'ranges: loop {
            let range = match &end {
                Some(end) => table.range::<&str>(from.as_str()..end.as_str())?,
                None => table.range::<&str>(from.as_str()..)?,
            };
            for row in range {
                let (key, _) = row?;
                let key = key.value();
                let Some(rest) = key.strip_prefix(&prefix).filter(|r| !r.is_empty()) else {
                    continue;
                };
                let child = rest.split('/').next().unwrap_or(rest);
                if subdirs
                    .binary_search_by(|s| walk::dir_order(s, child))
                    .is_err()
                {
                    gone.push(key.to_owned());
                } else if rest.len() > child.len() {
                    // Inside a subdirectory still there: its own walk sees to it.
                    from = format!("{prefix}{child}0");
                    continue 'ranges;
                }
            }
            return Ok(gone);
        }
    }
}

/// What a run has to record in the store, gathered until [`Pending::flush`].
#[derive(Debug, Default)]
pub struct Pending {
    /// Directory → its new row (empty: none).
    rows: Vec<(String, Vec<u8>)>,
    /// Rows of directories that are gone.
    gone: Vec<String>,
    /// Extra digests of the files hashed.
    digests: Vec<(Checksum, ExtraDigests)>,
    bytes: usize,
}

impl Pending {
    /// Adds the new row of `dir`.
    pub fn row(&mut self, dir: String, row: Vec<u8>) {
        self.bytes += dir.len() + row.len();
        self.rows.push((dir, row));
    }

    /// Adds rows to drop.
    pub fn gone(&mut self, dirs: Vec<String>) {
        self.bytes += dirs.iter().map(String::len).sum::<usize>();
        self.gone.extend(dirs);
    }

    /// Adds the extra digests of a hashed element.
    pub fn digests(&mut self, checksum: Checksum, extra: ExtraDigests) {
        self.bytes += 64;
        self.digests.push((checksum, extra));
    }

    /// Whether a batch is big enough to be written.
    pub fn full(&self) -> bool {
        self.bytes >= BATCH_BYTES
    }

    /// Writes what was gathered for `collection` in one transaction (none when
    /// there is nothing), with the run's `totals` (files, bytes) when given. The
    /// caller syncs the buffers the rows name first.
    pub fn flush(
        &mut self,
        db: &Store,
        collection: &str,
        totals: Option<(u64, u64)>,
    ) -> faircore::Result<()> {
        if self.rows.is_empty()
            && self.gone.is_empty()
            && self.digests.is_empty()
            && totals.is_none()
        {
            return Ok(());
        }
        let name = tables::stat_cache(collection);
        let write = || -> Result<(), redb::Error> {
            let txn = db.redb().begin_write()?;
            {
                let mut table = txn.open_table(tables::stat_cache_table(&name))?;
                for dir in &self.gone {
                    table.remove(dir.as_str())?;
                }
                for (dir, row) in &self.rows {
                    if row.is_empty() {
                        table.remove(dir.as_str())?;
                    } else {
                        table.insert(dir.as_str(), row.as_slice())?;
                    }
                }
                let mut digests = txn.open_table(tables::EXTRA_DIGESTS)?;
                for (checksum, extra) in &self.digests {
                    digests.insert(checksum.as_bytes(), extra.encode().as_slice())?;
                }
                if let Some(totals) = totals {
                    txn.open_table(tables::INDEX_TOTALS)?
                        .insert(collection, totals)?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| db.error(e))?;
        *self = Pending::default();
        Ok(())
    }
}

/// The files and bytes of the last complete run that indexed `collection`.
pub fn last_totals(db: &Store, collection: &str) -> faircore::Result<Option<(u64, u64)>> {
    let read = || -> Result<Option<(u64, u64)>, redb::Error> {
        match db.redb().begin_read()?.open_table(tables::INDEX_TOTALS) {
            Ok(t) => Ok(t.get(collection)?.map(|v| v.value())),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    read().map_err(|e| db.error(e))
}
