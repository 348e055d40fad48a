//! Keeping the store's access lookups and reverse index current with the
//! catalogue's records: what a set of records needs ([`Needs`]), whether a store
//! has it, and adding what it lacks ([`catch_up`]).
//!
//! The writer catches up before it publishes a record (`fair snapshot`), so a
//! reader never sees a record whose lookups are missing. A catalogue written by
//! another tool (Seamless's `fairdir-add-distribution`, or by hand) is caught up
//! by the first reader that can take the lock, or by `fair reindex`.

use std::collections::HashSet;

use redb::ReadableDatabase;

use super::{Store, access, locate};
use crate::layout::ContentDir;
use crate::{Catalogue, Checksum, Distribution, Result};

/// The access indexes and collections a set of records points to, each once, in
/// dataset then record order (the order the reverse index adds collections in, so
/// each version is added as its changes to the one before).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Access indexes, in order: an element of several takes the URLs of the last.
    pub access_indexes: Vec<Checksum>,
    /// Collections (distribution checksums).
    pub collections: Vec<Checksum>,
}

impl Needs {
    /// What the records of `datasets` (each dataset's records in file order, the
    /// datasets in name order) need.
    pub fn of<'a>(datasets: impl IntoIterator<Item = &'a [Distribution]>) -> Needs {
        let (mut indexes, mut collections) = (HashSet::new(), HashSet::new());
        let mut needs = Needs::default();
        for record in datasets.into_iter().flatten() {
            if let Some(index) = record.access_index
                && indexes.insert(index)
            {
                needs.access_indexes.push(index);
            }
            if collections.insert(record.checksum) {
                needs.collections.push(record.checksum);
            }
        }
        needs
    }

    /// What of it `db` lacks.
    pub fn missing(&self, db: &impl ReadableDatabase) -> Result<Needs> {
        let mut missing = Needs::default();
        for index in &self.access_indexes {
            let has = access::has(db, index).map_err(|e| crate::Error::database("the store", e))?;
            if !has {
                missing.access_indexes.push(*index);
            }
        }
        for collection in &self.collections {
            if locate::done(db, collection)?.is_none() {
                missing.collections.push(*collection);
            }
        }
        Ok(missing)
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.access_indexes.is_empty() && self.collections.is_empty()
    }
}

/// What [`catch_up`] did.
#[derive(Debug, Default)]
pub struct Caught {
    /// Access indexes added.
    pub access_indexes: usize,
    /// Collections added to the reverse index.
    pub collections: usize,
    /// What could not be added, each naming the file and why (the rest was).
    pub problems: Vec<String>,
}

/// Adds to `store` every access index and collection of `needs` it lacks, read
/// from `catalogue`'s files. A file that cannot be read becomes a problem and
/// leaves the others to be added.
pub fn catch_up(store: &Store, catalogue: &Catalogue, needs: &Needs) -> Result<Caught> {
    let mut caught = Caught::default();
    for index in &needs.access_indexes {
        if access::has(store.redb(), index).map_err(|e| store.error(e))? {
            continue;
        }
        let path = catalogue.layout().content(ContentDir::AccessIndex, index);
        match store.add_access_index(index, &path) {
            Ok(elements) => {
                tracing::info!(index = %index, elements, "access index added to the store");
                caught.access_indexes += 1;
            }
            Err(e) => caught.problems.push(format!("access index {index}: {e}")),
        }
    }
    let (added, problems) = locate::update(store.redb(), catalogue, &needs.collections);
    caught.collections = added;
    caught.problems.extend(problems);
    Ok(caught)
}

/// What [`ensure`] found or did.
#[derive(Debug)]
pub enum Ensured {
    /// The store held everything already (or nothing is needed).
    Current,
    /// The store lacked something and was caught up (under the lock).
    CaughtUp(Caught),
    /// The store lacks something and cannot be caught up now: why (another
    /// writer holds the lock, or the catalogue cannot be written).
    Behind(String),
}

/// Makes the store of `catalogue` hold what `view` needs, as a reader does
/// before it answers from it: nothing if it does; else, if the writer lock can
/// be taken at once, catches up under it. Fails only when the store is
/// unreadable.
pub fn ensure(catalogue: &Catalogue, view: &crate::View) -> Result<Ensured> {
    let needs = view.needs();
    // A store a reader cannot use (absent, damaged, left for its writer to
    // repair) lacks everything: a writer rebuilds or repairs it.
    let usable = super::StoreReader::open(catalogue.layout())
        .and_then(|reader| reader.map(|r| r.missing(&needs)).transpose())
        .inspect_err(|e| tracing::warn!("{e}"));
    let missing = match usable {
        Ok(Some(missing)) => missing,
        Ok(None) | Err(_) => needs,
    };
    if missing.is_empty() {
        return Ok(Ensured::Current);
    }
    let writer = match catalogue.writer() {
        Ok(writer) => writer,
        Err(e @ (crate::Error::Locked { .. } | crate::Error::Io { .. })) => {
            return Ok(Ensured::Behind(format!(
                "the store lacks {} access indexes and {} collections of the reverse index, and cannot be brought up to date now ({e}); `fair reindex` does it",
                missing.access_indexes.len(),
                missing.collections.len()
            )));
        }
        Err(e) => return Err(e),
    };
    let store = writer.store()?;
    // All of it, in order: the reverse index adds each version as its changes to
    // the one before, which must be indexed first.
    catch_up(&store, catalogue, &view.needs()).map(Ensured::CaughtUp)
}
