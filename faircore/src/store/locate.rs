//! Reverse lookup: element checksum → every (collection, key) holding it, kept in
//! tables of the store that the writer brings up to date with the catalogue's
//! distributions before it publishes them (derived state: a lost index is rebuilt
//! from the collections).
//!
//! An element that stays under the same key from version to version must not cost
//! a row per version. So each element has one row listing its keys, and each key
//! names a *set* of collections, interned: all the elements unchanged between two
//! versions share the same few sets. Adding a collection rewrites the rows of its
//! elements (a set S becomes S ∪ {new}, computed once per distinct S), so the
//! index grows with the distinct (element, key) pairs and the distinct sets, not
//! with the versions.
//!
//! Its tables are `super::tables::LOCATE_*`.

use std::collections::HashMap;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::tables::{
    LOCATE_COLLECTIONS as COLLECTIONS, LOCATE_DONE as DONE, LOCATE_ELEMENTS as ELEMENTS,
    LOCATE_NUMBERS as NUMBERS, LOCATE_PENDING as PENDING, LOCATE_SET_NUMBERS as SET_NUMBERS,
    LOCATE_SETS as SETS,
};
use crate::diff::{Change, diff};
use crate::layout::ContentDir;
use crate::spill::{BUDGET, Spill};
use crate::stream::EntryStream;
use crate::{Catalogue, Checksum, Error, Result};

/// One place an element is found: a key of a collection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The collection (a distribution's checksum).
    pub collection: Checksum,
    /// The key.
    pub key: String,
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

