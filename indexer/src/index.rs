//! One index run: walk the source in key order, reuse or compute every file's
//! checksum in parallel, intern buffers, and stream the collection's plain bytes
//! and the incremental cache's rows as the directories complete; the deepfolder
//! is published at the end, unless a file failed.
//!
//! Memory is bounded by the work in flight ([`ordered`]: at most `MAX_UNITS`
//! files) and the directories on the path being written, not by the tree.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{self, File};
use std::iter::Peekable;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use faircore::lock::WriteLock;
use faircore::store::ExtraDigestTable;
use faircore::{
    Catalogue, Checksum, Collection, CollectionKind, ExtraAlgo, ExtraDigests, HashAlgo, Name,
    Shard, Store, Writer,
};
use rayon::prelude::*;
use rustix::fs::FileType;

use crate::cache::{self, Cache, Entry, Pending};
use crate::exclude::Exclude;
use crate::filehash::{self, Outcome};
use crate::intern::{BufferStore, InternMode};
use crate::ordered;
use crate::space;
use crate::stat::{self, FileStat};
use crate::walk::{self, Leaf, Walk};
use crate::{Error, Problem, Report};
/// How often a file that keeps changing while it is read is tried.
const ATTEMPTS: usize = 3;

/// What to index and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The source directory.
    pub source: PathBuf,
    /// The collection to write, `deepfolders/<collection>.json`.
    pub collection: Name,
    /// Whether and how to intern element buffers.
    pub intern: InternMode,
    /// The buffer directory; `<catalogue>/buffers` when `None`.
    pub bufferdir: Option<PathBuf>,
    /// Worker threads; all cores when `None`.
    pub jobs: Option<usize>,
    /// Publish the collection even if some files failed (without them).
    pub allow_errors: bool,
    /// Entries of the source left out: neither hashed nor reported.
    pub exclude: Exclude,
    /// Index only this shard's files ([`crate::ShardRun`]).
    pub shard: Option<Shard>,
    /// The free space (bytes) the buffer filesystem keeps: `--intern copy`
    /// stops the run before a copy would write into it. `None`: 5% of the
    /// filesystem, at most 2 GiB.
    pub min_free: Option<u64>,
}

/// Files (and directories, see `DIR_UNITS`) between being walked and being
/// written: what bounds the run's memory.
const MAX_UNITS: u64 = 1 << 16;
/// What a directory counts for in `MAX_UNITS` besides its files: each one in
/// flight holds an open descriptor, so at most `MAX_UNITS / DIR_UNITS` of them.
const DIR_UNITS: u64 = 256;

/// The directory whose files are being indexed: open, with its path and key.
struct Place<'d> {
    fd: BorrowedFd<'d>,
    path: &'d Path,
    key: &'d str,
}

/// One indexed file.
#[derive(Debug)]
struct Indexed {
    /// The collection key.
    key: String,
    /// Where the file name starts in `key`.
    name_at: usize,
    size: u64,
    /// The stat and checksum, as the cache records them.
    entry: Entry,
    /// The extra digests computed when it was hashed (`None` when its cached
    /// checksum was reused).
    extra: Option<ExtraDigests>,
}

/// What the run made of one directory.
#[derive(Debug)]
struct Directory {
    /// Its key: "" for the source, else a relative path.
    key: String,
    /// Its indexed files, sorted by name.
    files: Vec<Indexed>,
    /// Its entries that could not be indexed.
    problems: Vec<Problem>,
    /// Its subdirectories, in walk order.
    subdirs: Vec<String>,
    /// Its new cache row, when it differs from the stored one.
    changed_row: Option<Vec<u8>>,
    /// Cache rows under it of directories that are gone.
    gone: Vec<String>,
}

/// An indexed source held in memory (what `--actions` works on): what the run
/// did, and the collection of every file that could be indexed.
#[derive(Debug)]
pub struct Scan {
    /// The counts and the problems (`collections` is left empty).
    pub report: Report,
    /// Key → checksum of every indexed file.
    pub collection: Collection,
    /// The size of each distinct content.
    pub sizes: HashMap<Checksum, u64>,
}

