//! `fair snapshot`: records, `latest`, the fixed upstream defects, refusals, a
//! nightly cron, concurrent writers and SIGKILL on a million keys.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread::sleep;
use std::time::Instant;

use faircore::{Catalogue, Distribution};

use crate::helpers::*;

#[path = "../../fixtures/big/catalogue.rs"]
mod big;

fn records(root: &Path, dataset: &str) -> Vec<Distribution> {
    let path = root.join("distributions").join(format!("{dataset}.json"));
    faircore::distribution::parse(&fs::read(path).expect("records")).expect("parses")
}

fn snapshot(root: &Path, args: &[&str], code: i32) -> std::process::Output {
    let mut all = vec!["snapshot", path_str(root)];
    all.extend_from_slice(args);
    fair_ok(&all, code)
}

fn keyorder(root: &Path, record: &Distribution) -> Vec<String> {
    let path = root.join("keyorder").join(record.keyorder.to_hex());
    serde_json::from_slice(&fs::read(path).expect("keyorder")).expect("list")
}

/// A deepfolder `c` of `files` in a new blake3 catalogue.
fn indexed(files: &[(String, Vec<u8>)]) -> Fixture {
    let f = Fixture::new("blake3", files);
    f.index(&[], 0);
    f
}

fn file(name: &str, content: &str) -> (String, Vec<u8>) {
    (name.to_string(), content.as_bytes().to_vec())
}

#[test]
fn a_nightly_cron_adds_a_distribution_only_when_the_source_changed() {
    let mut files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| file(&format!("d{}/f{i:02}.txt", i % 4), &format!("v0 {i}\n")))
        .collect();
    let f = Fixture::new("blake3", &files);
    let mut previous: Option<Vec<String>> = None;
    let mut added = 0;
    for round in 1..=5 {
        if round != 3 {
            // One key deleted, one rewritten, two added: slots survive.
            files.remove(round);
            files[0].1 = format!("v{round}\n").into_bytes();
            files.push(file(&format!("new/{round}a.txt"), "a\n"));
            files.push(file(&format!("new/{round}b.txt"), &format!("{round}\n")));
            fs::remove_dir_all(&f.source).expect("clear source");
            write_tree(&f.source, &files);
        }
        f.index(&[], 0);
        let date = format!("2025-03-0{round}");
        let out = snapshot(
            &f.root,
            &["ds", "c", "--date", &date, "--if-changed", "--json"],
            0,
        );
        let printed: Distribution = serde_json::from_slice(&out.stdout).expect("record");
        let all = records(&f.root, "ds");
        if round == 3 {
            assert!(String::from_utf8_lossy(&out.stderr).contains("unchanged"));
            assert_eq!(
                printed.date.as_deref(),
                Some("2025-03-02"),
                "the unchanged latest"
            );
        } else {
            added += 1;
            assert_eq!(printed.date.as_deref(), Some(date.as_str()));
        }
        assert_eq!(all.len(), added, "round {round}");
        let latest: Vec<&Distribution> = all.iter().filter(|r| r.latest).collect();
        assert_eq!(latest.len(), 1, "round {round}");
        assert_eq!(latest[0], all.last().expect("one"), "round {round}");
        assert_eq!(latest[0].nkeys as usize, files.len());
        let order = keyorder(&f.root, latest[0]);
        if let Some(old) = &previous {
            for (slot, key) in old.iter().enumerate() {
                if files.iter().any(|(k, _)| k == key) {
                    assert_eq!(&order[slot], key, "round {round}: {key} moved");
                }
            }
        }
        previous = Some(order);
    }
    assert_eq!(added, 4);
    fair_ok(&["verify", path_str(&f.root)], 0);
}

#[test]
fn no_latest_keeps_the_previous_latest() {
    // Seamless removes `latest` from the previous one too, leaving none.
    let f = indexed(&[file("a", "1\n")]);
    snapshot(&f.root, &["ds", "c", "--version", "1"], 0);
    snapshot(&f.root, &["ds", "c", "--version", "2", "--no-latest"], 0);
    let all = records(&f.root, "ds");
    assert!(all[0].latest && !all[1].latest);
    let found = fair_ok(&["find", path_str(&f.root), "ds", "--checksum"], 0);
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        all[0].checksum.to_hex()
    );
}

