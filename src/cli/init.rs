//! `fair init`: create a catalogue.

use std::path::PathBuf;

use anyhow::Context;
use faircore::{Catalogue, Config, HashAlgo};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair init /srv/fair                         # BLAKE3 catalogue
  fair init /srv/pdb-fair --hash sha3-256     # Seamless-compatible checksums
  fair init /srv/fair --base-url https://fair.example.org/

An existing Seamless FAIR dir (deepfolders/, distributions/, ...) can be served and
extended without `fair init`; initialising it requires --hash sha3-256.";

/// Flags of `fair init`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory (created if missing).
    pub dir: PathBuf,
    /// The hash algorithm of every checksum in the catalogue; it cannot change later.
    #[arg(long, default_value = "blake3", value_parser = parse_hash)]
    pub hash: HashAlgo,
    /// The public URL the catalogue will be served at.
    #[arg(long, value_name = "URL", value_parser = super::parse_base_url)]
    pub base_url: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_hash(s: &str) -> Result<HashAlgo, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Runs `fair init`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let config = Config::new(args.hash, args.base_url.clone());
    let catalogue = Catalogue::init(&args.dir, config).context("fair init")?;
    if args.json {
        let out = serde_json::json!({
            "catalogue": catalogue.root(),
            "hash": catalogue.hash().name(),
            "base_url": catalogue.config().base_url,
        });
        println!("{out}");
    } else {
        println!(
            "initialised {} (hash {})",
            catalogue.root().display(),
            catalogue.hash()
        );
    }
    Ok(Exit::Success)
}
