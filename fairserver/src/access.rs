//! `/machine/access`: element checksum → URL infos, answered from an embedded
//! database (redb) that holds every access index of the catalogue, so the server's
//! memory does not grow with them. An access index is added once, streamed from its
//! file in batches; the database is derived state, rebuilt if unusable.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use faircore::{Catalogue, Checksum, ContentDir};
use redb::{Durability, ReadOnlyTable, ReadableDatabase, TableDefinition};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;

/// Element checksum → the plain bytes of its list of URL infos.
const ELEMENTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("elements");

/// Access indexes fully added → their number of elements.
const INDEXES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("indexes");

/// Elements written per transaction while an index is added: bounds memory.
const BATCH: usize = 50_000;

/// The elements table as of the last change, shared by every request.
type Elements = ReadOnlyTable<&'static [u8; 32], &'static [u8]>;

/// The access database.
pub struct AccessDb {
    db: redb::Database,
    path: PathBuf,
    /// Opened once per change of the database rather than once per lookup (a
    /// read transaction and a table lookup each time); replaced after each write.
    elements: RwLock<Arc<Elements>>,
}

impl fmt::Debug for AccessDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessDb")
            .field("path", &self.path)
            .finish()
    }
}

type DbResult<T> = Result<T, String>;

fn text(e: impl fmt::Display) -> String {
    e.to_string()
}

impl AccessDb {
    /// Opens the database at `path`, or recreates it if it cannot be used.
    pub fn open(path: &Path) -> DbResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let open = || {
            redb::Builder::new()
                .set_cache_size(16 << 20)
                .create(path)
                .map_err(text)
        };
        let db = match open() {
            Ok(db) => db,
            Err(reason) => {
                tracing::warn!("{}: {reason}; rebuilding it", path.display());
                std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
                open().map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let txn = db.begin_write().map_err(text)?;
        txn.open_table(ELEMENTS).map_err(text)?;
        txn.open_table(INDEXES).map_err(text)?;
        txn.commit().map_err(text)?;
        let elements = RwLock::new(Arc::new(Self::elements_of(&db)?));
        Ok(AccessDb {
            db,
            path: path.to_owned(),
            elements,
        })
    }

    fn elements_of(db: &redb::Database) -> DbResult<Elements> {
        db.begin_read()
            .map_err(text)?
            .open_table(ELEMENTS)
            .map_err(text)
    }

    /// The plain bytes of the URL infos of `element`, if some access index has it.
    pub fn get(&self, element: &Checksum) -> DbResult<Option<Vec<u8>>> {
        let table = match self.elements.read() {
            Ok(table) => table.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Ok(table
            .get(element.as_bytes())
            .map_err(text)?
            .map(|v| v.value().to_vec()))
    }

    /// The database, for the other derived tables of the server (the locate
    /// index).
    pub fn redb(&self) -> &redb::Database {
        &self.db
    }

    /// Whether the access index `index` was added.
    pub fn has(&self, index: &Checksum) -> DbResult<bool> {
        let txn = self.db.begin_read().map_err(text)?;
        let table = txn.open_table(INDEXES).map_err(text)?;
        Ok(table.get(index.as_bytes()).map_err(text)?.is_some())
    }

    /// Adds every access index of `indexes` not added yet, in order (an element of
    /// several takes the URLs of the last); returns a problem per unreadable one.
    pub fn add_all(&self, catalogue: &Catalogue, indexes: &[Checksum]) -> Vec<String> {
        let mut problems = Vec::new();
        for index in indexes {
            let added = self.has(index).and_then(|has| {
                if has {
                    return Ok(());
                }
                let path = catalogue.content_path(ContentDir::AccessIndex, index);
                let count = self.add(index, &path)?;
                tracing::info!(index = %index, elements = count, "access index added");
                Ok(())
            });
            if let Err(problem) = added {
                let problem = format!("access index {index}: {problem}");
                tracing::warn!("{problem}");
                problems.push(problem);
            }
        }
        match Self::elements_of(&self.db) {
            Ok(table) => match self.elements.write() {
                Ok(mut current) => *current = Arc::new(table),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(table),
            },
            Err(e) => problems.push(format!("access database: {e}")),
        }
        problems
    }

    /// Streams the access index `index`, the file at `path`, into the database.
    fn add(&self, index: &Checksum, path: &Path) -> DbResult<u64> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
        let mut batch = Batch {
            db: self,
            pending: Vec::with_capacity(BATCH),
            count: 0,
        };
        (&mut batch)
            .deserialize(&mut reader)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        reader
            .end()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        batch.flush()?;
        let mut txn = self.db.begin_write().map_err(text)?;
        txn.set_durability(Durability::Immediate).map_err(text)?;
        txn.open_table(INDEXES)
            .map_err(text)?
            .insert(index.as_bytes(), batch.count)
            .map_err(text)?;
        txn.commit().map_err(text)?;
        Ok(batch.count)
    }
}

/// Elements read from an access index, written to the database in batches.
struct Batch<'d> {
    db: &'d AccessDb,
    pending: Vec<(Checksum, Vec<u8>)>,
    count: u64,
}

impl Batch<'_> {
    fn flush(&mut self) -> DbResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.db.begin_write().map_err(text)?;
        // Made durable by the commit that marks the index as added.
        txn.set_durability(Durability::None).map_err(text)?;
        {
            let mut table = txn.open_table(ELEMENTS).map_err(text)?;
            for (element, urls) in self.pending.drain(..) {
                table
                    .insert(element.as_bytes(), urls.as_slice())
                    .map_err(text)?;
            }
        }
        txn.commit().map_err(text)
    }
}

impl<'de> DeserializeSeed<'de> for &mut Batch<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut Batch<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of element checksum → list of URL infos")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(element) = map.next_key::<Checksum>()? {
            let urls: Vec<Value> = map.next_value()?;
            let bytes = faircore::plain::to_vec(&urls).map_err(de::Error::custom)?;
            self.pending.push((element, bytes));
            self.count += 1;
            if self.pending.len() >= BATCH {
                self.flush().map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
}
