//! `copy_collection`: renamed entries copied or hard-linked into
//! `collections/<name>/`, unchanged targets left alone, stale ones removed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use faircore::store::tables::{self, CopyRow as Row};
use faircore::{Checksum, Store, Writer};
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

/// Makes `dir`, the directory of the copied collection `collection`, hold exactly
/// `files`. A file already in place is kept: the same inode when hard-linking; a
/// copy whose stat and checksum the database recorded when it was written, when
/// copying. Returns how many files were written.
pub fn publish(
    writer: &Writer<'_>,
    db: &Store,
    collection: &str,
    dir: &Path,
    files: &[Planned],
    hardlink: bool,
) -> Result<usize, String> {
    let io = |path: &Path, e: io::Error| format!("{}: {e}", path.display());
    let name = tables::copies(collection);
    let definition = tables::copies_table(&name);
    let recorded: HashMap<String, Row> = {
        let txn = db.redb().begin_read().map_err(|e| e.to_string())?;
        match txn.open_table(definition) {
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
    let mut rows = Vec::new();
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
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let tmp = writer
            .staging()
            .temp()
            .map_err(|e| e.to_string())?
            .into_temp_path();
        if hardlink {
            fs::remove_file(&tmp).map_err(|e| io(&tmp, e))?;
            fs::hard_link(&file.from, &tmp).map_err(|e| io(&file.from, e))?;
        } else {
            fs::copy(&file.from, &tmp).map_err(|e| io(&file.from, e))?;
        }
        tmp.persist(&target).map_err(|e| io(&target, e.error))?;
        let meta = fs::metadata(&target).map_err(|e| io(&target, e))?;
        rows.push((file.key.as_str(), row(&file.checksum, &meta)));
    }
    remove_stale(dir, &files.iter().map(|f| dir.join(&f.key)).collect())?;
    let keep: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let stale: Vec<&String> = recorded
        .keys()
        .filter(|k| !keep.contains(k.as_str()))
        .collect();
    if !rows.is_empty() || !stale.is_empty() {
        let write = || -> Result<(), redb::Error> {
            let txn = db.redb().begin_write()?;
            {
                let mut t = txn.open_table(definition)?;
                for key in &stale {
                    t.remove(key.as_str())?;
                }
                for (key, row) in &rows {
                    t.insert(*key, row)?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| e.to_string())?;
    }
    Ok(rows.len())
}

/// Removes the files under `dir` that are not in `keep`, and emptied directories.
fn remove_stale(dir: &Path, keep: &HashSet<PathBuf>) -> Result<(), String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            remove_stale(&path, keep)?;
            let _ = fs::remove_dir(&path); // only succeeds when empty
        } else if !keep.contains(&path) {
            fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}
