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
use rustc_hash::FxHashMap;
use std::borrow::Cow;

use crate::access::Text;
use crate::{Checksum, HashAlgo, plain};

/// Parses a keyorder file, borrowing the keys from its bytes.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Vec<Cow<'_, str>>> {
    let texts: Vec<Text<'_>> = serde_json::from_slice(bytes)?;
    Ok(texts.into_iter().map(|t| t.0).collect())
}

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

/// The keyorder of a collection with entries `keys` (key, element checksum), given
/// the keyorder `old` of the distribution it follows (empty for the first one).
pub fn next<'a, O, K>(old: &'a [O], keys: &'a [(K, Checksum)], algo: HashAlgo) -> Vec<&'a str>
where
    O: AsRef<str> + Sync,
    K: AsRef<str> + Sync,
{
    // Each old slot's key as an index into `keys` (None: deleted), looked up in
    // parallel; then no string is hashed or compared again.
    let slots: Vec<Option<u32>> = if old.is_empty() {
        Vec::new()
    } else {
        let mut index: FxHashMap<&str, u32> = FxHashMap::default();
        index.reserve(keys.len());
        index.extend(
            keys.iter()
                .enumerate()
                .map(|(i, (k, _))| (k.as_ref(), i as u32)),
        );
        old.par_iter()
            .map(|k| index.get(k.as_ref()).copied())
            .collect()
    };
    let mut placed = vec![false; keys.len()];
    let mut survives = vec![false; keys.len()];
    for &i in slots.iter().flatten() {
        survives[i as usize] = true;
    }
    let added = shuffle(keys, &survives, algo);
    let mut added = added.into_iter();

    // Takes key `i` if it survives and was not placed yet (a key repeated in `old`
    // is placed once).
    let mut take = |slot: Option<u32>| {
        let i = slot? as usize;
        (!std::mem::replace(&mut placed[i], true)).then_some(i)
    };
    let mut order = Vec::with_capacity(keys.len());
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
    order.into_iter().map(|i| keys[i].0.as_ref()).collect()
}

/// The indexes of the keys that do not survive, sorted by the checksum of their
/// "str" buffer.
fn shuffle<K: AsRef<str> + Sync>(
    keys: &[(K, Checksum)],
    survives: &[bool],
    algo: HashAlgo,
) -> Vec<usize> {
    let mut added: Vec<(u64, u32)> = keys
        .par_iter()
        .enumerate()
        .filter(|(i, _)| !survives[*i])
        .map_init(Vec::new, |buffer, (i, (k, _))| {
            buffer.clear();
            plain::write_str_buffer(buffer, k.as_ref());
            (prefix(&algo.hash(buffer)), i as u32)
        })
        .collect();
    // Sorting 16-byte pairs by an 8-byte prefix is much faster than sorting full
    // checksums; the rare runs of equal prefixes are ordered by full checksum.
    added.par_sort_unstable();
    let full = |i: u32| {
        let mut buffer = Vec::new();
        plain::write_str_buffer(&mut buffer, keys[i as usize].0.as_ref());
        algo.hash(&buffer)
    };
    for run in added
        .chunk_by_mut(|a, b| a.0 == b.0)
        .filter(|r| r.len() > 1)
    {
        run.sort_by_cached_key(|&(_, i)| full(i));
    }
    added.into_iter().map(|(_, i)| i as usize).collect()
}

fn prefix(checksum: &Checksum) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&checksum.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyorder following `old` for the keys `new`, as owned strings.
    fn order(old: &[&str], new: &[&str], algo: HashAlgo) -> Vec<String> {
        let old: Vec<String> = old.iter().map(|s| s.to_string()).collect();
        let new: Vec<(String, Checksum)> = new
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
