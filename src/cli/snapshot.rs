//! `fair snapshot`: add a distribution of a collection to a dataset.

use std::path::PathBuf;

use anyhow::Context;
use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Name, Release};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair snapshot /srv/fair pdb pdb --version 2025.11
  fair snapshot /srv/fair pdb pdb --date today --if-changed      # nightly cron
  fair snapshot /srv/fair pdb mmcif --date 2025-02-14 --format mmcif --merge-access-index
  fair snapshot /srv/fair pdb pdb --version 3 --compression gzip --json

The collection is deepfolders/COLLECTION.json or deepcells/COLLECTION.json (written
by `fair index`). The snapshot stores its plain bytes as buffers/CHECKSUM, its keyorder
as keyorder/CHECKSUM and, when download_indices/COLLECTION.json exists, its access
index (element checksum -> URLs) as access_index/CHECKSUM; then the record is appended
to distributions/DATASET.json, which is replaced atomically.

Distributions with the same type, format and compression form a group; the new one
becomes its group's `latest` (unless --no-latest), and its keyorder keeps the slots of
the keys that survive from the group's latest distribution.

Exit codes: 0 added (or unchanged with --if-changed); 1 nothing written.";

/// The compressions a distribution can declare.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Compression {
    /// gzip (.gz)
    Gzip,
    /// bzip2 (.bz2)
    Bzip2,
    /// zip archive
    Zip,
    /// xz (.xz)
    Xz,
    /// Zstandard (.zst)
    Zstd,
}

/// Flags of `fair snapshot`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("release").required(true).multiple(true).args(["version", "date"])))]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The dataset that gets the distribution.
    pub dataset: Name,
    /// The collection to snapshot (deepfolders/ or deepcells/).
    pub collection: Name,
    /// The release's version (not `latest` or `none`, which queries reserve).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// The release's date: YYYY-MM-DD, or `today` (local time).
    #[arg(long, value_name = "YYYY-MM-DD|today")]
    pub date: Option<String>,
    /// The format of the elements (e.g. mmcif, json).
    #[arg(long, value_name = "F")]
    pub format: Option<String>,
    /// How the downloads of the elements are compressed.
    #[arg(long, value_enum, value_name = "C")]
    pub compression: Option<Compression>,
    /// Start the access index from the previous distribution's and lay the new URLs over it; records pointing at the old index are re-pointed to the merged one.
    #[arg(long)]
    pub merge_access_index: bool,
    /// Do not make the new distribution its group's latest (the current latest stays latest).
    #[arg(long)]
    pub no_latest: bool,
    /// Write nothing, and exit 0, if the collection is the one of the group's latest distribution.
    #[arg(long)]
    pub if_changed: bool,
    /// Print the record (the new one, or the unchanged latest) as JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    fn request(&self) -> anyhow::Result<Request> {
        let date = match self.date.as_deref() {
            Some("today") => Some(faircore::release::today()),
            other => other.map(String::from),
        };
        let compression = self.compression.map(|c| format!("{c:?}").to_lowercase());
        Ok(Request {
            dataset: self.dataset.clone(),
            collection: self.collection.clone(),
            release: Release::new(self.version.clone(), date, self.format.clone(), compression)?,
            merge_access_index: self.merge_access_index,
            latest: !self.no_latest,
            if_changed: self.if_changed,
        })
    }
}

/// Runs `fair snapshot`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let request = args.request()?;
    let catalogue = Catalogue::open(&args.dir)?;
    let writer = catalogue.writer()?;
    let outcome = snapshot::snapshot(&writer, &request)
        .with_context(|| format!("snapshot of {} into {}", args.collection, args.dataset))?;
    for (count, what) in [
        (
            outcome.without_urls,
            "keys of the collection have no URL in its download index",
        ),
        (
            outcome.stale_urls,
            "keys of the download index are not in the collection (ignored)",
        ),
    ] {
        if count > 0 {
            tracing::warn!("{count} {what}");
        }
    }
    let record = &outcome.record;
    if args.json {
        println!("{}", serde_json::to_string_pretty(record)?);
    } else if outcome.added {
        say!(
            "{} {}: added {}, {} keys, keyorder {}{}",
            args.dataset,
            record.checksum,
            record.describe(),
            record.nkeys,
            record.keyorder,
            match &record.access_index {
                Some(a) => format!(", access index {a}"),
                None => String::new(),
            }
        );
    }
    if !outcome.added {
        note!(
            "fair: {} unchanged: the collection is that of {}; nothing written",
            args.dataset,
            record.describe()
        );
    }
    Ok(Exit::Success)
}
