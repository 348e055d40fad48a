//! Finding one distribution of a dataset from query parameters, exactly as the
//! Seamless server's `find_distribution` does; `fair find` and the server share it.
//!
//! Without a version or date, only `latest` records are candidates; with one, the
//! given fields must match (version `latest` means the `latest` records). `none`
//! means "the field is absent". Matching is exact string equality. When several
//! records remain and no compression was asked for, the only uncompressed one wins.

use serde::Serialize;

use crate::{Distribution, Name, View};

/// The value of `none` in a query: the field must be absent.
pub const NONE: &str = "none";

/// The optional parameters of a query, as given (first value of each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// `type`: deepfolder or deepcell.
    pub kind: Option<String>,
    /// `version`, or `latest`.
    pub version: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `format`.
    pub format: Option<String>,
    /// `compression`.
    pub compression: Option<String>,
}

/// Why a query has no single answer; `Display` gives the text the server sends
/// (and `fair find` prints): 400 without a dataset, 404 for an unknown one, 300
/// for no match or several.
#[derive(Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// No dataset was given.
    NoDataset,
    /// The catalogue has no dataset of this name.
    UnknownDataset(String),
    /// No record matches.
    NoMatch,
    /// Several records match: their identifying fields.
    Multiple(Vec<Summary>),
}

/// The fields of an ambiguous candidate that Seamless lists.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    latest: bool,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::NoDataset => f.write_str("parameter 'dataset' undefined\n"),
            Unresolved::UnknownDataset(name) => writeln!(
                f,
                "unknown dataset {name:?}: the catalogue has no distributions/{name}.json"
            ),
            Unresolved::NoMatch => f.write_str("No distribution with the given parameters\n"),
            Unresolved::Multiple(candidates) => {
                // A list of plain structs always serialises.
                let list = serde_json::to_string_pretty(candidates).unwrap_or_default();
                write!(
                    f,
                    "Multiple distributions with given parameters:\n\n{list}\n\n({} distributions)\n",
                    candidates.len()
                )
            }
        }
    }
}

impl std::error::Error for Unresolved {}

/// Whether `stored` satisfies the query value `wanted` (absent: anything).
fn matches(wanted: Option<&str>, stored: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some(NONE) => stored.is_none(),
        Some(w) => stored == Some(w),
    }
}

impl Query {
    /// The one record of `records` this query designates.
    pub fn resolve<'a>(&self, records: &'a [Distribution]) -> Result<&'a Distribution, Unresolved> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| v != NONE);
        let by_release = given(&self.version) || given(&self.date);
        let version_is_latest = self.version.as_deref() == Some("latest");
        let candidates: Vec<&Distribution> = records
            .iter()
            .filter(|r| {
                let release = if !by_release {
                    r.latest
                } else {
                    (if version_is_latest {
                        r.latest
                    } else {
                        matches(self.version.as_deref(), r.version.as_deref())
                    }) && matches(self.date.as_deref(), r.date.as_deref())
                };
                release
                    && matches(self.kind.as_deref(), Some(r.kind.name()))
                    && matches(self.format.as_deref(), r.format.as_deref())
                    && matches(self.compression.as_deref(), r.compression.as_deref())
            })
            .collect();
        match candidates.as_slice() {
            [] => Err(Unresolved::NoMatch),
            [one] => Ok(one),
            several => {
                let uncompressed: Vec<&&Distribution> =
                    several.iter().filter(|r| r.compression.is_none()).collect();
                match uncompressed.as_slice() {
                    [one] if self.compression.is_none() => Ok(one),
                    _ => Err(Unresolved::Multiple(
                        several
                            .iter()
                            .map(|r| Summary {
                                kind: r.kind.name(),
                                date: r.date.clone(),
                                format: r.format.clone(),
                                compression: r.compression.clone(),
                                latest: r.latest,
                            })
                            .collect(),
                    )),
                }
            }
        }
    }
}

/// The distribution `spec` names in `view`: its checksum (64 hex digits), or
/// `DATASET@VERSION`, `DATASET@DATE` (YYYY-MM-DD) or `DATASET@latest`, resolved as
/// the server's find_distribution (so `@latest` of a dataset with several latest
/// distributions is ambiguous, and the error lists them). Returns the dataset too.
pub fn named<'v>(view: &'v View, spec: &str) -> crate::Result<(&'v Name, &'v Distribution)> {
    let refuse = |message: String| crate::Error::invalid(format!("distribution {spec:?}"), message);
    let unresolved = |e: Unresolved| refuse(e.to_string().trim_end().to_string());
    if let Some((dataset, release)) = spec.split_once('@') {
        let (name, found) = view.dataset(dataset).map_err(unresolved)?;
        let is_date = release.len() == 10
            && release.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let query = Query {
            version: (!is_date).then(|| release.to_string()),
            date: is_date.then(|| release.to_string()),
            ..Query::default()
        };
        let record = query.resolve(&found.records).map_err(unresolved)?;
        return Ok((name, record));
    }
    let checksum: crate::Checksum = spec.parse().map_err(|_| {
        refuse("expected a distribution checksum (64 hex digits) or DATASET@VERSION, DATASET@DATE or DATASET@latest".into())
    })?;
    view.find(&checksum)
        .ok_or_else(|| refuse("no dataset has a distribution with this checksum".into()))
}
