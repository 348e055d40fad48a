//! Distribution records and `distributions/<dataset>.json`, the list of a
//! dataset's records in the order they were added.
//!
//! Seamless writes the list with Python's `json.dump(indent=2)`, fields in the
//! order below and no final newline; we read that tolerantly (absent counts are
//! 0, unknown fields are kept) and write the same shape with a final newline.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Checksum, CollectionKind};

/// One immutable snapshot of a collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The checksum of the collection's plain bytes.
    pub checksum: Checksum,
    /// Deepfolder or deepcell.
    #[serde(rename = "type")]
    pub kind: CollectionKind,
    /// The release name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The release date (`YYYY-MM-DD`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The format of the elements (e.g. `mmcif`), if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// How the downloads are compressed, if they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Whether this is the newest of its compatible group; written only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub latest: bool,
    /// The number of keys.
    #[serde(default)]
    pub nkeys: u64,
    /// The size of the collection's plain bytes.
    #[serde(default)]
    pub index_size: u64,
    /// The sum of the element sizes, each occurrence counted.
    #[serde(default)]
    pub content_size: u64,
    /// The checksum of `keyorder/<checksum>`.
    pub keyorder: Checksum,
    /// The checksum of `access_index/<checksum>`, when the collection has a
    /// download index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_index: Option<Checksum>,
    /// Fields we do not know, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Distribution {
    /// Whether `other` is in the same compatible group: same type, format and
    /// compression. At most one record of a group is `latest`.
    pub fn compatible(&self, other: &Distribution) -> bool {
        self.kind == other.kind
            && self.format == other.format
            && self.compression == other.compression
    }

    /// Whether `other` would be the same release: same group and the same version,
    /// or, both without a version, the same date.
    pub fn same_release(&self, other: &Distribution) -> bool {
        self.compatible(other)
            && match (&self.version, &other.version) {
                (Some(a), Some(b)) => a == b,
                (None, None) => self.date == other.date,
                _ => false,
            }
    }

    /// A short description for messages: `version 2, date 2025-02-14 (deepfolder, format json)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.version {
            parts.push(format!("version {v}"));
        }
        if let Some(d) = &self.date {
            parts.push(format!("date {d}"));
        }
        let mut group = vec![self.kind.name().to_string()];
        if let Some(f) = &self.format {
            group.push(format!("format {f}"));
        }
        if let Some(c) = &self.compression {
            group.push(format!("compression {c}"));
        }
        format!("{} ({})", parts.join(", "), group.join(", "))
    }
}

/// Parses `distributions/<dataset>.json`: a JSON list of records.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Vec<Distribution>> {
    serde_json::from_slice(bytes)
}

/// The bytes we write for a list of records: Seamless's shape plus a final newline.
pub fn to_vec(records: &[Distribution]) -> Vec<u8> {
    // Records hold strings, numbers and checksums only: serialising cannot fail.
    let mut bytes = serde_json::to_vec_pretty(records).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The index of the latest record of `record`'s group, or else of the last one of
/// the group that was added: the base of a new snapshot's keyorder and merged
/// access index.
pub fn base_of(records: &[Distribution], record: &Distribution) -> Option<usize> {
    let mut group = records
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, r)| r.compatible(record));
    let last = group.next()?;
    std::iter::once(last)
        .chain(group)
        .find(|(_, r)| r.latest)
        .or(Some(last))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden `distributions/mydataset.json` of Seamless (no final newline).
    pub(crate) const GOLDEN: &str = r#"[
  {
    "checksum": "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41",
    "type": "deepfolder",
    "version": "1",
    "nkeys": 6,
    "index_size": 485,
    "content_size": 23,
    "keyorder": "ff1f008b4fc653ba841d09c048e86355b58347192b6422186a963921911ca021",
    "access_index": "81db8d9208a3680ef94c5f73741907a038a8eef22bc368d492dbc22e474580b6"
  },
  {
    "checksum": "83de3aaebf47696b49e26217a21e7f6ac2bdb062ab94eb8c2b7d1fd286a01e80",
    "type": "deepfolder",
    "version": "2",
    "date": "2025-02-14",
    "latest": true,
    "nkeys": 7,
    "index_size": 577,
    "content_size": 32,
    "keyorder": "c0ef33ef25cd6452bdb7d9f5950a4a6f2062d503a4b068f4f784543272a33f15",
    "access_index": "81db8d9208a3680ef94c5f73741907a038a8eef22bc368d492dbc22e474580b6"
  }
]"#;

    #[test]
    fn reads_seamless_records_and_writes_them_back_in_the_same_shape() {
        let records = parse(GOLDEN.as_bytes()).expect("parses");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].date.as_deref(), Some("2025-02-14"));
        assert!(records[1].latest && !records[0].latest);
        let written = to_vec(&records);
        assert_eq!(written, format!("{GOLDEN}\n").as_bytes());
    }

    #[test]
    fn zero_counts_and_unknown_fields_survive_a_round_trip() {
        let text = GOLDEN.replacen("\"nkeys\": 6,\n", "", 1).replacen(
            "\"version\": \"1\",",
            "\"version\": \"1\",\n    \"note\": [1],",
            1,
        );
        let records = parse(text.as_bytes()).expect("parses");
        assert_eq!(records[0].nkeys, 0);
        let again = String::from_utf8(to_vec(&records)).expect("utf8");
        assert!(again.contains("\"nkeys\": 0,"), "{again}");
        assert_eq!(
            parse(again.as_bytes()).expect("again")[0].extra["note"],
            serde_json::json!([1])
        );
    }

    #[test]
    fn groups_and_releases() {
        let records = parse(GOLDEN.as_bytes()).expect("parses");
        let mut other = records[0].clone();
        assert!(other.same_release(&records[0]));
        other.version = Some("3".into());
        assert!(other.compatible(&records[0]) && !other.same_release(&records[0]));
        assert_eq!(base_of(&records, &other), Some(1));
        other.format = Some("json".into());
        assert_eq!(base_of(&records, &other), None);
        assert_eq!(
            records[1].describe(),
            "version 2, date 2025-02-14 (deepfolder)"
        );
    }
}
