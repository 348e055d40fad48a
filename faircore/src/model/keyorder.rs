//! Keyorders: the keys of a distribution in an order that stays stable across
//! versions, so a consumer can reuse results computed on chunks of an older one.
//!
//! A key that survives keeps its slot; a slot whose key is gone takes the next new
//! key (new keys are shuffled deterministically, by the checksum of their "str"
//! buffer); when new keys run out, the slot takes the last surviving key from the
//! tail; leftover new keys are appended. Unlike Seamless's implementation, the
//! result holds exactly the new keys, each once (its tail pull could keep a deleted
//! key).

use rayon::prelude::*;

use crate::access::Text;
use crate::{Checksum, HashAlgo, plain};

/// Reads a keyorder file from `reader` key by key, handing each to `key`, in
/// constant memory; returns the number of keys.
pub fn for_each(reader: impl std::io::Read, mut key: impl FnMut(&str)) -> serde_json::Result<u64> {
    struct Each<F>(F);
    impl<'de, F: FnMut(&str)> serde::de::Visitor<'de> for Each<F> {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of keys")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<u64, A::Error> {
            let mut n = 0;
            while let Some(Text(k)) = seq.next_element::<Text<'de>>()? {
                (self.0)(&k);
                n += 1;
            }
            Ok(n)
        }
    }
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    let n = serde::Deserializer::deserialize_seq(&mut de, Each(&mut key))?;
    de.end()?;
    Ok(n)
}

/// An old slot whose key the new collection does not have.
pub const GONE: u32 = u32::MAX;

/// The keyorder of a collection of `n` keys, as indexes into its keys in key
/// order, given the old keyorder as `slots` (each slot's key as an index into
/// the new keys, or [`GONE`]) and the keys no slot holds, shuffled
/// ([`shuffle`]).
pub fn order(slots: &[u32], n: usize, added: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut placed = vec![false; n];
    let mut added = added.into_iter();
    // Takes key `i` if it survives and was not placed yet (a key repeated in the
    // old keyorder is placed once).
    let mut take = |slot: u32| {
        let i = slot as usize;
        (slot != GONE && !std::mem::replace(&mut placed[i], true)).then_some(slot)
    };
    let mut order = Vec::with_capacity(n);
    let (mut s, mut end) = (0, slots.len());
    while s < end {
        let slot = slots[s];
        s += 1;
        if let Some(i) = take(slot) {
            order.push(i);
        } else if let Some(new) = added.next() {
            order.push(new);
        } else {
            // Pull the last surviving key of the unvisited tail into this slot.
            while end > s {
                end -= 1;
                if let Some(i) = take(slots[end]) {
                    order.push(i);
                    break;
                }
            }
        }
    }
    order.extend(added);
    order
}

/// The checksum of the "str" buffer of `key`, by which new keys are shuffled.
pub fn shuffle_checksum(key: &str, algo: HashAlgo, buffer: &mut Vec<u8>) -> Checksum {
    buffer.clear();
    plain::write_str_buffer(buffer, key);
    algo.hash(buffer)
}

/// The first 8 bytes of a shuffle checksum, as a number: sorting by it orders
/// the keys as their checksums do, but for ties.
pub fn prefix(checksum: &Checksum) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&checksum.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

/// Sorts new keys given as (checksum [`prefix`], index) by their shuffle
/// checksum, then index; `full` gives the whole checksums of the indexes whose
/// prefixes tie (rare), each tie once, in index order. Sorting 16-byte pairs is
/// much faster than sorting full checksums.
pub fn shuffle<E>(
    added: &mut [(u64, u32)],
    full: impl FnOnce(&[u32]) -> Result<Vec<Checksum>, E>,
) -> Result<(), E> {
    added.par_sort_unstable();
    let mut tied: Vec<u32> = added
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .flat_map(|run| run.iter().map(|&(_, i)| i))
        .collect();
    if tied.is_empty() {
        return Ok(());
    }
    tied.sort_unstable();
    let sums = full(&tied)?;
    let sum_of = |i: u32| tied.binary_search(&i).ok().map(|at| sums[at]);
    for run in added
        .chunk_by_mut(|a, b| a.0 == b.0)
        .filter(|r| r.len() > 1)
    {
        run.sort_by_key(|&(_, i)| (sum_of(i), i));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyorder following `old` for the keys `new` (sorted here), as the
    /// snapshot builds it.
    fn order_of(old: &[&str], new: &[&str], algo: HashAlgo) -> Vec<String> {
        let mut keys: Vec<&str> = new.to_vec();
        keys.sort();
        let slots: Vec<u32> = old
            .iter()
            .map(|k| keys.binary_search(k).map_or(GONE, |i| i as u32))
            .collect();
        let sum = |i: u32| shuffle_checksum(keys[i as usize], algo, &mut Vec::new());
        let full = |tied: &[u32]| Ok::<_, ()>(tied.iter().map(|&i| sum(i)).collect());
        let mut added: Vec<(u64, u32)> = (0..keys.len() as u32)
            .filter(|i| !slots.contains(i))
            .map(|i| (prefix(&sum(i)), i))
            .collect();
        // With every prefix tied, the full checksums order them the same way.
        let mut tied: Vec<(u64, u32)> = added.iter().map(|&(_, i)| (0, i)).collect();
        shuffle(&mut added, full).expect("no error");
        shuffle(&mut tied, full).expect("no error");
        let indexes = |pairs: &[(u64, u32)]| pairs.iter().map(|&(_, i)| i).collect::<Vec<_>>();
        assert_eq!(indexes(&added), indexes(&tied));
        order(&slots, keys.len(), indexes(&added))
            .into_iter()
            .map(|i| keys[i as usize].to_string())
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
        let got = order_of(&old, &new, HashAlgo::Sha3_256);
        assert_eq!(
            got,
            txt(&["thirteen", "ten", "twelve", "9", "5", "six", "eleven"])
        );
    }

    #[test]
    fn the_first_keyorder_is_the_str_checksum_shuffle() {
        // "8.txt"\n hashes to 04dc..., "9.txt"\n to 3188... (reference §1).
        let got = order_of(&[], &["9.txt", "8.txt"], HashAlgo::Sha3_256);
        assert_eq!(got, ["8.txt", "9.txt"]);
    }

    #[test]
    fn a_tail_pull_never_keeps_a_deleted_key() {
        // Seamless gives [a, d, c] here.
        let got = order_of(&["a", "b", "c", "d", "e"], &["a", "c"], HashAlgo::Sha3_256);
        assert_eq!(got, ["a", "c"]);
        let got = order_of(
            &["a", "b", "c", "d", "e", "f"],
            &["a", "d", "f"],
            HashAlgo::Blake3,
        );
        assert_eq!(got, ["a", "f", "d"]);
    }

    #[test]
    fn duplicates_and_deleted_keys_of_an_old_keyorder_are_dropped() {
        let got = order_of(&["a", "x", "a", "b"], &["a", "b"], HashAlgo::Blake3);
        assert_eq!(got, ["a", "b"]);
    }
}