/// Where a run's entries go, in key order: key, checksum, size.
type Sink<'s> = dyn FnMut(&str, &Checksum, u64) -> Result<(), Error> + 's;

/// Walks and hashes `options.source` and records the incremental cache, without
/// publishing anything; the collection is held in memory. `progress` is called
/// with each file's size as it is done.
pub fn scan(
    writer: &Writer<'_>,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Scan, Error> {
    let mut entries = BTreeMap::new();
    let mut sizes = HashMap::new();
    let db = writer.store()?;
    let report = run(
        writer.catalogue(),
        writer.lock(),
        &db,
        options,
        progress,
        &mut |key, checksum, size| {
            entries.insert(key.to_owned(), *checksum);
            sizes.insert(*checksum, size);
            Ok(())
        },
    )?;
    Ok(Scan {
        report,
        collection: Collection::new(CollectionKind::Deepfolder, entries),
        sizes,
    })
}

/// Indexes `options.source` into `deepfolders/<collection>.json` in the catalogue
/// held by `writer`, unless a file failed (see [`Options::allow_errors`]). The
/// collection is written as the walk goes, and replaces the old one atomically
/// at the end (not at all when its bytes did not change). `progress` is called
/// with each file's size as it is done.
pub fn index(
    writer: &Writer<'_>,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, Error> {
    let started = Instant::now();
    let walk_started_ns = now_ns();
    let db = writer.store()?;
    let mut stream = writer.collection_stream(CollectionKind::Deepfolder, &options.collection)?;
    let mut report = run(
        writer.catalogue(),
        writer.lock(),
        &db,
        options,
        progress,
        &mut |key, checksum, _| Ok(stream.push(key, checksum)?),
    )?;
    if report.errors.is_empty() || options.allow_errors {
        let (checksum, _, written) = stream.finish()?;
        // Each occurrence of an element counts: the bytes of the indexed files.
        db.record_content_sizes(&[(checksum, report.bytes)])?;
        db.record_walk(options.collection.as_str(), walk_started_ns)?;
        tracing::info!(
            collection = %options.collection,
            %checksum,
            written,
            "deepfolder up to date"
        );
        report
            .collections
            .insert(options.collection.to_string(), checksum);
    }
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The files and bytes of the last complete run of the collection `collection`
/// (what the next run's progress counts towards), if any.
pub fn last_totals(writer: &Writer<'_>, collection: &Name) -> Result<Option<(u64, u64)>, Error> {
    Ok(cache::last_totals(&writer.store()?, collection.as_str())?)
}

/// The run: walks, hashes and records the cache in `db`, handing every indexed
/// file to `sink` in key order; `lock` is the lock `db` (and the buffer
/// directory's staging) belong to.
pub(crate) fn run(
    catalogue: &Catalogue,
    lock: &WriteLock,
    db: &Store,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut Sink<'_>,
) -> Result<Report, Error> {
    let started = Instant::now();
    let source = &options.source;
    match fs::metadata(source) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(source_error(source, "not a directory".into())),
        Err(e) => return Err(source_error(source, e.to_string())),
    }
    let store = match options.intern {
        InternMode::None => None,
        mode => {
            let dir = options.bufferdir.clone().unwrap_or_else(|| {
                catalogue
                    .layout()
                    .content_dir(faircore::ContentDir::Buffers)
            });
            Some(BufferStore::open(&dir, mode, source, lock)?)
        }
    };
    let collection = options.collection.as_str();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    let run = Run {
        root: source,
        algo: catalogue.hash(),
        extra: &catalogue.config().extra_digests,
        known_extra: db.extra_digest_table()?,
        cache: Cache::open(db, collection)?,
        store,
        min_free: options.min_free,
        full: OnceLock::new(),
        start_ns: now_ns(),
        progress,
    };
    let mut merge = Merge {
        frames: Vec::new(),
        sink,
        report: Report::default(),
        pending: Pending::default(),
    };
    let root = fs::canonicalize(source).map_err(|e| source_error(source, e.to_string()))?;
    if fs::canonicalize(catalogue.layout().root()).is_ok_and(|cat| cat == root) {
        let why = "is the catalogue itself: index a mirror directory".to_owned();
        return Err(source_error(source, why));
    }
    let own = own_directories(&root, catalogue, run.store.as_ref().map(BufferStore::dir));
    ordered::run(
        &pool,
        Walk::new(source, options.exclude.clone(), own).map(|mut dir| {
            // Every directory is walked through; other shards' files and
            // problems are left to them.
            if let Some(shard) = options.shard {
                dir.leaves.retain(|leaf| shard.owns(&dir.key, &leaf.name));
                if !shard.owns_directory(&dir.key) {
                    dir.problems.clear();
                }
            }
            dir
        }),
        MAX_UNITS,
        |dir| dir.leaves.len() as u64 + DIR_UNITS,
        |dir| run.directory(dir),
        |dir| {
            run.stop_if_full()?;
            merge.take(dir)?;
            if merge.pending.full() {
                run.sync_buffers()?;
                merge.pending.flush(db, collection, None)?;
            }
            Ok::<(), Error>(())
        },
    )?;
    run.stop_if_full()?;
    let Merge {
        mut report,
        mut pending,
        ..
    } = merge;
    // Buffers are on disk before the cache says they are there.
    run.sync_buffers()?;
    pending.flush(db, collection, Some((report.files, report.bytes)))?;
    db.record_source(collection, &root)?;
    report.errors.sort();
    report.elapsed_s = started.elapsed().as_secs_f64();
    tracing::debug!(elapsed = ?started.elapsed(), files = report.files, "walked and hashed");
    Ok(report)
}

