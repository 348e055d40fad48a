//! `fair snapshot` of a 1,000,000-key collection against parsing that
//! collection's JSON, in the same run (the target: at most 3×). With a download
//! index, the snapshot also reads it and writes the access index: that case is
//! shown against parsing both input files as well.
//!
//! Run: `cargo bench --bench snapshot` (`SNAPSHOT_KEYS`, `SNAPSHOT_HASH` and
//! `SNAPSHOT_RUNS` change the size, algorithm and number of runs; the best run of
//! each measurement is reported; `SNAPSHOT_DOWNLOAD=0` leaves the download index
//! out, and with it the access index). The allocator is the `fair` binary's.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Collection, CollectionKind, Config, HashAlgo, Release, UrlInfo};

#[path = "../fixtures/big/catalogue.rs"]
mod big;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn best(times: &[Duration]) -> f64 {
    times
        .iter()
        .min()
        .copied()
        .unwrap_or_default()
        .as_secs_f64()
}

fn request(version: &str, merge: bool) -> Request {
    Request {
        dataset: "bench".parse().expect("name"),
        collection: "big".parse().expect("name"),
        release: Release::new(Some(version.into()), None, None, None).expect("release"),
        merge_access_index: merge,
        latest: true,
        if_changed: false,
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let keys: usize = env("SNAPSHOT_KEYS", 1_000_000);
    let runs: usize = env("SNAPSHOT_RUNS", 3);
    let algo: HashAlgo = env("SNAPSHOT_HASH", HashAlgo::Blake3);
    let with_download = env("SNAPSHOT_DOWNLOAD", 1) != 0;
    let (mut parse, mut first, mut next) = (Vec::new(), Vec::new(), Vec::new());
    let mut parse_download = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let tmp = tempfile::tempdir().expect("tempdir");
        let catalogue =
            Catalogue::init(&tmp.path().join("c"), Config::new(algo, None)).expect("init");
        big::write(&catalogue, keys, 0).expect("collection");
        let download = catalogue.root().join("download_indices/big.json");
        let drop_download = || {
            if !with_download {
                std::fs::remove_file(&download).expect("remove download index");
            }
        };
        if with_download {
            let bytes = std::fs::read(&download).expect("read");
            let started = Instant::now();
            let parsed: BTreeMap<String, Vec<UrlInfo>> =
                serde_json::from_slice(&bytes).expect("parses");
            parse_download.push(started.elapsed());
            assert_eq!(parsed.len(), keys);
        }
        drop_download();
        let path = catalogue.root().join("deepfolders/big.json");
        let bytes = std::fs::read(&path).expect("read");
        size = bytes.len();
        let started = Instant::now();
        let parsed = Collection::from_json(CollectionKind::Deepfolder, &bytes).expect("parses");
        parse.push(started.elapsed());
        assert_eq!(parsed.nkeys(), keys);
        drop(parsed);

        let writer = catalogue.writer().expect("lock");
        let started = Instant::now();
        snapshot::snapshot(&writer, &request("1", false)).expect("first snapshot");
        first.push(started.elapsed());
        drop(writer);
        big::write(&catalogue, keys, 1).expect("revision 1");
        drop_download();
        let writer = catalogue.writer().expect("lock");
        let started = Instant::now();
        snapshot::snapshot(&writer, &request("2", true)).expect("second snapshot");
        next.push(started.elapsed());
    }
    let parse = best(&parse);
    let access = if with_download { "with" } else { "without" };
    println!(
        "collection: {keys} keys, {size} bytes, {algo}, {access} access index, best of {runs}"
    );
    let inputs = parse + best(&parse_download);
    println!("parse the collection JSON          {parse:8.3} s   1.00");
    if with_download {
        println!(
            "parse it and its download index    {inputs:8.3} s   {:.2}",
            inputs / parse
        );
    }
    for (label, times) in [
        ("first snapshot (every key new)    ", &first),
        ("next snapshot (2% changed, merge) ", &next),
    ] {
        let t = best(times);
        if with_download {
            println!(
                "{label} {t:8.3} s   {:.2}   {:.2} of both parses",
                t / parse,
                t / inputs
            );
        } else {
            println!("{label} {t:8.3} s   {:.2}", t / parse);
        }
    }
}