#[test]
fn zero_counts_are_written() {
    // Seamless drops `nkeys: 0` and `content_size: 0`.
    let f = Fixture::new("blake3", &[]);
    fs::create_dir_all(&f.source).expect("empty source");
    f.index(&[], 0);
    snapshot(&f.root, &["ds", "c", "--version", "empty"], 0);
    let text = fs::read_to_string(f.root.join("distributions/ds.json")).expect("text");
    assert!(text.contains("\"nkeys\": 0,"), "{text}");
    assert!(text.contains("\"content_size\": 0,"), "{text}");
    assert!(text.ends_with("}\n]\n"), "final newline: {text}");
    fair_ok(&["verify", path_str(&f.root)], 0);
}

#[test]
fn a_merge_that_changes_nothing_deletes_nothing() {
    // Seamless deletes the index it has just written when the merge changed nothing.
    let files = [file("a.txt", "1\n")];
    let f = Fixture::new("blake3", &files);
    let actions = f.tmp.path().join("actions.yaml");
    fs::write(
        &actions,
        "collection: c\ncross_device: false\nactions:\n  - action: build_download_index\n    source_file: '(.*)'\n    urls: ['https://m.org/{0}']\n  - action: deepfolder\n",
    )
    .expect("actions");
    let index = [
        "index",
        path_str(&f.root),
        "--source",
        path_str(&f.source),
        "--actions",
        path_str(&actions),
    ];
    fair_ok(&index, 0);
    snapshot(&f.root, &["ds", "c", "--version", "1"], 0);
    snapshot(
        &f.root,
        &["ds", "c", "--version", "2", "--merge-access-index"],
        0,
    );
    let all = records(&f.root, "ds");
    assert_eq!(all[0].access_index, all[1].access_index);
    let index = all[1].access_index.expect("an access index");
    assert!(f.root.join("access_index").join(index.to_hex()).is_file());
    fair_ok(&["verify", path_str(&f.root)], 0);
}

#[test]
fn refusals_name_what_is_wrong() {
    let f = indexed(&[file("a", "1\n")]);
    snapshot(
        &f.root,
        &["ds", "c", "--version", "1", "--date", "2025-01-01"],
        0,
    );
    let cases: [(&[&str], &str); 7] = [
        (
            &["ds", "c", "--version", "1"],
            "record 1 is version 1, date 2025-01-01 (deepfolder) already",
        ),
        (&["ds", "c"], "--version"),
        (&["ds", "c", "--date", "2025-02-30"], "not a calendar date"),
        (&["ds", "c", "--version", "latest"], "reserved"),
        (
            &["ds", "c", "--version", "2", "--compression", "bzip"],
            "bzip2",
        ),
        (
            &["ds", "nothing", "--version", "2"],
            "neither deepfolders/nothing.json nor deepcells/nothing.json",
        ),
        (&["../x", "c", "--version", "2"], "invalid name"),
    ];
    for (args, message) in cases {
        let out = snapshot(&f.root, args, 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    fs::create_dir_all(f.root.join("deepcells")).expect("mkdir");
    fs::copy(f.deepfolder(), f.root.join("deepcells/c.json")).expect("copy");
    let out = snapshot(&f.root, &["ds", "c", "--version", "3"], 1);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("both deepfolders/c.json and deepcells/c.json")
    );
    assert_eq!(
        records(&f.root, "ds").len(),
        1,
        "nothing written by a refusal"
    );
}

#[test]
fn two_snapshots_at_once_one_wins_or_both_in_turn() {
    let f = indexed(
        &(0..2000)
            .map(|i| file(&format!("f{i}"), &i.to_string()))
            .collect::<Vec<_>>(),
    );
    let start = |version: &str| {
        fair_cmd()
            .args([
                "snapshot",
                path_str(&f.root),
                "ds",
                "c",
                "--version",
                version,
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (start("a"), start("b"));
    let mut won = 0;
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        match out.status.code() {
            Some(0) => won += 1,
            Some(1) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(stderr.contains("locked by another writer (pid"), "{stderr}");
            }
            other => panic!("exit {other:?}"),
        }
    }
    assert!(won >= 1);
    assert_eq!(records(&f.root, "ds").len(), won);
    fair_ok(&["verify", path_str(&f.root)], 0);
}

#[test]
fn sigkill_during_a_million_key_snapshot_leaves_the_old_or_the_new_state() {
    const KEYS: usize = 1_000_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let catalogue = Catalogue::open(&root).expect("open");
    big::write(&catalogue, KEYS, 0).expect("revision 0");
    let args = [
        "snapshot",
        path_str(&root),
        "big",
        "big",
        "--merge-access-index",
    ];
    let first = [&args[..], &["--version", "0"]].concat();
    let started = Instant::now();
    fair_ok(&first, 0);
    let duration = started.elapsed();
    big::write(&catalogue, KEYS, 1).expect("revision 1");
    let old = fs::read(root.join("distributions/big.json")).expect("old records");
    let second = [&args[..], &["--version", "1"]].concat();
    let mut interrupted = 0;
    for step in 0..5u32 {
        let delay = duration * step / 5;
        let mut child = fair_cmd()
            .args(&second)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        sleep(delay);
        child.kill().expect("kill");
        let status = child.wait().expect("wait");
        let now = fs::read(root.join("distributions/big.json")).expect("records");
        if now == old {
            interrupted += u32::from(!status.success());
        } else {
            assert_eq!(records(&root, "big").len(), 2, "after a kill at {delay:?}");
            break;
        }
        let out = fair_ok(&["verify", path_str(&root), "--json"], 0);
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"problems\":[]"));
    }
    assert!(interrupted >= 1, "no kill landed during a snapshot");
    if records(&root, "big").len() == 1 {
        fair_ok(&second, 0);
    }
    let all = records(&root, "big");
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].nkeys as usize, KEYS);
    fair_ok(&["verify", path_str(&root)], 0);
}

