//! `fair snapshot`: adds a distribution of a collection to a dataset (the role of
//! Seamless's `fairdir-add-distribution`), under the writer lock.
//!
//! Content-addressed files (the collection's plain bytes in `buffers/`, the
//! keyorder, the access index) are written first, each atomically; then the
//! derived store's access lookups and reverse index are brought up to date with
//! the records to be; `distributions/<dataset>.json` is replaced last,
//! atomically. A run killed at any moment leaves the old list of records or the
//! new one, and every file and lookup a record needs exists. Nothing is ever
//! deleted.

use std::io;
use std::path::{Path, PathBuf};

use crate::access::{self, AccessIndex};
use crate::collection::Entries;
use crate::distribution::{self, Distribution};
use crate::layout::ContentDir;
use crate::release::Release;
use crate::store::sync;
use crate::{Catalogue, Checksum, CollectionKind, Error, Name, Result, Writer, keyorder, plain};

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
            .map(|kind| (kind, catalogue.layout().collection(kind, name)))
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
    let bytes = crate::regular::read(&path).map_err(|e| Error::io(&path, e))?;
    let (collection, checksum) = rayon::join(|| Entries::parse(&bytes), || algo.hash(&bytes));
    let collection = collection.map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    let records_path = catalogue.layout().distributions(&request.dataset);
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
        nkeys: collection.len() as u64,
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
    let base = base.map(|b| records[b].clone());
    let download_path = catalogue
        .layout()
        .download_index(request.collection.as_str());
    // A content size recorded by `fair index` is proof that these bytes are the
    // plain encoding it wrote; other files (Seamless's, hand-made) are checked.
    let store = writer.store()?;
    let recorded = store.content_size(&checksum)?;
    // The collection's copy is written while the keyorder and access index are
    // computed: a content-addressed file is harmless until a record points to it.
    let (stored, (order, access)) = rayon::join(
        || {
            if recorded.is_none() && collection.to_plain() != bytes {
                return Err(Error::invalid(
                    path.display(),
                    "not in plain form (sorted keys, 2-space indentation, final newline); was it edited by hand? `fair index` rewrites it",
                ));
            }
            writer.publish_content(ContentDir::Buffers, &checksum, &bytes)
        },
        || {
            rayon::join(
                || next_keyorder(catalogue, base.as_ref(), &collection),
                || {
                    access_index(
                        catalogue,
                        &download_path,
                        base.as_ref(),
                        request,
                        &collection,
                    )
                },
            )
        },
    );
    stored?;
    record.content_size = match recorded {
        Some(size) => size,
        None => content_size(catalogue, &collection, &checksum)?,
    };
    let order_bytes = order?;
    record.keyorder = algo.hash(&order_bytes);
    let access = access?;
    let mut outcome_counts = (0, 0);
    if let Some(built) = &access {
        record.access_index = Some(built.checksum);
        outcome_counts = (built.without_urls, built.stale);
    }

    // Content-addressed files first: the collection (above), the keyorder,
    // the access index.
    writer.publish_content(ContentDir::Keyorder, &record.keyorder, &order_bytes)?;
    if let Some(built) = &access {
        writer.publish_content(ContentDir::AccessIndex, &built.checksum, &built.bytes)?;
        // Records that pointed at the merged index now point at its superset.
        if let Some(old) = built.merged_from {
            for r in records.iter_mut().filter(|r| r.access_index == Some(old)) {
                r.access_index = Some(built.checksum);
            }
        }
    }
    if request.latest {
        for r in records.iter_mut().filter(|r| r.compatible(&record)) {
            r.latest = false;
        }
    }
    records.push(record.clone());
    catch_up(writer, &store, &request.dataset, &records, &record)?;
    writer.publish(&records_path, &distribution::to_vec(&records))?;
    Ok(Outcome {
        record,
        added: true,
        without_urls: outcome_counts.0,
        stale_urls: outcome_counts.1,
    })
}

