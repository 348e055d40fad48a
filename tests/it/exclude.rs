//! `fair index --exclude`: a DataLad/git-annex mirror's `.git/` internals and
//! rsync's `*.part` files are neither hashed nor reported.

use std::collections::BTreeSet;
use std::process::Command;

use crate::helpers::*;

/// A mirror as DataLad leaves it: two data files, `.git/` internals (one of them
/// a FIFO, which would be a problem if it were walked), a partial download.
pub fn mirror_files() -> Vec<(String, Vec<u8>)> {
    [
        ("data/1abc.cif", "data_1abc\n"),
        ("data/2xyz.cif", "data_2xyz\n"),
        (".git/config", "[core]\n"),
        (".git/annex/objects/ab/cd/SHA256E-s1--x/x", "annexed\n"),
        ("data/.git/HEAD", "ref: refs/heads/main\n"),
        ("data/3new.cif.part", "half a fi"),
        ("keep.part", "wanted after all\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect()
}

#[test]
fn excluded_entries_are_neither_hashed_nor_reported() {
    let f = Fixture::new("blake3", &mirror_files());
    let fifo = f.source.join(".git/fsmonitor");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );

    let all = f.index(&[], 2);
    assert!(all["errors"].to_string().contains("fsmonitor"), "{all}");

    let report = f.index(
        &[
            "--exclude",
            ".git/",
            "--exclude",
            "*.part",
            "--exclude",
            "!keep.part",
        ],
        0,
    );
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["files"], 3, "{report}");
    let keys: BTreeSet<String> = f.collection().keys().cloned().collect();
    let wanted: BTreeSet<String> = ["data/1abc.cif", "data/2xyz.cif", "keep.part"]
        .map(String::from)
        .into();
    assert_eq!(keys, wanted);

    // A file named like an excluded directory is kept: `.git/` means directories.
    std::fs::write(f.source.join("data/.gitkeep"), b"").expect("write");
    let out = fair_ok(
        &[
            &f.index_args()[..],
            &["-q", "--exclude", ".git/", "--exclude", "*.part"],
        ]
        .concat(),
        0,
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        describe(&out)
    );
    assert!(f.collection().contains_key("data/.gitkeep"));
    assert!(!f.collection().contains_key("keep.part"));
}

#[test]
fn a_bad_pattern_is_named_and_nothing_is_done() {
    let f = Fixture::new("blake3", &mirror_files());
    let out = fair_ok(
        &[&f.index_args()[..], &["--exclude", "data/{ab"]].concat(),
        1,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--exclude")
            && stderr.contains("\"data/{ab\"")
            && stderr.contains("unclosed"),
        "{stderr}"
    );
    assert!(!f.deepfolder().exists());
}

#[test]
fn a_catalogue_inside_its_source_does_not_index_itself() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("mirror");
    write_tree(&source, &mirror_files()[..2]);
    // The catalogue and a buffer directory kept in the mirror.
    let catalogue = init(&source, "blake3");
    let buffers = source.join("buffers-elsewhere");
    let bufferdir = ["--intern", "copy", "--bufferdir", path_str(&buffers)];
    for run in 0..2 {
        let report = index_json(&catalogue, &source, "m", &bufferdir, 0);
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "run {run}: {report}"
        );
        assert_eq!(report["files"], 2, "run {run}: {report}");
    }
    let text = std::fs::read_to_string(catalogue.join("deepfolders/m.json")).expect("collection");
    let keys: BTreeSet<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .expect("plain JSON")
            .keys()
            .cloned()
            .collect();
    assert_eq!(
        keys,
        ["data/1abc.cif", "data/2xyz.cif"].map(String::from).into()
    );

    // The catalogue itself as the source is refused by name.
    let out = fair_ok(
        &[
            "index",
            path_str(&catalogue),
            "--source",
            path_str(&catalogue),
            "--collection",
            "c",
        ],
        1,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is the catalogue itself"), "{stderr}");
}
