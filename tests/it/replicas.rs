//! Replicated serving (`deploy/replicas/`): `fair serve` on copies of one
//! catalogue behind a real HAProxy running `deploy/replicas/haproxy.cfg`, new
//! distributions published with `deploy/replicas/publish.sh` while a client
//! loops through the balancer and fetches every file an answer names; the same
//! client catching a publication made in the wrong order; and the script's
//! failures and pruning.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{describe, fair_ok, free_port, init_with, path_str, tree, write_tree};
use crate::http::{Answers, Response, Served, request};

/// The files of each release: every one changes, so every element of a release
/// is new to the replicas.
const FILES: usize = 12;

/// Where the mirror's upstream serves a key (the access index's URLs).
const UPSTREAM: &str = "https://upstream.example.org/";

/// A file of the repository's `deploy/replicas/`.
fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/replicas")
        .join(file)
}

/// The primary catalogue (`DIR/primary/catalogue`, whose public URL is `base`)
/// with release 0 of the dataset `ds`; the catalogue, the source, the action file.
struct Primary {
    root: PathBuf,
    source: PathBuf,
    actions: PathBuf,
}

impl Primary {
    fn new(dir: &Path, base: &str) -> Primary {
        let root = init_with(
            &dir.join("primary"),
            &["--hash", "blake3", "--base-url", base],
        );
        let actions = dir.join("actions.yaml");
        let text = format!(
            "collection: ds\ncross_device: false\nactions:\n  - action: build_download_index\n    source_file: '(.*)'\n    urls: ['{UPSTREAM}{{0}}']\n  - action: intern_collection\n    hardlink: false\n  - action: deepfolder\n"
        );
        fs::write(&actions, text).expect("action file");
        let primary = Primary {
            root,
            source: dir.join("source"),
            actions,
        };
        primary.release(0);
        primary
    }

    /// Writes release `n` of the source, indexes it (an access index, every
    /// file interned) and snapshots it as version `n`; its checksum.
    fn release(&self, n: usize) -> String {
        let files: Vec<(String, Vec<u8>)> = (0..FILES)
            .map(|i| {
                (
                    format!("d{}/f{i}.txt", i % 3),
                    format!("{n}-{i}\n").into_bytes(),
                )
            })
            .collect();
        write_tree(&self.source, &files);
        let (root, source) = (path_str(&self.root), path_str(&self.source));
        let actions = path_str(&self.actions);
        fair_ok(
            &["index", root, "--source", source, "--actions", actions],
            0,
        );
        let version = n.to_string();
        let snapshot = [
            "snapshot",
            root,
            "ds",
            "ds",
            "--version",
            &version,
            "--json",
        ];
        let out = fair_ok(&snapshot, 0);
        let record: Value = serde_json::from_slice(&out.stdout).expect("record");
        record["checksum"].as_str().expect("checksum").to_string()
    }
}

/// Runs `deploy/replicas/publish.sh ARGS`.
fn publish(args: &[&Path]) -> Output {
    Command::new(deploy("publish.sh"))
        .args(args)
        .output()
        .expect("publish.sh runs (bash, rsync)")
}

/// Runs `publish.sh` and expects exit 0.
fn publish_ok(args: &[&Path]) {
    let out = publish(args);
    assert!(
        out.status.success(),
        "publish.sh {args:?}\n{}",
        describe(&out)
    );
}

/// HAProxy running `deploy/replicas/haproxy.cfg` with its `bind` address and
/// `server` lines replaced; stopped when dropped.
struct Balancer {
    child: Child,
}

