//! `fair demo`: the catalogue it builds, and the URLs it prints, served.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use serde_json::Value;

use crate::helpers::{fair_ok, path_str};
use crate::http::{Answers, Served};

/// The values of `field` over the distributions of `dataset` in the served catalogue.
fn values(served: &Served, dataset: &str, field: &str) -> BTreeSet<String> {
    let answer = served.get(&format!("/machine/dataset/{dataset}"));
    assert_eq!(answer.status, 200, "{dataset}: {}", answer.text());
    let header: Value = serde_json::from_slice(&answer.body).expect("JSON");
    header["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter_map(|record| record[field].as_str().map(String::from))
        .collect()
}

#[test]
fn the_demo_catalogue_is_served_and_every_url_it_prints_answers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    let args = ["demo", "--dir", path_str(&base), "--listen", "127.0.0.1:0"];
    let mut served = Served::spawn(&args, Stdio::piped());
    let stdout = served.take_stdout().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|line| line.expect("line"))
        .take_while(|line| !line.starts_with("Stop with"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("identical to the checksum Seamless computes")),
        "{lines:#?}"
    );

    // Every printed URL answers 200 from the demo server.
    let urls: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("curl '")?.strip_suffix('\''))
        .collect();
    assert!(urls.len() >= 8, "{lines:#?}");
    for url in urls {
        let target = url
            .strip_prefix(&format!("http://{}", served.addr))
            .expect("a URL of the demo server");
        let answer = served.get(target);
        assert_eq!(answer.status, 200, "{target}: {}", answer.text());
    }

    // What the issue asks of the catalogue: two deepfolder datasets with several
    // versions and dates, a deepcell dataset with several formats and compressions,
    // headers.
    for dataset in ["testset", "structures"] {
        assert_eq!(
            values(&served, dataset, "type"),
            ["deepfolder".into()].into()
        );
        assert!(values(&served, dataset, "version").len() >= 2, "{dataset}");
        assert!(values(&served, dataset, "date").len() >= 2, "{dataset}");
    }
    assert_eq!(values(&served, "cells", "type"), ["deepcell".into()].into());
    assert!(values(&served, "cells", "format").len() >= 2);
    assert!(values(&served, "cells", "compression").len() >= 2);
    for dataset in ["testset", "structures", "cells"] {
        let header: Value =
            serde_json::from_slice(&served.get(&format!("/machine/dataset/{dataset}")).body)
                .expect("JSON");
        assert!(header["description"].is_string(), "{dataset}: {header}");
        assert!(header["license"].is_string(), "{dataset}: {header}");
    }
    let health: Value = serde_json::from_slice(&served.get("/health").body).expect("JSON");
    assert_eq!(health["status"], "ok", "{health}");
    drop(served);

    // The catalogue it built is sound.
    fair_ok(&["verify", path_str(&base.join("catalogue"))], 0);
}

#[test]
fn demo_no_serve_builds_and_exits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    let out = fair_ok(&["demo", "--dir", path_str(&base), "--no-serve"], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fair serve"), "{text}");
    let distributions = base.join("catalogue/distributions");
    let names: BTreeSet<String> = std::fs::read_dir(&distributions)
        .expect("distributions/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["cells.json", "structures.json", "testset.json"]
            .map(String::from)
            .into()
    );

    // Everything published is readable as the umask allows (0644 less it), for the
    // web server or rsync daemon that serves the catalogue under another user.
    #[allow(unsafe_code)]
    // SAFETY: umask has no memory effects; it is set back at once.
    let umask = unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old
    };
    let expected = 0o644 & !(umask as u32);
    for dir in [
        "distributions",
        "dataset_header",
        "keyorder",
        "access_index",
        "buffers",
        "deepfolders",
    ] {
        for entry in std::fs::read_dir(base.join("catalogue").join(dir)).expect(dir) {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                let mode = entry.metadata().expect("metadata").permissions().mode() & 0o777;
                assert_eq!(mode, expected, "{:?}: {mode:o}", entry.path());
            }
        }
    }
}
