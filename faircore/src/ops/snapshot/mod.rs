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
//!
//! Memory does not grow with the keys' text: the collection is read as a stream
//! (several times), the [`keyorder`] holds a few 4-byte indexes a key, and
//! whatever must be sorted (the old keyorder by key, the new one by position,
//! the download index by key, the access index by element) is sorted externally
//! ([`crate::spill`]) in the staging directory.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::collection::EncodeStream;
use crate::distribution::{self, Distribution};
use crate::layout::ContentDir;
use crate::release::Release;
use crate::store::sync;
use crate::stream::EntryStream;
use crate::{Catalogue, Checksum, CollectionKind, Error, HashAlgo, Name, Result, Writer};

mod access;
mod keyorder;

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
    let (checksum, index_size) = hash_file(&path, algo)?;
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
        nkeys: 0,
        index_size,
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
    let layout = catalogue.layout();
    let old_keyorder = base
        .as_ref()
        .map(|b| layout.content(ContentDir::Keyorder, &b.keyorder));
    let over = match &base {
        Some(Distribution {
            access_index: Some(old),
            ..
        }) if request.merge_access_index => {
            Some((*old, layout.content(ContentDir::AccessIndex, old)))
        }
        _ => None,
    };
    let download_path = layout.download_index(request.collection.as_str());
    let download = match crate::regular::open(&download_path) {
        Ok(file) => Some(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&download_path, e)),
    };
    // A content size recorded by `fair index` is proof that these bytes are the
    // plain encoding it wrote; other files (Seamless's, hand-made) are checked.
    let store = writer.store()?;
    let recorded = store.content_size(&checksum)?;
    // The collection's copy is written while the keyorder and access index are
    // computed: a content-addressed file is harmless until a record points to it.
    let (stored, (order, access)) = rayon::join(
        || store_collection(writer, &path, &checksum, recorded.is_none()),
        || {
            rayon::join(
                || keyorder::build(writer, &path, old_keyorder.as_deref()),
                || {
                    download
                        .map(|file| {
                            let over = over.as_ref().map(|(c, p)| (*c, p.as_path()));
                            access::build(writer, &path, (file, &download_path), over)
                        })
                        .transpose()
                },
            )
        },
    );
    stored?;
    (record.keyorder, record.nkeys) = order?;
    record.content_size = match recorded {
        Some(size) => size,
        None => content_size(catalogue, &path, &checksum)?,
    };
    let access = access?;
    let mut outcome_counts = (0, 0);
    if let Some(built) = &access {
        record.access_index = Some(built.checksum);
        outcome_counts = (built.without_urls, built.stale);
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

/// The checksum and size in bytes of the file at `path`, read as a stream.
fn hash_file(path: &Path, algo: HashAlgo) -> Result<(Checksum, u64)> {
    let mut file = open(path)?;
    let mut hasher = algo.hasher();
    let mut buffer = vec![0; 1 << 20];
    let mut size = 0;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok((hasher.finalize(), size)),
            Ok(n) => {
                hasher.update(&buffer[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
}

/// Copies the collection at `path`, whose bytes hash to `checksum`, into
/// `buffers/` unless it is there; with `check`, first makes sure it is in plain
/// form (a file `fair index` did not write).
fn store_collection(
    writer: &Writer<'_>,
    path: &Path,
    checksum: &Checksum,
    check: bool,
) -> Result<()> {
    let not_plain = |why: String| {
        Error::invalid(
            path.display(),
            format!(
                "not in plain form (sorted keys, 2-space indentation, final newline): {why}; was it edited by hand? `fair index` rewrites it"
            ),
        )
    };
    let algo = writer.catalogue().hash();
    if check {
        let mut plain = EncodeStream::new(io::sink(), algo);
        for entry in EntryStream::open(path).map_err(|e| not_plain(e.to_string()))? {
            let (key, element) = entry.map_err(|e| not_plain(e.to_string()))?;
            plain
                .push(&key, &element)
                .map_err(|e| not_plain(e.to_string()))?;
        }
        let (_, encoded, _) = plain.finish().map_err(|e| Error::io(path, e))?;
        if encoded != *checksum {
            return Err(not_plain(
                "its bytes differ from the plain encoding of its entries".into(),
            ));
        }
    }
    if writer
        .catalogue()
        .layout()
        .content(ContentDir::Buffers, checksum)
        .exists()
    {
        return Ok(());
    }
    let mut copy = writer.content_stream(ContentDir::Buffers)?;
    io::copy(&mut open(path)?, &mut copy).map_err(|e| Error::io(path, e))?;
    let (copied, _) = copy.finish()?;
    if copied != *checksum {
        return Err(Error::invalid(
            path.display(),
            "changed while it was snapshotted; run `fair snapshot` again",
        ));
    }
    Ok(())
}

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

/// The content size of the collection at `path`, which `fair index` did not
/// record: the sum of the sizes of its element buffers in `buffers/`.
fn content_size(catalogue: &Catalogue, path: &Path, checksum: &Checksum) -> Result<u64> {
    let elements = EntryStream::open(path)?
        .map(|entry| entry.map(|(_, element)| element))
        .collect::<Result<Vec<Checksum>>>()?;
    catalogue.buffers_size(&elements).map_err(|missing| {
        let key = EntryStream::open(path)
            .into_iter()
            .flatten()
            .flatten()
            .find(|(_, c)| *c == missing)
            .map(|(k, _)| k);
        Error::invalid(
            format!("collection {checksum}"),
            format!(
                "content size unknown: the size of key {:?} is neither recorded by `fair index` nor in buffers/; index the collection with `fair index` first",
                key.unwrap_or_default()
            ),
        )
    })
}

/// Opens the file at `path`, which a record points to.
fn open(path: &Path) -> Result<std::fs::File> {
    crate::regular::open(path).map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::NotFound {
            "; `fair verify` lists what else is missing"
        } else {
            ""
        };
        Error::io(path, io::Error::new(e.kind(), format!("{e}{hint}")))
    })
}
