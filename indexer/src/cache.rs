//! The incremental cache: per (collection, key), the stat of the file when it was
//! last hashed and its checksum, in the catalogue's database.
//!
//! A checksum is reused only when device, inode, size, mtime and ctime all match
//! and the entry is *trusted*: the file's mtime was older than the start of the
//! run that hashed it by at least [`RACY_WINDOW_NS`]. A file written in the same
//! clock tick as it was hashed ("racily clean") is therefore hashed again.

use std::collections::BTreeMap;

use faircore::{Checksum, Database};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::stat::FileStat;

/// How much older than the run's start a file's mtime must be for its checksum to
/// be trusted next time. Covers coarse filesystem clocks (FAT: 2 s) and skew.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// (collection, key) → (dev, ino, size, mtime ns, ctime ns, checksum, trusted).
type Row = (u64, u64, u64, i64, i64, [u8; 32], bool);
const TABLE: TableDefinition<(&str, &str), Row> = TableDefinition::new("stat_cache");

/// A cached stat and checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The stat the checksum belongs to.
    pub stat: FileStat,
    /// The content checksum.
    pub checksum: Checksum,
    /// Whether the mtime was safely in the past when it was hashed.
    pub trusted: bool,
}

impl Entry {
    /// An entry for a file hashed (or linked) during a run started at
    /// `run_start_ns`.
    pub fn new(stat: FileStat, checksum: Checksum, run_start_ns: i64) -> Self {
        Entry {
            stat,
            checksum,
            trusted: stat.mtime_ns < run_start_ns - RACY_WINDOW_NS,
        }
    }

    /// The checksum, if this entry may stand for a file that now has `stat`.
    pub fn reusable_for(&self, stat: &FileStat) -> Option<Checksum> {
        (self.trusted && self.stat == *stat).then_some(self.checksum)
    }
}

fn to_row(e: &Entry) -> Row {
    let s = e.stat;
    (s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns, *e.checksum.as_bytes(), e.trusted)
}

fn from_row(r: Row) -> Entry {
    Entry {
        stat: FileStat {
            dev: r.0,
            ino: r.1,
            size: r.2,
            mtime_ns: r.3,
            ctime_ns: r.4,
        },
        checksum: Checksum::from_bytes(r.5),
        trusted: r.6,
    }
}

/// Read access to one collection's cache, shared by the hashing threads.
pub struct Reader {
    collection: String,
    table: Option<redb::ReadOnlyTable<(&'static str, &'static str), Row>>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("collection", &self.collection).finish_non_exhaustive()
    }
}

impl Reader {
    /// Opens the cache of `collection` for reading.
    pub fn open(db: &Database, collection: &str) -> faircore::Result<Self> {
        let txn = db.redb().begin_read().map_err(|e| db.error(e))?;
        let table = match txn.open_table(TABLE) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(db.error(e)),
        };
        Ok(Reader {
            collection: collection.to_owned(),
            table,
        })
    }

    /// The cached entry of `key`. A database read error counts as a miss: the
    /// file is then simply hashed.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let table = self.table.as_ref()?;
        match table.get((self.collection.as_str(), key)) {
            Ok(row) => row.map(|r| from_row(r.value())),
            Err(e) => {
                tracing::warn!("incremental cache: {e}; hashing {key}");
                None
            }
        }
    }
}

/// Records the entries of this run for `collection` and forgets keys that are no
/// longer in the source. `current` holds every key the run saw, with
/// `Some(entry)` where the stored entry must change.
pub fn update(
    txn: &redb::WriteTransaction,
    collection: &str,
    current: &BTreeMap<&str, Option<Entry>>,
) -> Result<(), redb::Error> {
    let mut table = txn.open_table(TABLE)?;
    let mut stale = Vec::new();
    for item in table.range((collection, "")..)? {
        let (k, _) = item?;
        let (c, key) = k.value();
        if c != collection {
            break;
        }
        if !current.contains_key(key) {
            stale.push(key.to_owned());
        }
    }
    for key in &stale {
        table.remove((collection, key.as_str()))?;
    }
    for (key, entry) in current {
        if let Some(entry) = entry {
            table.insert((collection, *key), to_row(entry))?;
        }
    }
    Ok(())
}
