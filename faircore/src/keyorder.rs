//! Keyorders: the keys of a distribution in an order that stays stable across
//! versions, so a consumer can reuse results computed on chunks of an older one.
//!
//! A key that survives keeps its slot; a slot whose key is gone takes the next new
//! key (new keys are shuffled deterministically, by the checksum of their "str"
//! buffer); when new keys run out, the slot takes the last surviving key from the
//! tail; leftover new keys are appended. Unlike Seamless's implementation, the
//! result holds exactly the new keys, each once (its tail pull could keep a deleted
//! key).

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;

use crate::{Checksum, HashAlgo, plain};

/// The keyorder of a collection with keys `keys`, given the keyorder `old` of the
/// distribution it follows (empty for the first one).
pub fn next<'a>(
    old: &'a [String],
    keys: &'a BTreeMap<String, Checksum>,
    algo: HashAlgo,
) -> Vec<&'a str> {
    let old_set: HashSet<&str> = old.iter().map(String::as_str).collect();
    let mut added: Vec<(Checksum, &str)> = keys
        .par_iter()
        .filter(|(k, _)| !old_set.contains(k.as_str()))
        .map(|(k, _)| (algo.hash(&plain::str_buffer(k)), k.as_str()))
        .collect();
    added.par_sort_unstable();
    let mut added = added.into_iter().map(|(_, k)| k);

    // A key is placed once: a second occurrence in `old` counts as gone.
    let mut placed: HashSet<&str> = HashSet::with_capacity(keys.len());
    let survives =
        |key: &'a str, placed: &HashSet<&str>| keys.contains_key(key) && !placed.contains(key);
    let mut order = Vec::with_capacity(keys.len());
    let (mut i, mut end) = (0, old.len());
    while i < end {
        let key = old[i].as_str();
        i += 1;
        if survives(key, &placed) {
            placed.insert(key);
            order.push(key);
        } else if let Some(new) = added.next() {
            order.push(new);
        } else {
            // Pull the last surviving key of the unvisited tail into this slot.
            while end > i && !survives(old[end - 1].as_str(), &placed) {
                end -= 1;
            }
            if end > i {
                end -= 1;
                placed.insert(old[end].as_str());
                order.push(old[end].as_str());
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
