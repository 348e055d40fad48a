//! `Layout`: where every file of a catalogue directory is. It is the only code
//! that joins catalogue path names; everything else asks it.
//!
//! ```text
//! fair.toml                              configuration (`fair init`)
//! deepfolders/NAME.json, deepcells/NAME.json   current collections (`fair index`)
//! download_indices/NAME.json             key → URL infos (`fair index --actions`)
//! collections/NAME/...                   copied trees (`copy_collection`)
//! distributions/DATASET.json             the records of a dataset (`fair snapshot`)
//! dataset_header/DATASET.{json,yaml,yml,cson} dataset metadata (the operator)
//! keyorder/CHECKSUM, access_index/CHECKSUM, buffers/CHECKSUM   content-addressed
//! .fair/lock                             the writer lock
//! .fair/tmp/                             staging: temporary files of the writer
//! .fair/journal.json                     a run's publication being made
//! .fair/store.redb                       the derived store (rebuildable)
//! .fair/shards/NAME/I-of-N/              a shard run of `fair index --shard I/N`:
//!                                        lock, store.redb, tmp/, collection.json, shard.json
//! .fair/shards/NAME/merged.json          the round `fair merge` last published
//! buffers/.fair-tmp/ (or BUFFERDIR/.fair-tmp/)   staging of interned buffers
//! ```

use std::path::{Path, PathBuf};

use crate::{Checksum, CollectionKind, Name};

/// The directories of content-addressed files: each file is named by the checksum
/// of its bytes and never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentDir {
    /// `keyorder/`: plain lists of keys.
    Keyorder,
    /// `access_index/`: plain maps element checksum → URL infos.
    AccessIndex,
    /// `buffers/`: element buffers and the plain bytes of snapshotted collections.
    Buffers,
}

impl ContentDir {
    /// Every one of them.
    pub const ALL: [ContentDir; 3] = [
        ContentDir::Keyorder,
        ContentDir::AccessIndex,
        ContentDir::Buffers,
    ];

    /// The directory name.
    pub const fn name(self) -> &'static str {
        match self {
            ContentDir::Keyorder => "keyorder",
            ContentDir::AccessIndex => "access_index",
            ContentDir::Buffers => "buffers",
        }
    }
}

/// The subdirectories of a Seamless FAIR dir; any of them marks one.
pub const SEAMLESS_DIRS: [&str; 7] = [
    "deepfolders",
    "deepcells",
    "download_indices",
    "distributions",
    "dataset_header",
    "keyorder",
    "access_index",
];

/// The extensions a dataset header may have, in the order they are looked for.
pub const HEADER_EXTENSIONS: [&str; 4] = ["json", "yaml", "yml", "cson"];