/// The holders of `places` among the records of `view`: every record of a
/// collection holds its places, in dataset, record and key order.
pub fn holders<'a>(places: &[Place], view: &'a crate::View) -> Vec<Holder<'a>> {
    let mut found = Vec::new();
    for (dataset, records) in &view.datasets {
        let dataset = dataset.as_str();
        for record in &records.records {
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

/// Entries written per write transaction: bounds the memory of a transaction
/// (its dirty pages) whatever the size of the collection.
const BATCH: usize = 50_000;

/// Adds to `db` every collection of `collections` it does not index yet (read
/// from `buffers/<checksum>` of `catalogue`); returns how many were added, and a
/// problem for each that could not be (its file missing or malformed, or the
/// store failing), naming it. Give the collections in dataset then release order:
/// a collection that differs in at most half its entries from the last indexed
/// one before it is added as the changes to that one (see `add_changes`), which
/// costs the diff of the two files and a row per changed entry instead of a row
/// per entry. One cut short is completed by the next update.
pub fn update(
    db: &redb::Database,
    catalogue: &Catalogue,
    collections: &[Checksum],
) -> (usize, Vec<String>) {
    let (mut added, mut problems) = (0, Vec::new());
    let mut previous: Option<Checksum> = None;
    for collection in collections {
        match add_one(db, catalogue, collection, previous) {
            Ok(true) => added += 1,
            Ok(false) => {}
            Err(e) => {
                problems.push(format!("reverse index of {collection}: {e}"));
                previous = None;
                continue;
            }
        }
        previous = Some(*collection);
    }
    (added, problems)
}

/// Adds `collection` unless it is indexed already, as its changes to `previous`
/// when they are close; returns whether it added it.
fn add_one(
    db: &redb::Database,
    catalogue: &Catalogue,
    collection: &Checksum,
    previous: Option<Checksum>,
) -> Result<bool> {
    if done(db, collection)?.is_some() {
        return Ok(false);
    }
    let path = catalogue.layout().content(ContentDir::Buffers, collection);
    // The sorts' runs go to the writer's staging directory.
    let scratch = catalogue.layout().staging();
    std::fs::create_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
    let base = match pending(db, collection)? {
        Some(base) => Some(base),
        None => match previous {
            Some(base) if close(db, catalogue, &base, &path)? => Some(base),
            _ => None,
        },
    };
    match base {
        Some(base) => {
            let base_path = catalogue.layout().content(ContentDir::Buffers, &base);
            add_changes(db, collection, &path, &base, &base_path, &scratch)?;
        }
        None => add(db, collection, &path, &scratch)?,
    }
    tracing::info!(%collection, base = ?base.map(|b| b.to_string()), "added to the locate index");
    Ok(true)
}

fn fail(e: impl Into<redb::Error>) -> Error {
    Error::database("the locate index", e.into())
}

/// What `value` makes of the value of `key` in `table` of `db`, `None` if
/// either is missing.
fn read<V: redb::Value + 'static, T>(
    db: &impl ReadableDatabase,
    table: TableDefinition<&[u8; 32], V>,
    key: &Checksum,
    value: impl Fn(V::SelfType<'_>) -> T,
) -> Result<Option<T>> {
    let get = || -> std::result::Result<Option<T>, redb::Error> {
        let txn = db.begin_read()?;
        match txn.open_table(table) {
            Ok(t) => Ok(t.get(key.as_bytes())?.map(|v| value(v.value()))),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    get().map_err(fail)
}

/// The number of entries of `collection` if it is wholly indexed.
pub fn done(db: &impl ReadableDatabase, collection: &Checksum) -> Result<Option<u64>> {
    read(db, DONE, collection, |entries| entries)
}

/// The collection `collection` is being added as the changes to, once its sets
/// were grown (see [`add_changes`]).
fn pending(db: &redb::Database, collection: &Checksum) -> Result<Option<Checksum>> {
    read(db, PENDING, collection, |base| Checksum::from_bytes(*base))
}

/// Whether the collection at `path` differs from the indexed collection `base`
/// in at most half the entries of the smaller one (its entries estimated from
/// the size of its file); the diff stops as soon as it does not.
fn close(db: &redb::Database, catalogue: &Catalogue, base: &Checksum, path: &Path) -> Result<bool> {
    let Some(entries) = done(db, base)? else {
        return Ok(false);
    };
    let base_path = catalogue.layout().content(ContentDir::Buffers, base);
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len().max(1))
            .map_err(|e| Error::io(path, e))
    };
    // A base whose file is gone (it stays indexed) is no base: the new
    // collection is added whole.
    let (Ok(base_size), Ok(base_entries)) = (size(&base_path), EntryStream::open(&base_path))
    else {
        return Ok(false);
    };
    let estimate = u128::from(entries) * u128::from(size(path)?) / u128::from(base_size);
    let limit = entries.min(u64::try_from(estimate).unwrap_or(u64::MAX)) / 2;
    let changes = diff(base_entries, EntryStream::open(path)?);
    let mut count = 0u64;
    for change in changes {
        change?;
        count += 1;
        if count > limit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The number of the collection `checksum`, given one in `txn` if it has none.
fn register(txn: &redb::WriteTransaction, checksum: &Checksum) -> Result<u32> {
    let mut collections = txn.open_table(COLLECTIONS).map_err(fail)?;
    let mut numbers = txn.open_table(NUMBERS).map_err(fail)?;
    let known = collections
        .get(checksum.as_bytes())
        .map_err(fail)?
        .map(|v| v.value());
    if let Some(number) = known {
        return Ok(number);
    }
    let number = u32::try_from(numbers.len().map_err(fail)?)
        .map_err(|_| Error::invalid("the locate index", "more than 2^32 collections"))?;
    collections
        .insert(checksum.as_bytes(), number)
        .map_err(fail)?;
    numbers.insert(number, checksum.as_bytes()).map_err(fail)?;
    Ok(number)
}

/// Adds the collection `checksum`, whose plain file is `path`, entry by entry;
/// the last transaction marks it done. Adding again a collection that was cut
/// short changes nothing of what was added already (its number is kept, and a
/// set that holds it already does not grow).
fn add(db: &redb::Database, checksum: &Checksum, path: &Path, scratch: &Path) -> Result<()> {
    let txn = db.begin_write().map_err(fail)?;
    let number = register(&txn, checksum)?;
    let count = std::cell::Cell::new(0u64);
    let entries = EntryStream::open(path)?.inspect(|_| count.set(count.get() + 1));
    let txn = in_batches(db, txn, number, (path, scratch), entries, true)?;
    finish(&txn, checksum, count.get())?;
    txn.commit().map_err(fail)
}

/// Adds the collection `checksum` (file `path`) as its changes to the indexed
/// collection `base` (file `base_path`), without touching the rows of the
/// entries they share:
/// 1. each entry of `checksum` that `base` does not have is placed as by [`add`];
/// 2. in the same transaction as the last of 1, every set holding `base` grows
///    to hold `checksum` too (the rows of every entry `base` holds point to such
///    sets, so all the shared entries are then placed at once), and `checksum`
///    is marked pending;
/// 3. each entry of `base` that `checksum` does not have gets its set back
///    without `checksum`;
/// 4. in the same transaction as the last of 3, it is marked done.
///
/// An update cut short before 2 starts over (1 is idempotent); after 2 it goes
/// on with 3 (also idempotent). Every commit is durable (the store is shared
/// with reading processes), so the steps share transactions where they can.
fn add_changes(
    db: &redb::Database,
    checksum: &Checksum,
    path: &Path,
    base: &Checksum,
    base_path: &Path,
    scratch: &Path,
) -> Result<()> {
    let txn = db.begin_write().map_err(fail)?;
    let number = register(&txn, checksum)?;
    let txn = if pending(db, checksum)?.is_none() {
        let txn = place_new_entries(db, txn, number, (path, base_path), scratch)?;
        grow_sets(&txn, checksum, number, base)?;
        txn.commit().map_err(fail)?;
        db.begin_write().map_err(fail)?
    } else {
        txn
    };
    let base_entries = done(db, base)?.unwrap_or_default();
    let (mut gained, mut lost) = (0u64, 0u64);
    let changes = diff(EntryStream::open(base_path)?, EntryStream::open(path)?);
    let removed = changes.filter_map(|change| match change {
        Ok(Change::Removed { key, old }) => {
            lost += 1;
            Some(Ok((key, old)))
        }
        Ok(Change::Changed { key, old, .. }) => Some(Ok((key, old))),
        Ok(Change::Added { .. }) => {
            gained += 1;
            None
        }
        Err(e) => Some(Err(e)),
    });
    let txn = in_batches(db, txn, number, (base_path, scratch), removed, false)?;
    finish(&txn, checksum, (base_entries + gained).saturating_sub(lost))?;
    txn.commit().map_err(fail)
}

/// Step 1 of [`add_changes`]: the entries of `path` that `base_path` does not
/// have are placed in the collection `number`, from `txn` on; returns the last
/// transaction, open.
fn place_new_entries(
    db: &redb::Database,
    txn: redb::WriteTransaction,
    number: u32,
    (path, base_path): (&Path, &Path),
    scratch: &Path,
) -> Result<redb::WriteTransaction> {
    let changes = diff(EntryStream::open(base_path)?, EntryStream::open(path)?);
    let added = changes.filter_map(|change| match change {
        Ok(Change::Added { key, new } | Change::Changed { key, new, .. }) => Some(Ok((key, new))),
        Ok(Change::Removed { .. }) => None,
        Err(e) => Some(Err(e)),
    });
    in_batches(db, txn, number, (path, scratch), added, true)
}

/// Step 2 of [`add_changes`]: in `txn`, every set holding `base` (number in the
/// sets) also holds `number`, and `checksum` is pending.
fn grow_sets(
    txn: &redb::WriteTransaction,
    checksum: &Checksum,
    number: u32,
    base: &Checksum,
) -> Result<()> {
    let base_number = txn
        .open_table(COLLECTIONS)
        .map_err(fail)?
        .get(base.as_bytes())
        .map_err(fail)?
        .map(|v| v.value())
        .ok_or_else(|| Error::invalid("the locate index", format!("{base} has no number")))?;
    let mut sets = txn.open_table(SETS).map_err(fail)?;
    let mut set_numbers = txn.open_table(SET_NUMBERS).map_err(fail)?;
    let mut grown = Vec::new();
    for row in sets.iter().map_err(fail)? {
        let (set, members) = row.map_err(fail)?;
        let members = members.value();
        if holds(members, base_number) && !holds(members, number) {
            grown.push((set.value(), members.to_vec()));
        }
    }
    for (set, mut members) in grown {
        set_numbers.remove(members.as_slice()).map_err(fail)?;
        members.extend_from_slice(&number.to_le_bytes());
        sets.insert(set, members.as_slice()).map_err(fail)?;
        set_numbers.insert(members.as_slice(), set).map_err(fail)?;
    }
    txn.open_table(PENDING)
        .map_err(fail)?
        .insert(checksum.as_bytes(), base.as_bytes())
        .map_err(fail)?;
    Ok(())
}

/// Marks `checksum` wholly added with its number of entries, in `txn`.
fn finish(txn: &redb::WriteTransaction, checksum: &Checksum, entries: u64) -> Result<()> {
    txn.open_table(DONE)
        .map_err(fail)?
        .insert(checksum.as_bytes(), entries)
        .map_err(fail)?;
    txn.open_table(PENDING)
        .map_err(fail)?
        .remove(checksum.as_bytes())
        .map_err(fail)?;
    Ok(())
}

/// Records that the collection `number` holds (`add`) or does not hold each
/// (key, element) of `entries` (read from `path`): in `txn`, then in a new
/// transaction every [`BATCH`] entries (so a transaction's memory stays
/// bounded); returns the last transaction, open, for the caller to finish with.
///
/// The entries come in key order, their elements in no order; they are sorted
/// by element first (externally, runs in `scratch`), so that the rows are
/// written in the table's order and each page of it once: in key order, every
/// batch touched pages all over the table, which redb's cache evicted and wrote
/// again and again (3.9 GB written for the 690 MB store of a first snapshot of
/// 10^6 keys).
fn in_batches(
    db: &redb::Database,
    mut txn: redb::WriteTransaction,
    number: u32,
    (path, scratch): (&Path, &Path),
    entries: impl Iterator<Item = Result<(String, Checksum)>>,
    add: bool,
) -> Result<redb::WriteTransaction> {
    let mut by_element = Spill::new(scratch, BUDGET);
    let mut left = 0usize;
    for entry in entries {
        let (key, element) = entry?;
        if u16::try_from(key.len()).is_err() {
            let subject = format!("{}: key {key:?}", path.display());
            return Err(Error::invalid(subject, "longer than 65,535 bytes"));
        }
        by_element.push(element.as_bytes(), key.as_bytes())?;
        left += 1;
    }
    let mut sorted = by_element.sorted()?;
    let damaged = || Error::invalid(scratch.display().to_string(), "a sort run is damaged");
    let mut changed: HashMap<u32, u32> = HashMap::new();
    loop {
        {
            let mut batch = Batch {
                number,
                changed: &mut changed,
                sets: txn.open_table(SETS).map_err(fail)?,
                set_numbers: txn.open_table(SET_NUMBERS).map_err(fail)?,
                elements: txn.open_table(ELEMENTS).map_err(fail)?,
            };
            for _ in 0..left.min(BATCH) {
                let (element, key) = sorted.next()?.ok_or_else(damaged)?;
                let element = Checksum::from_bytes(element.try_into().map_err(|_| damaged())?);
                let key = std::str::from_utf8(key).map_err(|_| damaged())?;
                batch.rewrite(&element, key, add).map_err(fail)?;
            }
        }
        left = left.saturating_sub(BATCH);
        if left == 0 {
            return Ok(txn);
        }
        txn.commit().map_err(fail)?;
        txn = db.begin_write().map_err(fail)?;
    }
}

/// Whether the set `members` (u32 little-endian numbers) holds `number`.
fn holds(members: &[u8], number: u32) -> bool {
    members.chunks_exact(4).any(|m| m == number.to_le_bytes())
}

/// The empty set's stand-in in [`Batch::changed`] (never a set number: those
/// count the rows of `sets`).
const EMPTY: u32 = u32::MAX;

/// The tables one write transaction of [`in_batches`] changes.
struct Batch<'t, 'c> {
    /// The collection being added.
    number: u32,
    /// Set → the set with the collection added or taken out, as computed so far.
    changed: &'c mut HashMap<u32, u32>,
    sets: redb::Table<'t, u32, &'static [u8]>,
    set_numbers: redb::Table<'t, &'static [u8], u32>,
    elements: redb::Table<'t, &'static [u8; 32], &'static [u8]>,
}

impl Batch<'_, '_> {
    /// The set `old` ([`EMPTY`] for the empty set) with this collection added
    /// (`add`) or taken out, interned; `old` itself if nothing changes.
    fn change(&mut self, old: u32, add: bool) -> std::result::Result<u32, redb::Error> {
        if let Some(new) = self.changed.get(&old) {
            return Ok(*new);
        }
        let mut members = match old {
            EMPTY => Vec::new(),
            set => self
                .sets
                .get(set)?
                .map(|v| v.value().to_vec())
                .unwrap_or_default(),
        };
        if holds(&members, self.number) == add {
            // Added again after it was cut short, or already taken out.
            self.changed.insert(old, old);
            return Ok(old);
        }
        let number = self.number.to_le_bytes();
        if add {
            members.extend_from_slice(&number);
        } else {
            members = members
                .chunks_exact(4)
                .filter(|m| *m != number)
                .flatten()
                .copied()
                .collect();
        }
        let existing = self.set_numbers.get(members.as_slice())?.map(|v| v.value());
        let new = match existing {
            Some(new) => new,
            None => {
                let new = u32::try_from(self.sets.len()?)
                    .ok()
                    .filter(|n| *n != EMPTY)
                    .ok_or_else(|| {
                        redb::Error::Corrupted("more than 2^32 - 1 sets of collections".into())
                    })?;
                self.sets.insert(new, members.as_slice())?;
                self.set_numbers.insert(members.as_slice(), new)?;
                new
            }
        };
        self.changed.insert(old, new);
        Ok(new)
    }

    /// Rewrites the row of `element`: its set for `key` with this collection
    /// added or taken out.
    fn rewrite(
        &mut self,
        element: &Checksum,
        key: &str,
        add: bool,
    ) -> std::result::Result<(), redb::Error> {
        let old = self
            .elements
            .get(element.as_bytes())?
            .map(|v| v.value().to_vec())
            .unwrap_or_default();
        let previous = entries(&old).find(|(_, k)| *k == key.as_bytes());
        let set = match previous {
            Some((set, _)) => self.change(set, add)?,
            None if add => self.change(EMPTY, true)?,
            None => return Ok(()),
        };
        if previous.is_some_and(|(old_set, _)| old_set == set) {
            return Ok(());
        }
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

    /// [`update`], which must find no problem: how many it added.
    fn updated(db: &redb::Database, catalogue: &Catalogue, collections: &[Checksum]) -> usize {
        let (added, problems) = update(db, catalogue, collections);
        assert!(problems.is_empty(), "{problems:?}");
        added
    }
    use crate::{Collection, CollectionKind, Config, HashAlgo};

    /// Writes the collection of `entries` to `buffers/`; its checksum.
    fn stored(catalogue: &Catalogue, entries: &[(&str, &[u8])]) -> Checksum {
        let map: BTreeMap<String, Checksum> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), HashAlgo::Blake3.hash(v)))
            .collect();
        let encoded = Collection::new(CollectionKind::Deepfolder, map).encode(HashAlgo::Blake3);
        let path = catalogue
            .layout()
            .content(ContentDir::Buffers, &encoded.checksum);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, &encoded.bytes).expect("write");
        encoded.checksum
    }

    /// A small deterministic generator (xorshift64*).
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    /// Versions of a dataset, each a few changes from the one before: contents
    /// changed, keys removed and added, an element moved to another key, one
    /// copied to a second key, a key given back an earlier content.
    fn versions(count: usize, keys: usize, seed: u64) -> Vec<BTreeMap<String, String>> {
        let mut random = Random(seed);
        let mut current: BTreeMap<String, String> = (0..keys)
            .map(|i| (format!("k{i:04}"), format!("c{i}")))
            .collect();
        let mut all = vec![current.clone()];
        for v in 1..count {
            let names: Vec<String> = current.keys().cloned().collect();
            let pick = |random: &mut Random| names[random.below(names.len())].clone();
            for _ in 0..3 {
                let key = pick(&mut random);
                current.insert(key, format!("c{v}-{}", random.below(1000)));
            }
            current.remove(&pick(&mut random));
            current.insert(format!("new{v}"), format!("n{v}"));
            let moved = pick(&mut random);
            if let Some(content) = current.remove(&moved) {
                current.insert(format!("{moved}-moved{v}"), content);
            }
            let copied = pick(&mut random);
            if let Some(content) = current.get(&copied).cloned() {
                current.insert(format!("copy{v}"), content);
            }
            let back = pick(&mut random);
            if let Some(old) = all[random.below(all.len())].get(&back).cloned() {
                current.insert(back, old);
            }
            all.push(current.clone());
        }
        all
    }

    /// Every place of every content of `stored` (collection, entries), as a map
    /// from the element to its sorted places.
    fn expected(stored: &[(Checksum, BTreeMap<String, String>)]) -> BTreeMap<Checksum, Vec<Place>> {
        let mut places: BTreeMap<Checksum, Vec<Place>> = BTreeMap::new();
        for (collection, entries) in stored {
            for (key, content) in entries {
                places
                    .entry(HashAlgo::Blake3.hash(content.as_bytes()))
                    .or_default()
                    .push(Place {
                        collection: *collection,
                        key: key.clone(),
                    });
            }
        }
        places.values_mut().for_each(|p| p.sort());
        places
    }

    fn store_all(
        catalogue: &Catalogue,
        versions: &[BTreeMap<String, String>],
    ) -> Vec<(Checksum, BTreeMap<String, String>)> {
        versions
            .iter()
            .map(|v| {
                let entries: Vec<(&str, &[u8])> =
                    v.iter().map(|(k, c)| (k.as_str(), c.as_bytes())).collect();
                (stored(catalogue, &entries), v.clone())
            })
            .collect()
    }

    fn assert_complete(db: &redb::Database, expected: &BTreeMap<Checksum, Vec<Place>>) {
        for (element, places) in expected {
            assert_eq!(&lookup(db, element).expect("lookup"), places, "{element}");
        }
    }

    #[test]
    fn versions_added_as_their_changes_are_found_as_if_added_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect("init");
        // Two datasets, the second unrelated to the first (added whole).
        let mut stored = store_all(&catalogue, &versions(12, 60, 7));
        stored.extend(store_all(&catalogue, &versions(4, 30, 99)));
        let collections: Vec<Checksum> = stored.iter().map(|(c, _)| *c).collect();
        let expected = expected(&stored);

        // All at once, and one at a time.
        let at_once = redb::Database::create(dir.path().join("a.redb")).expect("db");
        assert_eq!(updated(&at_once, &catalogue, &collections), 16);
        assert_complete(&at_once, &expected);
        let one_by_one = redb::Database::create(dir.path().join("b.redb")).expect("db");
        for n in 1..=collections.len() {
            updated(&one_by_one, &catalogue, &collections[..n]);
        }
        assert_complete(&one_by_one, &expected);
        for (collection, entries) in &stored {
            assert_eq!(
                done(&at_once, collection).expect("done"),
                Some(entries.len() as u64),
                "entries counted"
            );
        }
        let (elements, sets, _) = counts(&at_once).expect("counts");
        assert_eq!(elements as usize, expected.len(), "a row per element");
        assert!(sets < 200, "{sets} sets");
    }

    #[test]
    fn a_version_cut_short_while_added_as_its_changes_is_completed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect("init");
        let stored = store_all(&catalogue, &versions(3, 50, 3));
        let collections: Vec<Checksum> = stored.iter().map(|(c, _)| *c).collect();
        let path = |c: &Checksum| catalogue.layout().content(ContentDir::Buffers, c);
        let (v1, v2, v3) = (collections[0], collections[1], collections[2]);
        let expected = expected(&stored);

        let db = redb::Database::create(dir.path().join("locate.redb")).expect("db");
        updated(&db, &catalogue, &[v1]);
        assert!(close(&db, &catalogue, &v1, &path(&v2)).expect("close"));
        // v2 cut short after step 1, v3 after step 2 (its sets grown, pending).
        let txn = db.begin_write().expect("txn");
        let n2 = register(&txn, &v2).expect("register");
        let txn =
            place_new_entries(&db, txn, n2, (&path(&v2), &path(&v1)), dir.path()).expect("step 1");
        txn.commit().expect("commit");
        updated(&db, &catalogue, &[v1, v2]);
        let txn = db.begin_write().expect("txn");
        let n3 = register(&txn, &v3).expect("register");
        let txn =
            place_new_entries(&db, txn, n3, (&path(&v3), &path(&v2)), dir.path()).expect("step 1");
        grow_sets(&txn, &v3, n3, &v2).expect("step 2");
        txn.commit().expect("commit");
        assert_eq!(pending(&db, &v3).expect("pending"), Some(v2));
        assert_eq!(updated(&db, &catalogue, &collections), 1);
        assert_eq!(pending(&db, &v3).expect("pending"), None);
        assert_complete(&db, &expected);
    }

    #[test]
    fn a_version_whose_predecessor_s_file_is_gone_is_added_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect("init");
        let stored = store_all(&catalogue, &versions(2, 40, 5));
        let collections: Vec<Checksum> = stored.iter().map(|(c, _)| *c).collect();
        let db = redb::Database::create(dir.path().join("locate.redb")).expect("db");
        updated(&db, &catalogue, &collections[..1]);
        std::fs::remove_file(
            catalogue
                .layout()
                .content(ContentDir::Buffers, &collections[0]),
        )
        .expect("remove");
        assert_eq!(updated(&db, &catalogue, &collections), 1);
        assert_complete(&db, &expected(&stored));
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
        assert_eq!(updated(&db, &catalogue, &[v1, v2]), 2);
        assert_eq!(updated(&db, &catalogue, &[v1, v2, v3]), 1, "v1, v2 kept");
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
        assert_eq!(updated(&db, &catalogue, &[v1, v2, v3]), 1);
        assert_eq!(places(b"A"), all);
        assert_eq!(places(b"same"), same);
        assert_eq!(counts(&db).expect("counts"), (elements, sets, collections));
    }
}
