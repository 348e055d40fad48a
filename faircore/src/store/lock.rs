//! The writer lock: one writer per catalogue at a time. Readers never take it.
//!
//! An advisory `flock` on `.fair/lock`, released by the kernel when the holder
//! exits, however it exits; the file records the holder's pid for the message a
//! second writer gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::{Error, Result};

/// Proof that this process holds the catalogue's writer lock.
#[derive(Debug)]
pub struct WriteLock {
    file: File,
}

impl WriteLock {
    /// Takes the lock at `path`, or fails at once naming the holder.
    pub fn acquire(path: &Path) -> Result<Self> {
        let io = |e| Error::io(path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: path.to_owned(),
                    holder: holder(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "pid {}", std::process::id()))
            .map_err(io)?;
        Ok(WriteLock { file })
    }
}

/// The holder named in the lock file: `pid N`. A holder writes it just after
/// it took the lock, so an empty file is read again for a moment before the
/// holder is called unknown.
fn holder(file: &mut File) -> String {
    for _ in 0..50 {
        let mut holder = String::new();
        let read = file
            .rewind()
            .and_then(|()| file.read_to_string(&mut holder));
        let holder = holder.trim();
        if read.is_ok() && !holder.is_empty() {
            return holder.to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    "unknown process".into()
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lock");
        let first = WriteLock::acquire(&path).expect("first");
        let err = WriteLock::acquire(&path).expect_err("second");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("locked"), "{msg}");
        drop(first);
        WriteLock::acquire(&path).expect("free again");
    }
}
