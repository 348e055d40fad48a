//! `fair update`: the `[[dataset]]` tables of fair.toml indexed and snapshotted
//! as the nightly job, silent with -q, one failing dataset not stopping the others.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::exclude::mirror_files;
use crate::helpers::*;
use crate::schemas::assert_valid;

/// Appends `text` to the catalogue's fair.toml.
fn declare(root: &Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(root.join("fair.toml"))
        .expect("fair.toml");
    file.write_all(text.as_bytes()).expect("append");
}

/// The records of `dataset`.
fn records(root: &Path, dataset: &str) -> Vec<serde_json::Value> {
    match fs::read(root.join(format!("distributions/{dataset}.json"))) {
        Ok(bytes) => serde_json::from_slice(&bytes).expect("records"),
        Err(_) => Vec::new(),
    }
}

#[test]
fn declared_datasets_are_published_quietly_and_a_failing_one_stops_no_other() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_tree(&tmp.path().join("pdb-mirror"), &mirror_files());
    let root = init(tmp.path(), "blake3");
    let r = path_str(&root);
    declare(
        &root,
        r#"
[[dataset]]
name = "pdb"
source = "../pdb-mirror"
exclude = [".git/", "*.part"]
date = "today"
format = "mmcif"
"#,
    );

    let out = fair_ok(&["-q", "update", r], 0);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        describe(&out)
    );
    let published = records(&root, "pdb");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["format"], "mmcif");
    assert_eq!(published[0]["date"].as_str().map(str::len), Some(10));
    let collection: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fs::read(root.join("deepfolders/pdb.json")).expect("read"))
            .expect("collection");
    let keys: Vec<&str> = collection.keys().map(String::as_str).collect();
    assert_eq!(keys, ["data/1abc.cif", "data/2xyz.cif"]);

    // Nothing changed: no record, nothing printed.
    let out = fair_ok(&["-q", "update", r], 0);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        describe(&out)
    );
    assert_eq!(records(&root, "pdb").len(), 1);

    // A dataset whose source is gone fails; the one before it still runs.
    declare(
        &root,
        r#"
[[dataset]]
name = "gone"
source = "../nowhere"
version = "1"
"#,
    );
    let out = fair_ok(&["-q", "update", r, "--json"], 2);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let datasets = report["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 2, "{report}");
    assert_eq!(datasets[0]["name"], "pdb");
    assert_eq!(datasets[0]["status"], "unchanged", "{report}");
    assert_eq!(datasets[1]["name"], "gone");
    assert_eq!(datasets[1]["status"], "failed");
    assert!(
        datasets[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("nowhere")),
        "{report}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gone: failed") && stderr.contains("nowhere"),
        "{stderr}"
    );
    assert_eq!(records(&root, "gone").len(), 0);

    // Only the named dataset runs.
    let out = fair_ok(&["update", r, "pdb", "--json"], 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["datasets"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );

    let config: toml::Value =
        toml::from_str(&fs::read_to_string(root.join("fair.toml")).expect("read")).expect("toml");
    assert_valid(
        "fair-toml.schema.json",
        &serde_json::to_value(config).expect("JSON"),
    );
}

#[test]
fn a_dataset_with_a_new_version_is_added_and_one_with_skipped_files_exits_2() {
    let f = Fixture::new("blake3", &small_files(6));
    let r = path_str(&f.root);
    declare(
        &f.root,
        "[[dataset]]\nname = \"d\"\nsource = \"../src\"\nversion = \"1\"\nallow_errors = true\n",
    );
    let out = fair_ok(&["update", r], 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("d: added version 1"),
        "{}",
        describe(&out)
    );
    std::os::unix::fs::symlink("nowhere", f.source.join("dangling")).expect("symlink");
    let out = fair_ok(&["-q", "update", r, "--json"], 2);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["datasets"][0]["status"], "unchanged", "{report}");
    assert!(
        report["datasets"][0]["skipped"]
            .to_string()
            .contains("dangling")
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped"),
        "{}",
        describe(&out)
    );
}

#[test]
fn bad_configuration_exits_1_before_anything_runs() {
    let f = Fixture::new("blake3", &small_files(3));
    let r = path_str(&f.root);
    let err = String::from_utf8_lossy(&fair_ok(&["update", r], 1).stderr).into_owned();
    assert!(err.contains("no [[dataset]]"), "{err}");
    let good = "[[dataset]]\nname = \"ok\"\nsource = \"../src\"\nversion = \"1\"\n";
    for (table, expected) in [
        ("name = \"d\"\nsource = \"../src\"\n", "version or a date"),
        (
            "name = \"d\"\nsource = \"../src\"\ndate = \"2025-13-01\"\n",
            "2025-13-01",
        ),
        (
            "name = \"d\"\nsource = \"../src\"\nversion = \"1\"\nexclude = [\"a{b\"]\n",
            "a{b",
        ),
        (
            "name = \"d\"\nsource = \"../src\"\nversion = \"1\"\nactions = \"none.yaml\"\n",
            "none.yaml",
        ),
        (
            "name = \"../d\"\nsource = \"../src\"\nversion = \"1\"\n",
            "invalid name",
        ),
        (
            "name = \"d\"\nsource = \"../src\"\nversion = \"1\"\nexclud = []\n",
            "exclud",
        ),
        (
            "name = \"ok\"\nsource = \"x\"\nversion = \"2\"\n",
            "declared twice",
        ),
    ] {
        let config = f.root.join("fair.toml");
        let before = fs::read_to_string(&config).expect("read");
        declare(&f.root, &format!("{good}[[dataset]]\n{table}"));
        let out = fair_ok(&["update", r], 1);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{table}: {err}");
        assert!(
            !f.root.join("deepfolders/ok.json").exists(),
            "{table}: nothing ran"
        );
        fs::write(&config, before).expect("restore");
    }
    declare(&f.root, good);
    let err = String::from_utf8_lossy(&fair_ok(&["update", r, "other"], 1).stderr).into_owned();
    assert!(
        err.contains("other") && err.contains("declared: ok"),
        "{err}"
    );
}
