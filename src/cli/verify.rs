//! `fair verify`: check a catalogue's content-addressed files and records.

use std::path::PathBuf;

use faircore::Catalogue;

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair verify /srv/fair
  fair verify /srv/fair --no-buffers --json | jq '.problems[]'

Checks that every file of keyorder/, access_index/ and buffers/ hashes to its name,
and that every record of distributions/*.json agrees with its files: the collection
(buffers/CHECKSUM, or a current deepfolders/ or deepcells/ file) exists with nkeys keys
and index_size bytes, the keyorder holds exactly its keys, the access index parses,
content_size is the sum of the element buffers (when they are all in buffers/), at
most one latest per group, no release twice. Takes no lock.

Exit codes: 0 all good; 1 not a catalogue; 2 problems found (each listed).";

/// Flags of `fair verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Do not hash the element buffers in buffers/ (they can be large).
    #[arg(long)]
    pub no_buffers: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `fair verify`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let bar =
        super::progress_bar("{spinner} {binary_bytes} hashed ({binary_bytes_per_sec}) {elapsed}");
    let tick = |size| {
        if let Some(bar) = &bar {
            bar.inc(size);
        }
    };
    let report = faircore::verify::verify(&catalogue, !args.no_buffers, &tick)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for p in &report.problems {
            println!("{}: {}", p.subject, p.problem);
        }
        say!(
            "{} files ({} bytes) hashed, {} records checked, {} problems",
            report.files,
            report.bytes,
            report.records,
            report.problems.len()
        );
        if report.content_size_unchecked > 0 {
            say!(
                "content_size not checked for {} records: their element buffers are not all in buffers/",
                report.content_size_unchecked
            );
        }
    }
    Ok(if report.problems.is_empty() {
        Exit::Success
    } else {
        Exit::FilesFailed
    })
}
