//! Files served only once their bytes are known to hash to their name (the
//! content-addressed files of the catalogue, and source files served with
//! `--serve-source`): each is checked once, and again whenever its size, mtime,
//! ctime or inode changes (a hard-linked buffer edited in place, a file rewritten
//! with the same size and mtime); the small ones are kept in memory (up to a
//! budget), so that serving them again costs no system call (one `stat` for
//! source files, whose kept bytes are served only while the file has them).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use actix_web::web::Bytes;
use faircore::statcache::FileStat;
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
    /// Whether kept bytes are served only while the file keeps the stat it had
    /// when they were read (source files); else they are served as they are
    /// (content-addressed files: the bytes are what the name says).
    follows_changes: bool,
}

#[derive(Debug, Default)]
struct Inner {
    /// By path: the checksum it was checked against, the verdict, and the file's
    /// stat when it was checked.
    files: HashMap<PathBuf, (Checksum, Verdict, FileStat)>,
    kept: usize,
}

impl Checked {
    /// Files whose kept bytes are served only while the file still has them.
    pub fn following_changes() -> Self {
        Checked {
            follows_changes: true,
            ..Checked::default()
        }
    }

    /// What is known of the file at `path` as the content `checksum`, if it was
    /// checked: kept bytes (as they are, or while the file keeps its stat, see
    /// [`Checked::following_changes`]), a file on disk only while its stat is the
    /// one it was checked with.
    pub fn get(&self, path: &Path, checksum: &Checksum) -> Option<Verdict> {
        let (verdict, stat) = {
            let inner = self.inner.lock().ok()?;
            let (known, verdict, stat) = inner.files.get(path)?;
            (known == checksum).then(|| (verdict.clone(), *stat))?
        };
        if matches!(verdict, Verdict::Kept(_)) && !self.follows_changes {
            return Some(verdict);
        }
        let now = std::fs::metadata(path).ok().map(|m| FileStat::from(&m));
        (now == Some(stat)).then_some(verdict)
    }

    /// Remembers `bytes`, read from the file at `path` while it had `stat` and
    /// known to hash to `checksum`: kept if the budget allows. Returns the
    /// verdict.
    pub fn keep(&self, path: &Path, checksum: &Checksum, bytes: Bytes, stat: FileStat) -> Verdict {
        self.remember(path, checksum, Some(bytes), stat)
    }

    fn remember(
        &self,
        path: &Path,
        checksum: &Checksum,
        kept: Option<Bytes>,
        stat: FileStat,
    ) -> Verdict {
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, Verdict::Kept(old), _)) = inner.files.remove(path) {
            inner.kept -= old.len();
        }
        let verdict = match kept {
            Some(bytes) if inner.kept + bytes.len() <= BUDGET => {
                inner.kept += bytes.len();
                Verdict::Kept(bytes)
            }
            _ => Verdict::OnDisk,
        };
        let entry = (*checksum, verdict.clone(), stat);
        inner.files.insert(path.to_owned(), entry);
        verdict
    }

    /// Checks the file at `path` against `checksum` (hashing it with `algo`) and
    /// remembers it; `None` if it is missing, unreadable or not what its name says.
    pub fn check(&self, algo: HashAlgo, path: &Path, checksum: &Checksum) -> Option<Verdict> {
        let mut file = match faircore::regular::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::error!("{}: {e}", path.display());
                return None;
            }
        };
        let stat = |file: &std::fs::File| file.metadata().ok().map(|m| FileStat::from(&m));
        let before = stat(&file);
        let size = before.map_or(u64::MAX, |s| s.size);
        let (hashed, kept) = if size <= KEEP_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            let read = file.read_to_end(&mut bytes);
            (read.map(|_| algo.hash(&bytes)), Some(Bytes::from(bytes)))
        } else {
            let mut hasher = algo.hasher();
            let read = std::io::copy(&mut file, &mut hasher);
            (read.map(|_| hasher.finalize()), None)
        };
        let Some(before) = before.filter(|b| Some(*b) == stat(&file)) else {
            tracing::warn!(
                "{}: changed while it was checked; not served",
                path.display()
            );
            return None;
        };
        match hashed {
            Ok(actual) if actual == *checksum => {}
            Ok(_) => {
                tracing::warn!(
                    "{}: its bytes do not hash to {checksum}; not served",
                    path.display()
                );
                return None;
            }
            Err(e) => {
                tracing::error!("{}: {e}", path.display());
                return None;
            }
        }
        Some(self.remember(path, checksum, kept, before))
    }
}
