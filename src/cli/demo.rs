//! `fair demo`: build a demo catalogue (the upstream Seamless testset in two
//! versions, monthly releases of a PDB-like mirror, a deepcell in several formats
//! and compressions, dataset headers), then serve it and print URLs to try.

mod sources;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Checksum, Config, Distribution, HashAlgo, Name, Release, Writer};

use crate::Exit;
use sources::RELEASES;

/// The checksum Seamless gives the testset's deepfolder (reference §1).
const SEAMLESS_CHECKSUM: &str = "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41";

/// Flags of `fair demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The demo directory holds sources/ (the trees indexed), actions/ (their action files)
and catalogue/ (the catalogue, sha3-256 so that checksums are Seamless's). Exit code 1
if the testset's checksum is not the one Seamless computes.

The port is checked before anything is built: without --listen, a taken 61918 means
another free port (said on stderr); a taken --listen is an error.

Examples:
  fair demo                                  # build in a temporary directory and serve
  fair demo --dir /tmp/demo --no-serve       # build only
  fair demo --listen 127.0.0.1:0             # serve on any free port")]
pub struct Args {
    /// Where to build the demo (must not exist) [default: a new temporary directory,
    /// removed when the server stops; kept with --no-serve].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address and port to serve the demo catalogue on (port 0: any free port)
    /// [default: 127.0.0.1:61918, or a free port if it is taken].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Build the catalogue, do not serve it.
    #[arg(long)]
    pub no_serve: bool,
}

/// Where the demo is served unless `--listen` says otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:61918";

/// Where to serve, checked before building: `given`, else the default port, else
/// (when the default is taken) any free port.
fn listen_address(given: Option<&str>) -> anyhow::Result<String> {
    let wanted = given.unwrap_or(DEFAULT_LISTEN);
    match std::net::TcpListener::bind(wanted) {
        Ok(_) => Ok(wanted.to_owned()),
        Err(e) if given.is_none() && e.kind() == std::io::ErrorKind::AddrInUse => {
            note!("{wanted} is taken: the demo will be served on another free port");
            Ok("127.0.0.1:0".to_owned())
        }
        Err(e) => Err(anyhow::anyhow!("--listen {wanted}: {e}")),
    }
}

/// Runs `fair demo`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let listen = match args.no_serve {
        true => String::new(),
        false => listen_address(args.listen.as_deref())?,
    };
    // The temporary directory lives until the server stops, then is removed.
    let mut temporary = None;
    let base = match &args.dir {
        Some(dir) => {
            fs::create_dir(dir).with_context(|| format!("--dir {}", dir.display()))?;
            dir.clone()
        }
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("fair-demo-")
                .tempdir()
                .context("creating a temporary directory")?;
            let path = tmp.path().to_owned();
            temporary = Some(tmp);
            path
        }
    };
    sources::write(&base)?;
    println!(
        "1. wrote the sources (the upstream Seamless testset, generated trees) to {} and their action files to {}",
        base.join("sources").display(),
        base.join("actions").display()
    );
    let root = base.join("catalogue");
    let mut config = Config::new(HashAlgo::Sha3_256, None);
    config.catalogue = sources::catalogue_meta();
    let catalogue = Catalogue::init(&root, config)?;
    println!("2. fair init {} --hash sha3-256", root.display());
    println!("3. each release indexed and snapshotted:");
    let (records, compatible) = build(&catalogue.writer()?, &base)?;
    if !compatible {
        println!("the testset's checksum DIFFERS FROM the one Seamless computes");
        return Ok(Exit::Failure);
    }
    let datasets: std::collections::BTreeSet<_> = RELEASES.iter().map(|r| r.dataset).collect();
    println!(
        "4. {} distributions in {} datasets; headers written to {}",
        records.len(),
        datasets.len(),
        catalogue.layout().headers_dir().display()
    );
    if args.no_serve {
        let _kept = temporary.map(tempfile::TempDir::keep);
        println!("\nServe it: fair serve {}", root.display());
        return Ok(Exit::Success);
    }
    let options = fairserver::Options {
        dir: root.clone(),
        listen: listen.clone(),
        poll: Duration::from_millis(500),
        base_url: None,
        serve_source: false,
    };
    fairserver::serve(&options, |addr| {
        print_examples(&format!("http://{addr}"), &records, catalogue.hash());
        eprintln!("serving {} on http://{addr}/", root.display());
    })
    .with_context(|| format!("serving {} on {listen}", root.display()))?;
    if let Some(tmp) = temporary {
        let path = tmp.path().display().to_string();
        tmp.close().with_context(|| format!("removing {path}"))?;
        note!("removed {path}");
    }
    Ok(Exit::Success)
}

