//! The derived store, `.fair/store.redb` (redb): every table derived from the
//! catalogue's files, in one database with one schema version ([`tables`] lists
//! them): the incremental cache, the operation cache, content sizes, extra
//! digests, source directories, the access lookups ([`access`]) and the reverse
//! index ([`super::locate`]). Deleting it costs a re-hash, never a wrong answer; a store
//! that cannot be opened, or that was written by another schema version, is set
//! aside (`store.redb.unusable`) and rebuilt, with a warning.
//!
//! One process writes: the holder of the catalogue lock, through [`Store`]; it
//! brings the access and locate tables up to date before it publishes the records
//! that need them ([`super::sync`]). Others, the server among them, read at the same time
//! through [`StoreReader`] and follow its commits (redb's single-writer mode).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redb::{ConcurrencyMode, ReadableDatabase, ReadableTable, TableDefinition};

use super::access;
use super::layout::Layout;
use super::lock::WriteLock;
use super::tables::{self, CONTENT_SIZES, EXTRA_DIGESTS, INDEX_WALKS, META, SOURCES};
use crate::digest::ExtraDigests;
use crate::statcache::{self, FileStat};
use crate::{Checksum, Error, HashAlgo, Result};

/// Bump when a table's layout changes: older stores are then rebuilt. Version 1
/// (`.fair/cache.redb`) had the same tables less the access and locate ones, so
/// it is taken over as it is.
const SCHEMA_VERSION: u64 = 2;

/// The schema versions a store can be upgraded from by adding tables.
const UPGRADABLE: [u64; 1] = [1];

/// How every process opens the store: one writer, any number of readers.
const MODE: ConcurrencyMode = ConcurrencyMode::SingleWriter;

/// Why a reader gives up on a store redb panicked on.
const DAMAGED: &str =
    "damaged (redb failed on one of its pages); a writer sets it aside and rebuilds it";

/// Page cache of a handle (redb's default, 1 GiB, would count in a server's RSS).
const CACHE_BYTES: usize = 16 << 20;

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

/// What a store records about the catalogue that wrote it, in its `meta` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The algorithm of every checksum in the store (`None`: a store of an earlier
    /// version, which did not record it).
    pub hash: Option<HashAlgo>,
    /// Whether the catalogue had a `fair.toml` when fair wrote there.
    pub configured: bool,
}

impl Origin {
    /// The origin of a catalogue hashed with `hash`, with or without `fair.toml`.
    pub fn new(hash: HashAlgo, configured: bool) -> Self {
        Origin {
            hash: Some(hash),
            configured,
        }
    }

    /// The `meta` key and values of the algorithm.
    const HASH: &str = "hash";
    const CODES: [(HashAlgo, u64); 3] = [
        (HashAlgo::Blake3, 1),
        (HashAlgo::Sha3_256, 2),
        (HashAlgo::Sha256, 3),
    ];
    /// The `meta` key of `configured` (1 or absent).
    const CONFIGURED: &str = "configured";

    /// What the store of the catalogue at `layout` records; `None` when there is
    /// no store (or it records nothing, or cannot be read: it is derived state,
    /// rebuilt by the next writer).
    pub fn of(layout: &Layout) -> Option<Origin> {
        let db = redb::Builder::new()
            .set_concurrency_mode(MODE)
            .set_cache_size(CACHE_BYTES)
            .open_read_only(layout.store())
            .ok()?;
        let read = std::panic::AssertUnwindSafe(|| Self::recorded(&db).ok().flatten());
        std::panic::catch_unwind(read).ok().flatten()
    }

    /// What `db` records.
    fn recorded(db: &impl ReadableDatabase) -> Result<Option<Origin>, redb::Error> {
        let txn = db.begin_read()?;
        let table = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let code = table.get(Self::HASH)?.map(|v| v.value());
        let hash = code.and_then(|c| Self::CODES.iter().find(|(_, v)| *v == c).map(|(h, _)| *h));
        let configured = table.get(Self::CONFIGURED)?.is_some_and(|v| v.value() == 1);
        Ok((code.is_some() || configured).then_some(Origin { hash, configured }))
    }

