//! One index run: walk the source, reuse or compute every file's checksum in
//! parallel, intern buffers, record the cache, and publish the deepfolder unless a
//! file failed.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use faircore::store::ExtraDigestTable;
use faircore::{
    Checksum, Collection, CollectionKind, ExtraAlgo, ExtraDigests, HashAlgo, Name, Writer,
};
use rayon::prelude::*;

use crate::cache::{self, Cache, Entry};
use crate::exclude::Exclude;
use crate::filehash::{self, Outcome};
use crate::intern::{BufferStore, InternMode};
use crate::stat::{self, FileStat};
use crate::walk::{self, Leaf, Visit};
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
    files: Vec<Result<Indexed, Problem>>,
    /// Its new cache row, when it differs from the stored one.
    changed_row: Option<Vec<u8>>,
}

/// An indexed source: what the run did, and the collection of every file that
/// could be indexed.
#[derive(Debug)]
pub struct Scan {
    /// The counts and the problems (`collections` is left empty).
    pub report: Report,
    /// Key → checksum of every indexed file.
    pub collection: Collection,
    /// The size of each distinct content.
    pub sizes: HashMap<Checksum, u64>,
}

/// Walks and hashes `options.source` and records the incremental cache, without
/// publishing anything. `progress` is called with each file's size as it is done.
pub fn scan(
    writer: &Writer<'_>,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Scan, Error> {
    let started = Instant::now();
    let catalogue = writer.catalogue();
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
            Some(BufferStore::open(&dir, mode, source, writer)?)
        }
    };
    let db = writer.store()?;
    let collection = options.collection.as_str();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    let extra = &catalogue.config().extra_digests;
    let run = Run {
        root: source,
        algo: catalogue.hash(),
        extra,
        known_extra: db.extra_digest_table()?,
        cache: Cache::open(&db, collection)?,
        store,
        start_ns: now_ns(),
        progress,
    };
    let (directories, problems) = pool.install(|| walk::walk(source, &options.exclude, &run));
    tracing::debug!(elapsed = ?started.elapsed(), directories = directories.len(), "walked and hashed");
    let (mut report, files) = tally(&directories, problems);

    if let Some(store) = &run.store {
        // Buffers are on disk before the cache says they are there.
        store.sync()?;
    }
    // The cache is recorded while the collection is built.
    let ((recorded, entries), sizes) = pool.install(|| {
        rayon::join(
            || {
                rayon::join(
                    || {
                        let visited = directories.iter().map(|d| d.key.as_str()).collect();
                        let changed: Vec<(&str, &[u8])> = directories
                            .iter()
                            .filter_map(|d| Some((d.key.as_str(), d.changed_row.as_deref()?)))
                            .collect();
                        cache::update(&db, collection, &run.cache, &visited, &changed)
                    },
                    || {
                        files
                            .iter()
                            .map(|f| (f.key.clone(), f.entry.checksum))
                            .collect()
                    },
                )
            },
            || files.iter().map(|f| (f.entry.checksum, f.size)).collect(),
        )
    });
    recorded?;
    let root = fs::canonicalize(source).map_err(|e| source_error(source, e.to_string()))?;
    db.record_source(collection, &root)?;
    let digests: Vec<(Checksum, ExtraDigests)> = files
        .iter()
        .filter_map(|f| Some((f.entry.checksum, f.extra.filter(|e| !e.is_empty())?)))
        .collect();
    db.record_extra_digests(&digests)?;
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(Scan {
        report,
        collection: Collection::new(CollectionKind::Deepfolder, entries),
        sizes,
    })
}

