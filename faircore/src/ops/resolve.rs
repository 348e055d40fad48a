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
                "unknown dataset {name:?}: the catalogue has no distributions/{}.json",
                crate::display::text(name)
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

impl Query {
    /// The shortest query that resolves to `records[index]` among `records`:
    /// its version (else its date), then, as long as it is ambiguous, its
    /// format, its compression (`none` for absent ones) and its type; `None` if
    /// even all of them name several records (two records of one release).
    pub fn selecting(records: &[Distribution], index: usize) -> Option<Query> {
        let record = records.get(index)?;
        let or_none = |v: &Option<String>| Some(v.clone().unwrap_or_else(|| NONE.to_string()));
        let mut query = match (&record.version, &record.date) {
            (Some(version), _) => Query {
                version: Some(version.clone()),
                ..Query::default()
            },
            (None, Some(date)) => Query {
                date: Some(date.clone()),
                ..Query::default()
            },
            (None, None) => Query::default(),
        };
        let narrowing: [&dyn Fn(&mut Query); 3] = [
            &|q| q.format = or_none(&record.format),
            &|q| q.compression = or_none(&record.compression),
            &|q| q.kind = Some(record.kind.name().to_string()),
        ];
        let mut narrowing = narrowing.iter();
        loop {
            if query
                .resolve(records)
                .is_ok_and(|r| std::ptr::eq(r, record))
            {
                return Some(query);
            }
            narrowing.next()?(&mut query);
        }
    }

    /// The parameters of this query that are set, as `(name, value)` pairs in
    /// the server's order: `type`, `version`, `date`, `format`, `compression`.
    pub fn parameters(&self) -> Vec<(&'static str, &str)> {
        [
            ("type", &self.kind),
            ("version", &self.version),
            ("date", &self.date),
            ("format", &self.format),
            ("compression", &self.compression),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CollectionKind, HashAlgo};

    fn record(date: &str, format: &str, compression: Option<&str>, latest: bool) -> Distribution {
        let checksum = HashAlgo::Blake3.hash(format!("{date}{format}{compression:?}").as_bytes());
        Distribution {
            checksum,
            kind: CollectionKind::Deepcell,
            version: None,
            date: Some(date.into()),
            format: Some(format.into()),
            compression: compression.map(String::from),
            latest,
            nkeys: 1,
            index_size: 1,
            content_size: 1,
            keyorder: checksum,
            access_index: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn the_selecting_query_names_exactly_its_record() {
        // The demo's `cells`: one date in four flavours, then a newer json.
        let records = [
            record("2025-03-01", "json", None, false),
            record("2025-03-01", "json", Some("gzip"), true),
            record("2025-03-01", "json", Some("bzip2"), true),
            record("2025-03-01", "yaml", None, true),
            record("2025-04-01", "json", None, true),
        ];
        for index in 0..records.len() {
            let query = Query::selecting(&records, index).expect("a query");
            let found = query.resolve(&records).expect("resolves");
            assert!(std::ptr::eq(found, &records[index]), "{index}: {query:?}");
        }
        let newest = Query::selecting(&records, 4).expect("a query");
        assert_eq!(newest.parameters(), [("date", "2025-04-01")]);
        let yaml = Query::selecting(&records, 3).expect("a query");
        assert_eq!(
            yaml.parameters(),
            [("date", "2025-03-01"), ("format", "yaml")]
        );
        // Of the three json records of that date, the uncompressed one wins.
        let plain = Query::selecting(&records, 0).expect("a query");
        assert_eq!(
            plain.parameters(),
            [("date", "2025-03-01"), ("format", "json")]
        );
        let gzip = Query::selecting(&records, 1).expect("a query");
        assert_eq!(
            gzip.parameters(),
            [
                ("date", "2025-03-01"),
                ("format", "json"),
                ("compression", "gzip")
            ]
        );
        // Two records of one release cannot be told apart.
        let twice = [records[4].clone(), records[4].clone()];
        assert_eq!(Query::selecting(&twice, 0), None);
    }
}
