//! The catalogue as the server sees it: an immutable view (datasets, headers,
//! distribution records, checksum → record), loaded from disk in one go and
//! replaced as a whole when the directory changes. A request answers from one view
//! only, so it never sees a half-updated catalogue.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use faircore::header::HeaderMeta;
use faircore::{Catalogue, Checksum, Distribution, Name};
use serde_json::{Map, Value};

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
pub struct Loaded {
    /// Counts the views loaded since the server started.
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

impl Loaded {
    /// The record with distribution checksum `checksum`, and its dataset.
    pub fn find(&self, checksum: &Checksum) -> Option<(&Name, &Distribution)> {
        let (name, i) = self.by_checksum.get(checksum)?;
        let dataset = self.datasets.get(name)?;
        Some((name, &dataset.records[*i]))
    }

    /// Every access index some record points to, in dataset then record order.
    pub fn access_indexes(&self) -> Vec<Checksum> {
        self.distinct(|r| r.access_index)
    }

    /// Every distinct collection (distribution checksum), in dataset then record
    /// order.
    pub fn collections(&self) -> Vec<Checksum> {
        self.distinct(|r| Some(r.checksum))
    }

    /// The distinct checksums `field` gives of the records, in dataset then
    /// record order.
    fn distinct(&self, field: impl Fn(&Distribution) -> Option<Checksum>) -> Vec<Checksum> {
        let mut seen = std::collections::HashSet::new();
        self.datasets
            .values()
            .flat_map(|d| d.records.iter().filter_map(&field))
            .filter(|c| seen.insert(*c))
            .collect()
    }

    /// The number of distribution records.
    pub fn records(&self) -> usize {
        self.datasets.values().map(|d| d.records.len()).sum()
    }
}

/// The fingerprint of the catalogue's metadata files now.
pub fn fingerprint(root: &Path) -> Fingerprint {
    let mut files = Vec::new();
    for dir in ["distributions", "dataset_header"] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
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

/// Loads a view of `catalogue`; a file that cannot be read becomes a problem and
/// leaves every other dataset as it is.
pub fn load(catalogue: &Catalogue, generation: u64) -> Loaded {
    let fingerprint = fingerprint(catalogue.root());
    let mut loaded = Loaded {
        generation,
        fingerprint,
        ..Loaded::default()
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
                tracing::warn!(dataset = %name, "{e}");
                loaded.problems.push(e.to_string());
                continue;
            }
        };
        let header = match read_header(catalogue.root(), &name) {
            Ok(header) => header,
            Err(problem) => {
                tracing::warn!(dataset = %name, "{problem}");
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
        tracing::warn!(dataset = %name, "{what}");
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
fn read_header(root: &Path, name: &Name) -> Result<Option<Map<String, Value>>, String> {
    let dir = root.join("dataset_header");
    for ext in ["json", "yaml", "yml"] {
        let path = dir.join(format!("{name}.{ext}"));
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let value: Result<Value, String> = if ext == "json" {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            serde_saphyr::from_str(&text).map_err(|e| e.to_string())
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
