//! Running a checked action file: index the source, compute every action in
//! order, then publish all outputs at once, as one unit (`faircore::store::journal`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use faircore::store::journal::Publication;
use faircore::store::tables::OPERATIONS;
use faircore::{Checksum, Collection, CollectionKind, HashAlgo, Name, Store, Writer};
use rayon::prelude::*;
use redb::ReadableDatabase;

use super::copy::{self, Planned};
use super::download;
use super::operation::{self, Limits, Spec};
use super::plan::{Kind, Plan, Step};
use crate::intern::BufferStore;
use crate::report::Operations;
use crate::{Error, InternMode, Options, Problem, Report, Scan};

/// An output to publish once every action has succeeded.
enum Output {
    /// `deepfolders/` or `deepcells/`.
    Collection(Name, Collection),
    /// `download_indices/<name>.json`.
    DownloadIndex(Name, Vec<u8>),
    /// `collections/<name>/`.
    Tree(Name, Vec<Planned>, bool),
}

/// Runs `plan` on `options.source` (whose `collection` and `intern` the plan
/// overrides), the operations bounded by `limits`.
pub fn run(
    writer: &Writer<'_>,
    plan: &Plan,
    options: &Options,
    limits: Limits,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, Error> {
    let started = Instant::now();
    let options = Options {
        collection: plan.default.clone(),
        intern: plan.intern,
        ..options.clone()
    };
    let Scan {
        mut report,
        collection,
        mut sizes,
    } = crate::scan(writer, &options, progress)?;
    if !report.errors.is_empty() && !options.allow_errors {
        return Ok(report);
    }
    let catalogue = writer.catalogue();
    let bufferdir = options.bufferdir.clone().unwrap_or_else(|| {
        catalogue
            .layout()
            .content_dir(faircore::ContentDir::Buffers)
    });
    let run = Run {
        writer,
        db: writer.store()?,
        store: BufferStore::open(&bufferdir, InternMode::None, &options.source, writer.lock())?,
        source: &options.source,
        collections_dir: catalogue.layout().copies(),
        algo: catalogue.hash(),
        limits,
        pool: rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs.unwrap_or(0))
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?,
    };
    let mut entries: HashMap<Name, BTreeMap<String, Checksum>> = HashMap::new();
    // Where the files of copied collections are until the copies are published.
    let mut origins: HashMap<Name, HashMap<String, PathBuf>> = HashMap::new();
    entries.insert(plan.default.clone(), collection.into_entries());
    let mut outputs = Vec::new();
    let mut results = Vec::new();
    for (label, step) in &plan.steps {
        let fail = |e: String| Error::Action(format!("{label}: {e}"));
        match step {
            Step::Operation {
                source,
                target,
                command,
                celltype,
                member,
            } => {
                let spec = Spec {
                    command: *command,
                    celltype: *celltype,
                    member: member.clone(),
                };
                let mut counts = Operations::default();
                let input = |key: &str, checksum: &Checksum| {
                    run.path_of(plan, &origins, source, key, checksum)
                };
                let (done, problems, new) =
                    run.operate(&entries[source], &spec, &input, &mut counts, &mut sizes)?;
                report.operations.insert(target.to_string(), counts);
                report.errors.extend(problems);
                results.extend(new.into_iter().map(|(s, r)| (s, spec.cache_key(), r)));
                entries.insert(target.clone(), done);
            }
            Step::Copy {
                source,
                target,
                pattern,
                template,
                hardlink,
            } => {
                let from = &entries[source];
                let renamed = copy::rename(from, pattern, template).map_err(fail)?;
                let mut copied = BTreeMap::new();
                let mut paths = HashMap::with_capacity(renamed.len());
                let mut files = Vec::with_capacity(renamed.len());
                for (key, new) in renamed {
                    let checksum = from[&key];
                    let path = run.path_of(plan, &origins, source, &key, &checksum);
                    paths.insert(new.clone(), path.clone());
                    files.push(Planned {
                        from: path,
                        key: new.clone(),
                        checksum,
                    });
                    copied.insert(new, checksum);
                }
                outputs.push(Output::Tree(target.clone(), files, *hardlink));
                entries.insert(target.clone(), copied);
                origins.insert(target.clone(), paths);
            }
            Step::DownloadIndex {
                source,
                pattern,
                urls,
            } => {
                let index = download::build(entries[source].keys(), pattern, urls).map_err(fail)?;
                let bytes = faircore::plain::to_vec(&index).map_err(|e| fail(e.to_string()))?;
                outputs.push(Output::DownloadIndex(source.clone(), bytes));
            }
            Step::Deepfolder { source } => {
                let c = Collection::new(CollectionKind::Deepfolder, entries[source].clone());
                outputs.push(Output::Collection(source.clone(), c));
            }
            Step::Deepcell {
                source,
                target,
                pattern,
                template,
            } => {
                let mut cell = BTreeMap::new();
                for (key, checksum) in &entries[source] {
                    let groups = pattern
                        .captures(key)
                        .ok_or_else(|| fail(format!("entry {key:?} does not match the regex")))?;
                    cell.insert(template.render(&groups), *checksum);
                }
                outputs.push(Output::Collection(
                    target.clone(),
                    Collection::new(CollectionKind::Deepcell, cell.clone()),
                ));
                entries.insert(target.clone(), cell);
            }
        }
    }
    report.errors.sort();
    if !report.errors.is_empty() && !options.allow_errors {
        return Ok(report);
    }
    // The buffers of the deepfolders and deepcells go to the buffer directory
    // too, as fairdir-build puts them there: a deepfolder is deployed from it.
    let mut content_sizes: Vec<(Checksum, u64)> = Vec::new();
    for output in &outputs {
        if let Output::Collection(_, collection) = output {
            let encoded = collection.encode(run.algo);
            run.store.put(&encoded.bytes, &encoded.checksum)?;
            if let Some(size) = collection.content_size(|e| sizes.get(e).copied()) {
                content_sizes.push((encoded.checksum, size));
            }
        }
    }
    run.store.sync()?;
    run.record(&results)?;
    run.db.record_content_sizes(&content_sizes)?;
    // One unit: every output staged, then published together (a run killed
    // while publishing is completed by the next writer).
    let mut publication = Publication::new(run.writer);
    let mut copies = Vec::new();
    for output in outputs {
        run.stage(output, &mut publication, &mut report, &mut copies)?;
    }
    publication.commit()?;
    for (name, staged) in copies {
        staged
            .record(&run.db)
            .map_err(|e| Error::Action(format!("copy_collection {name}: {e}")))?;
        tracing::info!(collection = %name, written = staged.written(), "copied collection up to date");
    }
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The state of one action run.
struct Run<'a> {
    writer: &'a Writer<'a>,
    db: Store,
    store: BufferStore,
    source: &'a Path,
    collections_dir: PathBuf,
    algo: HashAlgo,
    limits: Limits,
    pool: rayon::ThreadPool,
}

