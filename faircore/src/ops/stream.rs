//! Collections read as a stream of entries, in key order, in constant memory: what
//! diffs and manifests of millions of keys walk through.
//!
//! It reads the plain encoding line by line (`{`, one `  "key": "checksum",` line
//! per entry, `}`): every collection fair and Seamless write has that layout, and
//! a file that does not is refused with its line number rather than guessed at.
//! Keys must be strictly increasing, as the plain encoding sorts them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::{Checksum, Error, Result};

/// The entries of a plain collection file, in key order. Besides iterating over
/// owned entries, it can be walked with [`EntryStream::advance`] and its current
/// entry looked at in place, which is what a diff of millions of mostly equal
/// entries does: equal lines are compared as bytes, never decoded.
#[derive(Debug)]
pub struct EntryStream<R> {
    reader: R,
    path: PathBuf,
    /// The current entry's line, and the previous one (for the order check).
    line: Vec<u8>,
    previous: Vec<u8>,
    /// The current entry: where its key ends in `line`, whether it has escapes.
    current: Option<Entry>,
    number: usize,
    done: bool,
}

/// Where the parts of an entry line are: `  "KEY": "HEX",`.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key_end: usize,
    escaped: bool,
}

const KEY_START: usize = 3;

impl EntryStream<BufReader<File>> {
    /// Opens the collection file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = crate::regular::open(path).map_err(|e| Error::io(path, e))?;
        EntryStream::new(BufReader::with_capacity(256 << 10, file), path)
    }
}

impl<R: BufRead> EntryStream<R> {
    /// Reads a collection from `reader`; `path` names it in errors.
    pub fn new(reader: R, path: &Path) -> Result<Self> {
        let mut stream = EntryStream {
            reader,
            path: path.to_owned(),
            line: Vec::with_capacity(256),
            previous: Vec::with_capacity(256),
            current: None,
            number: 0,
            done: false,
        };
        match stream.next_line()?.then_some(stream.line.as_slice()) {
            Some(b"{") => {}
            Some(b"{}") => stream.done = true,
            _ => {
                return Err(stream.error("expected `{` opening a collection in the plain encoding"));
            }
        }
        if stream.done && stream.next_line()? {
            return Err(stream.error("expected the end of the file after `{}`"));
        }
        Ok(stream)
    }

    fn error(&self, expected: &str) -> Error {
        Error::invalid(
            format!("{}, line {}", self.path.display(), self.number),
            expected,
        )
    }

    /// Reads the next line into `line`, without its newline; false at the end.
    fn next_line(&mut self) -> Result<bool> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        if read == 0 {
            return Ok(false);
        }
        self.number += 1;
        while matches!(self.line.last(), Some(b'\n' | b'\r')) {
            self.line.pop();
        }
        Ok(true)
    }

    /// Moves to the next entry; false at the end of the collection. An error
    /// names the file and line.
    pub fn advance(&mut self) -> Result<bool> {
        if self.done {
            self.current = None;
            return Ok(false);
        }
        std::mem::swap(&mut self.line, &mut self.previous);
        let previous = self.current.take();
        if !self.next_line()? {
            self.done = true;
            return Err(self.error("expected an entry or `}`, found the end of the file"));
        }
        if self.line == b"}" {
            self.done = true;
            if self.next_line()? {
                return Err(self.error("expected the end of the file after `}`"));
            }
            return Ok(false);
        }
        let Some(entry) = locate(&self.line) else {
            self.done = true;
            return Err(self.error(
                "expected an entry `  \"KEY\": \"CHECKSUM\",` (a plain-encoded collection)",
            ));
        };
        self.current = Some(entry);
        if let Some(previous) = previous {
            let order = if previous.escaped || entry.escaped {
                decode(&self.previous, previous)
                    .ok()
                    .cmp(&decode(&self.line, entry).ok())
            } else {
                self.previous[KEY_START..previous.key_end].cmp(&self.line[KEY_START..entry.key_end])
            };
            if order != std::cmp::Ordering::Less {
                self.done = true;
                return Err(self.error("keys out of order (the plain encoding sorts them)"));
            }
        }
        Ok(true)
    }

    /// Whether there is a current entry (after an [`EntryStream::advance`] that
    /// returned true).
    pub fn has_entry(&self) -> bool {
        self.current.is_some()
    }

    fn entry(&self) -> Entry {
        self.current.unwrap_or(Entry {
            key_end: KEY_START,
            escaped: false,
        })
    }

    /// The current key as written (JSON-escaped); with no escape in it, raw bytes
    /// compare as the keys do.
    pub fn raw_key(&self) -> &[u8] {
        self.line
            .get(KEY_START..self.entry().key_end)
            .unwrap_or_default()
    }

    /// Whether the current key has JSON escapes (so its raw bytes do not compare
    /// as the key does).
    pub fn escaped(&self) -> bool {
        self.entry().escaped
    }

    /// The current checksum's hex digits, as written.
    pub fn raw_checksum(&self) -> &[u8] {
        let start = self.entry().key_end + 4;
        self.line.get(start..start + 64).unwrap_or_default()
    }

    /// The current key, decoded.
    pub fn key(&self) -> Result<String> {
        decode(&self.line, self.entry()).map_err(|()| self.error("expected a key in UTF-8"))
    }

    /// The current checksum.
    pub fn checksum(&self) -> Result<Checksum> {
        std::str::from_utf8(self.raw_checksum())
            .ok()
            .and_then(|hex| hex.parse().ok())
            .ok_or_else(|| self.error("expected a checksum of 64 hex digits"))
    }
}