/// Indexes `options.source` into `deepfolders/<collection>.json` in the catalogue
/// held by `writer`, unless a file failed (see [`Options::allow_errors`]).
/// `progress` is called with each file's size as it is done.
pub fn index(
    writer: &Writer<'_>,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, Error> {
    let started = Instant::now();
    let Scan {
        mut report,
        collection,
        sizes,
    } = scan(writer, options, progress)?;
    if report.errors.is_empty() || options.allow_errors {
        let (encoded, written) = writer.write_collection(&options.collection, &collection)?;
        if let Some(size) = collection.content_size(|c| sizes.get(c).copied()) {
            writer
                .store()?
                .record_content_sizes(&[(encoded.checksum, size)])?;
        }
        tracing::info!(
            collection = %options.collection,
            checksum = %encoded.checksum,
            written,
            "deepfolder up to date"
        );
        report
            .collections
            .insert(options.collection.to_string(), encoded.checksum);
    }
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Counts what the run did, lists every problem sorted by path, and returns the
/// indexed files.
fn tally(directories: &[Directory], mut problems: Vec<Problem>) -> (Report, Vec<&Indexed>) {
    let mut report = Report::default();
    let mut files = Vec::new();
    for file in directories.iter().flat_map(|d| &d.files) {
        match file {
            Ok(f) => {
                report.files += 1;
                report.bytes += f.size;
                if f.extra.is_some() {
                    report.hashed += 1;
                } else {
                    report.reused += 1;
                }
                files.push(f);
            }
            Err(problem) => problems.push(problem.clone()),
        }
    }
    problems.sort();
    report.errors = problems;
    (report, files)
}

fn source_error(path: &Path, reason: String) -> Error {
    Error::Source {
        path: path.to_owned(),
        reason,
    }
}

fn now_ns() -> i64 {
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
    start_ns: i64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Visit for Run<'_> {
    type Output = Directory;

    fn directory(&self, dir: &str, leaves: Vec<Leaf>) -> Directory {
        let cached = self.cache.directory(dir);
        let files: Vec<Result<Indexed, Problem>> = leaves
            .into_par_iter()
            .filter_map(|leaf| self.file(dir, &leaf, &cached))
            .collect();
        let mut row: Vec<&Indexed> = files.iter().filter_map(|f| f.as_ref().ok()).collect();
        // Unchanged: the same names (every file found in the row, as many) and entries.
        let unchanged =
            row.len() == cached.len() && row.iter().all(|f| cached.get(f.name()) == Some(&f.entry));
        let changed_row = (!unchanged).then(|| {
            row.sort_unstable_by(|a, b| a.name().cmp(b.name()));
            cache::encode(row.iter().map(|f| (f.name(), &f.entry)))
        });
        Directory {
            key: dir.to_owned(),
            changed_row,
            files,
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
        dir: &str,
        leaf: &Leaf,
        cached: &cache::Directory,
    ) -> Option<Result<Indexed, Problem>> {
        let problem = |error| {
            Err(Problem {
                path: walk::display(&leaf.path()),
                error,
            })
        };
        let stat = match leaf.stat()? {
            Ok(stat) => stat,
            Err(error) => return Some(problem(error)),
        };
        let key = walk::key(dir, &leaf.name);
        let result = self.checksum(&key, stat, cached.get(&leaf.name));
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

    /// The cache entry to store for the file, and its extra digests if it was
    /// hashed (`None`: its cached checksum was reused).
    fn checksum(
        &self,
        key: &str,
        stat: FileStat,
        cached: Option<&Entry>,
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
            if attempt > 1 {
                let meta = fs::metadata(path).map_err(|e| e.to_string())?;
                if !meta.is_file() {
                    return Err(format!(
                        "became {} while being read",
                        stat::kind_name(&meta)
                    ));
                }
                stat = FileStat::from(&meta);
            }
            let mut tmp = match &self.store {
                Some(store) if store.mode() == InternMode::Copy => {
                    Some(store.temp().map_err(|e| e.to_string())?)
                }
                _ => None,
            };
            let copy = tmp.as_mut().map(|t| t.as_file_mut());
            match filehash::hash_file(path, &stat, self.algo, self.extra, copy)
                .map_err(|e| e.to_string())?
            {
                Outcome::Changed => continue,
                Outcome::Hashed(checksum, extra) => {
                    let stat = match (&self.store, tmp) {
                        (Some(store), Some(tmp)) => {
                            store.publish(tmp, &checksum).map_err(|e| e.to_string())?;
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
