//! Walking a source tree: every entry that may become an element of the
//! collection, with its key, in no particular order. Directories are not
//! stat-ed (the walk uses the type readdir gives), symlinked directories are not
//! followed, and names that are not UTF-8 become problems, never keys.

use std::fs::FileType;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::Problem;

/// An entry to index: a regular file, a symlink, or something to report.
#[derive(Debug)]
pub struct Candidate {
    /// The collection key: the path relative to the source, with `/`.
    pub key: String,
    /// The path on disk.
    pub path: PathBuf,
    /// The entry's own type (a symlink is not resolved yet).
    pub file_type: FileType,
}

/// The entries under a source directory.
pub struct Walk {
    root: PathBuf,
    inner: walkdir::IntoIter,
}

impl std::fmt::Debug for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Walk {
    /// Walks `root`, which must be a directory.
    pub fn new(root: &Path) -> Self {
        Walk {
            root: root.to_owned(),
            inner: WalkDir::new(root)
                .follow_links(false)
                .min_depth(1)
                .into_iter(),
        }
    }
}

/// The text shown for a path in reports: lossy only for display, never for keys.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl Iterator for Walk {
    type Item = Result<Candidate, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let entry = match self.inner.next()? {
                Ok(entry) => entry,
                Err(err) => {
                    let path = err.path().unwrap_or(&self.root);
                    let error = match err.io_error() {
                        Some(io) => io.to_string(),
                        None => err.to_string(),
                    };
                    return Some(Err(Problem {
                        path: display(path),
                        error,
                    }));
                }
            };
            let relative = entry
                .path()
                .strip_prefix(&self.root)
                .unwrap_or(entry.path());
            let Some(key) = relative.to_str() else {
                if entry.file_type().is_dir() {
                    self.inner.skip_current_dir();
                }
                return Some(Err(Problem {
                    path: display(entry.path()),
                    error: "name is not valid UTF-8; not indexed (rename it)".into(),
                }));
            };
            if entry.file_type().is_dir() {
                continue;
            }
            return Some(Ok(Candidate {
                key: key.to_owned(),
                path: entry.path().to_owned(),
                file_type: entry.file_type(),
            }));
        }
    }
}
