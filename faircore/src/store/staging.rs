//! Atomic publication of files: write a temporary file in a staging directory on
//! the same filesystem, `fsync` it, rename it into place, `fsync` the directory.
//!
//! A reader sees the old file or the new one, never a part. A process killed
//! mid-write leaves its temporary file in the staging directory only, and the next
//! writer (who holds the catalogue lock) empties that directory.

use std::fs::{self, File};
use std::io::{self, Write};
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
}
