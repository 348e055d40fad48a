//! `fair locate` and `/machine/locate`: every (dataset, distribution, key) holding
//! an element, across versions, kept up to date while serving.

use std::fs;
use std::path::{Path, PathBuf};
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
    // `fair snapshot` stored the reverse index with each record: the server
    // answers from its first request.
    let answer = served.get(&format!("/machine/locate/{kept}"));
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
        assert_eq!(answer.status, 200, "{}", answer.text());
        let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
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

/// The golden catalogue as Seamless's tools leave it: files only, no derived
/// store; and an element of one of its access indexes.
fn without_store() -> (tempfile::TempDir, PathBuf, String) {
    let (tmp, root) = crate::golden::build();
    fs::remove_dir_all(root.join(".fair")).expect("no .fair");
    let index = fs::read_dir(root.join("access_index"))
        .expect("access indexes")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(index).expect("read")).expect("JSON");
    let element = index
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .expect("an element");
    (tmp, root, element)
}

#[test]
fn a_catalogue_without_a_store_is_caught_up_by_its_first_reader_before_it_answers() {
    let (_tmp, root, element) = without_store();
    let served = InProc::start(&root);
    // The first answers already come from the store the server built under the
    // writer lock, before it listened.
    for route in ["access", "locate"] {
        let answer = served.get(&format!("/machine/{route}/{element}"));
        assert_eq!(answer.status, 200, "{route}: {}", answer.text());
    }
    assert!(root.join(".fair/store.redb").is_file());
    let health: serde_json::Value =
        serde_json::from_slice(&served.get("/health").body).expect("JSON");
    assert_eq!(health["problems"], serde_json::json!([]), "{health}");
    // Nothing is left to do; verify agrees.
    let again = fair_ok(&["reindex", path_str(&root), "--json"], 0);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again["access_indexes"], 0, "{again}");
    assert_eq!(again["collections"], 0, "{again}");
    fair_ok(&["verify", path_str(&root)], 0);
}

#[test]
fn while_another_writer_holds_the_lock_the_server_says_so_and_catches_up_after() {
    let (_tmp, root, element) = without_store();
    fs::create_dir_all(root.join(".fair")).expect("mkdir");
    let lock = fs::File::create(root.join(".fair/lock")).expect("lock file");
    lock.lock().expect("lock");
    let served = InProc::start(&root);
    let health: serde_json::Value =
        serde_json::from_slice(&served.get("/health").body).expect("JSON");
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["problems"].to_string().contains("fair reindex"),
        "{health}"
    );
    // The records are served from their files meanwhile; lookups, which the
    // store lacks, are refused rather than answered wrong.
    for route in ["access", "locate"] {
        let answer = served.get(&format!("/machine/{route}/{element}"));
        assert_eq!(answer.status, 503, "{route}: {}", answer.text());
    }
    assert_eq!(
        served
            .get("/machine/find_distribution?dataset=mydataset&version=1")
            .status,
        200
    );
    lock.unlock().expect("unlock");
    let started = Instant::now();
    while served.get(&format!("/machine/locate/{element}")).status != 200 {
        assert!(started.elapsed() < Duration::from_secs(5), "not caught up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let health: serde_json::Value =
        serde_json::from_slice(&served.get("/health").body).expect("JSON");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(
        served.get(&format!("/machine/access/{element}")).status,
        200
    );
}

#[test]
fn fair_reindex_stores_what_the_store_lacks_and_verify_sees_a_store_behind() {
    let (_tmp, root, _) = without_store();
    let records_file = root.join("distributions/mydataset.json");
    let records = fs::read(&records_file).expect("records");
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&records).expect("JSON");
    assert!(parsed.len() > 1, "{parsed:?}");
    // The store is built while the dataset has its first record only; the
    // others come as a Seamless tool would add them.
    fs::write(
        &records_file,
        serde_json::to_vec(&parsed[..1]).expect("JSON"),
    )
    .expect("write");
    let first = fair_ok(&["reindex", path_str(&root), "--json"], 0);
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert!(first["collections"].as_u64() > Some(0), "{first}");
    assert_eq!(first["problems"], serde_json::json!([]), "{first}");
    fs::write(&records_file, &records).expect("restore");
    let behind = fair(&["verify", path_str(&root), "--no-buffers"]);
    let stdout = String::from_utf8_lossy(&behind.stdout);
    assert_eq!(behind.status.code(), Some(2), "{}", describe(&behind));
    assert!(stdout.contains("run `fair reindex`"), "{stdout}");
    let caught = fair_ok(&["reindex", path_str(&root), "--json"], 0);
    let caught: serde_json::Value = serde_json::from_slice(&caught.stdout).expect("JSON");
    assert!(caught["collections"].as_u64() > Some(0), "{caught}");
    let again = fair_ok(&["reindex", path_str(&root), "--json"], 0);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        (&again["access_indexes"], &again["collections"]),
        (&0.into(), &0.into())
    );
    fair_ok(&["verify", path_str(&root), "--no-buffers"], 0);
}

