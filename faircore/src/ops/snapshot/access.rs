//! The access index of a new distribution: its download index re-keyed by the
//! element checksums of its collection, laid over the previous distribution's
//! index if asked, in memory bounded by the external sorts' budget.
//!
//! The download index is sorted by key externally (a hand-written one may be in
//! any order) and joined with the collection; the (element, URL infos) pairs are
//! sorted by element externally, keys holding the same content pooling their
//! URLs (each once, in key order); the previous index, sorted the same way, is
//! merged in (an element of both takes the new URLs); the result is written as
//! the plain map into a content-addressed file.

use std::fmt;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use crate::access::{UrlInfo, write_urls};
use crate::spill::{BUDGET, Sorted, Spill};
use crate::stream::EntryStream;
use crate::{Checksum, ContentDir, Error, Result, Writer, plain};

/// A new access index, published.
#[derive(Debug)]
pub(super) struct Built {
    pub checksum: Checksum,
    /// The index it was merged over.
    pub merged_from: Option<Checksum>,
    /// Keys of the collection without any URL in the download index.
    pub without_urls: usize,
    /// Keys of the download index that the collection does not have.
    pub stale: usize,
}

/// Writes the access index of the collection at `collection` from the download
/// index `download` (an open file, read from `download_path`), laid over the
/// access index `over` (its checksum and file) if given, into `access_index/`.
/// Errors: a file that cannot be read or parsed (naming it), a scratch file
/// that cannot be written.
pub(super) fn build(
    writer: &Writer<'_>,
    collection: &Path,
    (download, download_path): (impl Read, &Path),
    over: Option<(Checksum, &Path)>,
) -> Result<Built> {
    let scratch = writer.staging().dir();
    let mut by_key = Spill::new(scratch, BUDGET);
    read_index::<String>(download, download_path, |key, urls| by_key.push(key, urls))?;
    let mut by_element = Spill::new(scratch, BUDGET);
    let (mut without_urls, mut stale) = (0, 0);
    let mut keys = EntryStream::open(collection)?;
    let mut current = keys.next().transpose()?;
    let mut by_key = by_key.sorted()?;
    while let Some((key, urls)) = by_key.next()? {
        while current.as_ref().is_some_and(|(k, _)| k.as_bytes() < key) {
            without_urls += 1;
            current = keys.next().transpose()?;
        }
        match &current {
            // A key repeated in the download index: its first entry counts.
            Some((k, element)) if k.as_bytes() == key => {
                by_element.push(element.as_bytes(), urls)?;
                current = keys.next().transpose()?;
            }
            _ => stale += 1,
        }
    }
    while current.is_some() {
        without_urls += 1;
        current = keys.next().transpose()?;
    }
    drop(by_key);
    let mut previous = Spill::new(scratch, BUDGET);
    if let Some((_, path)) = over {
        read_index::<Checksum>(super::open(path)?, path, |element, urls| {
            previous.push(element, urls)
        })?;
    }

    let failed = |e| Error::io(scratch, e);
    let mut new = Groups::new(by_element.sorted()?)?;
    let mut old = Groups::new(previous.sorted()?)?;
    let mut index = plain::Items::map(writer.content_stream(ContentDir::AccessIndex)?);
    loop {
        let order = match (new.key(), old.key()) {
            (None, None) => break,
            (Some(n), Some(o)) => n.cmp(o),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        let (element, urls) = if order.is_gt() {
            // An element of the old index only: a repeated one keeps its last
            // entry, as a map would.
            let (element, entries) = old.take()?;
            let last = entries.last().map(Vec::as_slice).unwrap_or(b"[]");
            (element, parse(last, scratch)?)
        } else {
            if order.is_eq() {
                old.take()?;
            }
            let (element, entries) = new.take()?;
            let mut pooled: Vec<UrlInfo<'static>> = Vec::new();
            for entry in &entries {
                for url in parse(entry, scratch)? {
                    if !pooled.contains(&url) {
                        pooled.push(url);
                    }
                }
            }
            (element, pooled)
        };
        index
            .push(|out| {
                out.push(b'"');
                out.extend_from_slice(hex::encode(&element).as_bytes());
                out.extend_from_slice(b"\": ");
                write_urls(out, &urls);
            })
            .map_err(failed)?;
    }
    let (out, _) = index.finish().map_err(failed)?;
    let (checksum, _) = out.finish()?;
    Ok(Built {
        checksum,
        merged_from: over.map(|(c, _)| c),
        without_urls,
        stale,
    })
}

/// URL infos as the external sorts carry them (compact JSON), owned again.
fn parse(bytes: &[u8], scratch: &Path) -> Result<Vec<UrlInfo<'static>>> {
    let urls: Vec<UrlInfo<'_>> = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: scratch.to_owned(),
        source,
    })?;
    Ok(urls.into_iter().map(UrlInfo::into_owned).collect())
}

