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
  fair init /srv/fair --extra-digest sha256   # BLAKE3, plus SHA-256 for sha256sum -c,
                                              # aria2c and Repr-Digest
  fair init /srv/fair --extra-digest sha256,md5

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
    /// Digests computed besides the hash, in the same read, comma-separated:
    /// sha256, md5. Manifests (sha256sum, aria2, metalink) and the server's
    /// `Repr-Digest` then offer them.
    #[arg(long, value_name = "ALGOS")]
    pub extra_digest: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_hash(s: &str) -> Result<HashAlgo, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Runs `fair init`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let mut config = Config::new(args.hash, args.base_url.clone());
    if let Some(list) = &args.extra_digest {
        config.extra_digests = faircore::digest::parse_list(list, args.hash)
            .map_err(|e| anyhow::anyhow!("--extra-digest: {e}"))?;
    }
    let catalogue = Catalogue::init(&args.dir, config).context("fair init")?;
    if args.json {
        let out = serde_json::json!({
            "catalogue": catalogue.root(),
            "hash": catalogue.hash().name(),
            "base_url": catalogue.config().base_url,
            "extra_digests": catalogue.config().extra_digests,
        });
        println!("{out}");
    } else {
        say!(
            "initialised {} (hash {})",
            catalogue.root().display(),
            catalogue.hash()
        );
    }
    Ok(Exit::Success)
}
