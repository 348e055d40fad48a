//! Publishing the files of one run as one unit (`fair index --actions`: its
//! collections, download indexes and copied trees). Every new file is first
//! staged (written and synced in `.fair/tmp/`); then the journal, the list of
//! renames and removals, is published atomically (`.fair/journal.json`); then they
//! are made and the journal removed. A writer killed before the journal exists
//! leaves staged files only (the next writer empties the staging directory): the
//! old state. Killed after, it leaves the journal: the next writer completes it
//! before anything else ([`complete`]): the new state. While a journal is pending,
//! `fair verify` says so.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::{Error, Result, Writer};

/// What a journal records, with paths relative to the catalogue directory.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    /// Staged file → its target.
    renames: Vec<(String, String)>,
    /// Files to remove.
    removals: Vec<String>,
}

/// The files of one run, staged, to be published together by [`commit`].
///
/// [`commit`]: Publication::commit
#[derive(Debug)]
pub struct Publication<'w> {
    writer: &'w Writer<'w>,
    journal: Journal,
}

impl<'w> Publication<'w> {
    /// An empty publication of `writer`.
    pub fn new(writer: &'w Writer<'w>) -> Self {
        Publication {
            writer,
            journal: Journal::default(),
        }
    }

    /// The path of `path` relative to the catalogue, as the journal records it.
    fn relative(&self, path: &Path) -> Result<String> {
        // Both absolute and without `.` components: a catalogue opened as
        // `./dir` stages in `$PWD/./dir/.fair/tmp`.
        let (root, path) = (
            std::path::absolute(self.writer.catalogue().root()),
            std::path::absolute(path),
        );
        let relative = match (&root, &path) {
            (Ok(root), Ok(path)) => path.strip_prefix(root).ok(),
            _ => None,
        };
        relative
            .and_then(Path::to_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::invalid(
                    path.as_deref()
                        .map(crate::display::path)
                        .unwrap_or_default(),
                    "expected a UTF-8 path inside the catalogue",
                )
            })
    }

    /// A temporary file of the catalogue's staging directory, to fill and then
    /// [`stage`](Publication::stage).
    pub fn temp(&self) -> Result<tempfile::NamedTempFile> {
        self.writer.staging().temp()
    }

    /// Stages `bytes` as the new content of `target` (inside the catalogue),
    /// unless it holds exactly these bytes already. Returns whether it will be
    /// written.
    pub fn replace(&mut self, target: &Path, bytes: &[u8]) -> Result<bool> {
        if crate::regular::read(target).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        let tmp = self.writer.staging().filled(bytes)?;
        self.stage(tmp.into_temp_path(), target)?;
        Ok(true)
    }

    /// Stages the filled temporary file `tmp` (of the catalogue's staging
    /// directory) as the new `target`.
    pub fn stage(&mut self, tmp: tempfile::TempPath, target: &Path) -> Result<()> {
        let target = self.relative(target)?;
        let kept = tmp.keep().map_err(|e| Error::io(&e.path, e.error))?;
        let kept = self.relative(&kept)?;
        self.journal.renames.push((kept, target));
        Ok(())
    }

    /// Removes `target` with the rest.
    pub fn remove(&mut self, target: &Path) -> Result<()> {
        let target = self.relative(target)?;
        self.journal.removals.push(target);
        Ok(())
    }

    /// Publishes everything staged: the journal first, then every rename and
    /// removal, then the journal is removed.
    pub fn commit(self) -> Result<()> {
        if self.journal.renames.is_empty() && self.journal.removals.is_empty() {
            return Ok(());
        }
        let layout = self.writer.catalogue().layout();
        let bytes = serde_json::to_vec(&self.journal)
            .map_err(|e| Error::invalid("journal", e.to_string()))?;
        // Staged files are synced; their directories must exist before the
        // journal promises them.
        for (_, target) in &self.journal.renames {
            if let Some(dir) = layout.root().join(target).parent() {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        }
        self.writer.staging().replace(&layout.journal(), &bytes)?;
        apply(layout, &self.journal)
    }
}

/// Completes the publication a killed writer left (if any): called by every
/// writer, under the lock, before its staging directory is emptied. Returns
/// whether there was one.
pub fn complete(layout: &Layout) -> Result<bool> {
    let path = layout.journal();
    let bytes = match crate::regular::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    apply(layout, &journal)?;
    tracing::info!(
        "{}: completed the publication of an interrupted run ({} files)",
        crate::display::path(&path),
        journal.renames.len() + journal.removals.len()
    );
    Ok(true)
}

/// Whether a publication is pending (a writer was killed while publishing).
pub fn pending(layout: &Layout) -> bool {
    layout.journal().symlink_metadata().is_ok()
}

/// Makes the renames and removals of `journal` (each at most once: a staged file
/// already renamed, a file already removed, is skipped), syncs them, and removes
/// the journal.
fn apply(layout: &Layout, journal: &Journal) -> Result<()> {
    let root = layout.root();
    for (staged, target) in &journal.renames {
        let (staged, target) = (root.join(staged), root.join(target));
        match fs::rename(&staged, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&target, e)),
        }
    }
    for target in &journal.removals {
        let target = root.join(target);
        match fs::remove_file(&target) {
            Ok(()) => prune(root, &target),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&target, e)),
        }
    }
    crate::staging::sync_filesystem(root)?;
    let path = layout.journal();
    fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    crate::staging::sync_parent(&path)
}

/// Removes the directories above `removed` that it left empty, up to the
/// directory of its kind (`collections/NAME`'s parent stays).
fn prune(root: &Path, removed: &Path) {
    let mut dir: Option<PathBuf> = removed.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if d.parent() == Some(root) || !d.starts_with(root) || fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalogue, Config, HashAlgo};

    #[test]
    fn the_next_writer_completes_a_publication_killed_half_way() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(&dir.path().join("cat"), Config::new(HashAlgo::Blake3, None))
                .expect("init");
        let layout = catalogue.layout();
        let [a, b, gone] = [
            "deepfolders/a.json",
            "collections/x/k/b",
            "collections/x/old",
        ]
        .map(|p| layout.root().join(p));
        fs::create_dir_all(gone.parent().expect("dir")).expect("mkdir");
        for path in [&a, &gone] {
            fs::write(path, b"old").expect("old");
        }
        {
            let writer = catalogue.writer().expect("writer");
            let mut publication = Publication::new(&writer);
            assert!(publication.replace(&a, b"new a").expect("a"));
            assert!(publication.replace(&b, b"new b").expect("b"));
            publication.remove(&gone).expect("gone");
            assert!(!publication.replace(&gone, b"old").expect("unchanged"));
            // Killed after the journal and the first rename.
            fs::create_dir_all(b.parent().expect("dir")).expect("mkdir");
            let journal = serde_json::to_vec(&publication.journal).expect("json");
            writer
                .staging()
                .replace(&layout.journal(), &journal)
                .expect("journal");
            let (staged, _) = &publication.journal.renames[0];
            fs::rename(layout.root().join(staged), &a).expect("first rename");
            assert!(pending(layout));
        }
        let writer = catalogue.writer().expect("the next writer");
        assert!(!pending(layout));
        assert_eq!(fs::read(&a).expect("a"), b"new a");
        assert_eq!(fs::read(&b).expect("b"), b"new b");
        assert!(!gone.exists());
        assert_eq!(fs::read_dir(layout.staging()).expect("staging").count(), 0);
        drop(writer);
    }
}
