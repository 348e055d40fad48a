//! `fair config`: show or change a catalogue's settings after `fair init`.

use std::path::PathBuf;

use faircore::{Catalogue, Config};

use crate::Exit;

const EXAMPLES: &str = "\
Examples:
  fair config /srv/fair                                        # print fair.toml
  fair config /srv/fair --base-url https://fair.example.org/
  fair config /srv/fair --extra-digest sha256                  # next fair index reads
                                                               # every file once more
  fair config /srv/fair --no-base-url --json

fair.toml is rewritten atomically under the catalogue's lock (its comments are not
kept). The hash algorithm cannot change. Adding an extra digest makes the next
`fair index` of each collection read every file again to compute it.

Exit codes: 0 done; 1 nothing changed (bad value, catalogue locked, ...).";

/// Flags of `fair config`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Set the public URL the catalogue is served at.
    #[arg(long, value_name = "URL", value_parser = super::parse_base_url, conflicts_with = "no_base_url")]
    pub base_url: Option<String>,
    /// Remove the base URL.
    #[arg(long)]
    pub no_base_url: bool,
    /// Add digests computed besides the hash, comma-separated: sha256, md5.
    #[arg(long, value_name = "ALGOS")]
    pub extra_digest: Option<String>,
    /// Print the resulting configuration as one JSON object (else as fair.toml).
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// `config` with the requested changes; whether anything was asked.
    fn apply(&self, mut config: Config) -> anyhow::Result<(Config, bool)> {
        let mut asked = false;
        if let Some(url) = &self.base_url {
            config.base_url = Some(url.clone());
            asked = true;
        }
        if self.no_base_url {
            config.base_url = None;
            asked = true;
        }
        if let Some(list) = &self.extra_digest {
            let added = faircore::digest::parse_list(list, config.hash)
                .map_err(|e| anyhow::anyhow!("--extra-digest: {e}"))?;
            for algo in added {
                if !config.extra_digests.contains(&algo) {
                    config.extra_digests.push(algo);
                }
            }
            asked = true;
        }
        Ok((config, asked))
    }
}

/// Runs `fair config`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let (config, asked) = args.apply(catalogue.config().clone())?;
    if asked && config != *catalogue.config() {
        let writer = catalogue.writer()?;
        let path = catalogue.layout().config();
        writer.publish(&path, config.to_toml().as_bytes())?;
        note!("{}: updated", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string(&config)?);
    } else if !asked {
        print!("{}", config.to_toml());
    }
    Ok(Exit::Success)
}
