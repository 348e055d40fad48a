//! Shards of a source tree: `fair index --shard I/N` indexes the files of one
//! part of the tree, `fair merge` joins the N parts into the collection.
//!
//! The partition is by file: a file belongs to the shard of its key (its path
//! relative to the source), the first 8 bytes of the key's BLAKE3 digest as a
//! little-endian number, modulo N. The same file always lands in the same shard,
//! on every machine, with every version of `fair`, however the tree around it
//! changes; so a file is never in two shards nor in none, even when the shards
//! walk the tree at different moments. The shards' file counts differ by about
//! the square root of their size (±1% at 10^4 files a shard), whatever the
//! layout: a directory-level partition cannot split the directories of 10^5 files
//! that real mirrors have (the PDB's `all/`), and is balanced only with many
//! directories a shard. What a directory itself reports (unreadable, names that
//! are not UTF-8) belongs to the shard of the directory's key. A [`Record`] says
//! what one shard run did.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Checksum, HashAlgo};

/// Shard `index` of `count` (0-based), parsed from `I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, `0..count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Shard `index` of `count`; an error unless `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 {
            return Err(format!(
                "shard {index}/0: the number of shards must be at least 1"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard {index}/{count}: the index counts from 0 and must be less than the number of shards, {count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard, of `count`, of the key `dir/name` (`name` when `dir` is "",
    /// the source itself): of a file, or of a directory's own problems.
    pub fn of_key(dir: &str, name: &str, count: u32) -> u32 {
        let mut hasher = blake3::Hasher::new();
        if !dir.is_empty() {
            hasher.update(dir.as_bytes());
            hasher.update(b"/");
        }
        hasher.update(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
        // Less than `count`, so it fits.
        (u64::from_le_bytes(first) % u64::from(count.max(1))) as u32
    }

    /// Whether the file `name` of the directory `dir` is this shard's.
    pub fn owns(&self, dir: &str, name: &str) -> bool {
        Self::of_key(dir, name, self.count) == self.index
    }

    /// Whether what the directory `dir` itself reports is this shard's.
    pub fn owns_directory(&self, dir: &str) -> bool {
        match dir.rsplit_once('/') {
            Some((parent, name)) => self.owns(parent, name),
            None => self.owns("", dir),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`: shard I (from 0) of N, as Slurm's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`.
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = || format!("{text:?}: expected I/N, shard I (from 0) of N, like 0/4");
        let (index, count) = text.split_once('/').ok_or_else(expected)?;
        let number = |part: &str| -> Result<u32, String> {
            part.trim()
                .parse()
                .map_err(|e: std::num::ParseIntError| match e.kind() {
                    std::num::IntErrorKind::PosOverflow => {
                        format!("{text:?}: {part} is too large (at most {})", u32::MAX)
                    }
                    _ => expected(),
                })
        };
        let (index, count) = (number(index)?, number(count)?);
        Shard::new(index, count)
    }
}

/// What one shard run wrote (`shard.json` next to its `collection.json`): what
/// `fair merge` checks before it uses the shard's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The collection the shard is part of.
    pub collection: String,
    /// Which shard of how many.
    pub shard: Shard,
    /// The source directory, every link resolved.
    pub source: String,
    /// The catalogue directory, every link resolved: its identity (the nodes of a
    /// cluster mount it at one path).
    pub catalogue: String,
    /// The checksum algorithm of the catalogue, and of `checksum`.
    pub hash: HashAlgo,
    /// The `--exclude` patterns of the run, in order.
    pub exclude: Vec<String>,
    /// When the walk of the source started, in nanoseconds since the Unix epoch.
    pub walk_started_ns: i64,
    /// The checksum of the shard's `collection.json`.
    pub checksum: Checksum,
    /// Files indexed (the keys of `collection.json`).
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Files read and hashed.
    pub hashed: u64,
    /// Files whose checksum came from the shard's incremental cache.
    pub reused: u64,
    /// Files left out because they failed (`--allow-errors`).
    pub errors: u64,
}

impl Record {
    /// When the walk started, as an RFC 3339 instant in UTC.
    pub fn walk_started(&self) -> String {
        instant(self.walk_started_ns)
    }
}

/// Nanoseconds since the Unix epoch as an RFC 3339 instant in UTC.
pub fn instant(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("{ns} ns after the Unix epoch"))
}

/// What `fair merge` last published (`Layout::shard_round`): a shard whose
/// walk started at or before `newest_walk_ns` was part of that round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// The number of shards merged.
    pub shards: u32,
    /// The newest walk start of those shards, in nanoseconds since the Unix epoch.
    pub newest_walk_ns: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_i_slash_n_and_refuse_the_rest() {
        assert_eq!("1/4".parse(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/4", "1/0", "-1/4", "1/4/2"] {
            let err = bad.parse::<Shard>().expect_err(bad);
            assert!(err.contains(bad) || err.contains("less than"), "{err}");
        }
    }

    #[test]
    fn a_pdb_like_tree_is_balanced_even_with_one_huge_directory() {
        // 26×26 two-letter directories holding 1 to 400 files (a fixed spread),
        // as the divided layout of a structure mirror, and one flat directory of
        // 20,000 files, as its `all/`.
        let letters = b'a'..=b'z';
        let mut files: Vec<(String, String)> = letters
            .clone()
            .flat_map(|a| {
                letters
                    .clone()
                    .map(move |b| format!("divided/{}{}", a as char, b as char))
            })
            .enumerate()
            .flat_map(|(i, d)| {
                (0..1 + i * 7919 % 400).map(move |k| (d.clone(), format!("{k}.cif.gz")))
            })
            .collect();
        files.extend((0..20_000).map(|k| ("all".to_string(), format!("{k}.cif.gz"))));
        for count in [2u32, 4, 8, 16, 64] {
            let mut per_shard = vec![0u64; count as usize];
            for (dir, name) in &files {
                per_shard[Shard::of_key(dir, name, count) as usize] += 1;
            }
            let mean = files.len() as f64 / f64::from(count);
            for n in &per_shard {
                let ratio = *n as f64 / mean;
                assert!((0.9..1.1).contains(&ratio), "{count} shards: {per_shard:?}");
            }
        }
    }

    #[test]
    fn a_directory_s_own_problems_go_to_the_shard_of_its_key() {
        for count in [1, 3, 7] {
            let shard = |i| Shard { index: i, count };
            let owners = |dir: &str| (0..count).filter(|i| shard(*i).owns_directory(dir)).count();
            for dir in ["", "a", "a/b", "a/b/c"] {
                assert_eq!(owners(dir), 1, "{dir:?} of {count}");
            }
            let of = |dir: &str, name: &str| Shard::of_key(dir, name, count);
            assert_eq!(
                (0..count).position(|i| shard(i).owns_directory("a/b")),
                Some(of("a", "b") as usize)
            );
        }
    }

    #[test]
    fn a_record_round_trips_and_refuses_unknown_fields() {
        let record = Record {
            collection: "pdb".into(),
            shard: Shard { index: 1, count: 4 },
            source: "/mirror/pdb".into(),
            catalogue: "/srv/fair".into(),
            hash: HashAlgo::Blake3,
            exclude: vec![".git/".into()],
            walk_started_ns: 1,
            checksum: HashAlgo::Blake3.hash(b"{}\n"),
            files: 0,
            bytes: 0,
            hashed: 0,
            reused: 0,
            errors: 0,
        };
        let json = serde_json::to_string(&record).expect("json");
        assert_eq!(serde_json::from_str::<Record>(&json).expect("back"), record);
        let extra = json.replacen('{', "{\"x\":1,", 1);
        assert!(serde_json::from_str::<Record>(&extra).is_err());
    }
}
