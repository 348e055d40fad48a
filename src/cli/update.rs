//! `fair update`: the nightly job. Each `[[dataset]]` of `fair.toml` is indexed
//! (incrementally) and snapshotted if its collection changed, under one lock.

use std::path::PathBuf;

use anyhow::Context;
use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Checksum, DatasetSpec, Name, Writer};
use indexer::actions::Plan;
use indexer::{Exclude, InternMode, Options, Problem, Report};
use serde::Serialize;

use crate::Exit;

const EXAMPLES: &str = "\
Each [[dataset]] table of DIR/fair.toml declares one dataset (paths relative to DIR):

  [[dataset]]
  name = \"pdb\"                       # the dataset; also the collection by default
  source = \"/mirror/pdb\"             # the directory indexed
  exclude = [\".git/\", \"*.part\"]      # gitignore patterns left out (fair index --exclude)
  date = \"today\"                     # and/or version = \"...\"
  format = \"mmcif\"                   # also: compression, merge_access_index,
                                     # collection, actions, allow_errors

For each, in order: fair index (only changed files are read again), then
fair snapshot --if-changed. One dataset failing does not stop the others.

Examples:
  fair update /srv/fair                 # every declared dataset
  fair update /srv/fair pdb             # only pdb
  fair -q update /srv/fair              # cron: prints nothing unless something failed
  fair update /srv/fair --json | jq '.datasets[] | select(.status == \"failed\")'

Exit codes: 0 every dataset added or unchanged; 1 nothing done (bad fair.toml, an
unknown NAME, a bad exclude pattern or action file, the catalogue is locked);
2 a dataset failed or had skipped files (the others were still updated).";

/// Flags of `fair update`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory, whose fair.toml declares the datasets.
    pub dir: PathBuf,
    /// Only these datasets [default: every [[dataset]] of fair.toml].
    #[arg(value_name = "NAME")]
    pub names: Vec<Name>,
    /// Print one JSON object on stdout: {"datasets": [{name, status, ...}, ...]}.
    #[arg(long)]
    pub json: bool,
}

/// What became of one dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// A distribution was added.
    Added,
    /// The collection is that of the latest distribution: nothing written.
    Unchanged,
    /// Nothing published (see `error`).
    Failed,
}

/// One dataset's outcome, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Outcome {
    name: Name,
    status: Status,
    /// The snapshotted collection's checksum.
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<Checksum>,
    /// The distribution added, or the latest one when unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution: Option<Checksum>,
    /// Its release: `version 2, date 2025-02-14 (deepfolder, format json)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<String>,
    /// Files indexed, hashed (read), reused from the incremental cache.
    files: u64,
    hashed: u64,
    reused: u64,
    /// Files that could not be indexed.
    skipped: Vec<Problem>,
    /// Why nothing was published.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A dataset ready to run: everything checked before the first one runs.
#[derive(Debug)]
struct Job {
    options: Options,
    plan: Option<Plan>,
    request: Request,
}

/// Runs `fair update`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let specs = selected(&catalogue, &args.names)?;
    let today = faircore::release::today();
    let jobs = specs
        .iter()
        .map(|spec| {
            prepare(&catalogue, spec, &today)
                .with_context(|| format!("fair.toml [[dataset]] {}", spec.name))
        })
        .collect::<anyhow::Result<Vec<Job>>>()?;
    let writer = catalogue.writer()?;
    let outcomes: Vec<Outcome> = jobs.iter().map(|job| update(&writer, job)).collect();
    report(&outcomes, args.json)?;
    let fine = outcomes
        .iter()
        .all(|o| o.status != Status::Failed && o.skipped.is_empty());
    Ok(if fine {
        Exit::Success
    } else {
        Exit::FilesFailed
    })
}

/// The declared datasets named by `names` (all when empty), in fair.toml's order.
fn selected<'c>(catalogue: &'c Catalogue, names: &[Name]) -> anyhow::Result<Vec<&'c DatasetSpec>> {
    let declared = &catalogue.config().datasets;
    if declared.is_empty() {
        anyhow::bail!(
            "{}: no [[dataset]] table; declare one (name, source, version or date), see fair update --help",
            catalogue.layout().config().display()
        );
    }
    if let Some(unknown) = names
        .iter()
        .find(|n| !declared.iter().any(|d| &d.name == *n))
    {
        let known: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
        anyhow::bail!(
            "{unknown}: no [[dataset]] of that name in {}; declared: {}",
            catalogue.layout().config().display(),
            known.join(", ")
        );
    }
    Ok(declared
        .iter()
        .filter(|d| names.is_empty() || names.contains(&d.name))
        .collect())
}