    /// Records this origin in `db`.
    fn record(self, db: &redb::Database) -> Result<(), redb::Error> {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(META)?;
            if let Some((_, code)) = Self::CODES.iter().find(|(h, _)| Some(*h) == self.hash) {
                table.insert(Self::HASH, *code)?;
            }
            if self.configured {
                table.insert(Self::CONFIGURED, 1)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The catalogue's derived store, opened by its writer.
#[derive(Debug)]
pub struct Store {
    db: redb::Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates, or rebuilds) the store of the catalogue at `layout`, as
    /// the writer: the lock proves it is the only one. The first time, it takes
    /// over `.fair/cache.redb` of earlier versions (so nothing is re-hashed) and
    /// removes their `locate.redb` and `server.redb` (rebuilt as tables here).
    ///
    /// The store records the catalogue's `origin`: a store whose checksums are of
    /// another algorithm (its `fair.toml` was changed or went missing) is set aside
    /// and rebuilt, so that no cached checksum of one algorithm is reused by another.
    pub fn open(layout: &Layout, origin: Origin, lock: &WriteLock) -> Result<Self> {
        let path = layout.store();
        let [cache, locate, server] = layout.legacy_stores();
        if !path.exists() && cache.exists() {
            std::fs::rename(&cache, &path).map_err(|e| Error::io(&cache, e))?;
            tracing::info!("{}: taken over as {}", cache.display(), path.display());
        }
        for legacy in [locate, server] {
            match std::fs::remove_file(&legacy) {
                Ok(()) => tracing::info!("{}: removed (now part of the store)", legacy.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&legacy, e)),
            }
        }
        Self::open_file(&path, origin, lock)
    }

    /// Opens (or creates, or rebuilds) a store of the same schema at `path`, as
    /// the holder of `_lock`, the lock that guards that file: a shard run of
    /// `fair index --shard` keeps its own incremental cache this way
    /// ([`Layout::shard_dir`]), under its own lock, so that shards run at once.
    pub fn open_file(path: &Path, origin: Origin, _lock: &WriteLock) -> Result<Self> {
        let path = path.to_owned();
        match Self::try_open(&path, origin) {
            Ok(db) => Ok(db),
            Err(Failure::Unusable(reason)) => {
                let aside = path.with_extension("redb.unusable");
                tracing::warn!(
                    "{}: {reason}; set aside as {} and rebuilt (derived state: unchanged files will be re-hashed once)",
                    path.display(),
                    aside.display()
                );
                std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
                Self::try_open(&path, origin).map_err(|f| Error::database(&path, f.reason()))
            }
            Err(Failure::Other(reason)) => Err(Error::database(&path, reason)),
        }
    }

    fn try_open(path: &Path, origin: Origin) -> Result<Self, Failure> {
        let db = redb::Builder::new()
            .set_concurrency_mode(MODE)
            .set_cache_size(CACHE_BYTES)
            // A file damaged outside redb is then an error (set aside and
            // rebuilt), where a plain open may panic on its first bad page.
            .set_check_integrity_on_open(true)
            .create(path)
            .map_err(|e| match e {
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
            Some(v) if !UPGRADABLE.contains(&v) => {
                return Err(Failure::Unusable(format!(
                    "schema version {v}, expected {SCHEMA_VERSION}"
                )));
            }
            // New, or of a version that only lacks tables.
            _ => {
                let txn = db.begin_write().map_err(|e| other(&e))?;
                txn.open_table(META)
                    .map_err(|e| other(&e))?
                    .insert("schema", SCHEMA_VERSION)
                    .map_err(|e| other(&e))?;
                txn.commit().map_err(|e| other(&e))?;
            }
        }
        let recorded = Origin::recorded(&db).map_err(|e| other(&e))?;
        if let (Some(hash), Some(wanted)) = (recorded.and_then(|r| r.hash), origin.hash)
            && hash != wanted
        {
            return Err(Failure::Unusable(format!(
                "its checksums are {hash}, the catalogue's algorithm is {wanted}"
            )));
        }
        if recorded.is_none_or(|r| r.hash.is_none() || (origin.configured && !r.configured)) {
            origin.record(&db).map_err(|e| other(&e))?;
        }
        Ok(Store {
            db,
            path: path.to_owned(),
        })
    }

    /// The redb handle, for the tables of [`tables`] other crates use.
    pub fn redb(&self) -> &redb::Database {
        &self.db
    }

    /// Wraps a redb error with this store's path.
    pub fn error(&self, err: impl std::fmt::Display) -> Error {
        Error::database(&self.path, err)
    }

    /// Gives the file back the pages freed by rewritten rows (the reverse index
    /// rewrites an element's row each time its keys change); returns whether
    /// anything was freed.
    pub fn compact(&mut self) -> Result<bool> {
        self.db
            .compact()
            .map_err(|e| Error::database(&self.path, e))
    }

    /// Records the content size (sum of element sizes) of collections, by their
    /// checksum, as the indexer knows them when it writes the collections.
    pub fn record_content_sizes(&self, sizes: &[(Checksum, u64)]) -> Result<()> {
        self.insert_all(CONTENT_SIZES, sizes.iter().map(|(c, size)| (c, *size)))
    }

    /// Inserts `rows` (checksum → value) into `table` in one transaction; none
    /// costs no transaction.
    fn insert_all<'v, V: redb::Value + 'static>(
        &self,
        table: TableDefinition<&[u8; 32], V>,
        rows: impl ExactSizeIterator<Item = (&'v Checksum, V::SelfType<'v>)>,
    ) -> Result<()> {
        if rows.len() == 0 {
            return Ok(());
        }
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(table)?;
                for (checksum, value) in rows {
                    table.insert(checksum.as_bytes(), value)?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| self.error(e))
    }

    /// The recorded content size of the collection `checksum`.
    pub fn content_size(&self, checksum: &Checksum) -> Result<Option<u64>> {
        get(&self.db, CONTENT_SIZES, checksum)
            .map(|v| v.map(|v| v.value()))
            .map_err(|e| self.error(e))
    }

    /// Records the extra digests of elements (by their checksum).
    pub fn record_extra_digests(&self, digests: &[(Checksum, ExtraDigests)]) -> Result<()> {
        let encoded: Vec<(&Checksum, Vec<u8>)> = digests
            .iter()
            .map(|(c, extra)| (c, extra.encode()))
            .collect();
        self.insert_all(
            EXTRA_DIGESTS,
            encoded.iter().map(|(c, bytes)| (*c, bytes.as_slice())),
        )
    }

    /// Adds the extra digests recorded in `other` (a shard run's store) that
    /// this store lacks, in one transaction; returns how many were added.
    pub fn add_extra_digests_of(&self, other: &Store) -> Result<u64> {
        let copy = || -> Result<u64, redb::Error> {
            let from = match other.db.begin_read()?.open_table(EXTRA_DIGESTS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(e.into()),
            };
            let txn = self.db.begin_write()?;
            let mut added = 0;
            {
                let mut to = txn.open_table(EXTRA_DIGESTS)?;
                for row in from.iter()? {
                    let (checksum, digests) = row?;
                    if to.get(checksum.value())?.is_none() {
                        to.insert(checksum.value(), digests.value())?;
                        added += 1;
                    }
                }
            }
            txn.commit()?;
            Ok(added)
        };
        copy().map_err(|e| self.error(e))
    }

    /// The extra digests recorded for the element `checksum`.
    pub fn extra_digests(&self, checksum: &Checksum) -> Result<Option<ExtraDigests>> {
        extra_digests(&self.db, checksum).map_err(|e| self.error(e))
    }

    /// Records that the collection `collection` was indexed from `source` (an
    /// absolute path); a path that is not UTF-8 is not recorded.
    pub fn record_source(&self, collection: &str, source: &Path) -> Result<()> {
        let Some(source) = source.to_str() else {
            tracing::debug!("{}: not UTF-8, not recorded as a source", source.display());
            return Ok(());
        };
        let write = || -> Result<(), redb::Error> {
            // Unchanged (every run but the first): no transaction, no sync.
            match self.db.begin_read()?.open_table(SOURCES) {
                Ok(t) if t.get(collection)?.is_some_and(|v| v.value() == source) => {
                    return Ok(());
                }
                Ok(_) | Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(e.into()),
            }
            let txn = self.db.begin_write()?;
            txn.open_table(SOURCES)?.insert(collection, source)?;
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| self.error(e))
    }

    /// Records that the deepfolder `collection` was just written from a walk
    /// that started at `walk_started_ns` (ns since the Unix epoch).
    pub fn record_walk(&self, collection: &str, walk_started_ns: i64) -> Result<()> {
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            txn.open_table(INDEX_WALKS)?
                .insert(collection, walk_started_ns)?;
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| self.error(e))
    }

    /// When the walk the deepfolder `collection` was last written from started
    /// (ns since the Unix epoch), if recorded ([`Store::record_walk`]).
    pub fn last_walk(&self, collection: &str) -> Result<Option<i64>> {
        let read = || -> Result<Option<i64>, redb::Error> {
            match self.db.begin_read()?.open_table(INDEX_WALKS) {
                Ok(t) => Ok(t.get(collection)?.map(|v| v.value())),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        read().map_err(|e| self.error(e))
    }

    /// The extra digests as recorded now, for many lookups (one transaction).
    pub fn extra_digest_table(&self) -> Result<ExtraDigestTable> {
        let open = || -> Result<ExtraDigestTable, redb::Error> {
            match self.db.begin_read()?.open_table(EXTRA_DIGESTS) {
                Ok(t) => Ok(ExtraDigestTable(Some(t))),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(ExtraDigestTable(None)),
                Err(e) => Err(e.into()),
            }
        };
        open().map_err(|e| self.error(e))
    }
}

/// The extra digests table, opened once for many lookups.
pub struct ExtraDigestTable(Option<redb::ReadOnlyTable<&'static [u8; 32], &'static [u8]>>);

impl std::fmt::Debug for ExtraDigestTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtraDigestTable").finish_non_exhaustive()
    }
}

impl ExtraDigestTable {
    /// The extra digests of `checksum`; `None` if none (or unreadable ones) are
    /// recorded.
    pub fn get(&self, checksum: &Checksum) -> Option<ExtraDigests> {
        let row = self.0.as_ref()?.get(checksum.as_bytes()).ok()??;
        ExtraDigests::decode(row.value())
    }
}

/// A read-only handle on a catalogue's store, for processes that do not hold
/// the lock (the server, the read commands): it sees each commit of the writer.
pub struct StoreReader {
    db: redb::ReadOnlyDatabase,
    path: PathBuf,
    /// The (device, inode) of the file when it was opened.
    identity: Option<(u64, u64)>,
    /// The access lookups as of the last [`StoreReader::refresh`].
    access: access::Snapshot,
    /// A read transaction as of the last [`StoreReader::refresh`], for the
    /// source-file lookups of `--serve-source` (a new one per request took and
    /// released the file's reader locks: a quarter of each answer's time).
    snapshot: RwLock<Arc<redb::ReadTransaction>>,
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreReader")
            .field("path", &self.path)
            .finish()
    }
}