/// Indexes and snapshots every release of the demo; returns the records made and
/// whether the testset's collection has Seamless's checksum.
fn build(writer: &Writer<'_>, base: &Path) -> anyhow::Result<(Vec<Distribution>, bool)> {
    let root = writer.catalogue().root();
    let mut records = Vec::new();
    let mut compatible = false;
    let mut indexed = None;
    for release in &RELEASES {
        if indexed != Some((release.source, release.actions)) {
            let source = base.join("sources").join(release.source);
            let actions = base.join("actions").join(release.actions);
            let plan = indexer::actions::load(&actions).map_err(anyhow::Error::msg)?;
            let options = indexer::Options {
                source: source.clone(),
                collection: plan.default.clone(),
                intern: indexer::InternMode::None,
                bufferdir: None,
                jobs: None,
                allow_errors: false,
                exclude: indexer::Exclude::default(),
                shard: None,
                min_free: None,
            };
            let limits = indexer::actions::Limits {
                max_decompressed: 1 << 30,
                min_free: None,
            };
            let report = indexer::actions::run(writer, &plan, &options, limits, &|_| ())
                .with_context(|| format!("{} on {}", actions.display(), source.display()))?;
            println!(
                "   fair index {} --source {} --actions {}: {} files",
                root.display(),
                source.display(),
                actions.display(),
                report.files
            );
            if release.source == "testset-v1" {
                let checksum = report.collections.get("testset");
                compatible = checksum.is_some_and(|c| c.to_hex() == SEAMLESS_CHECKSUM);
                if let Some(checksum) = checksum.filter(|_| compatible) {
                    println!(
                        "     testset {checksum}: identical to the checksum Seamless computes for the same files"
                    );
                }
            }
            indexed = Some((release.source, release.actions));
        }
        let request = Request {
            dataset: Name::new(release.dataset)?,
            collection: Name::new(release.collection)?,
            release: Release::new(
                release.version.map(String::from),
                release.date.map(String::from),
                release.format.map(String::from),
                release.compression.map(String::from),
            )?,
            merge_access_index: true,
            latest: true,
            if_changed: false,
        };
        let outcome = snapshot::snapshot(writer, &request)?;
        println!(
            "   fair snapshot {} {} {}{} --merge-access-index: {}",
            root.display(),
            release.dataset,
            release.collection,
            flags(release),
            outcome.record.checksum
        );
        records.push(outcome.record);
    }
    sources::write_headers(writer)?;
    Ok((records, compatible))
}

/// The `fair snapshot` flags of a release.
fn flags(release: &sources::Release) -> String {
    [
        ("version", release.version),
        ("date", release.date),
        ("format", release.format),
        ("compression", release.compression),
    ]
    .iter()
    .filter_map(|(flag, value)| value.map(|v| format!(" --{flag} {v}")))
    .collect()
}

/// Prints URLs of the served demo to try.
fn print_examples(base: &str, records: &[Distribution], algo: HashAlgo) {
    let first = &records[0];
    let newest = records
        .iter()
        .rev()
        .find(|r| r.kind == faircore::CollectionKind::Deepfolder)
        .unwrap_or(first);
    // six.txt is in both versions of the testset: its element is in the merged
    // access index.
    let element: Checksum = algo.hash(sources::TESTSET[4].1);
    let (old, new) = two_versions(records);
    println!("\nThe demo catalogue is served. Its landing pages, in a browser:");
    for path in ["/", "/dataset/testset", "/dataset/structures"] {
        println!("  {base}{path}");
    }
    println!("The machine API, for scripts:");
    for path in [
        "/machine/datasets".to_string(),
        "/machine/dataset/testset".to_string(),
        "/machine/find_distribution?dataset=testset&version=1".to_string(),
        "/machine/find_checksum?dataset=structures&date=2025-02-01".to_string(),
        "/machine/find_distribution?dataset=cells&format=json&compression=gzip".to_string(),
        format!("/machine/find/{}", first.checksum),
        format!("/machine/keyorder/{}", newest.keyorder),
        format!("/machine/access/{element}"),
        format!("/machine/locate/{element}"),
        format!("/machine/diff/{}/{}", old.checksum, new.checksum),
        format!("/machine/manifest/{}?format=aria2", newest.checksum),
        "/health".to_string(),
        "/metrics".to_string(),
    ] {
        println!("  curl '{base}{path}'");
    }
    println!("Stop with Ctrl-C.");
}

/// The first two distributions of one dataset, in the order they were made (the
/// testset's versions 1 and 2), for a diff that means something.
fn two_versions(records: &[Distribution]) -> (&Distribution, &Distribution) {
    RELEASES
        .iter()
        .zip(records)
        .enumerate()
        .find_map(|(i, (release, old))| {
            let later = RELEASES.iter().zip(records).skip(i + 1);
            later
                .filter(|(r, d)| r.dataset == release.dataset && d.kind == old.kind)
                .map(|(_, new)| (old, new))
                .next()
        })
        .unwrap_or((&records[0], &records[0]))
}
