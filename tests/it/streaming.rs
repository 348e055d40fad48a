//! The streaming indexer writes exactly the bytes of a sorted in-memory build,
//! whatever the names and the shape of the tree, and a run killed at any moment
//! leaves the previous collection intact for the next run to finish.

use std::collections::BTreeMap;
use std::fs;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use faircore::HashAlgo;

use crate::helpers::*;

/// A small deterministic generator (xorshift64*), seeded per test run.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        eprintln!("seed {seed}");
        Rng(seed)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Names that sort around `/` and `.` and beyond ASCII: `a.b` sorts before
/// `a/…`, `a-b` before `a.b`, `a0` after `a/…`.
const NAMES: [&str; 14] = [
    "a", "a.b", "a-b", "a b", "a0", "b", "A", "é", "ü.txt", "日本", "z~", "-", "ab", "a.b.c",
];

/// A random tree: paths of up to 7 components, each a random name, files at
/// the leaves (a path that is a directory elsewhere is skipped).
fn random_tree(rng: &mut Rng, files: usize) -> BTreeMap<String, Vec<u8>> {
    let mut tree = BTreeMap::new();
    let mut dirs = std::collections::BTreeSet::new();
    while tree.len() < files {
        let depth = 1 + rng.below(7);
        let parts: Vec<&str> = (0..depth).map(|_| NAMES[rng.below(NAMES.len())]).collect();
        let key = parts.join("/");
        let prefixes: Vec<String> = (1..depth).map(|i| parts[..i].join("/")).collect();
        if dirs.contains(&key) || prefixes.iter().any(|p| tree.contains_key(p)) {
            continue;
        }
        dirs.extend(prefixes);
        let content = format!("{key} {}\n", rng.below(1000)).into_bytes();
        tree.insert(key, content);
    }
    tree
}

/// The plain bytes of the collection of `tree`, built in memory and sorted
/// (serde_json's pretty printer over a sorted map), as the reference.
fn in_memory(tree: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let entries: BTreeMap<&str, String> = tree
        .iter()
        .map(|(k, v)| (k.as_str(), HashAlgo::Blake3.hash(v).to_hex()))
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&entries).expect("JSON");
    bytes.push(b'\n');
    bytes
}

#[test]
fn the_stream_is_byte_identical_to_a_sorted_in_memory_build_on_random_trees() {
    let mut rng = Rng::seeded();
    for round in 0..6 {
        let tree = random_tree(&mut rng, 20 + round * 40);
        let files: Vec<(String, Vec<u8>)> = tree.clone().into_iter().collect();
        let f = Fixture::new("blake3", &files);
        f.index(&[], 0);
        let written = fs::read(f.deepfolder()).expect("deepfolder");
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&in_memory(&tree)),
            "round {round}"
        );
        // Incremental: remove a subtree, add files elsewhere; the cache's rows
        // of the removed directories must not bring them back.
        let mut changed = tree.clone();
        let gone = NAMES[rng.below(NAMES.len())];
        changed.retain(|k, _| !k.starts_with(&format!("{gone}/")));
        fs::remove_dir_all(f.source.join(gone)).ok();
        for (key, content) in random_tree(&mut rng, 10) {
            let clash = changed
                .keys()
                .any(|k| k.starts_with(&format!("{key}/")) || key.starts_with(&format!("{k}/")));
            if !clash && !key.starts_with(&format!("{gone}/")) {
                write_tree(&f.source, &[(key.clone(), content.clone())]);
                changed.insert(key, content);
            }
        }
        f.index(&[], 0);
        let written = fs::read(f.deepfolder()).expect("deepfolder");
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&in_memory(&changed)),
            "round {round}, after removing {gone}/ and adding files"
        );
    }
}

#[test]
fn an_unchanged_collection_file_is_not_rewritten() {
    let f = Fixture::new("blake3", &small_files(500));
    f.index(&[], 0);
    let before = fs::metadata(f.deepfolder()).expect("stat");
    f.index(&[], 0);
    let after = fs::metadata(f.deepfolder()).expect("stat");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );
}

/// `n` files of about 80 bytes in directories of 100.
fn many_small(n: usize, version: u8) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let stamp = if i % 3 == 0 { version } else { 0 };
            (
                format!("d{:03}/f{i:06}.cif", i / 100),
                format!("data_{i:06} {stamp}\n").repeat(5).into_bytes(),
            )
        })
        .collect()
}