impl StoreReader {
    /// Opens the store of the catalogue at `layout` for reading; `None` if the
    /// catalogue has none usable now: no fair writer ever wrote there, or one was
    /// killed while it wrote (the next writer repairs the store, which a reader
    /// may not do).
    pub fn open(layout: &Layout) -> Result<Option<Self>> {
        let path = layout.store();
        // As every read of a reader (see `read`): a panic of redb on a damaged
        // page is this store's error.
        std::panic::catch_unwind(|| Self::try_open(&path))
            .unwrap_or_else(|_| Err(Error::database(&path, DAMAGED)))
    }

    fn try_open(path: &Path) -> Result<Option<Self>> {
        let path = path.to_owned();
        // Taken before opening: a file replaced in between is opened again later.
        let identity = identity(&path);
        match redb::Builder::new()
            .set_concurrency_mode(MODE)
            .set_cache_size(CACHE_BYTES)
            .open_read_only(&path)
        {
            Ok(db) => {
                let access = access::Snapshot::of(&db).map_err(|e| Error::database(&path, e))?;
                let txn = db.begin_read().map_err(|e| Error::database(&path, e))?;
                let snapshot = RwLock::new(Arc::new(txn));
                Ok(Some(StoreReader {
                    snapshot,
                    db,
                    path,
                    identity,
                    access,
                }))
            }
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(redb::DatabaseError::RepairAborted) => {
                tracing::info!("{}: needs the repair its next writer makes", path.display());
                Ok(None)
            }
            Err(e) => Err(Error::database(&path, e)),
        }
    }