/// Checks one dataset's patterns, action file and release, and makes its options.
fn prepare(catalogue: &Catalogue, spec: &DatasetSpec, today: &str) -> anyhow::Result<Job> {
    let root = catalogue.root();
    let exclude = Exclude::new(&spec.exclude).context("exclude")?;
    let plan = match &spec.actions {
        Some(path) => Some(
            indexer::actions::load(&root.join(path))
                .map_err(anyhow::Error::msg)
                .context("actions")?,
        ),
        None => None,
    };
    let collection = spec.collection().clone();
    Ok(Job {
        options: Options {
            source: root.join(&spec.source),
            collection: collection.clone(),
            intern: InternMode::None,
            bufferdir: None,
            jobs: None,
            allow_errors: spec.allow_errors,
            exclude,
            shard: None,
            min_free: None,
        },
        plan,
        request: Request {
            dataset: spec.name.clone(),
            collection,
            release: spec.release(today)?,
            merge_access_index: spec.merge_access_index,
            latest: true,
            if_changed: true,
        },
    })
}

/// Indexes then snapshots one dataset; a failure is its outcome, not an error.
fn update(writer: &Writer<'_>, job: &Job) -> Outcome {
    let name = job.request.dataset.clone();
    let indexed = match &job.plan {
        Some(plan) => {
            let limits = indexer::actions::Limits {
                max_decompressed: super::index::parse_size(super::index::MAX_DECOMPRESSED)
                    .unwrap_or(u64::MAX),
                min_free: None,
            };
            indexer::actions::run(writer, plan, &job.options, limits, &|_| ())
        }
        None => indexer::index(writer, &job.options, &|_| ()),
    };
    let Report {
        collections,
        files,
        hashed,
        reused,
        errors,
        ..
    } = match indexed {
        Ok(report) => report,
        Err(e) => return failed(name, Report::default(), format!("indexing: {e}")),
    };
    let mut outcome = Outcome {
        name,
        status: Status::Failed,
        collection: collections.get(job.request.collection.as_str()).copied(),
        distribution: None,
        release: None,
        files,
        hashed,
        reused,
        skipped: errors,
        error: None,
    };
    if outcome.collection.is_none() {
        outcome.error = Some(format!(
            "{} files failed; nothing published (allow_errors = true publishes without them)",
            outcome.skipped.len()
        ));
        return outcome;
    }
    match snapshot::snapshot(writer, &job.request) {
        Ok(done) => {
            outcome.status = if done.added {
                Status::Added
            } else {
                Status::Unchanged
            };
            outcome.distribution = Some(done.record.checksum);
            outcome.release = Some(done.record.describe());
        }
        Err(e) => outcome.error = Some(format!("snapshot: {e}")),
    }
    outcome
}

/// The outcome of a dataset that failed before anything was indexed.
fn failed(name: Name, report: Report, error: String) -> Outcome {
    Outcome {
        name,
        status: Status::Failed,
        collection: None,
        distribution: None,
        release: None,
        files: report.files,
        hashed: report.hashed,
        reused: report.reused,
        skipped: report.errors,
        error: Some(error),
    }
}

/// Prints the outcomes: failures and skipped files on stderr (always), what was
/// added on stdout and what was unchanged on stderr (unless -q), or `--json`.
fn report(outcomes: &[Outcome], json: bool) -> anyhow::Result<()> {
    for o in outcomes {
        for p in &o.skipped {
            eprintln!("fair: {}: skipped {}: {}", o.name, p.path, p.error);
        }
        if let Some(error) = &o.error {
            eprintln!("fair: {}: failed: {error}", o.name);
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({ "datasets": outcomes }))?
        );
        return Ok(());
    }
    for o in outcomes {
        let (Some(distribution), Some(release)) = (&o.distribution, &o.release) else {
            continue;
        };
        let counts = format!(
            "{} files, {} hashed, {} reused",
            o.files, o.hashed, o.reused
        );
        if o.status == Status::Added {
            say!("{}: added {release}: {distribution} ({counts})", o.name);
        } else {
            note!("{}: unchanged, {release} ({counts})", o.name);
        }
    }
    Ok(())
}