/// The records of a sorted stream grouped by key: each key once, with the
/// values of its records in order.
struct Groups {
    sorted: Sorted,
    next: Option<(Vec<u8>, Vec<u8>)>,
}

impl Groups {
    fn new(mut sorted: Sorted) -> Result<Self> {
        let next = sorted.next()?.map(|(k, v)| (k.to_vec(), v.to_vec()));
        Ok(Groups { sorted, next })
    }

    /// The key of the next group.
    fn key(&self) -> Option<&[u8]> {
        self.next.as_ref().map(|(k, _)| k.as_slice())
    }

    /// The next group: its key and values (none at the end).
    fn take(&mut self) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        let Some((key, value)) = self.next.take() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let mut values = vec![value];
        while let Some((k, v)) = self.sorted.next()? {
            if k != key.as_slice() {
                self.next = Some((k.to_vec(), v.to_vec()));
                break;
            }
            values.push(v.to_vec());
        }
        Ok((key, values))
    }
}

/// A key of an index file: a download index's keys, an access index's element
/// checksums.
trait IndexKey<'de>: de::Deserialize<'de> {
    fn bytes(&self) -> &[u8];
}

impl IndexKey<'_> for String {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl IndexKey<'_> for Checksum {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Reads the index file `reader` (at `path`), an object of key → list of URL
/// infos, entry by entry, handing `entry` each key's bytes and its URL infos as
/// compact JSON.
fn read_index<K: for<'de> IndexKey<'de>>(
    reader: impl Read,
    path: &Path,
    entry: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut reader =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, reader));
    let mut each = Each::<K, _> {
        entry,
        failed: None,
        key: std::marker::PhantomData,
    };
    let parsed = (&mut each)
        .deserialize(&mut reader)
        .and_then(|()| reader.end());
    if let Some(e) = each.failed {
        return Err(e);
    }
    parsed.map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })
}

struct Each<K, F> {
    entry: F,
    /// What `entry` failed with (the parse is stopped with a bare error).
    failed: Option<Error>,
    key: std::marker::PhantomData<K>,
}

