//! `fair locate` and `/machine/locate`: every (dataset, distribution, key) holding
//! an element, across versions, kept up to date while serving.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{describe, digest_by, fair, fair_ok, init, path_str, write_tree};
use crate::http::Answers;
use crate::inproc::InProc;

/// Indexes `source` and snapshots it as `version` of the dataset `files`.
fn release(root: &Path, source: &Path, version: &str) {
    fair_ok(
        &[
            "index",
            path_str(root),
            "--source",
            path_str(source),
            "--collection",
            "files",
        ],
        0,
    );
    fair_ok(
        &[
            "snapshot",
            path_str(root),
            "files",
            "files",
            "--version",
            version,
        ],
        0,
    );
}

/// The BLAKE3 of `bytes`, as `b3sum` gives it.
fn blake3(bytes: &[u8]) -> String {
    digest_by("b3sum", bytes)
}

/// (dataset, version, key) of each holder of a `--json` answer or a server body.
fn holders(value: &serde_json::Value) -> Vec<(String, String, String)> {
    value
        .as_array()
        .expect("a list of holders")
        .iter()
        .map(|h| {
            let field = |name: &str| h[name].as_str().unwrap_or_default().to_string();
            (field("dataset"), field("version"), field("key"))
        })
        .collect()
}

fn located(root: &Path, element: &str) -> Vec<(String, String, String)> {
    let out = fair_ok(&["locate", path_str(root), element, "--json"], 0);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["element"], element);
    holders(&value["holders"])
}

fn triple(version: &str, key: &str) -> (String, String, String) {
    ("files".into(), version.into(), key.into())
}

#[test]
fn every_holder_of_an_element_is_found_across_versions_and_while_serving() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let source = tmp.path().join("source");
    write_tree(
        &source,
        &[
            ("a/kept.txt".into(), b"kept\n".to_vec()),
            ("b/changed.txt".into(), b"old\n".to_vec()),
            ("b/twin.txt".into(), b"kept\n".to_vec()),
        ],
    );
    release(&root, &source, "1");
    write_tree(&source, &[("b/changed.txt".into(), b"new\n".to_vec())]);
    release(&root, &source, "2");

    let kept = blake3(b"kept\n");
    assert_eq!(
        located(&root, &kept),
        vec![
            triple("1", "a/kept.txt"),
            triple("1", "b/twin.txt"),
            triple("2", "a/kept.txt"),
            triple("2", "b/twin.txt"),
        ]
    );
    assert_eq!(
        located(&root, &blake3(b"old\n")),
        vec![triple("1", "b/changed.txt")]
    );
    let text = fair_ok(&["locate", path_str(&root), &blake3(b"new\n")], 0);
    let line = String::from_utf8_lossy(&text.stdout).trim().to_string();
    assert!(
        line.starts_with("files ") && line.ends_with(" 2 b/changed.txt"),
        "{line}"
    );

    let unknown = fair(&["locate", path_str(&root), &"0".repeat(64)]);
    assert_eq!(unknown.status.code(), Some(1), "{}", describe(&unknown));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no distribution holds"));
    let bad = fair(&["locate", path_str(&root), "xyz"]);
    assert_eq!(bad.status.code(), Some(1), "{}", describe(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("64 hex digits"),
        "{}",
        describe(&bad)
    );

    // The server answers the same, and follows a snapshot made while it serves.
    let served = InProc::start(&root);
    // The index is brought up to date in the background: 503 until then.
    let started = Instant::now();
    let answer = loop {
        let answer = served.get(&format!("/machine/locate/{kept}"));
        let health: serde_json::Value =
            serde_json::from_slice(&served.get("/health").body).expect("JSON");
        if answer.status != 503 {
            assert_eq!(health["locate_index"], "ready", "{health}");
            break answer;
        }
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert!(started.elapsed() < Duration::from_secs(5), "{health}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(holders(&body), located(&root, &kept));
    assert_eq!(
        served
            .get(&format!("/machine/locate/{}", "0".repeat(64)))
            .status,
        404
    );
    assert_eq!(served.get("/machine/locate/xyz").status, 400);
    assert_eq!(
        served
            .get(&format!("/machine/locate/{}", kept.to_uppercase()))
            .status,
        400
    );

    write_tree(&source, &[("c/third.txt".into(), b"kept\n".to_vec())]);
    release(&root, &source, "3");
    let started = Instant::now();
    loop {
        let answer = served.get(&format!("/machine/locate/{kept}"));
        let body: serde_json::Value = match answer.status {
            503 => serde_json::json!([]),
            _ => serde_json::from_slice(&answer.body).expect("JSON"),
        };
        if holders(&body).contains(&triple("3", "c/third.txt")) {
            assert_eq!(holders(&body).len(), 7, "{body}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "version 3 not located: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
