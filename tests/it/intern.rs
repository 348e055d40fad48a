//! Interning: every buffer lands in the buffer directory under its checksum.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use faircore::HashAlgo;

use crate::helpers::*;

/// Every buffer file hashes to its name; returns how many there are.
fn check_buffers(dir: &Path, algo: HashAlgo) -> usize {
    let mut n = 0;
    for entry in fs::read_dir(dir).expect("bufferdir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_dir() {
            continue;
        }
        let name = entry.file_name().into_string().expect("utf-8");
        let content = fs::read(entry.path()).expect("read");
        assert_eq!(algo.hash(&content).to_hex(), name, "buffer {name}");
        n += 1;
    }
    n
}

#[test]
fn copy_and_hardlink_intern_every_distinct_buffer() {
    let mut files = small_files(40);
    files.push(("dup.txt".into(), b"file 0\n".to_vec()));
    files.push(("large.bin".into(), vec![3u8; 2 << 20]));
    let f = Fixture::new("blake3", &files);
    f.index(&["--intern", "copy"], 0);
    assert_eq!(check_buffers(&f.root.join("buffers"), HashAlgo::Blake3), 41);
    let staging = f.root.join("buffers/.fair-tmp");
    assert!(fs::read_dir(staging).expect("staging").next().is_none());

    let linked = f.tmp.path().join("linked");
    let hardlink = ["--intern", "hardlink", "--bufferdir", path_str(&linked)];
    f.index(&hardlink, 0);
    assert_eq!(check_buffers(&linked, HashAlgo::Blake3), 41);
    let checksum = HashAlgo::Blake3.hash(&vec![3u8; 2 << 20]).to_hex();
    let a = fs::metadata(f.source.join("large.bin")).expect("stat");
    let b = fs::metadata(linked.join(&checksum)).expect("stat");
    assert_eq!(a.ino(), b.ino(), "a hard link, not a copy");
    // Linking changed the files' ctime; the cache took it in, so nothing is re-hashed.
    let again = f.index(&hardlink, 0);
    assert_eq!(again["hashed"], 0, "{again}");
}

#[test]
fn missing_buffers_are_interned_even_when_the_checksum_is_reused() {
    let f = Fixture::new("sha256", &small_files(10));
    f.index(&[], 0);
    let report = f.index(&["--intern", "copy"], 0);
    assert_eq!(
        check_buffers(&f.root.join("buffers"), HashAlgo::Sha256),
        10,
        "{report}"
    );
}

#[test]
fn hard_links_across_filesystems_are_refused_naming_intern_copy() {
    let f = Fixture::new("blake3", &small_files(3));
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm is a tmpfs on every Linux test machine");
    assert_ne!(
        fs::metadata(f.tmp.path()).expect("stat").dev(),
        fs::metadata(other.path()).expect("stat").dev(),
        "the test needs two filesystems"
    );
    let mut args = f.index_args();
    args.extend([
        "--intern",
        "hardlink",
        "--bufferdir",
        path_str(other.path()),
    ]);
    let out = fair_ok(&args, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--intern copy") && err.contains("different filesystems"),
        "{err}"
    );
    assert!(!f.deepfolder().exists());
}
