//! `fair reindex`: brings the derived store up to date with the catalogue's files.

use std::path::PathBuf;

use faircore::store::sync;
use faircore::{Catalogue, View};

use crate::Exit;

const ABOUT: &str = "\
The derived store (.fair/store.redb) holds the access lookups and the reverse
index of every distribution. `fair snapshot` keeps it current; a catalogue
written by another tool (Seamless's fairdir-add-distribution, a copy from a
Seamless FAIR dir) is caught up by the first reader that can take the writer
lock (`fair serve`, `fair locate`), or by this command. It reads each access
index and collection the store lacks once; what the store has is left alone.

Output: `N access indexes and M collections added`, or with --json one object
{\"access_indexes\": N, \"collections\": M, \"problems\": [...]}.

Exit codes: 0 done; 1 another writer holds the lock, or the store cannot be
written; 2 some files could not be read (each named; the rest was added).

Example:
  fair reindex /srv/fair";

/// Flags of `fair reindex`.
#[derive(Debug, clap::Args)]
#[command(after_help = ABOUT)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `fair reindex`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let view = View::load(&catalogue);
    let writer = catalogue.writer()?;
    let caught = sync::catch_up(&writer.store()?, &catalogue, &view.needs())?;
    let problems: Vec<&String> = view.problems.iter().chain(&caught.problems).collect();
    if args.json {
        let out = serde_json::json!({
            "access_indexes": caught.access_indexes,
            "collections": caught.collections,
            "problems": problems,
        });
        println!("{out}");
    } else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        say!(
            "{} access indexes and {} collections added",
            caught.access_indexes,
            caught.collections
        );
    }
    Ok(if problems.is_empty() {
        Exit::Success
    } else {
        Exit::FilesFailed
    })
}
