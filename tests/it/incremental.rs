//! Re-indexing: only what changed is read again, and every change is seen.

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

use crate::helpers::*;

#[test]
fn a_second_run_with_nothing_changed_hashes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(2000));
    let root = init(tmp.path(), "blake3");
    let first = index_json(&root, &source, "c", &[], 0);
    assert_eq!(
        (first["hashed"].as_u64(), first["reused"].as_u64()),
        (Some(2000), Some(0))
    );
    let second = index_json(&root, &source, "c", &[], 0);
    assert_eq!(
        (second["hashed"].as_u64(), second["reused"].as_u64()),
        (Some(0), Some(2000))
    );
    assert_eq!(first["collections"], second["collections"]);
}

#[test]
fn same_size_rewrite_with_restored_mtime_is_detected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(50));
    let root = init(tmp.path(), "blake3");
    let before = index_json(&root, &source, "c", &[], 0);
    let victim = source.join("d03/f00003.txt");
    let reference = tmp.path().join("reference");
    fs::copy(&victim, &reference).expect("copy");
    let status = Command::new("touch")
        .arg("-r")
        .arg(&victim)
        .arg(&reference)
        .status()
        .expect("touch");
    assert!(status.success());
    fs::write(&victim, b"FILE 3\n").expect("rewrite, same size");
    let status = Command::new("touch")
        .arg("-r")
        .arg(&reference)
        .arg(&victim)
        .status()
        .expect("touch -r");
    assert!(status.success());
    let after = index_json(&root, &source, "c", &[], 0);
    assert_eq!(after["hashed"], 1, "{after}");
    assert_ne!(before["collections"], after["collections"]);
    let deepfolder: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("deepfolders/c.json")).expect("read"))
            .expect("json");
    let expected = faircore::HashAlgo::Blake3.hash(b"FILE 3\n").to_hex();
    assert_eq!(
        deepfolder["d03/f00003.txt"].as_str(),
        Some(expected.as_str())
    );
}

#[test]
fn a_file_written_just_now_is_hashed_again_next_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(10));
    fs::write(source.join("fresh.txt"), b"written this instant\n").expect("write");
    let root = init(tmp.path(), "blake3");
    index_json(&root, &source, "c", &[], 0);
    let second = index_json(&root, &source, "c", &[], 0);
    assert_eq!(
        second["hashed"], 1,
        "the racily clean file is not trusted: {second}"
    );
    assert_eq!(second["reused"], 10);
}

#[test]
fn one_job_and_all_cores_give_identical_collections() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    let mut files = small_files(500);
    files.push(("big/large.bin".into(), vec![7u8; 3 << 20]));
    write_tree(&source, &files);
    let one = init(&tmp.path().join("one"), "sha256");
    let all = init(&tmp.path().join("all"), "sha256");
    let a = index_json(&one, &source, "c", &["--jobs", "1"], 0);
    let b = index_json(&all, &source, "c", &[], 0);
    assert_eq!(a["collections"], b["collections"]);
    assert_eq!(
        fs::read(one.join("deepfolders/c.json")).expect("read"),
        fs::read(all.join("deepfolders/c.json")).expect("read")
    );
}

#[test]
fn additions_deletions_and_symlinks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(20));
    let outside = tmp.path().join("outside");
    write_tree(
        &outside,
        &[("target.txt".into(), b"linked content\n".to_vec())],
    );
    symlink(outside.join("target.txt"), source.join("link.txt")).expect("file symlink");
    symlink(&outside, source.join("linked-dir")).expect("dir symlink");
    let root = init(tmp.path(), "blake3");
    index_json(&root, &source, "c", &[], 0);
    fs::remove_file(source.join("d00/f00000.txt")).expect("delete");
    write_tree(&source, &[("new/added.txt".into(), b"added\n".to_vec())]);
    let report = index_json(&root, &source, "c", &[], 0);
    assert_eq!(report["files"], 21, "{report}");
    assert_eq!(report["hashed"], 1, "{report}");
    let deepfolder: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("deepfolders/c.json")).expect("read"))
            .expect("json");
    let map = deepfolder.as_object().expect("object");
    assert!(!map.contains_key("d00/f00000.txt"));
    assert!(map.contains_key("new/added.txt"));
    let linked = faircore::HashAlgo::Blake3
        .hash(b"linked content\n")
        .to_hex();
    assert_eq!(map["link.txt"].as_str(), Some(linked.as_str()));
    assert!(
        !map.keys().any(|k| k.starts_with("linked-dir")),
        "directory symlinks are not followed"
    );
}
