//! What changed between two collections: added, removed and changed keys, found
//! by merging the two key-ordered entry streams (one pass, constant memory).

use std::cmp::Ordering;
use std::io::BufRead;

use serde::Serialize;

use crate::stream::EntryStream;
use crate::{Checksum, Result};

/// One difference, keyed; serialised as one JSON object
/// (`{"change": "added", "key": ..., "new": ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    /// In the new collection only.
    Added {
        /// The key.
        key: String,
        /// Its checksum in the new collection.
        new: Checksum,
    },
    /// In the old collection only.
    Removed {
        /// The key.
        key: String,
        /// Its checksum in the old collection.
        old: Checksum,
    },
    /// In both, with different checksums.
    Changed {
        /// The key.
        key: String,
        /// Its checksum in the old collection.
        old: Checksum,
        /// Its checksum in the new collection.
        new: Checksum,
    },
}

impl Change {
    /// The key.
    pub fn key(&self) -> &str {
        match self {
            Change::Added { key, .. }
            | Change::Removed { key, .. }
            | Change::Changed { key, .. } => key,
        }
    }

    /// The new checksum, unless the key was removed.
    pub fn new_checksum(&self) -> Option<&Checksum> {
        match self {
            Change::Added { new, .. } | Change::Changed { new, .. } => Some(new),
            Change::Removed { .. } => None,
        }
    }
}

/// The changes from the collection `old` to `new`, in key order. Both are read
/// once, side by side; equal entries are compared as bytes and never decoded. The
/// first error of either ends the diff.
pub fn diff<A: BufRead, B: BufRead>(old: EntryStream<A>, new: EntryStream<B>) -> Diff<A, B> {
    Diff {
        old,
        new,
        started: false,
        failed: false,
    }
}

/// The iterator of [`diff`].
#[derive(Debug)]
pub struct Diff<A, B> {
    old: EntryStream<A>,
    new: EntryStream<B>,
    /// Whether both streams were advanced to their first entry.
    started: bool,
    failed: bool,
}

impl<A: BufRead, B: BufRead> Diff<A, B> {
    fn order(&self) -> Result<Ordering> {
        let (old, new) = (&self.old, &self.new);
        if old.escaped() || new.escaped() {
            Ok(old.key()?.cmp(&new.key()?))
        } else {
            Ok(old.raw_key().cmp(new.raw_key()))
        }
    }

    /// The next change, or `None` at the end of both collections.
    fn step(&mut self) -> Result<Option<Change>> {
        if !self.started {
            self.started = true;
            self.old.advance()?;
            self.new.advance()?;
        }
        loop {
            let order = match (self.old.has_entry(), self.new.has_entry()) {
                (false, false) => return Ok(None),
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (true, true) => self.order()?,
            };
            let change = match order {
                Ordering::Less => Some(Change::Removed {
                    key: self.old.key()?,
                    old: self.old.checksum()?,
                }),
                Ordering::Greater => Some(Change::Added {
                    key: self.new.key()?,
                    new: self.new.checksum()?,
                }),
                Ordering::Equal if self.old.raw_checksum() != self.new.raw_checksum() => {
                    Some(Change::Changed {
                        key: self.new.key()?,
                        old: self.old.checksum()?,
                        new: self.new.checksum()?,
                    })
                }
                Ordering::Equal => None,
            };
            if order != Ordering::Greater {
                self.old.advance()?;
            }
            if order != Ordering::Less {
                self.new.advance()?;
            }
            if change.is_some() {
                return Ok(change);
            }
        }
    }
}

impl<A: BufRead, B: BufRead> Iterator for Diff<A, B> {
    type Item = Result<Change>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let step = self.step();
        self.failed = step.is_err();
        step.transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::{Collection, CollectionKind, HashAlgo};

    fn h(v: &str) -> Checksum {
        HashAlgo::Blake3.hash(v.as_bytes())
    }

    fn plain(pairs: &[(&str, &str)]) -> Vec<u8> {
        let entries: BTreeMap<String, Checksum> =
            pairs.iter().map(|(k, v)| (k.to_string(), h(v))).collect();
        Collection::new(CollectionKind::Deepfolder, entries)
            .encode(HashAlgo::Blake3)
            .bytes
    }

    fn changes(old: &[u8], new: &[u8]) -> Result<Vec<Change>> {
        let old = EntryStream::new(old, Path::new("old.json"))?;
        let new = EntryStream::new(new, Path::new("new.json"))?;
        diff(old, new).collect()
    }

    #[test]
    fn added_removed_and_changed_keys_in_key_order() {
        let old = plain(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("e", "5"),
            ("q\"x", "7"),
        ]);
        let new = plain(&[
            ("b", "2"),
            ("c", "three"),
            ("d", "4"),
            ("e", "5"),
            ("f", "6"),
            ("q\"x", "7"),
            ("q#", "8"),
        ]);
        assert_eq!(
            changes(&old, &new).expect("no error"),
            [
                Change::Removed {
                    key: "a".into(),
                    old: h("1")
                },
                Change::Changed {
                    key: "c".into(),
                    old: h("3"),
                    new: h("three")
                },
                Change::Added {
                    key: "d".into(),
                    new: h("4")
                },
                Change::Added {
                    key: "f".into(),
                    new: h("6")
                },
                // `q"x` < `q#` as keys, though `q\"x` > `q#` as written.
                Change::Added {
                    key: "q#".into(),
                    new: h("8")
                },
            ]
        );
        let json = serde_json::to_string(&Change::Changed {
            key: "c".into(),
            old: h("3"),
            new: h("three"),
        })
        .expect("serialises");
        assert_eq!(
            json,
            format!(
                r#"{{"change":"changed","key":"c","old":"{}","new":"{}"}}"#,
                h("3"),
                h("three")
            )
        );
    }

    #[test]
    fn identical_collections_have_no_change_and_an_error_ends_the_diff() {
        let same = plain(&[("a", "1"), ("b", "2")]);
        assert_eq!(changes(&same, &same).expect("no error"), []);
        assert_eq!(changes(b"{}", b"{}").expect("no error"), []);
        let broken = format!("{{\n  \"a\": \"{}\",\n  \"b\": \"xyz\"\n}}\n", h("1"));
        let old = EntryStream::new(broken.as_bytes(), Path::new("old.json")).expect("opens");
        let new = EntryStream::new(same.as_slice(), Path::new("new.json")).expect("opens");
        let results: Vec<_> = diff(old, new).collect();
        assert_eq!(results.len(), 1, "{results:?}");
        assert!(
            results[0]
                .as_ref()
                .is_err_and(|e| e.to_string().contains("old.json, line 3"))
        );
    }
}
