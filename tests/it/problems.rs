//! Files that cannot be indexed: reported with their path, never hashed, never
//! blocking, and the previous collection kept unless --allow-errors (which then
//! publishes without them, exits 0 and names them).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::*;

#[test]
fn dangling_link_fifo_and_non_utf8_name_fail_the_run_without_touching_the_collection() {
    let f = Fixture::new("blake3", &small_files(30));
    let good = f.index(&[], 0);
    let before = fs::read(f.deepfolder()).expect("read");

    symlink(f.tmp.path().join("nowhere"), f.source.join("dangling")).expect("symlink");
    let fifo = f.source.join("d01/pipe");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let bad_name = f.source.join(OsStr::from_bytes(b"latin1-\xe9t\xe9.txt"));
    fs::write(&bad_name, b"x").expect("non-UTF-8 name");
    fs::write(f.source.join("d02/extra.txt"), b"a new file\n").expect("write");

    let started = Instant::now();
    let report = f.index(&[], 2);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a FIFO must not hang the run"
    );
    let errors = report["errors"].as_array().expect("errors");
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e["path"].as_str().expect("path"))
        .collect();
    assert_eq!(errors.len(), 3, "{report}");
    assert!(paths.iter().any(|p| p.ends_with("/dangling")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/d01/pipe")), "{paths:?}");
    assert!(paths.iter().any(|p| p.contains("latin1-")), "{paths:?}");
    let messages = report["errors"].to_string();
    assert!(
        messages.contains("dangling") && messages.contains("FIFO") && messages.contains("UTF-8"),
        "{messages}"
    );
    assert!(report["collections"].as_object().expect("map").is_empty());
    assert_eq!(
        fs::read(f.deepfolder()).expect("read"),
        before,
        "the previous collection is kept"
    );

    // The human form names each path on stderr, and exits 2 as well.
    let out = fair(&f.index_args());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dangling") && stderr.contains("pipe"),
        "{stderr}"
    );

    let allowed = f.index(&["--allow-errors"], 0);
    assert_eq!(allowed["errors"].as_array().map(Vec::len), Some(3));
    let written = reported(&allowed, "c").expect("written with --allow-errors");
    assert_ne!(Some(written), reported(&good, "c"));
    let map = f.collection();
    assert_eq!(map.len(), 31);
    assert!(map.contains_key("d02/extra.txt"));
    assert!(
        !map.keys()
            .any(|k| k.contains("pipe") || k.contains("dangling") || k.contains("latin1"))
    );

    // Published without them: exit 0, each skipped file named on stderr.
    let mut args = f.index_args();
    args.push("--allow-errors");
    let out = fair_ok(&args, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["dangling", "d01/pipe", "latin1-"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("skipped") && l.contains(name)),
            "{name}: {stderr}"
        );
    }
}
