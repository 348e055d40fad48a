//! The plain encoding: the exact bytes of every JSON value the catalogue hashes
//! (collections, keyorders, download and access indexes), as Seamless writes them.
//!
//! Two-space indentation, `": "` separators, keys sorted by code point, non-ASCII as
//! raw UTF-8, and exactly one trailing newline. `serde_json::to_vec_pretty` gives
//! these bytes as long as maps are sorted, which holds because the workspace keeps
//! serde_json's `preserve_order` feature off.

use rayon::prelude::*;
use serde::Serialize;

/// The plain bytes of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The plain bytes of a list of strings (a keyorder), as `to_vec` writes them.
pub fn string_list<S: AsRef<str> + Sync>(items: &[S]) -> Vec<u8> {
    join_in_parallel(items, b'[', b']', |out, item| write_str(out, item.as_ref()))
}

/// The plain bytes of a list (`open` `[`) or map (`{`) whose items at depth 1 are
/// each written by `write` (after their indentation), as `to_vec` writes them but in
/// parallel chunks and without a serializer call per item: keyorders and access
/// indexes have millions of items, scattered in memory.
pub fn join_in_parallel<T: Sync>(
    items: &[T],
    open: u8,
    close: u8,
    write: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> Vec<u8> {
    if items.is_empty() {
        return vec![open, close, b'\n'];
    }
    let chunks: Vec<Vec<u8>> = items
        .par_chunks(1 << 14)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 32);
            for item in chunk {
                out.extend_from_slice(b",\n  ");
                write(&mut out, item);
            }
            out
        })
        .collect();
    let mut out = Vec::with_capacity(chunks.iter().map(Vec::len).sum::<usize>() + 4);
    out.push(open);
    for (i, chunk) in chunks.iter().enumerate() {
        // The first item follows the opening bracket without a comma.
        out.extend_from_slice(if i == 0 { &chunk[1..] } else { chunk });
    }
    out.extend_from_slice(&[b'\n', close, b'\n']);
    out
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
    fn string_lists_are_written_as_the_serializer_writes_them() {
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
            assert_eq!(
                String::from_utf8(string_list(items)).expect("utf8"),
                String::from_utf8(to_vec(items).expect("plain")).expect("utf8")
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
