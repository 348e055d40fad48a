//! One index run: walk the source, reuse or compute every file's checksum in
//! parallel, intern buffers, record the cache, and publish the deepfolder unless a
//! file failed.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use faircore::{Checksum, Collection, CollectionKind, HashAlgo, Name, Writer};
use rayon::prelude::*;

use crate::cache::{self, Entry};
use crate::filehash::{self, Outcome};
use crate::intern::{BufferStore, InternMode};
use crate::stat::{self, FileStat};
use crate::walk::{self, Found};
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    let run = Run {
        root: source,
        algo: catalogue.hash(),
        store,
        start_ns: now_ns(),
        progress,
    };
    let (walked, cached) = pool.install(|| {
        rayon::join(
            || walk::walk(source),
            || cache::load(&db, options.collection.as_str()),
        )
    });
    let cached = cached?;
    tracing::debug!(elapsed = ?started.elapsed(), entries = walked.len(), cached = cached.len(), "walked");

    let mut report = Report::default();
    let mut found = Vec::with_capacity(walked.len());
    for item in walked {
        match item {
            Ok(f) => found.push(f),
            Err(problem) => report.errors.push(problem),
        }
    }
    found.par_sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let (pairs, stale) = merge(found, cached);
    let outcomes: Vec<Result<Indexed, Problem>> = pool.install(|| {
        pairs
            .into_par_iter()
            .map(|(found, cached)| run.process(found, cached))
            .collect()
    });
    tracing::debug!(elapsed = ?started.elapsed(), "hashed");

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
    let publish = report.errors.is_empty() || options.allow_errors;
    // The cache and the collection are written at the same time.
    let (recorded, published) = pool.install(|| {
        rayon::join(
            || {
                let changed = files
                    .iter()
                    .filter_map(|f| Some((f.key.as_str(), f.cache.as_ref()?)));
                cache::update(&db, options.collection.as_str(), &stale, changed)
            },
            || {
                publish
                    .then(|| {
                        let entries = files.iter().map(|f| (f.key.clone(), f.checksum)).collect();
                        let collection = Collection::new(CollectionKind::Deepfolder, entries);
                        writer.write_collection(&options.collection, &collection)
                    })
                    .transpose()
            },
        )
    });
    recorded?;
    if let Some((encoded, written)) = published? {
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

/// Pairs each found file (sorted by key) with its cache entry (sorted by key),
/// and returns the cached keys that were not found, which are stale.
fn merge(
    found: Vec<Found>,
    cached: Vec<(String, Entry)>,
) -> (Vec<(Found, Option<Entry>)>, Vec<String>) {
    let mut stale = Vec::new();
    let mut cached = cached.into_iter().peekable();
    let pairs = found
        .into_iter()
        .map(|f| {
            while let Some((key, _)) = cached.next_if(|(key, _)| *key < f.key) {
                stale.push(key);
            }
            let entry = cached.next_if(|(key, _)| *key == f.key).map(|(_, e)| e);
            (f, entry)
        })
        .collect();
    stale.extend(cached.map(|(key, _)| key));
    (pairs, stale)
}

/// The shared state of the worker threads.
struct Run<'a> {
    root: &'a Path,
    algo: HashAlgo,
    store: Option<BufferStore>,
    start_ns: i64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Run<'_> {
    /// Indexes one found file, reusing `cached` when it still applies.
    fn process(&self, found: Found, cached: Option<Entry>) -> Result<Indexed, Problem> {
        let path = self.root.join(&found.key);
        let result = self.checksum(&path, found.stat, cached.as_ref());
        (self.progress)(found.stat.size);
        match result {
            Ok((checksum, hashed, cache)) => Ok(Indexed {
                key: found.key,
                checksum,
                size: found.stat.size,
                hashed,
                cache,
            }),
            Err(error) => Err(Problem {
                path: walk::display(&path),
                error,
            }),
        }
    }

    /// The file's checksum, whether it was hashed, and the cache entry to store.
    fn checksum(
        &self,
        path: &Path,
        stat: FileStat,
        cached: Option<&Entry>,
    ) -> Result<(Checksum, bool, Option<Entry>), String> {
        let reusable = cached.and_then(|e| e.reusable_for(&stat));
        if let Some(checksum) = reusable {
            match &self.store {
                Some(store) if !store.has(&checksum) && store.mode() == InternMode::Hardlink => {
                    let linked = store
                        .link(path, &checksum, &stat)
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
            match filehash::hash_file(path, &stat, self.algo, copy).map_err(|e| e.to_string())? {
                Outcome::Changed => continue,
                Outcome::Hashed(checksum) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: &str) -> Found {
        Found {
            key: key.into(),
            stat: FileStat {
                dev: 1,
                ino: 2,
                size: 3,
                mtime_ns: 4,
                ctime_ns: 5,
            },
        }
    }

    #[test]
    fn merge_pairs_sorted_keys_and_finds_every_stale_one() {
        let entry = |key: &str| {
            let f = found(key);
            (
                key.to_string(),
                Entry::new(f.stat, HashAlgo::Blake3.hash(key.as_bytes()), 0),
            )
        };
        let walked = ["a", "b/x", "d", "f"].map(found).into();
        let cached = vec![
            entry("0"),
            entry("b/x"),
            entry("c"),
            entry("d"),
            entry("e"),
            entry("g"),
        ];
        let (pairs, stale) = merge(walked, cached);
        let matched: Vec<(&str, bool)> = pairs
            .iter()
            .map(|(f, e)| (f.key.as_str(), e.is_some()))
            .collect();
        assert_eq!(
            matched,
            [("a", false), ("b/x", true), ("d", true), ("f", false)]
        );
        assert_eq!(stale, ["0", "c", "e", "g"]);
    }
}