/// The keys, under the source `root` (canonical), of the catalogue's directory
/// and of the buffer directory `buffers`, where they are inside it: a catalogue
/// kept in its mirror would otherwise index its own files, more at every run.
fn own_directories(root: &Path, catalogue: &Catalogue, buffers: Option<&Path>) -> Vec<String> {
    [Some(catalogue.layout().root()), buffers]
        .into_iter()
        .flatten()
        .filter_map(|dir| {
            let dir = fs::canonicalize(dir).ok()?;
            let key = dir.strip_prefix(root).ok()?.to_str()?.to_owned();
            (!key.is_empty()).then_some(key)
        })
        .collect()
}

/// The writing end of a run: takes the directories in walk order and hands
/// their files to the sink in key order, each directory's files between its
/// subdirectories' subtrees; counts, and gathers the cache's changes.
struct Merge<'s, 'k> {
    /// The directories on the path being written, the deepest last.
    frames: Vec<Frame>,
    sink: &'s mut Sink<'k>,
    report: Report,
    pending: Pending,
}

/// A directory being written: its files not yet written and its
/// subdirectories not yet taken.
struct Frame {
    files: Peekable<std::vec::IntoIter<Indexed>>,
    subdirs: VecDeque<String>,
}

impl Merge<'_, '_> {
    /// Takes the next directory of the walk (the first subdirectory the deepest
    /// frame waits for), and writes every file that can now be written.
    fn take(&mut self, dir: Directory) -> Result<(), Error> {
        let report = &mut self.report;
        for file in &dir.files {
            report.files += 1;
            report.bytes += file.size;
            match file.extra {
                Some(extra) => {
                    report.hashed += 1;
                    if !extra.is_empty() {
                        self.pending.digests(file.entry.checksum, extra);
                    }
                }
                None => report.reused += 1,
            }
        }
        report.errors.extend(dir.problems);
        if let Some(row) = dir.changed_row {
            self.pending.row(dir.key, row);
        }
        self.pending.gone(dir.gone);
        self.frames.push(Frame {
            files: dir.files.into_iter().peekable(),
            subdirs: dir.subdirs.into(),
        });
        while let Some(top) = self.frames.last_mut() {
            let next = top.subdirs.front();
            while let Some(file) = top
                .files
                .next_if(|f| next.is_none_or(|sub| walk::before(f.name(), sub)))
            {
                (self.sink)(&file.key, &file.entry.checksum, file.size)?;
            }
            if top.subdirs.pop_front().is_some() {
                // The walk's next directory is that subdirectory.
                return Ok(());
            }
            self.frames.pop();
        }
        Ok(())
    }
}