impl Balancer {
    /// Starts HAProxy on `127.0.0.1:port` in front of `replicas` (addresses) and
    /// waits until it accepts connections.
    fn start(dir: &Path, port: u16, replicas: &[&str]) -> Balancer {
        let shipped = fs::read_to_string(deploy("haproxy.cfg")).expect("haproxy.cfg");
        let mut config = String::new();
        for line in shipped.lines() {
            match line.split_whitespace().next() {
                Some("bind") => config.push_str(&format!("    bind 127.0.0.1:{port}\n")),
                Some("server") => {}
                _ => config.push_str(&format!("{line}\n")),
            }
        }
        assert!(config.contains("backend replicas\n"), "{config}");
        for (i, addr) in replicas.iter().enumerate() {
            config.push_str(&format!("    server replica{} {addr}\n", i + 1));
        }
        let path = dir.join("haproxy.cfg");
        fs::write(&path, config).expect("write haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy runs (Debian package haproxy, installed by .ci/run)");
        let balancer = Balancer { child };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "haproxy does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        balancer
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one pass of the client saw.
#[derive(Debug)]
struct Pass {
    /// The latest distribution it was given.
    checksum: String,
    /// Who gave it (the balancer's `X-Fair-Replica`, else the address asked).
    replica: String,
    /// Requests made.
    requests: usize,
    /// `/machine/access` answers, from another replica than the record's, that
    /// lacked the record's access index (that replica had not switched yet).
    lagging: usize,
}

/// Who answered: the balancer's `X-Fair-Replica` header, else `addr`.
fn answered_by(response: &Response, addr: &str) -> String {
    response
        .header("x-fair-replica")
        .unwrap_or(addr)
        .to_string()
}

/// One pass of a client: asks `records` for the latest distribution of `ds`,
/// then asks `files` for every file the record names (keyorder, the collection
/// in `buffers/`), for the URLs of three of its elements (`/machine/access`:
/// they exist on every replica once its buffers do, and include the access
/// index's upstream URL when the record's replica answers), and for every
/// file those answers name under `base` (the balancer's public URL). `Err`
/// names the first answer that was a 5xx, or a file named that is missing.
fn check(records: &str, files: &str, base: &str) -> Result<Pass, String> {
    let mut requests = 0;
    let mut get = |addr: &str, target: &str| {
        requests += 1;
        let got = request(addr, "GET", target, &[]);
        if got.status >= 500 {
            return Err(format!("{target}: {} {}", got.status, got.text()));
        }
        Ok(got)
    };
    let got = get(records, "/machine/find_distribution?dataset=ds")?;
    if got.status != 200 {
        return Err(format!("find_distribution: {} {}", got.status, got.text()));
    }
    let replica = answered_by(&got, records);
    let record: Value = serde_json::from_slice(&got.body).map_err(|e| e.to_string())?;
    let field = |name: &str| record[name].as_str().unwrap_or_default().to_string();
    let (checksum, keyorder) = (field("checksum"), field("keyorder"));
    let named = |what: &str, got: &Response| {
        format!(
            "{replica} gave the record {checksum}, whose {what} is {} by {}",
            got.status,
            answered_by(got, files)
        )
    };
    let got = get(files, &format!("/machine/keyorder/{keyorder}"))?;
    if got.status != 200 {
        return Err(named(&format!("keyorder {keyorder}"), &got));
    }
    let got = get(files, &format!("/buffers/{checksum}"))?;
    if got.status != 200 {
        return Err(named("collection (buffers/)", &got));
    }
    let collection: BTreeMap<String, String> =
        serde_json::from_slice(&got.body).map_err(|e| e.to_string())?;
    let mut lagging = 0;
    for (key, element) in collection.iter().take(3) {
        let got = get(files, &format!("/machine/access/{element}"))?;
        if got.status != 200 {
            return Err(named(&format!("element {key}'s /machine/access"), &got));
        }
        let urls: Vec<Value> = serde_json::from_slice(&got.body).map_err(|e| e.to_string())?;
        let urls: Vec<&str> = urls.iter().filter_map(|u| u["url"].as_str()).collect();
        if !urls.contains(&format!("{UPSTREAM}{key}").as_str()) {
            if answered_by(&got, files) == replica {
                return Err(named(
                    &format!("access index (element {key}: {urls:?})"),
                    &got,
                ));
            }
            lagging += 1;
        }
        for path in urls.iter().filter_map(|u| u.strip_prefix(base)) {
            let got = get(files, &format!("/{path}"))?;
            if got.status != 200 {
                return Err(named(&format!("element {key} at /{path}"), &got));
            }
        }
    }
    Ok(Pass {
        checksum,
        replica,
        requests,
        lagging,
    })
}

/// What the client loop saw, shared with the test.
#[derive(Debug, Default)]
struct Log {
    /// Passes made, each with when it started and ended.
    passes: Vec<(Instant, Instant)>,
    requests: usize,
    lagging: usize,
    /// Each distribution given, by the replicas that gave it.
    seen: BTreeMap<String, BTreeSet<String>>,
    errors: Vec<String>,
}

/// The number of passes made so far.
fn passes(log: &Mutex<Log>) -> usize {
    log.lock().expect("log").passes.len()
}

/// Waits (at most 20 s) until `done` holds of the log.
fn wait_for(log: &Mutex<Log>, what: &str, done: impl Fn(&Log) -> bool) {
    let started = Instant::now();
    while !done(&log.lock().expect("log")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not within 20 s: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (at most 20 s) until the replica at `served` says it serves
/// `distributions` records, asking it directly; its `/health` then.
fn wait_until_serving(served: &Served, distributions: usize) -> Value {
    let started = Instant::now();
    loop {
        let health: Value = serde_json::from_slice(&served.get("/health").body).expect("health");
        if health["distributions"] == distributions {
            return health;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}: not {distributions} distributions within 20 s: {health}",
            served.addr
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn replicas_behind_haproxy_never_name_a_file_they_lack_while_publications_go_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let (lb, base) = (
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/"),
    );
    let primary = Primary::new(tmp.path(), &base);
    let replicas = [tmp.path().join("replica1"), tmp.path().join("replica2")];
    publish_ok(&[&primary.root, &replicas[0], &replicas[1]]);
    let servers: Vec<Served> = replicas.iter().map(|r| Served::start(r)).collect();
    let addrs: Vec<&str> = servers.iter().map(|s| s.addr.as_str()).collect();
    let _balancer = Balancer::start(tmp.path(), port, &addrs);
    check(&lb, &lb, &base).expect("the first release, through the balancer");

    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (log, stop, lb, base) = (log.clone(), stop.clone(), lb.clone(), base.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let pass = check(&lb, &lb, &base);
                let mut log = log.lock().expect("log");
                log.passes.push((started, Instant::now()));
                match pass {
                    Ok(pass) => {
                        log.requests += pass.requests;
                        log.lagging += pass.lagging;
                        let seen = log.seen.entry(pass.checksum).or_default();
                        seen.insert(pass.replica);
                    }
                    Err(e) => log.errors.push(e),
                }
            }
        })
    };

    let rounds = 4;
    let mut releases = vec![];
    let mut publications = vec![];
    for n in 1..=rounds {
        releases.push(primary.release(n));
        let started = Instant::now();
        publish_ok(&[&primary.root, &replicas[0], &replicas[1]]);
        publications.push((started, Instant::now()));
        for served in &servers {
            let health = wait_until_serving(served, n + 1);
            assert_eq!(health["status"], "ok", "{health}");
        }
        // Two more passes: one of them started once both replicas served it.
        let now = passes(&log);
        wait_for(&log, "two more passes", |l| l.passes.len() >= now + 2);
    }
    let last = releases.last().expect("a release").clone();
    wait_for(&log, "the last release from both replicas", |l| {
        l.seen.get(&last).is_some_and(|r| r.len() == 2)
    });
    stop.store(true, Ordering::Relaxed);
    client.join().expect("the client loop");

    let log = log.lock().expect("log");
    eprintln!(
        "{} passes, {} requests through haproxy, {} access answers from a replica that had not switched yet",
        log.passes.len(),
        log.requests,
        log.lagging
    );
    assert!(log.errors.is_empty(), "{:#?}", log.errors);
    for (i, (start, end)) in publications.iter().enumerate() {
        let during = log
            .passes
            .iter()
            .filter(|(s, e)| s < end && e > start)
            .count();
        assert!(during >= 1, "no pass during publication {}", i + 1);
    }
    assert!(log.requests >= 200, "{} requests", log.requests);
    for checksum in &releases {
        assert!(log.seen.contains_key(checksum), "{checksum} never seen");
    }
    assert_eq!(
        log.seen[&last],
        BTreeSet::from(["replica1".to_string(), "replica2".to_string()])
    );
}

#[test]
fn the_client_catches_records_published_before_their_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = "http://127.0.0.1:1/";
    let primary = Primary::new(tmp.path(), base);
    let replicas = [tmp.path().join("replica1"), tmp.path().join("replica2")];
    publish_ok(&[&primary.root, &replicas[0], &replicas[1]]);
    let servers: Vec<Served> = replicas.iter().map(|r| Served::start(r)).collect();
    let (one, two) = (servers[0].addr.as_str(), servers[1].addr.as_str());
    check(one, two, base).expect("a right publication passes");
    check(two, one, base).expect("a right publication passes");

    // Everything to replica 1 only: its records name files replica 2 lacks,
    // which a client sent to both by the balancer fetches there.
    primary.release(1);
    publish_ok(&[&primary.root, &replicas[0]]);
    wait_until_serving(&servers[0], 2);
    let err = check(one, two, base).expect_err("replica 2 lacks the files");
    assert!(err.contains("is 404 by"), "{err}");

    // Records before files on replica 2 itself.
    let records = |dir: &Path| format!("{}/distributions/", dir.display());
    let out = Command::new("rsync")
        .args(["-a", &records(&primary.root), &records(&replicas[1])])
        .output()
        .expect("rsync runs");
    assert!(out.status.success(), "{}", describe(&out));
    let health = wait_until_serving(&servers[1], 2);
    assert_eq!(health["status"], "degraded", "{health}");
    let problems = health["problems"].to_string();
    assert!(problems.contains("access index"), "{problems}");
    let err = check(two, two, base).expect_err("replica 2 lacks its own files");
    assert!(err.contains("is 404 by"), "{err}");

    // The files follow (its records are already those of the primary, so none
    // changes): replica 2 finds them by itself, catches its store up and serves
    // the release whole.
    publish_ok(&[&primary.root, &replicas[1]]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let health: Value =
            serde_json::from_slice(&servers[1].get("/health").body).expect("health");
        if health["status"] == "ok" || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(health["status"], "ok", "{health}");
    check(two, two, base).expect("replica 2 now has every file its records name");
    check(one, two, base).expect("and every file replica 1's records name");
}

#[test]
fn mistaken_arguments_are_refused_before_anything_is_sent_and_leftovers_hold_no_lock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let primary = Primary::new(tmp.path(), "http://127.0.0.1:1/");
    let replica = tmp.path().join("replica");
    publish_ok(&[&primary.root, &replica]);
    primary.release(1);
    let (before, records) = (tree(&primary.root), tree(&replica));
    let refused = |args: &[&Path], code: i32, says: &str| {
        let out = publish(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\n{}",
            describe(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(tree(&primary.root), before, "{args:?}: the primary changed");
        assert_eq!(tree(&replica), records, "{args:?}: the replica changed");
    };
    // The arguments swapped: the replica's older records would replace the
    // primary's.
    refused(&[&replica, &primary.root], 2, "is a replica");
    // The wrong catalogue: every record of the replica would go.
    let fresh = init_with(&tmp.path().join("fresh"), &["--hash", "blake3"]);
    refused(&[&fresh, &replica], 1, "--remove-records");
    // An option after CAT, a destination rsync would read as options, CAT itself.
    refused(
        &[&primary.root, &replica, Path::new("-n")],
        2,
        "options go before CAT",
    );
    refused(
        &[&primary.root, Path::new("-rep")],
        2,
        "options go before CAT",
    );
    refused(
        &[&primary.root, &primary.root.join(".")],
        2,
        "is CAT itself",
    );

    // A process the transfer leaves behind (as an ssh master does) does not
    // hold the lock of the next run.
    let rsh = tmp.path().join("rsh");
    fs::write(
        &rsh,
        "#!/bin/sh\nshift\n(sleep 30 </dev/null >/dev/null 2>&1 &)\nexec \"$@\"\n",
    )
    .expect("rsh");
    Command::new("chmod")
        .args(["755"])
        .arg(&rsh)
        .status()
        .expect("chmod");
    let remote = PathBuf::from(format!("host:{}", tmp.path().join("remote").display()));
    let rsh_opt = PathBuf::from(format!("--rsh={}", rsh.display()));
    publish_ok(&[Path::new("--rsync-opt"), &rsh_opt, &primary.root, &remote]);
    publish_ok(&[&primary.root, &replica]);
    assert_eq!(
        fs::read(replica.join("distributions/ds.json")).expect("records"),
        fs::read(primary.root.join("distributions/ds.json")).expect("records"),
    );
}

#[test]
fn a_destination_that_fails_gets_the_others_no_records_and_pruning_waits_for_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let primary = Primary::new(tmp.path(), "http://127.0.0.1:1/");
    let replica = tmp.path().join("replica");
    publish_ok(&[&primary.root, &replica]);
    let sent: Vec<_> = fs::read_dir(replica.join(".fair"))
        .expect(".fair/")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        sent,
        ["replica"],
        "the derived store is not sent, the mark is"
    );
    let old = fs::read(replica.join("distributions/ds.json")).expect("records");

    // A destination that cannot be written: the other gets the new files, no
    // record anywhere.
    primary.release(1);
    let broken = tmp.path().join("not-a-directory");
    fs::write(&broken, "").expect("a file");
    let unwritable = broken.join("replica");
    let out = publish(&[&primary.root, &replica, &unwritable]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("failed for {}", unwritable.display()))
            && stderr.contains("no records were sent to any destination"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(replica.join("distributions/ds.json")).expect("records"),
        old
    );
    let record: Value = serde_json::from_slice(
        &fs::read(primary.root.join("distributions/ds.json")).expect("records"),
    )
    .expect("JSON");
    let keyorder = record[1]["keyorder"].as_str().expect("keyorder");
    assert!(replica.join("keyorder").join(keyorder).is_file());

    // Pruning is refused while a destination lacks the primary's records.
    let stray = replica.join("keyorder").join("a".repeat(64));
    fs::write(&stray, "not named by any record\n").expect("stray file");
    let prune = Path::new("--prune");
    let out = publish(&[prune, &primary.root, &replica]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("distributions/ds.json") && stderr.contains("nothing deleted"),
        "{stderr}"
    );
    assert!(stray.is_file());

    // One run at a time: while another holds the catalogue (the lock
    // flock(1) takes, taken here by the test), nothing is done.
    let holder = fs::File::open(&primary.root).expect("open the catalogue directory");
    holder.try_lock().expect("the lock is free");
    let out = publish(&[&primary.root, &replica]);
    drop(holder);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another publish.sh of it is running"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        fs::read(replica.join("distributions/ds.json")).expect("records"),
        old
    );