#[test]
fn verify_finds_every_disagreement_between_a_record_and_its_files() {
    let files = [file("a", "1\n"), file("b/c", "22\n"), file("d", "333\n")];
    let f = Fixture::new("blake3", &files);
    f.index(&["--intern", "copy"], 0);
    fs::create_dir_all(f.root.join("download_indices")).expect("mkdir");
    fs::write(
        f.root.join("download_indices/c.json"),
        r#"{"a": ["https://m.org/a"], "b/c": ["https://m.org/b/c"], "d": ["https://m.org/d"]}"#,
    )
    .expect("download index");
    snapshot(&f.root, &["ds", "c", "--version", "1"], 0);
    fair_ok(&["verify", path_str(&f.root)], 0);
    let record = records(&f.root, "ds").remove(0);
    let problems = |change: &dyn Fn()| -> String {
        change();
        let out = fair_ok(&["verify", path_str(&f.root), "--json"], 2);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let keyorder = f.root.join(format!("keyorder/{}", record.keyorder));
    let good_order = fs::read(&keyorder).expect("keyorder");
    let records_path = f.root.join("distributions/ds.json");
    let good_records = fs::read(&records_path).expect("records");
    for (bad, what) in [
        (r#"["a", "a", "d"]"#, "a repeated key in place of another"),
        (r#"["a", "d"]"#, "a missing key"),
        (r#"["a", "b/c", "d", "e"]"#, "a key of no entry"),
        (r#"["a", "b/c", "d", "d"]"#, "a repeated key"),
    ] {
        let out = problems(&|| fs::write(&keyorder, bad).expect("write"));
        assert!(
            out.contains("does not hold exactly the collection's 3 keys, each once"),
            "{what}: {out}"
        );
    }
    fs::write(&keyorder, &good_order).expect("restore");
    let edit = |field: &str, value: serde_json::Value| {
        let mut all: serde_json::Value = serde_json::from_slice(&good_records).expect("JSON");
        all[0][field] = value;
        fs::write(
            &records_path,
            serde_json::to_vec_pretty(&all).expect("JSON"),
        )
        .expect("write");
    };
    let out = problems(&|| edit("nkeys", 4.into()));
    assert!(out.contains("nkeys is 4, the collection has 3"), "{out}");
    let out = problems(&|| edit("content_size", 1.into()));
    assert!(
        out.contains("content_size is 1, the element buffers add up to 9"),
        "{out}"
    );
    fs::write(&records_path, &good_records).expect("restore");
    let access = f.root.join(format!(
        "access_index/{}",
        record.access_index.expect("an access index")
    ));
    let out =
        problems(&|| fs::write(&access, r#"{"nothex": ["https://m.org/a"]}"#).expect("write"));
    assert!(out.contains("access index"), "{out}");
}