/// Damages the store in place: every 97th byte past the first page flipped,
/// as a disk or a hand might.
fn damage(store: &Path) {
    let mut bytes = fs::read(store).expect("store");
    for i in (4096..bytes.len()).step_by(97) {
        bytes[i] ^= 0xff;
    }
    fs::write(store, bytes).expect("write");
}

#[test]
fn a_damaged_store_is_reported_by_verify_and_rebuilt_by_the_next_writer_or_reader() {
    let (_tmp, root, element) = without_store();
    fair_ok(&["reindex", path_str(&root)], 0);
    let store = root.join(".fair/store.redb");
    damage(&store);
    // verify names it, and says what to do.
    let out = fair(&["verify", path_str(&root), "--no-buffers"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stdout.contains("store.redb") && stdout.contains("fair reindex"),
        "{stdout}"
    );
    // A writer sets it aside and rebuilds it.
    let rebuilt = fair_ok(&["reindex", path_str(&root), "--json"], 0);
    let rebuilt: serde_json::Value = serde_json::from_slice(&rebuilt.stdout).expect("JSON");
    assert!(rebuilt["collections"].as_u64() > Some(0), "{rebuilt}");
    assert!(root.join(".fair/store.redb.unusable").is_file());
    fair_ok(&["verify", path_str(&root), "--no-buffers"], 0);
    // A reader that finds it damaged, the lock free, has it rebuilt too.
    damage(&store);
    let served = InProc::start(&root);
    for route in ["access", "locate"] {
        let answer = served.get(&format!("/machine/{route}/{element}"));
        assert_eq!(answer.status, 200, "{route}: {}", answer.text());
    }
    damage(&store);
    let located = fair(&["locate", path_str(&root), &element]);
    assert_eq!(located.status.code(), Some(0), "{}", describe(&located));
}

#[test]
fn a_file_another_tool_lost_does_not_stop_the_next_snapshot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let source = tmp.path().join("src");
    write_tree(&source, &[("a.txt".into(), b"a\n".to_vec())]);
    release(&root, &source, "1");
    write_tree(&source, &[("b.txt".into(), b"b\n".to_vec())]);
    release(&root, &source, "2");
    // Version 1's collection file is gone (as Seamless's defects leave it) and
    // the store is to be rebuilt: its reverse index cannot be.
    let records: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("distributions/files.json")).expect("records"))
            .expect("JSON");
    let first = records[0]["checksum"].as_str().expect("checksum");
    fs::remove_file(root.join("buffers").join(first)).expect("remove");
    fs::remove_dir_all(root.join(".fair")).expect("no store");
    write_tree(&source, &[("c.txt".into(), b"c\n".to_vec())]);
    let out = fair(&[
        "index",
        path_str(&root),
        "--source",
        path_str(&source),
        "--collection",
        "files",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = fair(&[
        "snapshot",
        path_str(&root),
        "files",
        "files",
        "--version",
        "3",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the new version is published: {}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(first), "the lost file is named: {stderr}");
    // Its own lookups are there.
    let located = fair_ok(&["locate", path_str(&root), &blake3(b"c\n"), "--json"], 0);
    let located: serde_json::Value = serde_json::from_slice(&located.stdout).expect("JSON");
    assert_eq!(located["holders"][0]["version"], "3", "{located}");
}
