//! Where elements can be downloaded: URL infos, download indexes (key → URL
//! infos, `download_indices/<collection>.json`) and access indexes (element
//! checksum → URL infos, `access_index/<checksum>`), the latter built from the
//! former at snapshot time.
//!
//! Indexes of millions of entries are never held: `fair snapshot` joins them in
//! key order through external sorts (`ops::snapshot`), `fair verify` reads them
//! entry by entry ([`check_index`]).

use std::borrow::Cow;
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
    /// The same URL info, owning its strings.
    pub fn into_owned(self) -> UrlInfo<'static> {
        UrlInfo {
            url: Cow::Owned(self.url.into_owned()),
            compression: self.compression.map(|c| Cow::Owned(c.into_owned())),
            celltype: self.celltype.map(|c| Cow::Owned(c.into_owned())),
            extra: self.extra,
        }
    }

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

/// Appends the plain bytes of a list of URL infos at depth 1.
pub(crate) fn write_urls(out: &mut Vec<u8>, urls: &[UrlInfo<'_>]) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

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
    fn url_lists_are_written_as_the_serializer_writes_them() {
        let text = r#"{
            "a": [],
            "b": ["http://m/\"quoted\"", {"url": "u", "celltype": "text", "compression": "gzip"}],
            "c": [{"url": "http://m/ü\n", "mirror": {"region": ["eu", 1]}, "z": null}]
        }"#;
        let index: BTreeMap<String, Vec<UrlInfo>> = serde_json::from_str(text).expect("parses");
        let mut items = plain::Items::map(Vec::new());
        for (key, urls) in &index {
            items
                .push(|out| {
                    plain::write_str(out, key);
                    out.extend_from_slice(b": ");
                    write_urls(out, urls);
                })
                .expect("writes");
        }
        let (bytes, count) = items.finish().expect("closes");
        assert_eq!(count, 3);
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            String::from_utf8(plain::to_vec(&index).expect("plain")).expect("utf8")
        );
    }
}
