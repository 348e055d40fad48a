//! The embedded database in `.fair/` (redb): derived state only. Deleting it costs
//! a re-hash, never a wrong answer; a database that cannot be opened, or that was
//! written by another schema version, is set aside and rebuilt.
//!
//! One process writes (the holder of the catalogue lock, through [`Database`]);
//! others, the server among them, read it at the same time through [`Reader`]
//! and follow its commits (redb's single-writer mode).

use std::path::{Path, PathBuf};

use redb::{ConcurrencyMode, ReadableDatabase, ReadableTable, TableDefinition};

use crate::digest::ExtraDigests;
use crate::lock::WriteLock;
use crate::statcache::{self, FileStat};
use crate::{Checksum, Error, Result};

/// Bump when a table's layout changes: older databases are then rebuilt.
const SCHEMA_VERSION: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Collection checksum → the sum of its element sizes.
const CONTENT_SIZES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("content_sizes");

/// Element checksum → its extra digests ([`ExtraDigests::encode`]).
const EXTRA_DIGESTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("extra_digests");

/// Collection name → the source directory `fair index` last indexed it from.
const SOURCES: TableDefinition<&str, &str> = TableDefinition::new("sources");

/// How every process opens the database: one writer, any number of readers.
const MODE: ConcurrencyMode = ConcurrencyMode::SingleWriter;

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

/// The catalogue's database.
#[derive(Debug)]
pub struct Database {
    db: redb::Database,
    path: PathBuf,
}

impl Database {
    /// Opens (or creates, or rebuilds) the database at `path`, as the writer.
    pub fn open(path: &Path, _lock: &WriteLock) -> Result<Self> {
        match Self::try_open(path) {
            Ok(db) => Ok(db),
            Err(Failure::Unusable(reason)) => {
                tracing::warn!(
                    "{}: {reason}; rebuilding it (derived state: unchanged files will be re-hashed once)",
                    path.display()
                );
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
                Self::try_open(path).map_err(|f| Error::database(path, f.reason()))
            }
            Err(Failure::Other(reason)) => Err(Error::database(path, reason)),
        }
    }

    fn try_open(path: &Path) -> Result<Self, Failure> {
        let db = redb::Builder::new()
            .set_concurrency_mode(MODE)
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
            None => {
                let txn = db.begin_write().map_err(|e| other(&e))?;
                txn.open_table(META)
                    .map_err(|e| other(&e))?
                    .insert("schema", SCHEMA_VERSION)
                    .map_err(|e| other(&e))?;
                txn.commit().map_err(|e| other(&e))?;
            }
            Some(v) => {
                return Err(Failure::Unusable(format!(
                    "schema version {v}, expected {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(Database {
            db,
            path: path.to_owned(),
        })
    }

    /// The redb handle, for the tables other crates own.
    pub fn redb(&self) -> &redb::Database {
        &self.db
    }

    /// Wraps a redb error with this database's path.
    pub fn error(&self, err: impl std::fmt::Display) -> Error {
        Error::database(&self.path, err)
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

/// A read-only view of a catalogue's database, for processes that do not hold
/// the lock (the server, manifests): it sees each commit of the writer.
pub struct Reader {
    db: redb::ReadOnlyDatabase,
    path: PathBuf,
    /// The (device, inode) of the file when it was opened.
    identity: Option<(u64, u64)>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("path", &self.path).finish()
    }
}

impl Reader {
    /// Opens the database of the catalogue at `root` for reading; `None` if the
    /// catalogue has none (nothing was ever indexed there by fair).
    pub fn open(root: &Path) -> Result<Option<Self>> {
        let path = root.join(crate::catalogue::PRIVATE_DIR).join("cache.redb");
        // Taken before opening: a file replaced in between is opened again later.
        let identity = identity(&path);
        match redb::Builder::new()
            .set_concurrency_mode(MODE)
            .open_read_only(&path)
        {
            Ok(db) => Ok(Some(Reader { db, path, identity })),
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::database(&path, e)),
        }
    }

    /// Whether the database file is still the one this reader opened (the writer
    /// rebuilds a database of another schema version or a damaged one: a new
    /// file).
    pub fn is_current(&self) -> bool {
        // The reader keeps its file open, so its inode cannot be reused by a
        // new file while it lives.
        self.identity.is_some() && identity(&self.path) == self.identity
    }

    /// The extra digests recorded for the element `checksum`.
    pub fn extra_digests(&self, checksum: &Checksum) -> Result<Option<ExtraDigests>> {
        extra_digests(&self.db, checksum).map_err(|e| Error::database(&self.path, e))
    }

    /// The files of the indexed source trees that were indexed as `key` with the
    /// content `element`, with the stat each had when it was hashed (the caller
    /// checks that it still has it before trusting it).
    pub fn source_files(&self, key: &str, element: &Checksum) -> Result<Vec<SourceFile>> {
        let find = || -> Result<Vec<SourceFile>, redb::Error> {
            let txn = self.db.begin_read()?;
            let sources = match txn.open_table(SOURCES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let (dir, name) = statcache::split_key(key);
            let mut found = Vec::new();
            for row in sources.iter()? {
                let (collection, root) = row?;
                let name_of_table = statcache::table(collection.value());
                let definition = TableDefinition::<&str, &[u8]>::new(&name_of_table);
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
        find().map_err(|e| Error::database(&self.path, e))
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

    #[test]
    fn garbage_is_rebuilt_not_trusted() {
        const T: TableDefinition<&str, u64> = TableDefinition::new("t");
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = WriteLock::acquire(&dir.path().join("lock")).expect("lock");
        let path = dir.path().join("cache.redb");
        std::fs::write(&path, b"not a database at all").expect("write");
        let db = Database::open(&path, &lock).expect("rebuilt");
        let txn = db.redb().begin_write().expect("txn");
        txn.open_table(T)
            .expect("table")
            .insert("k", 42)
            .expect("insert");
        txn.commit().expect("commit");
        drop(db);
        let db = Database::open(&path, &lock).expect("reopens");
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
    fn a_reader_knows_when_the_writer_rebuilt_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let private = dir.path().join(crate::catalogue::PRIVATE_DIR);
        std::fs::create_dir_all(&private).expect("mkdir");
        let lock = WriteLock::acquire(&private.join("lock")).expect("lock");
        let path = private.join("cache.redb");
        drop(Database::open(&path, &lock).expect("opens"));
        let reader = Reader::open(dir.path()).expect("opens").expect("exists");
        assert!(reader.is_current());
        drop(Database::open(&path, &lock).expect("opens again"));
        assert!(reader.is_current(), "the same file, written to");
        // A damaged database is set aside and rebuilt: a new file.
        std::fs::remove_file(&path).expect("remove");
        std::fs::write(&path, b"damaged").expect("write");
        drop(Database::open(&path, &lock).expect("rebuilt"));
        assert!(!reader.is_current());
        assert!(
            Reader::open(dir.path())
                .expect("opens")
                .expect("exists")
                .is_current()
        );
    }

    #[test]
    fn a_reader_follows_the_writer_s_extra_digests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let private = dir.path().join(crate::catalogue::PRIVATE_DIR);
        std::fs::create_dir_all(&private).expect("mkdir");
        assert!(Reader::open(dir.path()).expect("no database").is_none());
        let lock = WriteLock::acquire(&private.join("lock")).expect("lock");
        let db = Database::open(&private.join("cache.redb"), &lock).expect("opens");
        let reader = Reader::open(dir.path()).expect("opens").expect("exists");
        let element = crate::HashAlgo::Blake3.hash(b"abc");
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