    // Once published, it deletes what the primary lacks, and only that.
    publish_ok(&[&primary.root, &replica]);
    publish_ok(&[prune, &primary.root, &replica]);
    assert!(!stray.exists());
    fair_ok(&["verify", path_str(&replica)], 0);
    for dir in ["keyorder", "access_index", "buffers", "distributions"] {
        let names = |root: &Path| -> BTreeSet<_> {
            fs::read_dir(root.join(dir))
                .expect("dir")
                .map(|e| e.expect("entry").file_name())
                .filter(|n| !n.to_string_lossy().starts_with('.'))
                .collect()
        };
        assert_eq!(names(&replica), names(&primary.root), "{dir}");
    }
}

#[test]
fn the_shipped_haproxy_configuration_is_valid_and_the_one_documented() {
    let out = Command::new("haproxy")
        .arg("-c")
        .arg("-f")
        .arg(deploy("haproxy.cfg"))
        .output()
        .expect("haproxy runs (Debian package haproxy, installed by .ci/run)");
    assert!(out.status.success(), "{}", describe(&out));
    let shipped = fs::read_to_string(deploy("haproxy.cfg")).expect("haproxy.cfg");
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/beyond-one-machine.md");
    let doc = fs::read_to_string(doc).expect("docs/beyond-one-machine.md");
    assert!(
        doc.contains(&format!("```text\n{shipped}```\n")),
        "docs/beyond-one-machine.md shows deploy/replicas/haproxy.cfg as it is"
    );
}