/// A result buffer: its checksum and size.
type Buffer = (Checksum, u64);

type Operated = (
    BTreeMap<String, Checksum>,
    Vec<Problem>,
    Vec<(Checksum, Checksum)>,
);

impl Run<'_> {
    /// Where the element `key` (checksum `checksum`) of the collection `name` is
    /// now: a buffer for an operation result; for a copied collection, where it is
    /// copied from (copies are published at the end of the run); else the source.
    fn path_of(
        &self,
        plan: &Plan,
        origins: &HashMap<Name, HashMap<String, PathBuf>>,
        name: &Name,
        key: &str,
        checksum: &Checksum,
    ) -> PathBuf {
        if let Some(path) = origins.get(name).and_then(|paths| paths.get(key)) {
            return path.clone();
        }
        match plan.kind(name) {
            Some(Kind::Operation { .. }) => self.store.path(checksum),
            _ => self.source.join(key),
        }
    }

    /// Applies `spec` to every distinct element of `source`: cached results are
    /// reused, the others computed in parallel. Returns the result collection, the
    /// elements that failed, and the new (source, result) pairs to record.
    fn operate(
        &self,
        source: &BTreeMap<String, Checksum>,
        spec: &Spec,
        input: &(dyn Fn(&str, &Checksum) -> PathBuf + Sync),
        counts: &mut Operations,
        sizes: &mut HashMap<Checksum, u64>,
    ) -> Result<Operated, Error> {
        let key = spec.cache_key();
        let cached = self.cached(source.values(), &key, sizes)?;
        let mut todo: BTreeMap<Checksum, &str> = BTreeMap::new();
        for (entry, checksum) in source {
            if !cached.contains_key(checksum) {
                todo.entry(*checksum).or_insert(entry);
            }
        }
        counts.reused +=
            (source.len() - source.values().filter(|c| todo.contains_key(c)).count()) as u64;
        let computed: Vec<(Checksum, Result<Buffer, String>)> = self.pool.install(|| {
            todo.par_iter()
                .map(|(checksum, entry)| {
                    (
                        *checksum,
                        self.apply(&input(entry, checksum), checksum, spec),
                    )
                })
                .collect()
        });
        counts.run += computed.len() as u64;
        let mut results = cached;
        let mut problems = Vec::new();
        let mut new = Vec::new();
        for (checksum, result) in computed {
            match result {
                Ok((r, size)) => {
                    sizes.insert(r, size);
                    results.insert(checksum, r);
                    new.push((checksum, r));
                }
                Err(error) => problems.push(Problem {
                    path: crate::walk::display(&input(todo[&checksum], &checksum)),
                    error: format!("{}: {error}", spec.cache_key()),
                }),
            }
        }
        let done = source
            .iter()
            .filter_map(|(k, c)| Some((k.clone(), *results.get(c)?)))
            .collect();
        Ok((done, problems, new))
    }

    /// The cached results of `key` for `checksums` whose buffers exist; their
    /// sizes go to `sizes`.
    fn cached<'c>(
        &self,
        checksums: impl Iterator<Item = &'c Checksum>,
        key: &str,
        sizes: &mut HashMap<Checksum, u64>,
    ) -> Result<HashMap<Checksum, Checksum>, Error> {
        let txn = self.db.redb().begin_read().map_err(|e| self.db.error(e))?;
        let table = match txn.open_table(OPERATIONS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(HashMap::new()),
            Err(e) => return Err(self.db.error(e).into()),
        };
        let mut found = HashMap::new();
        for checksum in checksums {
            if found.contains_key(checksum) {
                continue;
            }
            if let Some(result) = table
                .get((checksum.as_bytes(), key))
                .map_err(|e| self.db.error(e))?
            {
                let result = Checksum::from_bytes(*result.value());
                if let Some(size) = self.store.len(&result) {
                    sizes.insert(result, size);
                    found.insert(*checksum, result);
                }
            }
        }
        Ok(found)
    }

    /// Applies `spec` to `input` into a new buffer: its checksum and size.
    fn apply(&self, input: &Path, checksum: &Checksum, spec: &Spec) -> Result<Buffer, String> {
        let mut tmp = self.store.temp().map_err(|e| e.to_string())?;
        let result = operation::apply(
            input,
            checksum,
            spec,
            self.algo,
            self.limits,
            tmp.as_file_mut(),
        )?;
        let size = tmp.as_file().metadata().map_err(|e| e.to_string())?.len();
        self.store
            .publish(tmp, &result)
            .map_err(|e| e.to_string())?;
        Ok((result, size))
    }

    /// Records new operation results (after their buffers were synced).
    fn record(&self, results: &[(Checksum, String, Checksum)]) -> Result<(), Error> {
        if results.is_empty() {
            return Ok(());
        }
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.redb().begin_write()?;
            {
                let mut table = txn.open_table(OPERATIONS)?;
                for (source, key, result) in results {
                    table.insert((source.as_bytes(), key.as_str()), result.as_bytes())?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| self.db.error(e).into())
    }

    /// Stages `output` in `publication`; a copied tree's files to record once
    /// published go to `copies`.
    fn stage(
        &self,
        output: Output,
        publication: &mut Publication<'_>,
        report: &mut Report,
        copies: &mut Vec<(Name, copy::Staged)>,
    ) -> Result<(), Error> {
        let layout = self.writer.catalogue().layout();
        match output {
            Output::Collection(name, collection) => {
                let encoded = collection.encode(self.algo);
                let path = layout.collection(collection.kind(), &name);
                let written = publication.replace(&path, &encoded.bytes)?;
                tracing::info!(collection = %name, kind = collection.kind().name(), written, "collection up to date");
                report
                    .collections
                    .insert(name.to_string(), encoded.checksum);
            }
            Output::DownloadIndex(name, bytes) => {
                let path = layout.download_index(name.as_str());
                let written = publication.replace(&path, &bytes)?;
                tracing::info!(collection = %name, written, "download index up to date");
            }
            Output::Tree(name, files, hardlink) => {
                let dir = self.collections_dir.join(name.as_str());
                let staged =
                    copy::stage(publication, &self.db, name.as_str(), &dir, &files, hardlink)
                        .map_err(|e| Error::Action(format!("copy_collection {name}: {e}")))?;
                copies.push((name, staged));
            }
        }
        Ok(())
    }
}
