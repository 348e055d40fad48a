//! `fair merge`: publish the collection of N shard runs (`fair index --shard`).

use std::num::NonZeroU32;
use std::path::PathBuf;

use faircore::{Catalogue, Name};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  for i in 0 1 2 3; do fair index /srv/fair --source /mirror/pdb --collection pdb --shard $i/4 & done; wait
  fair merge /srv/fair pdb --shards 4
  fair merge /srv/fair pdb --shards 4 --json | jq .files
  deploy/slurm/index.sh /srv/fair /mirror/pdb pdb 16     # the same as a Slurm job array

The shard outputs (.fair/shards/NAME/I-of-N/) are merged in key order, reading
them as streams: the collection is byte for byte that of one `fair index` of the
tree, and replaces deepfolders/NAME.json atomically (not at all when its bytes did
not change), under the catalogue's writer lock.

A shard is refused, with its name, and nothing is published when it is:
  missing      no complete run (never run, or its last run failed or was interrupted)
  being indexed  its run holds its lock now
  foreign      of another catalogue or algorithm than this one, or of another source
               or --exclude than most shards
  stale        of the previous round: its walk started before the last merge's newest
               shard walk, and another shard was indexed again since (a round is the
               runs between two merges: every shard runs again in each round); or
               older, all of them, than the walk the collection was last written
               from (a plain `fair index` published meanwhile)
  damaged      its collection.json is not what its shard.json records

Action files (--actions) do not run on shards: their steps (operations on every
element, download indices, deepcells) need the whole collection and the writer
lock; index a source with --actions in one run.

Exit codes: 0 merged; 1 nothing done (a shard refused, catalogue locked, ...).";

/// Flags of `fair merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The collection the shards were indexed as (--collection of `fair index --shard`).
    pub collection: Name,
    /// The number of shards, N of `--shard I/N`.
    #[arg(long, value_name = "N")]
    pub shards: NonZeroU32,
    /// Print one JSON object on stdout: collections, files, bytes, hashed, reused, errors, elapsed_s (the shards' sums).
    #[arg(long)]
    pub json: bool,
}

/// Runs `fair merge`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let writer = catalogue.writer()?;
    let report = indexer::merge(&writer, &args.collection, args.shards.get())?;
    super::index::finish(&report, args.json)
}
