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
//! Each directory is opened and listed (its entries' `d_type` tells directories
//! apart without a stat); it stays open while its files are stat-ed and read,
//! relative to it ([`crate::stat`]), by whoever hashes them. Symlinked
//! directories are not followed; names that are not UTF-8 become problems,
//! never keys.

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};

use crate::Problem;
use crate::exclude::Exclude;
use crate::stat::{self, FileStat};

/// A directory entry that is not a directory, with its UTF-8 name.
#[derive(Debug)]
pub struct Leaf {
    /// The file name.
    pub name: String,
    /// Its type as the directory listed it (a symlink is not followed).
    kind: FileType,
}

/// One directory as the walk found it.
#[derive(Debug)]
pub struct Dir {
    /// Its key: "" for the source itself, else its relative path with `/`.
    pub key: String,
    /// Its path (the source's path joined with the key).
    pub path: PathBuf,
    /// The open directory, which its leaves are opened relative to; `None` when
    /// it could not be opened (then it has no leaves, and a problem says why).
    pub fd: Option<OwnedFd>,
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
    /// The keys of directories that are the catalogue's own (its directory, a
    /// buffer directory), never entered: a catalogue inside its source must
    /// not index itself.
    own: Vec<String>,
}

impl Walk {
    /// A walk of `root`, leaving out what `exclude` excludes and the
    /// directories whose keys are `own`.
    pub fn new(root: &Path, exclude: Exclude, own: Vec<String>) -> Self {
        Walk {
            stack: vec![(String::new(), root.to_owned())],
            exclude,
            own,
        }
    }

    /// Lists the open directory `fd` into `dir`'s leaves, subdirectories and
    /// problems.
    fn list(&self, fd: BorrowedFd<'_>, dir: &mut Dir) -> io::Result<()> {
        for entry in rustix::fs::Dir::read_from(fd)? {
            let entry = entry?;
            let bytes = entry.file_name().to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let Ok(name) = std::str::from_utf8(bytes) else {
                dir.problems.push(Problem {
                    path: display(&dir.path.join(OsStr::from_bytes(bytes))),
                    error: "name is not valid UTF-8; not indexed (rename it)".into(),
                });
                continue;
            };
            let kind = match entry.file_type() {
                // Some filesystems do not say: ask.
                FileType::Unknown => {
                    stat::stat_at(fd, name, false).map_or(FileType::Unknown, |s| stat::kind(&s))
                }
                kind => kind,
            };
            let is_dir = kind == FileType::Directory;
            if !self.exclude.is_empty() && self.exclude.excluded(&key(&dir.key, name), is_dir) {
                continue;
            }
            if is_dir && !self.own.is_empty() && self.own.contains(&key(&dir.key, name)) {
                tracing::info!(path = %dir.path.join(name).display(), "the catalogue's own directory: not indexed");
                continue;
            }
            if is_dir {
                dir.subdirs.push(name.to_owned());
            } else {
                dir.leaves.push(Leaf {
                    name: name.to_owned(),
                    kind,
                });
            }
        }
        Ok(())
    }
}

impl Iterator for Walk {
    type Item = Dir;

    fn next(&mut self) -> Option<Dir> {
        let (dir_key, path) = self.stack.pop()?;
        let mut dir = Dir {
            key: dir_key,
            path,
            fd: None,
            leaves: Vec::new(),
            subdirs: Vec::new(),
            problems: Vec::new(),
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let listed = rustix::fs::open(&dir.path, flags, Mode::empty())
            .map_err(io::Error::from)
            .and_then(|fd| self.list(fd.as_fd(), &mut dir).map(|()| fd));
        match listed {
            Ok(fd) => dir.fd = Some(fd),
            Err(e) => {
                dir.leaves.clear();
                dir.subdirs.clear();
                dir.problems.push(Problem {
                    path: display(&dir.path),
                    error: e.to_string(),
                });
            }
        }
        dir.leaves.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        dir.subdirs.sort_unstable_by(|a, b| dir_order(a, b));
        for name in dir.subdirs.iter().rev() {
            self.stack.push((key(&dir.key, name), dir.path.join(name)));
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
    /// The stat of the regular file this entry of the directory `dir` (at
    /// `dir_path`) is, or links to; with the file open when `open` and the
    /// directory listed it as a regular file: then it is opened first and the
    /// open file stat-ed, one name lookup instead of two for a file that is
    /// read anyway. `None` for a symlink to a directory, which is not
    /// followed; an error for anything else.
    pub fn look(
        &self,
        dir: BorrowedFd<'_>,
        dir_path: &Path,
        open: bool,
    ) -> Option<Result<(FileStat, Option<File>), String>> {
        let found = match open && self.kind == FileType::RegularFile {
            true => stat::open_at(dir, &self.name)
                .and_then(|file| Ok((stat::stat_of(&file)?, Some(file)))),
            false => stat::stat_at(dir, &self.name, true).map(|found| (found, None)),
        };
        match found {
            Ok((found, file)) => regular(&found, &dir_path.join(&self.name))
                .map(|stat| stat.map(|stat| (stat, file))),
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.kind == FileType::Symlink => {
                Some(Err("dangling symbolic link; not indexed".into()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Some(Err("vanished while the source was walked".into()))
            }
            Err(e) => Some(Err(e.to_string())),
        }
    }
}

/// `found`, the stat of the file at `path`, if it is of a regular file: `None`
/// for a directory (a symlink to one, not followed), an error naming the type
/// of anything else.
fn regular(found: &rustix::fs::Stat, path: &Path) -> Option<Result<FileStat, String>> {
    match stat::kind(found) {
        FileType::RegularFile => Some(Ok(stat::file_stat(found))),
        FileType::Directory => {
            tracing::info!(path = %path.display(), "symbolic link to a directory: not followed");
            None
        }
        kind => Some(Err(format!(
            "{}, not a regular file; not indexed",
            stat::kind_name(kind)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
        let mut walk = Walk::new(root.path(), Exclude::default(), Vec::new());
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
        let dirs: Vec<Dir> = Walk::new(root.path(), Exclude::default(), Vec::new()).collect();
        assert_eq!(dirs.len(), 1501);
        assert!(dirs.iter().all(|d| d.problems.is_empty()));
        let last = dirs.last().expect("the deepest");
        assert_eq!(
            key(&last.key, &last.leaves[0].name),
            format!("{}/f", deep.display())
        );
    }
}
