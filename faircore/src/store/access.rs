//! Access lookups in the store: element checksum → URL infos, from every access
//! index of the catalogue, so that `/machine/access` answers with one lookup and
//! the server's memory does not grow with the indexes. The writer adds an access
//! index once, streamed from its file in batches ([`Store::add_access_index`]);
//! readers keep the table of one read transaction for many lookups
//! ([`Snapshot`]), renewed when the catalogue changes.

use std::fmt;
use std::io::BufReader;
use std::path::Path;
use std::sync::{Arc, RwLock};

use redb::{ReadOnlyTable, ReadableDatabase};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;

use super::Store;
use super::tables::{ACCESS_ELEMENTS, ACCESS_INDEXES};
use crate::{Checksum, Error, Result};

/// Elements written per transaction while an index is added: bounds memory.
const BATCH: usize = 50_000;

/// The elements table as of one read transaction (`None`: no index added yet).
type Elements = Option<ReadOnlyTable<&'static [u8; 32], &'static [u8]>>;

/// The access lookups as of the latest [`Snapshot::refresh`], shared by every
/// request: opening a read transaction and a table per lookup costs more than
/// the lookup.
pub struct Snapshot(RwLock<Arc<Elements>>);

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot").finish_non_exhaustive()
    }
}

fn elements(db: &impl ReadableDatabase) -> std::result::Result<Elements, redb::Error> {
    match db.begin_read()?.open_table(ACCESS_ELEMENTS) {
        Ok(table) => Ok(Some(table)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Snapshot {
    /// The lookups of `db` now.
    pub fn of(db: &impl ReadableDatabase) -> std::result::Result<Self, redb::Error> {
        Ok(Snapshot(RwLock::new(Arc::new(elements(db)?))))
    }

    /// Takes the lookups of `db` now.
    pub fn refresh(&self, db: &impl ReadableDatabase) -> std::result::Result<(), redb::Error> {
        let table = Arc::new(elements(db)?);
        match self.0.write() {
            Ok(mut current) => *current = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
        Ok(())
    }

    /// The plain bytes of the URL infos of `element`, if an index has it.
    pub fn get(&self, element: &Checksum) -> std::result::Result<Option<Vec<u8>>, redb::Error> {
        let table = match self.0.read() {
            Ok(table) => table.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let Some(table) = table.as_ref() else {
            return Ok(None);
        };
        Ok(table.get(element.as_bytes())?.map(|v| v.value().to_vec()))
    }
}

/// Whether the access index `index` was wholly added to `db`.
pub fn has(db: &impl ReadableDatabase, index: &Checksum) -> std::result::Result<bool, redb::Error> {
    match db.begin_read()?.open_table(ACCESS_INDEXES) {
        Ok(table) => Ok(table.get(index.as_bytes())?.is_some()),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Streams the access index `index`, the file at `path`, into the lookups
    /// (an element it shares with an index added before takes its URLs); the
    /// last, durable, commit marks it added. Returns its number of elements.
    pub fn add_access_index(&self, index: &Checksum, path: &Path) -> Result<u64> {
        let file = crate::regular::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
        let mut batch = Batch {
            store: self,
            pending: Vec::with_capacity(BATCH),
            count: 0,
        };
        let parsed = (&mut batch)
            .deserialize(&mut reader)
            .and_then(|()| reader.end());
        parsed.map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })?;
        batch.flush().map_err(|e| self.error(e))?;
        let mark = || -> std::result::Result<(), redb::Error> {
            let txn = self.redb().begin_write()?;
            txn.open_table(ACCESS_INDEXES)?
                .insert(index.as_bytes(), batch.count)?;
            txn.commit()?;
            Ok(())
        };
        mark().map_err(|e| self.error(e))?;
        Ok(batch.count)
    }
}

/// Elements read from an access index, written to the store in batches.
struct Batch<'d> {
    store: &'d Store,
    pending: Vec<(Checksum, Vec<u8>)>,
    count: u64,
}

impl Batch<'_> {
    fn flush(&mut self) -> std::result::Result<(), redb::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Each batch is durable (the store is shared with reading processes,
        // which redb allows only for durable commits); the index counts as added
        // once the last commit marks it.
        let txn = self.store.redb().begin_write()?;
        {
            let mut table = txn.open_table(ACCESS_ELEMENTS)?;
            for (element, urls) in self.pending.drain(..) {
                table.insert(element.as_bytes(), urls.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
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
            let bytes = crate::plain::to_vec(&urls).map_err(de::Error::custom)?;
            self.pending.push((element, bytes));
            self.count += 1;
            if self.pending.len() >= BATCH {
                self.flush().map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
}
