//! `fair snapshot`: adds a distribution of a collection to a dataset (the role of
//! Seamless's `fairdir-add-distribution`), under the writer lock.
//!
//! Content-addressed files (the collection's plain bytes in `buffers/`, the
//! keyorder, the access index) are written first, each atomically;
//! `distributions/<dataset>.json` is replaced last, atomically. A run killed at any
//! moment leaves the old list of records or the new one, and every file a record
//! points to exists. Nothing is ever deleted.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::access::{self, AccessIndex, DownloadIndex};
use crate::catalogue::ContentDir;
use crate::distribution::{self, Distribution};
use crate::release::Release;
use crate::{
    Catalogue, Checksum, Collection, CollectionKind, Error, Name, Result, Writer, keyorder,
};

/// What to snapshot, and how.
#[derive(Clone, Debug)]
pub struct Request {
    /// The dataset that gets the distribution.
    pub dataset: Name,
    /// The collection: `deepfolders/<collection>.json` or `deepcells/<collection>.json`.
    pub collection: Name,
    /// Version, date, format, compression.
    pub release: Release,
    /// Lay the new access index over the previous distribution's.
    pub merge_access_index: bool,
    /// Make the new distribution the `latest` of its group.
    pub latest: bool,
    /// Write nothing if the collection is that of the group's latest distribution.
    pub if_changed: bool,
}

/// What a snapshot did.
#[derive(Debug)]
pub struct Outcome {
    /// The new record, or with `--if-changed` and no change, the existing one.
    pub record: Distribution,
    /// Whether a record was added.
    pub added: bool,
    /// Keys of the collection without any URL in its download index.
    pub without_urls: usize,
    /// Keys of the download index that the collection does not have.
    pub stale_urls: usize,
}

/// Finds the collection `name`: in `deepfolders/`, else in `deepcells/`; both is
/// an error, since a record would not say which one it is.
pub fn locate(catalogue: &Catalogue, name: &Name) -> Result<(CollectionKind, PathBuf)> {
    let found: Vec<(CollectionKind, PathBuf)> =
        [CollectionKind::Deepfolder, CollectionKind::Deepcell]
            .into_iter()
            .map(|kind| (kind, catalogue.collection_path(kind, name)))
            .filter(|(_, path)| path.is_file())
            .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::invalid(
            format!("collection {name}"),
            format!(
                "neither deepfolders/{name}.json nor deepcells/{name}.json exists in {}; build it with `fair index`",
                catalogue.root().display()
            ),
        )),
        _ => Err(Error::invalid(
            format!("collection {name}"),
            format!(
                "both deepfolders/{name}.json and deepcells/{name}.json exist; rename one of them"
            ),
        )),
    }
}