/// Where the key of `  "KEY": "HEX",` (the comma optional) ends, if the line
/// has that shape.
fn locate(line: &[u8]) -> Option<Entry> {
    let rest = line.strip_prefix(b"  \"")?;
    let mut end = 0;
    let mut escaped = false;
    let mut any_escape = false;
    loop {
        match *rest.get(end)? {
            b'\\' if !escaped => {
                escaped = true;
                any_escape = true;
            }
            b'"' if !escaped => break,
            _ => escaped = false,
        }
        end += 1;
    }
    let key_end = KEY_START + end;
    let tail = line[key_end..].strip_prefix(b"\": \"")?;
    let tail = tail.strip_suffix(b",").unwrap_or(tail);
    (tail.len() == 65 && tail[64] == b'"').then_some(Entry {
        key_end,
        escaped: any_escape,
    })
}

/// The key of `line`, unescaped; `Err` if it is not UTF-8 or not a JSON string.
fn decode(line: &[u8], entry: Entry) -> std::result::Result<String, ()> {
    if entry.escaped {
        serde_json::from_slice(&line[KEY_START - 1..=entry.key_end]).map_err(|_| ())
    } else {
        String::from_utf8(line[KEY_START..entry.key_end].to_vec()).map_err(|_| ())
    }
}

impl<R: BufRead> Iterator for EntryStream<R> {
    type Item = Result<(String, Checksum)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.advance() {
            Ok(true) => Some(self.key().and_then(|key| Ok((key, self.checksum()?)))),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Collection, CollectionKind, HashAlgo};

    fn read(bytes: &[u8]) -> Result<Vec<(String, Checksum)>> {
        EntryStream::new(bytes, Path::new("c.json"))?.collect()
    }

    #[test]
    fn reads_back_what_the_plain_encoding_writes_including_escapes() {
        let keys = [
            "a",
            "a b",
            "b\"quote",
            "back\\slash",
            "tab\t",
            "ü/ß",
            "日本",
            "z",
        ];
        let entries: BTreeMap<String, Checksum> = keys
            .iter()
            .map(|k| (k.to_string(), HashAlgo::Blake3.hash(k.as_bytes())))
            .collect();
        let encoded =
            Collection::new(CollectionKind::Deepfolder, entries.clone()).encode(HashAlgo::Blake3);
        let read = read(&encoded.bytes).expect("reads");
        assert_eq!(read, entries.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_collection_has_no_entries() {
        assert!(read(b"{}\n").expect("reads").is_empty());
        assert!(read(b"{}").expect("reads").is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_their_line() {
        let hex = "0".repeat(64);
        for (bytes, line, what) in [
            (
                format!("{{\n  \"b\": \"{hex}\",\n  \"a\": \"{hex}\"\n}}\n"),
                3,
                "out of order",
            ),
            (
                format!("{{\n  \"a\": \"{hex}\",\n  \"a\": \"{hex}\"\n}}\n"),
                3,
                "out of order",
            ),
            (format!("{{\"a\": \"{hex}\"}}"), 1, "expected `{`"),
            (
                "{\n  \"a\": \"xyz\"\n}\n".to_string(),
                2,
                "expected an entry",
            ),
            (format!("{{\n  \"a\": \"{hex}\",\n"), 2, "end of the file"),
            (format!("{{\n  \"a\": \"{hex}\"\n}}\n}}\n"), 4, "after `}`"),
            ("[]".to_string(), 1, "expected `{`"),
        ] {
            let error = read(bytes.as_bytes()).expect_err(&bytes).to_string();
            assert!(
                error.contains(&format!("c.json, line {line}")) && error.contains(what),
                "{bytes:?}: {error}"
            );
        }
    }
}