    /// Whether the store's file is still the one this reader opened (the writer
    /// rebuilds a store of another schema version or a damaged one: a new file).
    pub fn is_current(&self) -> bool {
        // The reader keeps its file open, so its inode cannot be reused by a
        // new file while it lives.
        self.identity.is_some() && identity(&self.path) == self.identity
    }

    /// Wraps a redb error with this store's path.
    pub fn error(&self, err: impl std::fmt::Display) -> Error {
        Error::database(&self.path, err)
    }

    /// Runs a read of the store. A reader cannot check the file's integrity (a
    /// writer does, when it opens it), and redb may panic on a page damaged
    /// outside it: that panic is this store's error, "damaged", so that the
    /// caller answers as for any unreadable store (and a writer, which sets a
    /// damaged store aside, can be asked to rebuild it).
    fn read<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
            .unwrap_or_else(|_| Err(self.error(DAMAGED)))
    }

    /// Sees the writer's latest commit in the access lookups and the source-file
    /// lookups (each other read sees it at once).
    pub fn refresh(&self) -> Result<()> {
        self.read(|| {
            self.access.refresh(&self.db).map_err(|e| self.error(e))?;
            let txn = Arc::new(self.db.begin_read().map_err(|e| self.error(e))?);
            match self.snapshot.write() {
                Ok(mut current) => *current = txn,
                Err(poisoned) => *poisoned.into_inner() = txn,
            }
            Ok(())
        })
    }

    /// The plain bytes of the URL infos of `element`, as of the last
    /// [`StoreReader::refresh`]; `None` if no access index added has it.
    pub fn access(&self, element: &Checksum) -> Result<Option<Vec<u8>>> {
        self.read(|| self.access.get(element).map_err(|e| self.error(e)))
    }

    /// Every place of `element` in the reverse index.
    pub fn locate(&self, element: &Checksum) -> Result<Vec<super::locate::Place>> {
        self.read(|| super::locate::lookup(&self.db, element))
    }

    /// What of `needs` this store lacks.
    pub fn missing(&self, needs: &super::sync::Needs) -> Result<super::sync::Needs> {
        self.read(|| needs.missing(&self.db))
    }

    /// The extra digests recorded for the element `checksum`.
    pub fn extra_digests(&self, checksum: &Checksum) -> Result<Option<ExtraDigests>> {
        self.read(|| extra_digests(&self.db, checksum).map_err(|e| self.error(e)))
    }

    /// The files of the indexed source trees that were indexed as `key` with the
    /// content `element`, with the stat each had when it was hashed (the caller
    /// checks that it still has it before trusting it), as of the last
    /// [`StoreReader::refresh`].
    pub fn source_files(&self, key: &str, element: &Checksum) -> Result<Vec<SourceFile>> {
        let txn = match self.snapshot.read() {
            Ok(txn) => txn.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let find = || -> Result<Vec<SourceFile>, redb::Error> {
            let sources = match txn.open_table(SOURCES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let (dir, name) = statcache::split_key(key);
            let mut found = Vec::new();
            for row in sources.iter()? {
                let (collection, root) = row?;
                let name_of_table = tables::stat_cache(collection.value());
                let definition = tables::stat_cache_table(&name_of_table);
                let table = match txn.open_table(definition) {
                    Ok(t) => t,
                    Err(redb::TableError::TableDoesNotExist(_)) => continue,
                    Err(e) => return Err(e.into()),
                };
                let Some(row) = table.get(dir)? else { continue };
                let entry = statcache::decode(row.value().to_vec())
                    .and_then(|directory| directory.get(name).copied());
                if let Some(entry) = entry.filter(|e| e.checksum == *element) {
                    let root = PathBuf::from(root.value());
                    found.push(SourceFile {
                        path: root.join(key),
                        root,
                        stat: entry.stat,
                    });
                }
            }
            Ok(found)
        };
        self.read(|| find().map_err(|e| self.error(e)))
    }
}

/// The (device, inode) of the file at `path`.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A file of an indexed source tree, as it was indexed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The source tree it was found in.
    pub root: PathBuf,
    /// The file: `root` joined with its key.
    pub path: PathBuf,
    /// Its stat when it was hashed.
    pub stat: FileStat,
}