/// Adds the distribution `request` asks for.
pub fn snapshot(writer: &Writer<'_>, request: &Request) -> Result<Outcome> {
    let catalogue = writer.catalogue();
    let algo = catalogue.hash();
    let (kind, path) = locate(catalogue, &request.collection)?;
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let (collection, checksum) =
        rayon::join(|| Collection::from_json(kind, &bytes), || algo.hash(&bytes));
    let collection = collection.map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    let records_path = catalogue.distributions_path(&request.dataset);
    let mut records = catalogue
        .read_distributions(&request.dataset)?
        .unwrap_or_default();
    let release = &request.release;
    let mut record = Distribution {
        checksum,
        kind,
        version: release.version.clone(),
        date: release.date.clone(),
        format: release.format.clone(),
        compression: release.compression.clone(),
        latest: request.latest,
        nkeys: collection.nkeys() as u64,
        index_size: bytes.len() as u64,
        content_size: 0,
        keyorder: checksum,
        access_index: None,
        extra: Default::default(),
    };
    let base = distribution::base_of(&records, &record);
    if request.if_changed
        && let Some(b) = base.filter(|&b| records[b].checksum == checksum)
    {
        return Ok(Outcome {
            record: records[b].clone(),
            added: false,
            without_urls: 0,
            stale_urls: 0,
        });
    }
    if let Some((i, existing)) = records
        .iter()
        .enumerate()
        .find(|(_, r)| r.same_release(&record))
    {
        return Err(Error::invalid(
            records_path.display(),
            format!(
                "record {} is {} already (checksum {}); give another --version or --date",
                i + 1,
                existing.describe(),
                existing.checksum
            ),
        ));
    }
    let plain = collection.encode(algo);
    if plain.bytes != bytes {
        return Err(Error::invalid(
            path.display(),
            "not in plain form (sorted keys, 2-space indentation, final newline); was it edited by hand? `fair index` rewrites it",
        ));
    }
    record.content_size = content_size(writer, &collection, &checksum)?;

    let base = base.map(|b| records[b].clone());
    let old_order = match &base {
        Some(b) => {
            read_json::<Vec<String>>(&catalogue.content_path(ContentDir::Keyorder, &b.keyorder))?
        }
        None => Vec::new(),
    };
    let order = keyorder::next(&old_order, collection.entries(), algo);
    let order_bytes = plain_bytes(&order);
    record.keyorder = algo.hash(&order_bytes);

    let mut outcome_counts = (0, 0);
    let mut access = None;
    let download_path = catalogue
        .root()
        .join("download_indices")
        .join(format!("{}.json", request.collection));
    if let Some(download) = read_optional::<DownloadIndex>(&download_path)? {
        let rekeyed = access::rekey(collection.entries(), download);
        outcome_counts = (rekeyed.without_urls, rekeyed.stale);
        let mut index = rekeyed.index;
        let merged_from = match (&base, request.merge_access_index) {
            (
                Some(Distribution {
                    access_index: Some(old),
                    ..
                }),
                true,
            ) => {
                let old_path = catalogue.content_path(ContentDir::AccessIndex, old);
                index = access::merge(read_json::<AccessIndex>(&old_path)?, index);
                Some(*old)
            }
            _ => None,
        };
        let index_bytes = plain_bytes(&index);
        let index_checksum = algo.hash(&index_bytes);
        record.access_index = Some(index_checksum);
        access = Some((index_checksum, index_bytes, merged_from));
    }

    // Content-addressed files first: the collection, the keyorder, the access index.
    writer.publish_content(ContentDir::Buffers, &checksum, &bytes)?;
    writer.publish_content(ContentDir::Keyorder, &record.keyorder, &order_bytes)?;
    if let Some((index_checksum, index_bytes, merged_from)) = &access {
        writer.publish_content(ContentDir::AccessIndex, index_checksum, index_bytes)?;
        // Records that pointed at the merged index now point at its superset.
        if let Some(old) = merged_from {
            for r in records.iter_mut().filter(|r| r.access_index == Some(*old)) {
                r.access_index = Some(*index_checksum);
            }
        }
    }
    if request.latest {
        for r in records.iter_mut().filter(|r| r.compatible(&record)) {
            r.latest = false;
        }
    }
    records.push(record.clone());
    writer.publish(&records_path, &distribution::to_vec(&records))?;
    Ok(Outcome {
        record,
        added: true,
        without_urls: outcome_counts.0,
        stale_urls: outcome_counts.1,
    })
}

/// The content size of `collection`: recorded by the indexer, or else summed from
/// the sizes of its element buffers in `buffers/`.
fn content_size(writer: &Writer<'_>, collection: &Collection, checksum: &Checksum) -> Result<u64> {
    if let Some(size) = writer.database()?.content_size(checksum)? {
        return Ok(size);
    }
    let catalogue = writer.catalogue();
    let distinct: HashSet<&Checksum> = collection.entries().values().collect();
    let sizes: std::collections::HashMap<&Checksum, Option<u64>> = distinct
        .into_par_iter()
        .map(|c| {
            let path = catalogue.content_path(ContentDir::Buffers, c);
            (c, fs::metadata(path).ok().map(|m| m.len()))
        })
        .collect();
    collection.content_size(|c| sizes.get(c).copied().flatten()).ok_or_else(|| {
        let missing = collection
            .entries()
            .iter()
            .find(|(_, c)| sizes.get(c).copied().flatten().is_none());
        let key = missing.map(|(k, _)| k.as_str()).unwrap_or_default();
        Error::invalid(
            format!("collection {checksum}"),
            format!(
                "content size unknown: the size of key {key:?} is neither recorded by `fair index` nor in buffers/; index the collection with `fair index` first"
            ),
        )
    })
}

fn plain_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Lists of strings and maps of checksums always serialise.
    crate::plain::to_vec(value).unwrap_or_default()
}

/// Parses the JSON file at `path`, which must exist.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    read_optional(path)?.ok_or_else(|| {
        Error::io(
            path,
            io::Error::new(
                io::ErrorKind::NotFound,
                "missing; `fair verify` lists what else is",
            ),
        )
    })
}

/// Parses the JSON file at `path`, if it exists.
fn read_optional<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::Json {
                path: path.to_owned(),
                source,
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}
