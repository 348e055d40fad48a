//! Exit codes and messages of refused commands: nothing is done and the message
//! says what was expected.

use std::fs;

use crate::helpers::*;

fn stderr_of(args: &[&str]) -> String {
    let out = fair_ok(args, 1);
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when nothing is done"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_arguments_exit_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let r = path_str(&root);
    let err = stderr_of(&["index", r, "--source", r]);
    assert!(
        err.contains("--collection <NAME>|--actions <FILE>"),
        "{err}"
    );
    let err = stderr_of(&["snapshot", r, "d", "c"]);
    assert!(err.contains("--version <V>|--date"), "{err}");
    let err = stderr_of(&["index", r, "--source", r, "--collection", "../escape"]);
    assert!(
        err.contains("invalid name") && err.contains("expected"),
        "{err}"
    );
    let err = stderr_of(&["init", "x", "--hash", "md5"]);
    assert!(err.contains("md5") && err.contains("sha3-256"), "{err}");
    let err = stderr_of(&[
        "index",
        r,
        "--source",
        r,
        "--collection",
        "c",
        "--jobs",
        "0",
    ]);
    assert!(err.contains("--jobs"), "{err}");
    let err = stderr_of(&["init", "x", "--base-url", "ftp://example.org"]);
    assert!(err.contains("http"), "{err}");
    assert_eq!(fair(&["--help"]).status.code(), Some(0));
}

#[test]
fn not_a_catalogue_missing_source_and_double_init_exit_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = path_str(tmp.path());
    let err = stderr_of(&["index", t, "--source", t, "--collection", "c"]);
    assert!(
        err.contains("not a fair catalogue") && err.contains("fair init"),
        "{err}"
    );
    let root = init(tmp.path(), "blake3");
    let r = path_str(&root);
    let missing = tmp.path().join("missing");
    let err = stderr_of(&[
        "index",
        r,
        "--source",
        path_str(&missing),
        "--collection",
        "c",
    ]);
    assert!(err.contains("missing") && err.contains("--source"), "{err}");
    let err = stderr_of(&["init", r]);
    assert!(err.contains("already a fair catalogue"), "{err}");
    fs::write(root.join("fair.toml"), "format = 1\nhash = \"blake2\"\n").expect("write");
    let err = stderr_of(&["index", r, "--source", t, "--collection", "c"]);
    assert!(err.contains("fair.toml") && err.contains("blake2"), "{err}");
}

#[test]
fn a_second_writer_gets_a_clear_message() {
    let f = Fixture::new("blake3", &small_files(3));
    let catalogue = faircore::Catalogue::open(&f.root).expect("open");
    let writer = catalogue.writer().expect("this test holds the lock");
    let err = stderr_of(&f.index_args());
    assert!(err.contains("locked by another writer"), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    drop(writer);
    f.index(&[], 0);
}

#[test]
fn json_output_is_exactly_one_object_with_the_documented_fields() {
    let report = Fixture::new("blake3", &small_files(4)).index(&[], 0);
    let keys: Vec<&String> = report.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "bytes",
            "collections",
            "elapsed_s",
            "errors",
            "files",
            "hashed",
            "reused"
        ]
    );
    assert!(report["elapsed_s"].is_f64());
    assert_eq!(report["bytes"], 4 * "file 0\n".len());
}
