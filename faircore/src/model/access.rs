//! Where elements can be downloaded: URL infos, download indexes (key → URL
//! infos, `download_indices/<collection>.json`) and access indexes (element
//! checksum → URL infos, `access_index/<checksum>`), the latter built from the
//! former at snapshot time.
//!
//! Indexes of millions of entries are read borrowing their strings from the file's
//! bytes, kept as vectors sorted by key, and joined in one pass: no map of owned
//! strings is built.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::{Checksum, plain};

/// One place an element can be downloaded from: `{url, compression?, celltype?}`
/// plus any other field a hand-written index carries, kept as it is. Written as an
/// object with sorted keys; read from an object or from a bare URL string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlInfo<'a> {
    url: Cow<'a, str>,
    compression: Option<Cow<'a, str>>,
    celltype: Option<Cow<'a, str>>,
    /// Other fields, sorted by name.
    extra: Vec<(String, Value)>,
}

impl UrlInfo<'static> {
    /// A URL info with its optional compression and celltype.
    pub fn new(url: String, compression: Option<String>, celltype: Option<String>) -> Self {
        UrlInfo {
            url: Cow::Owned(url),
            compression: compression.map(Cow::Owned),
            celltype: celltype.map(Cow::Owned),
            extra: Vec::new(),
        }
    }
}

impl UrlInfo<'_> {
    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How the download is compressed, if it is.
    pub fn compression(&self) -> Option<&str> {
        self.compression.as_deref()
    }

    /// Whether the URL gives the element's bytes as they are: neither compressed
    /// nor in another cell type.
    pub fn is_exact(&self) -> bool {
        self.compression.is_none() && self.celltype.is_none()
    }
}

