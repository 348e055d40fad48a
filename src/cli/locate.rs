//! `fair locate`: every (dataset, distribution, key) holding an element.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use faircore::store::locate;
use faircore::store::sync::{self, Ensured};
use faircore::{Catalogue, Checksum, StoreReader, View};

use crate::Exit;

const EXAMPLES: &str = "\
The reverse index is part of the derived store (.fair/store.redb), which `fair
snapshot` keeps up to date. A catalogue changed by another tool (Seamless's
fairdir-add-distribution) is caught up first, if the writer lock is free: each
distribution it lacks has its collection read once. An element unchanged across
versions costs one row, whatever the number of versions.

Output: one line per holder, `DATASET DISTRIBUTION RELEASE KEY` (RELEASE is the
version, else the date), or with --json one object:
  {\"element\": \"…\", \"holders\": [{\"dataset\", \"distribution\", \"version\", \"date\",
   \"format\", \"compression\", \"key\"}, …]}

Examples:
  fair locate /srv/fair 3f1c…e9a0
  fair locate /srv/fair \"$(b3sum --no-names some/file.cif)\" --json

Exit codes: 0 found; 1 not held by any distribution, a malformed checksum, or an
unreadable catalogue or store, or a store that lacks distributions while another
writer holds the lock (retry when it is done).";

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
    let view = View::load(&catalogue);
    match sync::ensure(&catalogue, &view)? {
        Ensured::Current => {}
        Ensured::CaughtUp(caught) => {
            tracing::info!(added = caught.collections, "reverse index caught up");
            for problem in &caught.problems {
                tracing::warn!("{problem}");
            }
        }
        Ensured::Behind(why) => anyhow::bail!("{why}"),
    }
    let places = match StoreReader::open(catalogue.layout())? {
        Some(store) => store.locate(&args.element)?,
        None => Vec::new(),
    };
    let holders = locate::holders(&places, &view);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let json = serde_json::json!({"element": args.element, "holders": holders});
        writeln!(out, "{json}")
    } else {
        holders.iter().try_for_each(|h| {
            let release = h.version.or(h.date).unwrap_or("-");
            writeln!(out, "{} {} {release} {}", h.dataset, h.distribution, h.key)
        })
    };
    match written {
        // The reader went away (`| head`): what it read was complete.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
        other => other.context("writing to stdout")?,
    }
    if holders.is_empty() {
        eprintln!("{}: no distribution holds this element", args.element);
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}
