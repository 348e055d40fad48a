//! `Collection`: a sorted map key → element checksum (a Seamless deep buffer), of
//! kind deepfolder (keys are relative paths) or deepcell (keys are names).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::access::Text;
use crate::{Checksum, HashAlgo, plain};

/// Whether a collection's keys are paths in a folder or names in a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionKind {
    /// Keys are relative paths with `/`.
    Deepfolder,
    /// Keys are names.
    Deepcell,
}

impl CollectionKind {
    /// The catalogue subdirectory that holds collections of this kind.
    pub const fn dir(self) -> &'static str {
        match self {
            CollectionKind::Deepfolder => "deepfolders",
            CollectionKind::Deepcell => "deepcells",
        }
    }

    /// The `type` of distribution records.
    pub const fn name(self) -> &'static str {
        match self {
            CollectionKind::Deepfolder => "deepfolder",
            CollectionKind::Deepcell => "deepcell",
        }
    }
}

/// A collection: key → element checksum, sorted by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    kind: CollectionKind,
    entries: BTreeMap<String, Checksum>,
}

/// A collection in its plain form, as written to and hashed in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The plain bytes.
    pub bytes: Vec<u8>,
    /// Their checksum: the collection's checksum.
    pub checksum: Checksum,
}

impl Collection {
    /// A collection of `kind` holding `entries`.
    pub fn new(kind: CollectionKind, entries: BTreeMap<String, Checksum>) -> Self {
        Collection { kind, entries }
    }

    /// Parses plain (or any valid JSON) bytes of a collection file.
    pub fn from_json(kind: CollectionKind, bytes: &[u8]) -> serde_json::Result<Self> {
        let entries = Entries::parse(bytes)?.0;
        let entries = entries.into_iter().map(|(k, c)| (k.into_owned(), c));
        Ok(Collection {
            kind,
            entries: entries.collect(),
        })
    }

    /// Deepfolder or deepcell.
    pub fn kind(&self) -> CollectionKind {
        self.kind
    }

    /// The entries, sorted by key.
    pub fn entries(&self) -> &BTreeMap<String, Checksum> {
        &self.entries
    }

    /// The entries, taken out of the collection.
    pub fn into_entries(self) -> BTreeMap<String, Checksum> {
        self.entries
    }

    /// The number of keys.
    pub fn nkeys(&self) -> usize {
        self.entries.len()
    }

    /// The plain bytes and their checksum under `algo`.
    pub fn encode(&self, algo: HashAlgo) -> Encoded {
        // A map of strings to checksums always serialises.
        let bytes = plain::to_vec(&self.entries).unwrap_or_default();
        let checksum = algo.hash(&bytes);
        Encoded { bytes, checksum }
    }

    /// The sum of the element sizes, each occurrence counted, given each element's
    /// size; `None` if some element's size is unknown.
    pub fn content_size(&self, mut size_of: impl FnMut(&Checksum) -> Option<u64>) -> Option<u64> {
        self.entries.values().map(&mut size_of).sum()
    }
}

/// Writes a collection's plain bytes entry by entry, in key order, hashing them
/// as they go: the same bytes as [`Collection::encode`] without holding the
/// collection, for the indexer's millions of keys.
///
/// Errors: [`std::io::ErrorKind::InvalidInput`] for a key that does not sort
/// after the previous one (by code point, as the plain encoding orders keys);
/// the writer's own errors.
#[derive(Debug)]
pub struct EncodeStream<W> {
    out: W,
    hasher: crate::hash::Hasher,
    /// The previous key, to check the order.
    last: String,
    nkeys: u64,
    /// The bytes of one entry.
    entry: Vec<u8>,
}

impl<W: std::io::Write> EncodeStream<W> {
    /// A stream writing to `out` and hashing with `algo`.
    pub fn new(out: W, algo: HashAlgo) -> Self {
        EncodeStream {
            out,
            hasher: algo.hasher(),
            last: String::new(),
            nkeys: 0,
            entry: Vec::with_capacity(256),
        }
    }

    /// Appends `key` → `checksum`; `key` must sort after every key before it.
    pub fn push(&mut self, key: &str, checksum: &Checksum) -> std::io::Result<()> {
        if self.nkeys > 0 && key <= self.last.as_str() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("collection key {key:?} does not sort after {:?}", self.last),
            ));
        }
        self.entry.clear();
        self.entry
            .extend_from_slice(if self.nkeys == 0 { b"{\n  " } else { b",\n  " });
        plain::write_str(&mut self.entry, key);
        self.entry.extend_from_slice(b": \"");
        let at = self.entry.len();
        self.entry.resize(at + 64, 0);
        // Cannot fail: the slice is exactly twice the digest length.
        let _ = hex::encode_to_slice(checksum.as_bytes(), &mut self.entry[at..]);
        self.entry.push(b'"');
        self.hasher.update(&self.entry);
        self.out.write_all(&self.entry)?;
        self.last.clear();
        self.last.push_str(key);
        self.nkeys += 1;
        Ok(())
    }

    /// The number of keys pushed so far.
    pub fn nkeys(&self) -> u64 {
        self.nkeys
    }

    /// Closes the object; returns the writer, the collection's checksum and its
    /// number of keys.
    pub fn finish(mut self) -> std::io::Result<(W, Checksum, u64)> {
        let tail: &[u8] = if self.nkeys == 0 { b"{}\n" } else { b"\n}\n" };
        self.hasher.update(tail);
        self.out.write_all(tail)?;
        Ok((self.out, self.hasher.finalize(), self.nkeys))
    }
}