#[test]
fn a_run_killed_at_random_moments_leaves_the_old_collection_and_the_next_run_finishes() {
    let mut rng = Rng::seeded();
    let f = Fixture::new("blake3", &many_small(8_000, 1));
    f.index(&[], 0);
    let old = fs::read(f.deepfolder()).expect("old");
    write_tree(&f.source, &many_small(8_000, 2));
    let expected = in_memory(&tree(&f.source));
    assert_ne!(old, expected);

    // How long a whole run takes, from a cold cache, to kill inside it.
    let cold = |f: &Fixture| match fs::remove_dir_all(f.root.join(".fair")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("forget the cache: {e}"),
        _ => {}
    };
    let probe = f.tmp.path().join("probe");
    let reference = init(&probe, "blake3");
    let started = Instant::now();
    index_json(&reference, &f.source, "c", &[], 0);
    let whole_ms = started.elapsed().as_millis().max(20) as usize;

    let mut interrupted = 0;
    for _ in 0..6 {
        cold(&f);
        let delay = rng.below(whole_ms);
        let mut child = fair_cmd()
            .args(f.index_args())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        sleep(Duration::from_millis(delay as u64));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("wait");
        let now = fs::read(f.deepfolder()).expect("a collection file");
        if !status.success() {
            interrupted += 1;
        }
        assert!(
            now == old || now == expected,
            "killed at {delay} ms of {whole_ms}: the old collection or the new one"
        );
        assert!(
            status.success() <= (now == expected),
            "a run that finished published"
        );
        // Back to the old state, so the next kill interrupts real work.
        fs::write(f.deepfolder(), &old).expect("restore");
        let names: Vec<_> = fs::read_dir(f.root.join("deepfolders"))
            .expect("deepfolders")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            ["c.json"],
            "nothing but the collection in deepfolders/"
        );
    }
    assert!(
        interrupted > 0,
        "every run finished before its kill: nothing was tested"
    );
    f.index(&[], 0);
    assert_eq!(fs::read(f.deepfolder()).expect("new"), expected);
    let staging = f.root.join(".fair/tmp");
    if staging.exists() {
        assert_eq!(
            fs::read_dir(&staging).expect("staging").count(),
            0,
            "temporary files cleared"
        );
    }
    // And the run after a kill that had cache rows committed reuses them: a
    // second run is all reuse.
    let again = f.index(&[], 0);
    assert_eq!(again["hashed"], 0, "{again}");
    assert_eq!(again["reused"], 8_000, "{again}");
}

#[test]
fn a_tree_thousands_of_directories_deep_is_indexed_or_its_too_long_path_named() {
    let f = Fixture::new("blake3", &[("top.txt".to_string(), b"top\n".to_vec())]);
    // 1,200 levels fit in PATH_MAX; past it the path is named, not a crash.
    // Made relative to a descriptor of each level, as no path reaches past PATH_MAX.
    let script = "import os, sys\n\
                  fd = os.open(sys.argv[1], os.O_RDONLY)\n\
                  for i in range(1, 2501):\n\
                  \x20   os.mkdir('d', dir_fd=fd)\n\
                  \x20   fd = os.open('d', os.O_RDONLY, dir_fd=fd)\n\
                  \x20   if i in (1200, 2500):\n\
                  \x20       os.close(os.open('f', os.O_WRONLY | os.O_CREAT, dir_fd=fd))\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script, path_str(&f.source)])
        .status()
        .expect("python3");
    assert!(status.success());
    let out = fair_cmd()
        .args(f.index_args())
        .args(["--allow-errors", "--json"])
        .output()
        .expect("run");
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        describe(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let errors = report["errors"].as_array().expect("errors");
    assert!(!errors.is_empty(), "the path past PATH_MAX is reported");
    assert!(
        errors
            .iter()
            .all(|e| e["error"].as_str().unwrap_or("").contains("too long")),
        "{errors:?}"
    );
    let collection = f.collection();
    let deep = format!("{}f", "d/".repeat(1200));
    assert!(
        collection.contains_key(&deep),
        "the file 1,200 levels down is indexed"
    );
    assert!(collection.contains_key("top.txt"));
}
