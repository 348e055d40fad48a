//! `fair diff` of two 1,000,000-key distributions with 1,000 changes (400 changed,
//! 300 removed, 300 added) against reading both collection files in the same run
//! (target: at most 2×), and its peak memory (target: under 100 MB).
//!
//! Run: `cargo bench --bench diff` (`DIFF_KEYS`, `DIFF_RUNS` change the size and
//! the number of runs; the best run of each measurement is reported). Exit code 1
//! if a target is missed.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use faircore::snapshot::{self, Request};
use faircore::{Catalogue, Collection, CollectionKind, Config, ContentDir, HashAlgo, Release};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes `entries` as the collection `big` and snapshots it as version `version`
/// of the dataset `bench`.
fn release(catalogue: &Catalogue, entries: BTreeMap<String, faircore::Checksum>, version: &str) {
    let writer = catalogue.writer().expect("lock");
    let name = "big".parse().expect("name");
    let (encoded, _) = writer
        .write_collection(&name, &Collection::new(CollectionKind::Deepfolder, entries))
        .expect("collection");
    // Element sizes as `fair index` would have recorded them (not used by diff).
    writer
        .store()
        .expect("store")
        .record_content_sizes(&[(encoded.checksum, 0)])
        .expect("content size");
    let request = Request {
        dataset: "bench".parse().expect("name"),
        collection: name,
        release: Release::new(Some(version.into()), None, None, None).expect("release"),
        merge_access_index: false,
        latest: true,
        if_changed: false,
    };
    snapshot::snapshot(&writer, &request).expect("snapshot");
}

/// Runs `command` with stdout to `out`; returns its wall time in seconds and its
/// own peak RSS in MB (wait4's rusage: this child's, not every child's).
fn run_measured(command: &mut Command, out: &std::path::Path) -> (f64, f64) {
    let started = Instant::now();
    // Reaped by the wait4 below, which also gives its rusage.
    #[allow(clippy::zombie_processes)]
    let child = command
        .stdout(std::fs::File::create(out).expect("output file"))
        .spawn()
        .expect("spawn");
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: wait4 writes the status and a rusage into the pointers it is given.
    #[allow(unsafe_code)]
    let usage = unsafe {
        assert_eq!(libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()), pid);
        usage.assume_init()
    };
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed"
    );
    (elapsed, usage.ru_maxrss as f64 / 1024.0)
}

/// Writes the catalogue: versions 1 and 2 of the dataset `bench`.
fn generate(root: &std::path::Path, keys: usize) {
    let algo = HashAlgo::Blake3;
    let catalogue = Catalogue::init(root, Config::new(algo, None)).expect("init");
    let key = |i: usize| format!("{:02x}/{i:07}.cif", i % 256);
    let mut old: BTreeMap<String, faircore::Checksum> = (0..keys)
        .map(|i| (key(i), algo.hash(&i.to_le_bytes())))
        .collect();
    release(&catalogue, old.clone(), "1");
    let step = keys / 1000;
    for n in 0..1000 {
        let i = n * step;
        match n % 10 {
            0..4 => {
                old.insert(key(i), algo.hash(b"changed"));
            }
            4..7 => {
                old.remove(&key(i));
            }
            _ => {
                old.insert(
                    format!("{}/new{i:07}.cif", key(i)),
                    algo.hash(&i.to_le_bytes()),
                );
            }
        }
    }
    release(&catalogue, old, "2");
}

fn main() {
    let keys: usize = env("DIFF_KEYS", 1_000_000);
    let runs: usize = env("DIFF_RUNS", 5);
    if let Ok(root) = std::env::var("DIFF_GENERATE") {
        generate(std::path::Path::new(&root), keys);
        return;
    }
    // The catalogue is written by a child, so that this process stays small: a
    // child's peak RSS counts the pages it shares with its parent before `exec`.
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("c");
    let status = Command::new(std::env::current_exe().expect("this bench"))
        .env("DIFF_GENERATE", &root)
        .status()
        .expect("generator");
    assert!(status.success());

    let files: Vec<_> = std::fs::read_dir(root.join(ContentDir::Buffers.name()))
        .expect("buffers")
        .map(|e| e.expect("entry").path())
        .collect();
    let size: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).expect("metadata").len())
        .sum();
    let (mut read, mut diff) = (f64::MAX, f64::MAX);
    let (mut lines, mut peak) = (0, 0.0f64);
    // The diffs first: a child started with posix_spawn shares its parent's memory
    // until `exec`, and its peak RSS counts the parent's, which the reads below
    // would inflate.
    for _ in 0..runs {
        let output = tmp.path().join("diff.jsonl");
        let (time, rss) = run_measured(
            Command::new(env!("CARGO_BIN_EXE_fair"))
                .args(["diff", "--json"])
                .arg(&root)
                .args(["bench@1", "bench@2"]),
            &output,
        );
        diff = diff.min(time);
        peak = peak.max(rss);
        lines = std::fs::read(&output)
            .expect("output")
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
    }
    for _ in 0..runs {
        let started = Instant::now();
        let bytes: usize = files
            .iter()
            .map(|f| std::fs::read(f).expect("read").len())
            .sum();
        read = read.min(started.elapsed().as_secs_f64());
        assert_eq!(bytes as u64, size);
    }
    let ratio = diff / read;
    println!("two collections of {keys} keys, {size} bytes in all; best of {runs}");
    println!("read both files                 {read:8.3} s   1.00");
    println!("fair diff --json ({lines} changes) {diff:8.3} s   {ratio:.2}   (target <= 2)");
    println!("fair diff peak RSS              {peak:8.1} MB         (target < 100)");
    assert_eq!(lines, 1000, "the changes made");
    drop(tmp);
    if ratio > 2.0 || peak >= 100.0 {
        println!("a target was missed");
        std::process::exit(1);
    }
}
