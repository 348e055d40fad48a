//! One index run: walk the source, reuse or compute every file's checksum in
//! parallel, intern buffers, record the cache, and publish the deepfolder unless a
//! file failed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use faircore::{Checksum, Collection, CollectionKind, HashAlgo, Name, Writer};
use rayon::prelude::*;

use crate::cache::{self, Entry};
use crate::filehash::{self, Outcome};
use crate::intern::{BufferStore, InternMode};
use crate::stat::{self, FileStat};
use crate::walk::{self, Candidate, Walk};
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
}

/// One indexed file.
#[derive(Debug)]
struct Indexed {
    key: String,
    checksum: Checksum,
    size: u64,
    hashed: bool,
    /// Whether the cache had an entry for this key.
    was_cached: bool,
    /// The cache entry to store, when it changed.
    cache: Option<Entry>,
}

/// Indexes `options.source` into the catalogue held by `writer`. `progress` is
/// called with each file's size as it is done.
pub fn index(
    writer: &Writer<'_>,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, Error> {
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
            let dir = options
                .bufferdir
                .clone()
                .unwrap_or_else(|| catalogue.root().join("buffers"));
            Some(BufferStore::open(&dir, mode, source, writer)?)
        }
    };
    let db = writer.database()?;
    let run = Run {
        algo: catalogue.hash(),
        cache: cache::load(&db, options.collection.as_str())?,
        store,
        start_ns: now_ns(),
        progress,
    };
    tracing::debug!(elapsed = ?started.elapsed(), cached = run.cache.len(), "incremental cache loaded");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    let outcomes: Vec<Result<Indexed, Problem>> = pool.install(|| {
        Walk::new(source)
            .par_bridge()
            .filter_map(|candidate| match candidate {
                Ok(c) => run.process(c),
                Err(problem) => Some(Err(problem)),
            })
            .collect()
    });

    tracing::debug!(elapsed = ?started.elapsed(), files = outcomes.len(), "walked and hashed");
    let mut report = Report::default();
    let mut files = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Ok(indexed) => {
                report.files += 1;
                report.bytes += indexed.size;
                if indexed.hashed {
                    report.hashed += 1;
                } else {
                    report.reused += 1;
                }
                files.push(indexed);
            }
            Err(problem) => report.errors.push(problem),
        }
    }
    report.errors.sort();
    files.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let still_cached = files.iter().filter(|f| f.was_cached).count();
    let stale: Vec<&str> = if still_cached == run.cache.len() {
        Vec::new()
    } else {
        let seen: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
        run.cache.keys().map(String::as_str).filter(|k| !seen.contains(k)).collect()
    };
    let changed = files.iter().filter_map(|f| Some((f.key.as_str(), f.cache.as_ref()?)));
    cache::update(&db, options.collection.as_str(), &stale, changed)?;
    tracing::debug!(elapsed = ?started.elapsed(), "incremental cache recorded");

    if report.errors.is_empty() || options.allow_errors {
        let entries: BTreeMap<_, _> = files.into_iter().map(|f| (f.key, f.checksum)).collect();
        let collection = Collection::new(CollectionKind::Deepfolder, entries);
        let (encoded, written) = writer.write_collection(&options.collection, &collection)?;
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
    algo: HashAlgo,
    cache: HashMap<String, Entry>,
    store: Option<BufferStore>,
    start_ns: i64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Run<'_> {
    /// Indexes one walk entry: `None` for what is deliberately skipped.
    fn process(&self, c: Candidate) -> Option<Result<Indexed, Problem>> {
        let problem = |error: String| {
            Some(Err(Problem {
                path: walk::display(&c.path),
                error,
            }))
        };
        let meta = match fs::metadata(&c.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && c.file_type.is_symlink() => {
                return problem("dangling symbolic link; not indexed".into());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return problem("vanished while the source was walked".into());
            }
            Err(e) => return problem(e.to_string()),
        };
        if meta.is_dir() {
            tracing::info!(path = %c.path.display(), "symbolic link to a directory: not followed");
            return None;
        }
        if !meta.is_file() {
            return problem(format!(
                "{}, not a regular file; not indexed",
                stat::kind_name(&meta)
            ));
        }
        let stat = FileStat::from(&meta);
        let cached = self.cache.get(&c.key);
        let result = self.checksum(&c, stat, cached);
        (self.progress)(stat.size);
        Some(match result {
            Ok((checksum, hashed, cache)) => Ok(Indexed {
                key: c.key,
                checksum,
                size: stat.size,
                hashed,
                was_cached: cached.is_some(),
                cache,
            }),
            Err(error) => Err(Problem {
                path: walk::display(&c.path),
                error,
            }),
        })
    }

    /// The file's checksum, whether it was hashed, and the cache entry to store.
    fn checksum(
        &self,
        c: &Candidate,
        stat: FileStat,
        cached: Option<&Entry>,
    ) -> Result<(Checksum, bool, Option<Entry>), String> {
        let reusable = cached.and_then(|e| e.reusable_for(&stat));
        if let Some(checksum) = reusable {
            match &self.store {
                Some(store) if !store.has(&checksum) && store.mode() == InternMode::Hardlink => {
                    let linked = store
                        .link(&c.path, &checksum, &stat)
                        .map_err(|e| e.to_string())?;
                    let entry =
                        (linked != stat).then(|| Entry::new(linked, checksum, self.start_ns));
                    return Ok((checksum, false, entry));
                }
                Some(store) if !store.has(&checksum) => {}
                _ => return Ok((checksum, false, None)),
            }
        }
        let mut stat = stat;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                let meta = fs::metadata(&c.path).map_err(|e| e.to_string())?;
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
            match filehash::hash_file(&c.path, &stat, self.algo, copy).map_err(|e| e.to_string())? {
                Outcome::Changed => continue,
                Outcome::Hashed(checksum) => {
                    let stat = match (&self.store, tmp) {
                        (Some(store), Some(tmp)) => {
                            store.publish(tmp, &checksum).map_err(|e| e.to_string())?;
                            stat
                        }
                        (Some(store), None) => store
                            .link(&c.path, &checksum, &stat)
                            .map_err(|e| e.to_string())?,
                        (None, _) => stat,
                    };
                    return Ok((
                        checksum,
                        true,
                        Some(Entry::new(stat, checksum, self.start_ns)),
                    ));
                }
            }
        }
        Err(format!(
            "kept changing while being read ({ATTEMPTS} attempts); not indexed"
        ))
    }
}
