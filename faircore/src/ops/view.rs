//! `View`: the read side of the catalogue, immutable: datasets, headers,
//! distribution records, checksum → record, and the resolution of queries and
//! names to one record. Loaded from disk in one go; the server replaces it as a
//! whole when the directory changes, so a request answers from one view only and
//! never sees a half-updated catalogue. Every read command of the CLI (`find`,
//! `diff`, `manifest`, `locate`, `verify`) and every HTTP handler reads through
//! it, so they resolve alike and fail with the same texts ([`Unresolved`]).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::header::HeaderMeta;
use crate::layout::{HEADER_EXTENSIONS, Layout};
use crate::resolve::{Query, Unresolved};
use crate::store::sync::Needs;
use crate::{Catalogue, Checksum, Distribution, Name};

/// One dataset: its header (if it has a readable one) and its records.
#[derive(Debug)]
pub struct Dataset {
    /// `dataset_header/<name>.json` or `.yaml`, an object.
    pub header: Option<Map<String, Value>>,
    /// `distributions/<name>.json`, in file order.
    pub records: Vec<Distribution>,
    /// What the header says for the FAIR metadata.
    pub meta: HeaderMeta,
}

/// What the files the view was loaded from looked like: name, inode, modification
/// time and size of every file of `distributions/` and `dataset_header/`.
pub type Fingerprint = Vec<(PathBuf, u64, i64, i64, u64)>;

/// An immutable view of the catalogue.
#[derive(Debug, Default)]
pub struct View {
    /// Counts the views loaded by this process (the server's reloads).
    pub generation: u64,
    /// Datasets by name.
    pub datasets: BTreeMap<Name, Dataset>,
    /// Distribution checksum → (dataset, index of the record): the first dataset in
    /// name order, then the first record, when a checksum is in several.
    pub by_checksum: HashMap<Checksum, (Name, usize)>,
    /// Files that could not be read, each with why.
    pub problems: Vec<String>,
    /// Metadata a FAIR catalogue should have and lacks (no license, no
    /// description, a header field of the wrong shape), each with the dataset.
    pub warnings: Vec<String>,
    /// The files this view was loaded from.
    pub fingerprint: Fingerprint,
}

impl View {
    /// Loads a view of `catalogue` (generation 1).
    pub fn load(catalogue: &Catalogue) -> View {
        load(catalogue, 1)
    }

    /// The dataset called `name` (as given by a user: any text).
    pub fn dataset(&self, name: &str) -> Result<(&Name, &Dataset), Unresolved> {
        name.parse::<Name>()
            .ok()
            .and_then(|name| self.datasets.get_key_value(&name))
            .ok_or_else(|| Unresolved::UnknownDataset(name.to_string()))
    }

    /// The one record of `dataset` (`None`: not given) that `query` designates,
    /// as the server's `find_distribution` finds it.
    pub fn resolve(
        &self,
        dataset: Option<&str>,
        query: &Query,
    ) -> Result<&Distribution, Unresolved> {
        let (_, found) = self.dataset(dataset.ok_or(Unresolved::NoDataset)?)?;
        query.resolve(&found.records)
    }

    /// What the records of this view need of the derived store.
    pub fn needs(&self) -> Needs {
        Needs::of(self.datasets.values().map(|d| d.records.as_slice()))
    }

    /// The record with distribution checksum `checksum`, and its dataset.
    pub fn find(&self, checksum: &Checksum) -> Option<(&Name, &Distribution)> {
        let (name, i) = self.by_checksum.get(checksum)?;
        let dataset = self.datasets.get(name)?;
        Some((name, &dataset.records[*i]))
    }

    /// The number of distribution records.
    pub fn records(&self) -> usize {
        self.datasets.values().map(|d| d.records.len()).sum()
    }
}

/// The fingerprint of the catalogue's metadata files now.
pub fn fingerprint(layout: &Layout) -> Fingerprint {
    let mut files = Vec::new();
    for dir in [layout.distributions_dir(), layout.headers_dir()] {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(meta) = entry.metadata() {
                files.push((
                    entry.path(),
                    meta.ino(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.len(),
                ));
            }
        }
    }
    files.sort();
    files
}

/// Loads a view of `catalogue` numbered `generation`; a file that cannot be read
/// becomes a problem and leaves every other dataset as it is.
pub fn load(catalogue: &Catalogue, generation: u64) -> View {
    let fingerprint = fingerprint(catalogue.layout());
    let mut loaded = View {
        generation,
        fingerprint,
        ..View::default()
    };
    let names = match catalogue.datasets() {
        Ok(names) => names,
        Err(e) => {
            loaded.problems.push(e.to_string());
            Vec::new()
        }
    };
    let licensed = catalogue.config().catalogue.license.is_some();
    for name in names {
        let records = match catalogue.read_distributions(&name) {
            Ok(Some(records)) => records,
            Ok(None) => continue,
            Err(e) => {
                loaded.problems.push(e.to_string());
                continue;
            }
        };
        let headers = catalogue.layout().headers(&name);
        let present: Vec<_> = headers
            .iter()
            .filter(|p| p.symlink_metadata().is_ok())
            .collect();
        if let [read, ignored @ ..] = present.as_slice()
            && !ignored.is_empty()
        {
            let ignored: Vec<String> = ignored.iter().map(|p| crate::display::path(p)).collect();
            loaded.warnings.push(format!(
                "dataset {name}: {} is read; {} ignored (keep one header)",
                crate::display::path(read),
                ignored.join(", ")
            ));
        }
        let header = match read_header(catalogue.layout(), &name) {
            Ok(header) => header,
            Err(problem) => {
                loaded.problems.push(problem);
                None
            }
        };
        for (i, record) in records.iter().enumerate() {
            loaded
                .by_checksum
                .entry(record.checksum)
                .or_insert_with(|| (name.clone(), i));
        }
        let meta = header_meta(&name, header.as_ref(), licensed, &mut loaded.warnings);
        loaded.datasets.insert(
            name,
            Dataset {
                header,
                records,
                meta,
            },
        );
    }
    loaded
}

/// The FAIR metadata of a dataset's header; what is malformed or missing (a
/// license, unless fair.toml gives a default; a description) becomes a warning
/// naming the dataset.
fn header_meta(
    name: &Name,
    header: Option<&Map<String, Value>>,
    default_license: bool,
    warnings: &mut Vec<String>,
) -> HeaderMeta {
    let (meta, problems) = header.map(HeaderMeta::read).unwrap_or_default();
    let mut warn = |what: String| {
        warnings.push(format!("dataset {name}: {what}"));
    };
    for problem in problems {
        warn(format!("header field {problem}"));
    }
    if meta.license.is_none() && !default_license {
        warn(
            "no license: no \"license\" in its header, no [catalogue] license in fair.toml".into(),
        );
    }
    if meta.description.is_none() {
        warn("no description in its header".into());
    }
    meta
}

/// Reads `dataset_header/<name>.json`, `.yaml` or `.yml`: `None` if there is none.
fn read_header(layout: &Layout, name: &Name) -> Result<Option<Map<String, Value>>, String> {
    for (ext, path) in HEADER_EXTENSIONS.into_iter().zip(layout.headers(name)) {
        let text = match crate::regular::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", crate::display::path(&path))),
        };
        let value: Result<Value, String> = if ext == "json" {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            crate::yaml::from_str(&text)
        };
        return match value {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(format!(
                "{}: a dataset header must be an object",
                path.display()
            )),
            Err(e) => Err(format!("{}: {e}", path.display())),
        };
    }
    Ok(None)
}
