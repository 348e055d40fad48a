//! The incremental cache: per (collection, key), the stat of the file when it was
//! last hashed and its checksum, in the catalogue's database.
//!
//! A checksum is reused only when device, inode, size, mtime and ctime all match
//! and the entry is *trusted*: the file's mtime was older than the start of the
//! run that hashed it by at least [`RACY_WINDOW_NS`]. A file written in the same
//! clock tick as it was hashed ("racily clean") is therefore hashed again.

use faircore::{Checksum, Database};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::stat::FileStat;

/// How much older than the run's start a file's mtime must be for its checksum to
/// be trusted next time. Covers coarse filesystem clocks (FAT: 2 s) and skew.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// key → (dev, ino, size, mtime ns, ctime ns, checksum, trusted), one table per
/// collection, so a run scans only its own entries.
type Row = (u64, u64, u64, i64, i64, [u8; 32], bool);

fn table(collection: &str) -> String {
    format!("stat_cache/{collection}")
}

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
    (
        s.dev,
        s.ino,
        s.size,
        s.mtime_ns,
        s.ctime_ns,
        *e.checksum.as_bytes(),
        e.trusted,
    )
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

/// Every cached entry of `collection`, sorted by key, read in one sequential scan
/// (the run then merges it with the sorted walk, without touching the database).
pub fn load(db: &Database, collection: &str) -> faircore::Result<Vec<(String, Entry)>> {
    let name = table(collection);
    let read = || -> Result<Vec<(String, Entry)>, redb::Error> {
        let txn = db.redb().begin_read()?;
        let table = match txn.open_table(TableDefinition::<&str, Row>::new(&name)) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut entries = Vec::with_capacity(usize::try_from(table.len()?).unwrap_or(0));
        for item in table.iter()? {
            let (key, row) = item?;
            entries.push((key.value().to_owned(), from_row(row.value())));
        }
        Ok(entries)
    };
    read().map_err(|e| db.error(e))
}

/// Records the changes of this run for `collection`: `changed` entries are
/// stored and `stale` keys (no longer in the source) forgotten. Nothing to do
/// costs no transaction.
pub fn update<'a>(
    db: &Database,
    collection: &str,
    stale: &[String],
    changed: impl Iterator<Item = (&'a str, &'a Entry)>,
) -> faircore::Result<()> {
    let mut changed = changed.peekable();
    if stale.is_empty() && changed.peek().is_none() {
        return Ok(());
    }
    let name = table(collection);
    let write = || -> Result<(), redb::Error> {
        let txn = db.redb().begin_write()?;
        {
            let mut table = txn.open_table(TableDefinition::<&str, Row>::new(&name))?;
            for key in stale {
                table.remove(key.as_str())?;
            }
            for (key, entry) in changed {
                table.insert(key, to_row(entry))?;
            }
        }
        txn.commit()?;
        Ok(())
    };
    write().map_err(|e| db.error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000_000;

    fn stat(mtime_ns: i64) -> FileStat {
        FileStat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns,
            ctime_ns: mtime_ns,
        }
    }

    #[test]
    fn only_trusted_entries_with_an_identical_stat_are_reused() {
        let c = faircore::HashAlgo::Blake3.hash(b"x");
        let old = Entry::new(stat(NOW - 3_600_000_000_000), c, NOW);
        assert_eq!(old.reusable_for(&old.stat), Some(c));
        let mut touched = old.stat;
        touched.ctime_ns += 1;
        assert_eq!(old.reusable_for(&touched), None, "ctime changed");
        let mut moved = old.stat;
        moved.ino += 1;
        assert_eq!(old.reusable_for(&moved), None, "another inode");
        let racy = Entry::new(stat(NOW - RACY_WINDOW_NS + 1), c, NOW);
        assert_eq!(
            racy.reusable_for(&racy.stat),
            None,
            "written too close to the hashing"
        );
    }

    #[test]
    fn rows_round_trip() {
        let e = Entry::new(stat(-5), faircore::HashAlgo::Sha256.hash(b"y"), NOW);
        assert_eq!(from_row(to_row(&e)), e);
    }
}