/// The plain bytes of the keyorder that follows `base`'s for `collection`.
/// Brings the store's lookups up to date with the catalogue as it will be once
/// `records` are those of `dataset` (added last): the whole catalogue, so that
/// one written by another tool is caught up too. What the new `record` needs
/// must be there; a problem with the files of other records (an access index
/// Seamless lost) is only a warning: `fair verify` and the server report it.
fn catch_up(
    writer: &Writer<'_>,
    store: &crate::Store,
    dataset: &Name,
    records: &[Distribution],
    record: &Distribution,
) -> Result<()> {
    let catalogue = writer.catalogue();
    let view = crate::View::load(catalogue);
    let others = view.datasets.iter().filter(|(name, _)| *name != dataset);
    let needs = sync::Needs::of(others.map(|(_, d)| d.records.as_slice()).chain([records]));
    let caught = sync::catch_up(store, catalogue, &needs)?;
    let mine = sync::Needs::of([std::slice::from_ref(record)]);
    let missing = mine.missing(store.redb())?;
    if !missing.is_empty() {
        return Err(Error::invalid(
            format!("distribution of dataset {dataset}"),
            format!(
                "its lookups could not be stored, so it is not published: {}",
                caught.problems.join("; ")
            ),
        ));
    }
    for problem in &caught.problems {
        tracing::warn!("{problem}");
    }
    Ok(())
}

fn next_keyorder(
    catalogue: &Catalogue,
    base: Option<&Distribution>,
    collection: &Entries<'_>,
) -> Result<Vec<u8>> {
    let path = base.map(|b| {
        catalogue
            .layout()
            .content(ContentDir::Keyorder, &b.keyorder)
    });
    let old_bytes = match &path {
        Some(path) => read(path)?,
        None => b"[]".to_vec(),
    };
    let old = keyorder::parse(&old_bytes).map_err(|source| Error::Json {
        path: path.unwrap_or_default(),
        source,
    })?;
    let order = keyorder::next(&old, collection.as_slice(), catalogue.hash());
    Ok(plain::string_list(&order))
}

/// A new access index, in plain bytes.
struct BuiltIndex {
    checksum: Checksum,
    bytes: Vec<u8>,
    /// The index it was merged over.
    merged_from: Option<Checksum>,
    without_urls: usize,
    stale: usize,
}

/// The access index of `collection` from its download index at `download_path`
/// (none if that does not exist), merged over `base`'s if asked.
fn access_index(
    catalogue: &Catalogue,
    download_path: &Path,
    base: Option<&Distribution>,
    request: &Request,
    collection: &Entries<'_>,
) -> Result<Option<BuiltIndex>> {
    let download = match crate::regular::read(download_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(download_path, e)),
    };
    let json = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Json { path, source }
    };
    let rekeyed = access::rekey(collection.as_slice(), &download).map_err(json(download_path))?;
    let mut index = rekeyed.index;
    let merged_from = match base {
        Some(Distribution {
            access_index: Some(old),
            ..
        }) if request.merge_access_index => Some(*old),
        _ => None,
    };
    let old_bytes;
    if let Some(old) = &merged_from {
        let old_path = catalogue.layout().content(ContentDir::AccessIndex, old);
        old_bytes = read(&old_path)?;
        index = AccessIndex::parse(&old_bytes)
            .map_err(json(&old_path))?
            .merge(index);
    }
    let bytes = index.to_plain();
    Ok(Some(BuiltIndex {
        checksum: catalogue.hash().hash(&bytes),
        bytes,
        merged_from,
        without_urls: rekeyed.without_urls,
        stale: rekeyed.stale,
    }))
}

/// The content size of `collection`, which `fair index` did not record: the sum
/// of the sizes of its element buffers in `buffers/`.
fn content_size(
    catalogue: &Catalogue,
    collection: &Entries<'_>,
    checksum: &Checksum,
) -> Result<u64> {
    let entries = collection.as_slice();
    catalogue
        .buffers_size(entries.iter().map(|(_, c)| c))
        .map_err(|missing| {
            let key = entries.iter().find(|(_, c)| *c == missing).map(|(k, _)| k);
            Error::invalid(
                format!("collection {checksum}"),
                format!(
                    "content size unknown: the size of key {:?} is neither recorded by `fair index` nor in buffers/; index the collection with `fair index` first",
                    key.map(|k| k.as_ref()).unwrap_or_default()
                ),
            )
        })
}

/// Reads the file at `path`, which a record points to.
fn read(path: &Path) -> Result<Vec<u8>> {
    crate::regular::read(path).map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::NotFound {
            "; `fair verify` lists what else is missing"
        } else {
            ""
        };
        Error::io(path, io::Error::new(e.kind(), format!("{e}{hint}")))
    })
}