/// A collection file read without copying its keys: the entries sorted by key,
/// each key once, borrowing from the file's bytes. What a snapshot of millions of
/// keys works on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Entries<'a>(Vec<(Cow<'a, str>, Checksum)>);

impl<'a> Entries<'a> {
    /// Parses the bytes of a collection file (any valid JSON object of checksums);
    /// a repeated key keeps its last value, as a map would.
    pub fn parse(bytes: &'a [u8]) -> serde_json::Result<Self> {
        let mut entries: Vec<(Cow<'a, str>, Checksum)> =
            serde_json::from_slice::<Object<'a>>(bytes)?.0;
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so the last of equal keys is the last of its run.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.reverse();
            entries.dedup_by(|later, earlier| later.0 == earlier.0);
            entries.reverse();
        }
        Ok(Entries(entries))
    }

    /// The entries, sorted by key.
    pub fn as_slice(&self) -> &[(Cow<'a, str>, Checksum)] {
        &self.0
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The plain bytes.
    pub fn to_plain(&self) -> Vec<u8> {
        // A map of strings to checksums always serialises.
        plain::to_vec(self).unwrap_or_default()
    }
}

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, c)| (k, c)))
    }
}

/// A JSON object of checksums, in file order, keys borrowed.
struct Object<'a>(Vec<(Cow<'a, str>, Checksum)>);

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of key → checksum")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Object<'de>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((Text(key), checksum)) = map.next_entry::<Text<'de>, Checksum>()? {
                    entries.push((key, checksum));
                }
                Ok(Object(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upstream six-file testset of the reference, §1.
    fn upstream_testset() -> (Collection, BTreeMap<Checksum, u64>) {
        let files: [(&str, &[u8]); 6] = [
            ("5.txt", b"five\n"),
            ("8.txt", b"8\n"),
            ("9.txt", b"nine\n"),
            ("seven.txt", b"seven\n"),
            ("six.txt", b"6\n"),
            ("ten.txt", b"10\n"),
        ];
        let mut sizes = BTreeMap::new();
        let entries = files
            .iter()
            .map(|(key, bytes)| {
                let checksum = HashAlgo::Sha3_256.hash(bytes);
                sizes.insert(checksum, bytes.len() as u64);
                (key.to_string(), checksum)
            })
            .collect();
        (Collection::new(CollectionKind::Deepfolder, entries), sizes)
    }

    #[test]
    fn upstream_deepfolder_vector() {
        let (collection, sizes) = upstream_testset();
        let encoded = collection.encode(HashAlgo::Sha3_256);
        assert_eq!(encoded.bytes.len(), 485);
        assert_eq!(
            encoded.checksum.to_hex(),
            "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41"
        );
        assert_eq!(collection.nkeys(), 6);
        assert_eq!(collection.content_size(|c| sizes.get(c).copied()), Some(23));
        assert_eq!(collection.content_size(|_| None), None);
    }

    #[test]
    fn the_stream_writes_the_bytes_and_checksum_of_encode() {
        let keys = [
            "",
            "a",
            "a-b",
            "a.b",
            "a/b",
            "a/b/c",
            "a0",
            "é",
            "\u{1F600}",
            "q\"\n",
        ];
        for n in 0..=keys.len() {
            let entries: BTreeMap<String, Checksum> = keys[..n]
                .iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), HashAlgo::Blake3.hash(&[i as u8])))
                .collect();
            let expected = Collection::new(CollectionKind::Deepfolder, entries.clone())
                .encode(HashAlgo::Sha256);
            let mut stream = EncodeStream::new(Vec::new(), HashAlgo::Sha256);
            for (key, checksum) in &entries {
                stream.push(key, checksum).expect("in order");
            }
            let (bytes, checksum, nkeys) = stream.finish().expect("finish");
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&expected.bytes)
            );
            assert_eq!((checksum, nkeys), (expected.checksum, entries.len() as u64));
        }
    }

    #[test]
    fn the_stream_refuses_a_key_out_of_order() {
        let mut stream = EncodeStream::new(Vec::new(), HashAlgo::Blake3);
        let c = HashAlgo::Blake3.hash(b"");
        stream.push("a/b", &c).expect("first");
        let err = stream.push("a.b", &c).expect_err("a.b sorts before a/b");
        assert!(
            err.to_string()
                .contains("\"a.b\" does not sort after \"a/b\""),
            "{err}"
        );
        assert!(stream.push("a/b", &c).is_err(), "a repeated key");
    }

    #[test]
    fn parses_its_own_plain_bytes() {
        let (collection, _) = upstream_testset();
        let encoded = collection.encode(HashAlgo::Sha3_256);
        let back =
            Collection::from_json(CollectionKind::Deepfolder, &encoded.bytes).expect("parses");
        assert_eq!(back, collection);
        let unsorted = b"{\"b\": \"{0}\", \"a\": \"{0}\", \"b\": \"{1}\"}";
        let unsorted = String::from_utf8_lossy(unsorted)
            .replace("{0}", &"0".repeat(64))
            .replace("{1}", &"1".repeat(64));
        let parsed =
            Collection::from_json(CollectionKind::Deepcell, unsorted.as_bytes()).expect("parses");
        let keys: Vec<&String> = parsed.entries().keys().collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(
            parsed.entries()["b"].to_hex(),
            "1".repeat(64),
            "the last value of a repeated key"
        );
        let err = Collection::from_json(CollectionKind::Deepcell, b"{\"a\": \"xyz\"}")
            .expect_err("bad checksum");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
