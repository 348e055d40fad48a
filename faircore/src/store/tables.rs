//! Every table of the derived store, in one place: its name, key and value.
//! The store's schema version (`SCHEMA_VERSION` in [`super::derived`]) covers
//! them all: change a layout here, bump it there.

use redb::TableDefinition;

/// `"schema"` → the store's schema version.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Collection checksum → the sum of its element sizes (bytes).
pub const CONTENT_SIZES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("content_sizes");

/// Element checksum → its extra digests (`ExtraDigests::encode`).
pub const EXTRA_DIGESTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("extra_digests");

/// Collection name → the absolute source directory `fair index` last indexed it
/// from.
pub const SOURCES: TableDefinition<&str, &str> = TableDefinition::new("sources");

/// Collection name → (files, bytes) of the last complete `fair index` run: the
/// total the next run's progress counts towards.
pub const INDEX_TOTALS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("index_totals");

/// Collection name → when the walk its deepfolder was last written from started
/// (ns since the Unix epoch): a `fair index` run's, or the newest shard walk a
/// `fair merge` published. A merge of shards that walked before it would publish
/// an older state of the tree, and is refused.
pub const INDEX_WALKS: TableDefinition<&str, i64> = TableDefinition::new("index_walks");

/// (source checksum, operation) → result checksum: the operation cache of
/// `fair index --actions`.
pub const OPERATIONS: TableDefinition<(&[u8; 32], &str), &[u8; 32]> =
    TableDefinition::new("operations");

/// The name of the incremental cache table of the collection `collection`:
/// directory ("" for the source itself) → its files' stats and checksums
/// (`statcache::encode`).
pub fn stat_cache(collection: &str) -> String {
    format!("stat_cache/{collection}")
}

/// An incremental cache table, by its name ([`stat_cache`]).
pub fn stat_cache_table(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

/// A copy of `copy_collection` as written: (checksum, inode, size, mtime ns,
/// ctime ns).
pub type CopyRow = ([u8; 32], u64, u64, i64, i64);

/// The name of the table of the copied collection `collection`: key → [`CopyRow`].
pub fn copies(collection: &str) -> String {
    format!("copies/{collection}")
}

/// A table of copies, by its name ([`copies`]).
pub fn copies_table(name: &str) -> TableDefinition<'_, &'static str, CopyRow> {
    TableDefinition::new(name)
}

/// Access lookups: element checksum → the plain bytes of its list of URL infos
/// (of the last access index added that has it).
pub const ACCESS_ELEMENTS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("access/elements");

/// Access indexes wholly added → their number of elements.
pub const ACCESS_INDEXES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("access/indexes");

/// Reverse index: collection checksum → its number.
pub const LOCATE_COLLECTIONS: TableDefinition<&[u8; 32], u32> =
    TableDefinition::new("locate/collections");

/// Reverse index: number → collection checksum.
pub const LOCATE_NUMBERS: TableDefinition<u32, &[u8; 32]> = TableDefinition::new("locate/numbers");

/// Reverse index: set number → the sorted collection numbers (u32 little-endian).
pub const LOCATE_SETS: TableDefinition<u32, &[u8]> = TableDefinition::new("locate/sets");

/// Reverse index: the bytes of a set → its number (interning).
pub const LOCATE_SET_NUMBERS: TableDefinition<&[u8], u32> =
    TableDefinition::new("locate/set_numbers");

/// Reverse index: element checksum → its keys, (set number u32, key length u16,
/// key bytes) repeated.
pub const LOCATE_ELEMENTS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("locate/elements");

/// Reverse index: collection checksum → its number of entries, once wholly added.
pub const LOCATE_DONE: TableDefinition<&[u8; 32], u64> = TableDefinition::new("locate/done");

/// Reverse index: collection checksum → the collection it is being added as the
/// changes to, while its removed entries are taken out.
pub const LOCATE_PENDING: TableDefinition<&[u8; 32], &[u8; 32]> =
    TableDefinition::new("locate/pending");
