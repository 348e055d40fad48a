//! Content-addressed files served only once their bytes are known to hash to
//! their name: each is checked once per run, and the small ones are kept in
//! memory (up to a budget), so that serving them again costs no system call.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use actix_web::web::Bytes;
use faircore::{Checksum, HashAlgo};

/// Files up to this size are kept in memory once checked.
pub const KEEP_MAX: u64 = 256 << 10;
/// The memory all kept files may take.
const BUDGET: usize = 16 << 20;

/// What is known of a checked file.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Its bytes, kept.
    Kept(Bytes),
    /// Checked; read it from disk.
    OnDisk,
}

/// The files checked so far.
#[derive(Debug, Default)]
pub struct Checked {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    files: HashMap<Checksum, Verdict>,
    kept: usize,
}

impl Checked {
    /// What is known of the file named `checksum`, if it was checked.
    pub fn get(&self, checksum: &Checksum) -> Option<Verdict> {
        let inner = self.inner.lock().ok()?;
        inner.files.get(checksum).cloned()
    }

    /// Checks the file at `path` against `checksum` (hashing it with `algo`) and
    /// remembers it; `None` if it is missing, unreadable or not what its name says.
    pub fn check(&self, algo: HashAlgo, path: &Path, checksum: &Checksum) -> Option<Verdict> {
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::error!("{}: {e}", path.display());
                return None;
            }
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let (hashed, kept) = if size <= KEEP_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            let read = file.read_to_end(&mut bytes);
            (read.map(|_| algo.hash(&bytes)), Some(Bytes::from(bytes)))
        } else {
            let mut hasher = algo.hasher();
            let read = std::io::copy(&mut file, &mut hasher);
            (read.map(|_| hasher.finalize()), None)
        };
        match hashed {
            Ok(actual) if actual == *checksum => {}
            Ok(_) => {
                tracing::error!(
                    "{}: its bytes do not hash to its name; not served",
                    path.display()
                );
                return None;
            }
            Err(e) => {
                tracing::error!("{}: {e}", path.display());
                return None;
            }
        }
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        let verdict = match kept {
            Some(bytes) if inner.kept + bytes.len() <= BUDGET => {
                inner.kept += bytes.len();
                Verdict::Kept(bytes)
            }
            _ => Verdict::OnDisk,
        };
        inner.files.insert(*checksum, verdict.clone());
        Some(verdict)
    }
}
