//! Where elements can be downloaded: URL infos, download indexes (key → URL
//! infos, `download_indices/<collection>.json`) and access indexes (element
//! checksum → URL infos, `access_index/<checksum>`), the latter built from the
//! former at snapshot time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Checksum;

/// One place an element can be downloaded from: `{url, compression?, celltype?}`
/// plus any other field a hand-written index carries, kept as it is. Stored as an
/// object with sorted keys; read from an object or from a bare URL string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UrlInfo(Map<String, Value>);

impl UrlInfo {
    /// A URL info with its optional compression and celltype.
    pub fn new(url: String, compression: Option<String>, celltype: Option<String>) -> Self {
        let mut map = Map::new();
        map.insert("url".into(), Value::String(url));
        for (field, value) in [("compression", compression), ("celltype", celltype)] {
            if let Some(value) = value {
                map.insert(field.into(), Value::String(value));
            }
        }
        UrlInfo(map)
    }

    /// The URL.
    pub fn url(&self) -> &str {
        self.0
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// How the download is compressed, if it is.
    pub fn compression(&self) -> Option<&str> {
        self.0.get("compression").and_then(Value::as_str)
    }
}

impl<'de> Deserialize<'de> for UrlInfo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(deserializer)? {
            Value::String(url) => Ok(UrlInfo::new(url, None, None)),
            Value::Object(map) if map.get("url").is_some_and(Value::is_string) => Ok(UrlInfo(map)),
            _ => Err(D::Error::custom(
                "expected a URL string or an object with a string field \"url\"",
            )),
        }
    }
}

/// Key → the URLs of its element.
pub type DownloadIndex = BTreeMap<String, Vec<UrlInfo>>;

/// Element checksum → the URLs of that content.
pub type AccessIndex = BTreeMap<Checksum, Vec<UrlInfo>>;

/// What re-keying a download index by checksum found.
#[derive(Debug, Default)]
pub struct Rekeyed {
    /// The access index.
    pub index: AccessIndex,
    /// Keys of the collection the download index has no URL for.
    pub without_urls: usize,
    /// Keys of the download index that are not in the collection (ignored).
    pub stale: usize,
}

/// Re-keys `download` by the element checksums of `entries`. Keys holding the same
/// content pool their URLs (each URL once, in key order): every one of them serves
/// those bytes.
pub fn rekey(entries: &BTreeMap<String, Checksum>, download: DownloadIndex) -> Rekeyed {
    let mut rekeyed = Rekeyed::default();
    for (key, infos) in download {
        let Some(checksum) = entries.get(&key) else {
            rekeyed.stale += 1;
            continue;
        };
        let urls = rekeyed.index.entry(*checksum).or_default();
        for info in infos {
            if !urls.contains(&info) {
                urls.push(info);
            }
        }
    }
    rekeyed.without_urls = entries
        .values()
        .filter(|c| !rekeyed.index.contains_key(c))
        .count();
    rekeyed
}

/// Lays `new` over `old`: an element of both takes its URLs from `new`.
pub fn merge(mut old: AccessIndex, new: AccessIndex) -> AccessIndex {
    old.extend(new);
    old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HashAlgo;

    fn sum(text: &str) -> Checksum {
        HashAlgo::Blake3.hash(text.as_bytes())
    }

    #[test]
    fn url_infos_read_strings_and_objects_and_write_sorted_objects() {
        let infos: Vec<UrlInfo> = serde_json::from_str(
            r#"["http://a/x", {"url": "http://b/x.gz", "compression": "gzip", "mirror": "eu"}]"#,
        )
        .expect("parses");
        assert_eq!(infos[0], UrlInfo::new("http://a/x".into(), None, None));
        assert_eq!(infos[1].compression(), Some("gzip"));
        let bytes = crate::plain::to_vec(&infos[1]).expect("plain");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            "{\n  \"compression\": \"gzip\",\n  \"mirror\": \"eu\",\n  \"url\": \"http://b/x.gz\"\n}\n"
        );
        let err = serde_json::from_str::<UrlInfo>(r#"{"href": "x"}"#).expect_err("no url");
        assert!(err.to_string().contains("\"url\""), "{err}");
    }

    #[test]
    fn rekeying_pools_equal_contents_and_counts_mismatches() {
        let entries = BTreeMap::from([
            ("a".to_string(), sum("same")),
            ("b".to_string(), sum("same")),
            ("c".to_string(), sum("other")),
        ]);
        let url = |u: &str| UrlInfo::new(u.into(), None, None);
        let download = DownloadIndex::from([
            ("a".into(), vec![url("http://m/a"), url("http://m/shared")]),
            ("b".into(), vec![url("http://m/shared"), url("http://m/b")]),
            ("gone".into(), vec![url("http://m/gone")]),
        ]);
        let rekeyed = rekey(&entries, download);
        assert_eq!(
            rekeyed.index[&sum("same")],
            [url("http://m/a"), url("http://m/shared"), url("http://m/b")]
        );
        assert_eq!(rekeyed.index.len(), 1);
        assert_eq!((rekeyed.without_urls, rekeyed.stale), (1, 1));
        let merged = merge(
            AccessIndex::from([(sum("old"), vec![url("o")]), (sum("same"), vec![url("x")])]),
            rekeyed.index,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[&sum("same")].len(), 3);
    }
}
