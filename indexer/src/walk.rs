//! Walking a source tree in collection key order, one directory at a time, with
//! an explicit stack (a tree thousands of directories deep cannot overflow it).
//!
//! The plain encoding sorts keys by code point, and every key under a directory
//! `d` starts with `d/`. So the entries of a directory are taken in the order of
//! their names, a subdirectory's name followed by its `/` (`a-b`, `a.b`, then
//! `a/…`, then `a0`), and directories come out in pre-order: a directory, then
//! each of its subdirectories' subtrees in that order. Whoever writes the keys
//! of each directory's files between its subdirectories' subtrees (see
//! [`before`]) writes them sorted, without holding the tree.
//!
//! Each directory is read with `read_dir` (its `d_type` tells directories apart
//! without a stat); its files are stat-ed later, relative to the open directory,
//! by whoever hashes them. Symlinked directories are not followed; names that are
//! not UTF-8 become problems, never keys.

use std::cmp::Ordering;
use std::fs::{self, DirEntry};
use std::io;
use std::path::{Path, PathBuf};

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

/// One directory as the walk found it.
#[derive(Debug)]
pub struct Dir {
    /// Its key: "" for the source itself, else its relative path with `/`.
    pub key: String,
    /// Its entries that are not directories, sorted by name.
    pub leaves: Vec<Leaf>,
    /// The names of its subdirectories, in walk order ([`dir_order`]); the walk
    /// yields each of their subtrees next, in this order.
    pub subdirs: Vec<String>,
    /// The entries that could not be walked (or the directory itself).
    pub problems: Vec<Problem>,
}

/// The directories under a root, in pre-order and key order (see the module).
#[derive(Debug)]
pub struct Walk {
    /// Directories still to read (key, path), the next one last.
    stack: Vec<(String, PathBuf)>,
    /// Entries left out: never listed, never entered.
    exclude: Exclude,
}

impl Walk {
    /// A walk of `root`, leaving out what `exclude` excludes.
    pub fn new(root: &Path, exclude: Exclude) -> Self {
        Walk {
            stack: vec![(String::new(), root.to_owned())],
            exclude,
        }
    }
}

impl Iterator for Walk {
    type Item = Dir;

    fn next(&mut self) -> Option<Dir> {
        let (dir_key, path) = self.stack.pop()?;
        let mut dir = Dir {
            key: dir_key,
            leaves: Vec::new(),
            subdirs: Vec::new(),
            problems: Vec::new(),
        };
        match fs::read_dir(&path).and_then(Iterator::collect::<io::Result<Vec<_>>>) {
            Ok(entries) => {
                for entry in entries {
                    let Ok(name) = entry.file_name().into_string() else {
                        dir.problems.push(Problem {
                            path: display(&entry.path()),
                            error: "name is not valid UTF-8; not indexed (rename it)".into(),
                        });
                        continue;
                    };
                    let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                    if !self.exclude.is_empty()
                        && self.exclude.excluded(&key(&dir.key, &name), is_dir)
                    {
                        continue;
                    }
                    if is_dir {
                        dir.subdirs.push(name);
                    } else {
                        dir.leaves.push(Leaf { name, entry });
                    }
                }
            }
            Err(e) => dir.problems.push(Problem {
                path: display(&path),
                error: e.to_string(),
            }),
        }
        dir.leaves.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        dir.subdirs.sort_unstable_by(|a, b| dir_order(a, b));
        for name in dir.subdirs.iter().rev() {
            self.stack.push((key(&dir.key, name), path.join(name)));
        }
        Some(dir)
    }
}

/// The order of two subdirectory names: that of their keys' prefixes `name/`.
pub fn dir_order(a: &str, b: &str) -> Ordering {
    a.bytes().chain(*b"/").cmp(b.bytes().chain(*b"/"))
}

/// Whether the file `name` sorts before every key under the sibling
/// subdirectory `subdir`.
pub fn before(name: &str, subdir: &str) -> bool {
    name.bytes().cmp(subdir.bytes().chain(*b"/")) == Ordering::Less
}

/// The text shown for a path in reports, escaped (`faircore::display`).
pub fn display(path: &Path) -> String {
    faircore::display::path(path)
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

impl Leaf {
    /// The entry's path.
    pub fn path(&self) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_yields_keys_in_code_point_order() {
        let root = tempfile::tempdir().expect("tempdir");
        let dirs = ["a", "a/b", "a.b", "a-b", "a0", "é", "a/b/c", "z"];
        let files = [
            "a.b/f", "a-b/g", "a-c", "a/b.c", "a/b/c/d", "a/b0", "a0/x", "é/f", "b", "a.c",
        ];
        for d in dirs {
            fs::create_dir_all(root.path().join(d)).expect("mkdir");
        }
        for f in files {
            fs::write(root.path().join(f), f).expect("write");
        }
        // Each directory's files written before each subdirectory's subtree that
        // sorts after them, as the indexer writes them.
        fn keys(walk: &mut Walk, out: &mut Vec<String>) {
            let dir = walk.next().expect("a directory");
            let mut leaves = dir.leaves.iter().peekable();
            for sub in &dir.subdirs {
                while let Some(leaf) = leaves.next_if(|l| before(&l.name, sub)) {
                    out.push(key(&dir.key, &leaf.name));
                }
                keys(walk, out);
            }
            out.extend(leaves.map(|l| key(&dir.key, &l.name)));
        }
        let mut walk = Walk::new(root.path(), Exclude::default());
        let mut out = Vec::new();
        keys(&mut walk, &mut out);
        assert!(walk.next().is_none(), "every directory taken");
        let mut sorted: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        sorted.sort();
        assert_eq!(out, sorted);
    }

    #[test]
    fn a_tree_a_thousand_directories_deep_is_walked_without_recursion() {
        let root = tempfile::tempdir().expect("tempdir");
        let deep: PathBuf = std::iter::repeat_n("d", 1500).collect();
        fs::create_dir_all(root.path().join(&deep)).expect("mkdir");
        fs::write(root.path().join(&deep).join("f"), "x").expect("write");
        let dirs: Vec<Dir> = Walk::new(root.path(), Exclude::default()).collect();
        assert_eq!(dirs.len(), 1501);
        assert!(dirs.iter().all(|d| d.problems.is_empty()));
        let last = dirs.last().expect("the deepest");
        assert_eq!(
            key(&last.key, &last.leaves[0].name),
            format!("{}/f", deep.display())
        );
    }
}
