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

    // Every printed URL answers 200 from the demo server, the landing pages first,
    // and the diff compares two versions of one dataset.
    let landing = format!("http://{}/", served.addr);
    let first_url = lines.iter().find(|l| l.contains("http://"));
    assert_eq!(
        first_url.map(|l| l.trim()),
        Some(landing.as_str()),
        "{lines:#?}"
    );
    let urls: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("curl '")
                .and_then(|u| u.strip_suffix('\''))
                .or_else(|| l.starts_with("http://").then_some(l))
        })
        .collect();
    assert!(urls.len() >= 10, "{lines:#?}");
    assert!(
        urls.iter().any(|u| u.ends_with("/dataset/testset")),
        "{urls:#?}"
    );
    let diff = urls
        .iter()
        .find(|u| u.contains("/machine/diff/"))
        .expect("a diff URL");
    let diff = served.get(&diff[landing.len() - 1..]);
    assert_eq!(diff.status, 200);
    let changes: Vec<Value> = diff
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON change a line"))
        .collect();
    // Versions 1 and 2 of the testset: keys of both changed, not two unrelated key sets.
    assert!(
        changes.iter().any(|c| c["change"] == "changed"),
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c["key"].as_str().is_some_and(|k| k.ends_with(".txt")))
    );
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

#[test]
fn demo_with_its_port_taken_serves_on_another_and_removes_its_directory() {
    // Held for the test (if something else holds it already, it is taken all the same).
    let _taken = std::net::TcpListener::bind("127.0.0.1:61918");
    let mut cmd = crate::helpers::fair_cmd();
    cmd.arg("demo")
        .env("TMPDIR", tempfile::tempdir().expect("tempdir").keep());
    let tmp = std::path::PathBuf::from(cmd.get_envs().find_map(|(_, v)| v).expect("TMPDIR"));
    let mut served = Served::spawn_cmd(cmd, Stdio::piped());
    assert!(!served.addr.ends_with(":61918"), "{}", served.addr);
    let stdout = served.take_stdout().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|line| line.expect("line"))
        .take_while(|line| !line.starts_with("Stop with"))
        .collect();
    assert!(lines.iter().any(|l| l.contains(&served.addr)), "{lines:#?}");
    assert_eq!(served.get("/health").status, 200);
    let demo_dirs = || std::fs::read_dir(&tmp).expect("TMPDIR").count();
    assert_eq!(demo_dirs(), 1, "the demo's directory while it serves");

    // SIGTERM: the server stops and the temporary directory goes.
    #[allow(unsafe_code)]
    // SAFETY: kill has no memory effects; the pid is our child's.
    let sent = unsafe { libc::kill(served.pid() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    assert!(served.wait().success());
    assert_eq!(demo_dirs(), 0, "removed when the server stopped");
    std::fs::remove_dir(&tmp).expect("rmdir");
}
