//! The incremental cache's records: for every file of an indexed source tree,
//! the stat it had when it was hashed and its checksum. The indexer writes them
//! (`indexer::cache`); the server reads them to check that a source file still
//! is what was indexed before it serves it (`fair serve --serve-source`).
//!
//! One table per collection, one row per directory: the row holds the directory's
//! files sorted by name, so the walk fetches a directory's entries with one lookup
//! and a run rewrites only the directories in which something changed.
//!
//! A checksum is reused only when device, inode, size, mtime and ctime all match
//! and the entry is *trusted*: the file's mtime was older than the start of the
//! run that hashed it by at least [`RACY_WINDOW_NS`]. A file written in the same
//! clock tick as it was hashed ("racily clean") is therefore hashed again.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use crate::Checksum;

/// Device, inode, size, modification and change times (ns) of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Status change time, ns since the epoch.
    pub ctime_ns: i64,
}

impl From<&Metadata> for FileStat {
    fn from(m: &Metadata) -> Self {
        FileStat {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime_ns: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
        }
    }
}

impl FileStat {
    /// Whether `other` is the same inode with the same size and mtime: the content
    /// cannot have been rewritten in between (the ctime may differ, e.g. after a
    /// hard link was added).
    pub fn same_content(&self, other: &FileStat) -> bool {
        (self.dev, self.ino, self.size, self.mtime_ns)
            == (other.dev, other.ino, other.size, other.mtime_ns)
    }
}

/// How much older than the run's start a file's mtime must be for its checksum to
/// be trusted next time. Covers coarse filesystem clocks (FAT: 2 s) and skew.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// Bytes of one encoded entry besides its name.
const FIXED: usize = 5 * 8 + 32 + 1;

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

/// The cached files of one directory, sorted by name.
#[derive(Debug, Default)]
pub struct Directory {
    /// The row as stored (empty when there is none).
    bytes: Vec<u8>,
    /// Where each name is in `bytes`, and its entry.
    entries: Vec<(std::ops::Range<usize>, Entry)>,
}

impl Directory {
    /// The cached entry of the file `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        let i = self
            .entries
            .binary_search_by(|(range, _)| self.bytes[range.clone()].cmp(name.as_bytes()))
            .ok()?;
        Some(&self.entries[i].1)
    }

    /// How many files it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Encodes a directory's entries, which must be sorted by name.
pub fn encode<'a>(entries: impl Iterator<Item = (&'a str, &'a Entry)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, e) in entries {
        let len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&name.as_bytes()[..usize::from(len)]);
        let s = e.stat;
        for word in [s.dev, s.ino, s.size] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for word in [s.mtime_ns, s.ctime_ns] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(e.checksum.as_bytes());
        out.push(u8::from(e.trusted));
    }
    out
}

/// Decodes a row; `None` if it is malformed.
pub fn decode(bytes: Vec<u8>) -> Option<Directory> {
    fn take(bytes: &[u8], at: &mut usize, n: usize) -> Option<std::ops::Range<usize>> {
        let range = *at..at.checked_add(n)?;
        bytes.get(range.clone())?;
        *at = range.end;
        Some(range)
    }
    let word = |r: std::ops::Range<usize>, i: usize| -> [u8; 8] {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[r.start + 8 * i..r.start + 8 * i + 8]);
        w
    };
    let mut entries = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = take(&bytes, &mut at, 2)?;
        let len = u16::from_le_bytes([bytes[len.start], bytes[len.start + 1]]);
        let name = take(&bytes, &mut at, usize::from(len))?;
        std::str::from_utf8(&bytes[name.clone()]).ok()?;
        let fixed = take(&bytes, &mut at, FIXED)?;
        let stat = FileStat {
            dev: u64::from_le_bytes(word(fixed.clone(), 0)),
            ino: u64::from_le_bytes(word(fixed.clone(), 1)),
            size: u64::from_le_bytes(word(fixed.clone(), 2)),
            mtime_ns: i64::from_le_bytes(word(fixed.clone(), 3)),
            ctime_ns: i64::from_le_bytes(word(fixed.clone(), 4)),
        };
        let digest = &bytes[fixed.start + 40..fixed.start + 72];
        let checksum = Checksum::from_bytes(digest.try_into().ok()?);
        let trusted = bytes[fixed.start + 72] == 1;
        entries.push((
            name,
            Entry {
                stat,
                checksum,
                trusted,
            },
        ));
    }
    let sorted = entries.is_sorted_by(|(a, _), (b, _)| bytes[a.clone()] < bytes[b.clone()]);
    sorted.then_some(Directory { bytes, entries })
}

/// The directory (its row's key) and the file name of the collection key `key`.
pub fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
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
        let c = crate::HashAlgo::Blake3.hash(b"x");
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
    fn rows_round_trip_and_malformed_rows_are_refused() {
        let a = Entry::new(stat(-5), crate::HashAlgo::Sha256.hash(b"y"), NOW);
        let b = Entry::new(stat(NOW), crate::HashAlgo::Sha256.hash(b"z"), NOW);
        let bytes = encode([("a.txt", &a), ("é", &b)].into_iter());
        let back = decode(bytes.clone()).expect("decodes");
        assert_eq!(back.len(), 2);
        assert_eq!(back.get("a.txt"), Some(&a));
        assert_eq!(back.get("é"), Some(&b));
        assert_eq!(back.get("b"), None);
        assert!(
            decode(bytes[..bytes.len() - 1].to_vec()).is_none(),
            "truncated"
        );
        let unsorted = encode([("b", &a), ("a", &b)].into_iter());
        assert!(decode(unsorted).is_none(), "unsorted");
        assert_eq!(decode(Vec::new()).map(|d| d.len()), Some(0));
    }
}
