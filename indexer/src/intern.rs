//! Interning: every element buffer into the buffer directory as a flat
//! `<checksum>` file, by hard link or by copy, written atomically and never
//! overwriting a buffer that exists.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use faircore::Checksum;
use faircore::lock::WriteLock;
use faircore::staging::{self, Staging};
use tempfile::NamedTempFile;

use crate::Error;
use crate::stat::FileStat;

/// How element buffers reach the buffer directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InternMode {
    /// Not at all.
    #[default]
    None,
    /// Hard links to the source files (same filesystem only).
    Hardlink,
    /// Copies, made in the same read as the hashing.
    Copy,
}

/// The buffer directory, open for writing.
#[derive(Debug)]
pub struct BufferStore {
    dir: PathBuf,
    staging: Staging,
    mode: InternMode,
    /// The source tree, every link resolved: only files inside it are interned.
    source: PathBuf,
}

impl BufferStore {
    /// Opens `dir` (created if missing) for interning from `source` in `mode`.
    /// Hard links across filesystems are refused here, before any work.
    pub fn open(
        dir: &Path,
        mode: InternMode,
        source: &Path,
        lock: &WriteLock,
    ) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| faircore::Error::io(dir, e))?;
        if mode == InternMode::Hardlink {
            let dev = |p: &Path| {
                fs::metadata(p)
                    .map(|m| m.dev())
                    .map_err(|e| faircore::Error::io(p, e))
            };
            if dev(dir)? != dev(source)? {
                return Err(Error::CrossDevice {
                    source_dir: source.to_owned(),
                    buffer_dir: dir.to_owned(),
                });
            }
        }
        let staging = Staging::new(faircore::Layout::buffer_staging(dir), lock)?;
        let source = fs::canonicalize(source).map_err(|e| faircore::Error::io(source, e))?;
        Ok(BufferStore {
            dir: dir.to_owned(),
            staging,
            mode,
            source,
        })
    }

    /// The buffer directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The interning mode.
    pub fn mode(&self) -> InternMode {
        self.mode
    }

    /// Where the buffer `checksum` lives.
    pub fn path(&self, checksum: &Checksum) -> PathBuf {
        self.dir.join(checksum.to_string())
    }

    /// Whether the buffer `checksum` is present.
    pub fn has(&self, checksum: &Checksum) -> bool {
        self.path(checksum).exists()
    }

    /// The length of the buffer `checksum`, if it is present.
    pub fn len(&self, checksum: &Checksum) -> Option<u64> {
        fs::metadata(self.path(checksum)).ok().map(|m| m.len())
    }

    /// A temporary file to fill (an operation's result, a copy).
    pub fn temp(&self) -> faircore::Result<NamedTempFile> {
        self.staging.temp()
    }

    /// A temporary file to copy the source file `path` into while it is hashed;
    /// refused if `path` is a symbolic link that resolves outside the source tree
    /// (as `fair serve --serve-source` refuses to serve it).
    pub fn temp_for(&self, path: &Path) -> Result<NamedTempFile, String> {
        self.inside(path).map_err(|e| e.to_string())?;
        self.temp().map_err(|e| e.to_string())
    }

    /// `path` with every link resolved, if that is inside the source tree.
    fn inside(&self, path: &Path) -> io::Result<PathBuf> {
        let real = fs::canonicalize(path)?;
        if real.starts_with(&self.source) {
            return Ok(real);
        }
        let message = format!(
            "a symbolic link to {}, outside the source tree {}: not interned (only files inside the tree are)",
            faircore::display::path(&real),
            faircore::display::path(&self.source)
        );
        Err(io::Error::new(io::ErrorKind::PermissionDenied, message))
    }

    /// Publishes a filled temporary file as the buffer `checksum`. An existing
    /// buffer is kept, unless its length differs (a power cut before [`sync`]
    /// can leave an empty one behind).
    ///
    /// [`sync`]: BufferStore::sync
    pub fn publish(&self, tmp: NamedTempFile, checksum: &Checksum) -> faircore::Result<()> {
        let target = self.path(checksum);
        let len = |p: &Path| fs::metadata(p).map(|m| m.len()).ok();
        if len(&target).is_some_and(|existing| Some(existing) != len(tmp.path())) {
            tmp.persist(&target)
                .map_err(|e| faircore::Error::io(&target, e.error))?;
            return Ok(());
        }
        match tmp.persist_noclobber(&target) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(faircore::Error::io(&target, e.error)),
        }
    }

    /// Writes `bytes`, whose checksum is `checksum`, as a buffer (kept if it
    /// exists, as [`publish`] does).
    ///
    /// [`publish`]: BufferStore::publish
    pub fn put(&self, bytes: &[u8], checksum: &Checksum) -> faircore::Result<()> {
        let mut tmp = self.temp()?;
        tmp.write_all(bytes)
            .map_err(|e| faircore::Error::io(tmp.path(), e))?;
        self.publish(tmp, checksum)
    }

    /// Makes every buffer written so far durable, with one `syncfs` of the buffer
    /// directory's filesystem instead of an `fsync` per file and directory. Call it
    /// before recording that the buffers exist.
    pub fn sync(&self) -> faircore::Result<()> {
        staging::sync_filesystem(&self.dir)
    }

    /// Hard-links the file at `path`, whose content hashed to `checksum` when it
    /// had `stat`, as the buffer. Returns the file's stat after linking (linking
    /// changes its ctime), or an error if the file was replaced in between.
    pub fn link(&self, path: &Path, checksum: &Checksum, stat: &FileStat) -> io::Result<FileStat> {
        let target = self.path(checksum);
        // Link what a symlink points to, not the symlink; only inside the tree.
        let source = self.inside(path)?;
        match fs::hard_link(&source, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(*stat),
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                return Err(io::Error::new(
                    e.kind(),
                    "on another filesystem than the buffer directory; use --intern copy",
                ));
            }
            Err(e) => return Err(e),
        }
        let linked = FileStat::from(&fs::metadata(&target)?);
        if !linked.same_content(stat) {
            fs::remove_file(&target)?;
            return Err(io::Error::other(
                "changed before it could be hard-linked; run again",
            ));
        }
        Ok(linked)
    }
}
