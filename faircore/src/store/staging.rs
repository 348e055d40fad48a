//! Atomic publication of files: write a temporary file in a staging directory on
//! the same filesystem, `fsync` it, rename it into place, `fsync` the directory.
//!
//! A reader sees the old file or the new one, never a part. A process killed
//! mid-write leaves its temporary file in the staging directory only, and the next
//! writer (who holds the catalogue lock) empties that directory.

use std::fs::{self, File};
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::lock::WriteLock;
use crate::{Error, Result};

/// A staging directory for temporary files, owned by the lock holder.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Creates `dir` if needed and removes what a killed writer left there. Takes
    /// the write lock as proof that no other writer is using it.
    pub fn new(dir: impl Into<PathBuf>, _lock: &WriteLock) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            // Only fair writes here; whatever is left (a stray directory too) is
            // debris, and never a reason to refuse every writer after it.
            let removed = match entry.file_type() {
                Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            removed.map_err(|e| Error::io(&path, e))?;
        }
        Ok(Staging { dir })
    }

    /// The directory: for other temporary files of the lock holder (the runs of
    /// an external sort).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new temporary file, to be filled and then published: readable by all
    /// (0644 less the umask), as a catalogue is meant to be served, where a bare
    /// temporary file would be the creator's alone (0600).
    pub fn temp(&self) -> Result<NamedTempFile> {
        tempfile::Builder::new()
            .permissions(fs::Permissions::from_mode(0o644))
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))
    }

    /// Atomically replaces (or creates) `target` with `bytes`.
    pub fn replace(&self, target: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = self.filled(bytes)?;
        tmp.persist(target)
            .map_err(|e| Error::io(target, e.error))?;
        sync_parent(target)
    }

    /// A temporary file holding `bytes`, synced to disk.
    pub fn filled(&self, bytes: &[u8]) -> Result<NamedTempFile> {
        let mut tmp = self.temp()?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| Error::io(tmp.path(), e))?;
        Ok(tmp)
    }
}

/// The new content of `target`, written as a stream and published atomically by
/// [`Rewrite::finish`]. While the bytes equal the old file's, they are only
/// compared: a temporary file is started (with the old file's equal prefix) at
/// the first difference, so rewriting a large file that did not change costs a
/// read, not a write and an `fsync`. Dropped unfinished, it leaves the old file
/// as it was.
#[derive(Debug)]
pub struct Rewrite<'s> {
    staging: &'s Staging,
    target: PathBuf,
    state: Rewriting,
}

#[derive(Debug)]
enum Rewriting {
    /// Equal so far to the first `matched` bytes of the old file.
    Comparing {
        old: io::BufReader<File>,
        matched: u64,
        chunk: Vec<u8>,
    },
    /// Different (or no old file): the new bytes go to a temporary file.
    Writing(NamedTempFile),
}

impl<'s> Rewrite<'s> {
    /// Starts rewriting `target`, staging in `staging`.
    pub fn new(staging: &'s Staging, target: &Path) -> Result<Self> {
        let state = match File::open(target) {
            Ok(old) if old.metadata().is_ok_and(|m| m.is_file()) => Rewriting::Comparing {
                old: io::BufReader::with_capacity(1 << 16, old),
                matched: 0,
                chunk: Vec::new(),
            },
            Ok(_) => return Err(Error::io(target, io::Error::other("not a regular file"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Rewriting::Writing(staging.temp()?),
            Err(e) => return Err(Error::io(target, e)),
        };
        Ok(Rewrite {
            staging,
            target: target.to_owned(),
            state,
        })
    }

    /// The file being rewritten.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// From comparing to writing: a temporary file holding the old file's first
    /// `matched` bytes.
    fn diverge(&mut self) -> io::Result<&mut NamedTempFile> {
        if let Rewriting::Comparing { matched, .. } = self.state {
            let mut tmp = self.staging.temp().map_err(io::Error::other)?;
            let mut old = File::open(&self.target)?;
            let copied = io::copy(&mut Read::by_ref(&mut old).take(matched), &mut tmp)?;
            if copied != matched {
                return Err(io::Error::other(
                    "the old file shrank while it was rewritten",
                ));
            }
            self.state = Rewriting::Writing(tmp);
        }
        match &mut self.state {
            Rewriting::Writing(tmp) => Ok(tmp),
            Rewriting::Comparing { .. } => Err(io::Error::other("unreachable: still comparing")),
        }
    }

    /// Publishes the new content unless it equals the old file's; returns
    /// whether the file was written.
    pub fn finish(mut self) -> Result<bool> {
        if let Rewriting::Comparing { old, .. } = &mut self.state {
            let longer = old.fill_buf().map_err(|e| Error::io(&self.target, e))?;
            if longer.is_empty() {
                return Ok(false);
            }
            if let Err(e) = self.diverge() {
                return Err(Error::io(&self.target, e));
            }
        }
        let Rewriting::Writing(tmp) = self.state else {
            return Ok(false);
        };
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(&self.target)
            .map_err(|e| Error::io(&self.target, e.error))?;
        sync_parent(&self.target)?;
        Ok(true)
    }
}

impl Write for Rewrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Rewriting::Comparing {
            old,
            matched,
            chunk,
        } = &mut self.state
        {
            chunk.resize(buf.len(), 0);
            match old.read_exact(chunk) {
                Ok(()) if chunk == buf => {
                    *matched += buf.len() as u64;
                    return Ok(buf.len());
                }
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(e),
            }
        }
        self.diverge()?.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            Rewriting::Writing(tmp) => tmp.flush(),
            Rewriting::Comparing { .. } => Ok(()),
        }
    }
}

