//! `fair index`: index a source directory into a collection.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use faircore::{Catalogue, Name, Shard};
use indexer::{Exclude, InternMode, Options, Report};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair index /srv/fair --source /mirror/pdb --collection pdb
  fair index /srv/fair --source /mirror/pdb --collection pdb --intern hardlink
  fair index /srv/fair --source /mirror/pdb --collection pdb --exclude .git/ --exclude '*.part'
  fair index /srv/fair --source /mirror/pdb --collection pdb --json | jq .hashed
  fair index /srv/fair --source /mirror/pdb --actions pdb-actions.yaml --json
  fair index /srv/fair --source /mirror/pdb --collection pdb --shard 0/4   # then 1/4 .. 3/4, then fair merge

Only files whose device, inode, size, mtime or ctime changed since the last run are
read again. Symbolic links to files are indexed by their target's content; links to
directories are not followed. Dangling links, FIFOs, sockets, devices and names that
are not UTF-8 are reported and not indexed.

With --actions, the source is indexed as the action file's `collection`, then its
actions (intern_collection, operation, copy_collection, build_download_index,
deepfolder, deepcell) run in order; their outputs are published only when all
succeeded. The file is checked first: a fault is reported with the action's index
and field, and exit code 1.

With --shard I/N, only the files of shard I (a fixed hash of each file's path,
modulo N: balanced whatever the layout) are indexed, into .fair/shards/NAME/I-of-N/ with that
shard's own lock and incremental cache: the N shard runs of one catalogue run at
once, on one machine or on the nodes of a cluster (Slurm: deploy/slurm/index.sh),
and publish nothing until `fair merge DIR NAME --shards N`. Not with --actions or
--intern: both need the catalogue's writer lock for the whole run.

Exit codes: 0 success, or published without the files that failed (--allow-errors;
they are named on stderr and in --json's `errors`); 1 nothing done; 2 some files
failed and nothing was published (the previous collection is kept).";

/// How element buffers are interned.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Intern {
    /// Do not intern.
    None,
    /// Hard-link each file as `<bufferdir>/<checksum>` (same filesystem only).
    Hardlink,
    /// Copy each file as `<bufferdir>/<checksum>`, in the same read as the hashing.
    Copy,
}

/// Flags of `fair index`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["collection", "actions"])))]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The directory to index.
    #[arg(long, value_name = "SRC")]
    pub source: PathBuf,
    /// The collection to write: DIR/deepfolders/NAME.json.
    #[arg(long, value_name = "NAME")]
    pub collection: Option<Name>,
    /// Run a Seamless action file (YAML or JSON) on the source instead of writing one deepfolder.
    #[arg(long, value_name = "FILE")]
    pub actions: Option<PathBuf>,
    /// Refuse an element that decompresses to more than SIZE bytes (suffixes K, M, G, T: powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = MAX_DECOMPRESSED, value_parser = parse_size)]
    pub max_decompressed: u64,
    /// Stop an element (named among the errors) before the buffer filesystem's free space falls under SIZE (default: 5% of the filesystem, at most 2G); with --intern copy, stop the run (nothing published) before a copy would.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_free: Option<u64>,
    /// Also put every file's content into the buffer directory, named by checksum.
    #[arg(
        long,
        value_enum,
        default_value = "none",
        value_name = "MODE",
        conflicts_with = "actions"
    )]
    pub intern: Intern,
    /// The buffer directory for --intern [default: DIR/buffers].
    #[arg(long, value_name = "PATH")]
    pub bufferdir: Option<PathBuf>,
    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Leave out the entries matching PATTERN (gitignore syntax, relative to the
    /// source: `.git/` directories only, `*.part` at any depth, `/tmp` at the root
    /// only, `!keep.part` takes one back); repeatable. They are neither hashed nor reported.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Write the collection even if some files failed, without them; the run then exits 0 and names the skipped files on stderr and in --json.
    #[arg(long)]
    pub allow_errors: bool,
    /// Index only shard I of N (I from 0) of the source's files, staged for `fair merge`, not published.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["actions", "intern"])]
    pub shard: Option<Shard>,
    /// Print one JSON object on stdout: collections, files, bytes, hashed, reused, errors, elapsed_s (and shard, with --shard).
    #[arg(long)]
    pub json: bool,
}

