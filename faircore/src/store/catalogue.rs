//! `Catalogue`: the catalogue directory. Opening reads `fair.toml` (or recognises a
//! Seamless FAIR dir, which is sha3-256); writing goes through a `Writer`, which
//! holds the lock, publishes every file atomically and keeps the derived store
//! current. Where each file is: [`Layout`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::collection::{EncodeStream, Encoded};
use crate::config::Config;
use crate::distribution::{self, Distribution};
use crate::layout::{ContentDir, Layout, SEAMLESS_DIRS, ShardDir};
use crate::lock::WriteLock;
use crate::staging::{Rewrite, Staging};
use crate::store::{Origin, Store};
use crate::{Checksum, Collection, CollectionKind, Error, HashAlgo, Name, Result};

/// An opened catalogue directory.
#[derive(Clone, Debug)]
pub struct Catalogue {
    layout: Layout,
    config: Config,
    /// Whether the configuration was read from `fair.toml`.
    configured: bool,
}

impl Catalogue {
    /// Creates a catalogue at `root` (created if missing) with `config`. Refuses a
    /// directory that is one already, and a Seamless dir with another algorithm
    /// than sha3-256.
    pub fn init(root: &Path, config: Config) -> Result<Self> {
        let layout = Layout::new(root);
        let config_path = layout.config();
        if config_path.exists() {
            return Err(Error::AlreadyInitialised { path: config_path });
        }
        if layout.is_seamless() && config.hash != HashAlgo::Sha3_256 {
            return Err(Error::SeamlessNeedsSha3 {
                path: root.to_owned(),
            });
        }
        let dirs = SEAMLESS_DIRS.iter().map(|dir| layout.dir(dir));
        for path in dirs.chain([layout.private()]) {
            fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        let catalogue = Catalogue {
            layout,
            config,
            configured: true,
        };
        let writer = catalogue.writer()?;
        writer
            .staging
            .replace(&config_path, catalogue.config.to_toml().as_bytes())?;
        Ok(catalogue)
    }

    /// Opens the catalogue at `root`. A directory without `fair.toml` is a Seamless
    /// FAIR dir (sha3-256), unless fair wrote there with a `fair.toml`: that one is
    /// refused ([`Error::ConfigMissing`]) rather than read with another algorithm.
    pub fn open(root: &Path) -> Result<Self> {
        let layout = Layout::new(root);
        let config_path = layout.config();
        let config = match crate::regular::read_to_string(&config_path) {
            Ok(text) => Config::parse(&text).map_err(|message| Error::Config {
                path: config_path,
                message,
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !root.is_dir() {
                    let e = io::Error::new(io::ErrorKind::NotFound, "no such directory");
                    return Err(Error::io(root, e));
                }
                if let Some(origin) = Origin::of(&layout).filter(|o| o.configured) {
                    return Err(Error::ConfigMissing {
                        path: config_path,
                        hash: origin.hash,
                        store: layout.private(),
                    });
                }
                if !layout.is_seamless() {
                    return Err(Error::NotACatalogue {
                        path: root.to_owned(),
                    });
                }
                return Ok(Catalogue {
                    layout,
                    config: Config::new(HashAlgo::Sha3_256, None),
                    configured: false,
                });
            }
            Err(e) => return Err(Error::io(config_path, e)),
        };
        Ok(Catalogue {
            layout,
            config,
            configured: true,
        })
    }

    /// The catalogue directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// Where its files are.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Its configuration (defaults for a Seamless dir without `fair.toml`).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Its hash algorithm.
    pub fn hash(&self) -> HashAlgo {
        self.config.hash
    }

    /// The records of `dataset`, in the order they were added; `None` if the
    /// dataset has no distributions file.
    pub fn read_distributions(&self, dataset: &Name) -> Result<Option<Vec<Distribution>>> {
        let path = self.layout.distributions(dataset);
        match crate::regular::read(&path) {
            Ok(bytes) => distribution::parse(&bytes)
                .map(Some)
                .map_err(|source| Error::Json { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The names of the datasets with a distributions file, sorted.
    pub fn datasets(&self) -> Result<Vec<Name>> {
        let dir = self.layout.distributions_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let file = entry.file_name();
            let name = file.to_str().and_then(|f| f.strip_suffix(".json"));
            if let Some(name) = name.and_then(|n| Name::new(n).ok()) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The sum of the sizes of the element buffers of `elements` in `buffers/`,
    /// each occurrence counted (a content size); or an element that is not there.
    pub fn buffers_size<'c>(
        &self,
        elements: impl IntoIterator<Item = &'c Checksum>,
    ) -> std::result::Result<u64, Checksum> {
        let mut counts: HashMap<&Checksum, u64> = HashMap::new();
        for element in elements {
            *counts.entry(element).or_default() += 1;
        }
        counts
            .into_par_iter()
            .map(|(element, count)| {
                let path = self.layout.content(ContentDir::Buffers, element);
                match fs::metadata(path) {
                    Ok(meta) if meta.is_file() => Ok(meta.len() * count),
                    _ => Err(*element),
                }
            })
            .sum()
    }

    /// Reads the collection `name` of `kind`, if it exists.
    pub fn read_collection(&self, kind: CollectionKind, name: &Name) -> Result<Option<Collection>> {
        let path = self.layout.collection(kind, name);
        match crate::regular::read(&path) {
            Ok(bytes) => Collection::from_json(kind, &bytes)
                .map(Some)
                .map_err(|source| Error::Json { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// What its derived stores record about it.
    fn origin(&self) -> Origin {
        Origin::new(self.config.hash, self.configured)
    }

    /// Opens the derived store of a shard run (`ShardDir::store`), as the holder
    /// of that shard's `lock`: its incremental cache, apart from the catalogue's.
    pub fn shard_store(&self, dir: &ShardDir, lock: &WriteLock) -> Result<Store> {
        Store::open_file(&dir.store(), self.origin(), lock)
    }

    /// Takes the writer lock; fails at once if another writer holds it.
    pub fn writer(&self) -> Result<Writer<'_>> {
        let private = self.layout.private();
        fs::create_dir_all(&private).map_err(|e| Error::io(&private, e))?;
        let lock = WriteLock::acquire(&self.layout.lock())?;
        // A publication a killed writer left is completed before its staged
        // files would be removed.
        crate::store::journal::complete(&self.layout)?;
        let staging = Staging::new(self.layout.staging(), &lock)?;
        Ok(Writer {
            catalogue: self,
            lock,
            staging,
        })
    }
}

/// A collection being written entry by entry ([`Writer::collection_stream`]).
#[derive(Debug)]
pub struct CollectionStream<'w> {
    encode: EncodeStream<io::BufWriter<Rewrite<'w>>>,
    path: PathBuf,
}

impl CollectionStream<'_> {
    /// Appends `key` → `checksum`. Errors: a key that does not sort after the
    /// previous one, or a failed write (naming the collection file).
    pub fn push(&mut self, key: &str, checksum: &Checksum) -> Result<()> {
        self.encode
            .push(key, checksum)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// The number of keys pushed so far.
    pub fn nkeys(&self) -> u64 {
        self.encode.nkeys()
    }

    /// Publishes the collection (unless its bytes are those of the file
    /// already); returns its checksum, number of keys and whether the file was
    /// written.
    pub fn finish(self) -> Result<(Checksum, u64, bool)> {
        let path = self.path;
        let (out, checksum, nkeys) = self.encode.finish().map_err(|e| Error::io(&path, e))?;
        let rewrite = out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        let written = rewrite.finish()?;
        Ok((checksum, nkeys, written))
    }
}

/// A content-addressed file written as a stream and hashed as it goes
/// ([`Writer::content_stream`]); [`ContentStream::finish`] publishes it under its
/// checksum. Dropped unfinished, it leaves nothing behind.
#[derive(Debug)]
pub struct ContentStream<'w> {
    writer: &'w Writer<'w>,
    dir: ContentDir,
    hasher: crate::Hasher,
    out: io::BufWriter<tempfile::NamedTempFile>,
    len: u64,
}

impl io::Write for ContentStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl ContentStream<'_> {
    /// Syncs the file and publishes it as `<dir>/<checksum>` unless that exists;
    /// returns its checksum and size in bytes.
    pub fn finish(self) -> Result<(Checksum, u64)> {
        let checksum = self.hasher.finalize();
        let path = self.writer.catalogue.layout.content(self.dir, &checksum);
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        tmp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        crate::staging::publish_new(tmp, &path)?;
        Ok((checksum, self.len))
    }
}

/// The one writer of a catalogue: holds the lock until dropped.
#[derive(Debug)]
pub struct Writer<'a> {
    catalogue: &'a Catalogue,
    lock: WriteLock,
    staging: Staging,
}

impl Writer<'_> {
    /// The catalogue being written.
    pub fn catalogue(&self) -> &Catalogue {
        self.catalogue
    }

    /// The held lock, proof for other writers of derived state.
    pub fn lock(&self) -> &WriteLock {
        &self.lock
    }

    /// Opens the derived store for writing (`.fair/store.redb`).
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.catalogue.layout, self.catalogue.origin(), &self.lock)
    }

    /// Writes the collection `name` atomically, unless the file already holds
    /// exactly these bytes. Returns the encoding and whether the file was written.
    pub fn write_collection(
        &self,
        name: &Name,
        collection: &Collection,
    ) -> Result<(Encoded, bool)> {
        let encoded = collection.encode(self.catalogue.hash());
        let path = self.catalogue.layout.collection(collection.kind(), name);
        let written = self.publish(&path, &encoded.bytes)?;
        Ok((encoded, written))
    }

    /// Starts writing the collection `name` of `kind` as a stream of entries in
    /// key order ([`CollectionStream`]); the file is replaced atomically by
    /// [`CollectionStream::finish`], and only if its bytes changed.
    pub fn collection_stream(
        &self,
        kind: CollectionKind,
        name: &Name,
    ) -> Result<CollectionStream<'_>> {
        let path = self.catalogue.layout.collection(kind, name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let rewrite = Rewrite::new(&self.staging, &path)?;
        Ok(CollectionStream {
            encode: EncodeStream::new(
                io::BufWriter::with_capacity(1 << 16, rewrite),
                self.catalogue.hash(),
            ),
            path,
        })
    }

    /// Replaces the file at `path` (inside the catalogue) with `bytes`
    /// atomically, creating its directory, unless it holds exactly these bytes
    /// already. Returns whether it was written.
    pub fn publish(&self, path: &Path, bytes: &[u8]) -> Result<bool> {
        if crate::regular::read(path).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        self.staging.replace(path, bytes)?;
        Ok(true)
    }

    /// Writes the content-addressed file `checksum` of `dir` (fsynced, then
    /// renamed into place) unless it exists. Returns whether it was written.
    pub fn publish_content(
        &self,
        dir: ContentDir,
        checksum: &Checksum,
        bytes: &[u8],
    ) -> Result<bool> {
        let path = self.catalogue.layout.content(dir, checksum);
        if path.exists() {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = self.staging.filled(bytes)?;
        crate::staging::publish_new(tmp, &path)
    }

    /// Starts writing a content-addressed file of `dir` whose checksum is known
    /// only at the end ([`ContentStream`]).
    pub fn content_stream(&self, dir: ContentDir) -> Result<ContentStream<'_>> {
        let tmp = self.staging.temp()?;
        Ok(ContentStream {
            writer: self,
            dir,
            hasher: self.catalogue.hash().hasher(),
            out: io::BufWriter::with_capacity(1 << 16, tmp),
            len: 0,
        })
    }

    /// The catalogue's staging directory, for temporary files of other writes.
    pub fn staging(&self) -> &Staging {
        &self.staging
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn init_then_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("cat");
        let config = Config::new(HashAlgo::Sha256, Some("https://x.org/".into()));
        Catalogue::init(&root, config.clone()).expect("init");
        assert_eq!(Catalogue::open(&root).expect("open").config(), &config);
        let err = Catalogue::init(&root, config).expect_err("twice");
        assert!(matches!(err, Error::AlreadyInitialised { .. }), "{err}");
    }

    #[test]
    fn a_seamless_dir_opens_as_sha3_and_refuses_other_algorithms() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("deepfolders")).expect("mkdir");
        let cat = Catalogue::open(dir.path()).expect("open");
        assert_eq!(cat.hash(), HashAlgo::Sha3_256);
        let err =
            Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect_err("mix");
        assert!(err.to_string().contains("--hash sha3-256"), "{err}");
    }

