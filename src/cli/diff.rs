//! `fair diff`: the keys added, removed and changed between two distributions.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use faircore::diff::{self, Change};
use faircore::stream::EntryStream;
use faircore::{Catalogue, ContentDir, View, resolve};

use crate::Exit;

const EXAMPLES: &str = "\
A distribution is its checksum, or DATASET@VERSION, DATASET@DATE (YYYY-MM-DD) or
DATASET@latest (resolved as `fair find` does).

Output, in key order: `+ KEY NEW`, `- KEY OLD`, `~ KEY OLD NEW` (checksums in hex);
with --json one JSON object per line instead:
  {\"change\":\"added\",\"key\":\"...\",\"new\":\"...\"}
  {\"change\":\"removed\",\"key\":\"...\",\"old\":\"...\"}
  {\"change\":\"changed\",\"key\":\"...\",\"old\":\"...\",\"new\":\"...\"}
The counts go to stderr. The two collections are merged as they are read: time is
linear and memory constant, whatever their size.

Examples:
  fair diff /srv/fair pdb@2025.01 pdb@latest
  fair diff /srv/fair pdb@2025-01-01 pdb@2025-02-01 --json | jq -r .key

Exit codes: 0 compared (with or without differences); 1 a distribution is unknown,
ambiguous or unreadable.";

/// Flags of `fair diff`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The old distribution.
    pub old: String,
    /// The new distribution.
    pub new: String,
    /// One JSON object per change, one per line.
    #[arg(long)]
    pub json: bool,
}

/// Runs `fair diff`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let view = View::load(&catalogue);
    let open = |spec: &str| -> anyhow::Result<_> {
        let (_, record) = resolve::named(&view, spec)?;
        let path = catalogue
            .layout()
            .content(ContentDir::Buffers, &record.checksum);
        EntryStream::open(&path).with_context(|| format!("the collection of {spec}"))
    };
    let (old, new) = (open(&args.old)?, open(&args.new)?);
    let mut out = std::io::BufWriter::with_capacity(256 << 10, std::io::stdout().lock());
    let mut counts = [0u64; 3];
    for change in diff::diff(old, new) {
        let change = change?;
        let written = if args.json {
            serde_json::to_writer(&mut out, &change)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
        } else {
            match &change {
                Change::Added { key, new } => writeln!(out, "+ {key} {new}"),
                Change::Removed { key, old } => writeln!(out, "- {key} {old}"),
                Change::Changed { key, old, new } => writeln!(out, "~ {key} {old} {new}"),
            }
        };
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
            other => other.context("writing to stdout")?,
        }
        counts[match change {
            Change::Added { .. } => 0,
            Change::Removed { .. } => 1,
            Change::Changed { .. } => 2,
        }] += 1;
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
        other => other.context("writing to stdout")?,
    }
    let [added, removed, changed] = counts;
    note!("{added} added, {removed} removed, {changed} changed");
    Ok(Exit::Success)
}