/// The default cap on an element's decompressed size (`--max-decompressed`).
pub const MAX_DECOMPRESSED: &str = "16G";

/// Parses `16G`, `100M`, `4096`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        Some((i, 'T' | 't')) => (&text[..i], 40),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?}: expected a number of bytes, like 4096, 100M or 16G"))
}

impl Args {
    fn options(&self, collection: Name) -> anyhow::Result<Options> {
        let exclude = Exclude::new(&self.exclude).map_err(|e| anyhow::anyhow!("--exclude: {e}"))?;
        Ok(Options {
            source: self.source.clone(),
            collection,
            intern: match self.intern {
                Intern::None => InternMode::None,
                Intern::Hardlink => InternMode::Hardlink,
                Intern::Copy => InternMode::Copy,
            },
            bufferdir: self.bufferdir.clone(),
            jobs: self.jobs.map(NonZeroUsize::get),
            allow_errors: self.allow_errors,
            exclude,
            shard: self.shard,
            min_free: self.min_free,
        })
    }
}

/// Runs `fair index`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let plan = match &args.actions {
        Some(path) => Some(indexer::actions::load(path).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let collection = match (&plan, &args.collection) {
        (Some(plan), _) => plan.default.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => anyhow::bail!("--collection or --actions is required"),
    };
    let options = args.options(collection)?;
    let catalogue = Catalogue::open(&args.dir)?;
    if let Some(shard) = args.shard {
        let run = indexer::ShardRun::open(&catalogue, &options.collection, shard)?;
        let progress = super::progress::Progress::new(run.last_totals()?.map(|(files, _)| files));
        let report = run
            .index(&options, &|size| progress.file(size))
            .with_context(|| format!("indexing shard {shard} of {}", args.source.display()))?;
        progress.finish();
        return finish(&report, args.json);
    }
    let writer = catalogue.writer()?;
    let progress = super::progress::Progress::new(
        indexer::last_totals(&writer, &options.collection)?.map(|(files, _)| files),
    );
    let tick = |size| progress.file(size);
    let limits = indexer::actions::Limits {
        max_decompressed: args.max_decompressed,
        min_free: args.min_free,
    };
    let report = match &plan {
        Some(plan) => indexer::actions::run(&writer, plan, &options, limits, &tick),
        None => indexer::index(&writer, &options, &tick),
    }
    .with_context(|| match &args.actions {
        Some(actions) => format!("{} on {}", actions.display(), args.source.display()),
        None => format!("indexing {}", args.source.display()),
    })?;
    progress.finish();
    finish(&report, args.json)
}

/// Reports a run (the failed files on stderr, the summary or `--json` on
/// stdout) and returns its exit code.
pub fn finish(report: &Report, json: bool) -> anyhow::Result<Exit> {
    let published =
        report.errors.is_empty() || !report.collections.is_empty() || report.shard.is_some();
    for problem in &report.errors {
        if published {
            note!("fair: skipped {}: {}", problem.path, problem.error);
        } else {
            eprintln!("fair: {}: {}", problem.path, problem.error);
        }
    }
    if !published {
        eprintln!(
            "fair: nothing written: {} files failed; the previous collections are kept (see --allow-errors)",
            report.errors.len()
        );
    }
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print_human(report);
    }
    Ok(if published {
        Exit::Success
    } else {
        Exit::FilesFailed
    })
}

/// The summary of a run on stdout (unless `-q`); the failed files are on stderr.
fn print_human(report: &Report) {
    for (name, checksum) in &report.collections {
        say!("{name} {checksum}");
    }
    if let Some(shard) = &report.shard {
        say!(
            "shard {} {} staged in {} (publish with fair merge)",
            shard.shard,
            shard.checksum,
            shard.output
        );
    }
    for (name, ops) in &report.operations {
        say!("operation {name}: {} run, {} reused", ops.run, ops.reused);
    }
    say!(
        "{} files, {} bytes: {} hashed, {} reused, {} errors, {:.2} s",
        report.files,
        report.bytes,
        report.hashed,
        report.reused,
        report.errors.len(),
        report.elapsed_s
    );
}
