//! Running the real `fair` executable on temporary trees.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use filetime::FileTime;

/// The `fair` executable built for these tests.
pub fn fair_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fair"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// The hex digest `tool` (`b3sum`, `sha256sum`) gives of `bytes` on its
/// standard input.
pub fn digest_by(tool: &str, bytes: &[u8]) -> String {
    let mut child = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(bytes).expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect(tool);
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A port nothing listens on now (on 127.0.0.1).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `fair` with `args`.
pub fn fair(args: &[&str]) -> Output {
    fair_cmd().args(args).output().expect("fair runs")
}

/// The exit code, stdout and stderr of a run, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `fair` and expects exit code `code`.
pub fn fair_ok(args: &[&str], code: i32) -> Output {
    let out = fair(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "fair {args:?}\n{}",
        describe(&out)
    );
    out
}

/// The `--json` report of `fair index`.
pub fn index_json(
    catalogue: &Path,
    source: &Path,
    collection: &str,
    extra: &[&str],
    code: i32,
) -> serde_json::Value {
    let mut args = vec![
        "index",
        path_str(catalogue),
        "--source",
        path_str(source),
        "--collection",
        collection,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = fair_ok(&args, code);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON object: {e}\n{}", describe(&out)))
}

/// A path as `&str` (test paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test path")
}

/// A new catalogue with `hash` under `dir`.
pub fn init(dir: &Path, hash: &str) -> PathBuf {
    init_with(dir, &["--hash", hash])
}

/// A new catalogue under `dir`, made by `fair init` with `args`.
pub fn init_with(dir: &Path, args: &[&str]) -> PathBuf {
    let root = dir.join("catalogue");
    let mut all = vec!["init", path_str(&root)];
    all.extend_from_slice(args);
    fair_ok(&all, 0);
    root
}

/// Writes `files` (relative path → content) under `root`, with mtimes an hour in
/// the past, as a mirror that rsync refreshed earlier would have.
pub fn write_tree(root: &Path, files: &[(String, Vec<u8>)]) {
    for (rel, content) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, content).expect("write");
        backdate(&path);
    }
}

/// Sets the mtime of `path` an hour in the past.
pub fn backdate(path: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    filetime::set_file_mtime(path, FileTime::from_system_time(past)).expect("set mtime");
}

/// `n` small files spread over directories, with distinct contents.
pub fn small_files(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("d{:02}/f{i:05}.txt", i % 37),
                format!("file {i}\n").into_bytes(),
            )
        })
        .collect()
}

/// The checksum a report gives for `collection`.
pub fn reported(report: &serde_json::Value, collection: &str) -> Option<String> {
    report["collections"][collection]
        .as_str()
        .map(str::to_owned)
}

/// A source tree and a catalogue in a temporary directory, indexed as the
/// collection `c`.
pub struct Fixture {
    /// Holds everything; removed on drop.
    pub tmp: tempfile::TempDir,
    /// The source directory.
    pub source: PathBuf,
    /// The catalogue.
    pub root: PathBuf,
}

impl Fixture {
    /// A catalogue with `hash` and a source holding `files`.
    pub fn new(hash: &str, files: &[(String, Vec<u8>)]) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let source = tmp.path().join("src");
        write_tree(&source, files);
        let root = init(tmp.path(), hash);
        Fixture { tmp, source, root }
    }

    /// The arguments of `fair index` for collection `c`, before any option.
    pub fn index_args(&self) -> Vec<&str> {
        vec![
            "index",
            path_str(&self.root),
            "--source",
            path_str(&self.source),
            "--collection",
            "c",
        ]
    }

    /// `fair index --json` with `extra` options, expecting exit code `code`.
    pub fn index(&self, extra: &[&str], code: i32) -> serde_json::Value {
        index_json(&self.root, &self.source, "c", extra, code)
    }

    /// The path of `deepfolders/c.json`.
    pub fn deepfolder(&self) -> PathBuf {
        self.root.join("deepfolders/c.json")
    }

    /// `deepfolders/c.json`, parsed.
    pub fn collection(&self) -> serde_json::Map<String, serde_json::Value> {
        let bytes = fs::read(self.deepfolder()).expect("deepfolder");
        serde_json::from_slice(&bytes).expect("JSON object")
    }
}

/// Sets the mtime of every file under `root` an hour in the past.
pub fn backdate_tree(root: &Path) {
    for entry in fs::read_dir(root).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            backdate_tree(&path);
        } else {
            backdate(&path);
        }
    }
}

/// A file of the repository's `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Indexes `source` into `root` as the collection `files` and snapshots it as
/// version `version` of the dataset `files`; returns the distribution's checksum.
pub fn index_and_snapshot(root: &Path, source: &Path, version: &str) -> String {
    let index = ["index", path_str(root), "--source", path_str(source)];
    fair_ok(&[&index[..], &["--collection", "files"]].concat(), 0);
    let snapshot = ["snapshot", path_str(root), "files", "files", "--version"];
    let out = fair_ok(&[&snapshot[..], &[version, "--json"]].concat(), 0);
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    record["checksum"].as_str().expect("checksum").to_string()
}

/// Every file under `dir`, by relative path.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                files.insert(path_str(rel).to_string(), fs::read(&path).expect("read"));
            }
        }
    }
    files
}