    #[test]
    fn an_empty_dir_is_not_a_catalogue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Catalogue::open(dir.path()).expect_err("empty");
        assert!(err.to_string().contains("fair init"), "{err}");
        let err = Catalogue::open(&dir.path().join("missing")).expect_err("missing");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn a_bad_config_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("fair.toml"), "format = 1\nhash = 3\n").expect("write");
        let err = Catalogue::open(dir.path()).expect_err("bad");
        assert!(err.to_string().contains("fair.toml"), "{err}");
    }

    #[test]
    fn write_collection_is_idempotent_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cat = Catalogue::init(dir.path(), Config::new(HashAlgo::Blake3, None)).expect("init");
        let name = Name::new("c").expect("name");
        let entries = BTreeMap::from([("a".to_string(), HashAlgo::Blake3.hash(b"a"))]);
        let collection = Collection::new(CollectionKind::Deepfolder, entries);
        let writer = cat.writer().expect("lock");
        let (encoded, written) = writer.write_collection(&name, &collection).expect("write");
        assert!(written);
        let (again, written) = writer.write_collection(&name, &collection).expect("write");
        assert!(!written);
        assert_eq!(encoded, again);
        assert_eq!(
            cat.read_collection(CollectionKind::Deepfolder, &name)
                .expect("read"),
            Some(collection)
        );
        let tmp = cat.layout().staging();
        assert_eq!(fs::read_dir(tmp).expect("tmp").count(), 0);
    }
}
