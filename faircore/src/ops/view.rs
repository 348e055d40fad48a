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
use crate::{Catalogue, CatalogueMeta, Checksum, Distribution, Name};

/// One dataset: its header (if it has a readable one) and its records.
#[derive(Debug)]
pub struct Dataset {
    /// `dataset_header/<name>.json`, `.yaml`, `.yml` or `.cson`, an object.
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
    /// What the metadata says of the catalogue: fair.toml's `[catalogue]`, with
    /// what it leaves out derived (the title from the directory's name; the
    /// publisher, its IRI, the contact address and the license from the
    /// datasets' headers when they all agree).
    pub catalogue: CatalogueMeta,
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
    loaded.warnings.extend(unread_headers(catalogue.layout()));
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
    let (meta, unset) = catalogue_meta(catalogue, &loaded.datasets);
    loaded.catalogue = meta;
    loaded.warnings.extend(unset);
    loaded
}

/// The value every dataset's header gives for a field, when they all give the
/// same one.
fn agreed<T: PartialEq + Clone>(
    datasets: &BTreeMap<Name, Dataset>,
    field: impl Fn(&HeaderMeta) -> Option<&T>,
) -> Option<T> {
    let mut values = datasets.values().map(|d| field(&d.meta));
    let first = values.next()??;
    values.all(|v| v == Some(first)).then(|| first.clone())
}

/// fair.toml's `[catalogue]` with what it leaves out derived, and for each
/// field left out, a warning that says what is used instead and to set it.
fn catalogue_meta(
    catalogue: &Catalogue,
    datasets: &BTreeMap<Name, Dataset>,
) -> (CatalogueMeta, Vec<String>) {
    let mut meta = catalogue.config().catalogue.clone();
    let mut unset = Vec::new();
    let mut note = |key: &str, used: String| {
        unset.push(format!("fair.toml: no [catalogue] {key}: {used}; set it"));
    };
    if meta.title.is_none() {
        let root = fs::canonicalize(catalogue.root()).unwrap_or_else(|_| catalogue.root().into());
        meta.title = root.file_name().map(|n| n.to_string_lossy().into_owned());
        let used = match &meta.title {
            Some(title) => format!("the directory's name {title:?} is used"),
            None => "\"fair catalogue\" is used".into(),
        };
        note("title", used);
    }
    if meta.description.is_none() {
        note(
            "description",
            "a sentence about fair catalogues is used".into(),
        );
    }
    if meta.publisher.is_none() {
        let publisher = agreed(datasets, |m| m.publisher.as_ref());
        let used = match &publisher {
            Some(agent) => format!("{:?}, the publisher of every dataset, is used", agent.name),
            None => "the datasets' headers do not agree on one; the title is used".into(),
        };
        if let Some(agent) = publisher {
            meta.publisher_url = meta.publisher_url.take().or(agent.iri);
            meta.publisher = Some(agent.name);
        }
        note("publisher", used);
    }
    if meta.contact_email.is_none() {
        meta.contact_email = agreed(datasets, |m| m.contact.as_ref()?.email.as_ref());
        let used = match &meta.contact_email {
            Some(email) => format!("{email}, the contact of every dataset, is used"),
            None => "the datasets' headers do not agree on one; the catalogue has none".into(),
        };
        note("contact_email", used);
    }
    if meta.license.is_none() {
        meta.license = agreed(datasets, |m| m.license.as_ref());
        let used = match &meta.license {
            Some(license) => format!("{license}, the license of every dataset, is used"),
            None => "the datasets' headers do not agree on one; the catalogue's metadata has none"
                .into(),
        };
        note("license", used);
    }
    (meta, unset)
}

/// The length of a description, in characters, that Google Dataset Search
/// accepts.
const DESCRIPTION_LENGTH: std::ops::RangeInclusive<usize> = 50..=5000;

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
    match meta.description.as_deref().map(|d| d.chars().count()) {
        None => warn("no description in its header".into()),
        Some(n) if !DESCRIPTION_LENGTH.contains(&n) => warn(format!(
            "description of {n} characters: Google Dataset Search wants {} to {}",
            DESCRIPTION_LENGTH.start(),
            DESCRIPTION_LENGTH.end()
        )),
        Some(_) => {}
    }
    meta
}

/// The files of `dataset_header/` that no dataset's header is read from: another
/// extension, or a second header of a dataset (the first of
/// [`HEADER_EXTENSIONS`] is read), each with why.
fn unread_headers(layout: &Layout) -> Vec<String> {
    let Ok(entries) = fs::read_dir(layout.headers_dir()) else {
        return Vec::new();
    };
    let mut unread = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        let known = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(|e| HEADER_EXTENSIONS.iter().position(|k| *k == e));
        let why = match (known, path.file_stem().and_then(|s| s.to_str())) {
            (Some(rank), Some(stem)) => {
                let Ok(name) = stem.parse::<Name>() else {
                    unread.push(format!(
                        "dataset_header/{file}: not read: {stem:?} is not a dataset name"
                    ));
                    continue;
                };
                let read_first = layout.headers(&name)[..rank]
                    .iter()
                    .find(|p| p.is_file())
                    .and_then(|p| p.file_name())
                    .map(|f| f.to_string_lossy().into_owned());
                match read_first {
                    Some(first) => format!("not read: dataset_header/{first} is read instead"),
                    None => continue,
                }
            }
            _ => format!(
                "not read: a dataset header is DATASET.{} (tried in that order)",
                HEADER_EXTENSIONS.join(", DATASET.")
            ),
        };
        unread.push(format!("dataset_header/{file}: {why}"));
    }
    unread.sort();
    unread
}

/// Reads `dataset_header/<name>.json`, `.yaml`, `.yml` or `.cson` (the first
/// there): `None` if there is none.
fn read_header(layout: &Layout, name: &Name) -> Result<Option<Map<String, Value>>, String> {
    for (ext, path) in HEADER_EXTENSIONS.into_iter().zip(layout.headers(name)) {
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let value: Result<Value, String> = match ext {
            "json" => serde_json::from_str(&text).map_err(|e| e.to_string()),
            "cson" => crate::cson::parse(&text).map_err(|e| e.to_string()),
            _ => serde_saphyr::from_str(&text).map_err(|e| e.to_string()),
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
