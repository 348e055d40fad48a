//! `Report`: what an index run did, as printed by `fair index --json`.

use std::collections::BTreeMap;

use faircore::Checksum;
use serde::Serialize;

/// One file that could not be indexed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file's path (non-UTF-8 bytes shown escaped).
    pub path: String,
    /// What went wrong.
    pub error: String,
}

/// What the operations of an action file did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Operations {
    /// Elements decompressed or converted in this run.
    pub run: u64,
    /// Elements whose result came from the operation cache.
    pub reused: u64,
}

/// The summary of one index run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Every collection the run left current, with its checksum.
    pub collections: BTreeMap<String, Checksum>,
    /// Files indexed.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Files whose content was read and hashed.
    pub hashed: u64,
    /// Files whose checksum was reused from the incremental cache.
    pub reused: u64,
    /// Files that could not be indexed, sorted by path.
    pub errors: Vec<Problem>,
    /// The operations of an action file, by result collection: elements
    /// processed and reused.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, Operations>,
    /// What a shard run (`fair index --shard`) staged for `fair merge`; the
    /// shard's files are not in `collections` (nothing is published).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOutput>,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
}

/// The staged output of a shard run.
#[derive(Clone, Debug, Serialize)]
pub struct ShardOutput {
    /// Which shard of how many: `{"index": I, "count": N}`.
    pub shard: faircore::Shard,
    /// The checksum of the shard's partial collection.
    pub checksum: Checksum,
    /// Where it is staged (`.fair/shards/NAME/I-of-N/collection.json`).
    pub output: String,
}