impl SourceFile {
    /// The file with every symbolic link resolved, if that is inside its source
    /// tree (as recorded, resolved when it was indexed, or resolved likewise
    /// now): the only source files fair serves or interns. `None` otherwise, or
    /// if either cannot be resolved.
    pub fn resolved(&self) -> Option<PathBuf> {
        // The recorded tree first: one path resolved instead of two.
        let real = std::fs::canonicalize(&self.path).ok()?;
        if real.starts_with(&self.root) {
            return Some(real);
        }
        let root = std::fs::canonicalize(&self.root).ok()?;
        real.starts_with(&root).then_some(real)
    }
}

/// The value of `key` in `table`, `None` when the table does not exist yet.
fn get<V: redb::Value + 'static>(
    db: &impl ReadableDatabase,
    table: TableDefinition<&[u8; 32], V>,
    key: &Checksum,
) -> Result<Option<redb::AccessGuard<'static, V>>, redb::Error> {
    let txn = db.begin_read()?;
    let table = match txn.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(table.get(key.as_bytes())?)
}

fn extra_digests(
    db: &impl ReadableDatabase,
    checksum: &Checksum,
) -> Result<Option<ExtraDigests>, redb::Error> {
    let Some(bytes) = get(db, EXTRA_DIGESTS, checksum)? else {
        return Ok(None);
    };
    ExtraDigests::decode(bytes.value())
        .map(Some)
        .ok_or_else(|| redb::Error::Corrupted(format!("extra digests of {checksum} are malformed")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin = Origin {
        hash: Some(HashAlgo::Blake3),
        configured: true,
    };

    /// A catalogue layout in a temporary directory, and its lock.
    fn layout() -> (tempfile::TempDir, Layout, WriteLock) {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.private()).expect("mkdir");
        let lock = WriteLock::acquire(&layout.lock()).expect("lock");
        (dir, layout, lock)
    }

    #[test]
    fn garbage_is_set_aside_and_rebuilt_not_trusted() {
        const T: TableDefinition<&str, u64> = TableDefinition::new("t");
        let (_dir, layout, lock) = layout();
        std::fs::write(layout.store(), b"not a database at all").expect("write");
        let db = Store::open(&layout, ORIGIN, &lock).expect("rebuilt");
        let aside = std::fs::read(layout.store().with_extension("redb.unusable")).expect("aside");
        assert_eq!(aside, b"not a database at all");
        let txn = db.redb().begin_write().expect("txn");
        txn.open_table(T)
            .expect("table")
            .insert("k", 42)
            .expect("insert");
        txn.commit().expect("commit");
        drop(db);
        let db = Store::open(&layout, ORIGIN, &lock).expect("reopens");
        let txn = db.redb().begin_read().expect("txn");
        let value = txn
            .open_table(T)
            .expect("table")
            .get("k")
            .expect("get")
            .map(|v| v.value());
        assert_eq!(value, Some(42));
    }

    #[test]
    fn the_cache_of_earlier_versions_is_taken_over_and_their_other_databases_removed() {
        let (_dir, layout, lock) = layout();
        let [cache, locate, server] = layout.legacy_stores();
        {
            let old = redb::Database::create(&cache).expect("old cache");
            let txn = old.begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .insert("schema", 1)
                .expect("v1");
            txn.open_table(SOURCES)
                .expect("sources")
                .insert("pdb", "/srv/pdb")
                .expect("row");
            txn.commit().expect("commit");
        }
        std::fs::write(&locate, b"old").expect("locate");
        std::fs::write(&server, b"old").expect("server");
        let store = Store::open(&layout, ORIGIN, &lock).expect("opens");
        assert!(!cache.exists() && !locate.exists() && !server.exists());
        let txn = store.redb().begin_read().expect("txn");
        let source = txn.open_table(SOURCES).expect("kept");
        assert_eq!(
            source
                .get("pdb")
                .expect("get")
                .map(|v| v.value().to_string()),
            Some("/srv/pdb".to_string())
        );
        let meta = txn.open_table(META).expect("meta");
        assert_eq!(
            meta.get("schema").expect("get").map(|v| v.value()),
            Some(SCHEMA_VERSION)
        );
    }

    #[test]
    fn a_store_of_an_unknown_version_is_set_aside() {
        let (_dir, layout, lock) = layout();
        {
            let store = Store::open(&layout, ORIGIN, &lock).expect("opens");
            let txn = store.redb().begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .insert("schema", 99)
                .expect("v99");
            txn.commit().expect("commit");
        }
        drop(Store::open(&layout, ORIGIN, &lock).expect("rebuilt"));
        assert!(layout.store().with_extension("redb.unusable").exists());
    }

    #[test]
    fn a_store_of_another_algorithm_is_set_aside_not_reused() {
        let (_dir, layout, lock) = layout();
        drop(Store::open(&layout, ORIGIN, &lock).expect("opens"));
        assert_eq!(Origin::of(&layout), Some(ORIGIN));
        let sha3 = Origin::new(HashAlgo::Sha3_256, false);
        drop(Store::open(&layout, sha3, &lock).expect("rebuilt"));
        assert!(layout.store().with_extension("redb.unusable").exists());
        assert_eq!(Origin::of(&layout), Some(sha3));
    }

    #[test]
    fn a_reader_knows_when_the_writer_rebuilt_the_store() {
        let (_dir, layout, lock) = layout();
        drop(Store::open(&layout, ORIGIN, &lock).expect("opens"));
        let reader = StoreReader::open(&layout).expect("opens").expect("exists");
        assert!(reader.is_current());
        drop(Store::open(&layout, ORIGIN, &lock).expect("opens again"));
        assert!(reader.is_current(), "the same file, written to");
        // A damaged store is set aside and rebuilt: a new file.
        std::fs::remove_file(layout.store()).expect("remove");
        std::fs::write(layout.store(), b"damaged").expect("write");
        drop(Store::open(&layout, ORIGIN, &lock).expect("rebuilt"));
        assert!(!reader.is_current());
        assert!(
            StoreReader::open(&layout)
                .expect("opens")
                .expect("exists")
                .is_current()
        );
    }

    /// The source-file lookups of a reader are those of its last refresh: a file
    /// indexed again (another stat, another content) is seen after the next one.
    #[test]
    fn a_reader_sees_the_source_files_of_its_last_refresh() {
        let (dir, layout, lock) = layout();
        let db = Store::open(&layout, ORIGIN, &lock).expect("opens");
        let source = dir.path().join("src");
        db.record_source("c", &source).expect("records");
        let index = |stat: FileStat, content: &[u8]| {
            let entry = statcache::Entry::new(stat, HashAlgo::Blake3.hash(content), 0);
            let row = statcache::encode(std::iter::once(("a.txt", &entry)));
            let txn = db.redb().begin_write().expect("txn");
            txn.open_table(tables::stat_cache_table(&tables::stat_cache("c")))
                .expect("table")
                .insert("d", row.as_slice())
                .expect("row");
            txn.commit().expect("commit");
        };
        let stat = FileStat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 4,
            ctime_ns: 5,
        };
        index(stat, b"old");
        let reader = StoreReader::open(&layout).expect("opens").expect("exists");
        let old = HashAlgo::Blake3.hash(b"old");
        let new = HashAlgo::Blake3.hash(b"new");
        let found = reader.source_files("d/a.txt", &old).expect("reads");
        assert_eq!(
            found,
            vec![SourceFile {
                root: source.clone(),
                path: source.join("d/a.txt"),
                stat,
            }]
        );
        let changed = FileStat { ino: 9, ..stat };
        index(changed, b"new");
        assert_eq!(reader.source_files("d/a.txt", &old).expect("reads"), found);
        reader.refresh().expect("refreshes");
        assert!(
            reader
                .source_files("d/a.txt", &old)
                .expect("reads")
                .is_empty()
        );
        let found = reader.source_files("d/a.txt", &new).expect("reads");
        assert_eq!(found.iter().map(|f| f.stat).collect::<Vec<_>>(), [changed]);
    }

    #[test]
    fn a_reader_follows_the_writer_s_extra_digests() {
        let (_dir, layout, lock) = layout();
        assert!(StoreReader::open(&layout).expect("no store").is_none());
        let db = Store::open(&layout, ORIGIN, &lock).expect("opens");
        let reader = StoreReader::open(&layout).expect("opens").expect("exists");
        let element = HashAlgo::Blake3.hash(b"abc");
        assert_eq!(reader.extra_digests(&element).expect("reads"), None);
        let mut hasher = crate::digest::ExtraHasher::new(&[crate::ExtraAlgo::Sha256]);
        hasher.update(b"abc");
        let digests = hasher.finalize();
        db.record_extra_digests(&[(element, digests)])
            .expect("records");
        assert_eq!(
            reader.extra_digests(&element).expect("reads"),
            Some(digests)
        );
        assert_eq!(
            db.extra_digest_table().expect("table").get(&element),
            Some(digests)
        );
    }
}
