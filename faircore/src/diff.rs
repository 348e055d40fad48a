//! What changed between two collections: added, removed and changed keys, found
//! by merging the two key-ordered entry streams (one pass, constant memory).

use std::iter::Peekable;

use serde::Serialize;

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

/// The changes from `old` to `new`, two streams of entries in increasing key order
/// (as [`crate::stream::EntryStream`] reads them), in key order. The first error of
/// either stream ends it.
pub fn diff<A, B>(old: A, new: B) -> Diff<A, B>
where
    A: Iterator<Item = Result<(String, Checksum)>>,
    B: Iterator<Item = Result<(String, Checksum)>>,
{
    Diff {
        old: old.peekable(),
        new: new.peekable(),
        failed: false,
    }
}

/// The iterator of [`diff`].
pub struct Diff<A: Iterator, B: Iterator> {
    old: Peekable<A>,
    new: Peekable<B>,
    failed: bool,
}

impl<A: Iterator, B: Iterator> std::fmt::Debug for Diff<A, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diff")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<A, B> Iterator for Diff<A, B>
where
    A: Iterator<Item = Result<(String, Checksum)>>,
    B: Iterator<Item = Result<(String, Checksum)>>,
{
    type Item = Result<Change>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            if matches!(self.old.peek(), Some(Err(_))) || matches!(self.new.peek(), Some(Err(_))) {
                self.failed = true;
                let error = match self.old.next_if(Result::is_err) {
                    Some(Err(e)) => e,
                    _ => match self.new.next() {
                        Some(Err(e)) => e,
                        _ => unreachable!("one of the two peeked an error"),
                    },
                };
                return Some(Err(error));
            }
            let order = match (self.old.peek(), self.new.peek()) {
                (None, None) => return None,
                (Some(Ok((a, _))), Some(Ok((b, _)))) => a.cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                _ => unreachable!("errors were taken above"),
            };
            let (old, new) = match order {
                std::cmp::Ordering::Less => (self.old.next(), None),
                std::cmp::Ordering::Greater => (None, self.new.next()),
                std::cmp::Ordering::Equal => (self.old.next(), self.new.next()),
            };
            let change = match (old, new) {
                (Some(Ok((key, old))), None) => Change::Removed { key, old },
                (None, Some(Ok((key, new)))) => Change::Added { key, new },
                (Some(Ok((key, old))), Some(Ok((_, new)))) if old != new => {
                    Change::Changed { key, old, new }
                }
                _ => continue,
            };
            return Some(Ok(change));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, HashAlgo};

    fn entries(pairs: &[(&str, &str)]) -> Vec<Result<(String, Checksum)>> {
        pairs
            .iter()
            .map(|(k, v)| Ok((k.to_string(), HashAlgo::Blake3.hash(v.as_bytes()))))
            .collect()
    }

    #[test]
    fn added_removed_and_changed_keys_in_key_order() {
        let old = entries(&[("a", "1"), ("b", "2"), ("c", "3"), ("e", "5")]);
        let new = entries(&[
            ("b", "2"),
            ("c", "three"),
            ("d", "4"),
            ("e", "5"),
            ("f", "6"),
        ]);
        let h = |v: &str| HashAlgo::Blake3.hash(v.as_bytes());
        let changes: Vec<Change> = diff(old.into_iter(), new.into_iter())
            .collect::<Result<_>>()
            .expect("no error");
        assert_eq!(
            changes,
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
            ]
        );
        let json = serde_json::to_string(&changes[1]).expect("serialises");
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
        let same = || entries(&[("a", "1"), ("b", "2")]).into_iter();
        assert_eq!(diff(same(), same()).count(), 0);
        let mut broken = entries(&[("a", "1")]);
        broken.push(Err(Error::invalid("c.json, line 3", "bad")));
        let results: Vec<_> = diff(broken.into_iter(), same()).collect();
        assert_eq!(results.len(), 1, "{results:?}");
        assert!(
            results[0]
                .as_ref()
                .is_err_and(|e| e.to_string().contains("line 3"))
        );
    }
}
