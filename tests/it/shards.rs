//! Sharded indexing: `fair index --shard I/N` runs started at once on one
//! catalogue, then `fair merge`, give the bytes of one `fair index` of the tree;
//! the shards are balanced, incremental, and a missing, stale or foreign shard is
//! refused with nothing published; SIGKILL during a merge leaves the old or the
//! new collection.

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::Instant;

use crate::helpers::*;

/// A tree laid out as a structure mirror's `divided/` tree: 26×26 two-letter
/// directories holding 1 to `most` files each (a fixed spread), and a few names
/// that sort around `/` (`a-b/`, `a.b`, `a/`, `a0`) at the root.
pub fn mirror_tree(most: usize, version: u8) -> Vec<(String, Vec<u8>)> {
    let letters = b'a'..=b'z';
    let mut files = Vec::new();
    for (i, a) in letters.clone().enumerate() {
        for (j, b) in letters.clone().enumerate() {
            let dir = format!("divided/{}{}", a as char, b as char);
            let n = 1 + (i * 26 + j) * 7919 % most;
            for k in 0..n {
                let name = format!("{dir}/{k}{}{}x.ent.gz", a as char, b as char);
                let content = format!("{name} {}\n", if k == 0 { version } else { 0 });
                files.push((name, content.into_bytes()));
            }
        }
    }
    for name in ["a-b/x", "a.b", "a/b", "a/b.c/d", "a0", "z"] {
        files.push((name.to_string(), format!("{name}\n").into_bytes()));
    }
    files
}

