//! The catalogue followed while serving: a snapshot is served within two
//! seconds and readers never see half of one (the real executable under load,
//! and the same in this process through `Server::watch`); a malformed file is
//! reported and spoils nothing else.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::golden::build;
use crate::helpers::{fair_ok, init, path_str, write_tree};
use crate::http::{Answers, Served};
use crate::inproc::InProc;

/// The checksum `find_checksum` answers for `dataset` now.
fn latest(served: &impl Answers, dataset: &str) -> Option<String> {
    let got = served.get(&format!("/machine/find_checksum?dataset={dataset}"));
    (got.status == 200).then(|| got.text().trim().to_string())
}

/// One consistency check of what the server says about `dataset`: the latest
/// record, its keyorder and its access index are all there, and the dataset list
/// has exactly one `latest` that `/machine/find` knows.
fn consistent(served: &impl Answers, dataset: &str) -> Result<(), String> {
    let got = served.get(&format!("/machine/find_distribution?dataset={dataset}"));
    if got.status != 200 {
        return Err(format!("find_distribution: {} {}", got.status, got.text()));
    }
    let record: Value = serde_json::from_slice(&got.body).map_err(|e| e.to_string())?;
    let keyorder = record["keyorder"].as_str().unwrap_or_default();
    let got = served.get(&format!("/machine/keyorder/{keyorder}"));
    if got.status != 200 {
        return Err(format!("keyorder {keyorder}: {}", got.status));
    }
    let list = served.get("/machine/datasets");
    let list: Value = serde_json::from_slice(&list.body).map_err(|e| e.to_string())?;
    let latest = list[0]["latest"].as_array().cloned().unwrap_or_default();
    if latest.len() != 1 {
        return Err(format!("{} latest records", latest.len()));
    }
    let checksum = latest[0]["checksum"].as_str().unwrap_or_default();
    let got = served.get(&format!("/machine/find/{checksum}"));
    if got.status != 200 {
        return Err(format!("latest {checksum} unknown to /machine/find"));
    }
    Ok(())
}

/// A new catalogue (in `tmp`) whose dataset `ds` has the first release of its
/// source; the catalogue and the source directory.
fn catalogue(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = init(&tmp.join("fair"), "blake3");
    let source = tmp.join("source");
    release(&dir, &source, 0);
    (dir, source)
}

/// Writes release `n` of the source (20 files), indexes it as the collection
/// `ds` and snapshots it as version `n` of the dataset `ds`; its checksum.
fn release(dir: &Path, source: &Path, n: usize) -> String {
    let files: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| {
            (
                format!("d{}/f{i}.txt", i % 3),
                format!("{n}-{i}\n").into_bytes(),
            )
        })
        .collect();
    write_tree(source, &files);
    fair_ok(
        &[
            "index",
            path_str(dir),
            "--source",
            path_str(source),
            "--collection",
            "ds",
        ],
        0,
    );
    let out = fair_ok(
        &[
            "snapshot",
            path_str(dir),
            "ds",
            "ds",
            "--version",
            &n.to_string(),
            "--json",
        ],
        0,
    );
    let record: Value = serde_json::from_slice(&out.stdout).expect("record");
    record["checksum"].as_str().expect("checksum").to_string()
}

/// Waits until `served` answers `checksum` as the latest of `ds`, at most two
/// seconds after it was `written`; how long that took.
fn served_within_two_seconds(served: &impl Answers, checksum: &str, written: Instant) -> Duration {
    while latest(served, "ds").as_deref() != Some(checksum) {
        assert!(
            written.elapsed() < Duration::from_secs(2),
            "{checksum}: not served after 2 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    written.elapsed()
}

#[test]
fn snapshots_are_served_within_two_seconds_and_readers_never_see_a_half_catalogue() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, source) = catalogue(tmp.path());
    let served = Arc::new(Served::start(&dir));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let served = served.clone();
        std::thread::spawn(move || {
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                consistent(&*served, "ds").expect("a consistent answer");
                checks += 1;
            }
            checks
        })
    };
    let mut slowest = Duration::ZERO;
    for n in 1..=50 {
        let checksum = release(&dir, &source, n);
        let took = served_within_two_seconds(&*served, &checksum, Instant::now());
        slowest = slowest.max(took);
    }
    stop.store(true, Ordering::Relaxed);
    let checks = reader.join().expect("no inconsistent answer");
    assert!(checks > 50, "{checks} checks");
    let health: Value = serde_json::from_slice(&served.get("/health").body).expect("health");
    assert_eq!(health["distributions"], 51);
    assert_eq!(health["status"], "ok");
    eprintln!("slowest reload {slowest:?}, {checks} consistency checks");
}

#[test]
fn in_process_too_snapshots_are_served_within_two_seconds_and_whole() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, source) = catalogue(tmp.path());
    let served = InProc::start(&dir);
    consistent(&served, "ds").expect("a consistent answer");
    for n in 1..=5 {
        let checksum = release(&dir, &source, n);
        served_within_two_seconds(&served, &checksum, Instant::now());
        consistent(&served, "ds").expect("a consistent answer");
    }
    let health: Value = serde_json::from_slice(&served.get("/health").body).expect("health");
    assert_eq!(health["distributions"], 6);
    assert_eq!(health["status"], "ok");
    assert!(health["generation"].as_u64() > Some(1), "{health}");
}

#[test]
fn a_malformed_file_is_reported_and_spoils_nothing_else() {
    let (_tmp, dir) = build();
    fs::write(dir.join("distributions/broken.json"), "[{\"checksum\": 12").expect("write");
    let served = InProc::start(&dir);
    assert_eq!(
        served
            .get("/machine/find_checksum?dataset=mydataset")
            .status,
        200
    );
    let health: Value = serde_json::from_slice(&served.get("/health").body).expect("health");
    assert_eq!(health["status"], "degraded");
    let problems = health["problems"].to_string();
    assert!(problems.contains("broken.json"), "{problems}");
    assert_eq!(
        served.get("/machine/find_checksum?dataset=broken").status,
        404
    );
}