impl Serialize for UrlInfo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let known = [
            ("celltype", self.celltype.as_deref()),
            ("compression", self.compression.as_deref()),
            ("url", Some(&*self.url)),
        ];
        let mut map = serializer.serialize_map(None)?;
        let mut extra = self.extra.iter().peekable();
        for (name, value) in known {
            while let Some((k, v)) = extra.next_if(|(k, _)| k.as_str() < name) {
                map.serialize_entry(k, v)?;
            }
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        for (k, v) in extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A string borrowed from the input when it has no escapes.
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for UrlInfo<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UrlInfo<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL string or an object with a string field \"url\"")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<UrlInfo<'de>, E> {
                Ok(UrlInfo::from_url(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<UrlInfo<'de>, E> {
                Ok(UrlInfo::from_url(Cow::Owned(v.to_owned())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UrlInfo<'de>, A::Error> {
                let (mut url, mut compression, mut celltype) = (None, None, None);
                let mut extra = Vec::new();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    match &*key {
                        "url" => url = Some(map.next_value::<Text<'de>>()?.0),
                        "compression" => compression = Some(map.next_value::<Text<'de>>()?.0),
                        "celltype" => celltype = Some(map.next_value::<Text<'de>>()?.0),
                        _ => extra.push((key.into_owned(), map.next_value::<Value>()?)),
                    }
                }
                let url = url.ok_or_else(|| de::Error::missing_field("url"))?;
                extra.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(UrlInfo {
                    url,
                    compression,
                    celltype,
                    extra,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'a> UrlInfo<'a> {
    fn from_url(url: Cow<'a, str>) -> Self {
        UrlInfo {
            url,
            compression: None,
            celltype: None,
            extra: Vec::new(),
        }
    }
}

/// A JSON object read into a vector of entries in file order, keys borrowed.
struct Entries<'a, K>(Vec<(K, Vec<UrlInfo<'a>>)>);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for Entries<'de, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<K>(std::marker::PhantomData<K>);
        impl<'de, K: Deserialize<'de>> Visitor<'de> for V<K> {
            type Value = Entries<'de, K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of lists of URL infos")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Reads an access index file from `reader` entry by entry, checking every
/// element checksum and URL info, in constant memory; returns its number of
/// entries. What `fair verify` does to access indexes of millions of elements.
pub fn check_index(reader: impl std::io::Read) -> serde_json::Result<u64> {
    struct Counting;
    impl<'de> Visitor<'de> for Counting {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of lists of URL infos")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
            let mut n = 0;
            while map.next_entry::<Checksum, Vec<UrlInfo<'de>>>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    let n = Deserializer::deserialize_map(&mut de, Counting)?;
    de.end()?;
    Ok(n)
}

/// An access index: entries sorted by element checksum, each checksum once.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AccessIndex<'a>(Vec<(Checksum, Vec<UrlInfo<'a>>)>);

impl<'a> AccessIndex<'a> {
    /// Parses the bytes of an access index file, borrowing from them.
    pub fn parse(bytes: &'a [u8]) -> serde_json::Result<Self> {
        let Entries(mut entries) = serde_json::from_slice::<Entries<'a, Checksum>>(bytes)?;
        // A repeated checksum keeps its last value, as a map would.
        entries.reverse();
        entries.sort_by_key(|e| e.0);
        entries.dedup_by(|a, b| a.0 == b.0);
        Ok(AccessIndex(entries))
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URLs of `checksum`.
    pub fn get(&self, checksum: &Checksum) -> Option<&[UrlInfo<'a>]> {
        let i = self.0.binary_search_by(|(c, _)| c.cmp(checksum)).ok()?;
        Some(&self.0[i].1)
    }

    /// Lays `new` over `self`: an element of both takes its URLs from `new`.
    pub fn merge(self, new: AccessIndex<'a>) -> AccessIndex<'a> {
        let mut merged = Vec::with_capacity(self.0.len() + new.0.len());
        let mut old = self.0.into_iter().peekable();
        for (checksum, urls) in new.0 {
            while let Some(entry) = old.next_if(|(c, _)| *c < checksum) {
                merged.push(entry);
            }
            old.next_if(|(c, _)| *c == checksum);
            merged.push((checksum, urls));
        }
        merged.extend(old);
        AccessIndex(merged)
    }
}

impl AccessIndex<'_> {
    /// The plain bytes, as `plain::to_vec` writes them, in parallel.
    pub fn to_plain(&self) -> Vec<u8> {
        plain::join_in_parallel(&self.0, b'{', b'}', |out, (checksum, urls)| {
            out.push(b'"');
            out.extend_from_slice(checksum.to_hex().as_bytes());
            out.extend_from_slice(b"\": ");
            write_urls(out, urls);
        })
    }
}

/// Appends the plain bytes of a list of URL infos at depth 1.
fn write_urls(out: &mut Vec<u8>, urls: &[UrlInfo<'_>]) {
    if urls.iter().any(|u| !u.extra.is_empty()) {
        // Rare: any JSON value. Serialised at depth 0, then indented one level
        // (a raw newline is always formatting: strings escape theirs).
        let bytes = serde_json::to_vec_pretty(urls).unwrap_or_default();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\n  ");
            }
            out.extend_from_slice(line);
        }
        return;
    }
    if urls.is_empty() {
        out.extend_from_slice(b"[]");
        return;
    }
    out.push(b'[');
    for (i, info) in urls.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n    {" } else { b",\n    {" });
        let fields = [
            ("celltype", info.celltype.as_deref()),
            ("compression", info.compression.as_deref()),
            ("url", Some(&*info.url)),
        ];
        let mut first = true;
        for (name, value) in fields {
            let Some(value) = value else { continue };
            out.extend_from_slice(if first { b"\n      \"" } else { b",\n      \"" });
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\": ");
            plain::write_str(out, value);
            first = false;
        }
        out.extend_from_slice(b"\n    }");
    }
    out.extend_from_slice(b"\n  ]");
}

impl Serialize for AccessIndex<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(c, urls)| (c, urls)))
    }
}

/// A download index: key → the URLs of its element.
pub type DownloadIndex = BTreeMap<String, Vec<UrlInfo<'static>>>;

/// What re-keying a download index by checksum found.
#[derive(Debug, Default)]
pub struct Rekeyed<'a> {
    /// The access index.
    pub index: AccessIndex<'a>,
    /// Keys of the collection the download index has no URL for.
    pub without_urls: usize,
    /// Keys of the download index that are not in the collection (ignored).
    pub stale: usize,
}

/// Re-keys the download index `bytes` by the element checksums of `entries`.
/// Keys holding the same content pool their URLs (each URL once, in key order):
/// every one of them serves those bytes.
pub fn rekey<'a, K: AsRef<str>>(
    entries: &[(K, Checksum)],
    bytes: &'a [u8],
) -> serde_json::Result<Rekeyed<'a>> {
    let Entries(mut download) = serde_json::from_slice::<Entries<'a, Text<'a>>>(bytes)?;
    if !download.is_sorted_by(|a, b| a.0.0 <= b.0.0) {
        download.sort_by(|a, b| a.0.0.cmp(&b.0.0));
    }
    let mut rekeyed = Rekeyed::default();
    let mut pairs = Vec::with_capacity(entries.len());
    let mut keys = entries.iter().peekable();
    for (Text(key), urls) in download {
        while keys.next_if(|(k, _)| k.as_ref() < &*key).is_some() {
            rekeyed.without_urls += 1;
        }
        match keys.next_if(|(k, _)| k.as_ref() == &*key) {
            Some((_, checksum)) => pairs.push((*checksum, urls)),
            None => rekeyed.stale += 1,
        }
    }
    rekeyed.without_urls += keys.count();
    // Stable: equal contents pool their URLs in key order.
    pairs.sort_by_key(|p| p.0);
    let mut index: Vec<(Checksum, Vec<UrlInfo<'a>>)> = Vec::with_capacity(pairs.len());
    for (checksum, urls) in pairs {
        match index.last_mut() {
            Some((last, pooled)) if *last == checksum => {
                for url in urls {
                    if !pooled.contains(&url) {
                        pooled.push(url);
                    }
                }
            }
            _ => index.push((checksum, urls)),
        }
    }
    rekeyed.index = AccessIndex(index);
    Ok(rekeyed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HashAlgo;

    fn sum(text: &str) -> Checksum {
        HashAlgo::Blake3.hash(text.as_bytes())
    }

    fn url(u: &str) -> UrlInfo<'static> {
        UrlInfo::new(u.into(), None, None)
    }

    #[test]
    fn url_infos_read_strings_and_objects_and_write_sorted_objects() {
        let text = r#"["http://a/x", {"url": "http://b/x.gz", "compression": "gzip", "mirror": "eu", "a": 1}]"#;
        let infos: Vec<UrlInfo> = serde_json::from_str(text).expect("parses");
        assert_eq!(infos[0], url("http://a/x"));
        assert_eq!(infos[1].compression(), Some("gzip"));
        let bytes = plain::to_vec(&infos[1]).expect("plain");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            "{\n  \"a\": 1,\n  \"compression\": \"gzip\",\n  \"mirror\": \"eu\",\n  \"url\": \"http://b/x.gz\"\n}\n"
        );
        let err = serde_json::from_str::<UrlInfo>(r#"{"href": "x"}"#).expect_err("no url");
        assert!(err.to_string().contains("`url`"), "{err}");
    }

    #[test]
    fn rekeying_pools_equal_contents_and_counts_mismatches() {
        let entries = [("a", sum("same")), ("b", sum("same")), ("c", sum("other"))];
        let download = DownloadIndex::from([
            ("a".into(), vec![url("http://m/a"), url("http://m/shared")]),
            ("b".into(), vec![url("http://m/shared"), url("http://m/b")]),
            ("gone".into(), vec![url("http://m/gone")]),
        ]);
        let bytes = plain::to_vec(&download).expect("plain");
        let rekeyed = rekey(&entries, &bytes).expect("rekeys");
        assert_eq!(
            rekeyed.index.get(&sum("same")).expect("pooled"),
            [url("http://m/a"), url("http://m/shared"), url("http://m/b")]
        );
        assert_eq!(rekeyed.index.len(), 1);
        assert_eq!((rekeyed.without_urls, rekeyed.stale), (1, 1));
        let old = AccessIndex(vec![
            (sum("old"), vec![url("o")]),
            (sum("same"), vec![url("x")]),
        ]);
        let mut old = old;
        old.0.sort_by_key(|e| e.0);
        let merged = old.merge(rekeyed.index);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged.get(&sum("same")).map(<[_]>::len), Some(3));
        let bytes = merged.to_plain();
        assert_eq!(bytes, plain::to_vec(&merged).expect("plain"));
        assert_eq!(AccessIndex::parse(&bytes).expect("parses"), merged);
    }

    #[test]
    fn the_parallel_writer_writes_what_the_serializer_writes() {
        let text = r#"{
            "a": [],
            "b": ["http://m/\"quoted\"", {"url": "u", "celltype": "text", "compression": "gzip"}],
            "c": [{"url": "http://m/ü\n", "mirror": {"region": ["eu", 1]}, "z": null}]
        }"#;
        let download: BTreeMap<String, Vec<UrlInfo>> = serde_json::from_str(text).expect("parses");
        let index = AccessIndex(
            download
                .into_values()
                .enumerate()
                .map(|(i, urls)| (sum(&i.to_string()), urls))
                .collect(),
        );
        let mut index = index;
        index.0.sort_by_key(|e| e.0);
        let bytes = index.to_plain();
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            String::from_utf8(plain::to_vec(&index).expect("plain")).expect("utf8")
        );
        assert_eq!(AccessIndex::default().to_plain(), b"{}\n");
    }

    #[test]
    fn an_unsorted_hand_written_download_index_is_read_too() {
        let entries = [("a", sum("1")), ("b", sum("2"))];
        let bytes = br#"{"b": ["http://m/b"], "a": [{"url": "http://m/\u0061"}]}"#;
        let rekeyed = rekey(&entries, bytes).expect("rekeys");
        assert_eq!(rekeyed.index.get(&sum("1")), Some(&[url("http://m/a")][..]));
        assert_eq!((rekeyed.without_urls, rekeyed.stale), (0, 0));
    }
}
