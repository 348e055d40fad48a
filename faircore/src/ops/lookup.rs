//! Looking up elements in an access index file without loading it: one scan
//! records where each element's entry starts (16 bytes per element: a prefix of
//! its checksum and an offset), then each lookup reads just that entry.
//!
//! The file must be in the plain encoding, as every access index fair or Seamless
//! writes is: one `  "CHECKSUM": [` line opening each entry, in checksum order.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::access::UrlInfo;
use crate::{Checksum, Error, Result};

/// An access index file, ready for lookups.
#[derive(Debug)]
pub struct AccessLookup {
    file: File,
    path: PathBuf,
    /// (first 8 bytes of the element checksum, offset of its entry line), in
    /// file order, so sorted; then the end of the last entry.
    starts: Vec<(u64, u64)>,
    end: u64,
}

impl AccessLookup {
    /// Scans the access index at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = crate::regular::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = BufReader::with_capacity(256 << 10, &file);
        let mut line = Vec::with_capacity(256);
        let mut starts = Vec::new();
        let (mut offset, mut number, mut end) = (0u64, 0usize, None);
        let refuse = |number: usize, what: &str| {
            Error::invalid(format!("{}, line {number}", path.display()), what)
        };
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(path, e))?;
            if read == 0 {
                break;
            }
            number += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            if let Some(rest) = text.strip_prefix(b"  \"") {
                let checksum = rest
                    .get(..64)
                    .and_then(|hex| std::str::from_utf8(hex).ok()?.parse::<Checksum>().ok())
                    .filter(|_| rest.get(64..) == Some(b"\": [".as_slice()))
                    .ok_or_else(|| refuse(number, "expected `  \"CHECKSUM\": [` opening an entry (a plain-encoded access index)"))?;
                let prefix = prefix(&checksum);
                if starts.last().is_some_and(|&(p, _)| p > prefix) {
                    return Err(refuse(
                        number,
                        "elements out of order (the plain encoding sorts them)",
                    ));
                }
                starts.push((prefix, offset));
            } else if text == b"}" || (number == 1 && text == b"{}") {
                end = Some(if text == b"}" {
                    offset
                } else {
                    offset + read as u64
                });
            }
            offset += read as u64;
        }
        let end = end.ok_or_else(|| refuse(number, "expected `}` closing the access index"))?;
        Ok(AccessLookup {
            file,
            path: path.to_owned(),
            starts,
            end,
        })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the index has no element.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Reads the URL infos of `element` into `buffer` (as the JSON list they are
    /// written as); false if the index does not have it.
    pub fn read(&self, element: &Checksum, buffer: &mut Vec<u8>) -> Result<bool> {
        let wanted = prefix(element);
        let first = self.starts.partition_point(|&(p, _)| p < wanted);
        let hex = element.to_hex();
        for i in first..self.starts.len() {
            let (p, start) = self.starts[i];
            if p != wanted {
                break;
            }
            let end = self.starts.get(i + 1).map_or(self.end, |&(_, s)| s);
            let length = usize::try_from(end - start).unwrap_or(usize::MAX);
            buffer.clear();
            buffer.resize(length, 0);
            self.file
                .read_exact_at(buffer, start)
                .map_err(|e| Error::io(&self.path, e))?;
            // `  "HEX": [ ... ],\n`: keep the list.
            if buffer.get(3..67) != Some(hex.as_bytes()) {
                continue;
            }
            buffer.drain(..70);
            while matches!(buffer.last(), Some(b'\n' | b',' | b' ')) {
                buffer.pop();
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// The URL infos of `element`, parsed from `buffer` filled by [`Self::read`].
    pub fn parse<'b>(&self, buffer: &'b [u8]) -> Result<Vec<UrlInfo<'b>>> {
        serde_json::from_slice(buffer).map_err(|e| {
            Error::invalid(
                self.path.display(),
                format!("an entry is not a list of URL infos: {e}"),
            )
        })
    }
}

fn prefix(checksum: &Checksum) -> u64 {
    let bytes = checksum.as_bytes();
    u64::from_be_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::HashAlgo;

    #[test]
    fn every_element_is_found_with_its_urls_and_others_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        let mut json = serde_json::Map::new();
        for i in 0..500u32 {
            let element = HashAlgo::Blake3.hash(&i.to_le_bytes());
            let urls = if i % 2 == 0 {
                serde_json::json!([{"url": format!("https://a.example/{i}")}])
            } else {
                serde_json::json!([{"url": format!("https://b.example/{i}.gz"), "compression": "gzip"}, format!("https://c.example/{i}")])
            };
            json.insert(element.to_hex(), urls);
        }
        let bytes = crate::plain::to_vec(&json).expect("plain");
        std::fs::write(&path, &bytes).expect("write");
        let index: BTreeMap<Checksum, Vec<UrlInfo>> =
            serde_json::from_slice(&bytes).expect("parses");
        let lookup = AccessLookup::open(&path).expect("scans");
        assert_eq!(lookup.len(), 500);
        let mut buffer = Vec::new();
        for i in 0..600u32 {
            let element = HashAlgo::Blake3.hash(&i.to_le_bytes());
            let found = lookup.read(&element, &mut buffer).expect("reads");
            assert_eq!(found, i < 500, "{i}");
            if found {
                let urls = lookup.parse(&buffer).expect("parses");
                assert_eq!(Some(&urls), index.get(&element), "{i}");
            }
        }
    }

    #[test]
    fn an_empty_index_and_a_bad_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        std::fs::write(&path, b"{}\n").expect("write");
        assert!(AccessLookup::open(&path).expect("scans").is_empty());
        std::fs::write(&path, b"{\"a\": []}").expect("write");
        let error = AccessLookup::open(&path)
            .expect_err("compact JSON")
            .to_string();
        assert!(error.contains("line 1"), "{error}");
    }
}
