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

/// The "str" buffer of a key: its JSON string literal plus a newline. Keyorders
/// sort new keys by the checksum of this buffer.
pub fn str_buffer(key: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(key.len() + 3);
    write_str_buffer(&mut bytes, key);
    bytes
}

/// Appends the "str" buffer of `key` to `out`.
pub fn write_str_buffer(out: &mut Vec<u8>, key: &str) {
    // Serialising a str into a vector cannot fail.
    let _ = serde_json::to_writer(&mut *out, key);
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
