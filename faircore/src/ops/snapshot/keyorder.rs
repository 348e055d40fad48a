//! The keyorder of a new distribution ([`crate::keyorder`]), built from the
//! collection file and the previous keyorder file in memory bounded by a few
//! bytes a key: keys are never held, only their indexes in the collection.
//!
//! 1. The old keyorder's keys are sorted externally and joined with the
//!    collection (sorted by key): each old slot gets its key's index, or
//!    [`GONE`].
//! 2. The keys no slot holds get the prefix of their shuffle checksum and are
//!    sorted by it (a third pass settles ties).
//! 3. The order of indexes is computed; the keys, read again with their
//!    position, are sorted externally by it and written as the plain list into a
//!    content-addressed file.

use std::path::Path;

use rayon::prelude::*;

use super::open;
use crate::keyorder::{self, GONE};
use crate::spill::{BUDGET, Spill};
use crate::stream::EntryStream;
use crate::{Checksum, ContentDir, Error, HashAlgo, Result, Writer, plain};

/// Keys hashed together on the thread pool.
const CHUNK: usize = 1 << 14;

/// Writes the keyorder of the collection at `collection` that follows the
/// keyorder file `old` (none for a first distribution) into `keyorder/`;
/// returns its checksum and the number of keys. Errors: a file that cannot be
/// read or parsed (naming it), a scratch file that cannot be written.
pub(super) fn build(
    writer: &Writer<'_>,
    collection: &Path,
    old: Option<&Path>,
) -> Result<(Checksum, u64)> {
    let algo = writer.catalogue().hash();
    let scratch = writer.staging().dir();
    let (slots, known) = match old {
        Some(old) => slots(scratch, collection, old)?,
        None => (Vec::new(), 0),
    };
    let mut survives = vec![false; known];
    for &i in slots.iter().filter(|&&i| i != GONE) {
        survives[i as usize] = true;
    }
    let (mut added, n) = new_keys(collection, &survives, algo)?;
    drop(survives);
    keyorder::shuffle(&mut added, |tied| full_checksums(collection, tied, algo))?;
    let order = keyorder::order(&slots, n, added.iter().map(|&(_, i)| i));
    drop((slots, added));
    let mut position = vec![0u32; n];
    for (p, &i) in order.iter().enumerate() {
        position[i as usize] = p as u32;
    }
    drop(order);

    let mut by_position = Spill::new(scratch, BUDGET);
    let mut keys = EntryStream::open(collection)?;
    let mut i = 0;
    while keys.advance()? {
        by_position.push(&position[i].to_be_bytes(), keys.raw_key())?;
        i += 1;
    }
    drop(position);
    let out = writer.content_stream(ContentDir::Keyorder)?;
    let mut list = plain::Items::list(out);
    let mut sorted = by_position.sorted()?;
    let failed = |e| Error::io(scratch, e);
    while let Some((_, raw)) = sorted.next()? {
        // The collection is plain: its keys are escaped as the list escapes them.
        list.push(|out| {
            out.push(b'"');
            out.extend_from_slice(raw);
            out.push(b'"');
        })
        .map_err(failed)?;
    }
    let (out, count) = list.finish().map_err(failed)?;
    let (checksum, _) = out.finish()?;
    Ok((checksum, count))
}

/// The old keyorder at `old` as slots (each slot's key as its index among the
/// keys of `collection`, or [`GONE`]), and the number of keys of `collection`.
fn slots(scratch: &Path, collection: &Path, old: &Path) -> Result<(Vec<u32>, usize)> {
    let mut by_key = Spill::new(scratch, BUDGET);
    let mut slot: u64 = 0;
    let mut failed = None;
    keyorder::for_each(open(old)?, |key| {
        if failed.is_none() {
            failed = by_key.push(key.as_bytes(), &slot.to_le_bytes()).err();
        }
        slot += 1;
    })
    .map_err(|source| Error::Json {
        path: old.to_owned(),
        source,
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut slots = vec![GONE; index(slot, old)?];
    let mut keys = EntryStream::open(collection)?;
    let mut current = keys.next().transpose()?;
    let mut i: u64 = 0;
    let mut sorted = by_key.sorted()?;
    while let Some((key, slot)) = sorted.next()? {
        while current.as_ref().is_some_and(|(k, _)| k.as_bytes() < key) {
            current = keys.next().transpose()?;
            i += 1;
        }
        if current.as_ref().is_some_and(|(k, _)| k.as_bytes() == key) {
            let mut at = [0; 8];
            at.copy_from_slice(slot);
            slots[u64::from_le_bytes(at) as usize] = index(i, collection)? as u32;
        }
    }
    while current.is_some() {
        current = keys.next().transpose()?;
        i += 1;
    }
    Ok((slots, index(i, collection)?))
}

/// `n` as a number of keys, which must fit the 32-bit indexes of a keyorder.
fn index(n: u64, path: &Path) -> Result<usize> {
    if n >= u64::from(GONE) {
        return Err(Error::invalid(
            path.display(),
            format!("{n} keys: a keyorder holds fewer than {GONE}"),
        ));
    }
    Ok(n as usize)
}

/// The keys of `collection` that do not survive, as (shuffle checksum prefix,
/// index), and the number of keys.
fn new_keys(
    collection: &Path,
    survives: &[bool],
    algo: HashAlgo,
) -> Result<(Vec<(u64, u32)>, usize)> {
    let mut added = Vec::new();
    let mut chunk: Vec<(u32, String)> = Vec::with_capacity(CHUNK);
    let hash = |chunk: &mut Vec<(u32, String)>, added: &mut Vec<(u64, u32)>| {
        added.par_extend(chunk.par_iter().map_init(Vec::new, |buffer, (i, key)| {
            (
                keyorder::prefix(&keyorder::shuffle_checksum(key, algo, buffer)),
                *i,
            )
        }));
        chunk.clear();
    };
    let mut n = 0;
    for entry in EntryStream::open(collection)? {
        let (key, _) = entry?;
        if !survives.get(n).copied().unwrap_or(false) {
            chunk.push((index(n as u64, collection)? as u32, key));
            if chunk.len() == CHUNK {
                hash(&mut chunk, &mut added);
            }
        }
        n += 1;
    }
    hash(&mut chunk, &mut added);
    Ok((added, n))
}

/// The shuffle checksums of the keys at indexes `tied` (sorted) of `collection`.
fn full_checksums(collection: &Path, tied: &[u32], algo: HashAlgo) -> Result<Vec<Checksum>> {
    let mut sums = Vec::with_capacity(tied.len());
    let mut buffer = Vec::new();
    for (i, entry) in EntryStream::open(collection)?.enumerate() {
        let (key, _) = entry?;
        if tied.binary_search(&(i as u32)).is_ok() {
            sums.push(keyorder::shuffle_checksum(&key, algo, &mut buffer));
        }
    }
    Ok(sums)
}
