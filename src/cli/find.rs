//! `fair find`: resolve a distribution offline, as the server's find_distribution
//! and find_checksum routes do.

use std::path::PathBuf;

use faircore::{Catalogue, Query, View};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair find /srv/fair pdb                       # the latest distribution
  fair find /srv/fair pdb --version 2 --checksum
  fair find /srv/fair pdb --json | jq -r .checksum
  fair find /srv/fair pdb --date 2025-02-14 --format mmcif --compression none

Resolution is the server's: without --version or --date only `latest` distributions
are candidates; `--version latest` means them too; `none` means the field must be
absent; values match exactly. If several remain and --compression was not given, the
only uncompressed one wins. No match or several: exit 1 with the server's text.";

/// Flags of `fair find`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The dataset.
    pub dataset: String,
    /// deepfolder or deepcell.
    #[arg(long = "type", value_name = "T")]
    pub kind: Option<String>,
    /// The version, `latest`, or `none`.
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// The date, or `none`.
    #[arg(long, value_name = "D")]
    pub date: Option<String>,
    /// The format, or `none`.
    #[arg(long, value_name = "F")]
    pub format: Option<String>,
    /// The compression, or `none`.
    #[arg(long, value_name = "C")]
    pub compression: Option<String>,
    /// Print only the distribution's checksum.
    #[arg(long, conflicts_with = "json")]
    pub checksum: bool,
    /// Print the record as one JSON object on one line (else indented for reading).
    #[arg(long)]
    pub json: bool,
}

/// Runs `fair find`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let view = View::load(&Catalogue::open(&args.dir)?);
    for problem in &view.problems {
        tracing::warn!("{problem}");
    }
    let query = Query {
        kind: args.kind.clone(),
        version: args.version.clone(),
        date: args.date.clone(),
        format: args.format.clone(),
        compression: args.compression.clone(),
    };
    match view.resolve(Some(&args.dataset), &query) {
        Ok(record) if args.checksum => println!("{}", record.checksum),
        Ok(record) if args.json => println!("{}", serde_json::to_string(record)?),
        Ok(record) => println!("{}", serde_json::to_string_pretty(record)?),
        Err(unresolved) => {
            eprint!("{unresolved}");
            return Ok(Exit::Failure);
        }
    }
    Ok(Exit::Success)
}
