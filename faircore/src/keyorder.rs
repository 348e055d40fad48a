//! Keyorders: the keys of a distribution in an order that stays stable across
//! versions, so a consumer can reuse results computed on chunks of an older one.
//!
//! A key that survives keeps its slot; a slot whose key is gone takes the next new
//! key (new keys are shuffled deterministically, by the checksum of their "str"
//! buffer); when new keys run out, the slot takes the last surviving key from the
//! tail; leftover new keys are appended. Unlike Seamless's implementation, the
//! result holds exactly the new keys, each once (its tail pull could keep a deleted
//! key).

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::access::Text;
use crate::{Checksum, HashAlgo, plain};

/// Parses a keyorder file, borrowing the keys from its bytes.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Vec<Cow<'_, str>>> {
    let texts: Vec<Text<'_>> = serde_json::from_slice(bytes)?;
    Ok(texts.into_iter().map(|t| t.0).collect())
}

/// Where a key of the new collection stands while the keyorder is built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not in the old keyorder: a new key.
    New,
    /// In the old keyorder, not placed yet.
    Survives,
    /// In the new keyorder already.
    Placed,
}

/// The keyorder of a collection with keys `keys`, given the keyorder `old` of the
/// distribution it follows (empty for the first one).
pub fn next<'a, S: AsRef<str> + Sync>(
    old: &'a [S],
    keys: &'a BTreeMap<String, Checksum>,
    algo: HashAlgo,
) -> Vec<&'a str> {
    let mut state: FxHashMap<&str, State> = FxHashMap::default();
    if !old.is_empty() {
        state.reserve(keys.len());
        state.extend(keys.keys().map(|k| (k.as_str(), State::New)));
        for key in old {
            if let Some(s) = state.get_mut(key.as_ref()) {
                *s = State::Survives;
            }
        }
    }
    let mut added: Vec<(Checksum, &str)> = keys
        .par_iter()
        .filter(|(k, _)| state.get(k.as_str()).is_none_or(|s| *s == State::New))
        .map_init(Vec::new, |buffer, (k, _)| {
            buffer.clear();
            plain::write_str_buffer(buffer, k);
            (algo.hash(buffer), k.as_str())
        })
        .collect();
    added.par_sort_unstable();
    let mut added = added.into_iter().map(|(_, k)| k);

    // Takes `key` if it survives and was not placed yet (a key repeated in `old`
    // is placed once).
    let mut take = |key: &'a str| match state.get_mut(key) {
        Some(s) if *s == State::Survives => {
            *s = State::Placed;
            Some(key)
        }
        _ => None,
    };
    let mut order = Vec::with_capacity(keys.len());
    let (mut i, mut end) = (0, old.len());
    while i < end {
        let key = old[i].as_ref();
        i += 1;
        if let Some(key) = take(key) {
            order.push(key);
        } else if let Some(new) = added.next() {
            order.push(new);
        } else {
            // Pull the last surviving key of the unvisited tail into this slot.
            while end > i {
                end -= 1;
                if let Some(key) = take(old[end].as_ref()) {
                    order.push(key);
                    break;
                }
            }
        }
    }
    order.extend(added);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyorder following `old` for the keys `new`, as owned strings.
    fn order(old: &[&str], new: &[&str], algo: HashAlgo) -> Vec<String> {
        let old: Vec<String> = old.iter().map(|s| s.to_string()).collect();
        let new: BTreeMap<String, Checksum> = new
            .iter()
            .map(|k| (k.to_string(), algo.hash(k.as_bytes())))
            .collect();
        next(&old, &new, algo)
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn txt(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| format!("{s}.txt")).collect()
    }

    #[test]
    fn the_reference_example() {
        let old = txt(&["8", "ten", "seven", "9", "5", "six"]);
        let new = txt(&["5", "9", "six", "ten", "eleven", "twelve", "thirteen"]);
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let got = order(&old, &new, HashAlgo::Sha3_256);
        assert_eq!(
            got,
            txt(&["thirteen", "ten", "twelve", "9", "5", "six", "eleven"])
        );
    }

    #[test]
    fn the_first_keyorder_is_the_str_checksum_shuffle() {
        // "8.txt"\n hashes to 04dc..., "9.txt"\n to 3188... (reference §1).
        let got = order(&[], &["9.txt", "8.txt"], HashAlgo::Sha3_256);
        assert_eq!(got, ["8.txt", "9.txt"]);
    }

    #[test]
    fn a_tail_pull_never_keeps_a_deleted_key() {
        // Seamless gives [a, d, c] here.
        let got = order(&["a", "b", "c", "d", "e"], &["a", "c"], HashAlgo::Sha3_256);
        assert_eq!(got, ["a", "c"]);
        let got = order(
            &["a", "b", "c", "d", "e", "f"],
            &["a", "d", "f"],
            HashAlgo::Blake3,
        );
        assert_eq!(got, ["a", "f", "d"]);
    }

    #[test]
    fn duplicates_and_deleted_keys_of_an_old_keyorder_are_dropped() {
        let got = order(&["a", "x", "a", "b"], &["a", "b"], HashAlgo::Blake3);
        assert_eq!(got, ["a", "b"]);
    }
}
