//! SIGKILL at any moment of `fair index` leaves the old or the new state, never a
//! partial file, and the next run succeeds.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread::sleep;
use std::time::Duration;

use faircore::HashAlgo;

use crate::helpers::*;

fn tree(version: u8) -> Vec<(String, Vec<u8>)> {
    (0..300usize)
        .map(|i| {
            let size = if i % 50 == 0 { 2 << 20 } else { 32 << 10 };
            let stamp = if i % 2 == 0 { version } else { 0 };
            let content: Vec<u8> = (0..size)
                .map(|j| ((i * 31 + j) % 251) as u8 ^ stamp)
                .collect();
            (format!("x{:02}/file{i:04}.dat", i % 17), content)
        })
        .collect()
}

/// The catalogue holds only complete files: the collection is `old` or `new`,
/// nothing else is in `deepfolders/`, and every buffer hashes to its name.
fn assert_consistent(root: &Path, old: &[u8], new: &[u8], delay_ms: u64) {
    let names: Vec<_> = fs::read_dir(root.join("deepfolders"))
        .expect("deepfolders")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["c.json"], "after a kill at {delay_ms} ms");
    let current = fs::read(root.join("deepfolders/c.json")).expect("read");
    assert!(
        current == old || current == new,
        "partial collection after a kill at {delay_ms} ms"
    );
    for entry in fs::read_dir(root.join("buffers")).expect("buffers") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            let name = entry.file_name().into_string().expect("utf-8");
            let content = fs::read(entry.path()).expect("read");
            assert_eq!(
                HashAlgo::Blake3.hash(&content).to_hex(),
                name,
                "partial buffer after {delay_ms} ms"
            );
        }
    }
    assert!(
        fs::read_to_string(root.join("fair.toml"))
            .expect("config")
            .contains("blake3")
    );
}

#[test]
fn sigkill_at_several_moments_never_leaves_a_partial_file() {
    let f = Fixture::new("blake3", &tree(1));
    let (source, root) = (&f.source, &f.root);
    f.index(&["--intern", "copy"], 0);
    let old = fs::read(f.deepfolder()).expect("old");

    write_tree(source, &tree(2));
    let reference = init(&f.tmp.path().join("reference"), "blake3");
    index_json(&reference, source, "c", &[], 0);
    let new = fs::read(reference.join("deepfolders/c.json")).expect("new");
    assert_ne!(old, new);

    let mut completed = 0;
    for delay_ms in [0, 5, 15, 30, 60, 100, 160, 250, 400, 700] {
        let mut child = fair_cmd()
            .args(f.index_args())
            .args(["--intern", "copy", "--jobs", "1", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("wait");
        if status.success() {
            completed += 1;
        }
        assert_consistent(root, &old, &new, delay_ms);
        // Start again from the old state, so that every kill interrupts real work.
        if fs::read(f.deepfolder()).expect("read") == new {
            fs::remove_dir_all(root.join(".fair")).expect("forget the cache");
            fs::remove_dir_all(root.join("buffers")).expect("forget the buffers");
        }
    }
    eprintln!("completed {completed} of 10");
    assert!(
        completed < 10,
        "every run finished before its kill: the test proved nothing"
    );
    f.index(&["--intern", "copy"], 0);
    assert_eq!(fs::read(f.deepfolder()).expect("read"), new);
    assert_consistent(root, &old, &new, 0);
    assert!(
        fs::read_dir(root.join("buffers/.fair-tmp"))
            .expect("staging")
            .next()
            .is_none()
    );
}
