//! `copy_collection`: renamed entries copied or hard-linked into
//! `collections/<name>/`, unchanged targets left alone, stale ones removed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use faircore::store::journal::Publication;
use faircore::store::tables::{self, CopyRow as Row};
use faircore::{Checksum, Store};
use redb::{ReadableDatabase, ReadableTable};

use super::pattern::{Pattern, Template};
use crate::stat::FileStat;

/// One file of a copied collection.
#[derive(Debug)]
pub struct Planned {
    /// Its key in the copied collection.
    pub key: String,
    /// Where its content is now.
    pub from: PathBuf,
    /// Its checksum.
    pub checksum: Checksum,
}

/// The new key of every entry; an error names an entry the pattern does not
/// match, or a new key that would leave the collection's directory.
pub fn rename(
    entries: &BTreeMap<String, Checksum>,
    pattern: &Pattern,
    template: &Template,
) -> Result<Vec<(String, String)>, String> {
    let mut renamed = Vec::with_capacity(entries.len());
    let mut seen = HashSet::new();
    for key in entries.keys() {
        let groups = pattern
            .captures(key)
            .ok_or_else(|| format!("entry {key:?} does not match the regex"))?;
        let new = template.render(&groups);
        check_relative(&new).map_err(|e| format!("entry {key:?} becomes {new:?}: {e}"))?;
        if !seen.insert(new.clone()) {
            return Err(format!(
                "entry {key:?} becomes {new:?}, like an earlier entry"
            ));
        }
        renamed.push((key.clone(), new));
    }
    Ok(renamed)
}

/// Refuses keys that are empty, absolute, or step outside with `..`.
fn check_relative(key: &str) -> Result<(), String> {
    let path = Path::new(key);
    let ok = !key.is_empty()
        && !key.ends_with('/')
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(())
    } else {
        Err("expected a relative path without '..', '.' or empty parts".into())
    }
}

fn row(checksum: &Checksum, meta: &fs::Metadata) -> Row {
    let s = FileStat::from(meta);
    (*checksum.as_bytes(), s.ino, s.size, s.mtime_ns, s.ctime_ns)
}

/// What [`stage`] staged for a copied collection, to record once published.
#[derive(Debug)]
pub struct Staged {
    /// The table of the collection's copies.
    table: String,
    /// The files staged: key, checksum, target.
    written: Vec<(String, Checksum, PathBuf)>,
    /// Recorded keys that are no longer in the collection.
    stale: Vec<String>,
}

/// Stages what makes `dir`, the directory of the copied collection `collection`,
/// hold exactly `files` in `publication`: new files, and the removal of the
/// others. A file already in place is kept: the same inode when hard-linking; a
/// copy whose stat and checksum the database recorded when it was written, when
/// copying.
pub fn stage(
    publication: &mut Publication<'_>,
    db: &Store,
    collection: &str,
    dir: &Path,
    files: &[Planned],
    hardlink: bool,
) -> Result<Staged, String> {
    let io = |path: &Path, e: io::Error| format!("{}: {e}", faircore::display::path(path));
    let table = tables::copies(collection);
    let recorded: HashMap<String, Row> = {
        let txn = db.redb().begin_read().map_err(|e| e.to_string())?;
        match txn.open_table(tables::copies_table(&table)) {
            Ok(t) => t
                .iter()
                .map_err(|e| e.to_string())?
                .filter_map(Result::ok)
                .map(|(k, v)| (k.value().to_owned(), v.value()))
                .collect(),
            Err(redb::TableError::TableDoesNotExist(_)) => HashMap::new(),
            Err(e) => return Err(e.to_string()),
        }
    };
    let mut written = Vec::new();
    for file in files {
        let target = dir.join(&file.key);
        if let Ok(meta) = fs::symlink_metadata(&target) {
            let in_place = if hardlink {
                fs::metadata(&file.from)
                    .is_ok_and(|f| (f.dev(), f.ino()) == (meta.dev(), meta.ino()))
            } else {
                recorded.get(&file.key) == Some(&row(&file.checksum, &meta))
            };
            if in_place {
                continue;
            }
        }
        let tmp = publication
            .temp()
            .map_err(|e| e.to_string())?
            .into_temp_path();
        if hardlink {
            fs::remove_file(&tmp).map_err(|e| io(&tmp, e))?;
            fs::hard_link(&file.from, &tmp).map_err(|e| io(&file.from, e))?;
        } else {
            fs::copy(&file.from, &tmp).map_err(|e| io(&file.from, e))?;
        }
        publication.stage(tmp, &target).map_err(|e| e.to_string())?;
        written.push((file.key.clone(), file.checksum, target));
    }
    let keep: HashSet<PathBuf> = files.iter().map(|f| dir.join(&f.key)).collect();
    for path in stale_files(dir, &keep) {
        publication.remove(&path).map_err(|e| e.to_string())?;
    }
    let keys: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let stale = recorded
        .into_keys()
        .filter(|k| !keys.contains(k.as_str()))
        .collect();
    Ok(Staged {
        table,
        written,
        stale,
    })
}

impl Staged {
    /// How many files were written.
    pub fn written(&self) -> usize {
        self.written.len()
    }

    /// Records the stat of every file written, once published (a rename changes
    /// the ctime), and forgets the stale keys.
    pub fn record(&self, db: &Store) -> Result<(), String> {
        if self.written.is_empty() && self.stale.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(self.written.len());
        for (key, checksum, target) in &self.written {
            let meta = fs::metadata(target)
                .map_err(|e| format!("{}: {e}", faircore::display::path(target)))?;
            rows.push((key.as_str(), row(checksum, &meta)));
        }
        let write = || -> Result<(), redb::Error> {
            let txn = db.redb().begin_write()?;
            {
                let mut t = txn.open_table(tables::copies_table(&self.table))?;
                for key in &self.stale {
                    t.remove(key.as_str())?;
                }
                for (key, row) in &rows {
                    t.insert(*key, row)?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| e.to_string())
    }
}

/// The files under `dir` that are not in `keep`.
fn stale_files(dir: &Path, keep: &HashSet<PathBuf>) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if !keep.contains(&path) {
                stale.push(path);
            }
        }
    }
    stale
}
