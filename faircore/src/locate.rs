//! Reverse lookup: element checksum → every (collection, key) holding it, kept in
//! a redb database that is brought up to date with the catalogue's distributions
//! before it is read (derived state: a lost index is rebuilt from the collections).
//!
//! An element that stays under the same key from version to version must not cost
//! a row per version. So each element has one row listing its keys, and each key
//! names a *set* of collections, interned: all the elements unchanged between two
//! versions share the same few sets. Adding a collection rewrites the rows of its
//! elements (a set S becomes S ∪ {new}, computed once per distinct S), so the
//! index grows with the distinct (element, key) pairs and the distinct sets, not
//! with the versions.
//!
//! Tables (all named `locate/...`):
//! - `done`: collection checksum → its number of entries, once wholly added;
//! - `collections`: collection checksum → its number;
//! - `numbers`: number → collection checksum;
//! - `sets`: set number → the sorted collection numbers (u32 little-endian);
//! - `set_numbers`: the same bytes → set number (interning);
//! - `elements`: element checksum → its keys: (set number u32, key length u16,
//!   key bytes) repeated.

use std::collections::HashMap;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::stream::EntryStream;
use crate::{Catalogue, Checksum, ContentDir, Distribution, Error, Result};

const COLLECTIONS: TableDefinition<&[u8; 32], u32> = TableDefinition::new("locate/collections");
const NUMBERS: TableDefinition<u32, &[u8; 32]> = TableDefinition::new("locate/numbers");
const SETS: TableDefinition<u32, &[u8]> = TableDefinition::new("locate/sets");
const SET_NUMBERS: TableDefinition<&[u8], u32> = TableDefinition::new("locate/set_numbers");
const ELEMENTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("locate/elements");
const DONE: TableDefinition<&[u8; 32], u64> = TableDefinition::new("locate/done");

/// One place an element is found: a key of a collection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The collection (a distribution's checksum).
    pub collection: Checksum,
    /// The key.
    pub key: String,
}

/// Opens (or creates) the command line's locate index, `.fair/locate.redb` of
/// `catalogue` (the server keeps its own in its database).
pub fn open(catalogue: &Catalogue) -> Result<redb::Database> {
    let dir = catalogue.root().join(crate::catalogue::PRIVATE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join("locate.redb");
    redb::Database::create(&path).map_err(|e| Error::database(&path, e))
}

/// One holder of an element: a key of a distribution of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Holder<'a> {
    /// The dataset.
    pub dataset: &'a str,
    /// The distribution's checksum (its collection's).
    pub distribution: Checksum,
    /// Its version, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    /// Its date, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<&'a str>,
    /// Its format, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'a str>,
    /// Its compression, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<&'a str>,
    /// The key holding the element.
    pub key: String,
}

/// The holders of `places` among the records of `datasets` (name and records):
/// every record of a collection holds its places, in dataset, record and key
/// order.
pub fn holders<'a>(
    places: &[Place],
    datasets: impl IntoIterator<Item = (&'a str, &'a [Distribution])>,
) -> Vec<Holder<'a>> {
    let mut found = Vec::new();
    for (dataset, records) in datasets {
        for record in records {
            let keys = places.iter().filter(|p| p.collection == record.checksum);
            for place in keys {
                found.push(Holder {
                    dataset,
                    distribution: record.checksum,
                    version: record.version.as_deref(),
                    date: record.date.as_deref(),
                    format: record.format.as_deref(),
                    compression: record.compression.as_deref(),
                    key: place.key.clone(),
                });
            }
        }
    }
    found
}

/// Entries added per write transaction: bounds the memory of a transaction
/// (its dirty pages) whatever the size of the collection.
const BATCH: usize = 50_000;