pub(crate) fn source_error(path: &Path, reason: String) -> Error {
    Error::Source {
        path: path.to_owned(),
        reason,
    }
}

/// Now, in nanoseconds since the Unix epoch.
pub(crate) fn now_ns() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// The shared state of the worker threads.
struct Run<'a> {
    root: &'a Path,
    algo: HashAlgo,
    /// The extra digests of the catalogue.
    extra: &'a [ExtraAlgo],
    /// The extra digests recorded before the run: a file whose checksum lacks
    /// one is hashed again even when its stat is unchanged.
    known_extra: ExtraDigestTable,
    cache: Cache,
    store: Option<BufferStore>,
    /// See [`Options::min_free`].
    min_free: Option<u64>,
    /// Why the buffer directory cannot take more copies, once it cannot: the
    /// run stops there.
    full: OnceLock<String>,
    start_ns: i64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Run<'_> {
    /// Indexes the files of one directory of the walk.
    fn directory(&self, dir: walk::Dir) -> Directory {
        let cached = self.cache.directory(&dir.key);
        let results: Vec<Result<Indexed, Problem>> = match &dir.fd {
            Some(fd) => {
                let place = Place {
                    fd: fd.as_fd(),
                    path: &dir.path,
                    key: &dir.key,
                };
                dir.leaves
                    .into_par_iter()
                    .filter_map(|leaf| self.file(&place, &leaf, &cached))
                    .collect()
            }
            None => Vec::new(),
        };
        let mut problems = dir.problems;
        let mut files = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(file) => files.push(file),
                Err(problem) => problems.push(problem),
            }
        }
        // Unchanged: the same names (every file found in the row, as many) and entries.
        let unchanged = files.len() == cached.len()
            && files.iter().all(|f| cached.get(f.name()) == Some(&f.entry));
        let changed_row =
            (!unchanged).then(|| cache::encode(files.iter().map(|f| (f.name(), &f.entry))));
        let gone = self
            .cache
            .gone_under(&dir.key, &dir.subdirs)
            .unwrap_or_else(|e| {
                tracing::warn!(
                    "incremental cache under {:?}: {e}; its old rows are kept",
                    dir.key
                );
                Vec::new()
            });
        Directory {
            key: dir.key,
            files,
            problems,
            subdirs: dir.subdirs,
            changed_row,
            gone,
        }
    }

    /// The error that stops the run once the buffer directory is full.
    fn stop_if_full(&self) -> Result<(), Error> {
        match (self.full.get(), &self.store) {
            (Some(reason), Some(store)) => Err(Error::BufferFull {
                dir: store.dir().to_owned(),
                reason: reason.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// `error` as a file's problem; if it says that the buffer filesystem is
    /// full, also the reason the run stops (said once, for the directory).
    fn copy_failed(&self, error: &(dyn std::error::Error + 'static)) -> String {
        let io = std::iter::successors(Some(error), |e| e.source())
            .find_map(|e| e.downcast_ref::<std::io::Error>());
        if let Some(io) = io.filter(|io| space::is_full(io)) {
            let _ = self.full.set(io.to_string());
        }
        error.to_string()
    }

    /// A temporary buffer to copy the file at `path` (`size` bytes) into, once
    /// the buffer filesystem keeps its reserve after it.
    fn copy_target(
        &self,
        store: &BufferStore,
        path: &Path,
        size: u64,
    ) -> Result<tempfile::NamedTempFile, String> {
        if let Some(reason) = self.full.get() {
            return Err(format!("not copied: {reason}"));
        }
        let tmp = store.temp_for(path)?;
        space::ensure(tmp.as_file(), self.min_free, size).map_err(|e| self.copy_failed(&e))?;
        Ok(tmp)
    }

    /// Makes the interned buffers durable (before the cache names them).
    fn sync_buffers(&self) -> Result<(), Error> {
        match &self.store {
            Some(store) => Ok(store.sync()?),
            None => Ok(()),
        }
    }
}

impl Indexed {
    fn name(&self) -> &str {
        &self.key[self.name_at..]
    }
}

impl Run<'_> {
    /// Indexes one entry of the directory `dir`: `None` for what is skipped.
    fn file(
        &self,
        dir: &Place<'_>,
        leaf: &Leaf,
        cached: &cache::Directory,
    ) -> Option<Result<Indexed, Problem>> {
        let problem = |error| {
            Err(Problem {
                path: walk::display(&dir.path.join(&leaf.name)),
                error,
            })
        };
        let cached = cached.get(&leaf.name);
        let (stat, opened) = match leaf.look(dir.fd, dir.path, cached.is_none())? {
            Ok(found) => found,
            Err(error) => return Some(problem(error)),
        };
        let key = walk::key(dir.key, &leaf.name);
        let result = self.checksum(dir.fd, &leaf.name, &key, stat, cached, opened);
        (self.progress)(stat.size);
        Some(match result {
            Ok((entry, extra)) => Ok(Indexed {
                name_at: key.len() - leaf.name.len(),
                key,
                size: stat.size,
                entry,
                extra,
            }),
            Err(error) => problem(error),
        })
    }

    /// Whether the cached `entry` has every extra digest the catalogue wants.
    fn has_extra(&self, entry: &Entry) -> bool {
        self.extra.is_empty()
            || self
                .known_extra
                .get(&entry.checksum)
                .is_some_and(|known| self.extra.iter().all(|algo| known.get(*algo).is_some()))
    }

    /// The cache entry to store for the file `name` of the directory `dir`,
    /// which has `key` and had `stat` (the file, when `opened` already), and
    /// its extra digests if it was hashed (`None`: its cached checksum was
    /// reused).
    fn checksum(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        key: &str,
        stat: FileStat,
        cached: Option<&Entry>,
        mut opened: Option<File>,
    ) -> Result<(Entry, Option<ExtraDigests>), String> {
        let reusable = cached.filter(|e| e.reusable_for(&stat).is_some() && self.has_extra(e));
        if let Some(entry) = reusable {
            match &self.store {
                Some(store) if !store.has(&entry.checksum) => {
                    if store.mode() == InternMode::Hardlink {
                        let linked = store
                            .link(&self.root.join(key), &entry.checksum, &stat)
                            .map_err(|e| e.to_string())?;
                        // Linking changed the ctime, not the content.
                        return Ok((
                            Entry {
                                stat: linked,
                                ..*entry
                            },
                            None,
                        ));
                    }
                    // A copy needs the content: read it again below.
                }
                _ => return Ok((*entry, None)),
            }
        }
        let path = &self.root.join(key);
        let mut stat = stat;
        for attempt in 1..=ATTEMPTS {
            let file = match opened.take() {
                Some(file) => file,
                None => stat::open_at(dir, name).map_err(|e| e.to_string())?,
            };
            if attempt > 1 {
                let found = stat::stat_of(&file).map_err(|e| e.to_string())?;
                if stat::kind(&found) != FileType::RegularFile {
                    return Err(format!(
                        "became {} while being read",
                        stat::kind_name(stat::kind(&found))
                    ));
                }
                stat = stat::file_stat(&found);
            }
            let mut tmp = match &self.store {
                Some(store) if store.mode() == InternMode::Copy => {
                    Some(self.copy_target(store, path, stat.size)?)
                }
                _ => None,
            };
            let copy = tmp.as_mut().map(|t| t.as_file_mut());
            match filehash::hash_file(file, &stat, self.algo, self.extra, copy)
                .map_err(|e| self.copy_failed(&e))?
            {
                Outcome::Changed => continue,
                Outcome::Hashed(checksum, extra) => {
                    let stat = match (&self.store, tmp) {
                        (Some(store), Some(tmp)) => {
                            store
                                .publish(tmp, &checksum)
                                .map_err(|e| self.copy_failed(&e))?;
                            stat
                        }
                        (Some(store), None) => store
                            .link(path, &checksum, &stat)
                            .map_err(|e| e.to_string())?,
                        (None, _) => stat,
                    };
                    return Ok((Entry::new(stat, checksum, self.start_ns), Some(extra)));
                }
            }
        }
        Err(format!(
            "kept changing while being read ({ATTEMPTS} attempts); not indexed"
        ))
    }
}