/// Starts `fair index --shard i/n --json` of `source` into `root`, collection `c`.
fn spawn_shard(root: &Path, source: &Path, i: u32, n: u32) -> Child {
    fair_cmd()
        .args(["index", path_str(root), "--source", path_str(source)])
        .args([
            "--collection",
            "c",
            "--json",
            "--shard",
            &format!("{i}/{n}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Runs the `n` shards of `source` at once; returns their `--json` reports.
fn run_shards(root: &Path, source: &Path, n: u32) -> Vec<serde_json::Value> {
    let children: Vec<Child> = (0..n).map(|i| spawn_shard(root, source, i, n)).collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wait");
            assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
            serde_json::from_slice(&out.stdout).expect("one JSON object")
        })
        .collect()
}

fn sum(reports: &[serde_json::Value], field: &str) -> u64 {
    reports
        .iter()
        .map(|r| r[field].as_u64().expect(field))
        .sum()
}

fn merge(root: &Path, n: &str, code: i32) -> std::process::Output {
    fair_ok(
        &["merge", path_str(root), "c", "--shards", n, "--json"],
        code,
    )
}

#[test]
fn four_shards_at_once_then_merge_give_the_bytes_of_one_run() {
    let files = mirror_tree(9, 1);
    let f = Fixture::new("blake3", &files);
    let reference = init(&f.tmp.path().join("reference"), "blake3");
    let one_run = index_json(&reference, &f.source, "c", &[], 0);
    let single = || fs::read(reference.join("deepfolders/c.json")).expect("single run");

    let reports = run_shards(&f.root, &f.source, 4);
    assert!(
        !f.deepfolder().exists(),
        "a shard run published the collection"
    );
    assert_eq!(sum(&reports, "files"), files.len() as u64);
    assert_eq!(sum(&reports, "hashed"), files.len() as u64);
    let mean = files.len() as f64 / 4.0;
    for report in &reports {
        let ratio = report["files"].as_f64().expect("files") / mean;
        assert!(
            (0.5..=1.5).contains(&ratio),
            "unbalanced shards: {reports:?}"
        );
        assert!(report["collections"].as_object().expect("map").is_empty());
        crate::schemas::assert_valid("index-report.schema.json", report);
        assert!(report["shard"]["checksum"].is_string(), "{report}");
    }
    let out = merge(&f.root, "4", 0);
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    crate::schemas::assert_valid("index-report.schema.json", &merged);
    assert_eq!(merged["files"], files.len() as u64);
    assert_eq!(fs::read(f.deepfolder()).expect("merged"), single());
    assert_eq!(reported(&merged, "c"), reported(&one_run, "c"));
    fair_ok(&["verify", path_str(&f.root)], 0);

    // One file changed: the shards run again, one file is hashed in all.
    let (name, _) = &files[1000];
    let path = f.source.join(name);
    fs::write(&path, "changed, and longer than before\n").expect("write");
    backdate(&path);
    let reports = run_shards(&f.root, &f.source, 4);
    assert_eq!(sum(&reports, "hashed"), 1, "{reports:?}");
    assert_eq!(sum(&reports, "reused"), files.len() as u64 - 1);
    merge(&f.root, "4", 0);
    index_json(&reference, &f.source, "c", &[], 0);
    assert_eq!(fs::read(f.deepfolder()).expect("merged"), single());
}

#[test]
fn missing_stale_foreign_and_running_shards_are_refused_with_nothing_published() {
    let f = Fixture::new("sha256", &mirror_tree(4, 1));
    let refused = |n: &str, words: &[&str]| {
        let before = fs::read(f.deepfolder()).ok();
        let out = merge(&f.root, n, 1);
        let said = String::from_utf8_lossy(&out.stderr);
        for word in words {
            assert!(said.contains(word), "{word:?} not in {said}");
        }
        assert!(said.contains("nothing published"), "{said}");
        assert_eq!(fs::read(f.deepfolder()).ok(), before, "published anyway");
        assert!(out.stdout.is_empty());
    };
    for i in [0, 1, 3] {
        let out = spawn_shard(&f.root, &f.source, i, 4).wait_with_output();
        assert!(out.expect("wait").status.success());
    }
    refused("4", &["shard 2/4 of c", "missing", "--shard 2/4"]);

    run_shards(&f.root, &f.source, 4);
    merge(&f.root, "4", 0);
    let published = fs::read(f.deepfolder()).expect("published");
    // The same round merged again: the same bytes.
    merge(&f.root, "4", 0);
    assert_eq!(fs::read(f.deepfolder()).expect("again"), published);

    // A new round in which shard 1 did not run: it is stale.
    write_tree(&f.source, &mirror_tree(4, 2));
    for i in [0, 2, 3] {
        let out = spawn_shard(&f.root, &f.source, i, 4).wait_with_output();
        assert!(out.expect("wait").status.success());
    }
    refused("4", &["shard 1/4 of c", "stale", "run shard 1/4 again"]);

    // Shard 1 of another source: foreign.
    let other = f.tmp.path().join("other");
    write_tree(&other, &mirror_tree(4, 3));
    let out = spawn_shard(&f.root, &other, 1, 4).wait_with_output();
    assert!(out.expect("wait").status.success());
    refused("4", &["shard 1/4 of c", "foreign", path_str(&other)]);

    // A shard of another count is not one of these.
    refused("5", &["shard 0/5 of c", "missing"]);

    // A shard run holding its lock: the merge waits for no one.
    let out = spawn_shard(&f.root, &f.source, 1, 4).wait_with_output();
    assert!(out.expect("wait").status.success());
    let lock = faircore::lock::WriteLock::acquire(&f.root.join(".fair/shards/c/1-of-4/lock"))
        .expect("the shard's lock");
    refused("4", &["shard 1/4 of c", "being indexed"]);
    drop(lock);
    merge(&f.root, "4", 0);
    let reference = init(&f.tmp.path().join("reference"), "sha256");
    index_json(&reference, &f.source, "c", &[], 0);
    assert_eq!(
        fs::read(f.deepfolder()).expect("merged"),
        fs::read(reference.join("deepfolders/c.json")).expect("single")
    );
}

#[test]
fn shard_flags_are_checked_before_any_work() {
    let f = Fixture::new("blake3", &mirror_tree(2, 1));
    for (flag, said) in [
        ("4/4", "less than the number of shards"),
        ("x/4", "expected I/N"),
    ] {
        let mut args = f.index_args();
        args.extend(["--shard", flag]);
        let out = fair_ok(&args, 1);
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains(said), "{text}");
    }
    let mut args = f.index_args();
    args.extend(["--shard", "0/2", "--intern", "copy"]);
    let out = fair_ok(&args, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--intern"));
    let out = fair_ok(&["merge", path_str(&f.root), "c", "--shards", "0"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shards"));
}

#[test]
fn sigkill_during_a_merge_leaves_the_old_or_the_new_collection() {
    let f = Fixture::new("blake3", &mirror_tree(40, 1));
    run_shards(&f.root, &f.source, 4);
    merge(&f.root, "4", 0);
    let old = fs::read(f.deepfolder()).expect("old");
    write_tree(&f.source, &mirror_tree(40, 2));
    run_shards(&f.root, &f.source, 4);
    // How long a whole merge takes here, to spread the kills over it.
    let started = Instant::now();
    merge(&f.root, "4", 0);
    let whole = started.elapsed();
    let new = fs::read(f.deepfolder()).expect("new");
    assert_ne!(old, new);

    let mut completed = 0;
    for tenth in 0..10u32 {
        fs::write(f.deepfolder(), &old).expect("back to the old state");
        let mut child = fair_cmd()
            .args(["merge", path_str(&f.root), "c", "--shards", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        sleep(whole * tenth / 10);
        let _ = child.kill(); // SIGKILL
        if child.wait().expect("wait").success() {
            completed += 1;
        }
        let current = fs::read(f.deepfolder()).expect("deepfolder");
        assert!(
            current == old || current == new,
            "a partial collection after a kill at {tenth}/10 of a merge"
        );
        let names: Vec<_> = fs::read_dir(f.root.join("deepfolders"))
            .expect("deepfolders")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["c.json"], "after a kill at {tenth}/10");
        fair_ok(&["verify", path_str(&f.root)], 0);
    }
    eprintln!("completed {completed} of 10");
    assert!(
        completed < 10,
        "every merge finished before its kill: the test proved nothing"
    );
    merge(&f.root, "4", 0);
    assert_eq!(fs::read(f.deepfolder()).expect("read"), new);
    assert!(
        fs::read_dir(f.root.join(".fair/tmp"))
            .expect("staging")
            .next()
            .is_none(),
        "staged files left after a complete merge"
    );
}

/// A one-node Slurm cluster (deploy/slurm/one-node-cluster.sh), stopped when
/// dropped.
struct Cluster {
    dir: std::path::PathBuf,
    conf: String,
    port: String,
}

impl Cluster {
    fn script() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/one-node-cluster.sh")
    }

    fn start(dir: &Path) -> Cluster {
        let port = free_port_pair().to_string();
        let out = std::process::Command::new(Self::script())
            .args(["start", path_str(dir)])
            .env("FAIR_SLURM_PORT", &port)
            .output()
            .expect("one-node-cluster.sh runs");
        let cluster = Cluster {
            dir: dir.to_owned(),
            conf: path_str(&dir.join("slurm.conf")).to_owned(),
            port,
        };
        assert!(
            out.status.success(),
            "the cluster did not start: {}",
            describe(&out)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(&format!("SLURM_CONF={}", cluster.conf)),
            "{said}"
        );
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .args(["stop", path_str(&self.dir)])
            .env("FAIR_SLURM_PORT", &self.port)
            .status();
    }
}

/// A port p such that p and p + 1 are free on this machine now (slurmctld's and
/// slurmd's).
fn free_port_pair() -> u16 {
    (20000..30000u16)
        .step_by(7)
        .map(|p| p + (std::process::id() % 7) as u16)
        .find(|p| {
            std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok()
                && std::net::TcpListener::bind(("0.0.0.0", p + 1)).is_ok()
        })
        .expect("two free ports")
}

#[test]
fn a_slurm_job_array_on_a_one_node_cluster_gives_the_single_run_collection() {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!(
            "SKIPPED: the one-node Slurm cluster needs root (slurmd runs jobs as SlurmUser=root); run the tests as root, as CI does"
        );
        return;
    }
    let files = mirror_tree(6, 1);
    let f = Fixture::new("blake3", &files);
    let reference = init(&f.tmp.path().join("reference"), "blake3");
    index_json(&reference, &f.source, "c", &[], 0);
    let cluster = Cluster::start(&f.tmp.path().join("slurm"));
    let logs = f.tmp.path().join("logs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/index.sh");
    let out = std::process::Command::new(&script)
        .args(["--logs", path_str(&logs), "--cpus-per-task", "1"])
        .args([path_str(&f.root), path_str(&f.source), "c", "4"])
        .env("SLURM_CONF", &cluster.conf)
        .env("FAIR", env!("CARGO_BIN_EXE_fair"))
        .current_dir(f.tmp.path())
        .output()
        .expect("index.sh runs");
    assert!(out.status.success(), "{}", describe(&out));
    // The merge's --json report, then the same bytes as one run.
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the merge's JSON");
    assert_eq!(merged["files"], files.len() as u64);
    assert_eq!(
        fs::read(f.deepfolder()).expect("merged"),
        fs::read(reference.join("deepfolders/c.json")).expect("single run")
    );
    for i in 0..4 {
        assert!(
            f.root
                .join(format!(".fair/shards/c/{i}-of-4/shard.json"))
                .is_file(),
            "shard {i} ran elsewhere"
        );
    }

    // The nightly template: index array, merge, then a snapshot of the day.
    let nightly = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/nightly.sbatch");
    let vars = format!(
        "ALL,CATALOGUE={},SOURCE={},COLLECTION=c,DATASET=c,SHARDS=3,CPUS=1,MEM=100M,LOGS={},FAIR={}",
        path_str(&f.root),
        path_str(&f.source),
        path_str(&logs),
        env!("CARGO_BIN_EXE_fair")
    );
    let out = std::process::Command::new("sbatch")
        .args(["--wait", &format!("--export={vars}"), path_str(&nightly)])
        .env("SLURM_CONF", &cluster.conf)
        .current_dir(f.tmp.path())
        .output()
        .expect("sbatch runs");
    assert!(out.status.success(), "{}", describe(&out));
    // The nightly job only submitted the chain: its snapshot comes last.
    let record = f.root.join("distributions/c.json");
    let started = Instant::now();
    while !record.exists() && started.elapsed().as_secs() < 120 {
        sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        record.exists(),
        "no snapshot within 120 s; logs in {}",
        logs.display()
    );
    fair_ok(&["verify", path_str(&f.root)], 0);

    // A failing shard task: index.sh fails naming it; nothing is published.
    let before = fs::read(f.deepfolder()).expect("published");
    fs::write(f.source.join("divided/aa/new.ent.gz"), "new\n").expect("write");
    let out = std::process::Command::new(&script)
        .args(["--logs", path_str(&logs)])
        .args([path_str(&f.root), path_str(&f.source), "c", "4"])
        .env("SLURM_CONF", &cluster.conf)
        .env("FAIR", "/nonexistent/fair")
        .current_dir(f.tmp.path())
        .output()
        .expect("index.sh runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("shard task 0: FAILED"), "{said}");
    assert!(said.contains("merge job"), "{said}");
    assert_eq!(fs::read(f.deepfolder()).expect("kept"), before);
    drop(cluster);
}

#[test]
fn a_file_that_fails_is_reported_by_its_shard_alone() {
    let f = Fixture::new("blake3", &mirror_tree(3, 1));
    let link = f.source.join("divided/ab/dangling.ent.gz");
    std::os::unix::fs::symlink("nowhere", &link).expect("symlink");
    let runs: Vec<_> = (0..4)
        .map(|i| {
            spawn_shard(&f.root, &f.source, i, 4)
                .wait_with_output()
                .expect("wait")
        })
        .collect();
    let failed: Vec<_> = runs.iter().filter(|o| o.status.code() == Some(2)).collect();
    assert_eq!(failed.len(), 1, "one shard owns the link");
    assert!(runs.iter().all(|o| matches!(o.status.code(), Some(0 | 2))));
    let said = String::from_utf8_lossy(&failed[0].stderr);
    assert!(
        said.contains("dangling.ent.gz") && said.contains("dangling"),
        "{said}"
    );
    // Its shard is missing until it runs with --allow-errors; then the merge
    // is the single run with --allow-errors.
    let report: serde_json::Value = serde_json::from_slice(&failed[0].stdout).expect("JSON");
    let path = report["errors"][0]["path"].as_str().unwrap_or_default();
    assert!(path.ends_with("dangling.ent.gz"), "{report}");
    assert!(
        report.get("shard").is_none(),
        "a failed shard staged output: {report}"
    );
    let out = merge(&f.root, "4", 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    for i in 0..4 {
        let mut args = f.index_args();
        let flag = format!("{i}/4");
        args.extend(["--shard", &flag, "--allow-errors", "-q"]);
        fair_ok(&args, 0);
    }
    merge(&f.root, "4", 0);
    let reference = init(&f.tmp.path().join("reference"), "blake3");
    index_json(&reference, &f.source, "c", &["--allow-errors"], 0);
    assert_eq!(
        fs::read(f.deepfolder()).expect("merged"),
        fs::read(reference.join("deepfolders/c.json")).expect("single")
    );
}

#[test]
fn the_extra_digests_of_the_shards_reach_the_catalogue() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &mirror_tree(2, 1));
    let root = init_with(
        tmp.path(),
        &["--hash", "blake3", "--extra-digest", "sha256"],
    );
    run_shards(&root, &source, 3);
    merge(&root, "3", 0);
    fair_ok(
        &["snapshot", path_str(&root), "c", "c", "--version", "1"],
        0,
    );
    let list = fair_ok(
        &["manifest", path_str(&root), "c@1", "--format", "sha256sum"],
        0,
    )
    .stdout;
    let lines = String::from_utf8_lossy(&list).lines().count();
    assert_eq!(lines, mirror_tree(2, 1).len(), "one SHA-256 a file");
    let sums = tmp.path().join("SHA256SUMS");
    fs::write(&sums, &list).expect("write");
    let out = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", path_str(&sums)])
        .current_dir(&source)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn a_merge_of_shards_older_than_a_plain_index_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let source = tmp.path().join("src");
    write_tree(&source, &mirror_tree(3, 1));
    run_shards(&root, &source, 2);
    merge(&root, "2", 0);
    // The shards run again (a round), then the tree changes and a plain run
    // publishes it before the merge.
    run_shards(&root, &source, 2);
    write_tree(&source, &[("new/file".to_string(), b"new\n".to_vec())]);
    index_json(&root, &source, "c", &[], 0);
    let plain = fs::read(root.join("deepfolders/c.json")).expect("collection");
    let out = merge(&root, "2", 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stale") && stderr.contains("an older state of the tree"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(root.join("deepfolders/c.json")).expect("collection"),
        plain,
        "nothing published"
    );
    // Shards of the new tree merge again, and give the plain run's bytes.
    run_shards(&root, &source, 2);
    merge(&root, "2", 0);
    assert_eq!(
        fs::read(root.join("deepfolders/c.json")).expect("collection"),
        plain
    );
}