/// Publishes a filled and synced temporary file as `target` unless `target`
/// exists. Returns whether it was created.
pub fn publish_new(tmp: NamedTempFile, target: &Path) -> Result<bool> {
    match tmp.persist_noclobber(target) {
        Ok(_) => sync_parent(target).map(|()| true),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(target, e.error)),
    }
}

/// `fsync`s the directory holding `path`, so a rename survives a power cut.
pub fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| Error::io(parent, e))
}

/// Flushes every file written on the filesystem holding `dir` (`syncfs`): one
/// call makes a whole batch of published files durable.
pub fn sync_filesystem(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let handle = File::open(dir).map_err(|e| Error::io(dir, e))?;
    // SAFETY: `syncfs` only reads the descriptor, which `handle` keeps open.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::syncfs(handle.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::io(dir, io::Error::last_os_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn whatever_a_killed_writer_left_is_removed_directories_too() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("tmp");
        fs::create_dir_all(dir.join("stray/deeper")).expect("mkdir");
        fs::write(dir.join("stray/deeper/f"), b"x").expect("write");
        fs::write(dir.join("left.tmp"), b"x").expect("write");
        let lock = WriteLock::acquire(&tmp.path().join("lock")).expect("lock");
        let staging = Staging::new(&dir, &lock).expect("a stray directory does not block");
        assert_eq!(fs::read_dir(&dir).expect("read").count(), 0);
        staging
            .replace(&tmp.path().join("out"), b"y")
            .expect("writes");
    }

    /// Rewrites `target` with `new` written in `pieces`-byte writes.
    fn rewrite(staging: &Staging, target: &Path, new: &[u8], pieces: usize) -> bool {
        let mut rewrite = Rewrite::new(staging, target).expect("start");
        for piece in new.chunks(pieces.max(1)) {
            rewrite.write_all(piece).expect("write");
        }
        rewrite.finish().expect("finish")
    }

    #[test]
    fn a_rewrite_writes_only_what_differs_and_leaves_an_equal_file_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = WriteLock::acquire(&dir.path().join("lock")).expect("lock");
        let staging = Staging::new(dir.path().join("tmp"), &lock).expect("staging");
        let target = dir.path().join("file");
        let old: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert!(rewrite(&staging, &target, &old, 4096), "created");
        assert_eq!(fs::read(&target).expect("read"), old);
        let inode = fs::metadata(&target).expect("stat").ino();
        assert!(!rewrite(&staging, &target, &old, 1000), "the same bytes");
        assert_eq!(
            fs::metadata(&target).expect("stat").ino(),
            inode,
            "not replaced"
        );
        let mut changed = old.clone();
        changed[70_000] ^= 1;
        let cases: [&[u8]; 5] = [
            &changed,
            &old[..50_000],
            &[old.as_slice(), b"tail"].concat(),
            b"",
            &old,
        ];
        for new in cases {
            assert!(rewrite(&staging, &target, new, 333), "{} bytes", new.len());
            assert_eq!(fs::read(&target).expect("read"), new);
        }
        let mut unfinished = Rewrite::new(&staging, &target).expect("start");
        unfinished.write_all(b"half").expect("write");
        drop(unfinished);
        assert_eq!(
            fs::read(&target).expect("read"),
            old,
            "an unfinished rewrite changes nothing"
        );
    }
}
