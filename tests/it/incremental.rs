//! Re-indexing: only what changed is read again, and every change is seen.

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

use faircore::HashAlgo;

use crate::helpers::*;

#[test]
fn a_second_run_with_nothing_changed_hashes_nothing() {
    let f = Fixture::new("blake3", &small_files(2000));
    let first = f.index(&[], 0);
    assert_eq!(
        (first["hashed"].as_u64(), first["reused"].as_u64()),
        (Some(2000), Some(0))
    );
    let second = f.index(&[], 0);
    assert_eq!(
        (second["hashed"].as_u64(), second["reused"].as_u64()),
        (Some(0), Some(2000))
    );
    assert_eq!(first["collections"], second["collections"]);
}

#[test]
fn same_size_rewrite_with_restored_mtime_is_detected() {
    let f = Fixture::new("blake3", &small_files(50));
    let before = f.index(&[], 0);
    let victim = f.source.join("d03/f00003.txt");
    let touch = |args: [&std::path::Path; 2]| {
        let status = Command::new("touch")
            .arg("-r")
            .args(args)
            .status()
            .expect("touch");
        assert!(status.success());
    };
    let reference = f.tmp.path().join("reference");
    fs::write(&reference, b"").expect("write");
    touch([&victim, &reference]);
    fs::write(&victim, b"FILE 3\n").expect("rewrite, same size");
    touch([&reference, &victim]);
    let after = f.index(&[], 0);
    assert_eq!(after["hashed"], 1, "{after}");
    assert_ne!(before["collections"], after["collections"]);
    let expected = HashAlgo::Blake3.hash(b"FILE 3\n").to_hex();
    assert_eq!(
        f.collection()["d03/f00003.txt"].as_str(),
        Some(expected.as_str())
    );
}

#[test]
fn a_file_written_just_now_is_hashed_again_next_time() {
    let f = Fixture::new("blake3", &small_files(10));
    fs::write(f.source.join("fresh.txt"), b"written this instant\n").expect("write");
    f.index(&[], 0);
    let second = f.index(&[], 0);
    assert_eq!(
        second["hashed"], 1,
        "the racily clean file is not trusted: {second}"
    );
    assert_eq!(second["reused"], 10);
}

#[test]
fn one_job_and_all_cores_give_identical_collections() {
    let mut files = small_files(500);
    files.push(("big/large.bin".into(), vec![7u8; 3 << 20]));
    let one = Fixture::new("sha256", &files);
    let all = init(&one.tmp.path().join("all"), "sha256");
    let a = one.index(&["--jobs", "1"], 0);
    let b = index_json(&all, &one.source, "c", &[], 0);
    assert_eq!(a["collections"], b["collections"]);
    assert_eq!(
        fs::read(one.deepfolder()).expect("read"),
        fs::read(all.join("deepfolders/c.json")).expect("read")
    );
}

#[test]
fn additions_deletions_and_symlinks() {
    let f = Fixture::new("blake3", &small_files(20));
    let outside = f.tmp.path().join("outside");
    write_tree(
        &outside,
        &[("target.txt".into(), b"linked content\n".to_vec())],
    );
    symlink(outside.join("target.txt"), f.source.join("link.txt")).expect("file symlink");
    symlink(&outside, f.source.join("linked-dir")).expect("dir symlink");
    f.index(&[], 0);
    fs::remove_file(f.source.join("d00/f00000.txt")).expect("delete");
    write_tree(&f.source, &[("new/added.txt".into(), b"added\n".to_vec())]);
    let report = f.index(&[], 0);
    assert_eq!(report["files"], 21, "{report}");
    assert_eq!(report["hashed"], 1, "{report}");
    let map = f.collection();
    assert!(!map.contains_key("d00/f00000.txt"));
    assert!(map.contains_key("new/added.txt"));
    let linked = HashAlgo::Blake3.hash(b"linked content\n").to_hex();
    assert_eq!(map["link.txt"].as_str(), Some(linked.as_str()));
    assert!(
        !map.keys().any(|k| k.starts_with("linked-dir")),
        "directory symlinks are not followed"
    );
}

#[test]
fn a_deleted_directory_is_forgotten_and_a_recreated_one_hashed_again() {
    let f = Fixture::new("blake3", &small_files(40));
    f.index(&[], 0);
    let moved = f.tmp.path().join("moved");
    fs::rename(f.source.join("d05"), &moved).expect("move out");
    let without = f.index(&[], 0);
    assert_eq!(
        (without["files"].as_u64(), without["hashed"].as_u64()),
        (Some(39), Some(0))
    );
    assert!(!f.collection().keys().any(|k| k.starts_with("d05/")));
    fs::rename(&moved, f.source.join("d05")).expect("move back");
    let back = f.index(&[], 0);
    assert_eq!(
        (back["files"].as_u64(), back["hashed"].as_u64()),
        (Some(40), Some(1)),
        "{back}"
    );
}
