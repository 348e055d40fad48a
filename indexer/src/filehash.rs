//! Hashing one file: read once, with its extra digests and optionally copied in
//! the same pass, and checked not to have changed while it was read.
//!
//! Files are read, never memory-mapped: a mapped file truncated by another
//! process while it is hashed kills the reader with SIGBUS, where a read just
//! ends early and the stat comparison reports the change.

use std::fs::File;
use std::io::{self, Read, Write};

use faircore::digest::ExtraHasher;
use faircore::{Checksum, ExtraAlgo, ExtraDigests, HashAlgo};

use crate::stat::{self, FileStat};

/// The read buffer of each worker.
const READ_CHUNK: usize = 1 << 20;

thread_local! {
    /// Each worker's read buffer, allocated once.
    static BUFFER: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

/// What reading a file gave.
#[derive(Debug)]
pub enum Outcome {
    /// The checksum and extra digests of the content the file had while it had
    /// `stat`.
    Hashed(Checksum, ExtraDigests),
    /// The file changed while it was read (its stat now differs from `before`).
    Changed,
}

/// Hashes the open `file`, which had `before` when it was looked at, with
/// `algo` and the `extra` algorithms, writing the bytes to `copy` as well when
/// given.
pub fn hash_file(
    mut file: File,
    before: &FileStat,
    algo: HashAlgo,
    extra: &[ExtraAlgo],
    mut copy: Option<&mut File>,
) -> io::Result<Outcome> {
    let mut hasher = algo.hasher();
    let mut extra = ExtraHasher::new(extra);
    let mut feed = |bytes: &[u8]| -> io::Result<()> {
        hasher.update(bytes);
        extra.update(bytes);
        match copy.as_mut() {
            Some(out) => out.write_all(bytes),
            None => Ok(()),
        }
    };
    BUFFER.with_borrow_mut(|buf| -> io::Result<()> {
        let mut left = before.size;
        while left > 0 {
            let n = match file.read(buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            feed(&buf[..n])?;
            left = left.saturating_sub(n as u64);
        }
        Ok(())
    })?;
    let after = stat::file_stat(&stat::stat_of(&file)?);
    if after != *before {
        return Ok(Outcome::Changed);
    }
    Ok(Outcome::Hashed(hasher.finalize(), extra.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::Path;

    fn stat_of(path: &Path) -> FileStat {
        FileStat::from(&std::fs::metadata(path).expect("stat"))
    }

    #[test]
    fn files_of_every_size_hash_like_the_one_shot_hash_and_copy_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        for size in [0usize, 1, 4096, READ_CHUNK + 7, 3 * READ_CHUNK] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &data).expect("write");
            let mut copy = tempfile::tempfile().expect("tmp");
            let out = hash_file(
                File::open(&path).expect("open"),
                &stat_of(&path),
                HashAlgo::Blake3,
                &[ExtraAlgo::Sha256],
                Some(&mut copy),
            )
            .expect("hash");
            let Outcome::Hashed(c, extra) = out else {
                panic!("size {size}: {out:?}")
            };
            assert_eq!(c, HashAlgo::Blake3.hash(&data), "size {size}");
            let sha256 = HashAlgo::Sha256.hash(&data);
            assert_eq!(
                extra.sha256.as_ref(),
                Some(sha256.as_bytes()),
                "size {size}"
            );
            assert_eq!(extra.md5, None, "not asked for");
            let mut copied = Vec::new();
            use std::io::Seek;
            copy.rewind().expect("rewind");
            copy.read_to_end(&mut copied).expect("read");
            assert_eq!(copied, data, "size {size}");
        }
    }

    #[test]
    fn a_file_that_differs_from_its_stat_is_reported_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"before").expect("write");
        let before = stat_of(&path);
        std::fs::write(&path, b"after, longer").expect("rewrite");
        let file = File::open(&path).expect("open");
        let out = hash_file(file, &before, HashAlgo::Sha256, &[], None).expect("hash");
        assert!(matches!(out, Outcome::Changed), "{out:?}");
    }
}