impl<'de, K: IndexKey<'de>, F: FnMut(&[u8], &[u8]) -> Result<()>> DeserializeSeed<'de>
    for &mut Each<K, F>
{
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, K: IndexKey<'de>, F: FnMut(&[u8], &[u8]) -> Result<()>> Visitor<'de> for &mut Each<K, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of lists of URL infos")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut urls = Vec::new();
        while let Some(key) = map.next_key::<K>()? {
            let infos: Vec<UrlInfo<'de>> = map.next_value()?;
            urls.clear();
            serde_json::to_writer(&mut urls, &infos).map_err(de::Error::custom)?;
            if let Err(e) = (self.entry)(key.bytes(), &urls) {
                self.failed = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Catalogue, Config, HashAlgo};

    fn sum(text: &str) -> Checksum {
        HashAlgo::Blake3.hash(text.as_bytes())
    }

    fn urls(list: &[&str]) -> Vec<UrlInfo<'static>> {
        list.iter()
            .map(|u| UrlInfo::new(u.to_string(), None, None))
            .collect()
    }

    type Index = BTreeMap<Checksum, Vec<UrlInfo<'static>>>;

    /// Builds the access index of `entries` from the download index text
    /// `download`, over `over` if given; returns it parsed, with the counts.
    fn built(
        entries: &[(&str, Checksum)],
        download: &str,
        over: Option<&Index>,
    ) -> (Index, usize, usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("cat");
        let catalogue = Catalogue::init(&root, Config::new(HashAlgo::Blake3, None)).expect("init");
        let writer = catalogue.writer().expect("writer");
        let collection = dir.path().join("collection.json");
        let sorted: BTreeMap<&str, Checksum> = entries.iter().copied().collect();
        std::fs::write(&collection, plain::to_vec(&sorted).expect("plain")).expect("write");
        let download_path = dir.path().join("download.json");
        let over_path = dir.path().join("over");
        let over = over.map(|index| {
            std::fs::write(&over_path, plain::to_vec(index).expect("plain")).expect("write");
            (sum("over"), over_path.as_path())
        });
        let built = build(
            &writer,
            &collection,
            (download.as_bytes(), &download_path),
            over,
        )
        .expect("builds");
        let path = catalogue
            .layout()
            .content(ContentDir::AccessIndex, &built.checksum);
        let bytes = std::fs::read(path).expect("published");
        assert_eq!(HashAlgo::Blake3.hash(&bytes), built.checksum);
        let index: BTreeMap<Checksum, Vec<UrlInfo>> =
            serde_json::from_slice(&bytes).expect("parses");
        assert_eq!(plain::to_vec(&index).expect("plain"), bytes, "plain form");
        let index = index
            .into_iter()
            .map(|(c, u)| (c, u.into_iter().map(UrlInfo::into_owned).collect()))
            .collect();
        (index, built.without_urls, built.stale)
    }

    #[test]
    fn equal_contents_pool_their_urls_and_mismatches_are_counted() {
        let entries = [("a", sum("same")), ("b", sum("same")), ("c", sum("other"))];
        let download = r#"{
            "a": ["http://m/a", "http://m/shared"],
            "b": ["http://m/shared", {"url": "http://m/b"}],
            "gone": ["http://m/gone"]
        }"#;
        let (index, without, stale) = built(&entries, download, None);
        assert_eq!(
            index,
            Index::from([(
                sum("same"),
                urls(&["http://m/a", "http://m/shared", "http://m/b"])
            )])
        );
        assert_eq!((without, stale), (1, 1));
    }

    #[test]
    fn an_unsorted_hand_written_download_index_with_a_repeated_key_is_read() {
        let entries = [("a", sum("1")), ("b", sum("2"))];
        let download =
            r#"{"b": ["http://m/b"], "a": [{"url": "http://m/\u0061"}], "b": ["http://m/again"]}"#;
        let (index, without, stale) = built(&entries, download, None);
        assert_eq!(index.get(&sum("1")), Some(&urls(&["http://m/a"])));
        // The first of a repeated key counts; the second is stale.
        assert_eq!(index.get(&sum("2")), Some(&urls(&["http://m/b"])));
        assert_eq!((without, stale), (0, 1));
    }

    #[test]
    fn the_new_index_is_laid_over_the_old_one() {
        let entries = [("a", sum("same")), ("c", sum("new"))];
        let download = r#"{"a": ["http://m/a"], "c": ["http://m/c"]}"#;
        let old = Index::from([
            (sum("old"), urls(&["http://o/old"])),
            (sum("same"), urls(&["http://o/same"])),
        ]);
        let (index, _, _) = built(&entries, download, Some(&old));
        assert_eq!(
            index,
            Index::from([
                (sum("old"), urls(&["http://o/old"])),
                (sum("same"), urls(&["http://m/a"])),
                (sum("new"), urls(&["http://m/c"])),
            ])
        );
    }
}
