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

/// The entries of a plain collection file, in key order.
#[derive(Debug)]
pub struct EntryStream<R> {
    reader: R,
    path: PathBuf,
    line: String,
    number: usize,
    previous: Option<String>,
    done: bool,
}

impl EntryStream<BufReader<File>> {
    /// Opens the collection file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        EntryStream::new(BufReader::with_capacity(256 << 10, file), path)
    }
}

impl<R: BufRead> EntryStream<R> {
    /// Reads a collection from `reader`; `path` names it in errors.
    pub fn new(reader: R, path: &Path) -> Result<Self> {
        let mut stream = EntryStream {
            reader,
            path: path.to_owned(),
            line: String::new(),
            number: 0,
            previous: None,
            done: false,
        };
        match stream.next_line()? {
            Some("{") => {}
            Some("{}") => stream.done = true,
            _ => {
                return Err(stream.error("expected `{` opening a collection in the plain encoding"));
            }
        }
        if stream.done && stream.next_line()?.is_some() {
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

    /// The next line without its newline, or `None` at the end of the file.
    fn next_line(&mut self) -> Result<Option<&str>> {
        self.line.clear();
        let read = self
            .reader
            .read_line(&mut self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(self.line.trim_end_matches(['\n', '\r'])))
    }

    fn entry(&mut self) -> Result<Option<(String, Checksum)>> {
        let Some(line) = self.next_line()? else {
            return Err(self.error("expected an entry or `}`, found the end of the file"));
        };
        if line == "}" {
            self.done = true;
            return match self.next_line()? {
                None => Ok(None),
                Some(_) => Err(self.error("expected the end of the file after `}`")),
            };
        }
        let Some((key, checksum)) = parse_entry(line) else {
            return Err(self.error(
                "expected an entry `  \"KEY\": \"CHECKSUM\",` (a plain-encoded collection)",
            ));
        };
        if self.previous.as_deref().is_some_and(|p| p >= key.as_str()) {
            return Err(self.error("keys out of order (the plain encoding sorts them)"));
        }
        self.previous = Some(key.clone());
        Ok(Some((key, checksum)))
    }
}

/// `  "KEY": "HEX",` (the comma optional) → (KEY, checksum).
fn parse_entry(line: &str) -> Option<(String, Checksum)> {
    let rest = line.strip_prefix("  \"")?;
    // The key's closing quote: the first one not escaped.
    let bytes = rest.as_bytes();
    let mut end = 0;
    let mut escaped = false;
    loop {
        match *bytes.get(end)? {
            b'\\' if !escaped => escaped = true,
            b'"' if !escaped => break,
            _ => escaped = false,
        }
        end += 1;
    }
    let raw = &rest[..end];
    let key = if raw.contains('\\') {
        serde_json::from_str(&line[2..end + 4]).ok()?
    } else {
        raw.to_owned()
    };
    let value = rest[end + 1..].strip_prefix(": \"")?;
    let value = value
        .strip_suffix("\",")
        .or_else(|| value.strip_suffix('"'))?;
    Some((key, value.parse().ok()?))
}

impl<R: BufRead> Iterator for EntryStream<R> {
    type Item = Result<(String, Checksum)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.entry() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
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
                format!("{{\n  \"a\": \"xyz\"\n}}\n"),
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
