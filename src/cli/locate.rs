//! `fair locate`: every (dataset, distribution, key) holding an element.

use std::path::PathBuf;

use anyhow::Context;
use faircore::{Catalogue, Checksum, locate};

use crate::Exit;

const EXAMPLES: &str = "\
The reverse lookup index (.fair/locate.redb, derived state) is brought up to date
with the catalogue's distributions first: a distribution added since the last
run has its collection read once. An element unchanged across versions costs one
row, whatever the number of versions.

Output: one line per holder, `DATASET DISTRIBUTION RELEASE KEY` (RELEASE is the
version, else the date), or with --json one object:
  {\"element\": \"…\", \"holders\": [{\"dataset\", \"distribution\", \"version\", \"date\",
   \"format\", \"compression\", \"key\"}, …]}

Examples:
  fair locate /srv/fair 3f1c…e9a0
  fair locate /srv/fair \"$(b3sum --no-names some/file.cif)\" --json

Exit codes: 0 found; 1 not held by any distribution, a malformed checksum, or an
unreadable catalogue or index (another `fair locate` updating it: retry).";

/// Flags of `fair locate`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The element checksum (64 hex digits).
    #[arg(value_parser = parse_checksum)]
    pub element: Checksum,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_checksum(text: &str) -> Result<Checksum, String> {
    text.parse()
        .map_err(|_| format!("expected a checksum of 64 hex digits, got {text:?}"))
}

/// Runs `fair locate`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let mut datasets = Vec::new();
    for name in catalogue.datasets()? {
        if let Some(records) = catalogue.read_distributions(&name)? {
            datasets.push((name, records));
        }
    }
    // In dataset then release order, so that each is added as its changes to
    // the one before.
    let mut seen = std::collections::HashSet::new();
    let collections: Vec<Checksum> = datasets
        .iter()
        .flat_map(|(_, records)| records.iter().map(|r| r.checksum))
        .filter(|c| seen.insert(*c))
        .collect();
    let db = locate::open(&catalogue).context("the locate index")?;
    let added = locate::update(&db, &catalogue, &collections)?;
    tracing::info!(added, "locate index up to date");
    let places = locate::lookup(&db, &args.element)?;
    let holders = locate::holders(
        &places,
        datasets.iter().map(|(n, r)| (n.as_str(), r.as_slice())),
    );
    if args.json {
        let out = serde_json::json!({"element": args.element, "holders": holders});
        println!("{out}");
    } else {
        for h in &holders {
            let release = h.version.or(h.date).unwrap_or("-");
            println!("{} {} {release} {}", h.dataset, h.distribution, h.key);
        }
    }
    if holders.is_empty() {
        eprintln!("{}: no distribution holds this element", args.element);
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}
