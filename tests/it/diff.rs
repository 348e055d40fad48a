//! `fair diff` and `/machine/diff`: the changes between two distributions, checked
//! against the two collections compared as maps.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{fair, fair_ok, path_str};
use crate::http::Answers;
use crate::inproc::InProc;

/// The changes from `old` to `new` as JSON values, computed from the two maps.
fn expected(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<Value> {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|key| match (old.get(key), new.get(key)) {
            (Some(o), None) => Some(json!({"change": "removed", "key": key, "old": o})),
            (None, Some(n)) => Some(json!({"change": "added", "key": key, "new": n})),
            (Some(o), Some(n)) if o != n => {
                Some(json!({"change": "changed", "key": key, "old": o, "new": n}))
            }
            _ => None,
        })
        .collect()
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

/// The checksum of `DATASET@RELEASE` and its collection as a map.
fn collection(root: &Path, spec: &str) -> (String, BTreeMap<String, String>) {
    let (dataset, version) = spec.split_once('@').expect("DATASET@VERSION");
    let out = fair_ok(
        &[
            "find",
            path_str(root),
            dataset,
            "--version",
            version,
            "--checksum",
        ],
        0,
    );
    let checksum = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let bytes = std::fs::read(root.join("buffers").join(&checksum)).expect("the collection");
    (checksum, serde_json::from_slice(&bytes).expect("a map"))
}

#[test]
fn diff_gives_exactly_the_added_removed_and_changed_keys_on_the_cli_and_the_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    fair_ok(&["demo", "--dir", path_str(&base), "--no-serve"], 0);
    let root = base.join("catalogue");
    let served = InProc::start(&root);
    for (old, new) in [
        ("structures@2025.01", "structures@2025.02"),
        ("structures@2025.01", "structures@2025.03"),
        ("structures@2025.03", "structures@2025.01"),
        ("testset@1", "testset@2"),
    ] {
        let (old_checksum, old_map) = collection(&root, old);
        let (new_checksum, new_map) = collection(&root, new);
        let want = expected(&old_map, &new_map);
        assert!(
            !want.is_empty(),
            "{old} {new}: the fixture changes something"
        );

        let out = fair_ok(&["diff", path_str(&root), old, new, "--json"], 0);
        assert_eq!(lines(&out.stdout), want, "fair diff {old} {new} --json");
        // The same distributions by checksum.
        let out = fair_ok(
            &[
                "diff",
                path_str(&root),
                &old_checksum,
                &new_checksum,
                "--json",
            ],
            0,
        );
        assert_eq!(lines(&out.stdout), want, "by checksum");
        let counts = String::from_utf8_lossy(&out.stderr);
        let added = want.iter().filter(|c| c["change"] == "added").count();
        assert!(counts.contains(&format!("{added} added")), "{counts}");

        let answer = served.get(&format!("/machine/diff/{old_checksum}/{new_checksum}"));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
        assert_eq!(lines(&answer.body), want, "/machine/diff for {old} {new}");
    }

    // Human output: one `+`, `-` or `~` line per change.
    let out = fair_ok(&["diff", path_str(&root), "testset@1", "testset@2"], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("~ 5.txt ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("- 8.txt ")), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("+ eleven.txt ")),
        "{text}"
    );

    // A distribution with itself: nothing.
    let out = fair_ok(
        &[
            "diff",
            path_str(&root),
            "testset@2",
            "testset@latest",
            "--json",
        ],
        0,
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_or_ambiguous_distributions_are_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    fair_ok(&["demo", "--dir", path_str(&base), "--no-serve"], 0);
    let root = base.join("catalogue");
    for (spec, says) in [
        ("testset@9", "No distribution with the given parameters"),
        ("nosuch@1", "unknown dataset \"nosuch\""),
        ("cells@latest", "Multiple distributions"),
        ("abc", "expected a distribution checksum"),
        (
            &"0".repeat(64),
            "no dataset has a distribution with this checksum",
        ),
    ] {
        let out = fair(&["diff", path_str(&root), "testset@1", spec]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{spec}: {stderr}");
        assert!(
            stderr.contains(spec) && stderr.contains(says),
            "{spec}: {stderr}"
        );
    }
    let served = InProc::start(&root);
    let zeros = "0".repeat(64);
    for target in [
        format!("/machine/diff/{zeros}/{zeros}"),
        "/machine/diff/abc/def".to_string(),
        "/machine/diff/..%2F..%2Fetc/passwd".to_string(),
    ] {
        assert_eq!(served.get(&target).status, 404, "{target}");
    }
}
