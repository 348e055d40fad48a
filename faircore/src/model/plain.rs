//! The plain encoding: the exact bytes of every JSON value the catalogue hashes
//! (collections, keyorders, download and access indexes), as Seamless writes them.
//!
//! Two-space indentation, `": "` separators, keys sorted by code point, non-ASCII as
//! raw UTF-8, and exactly one trailing newline. `serde_json::to_vec_pretty` gives
//! these bytes as long as maps are sorted, which holds because the workspace keeps
//! serde_json's `preserve_order` feature off.

use serde::Serialize;

/// The plain bytes of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes a plain list or map item by item, as [`to_vec`] writes it, without
/// holding the items: keyorders and access indexes of millions of items.
#[derive(Debug)]
pub struct Items<W> {
    out: W,
    brackets: [u8; 2],
    count: u64,
    item: Vec<u8>,
}

impl<W: std::io::Write> Items<W> {
    /// A list (`[`…`]`) written to `out`.
    pub fn list(out: W) -> Self {
        Items::new(out, *b"[]")
    }

    /// A map (`{`…`}`) written to `out`; the caller writes each item's key.
    pub fn map(out: W) -> Self {
        Items::new(out, *b"{}")
    }

    fn new(out: W, brackets: [u8; 2]) -> Self {
        Items {
            out,
            brackets,
            count: 0,
            item: Vec::with_capacity(256),
        }
    }

    /// Writes one item at depth 1: `write` appends its bytes, after the
    /// separator and indentation.
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> std::io::Result<()> {
        self.item.clear();
        if self.count == 0 {
            self.item
                .extend_from_slice(&[self.brackets[0], b'\n', b' ', b' ']);
        } else {
            self.item.extend_from_slice(b",\n  ");
        }
        write(&mut self.item);
        self.count += 1;
        self.out.write_all(&self.item)
    }

    /// Closes the list or map; returns the writer and the number of items.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        let [open, close] = self.brackets;
        if self.count == 0 {
            self.out.write_all(&[open, close, b'\n'])?;
        } else {
            self.out.write_all(&[b'\n', close, b'\n'])?;
        }
        Ok((self.out, self.count))
    }
}

/// Appends the JSON string literal of `text`, escaped as serde_json escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // Serialising a str into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// The "str" buffer of a key: its JSON string literal plus a newline. Keyorders
/// sort new keys by the checksum of this buffer.
pub fn str_buffer(key: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(key.len() + 3);
    write_str_buffer(&mut bytes, key);
    bytes
}

/// Appends the "str" buffer of `key` to `out`.
pub fn write_str_buffer(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::HashAlgo;

    fn sha3(bytes: &[u8]) -> String {
        HashAlgo::Sha3_256.hash(bytes).to_hex()
    }

    #[test]
    fn items_are_written_as_the_serializer_writes_them() {
        let cases: [&[&str]; 3] = [
            &[],
            &["one"],
            &[
                "a/b.txt",
                "quote\"d",
                "back\\slash",
                "tab\tnew\nline\u{1}",
                "ünï €",
                "\u{7f}",
            ],
        ];
        for items in cases {
            let mut sorted = items.to_vec();
            sorted.sort();
            let mut list = Items::list(Vec::new());
            let mut map = Items::map(Vec::new());
            for (item, key) in items.iter().zip(&sorted) {
                list.push(|out| write_str(out, item)).expect("writes");
                map.push(|out| {
                    write_str(out, key);
                    out.extend_from_slice(b": ");
                    write_str(out, item);
                })
                .expect("writes");
            }
            assert_eq!(
                String::from_utf8(list.finish().expect("closes").0).expect("utf8"),
                String::from_utf8(to_vec(items).expect("plain")).expect("utf8")
            );
            let as_map: BTreeMap<&str, &str> =
                sorted.iter().copied().zip(items.iter().copied()).collect();
            assert_eq!(
                String::from_utf8(map.finish().expect("closes").0).expect("utf8"),
                String::from_utf8(to_vec(&as_map).expect("plain")).expect("utf8")
            );
            for item in items {
                let mut buffer = Vec::new();
                write_str_buffer(&mut buffer, item);
                let mut expected = serde_json::to_vec(item).expect("json");
                expected.push(b'\n');
                assert_eq!(buffer, expected, "{item:?}");
            }
        }
    }

    #[test]
    fn empty_containers() {
        let empty: BTreeMap<String, String> = BTreeMap::new();
        assert_eq!(to_vec(&empty).expect("plain"), b"{}\n");
        assert_eq!(
            sha3(&to_vec(&empty).expect("plain")),
            "d0a1b2af1705c1b8495b00145082ef7470384e62ac1c4d9b9cdbbe0476c28f8c"
        );
        let list: Vec<String> = Vec::new();
        assert_eq!(to_vec(&list).expect("plain"), b"[]\n");
        assert_eq!(
            sha3(&to_vec(&list).expect("plain")),
            "7b41ad4a50b29158e075c6463133761266adb475130b8e886f2f5649070031cf"
        );
    }

    #[test]
    fn str_buffers_of_the_reference() {
        assert_eq!(str_buffer("9.txt"), b"\"9.txt\"\n");
        assert_eq!(
            sha3(&str_buffer("8.txt")),
            "04dca13585576e08f015b48ed4a4c67dc29d685071cb5aff257278582a9d3d3f"
        );
        assert_eq!(
            sha3(&str_buffer("9.txt")),
            "31882f49a46b0b1842818337da2c1d758daa68b0b059087e3fb1c49010378f9b"
        );
    }

    #[test]
    fn keyorder_vector_of_the_reference() {
        let keys = ["8.txt", "ten.txt", "seven.txt", "9.txt", "5.txt", "six.txt"];
        let bytes = to_vec(&keys).expect("plain");
        assert_eq!(bytes.len(), 77);
        assert_eq!(
            sha3(&bytes),
            "ff1f008b4fc653ba841d09c048e86355b58347192b6422186a963921911ca021"
        );
    }

    #[test]
    fn layout_sorting_escaping_and_unicode() {
        let value = json!({
            "b": [1, {"y": null, "x": true}],
            "a": "é\u{1F600}\"\\\n\t\u{1}\u{7f}",
            "B": {},
            "é": [],
        });
        let text = String::from_utf8(to_vec(&value).expect("plain")).expect("utf-8");
        let expected = "{\n  \"B\": {},\n  \"a\": \"é\u{1F600}\\\"\\\\\\n\\t\\u0001\u{7f}\",\n  \"b\": [\n    1,\n    {\n      \"x\": true,\n      \"y\": null\n    }\n  ],\n  \"é\": []\n}\n";
        assert_eq!(text, expected);
    }
}