/// Adds to `db` every collection of `collections` it does not index yet (read
/// from `buffers/<checksum>` of `catalogue`); returns how many were added. A
/// collection whose file is missing or malformed is an error naming it; those
/// before it stay added, and one cut short is completed by the next update.
pub fn update(
    db: &redb::Database,
    catalogue: &Catalogue,
    collections: &[Checksum],
) -> Result<usize> {
    let indexed = |c: &Checksum| -> std::result::Result<bool, redb::Error> {
        let txn = db.begin_read()?;
        match txn.open_table(DONE) {
            Ok(t) => Ok(t.get(c.as_bytes())?.is_some()),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    };
    let mut added = 0;
    for collection in collections {
        if indexed(collection).map_err(fail)? {
            continue;
        }
        let path = catalogue.content_path(ContentDir::Buffers, collection);
        add(db, collection, &path)?;
        added += 1;
        tracing::info!(%collection, "added to the locate index");
    }
    Ok(added)
}

fn fail(e: impl Into<redb::Error>) -> Error {
    Error::database("the locate index", e.into())
}

/// Adds the collection `checksum`, whose plain file is `path`, in transactions
/// of [`BATCH`] entries; the last one marks it done. Adding again a collection
/// that was cut short changes nothing of what was added already (its number is
/// kept, and a set that holds it already does not grow).
fn add(db: &redb::Database, checksum: &Checksum, path: &Path) -> Result<()> {
    let number = {
        let txn = db.begin_write().map_err(fail)?;
        let number = {
            let mut collections = txn.open_table(COLLECTIONS).map_err(fail)?;
            let mut numbers = txn.open_table(NUMBERS).map_err(fail)?;
            let known = collections
                .get(checksum.as_bytes())
                .map_err(fail)?
                .map(|v| v.value());
            match known {
                Some(number) => number,
                None => {
                    let number = u32::try_from(numbers.len().map_err(fail)?).map_err(|_| {
                        Error::invalid("the locate index", "more than 2^32 collections")
                    })?;
                    collections
                        .insert(checksum.as_bytes(), number)
                        .map_err(fail)?;
                    numbers.insert(number, checksum.as_bytes()).map_err(fail)?;
                    number
                }
            }
        };
        txn.commit().map_err(fail)?;
        number
    };
    // Old set → the set with this collection added (`None`: the empty set).
    let mut grown: HashMap<Option<u32>, u32> = HashMap::new();
    let mut stream = EntryStream::open(path)?.peekable();
    let mut count = 0u64;
    loop {
        let mut txn = db.begin_write().map_err(fail)?;
        let last = {
            let mut batch = Batch {
                number,
                grown: &mut grown,
                sets: txn.open_table(SETS).map_err(fail)?,
                set_numbers: txn.open_table(SET_NUMBERS).map_err(fail)?,
                elements: txn.open_table(ELEMENTS).map_err(fail)?,
            };
            for entry in stream.by_ref().take(BATCH) {
                let (key, element) = entry?;
                if u16::try_from(key.len()).is_err() {
                    let subject = format!("{}: key {key:?}", path.display());
                    return Err(Error::invalid(subject, "longer than 65,535 bytes"));
                }
                batch.place(&element, &key).map_err(fail)?;
                count += 1;
            }
            stream.peek().is_none()
        };
        if last {
            txn.open_table(DONE)
                .map_err(fail)?
                .insert(checksum.as_bytes(), count)
                .map_err(fail)?;
            txn.commit().map_err(fail)?;
            return Ok(());
        }
        // Made durable by the commit that marks the collection done.
        txn.set_durability(redb::Durability::None).map_err(fail)?;
        txn.commit().map_err(fail)?;
    }
}

/// The tables one write transaction of [`add`] changes.
struct Batch<'t, 'g> {
    number: u32,
    grown: &'g mut HashMap<Option<u32>, u32>,
    sets: redb::Table<'t, u32, &'static [u8]>,
    set_numbers: redb::Table<'t, &'static [u8], u32>,
    elements: redb::Table<'t, &'static [u8; 32], &'static [u8]>,
}

impl Batch<'_, '_> {
    /// The set `old` with this collection added, interned.
    fn grow(&mut self, old: Option<u32>) -> std::result::Result<u32, redb::Error> {
        if let Some(new) = self.grown.get(&old) {
            return Ok(*new);
        }
        let mut members = match old {
            Some(set) => self
                .sets
                .get(set)?
                .map(|v| v.value().to_vec())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let number = self.number.to_le_bytes();
        if let Some(set) = old.filter(|_| members.chunks_exact(4).any(|m| m == number)) {
            // A collection added again after it was cut short.
            self.grown.insert(old, set);
            return Ok(set);
        }
        members.extend_from_slice(&number);
        let existing = self.set_numbers.get(members.as_slice())?.map(|v| v.value());
        let new = match existing {
            Some(new) => new,
            None => {
                let new = u32::try_from(self.sets.len()?).map_err(|_| {
                    redb::Error::Corrupted("more than 2^32 sets of collections".into())
                })?;
                self.sets.insert(new, members.as_slice())?;
                self.set_numbers.insert(members.as_slice(), new)?;
                new
            }
        };
        self.grown.insert(old, new);
        Ok(new)
    }

    /// Records that this collection holds `element` under `key`.
    fn place(&mut self, element: &Checksum, key: &str) -> std::result::Result<(), redb::Error> {
        let old = self
            .elements
            .get(element.as_bytes())?
            .map(|v| v.value().to_vec())
            .unwrap_or_default();
        let previous = entries(&old).find(|(_, k)| *k == key.as_bytes());
        let set = self.grow(previous.map(|(set, _)| set))?;
        let mut row = Vec::with_capacity(old.len() + 6 + key.len());
        for (other, k) in entries(&old).filter(|(_, k)| *k != key.as_bytes()) {
            push(&mut row, other, k);
        }
        push(&mut row, set, key.as_bytes());
        self.elements.insert(element.as_bytes(), row.as_slice())?;
        Ok(())
    }
}

/// Appends one (set, key) to an element's row; the key is at most 65,535 bytes.
fn push(row: &mut Vec<u8>, set: u32, key: &[u8]) {
    row.extend_from_slice(&set.to_le_bytes());
    row.extend_from_slice(&(key.len() as u16).to_le_bytes());
    row.extend_from_slice(key);
}

/// The (set, key) pairs of an element's row; stops at a malformed tail.
fn entries(row: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut rest = row;
    std::iter::from_fn(move || {
        let set = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        let len = usize::from(u16::from_le_bytes(rest.get(4..6)?.try_into().ok()?));
        let key = rest.get(6..6 + len)?;
        rest = &rest[6 + len..];
        Some((set, key))
    })
}

/// Every place of `element` in the indexed collections, sorted by collection
/// then key.
pub fn lookup(db: &impl ReadableDatabase, element: &Checksum) -> Result<Vec<Place>> {
    let read = || -> std::result::Result<Vec<Place>, redb::Error> {
        let txn = db.begin_read()?;
        let elements = match txn.open_table(ELEMENTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let Some(row) = elements.get(element.as_bytes())? else {
            return Ok(Vec::new());
        };
        let (sets, numbers) = (txn.open_table(SETS)?, txn.open_table(NUMBERS)?);
        let mut places = Vec::new();
        for (set, key) in entries(row.value()) {
            let key = String::from_utf8_lossy(key).into_owned();
            let members = sets
                .get(set)?
                .map(|v| v.value().to_vec())
                .unwrap_or_default();
            for number in members.chunks_exact(4) {
                let number = u32::from_le_bytes([number[0], number[1], number[2], number[3]]);
                if let Some(c) = numbers.get(number)? {
                    places.push(Place {
                        collection: Checksum::from_bytes(*c.value()),
                        key: key.clone(),
                    });
                }
            }
        }
        places.sort();
        Ok(places)
    };
    read().map_err(|e| Error::database("the locate index", e))
}

/// Counts of the index: (elements, distinct sets, collections).
pub fn counts(db: &impl ReadableDatabase) -> Result<(u64, u64, u64)> {
    let read = || -> std::result::Result<(u64, u64, u64), redb::Error> {
        let txn = db.begin_read()?;
        let len = |name: &str| -> std::result::Result<u64, redb::Error> {
            let definition = TableDefinition::<&[u8], &[u8]>::new(name);
            match txn.open_untyped_table(definition) {
                Ok(t) => Ok(t.len()?),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(e.into()),
            }
        };
        Ok((
            len("locate/elements")?,
            len("locate/sets")?,
            len("locate/numbers")?,
        ))
    };
    read().map_err(|e| Error::database("the locate index", e))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Collection, CollectionKind, Config, HashAlgo};

    /// Writes the collection of `entries` to `buffers/`; its checksum.
    fn stored(catalogue: &Catalogue, entries: &[(&str, &[u8])]) -> Checksum {
        let map: BTreeMap<String, Checksum> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), HashAlgo::Blake3.hash(v)))
            .collect();
        let encoded = Collection::new(CollectionKind::Deepfolder, map).encode(HashAlgo::Blake3);
        let path = catalogue.content_path(ContentDir::Buffers, &encoded.checksum);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, &encoded.bytes).expect("write");
        encoded.checksum
    }

    #[test]
    fn every_place_is_found_and_unchanged_elements_share_their_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect("init");
        let v1 = stored(&catalogue, &[("a", b"A"), ("b", b"B"), ("c", b"same")]);
        let v2 = stored(&catalogue, &[("a", b"A"), ("b", b"B2"), ("d", b"same")]);
        let v3 = stored(
            &catalogue,
            &[("a", b"A"), ("b", b"B"), ("c", b"same"), ("e", b"x")],
        );
        let db = redb::Database::create(dir.path().join("locate.redb")).expect("db");
        assert_eq!(update(&db, &catalogue, &[v1, v2]).expect("update"), 2);
        assert_eq!(
            update(&db, &catalogue, &[v1, v2, v3]).expect("update"),
            1,
            "v1, v2 kept"
        );
        let places = |content: &[u8]| -> Vec<(Checksum, String)> {
            lookup(&db, &HashAlgo::Blake3.hash(content))
                .expect("lookup")
                .into_iter()
                .map(|p| (p.collection, p.key))
                .collect()
        };
        let mut all = vec![(v1, "a".to_string()), (v2, "a".into()), (v3, "a".into())];
        all.sort();
        assert_eq!(places(b"A"), all);
        let mut b = vec![(v1, "b".to_string()), (v3, "b".into())];
        b.sort();
        assert_eq!(places(b"B"), b);
        let mut same = vec![(v1, "c".to_string()), (v2, "d".into()), (v3, "c".into())];
        same.sort();
        assert_eq!(places(b"same"), same, "one element, two keys");
        assert!(places(b"never").is_empty());
        let (elements, sets, collections) = counts(&db).expect("counts");
        assert_eq!(
            (elements, collections),
            (5, 3),
            "a row per element, not per version"
        );
        // {v1} {v1,v2} {v1,v2,v3} {v2} {v1,v3} {v3}: sets grow with the versions'
        // overlaps, never with the elements.
        assert_eq!(sets, 6);

        // A collection cut short (not marked done) is added again without change.
        let txn = db.begin_write().expect("txn");
        txn.open_table(DONE)
            .expect("table")
            .remove(v2.as_bytes())
            .expect("remove");
        txn.commit().expect("commit");
        assert_eq!(update(&db, &catalogue, &[v1, v2, v3]).expect("update"), 1);
        assert_eq!(places(b"A"), all);
        assert_eq!(places(b"same"), same);
        assert_eq!(counts(&db).expect("counts"), (elements, sets, collections));
    }
}