/// The paths of the catalogue rooted at `root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the catalogue directory `root`.
    pub fn new(root: &Path) -> Self {
        Layout {
            root: root.to_owned(),
        }
    }

    /// The catalogue directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `fair.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("fair.toml")
    }

    /// `.fair/`: lock, staging, derived store.
    pub fn private(&self) -> PathBuf {
        self.root.join(".fair")
    }

    /// `.fair/lock`.
    pub fn lock(&self) -> PathBuf {
        self.private().join("lock")
    }

    /// `.fair/tmp/`, the writer's staging directory.
    pub fn staging(&self) -> PathBuf {
        self.private().join("tmp")
    }

    /// The staging directory of a buffer directory (`buffers/`, or another given
    /// with `--bufferdir`, which may lie outside the catalogue): `DIR/.fair-tmp`,
    /// on the buffers' filesystem so that a rename publishes a buffer.
    pub fn buffer_staging(bufferdir: &Path) -> PathBuf {
        bufferdir.join(".fair-tmp")
    }

    /// `.fair/journal.json`: the publication of a run being made
    /// (`faircore::store::journal`).
    pub fn journal(&self) -> PathBuf {
        self.private().join("journal.json")
    }

    /// `.fair/store.redb`, the derived store.
    pub fn store(&self) -> PathBuf {
        self.private().join("store.redb")
    }

    /// `.fair/shards/NAME/I-of-N/`: the files of one shard run of `fair index
    /// --shard I/N` of the collection `collection` ([`ShardDir`]).
    pub fn shard_dir(&self, collection: &Name, shard: crate::Shard) -> ShardDir {
        ShardDir {
            dir: self
                .shards(collection)
                .join(format!("{}-of-{}", shard.index, shard.count)),
        }
    }

    /// `.fair/shards/NAME/merged.json`: the newest walk start of the shards
    /// `fair merge` last published (what makes an older shard stale).
    pub fn shard_round(&self, collection: &Name) -> PathBuf {
        self.shards(collection).join("merged.json")
    }

    fn shards(&self, collection: &Name) -> PathBuf {
        self.private().join("shards").join(collection.as_str())
    }

    /// Derived databases of earlier versions of `fair`: `.fair/cache.redb` (the
    /// store's predecessor, taken over by it), `.fair/locate.redb` and
    /// `.fair/server.redb` (now tables of the store).
    pub fn legacy_stores(&self) -> [PathBuf; 3] {
        ["cache.redb", "locate.redb", "server.redb"].map(|f| self.private().join(f))
    }

    /// A subdirectory of the root by name (one of [`SEAMLESS_DIRS`], `buffers`,
    /// `collections`).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `deepfolders/NAME.json` or `deepcells/NAME.json`.
    pub fn collection(&self, kind: CollectionKind, name: &Name) -> PathBuf {
        self.dir(kind.dir()).join(format!("{name}.json"))
    }

    /// `download_indices/NAME.json`.
    pub fn download_index(&self, collection: &str) -> PathBuf {
        self.dir("download_indices")
            .join(format!("{collection}.json"))
    }

    /// `collections/`, where `copy_collection` puts its trees.
    pub fn copies(&self) -> PathBuf {
        self.dir("collections")
    }

    /// `distributions/`.
    pub fn distributions_dir(&self) -> PathBuf {
        self.dir("distributions")
    }

    /// `distributions/DATASET.json`.
    pub fn distributions(&self, dataset: &Name) -> PathBuf {
        self.distributions_dir().join(format!("{dataset}.json"))
    }

    /// `dataset_header/`.
    pub fn headers_dir(&self) -> PathBuf {
        self.dir("dataset_header")
    }

    /// `dataset_header/DATASET.EXT` for each of [`HEADER_EXTENSIONS`], in order.
    pub fn headers(&self, dataset: &Name) -> [PathBuf; 4] {
        HEADER_EXTENSIONS.map(|ext| self.headers_dir().join(format!("{dataset}.{ext}")))
    }

    /// The directory of content-addressed files `dir`.
    pub fn content_dir(&self, dir: ContentDir) -> PathBuf {
        self.dir(dir.name())
    }

    /// The content-addressed file `checksum` of `dir`.
    pub fn content(&self, dir: ContentDir, checksum: &Checksum) -> PathBuf {
        self.content_dir(dir).join(checksum.to_hex())
    }

    /// Whether the root holds any Seamless FAIR subdirectory.
    pub fn is_seamless(&self) -> bool {
        SEAMLESS_DIRS.iter().any(|dir| self.dir(dir).is_dir())
    }
}

/// The files of one shard run (`fair index --shard I/N`), in a directory of
/// their own so that shard runs of one catalogue never share a lock, a store or
/// a staging directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardDir {
    dir: PathBuf,
}

impl ShardDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `lock`: held by the shard run (one run of a shard at a time).
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// `store.redb`: the shard's incremental cache (a derived store).
    pub fn store(&self) -> PathBuf {
        self.dir.join("store.redb")
    }

    /// `tmp/`: the shard run's staging directory.
    pub fn staging(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// `collection.json`: the shard's files, a plain collection sorted by key.
    pub fn output(&self) -> PathBuf {
        self.dir.join("collection.json")
    }

    /// `shard.json`: the record of the run that wrote `collection.json`
    /// (`faircore::shard::Record`).
    pub fn record(&self) -> PathBuf {
        self.dir.join("shard.json")
    }
}
