//! Seamless action files: the PDB pipeline, incremental re-runs, malformed files
//! and decompression bombs.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use faircore::HashAlgo;

use crate::helpers::*;

#[path = "../../fixtures/pdb/mirror.rs"]
#[allow(dead_code)]
pub(crate) mod mirror;

/// A blake3 catalogue and a 200-entry PDB mirror.
fn pdb() -> Fixture {
    let f = Fixture::new("blake3", &[]);
    mirror::generate(&f.source, 200).expect("mirror");
    backdate_tree(&f.source);
    f
}

fn run_actions(f: &Fixture, actions: &Path, extra: &[&str], code: i32) -> serde_json::Value {
    let mut args = vec!["index", path_str(&f.root), "--source", path_str(&f.source)];
    args.extend(["--actions", path_str(actions), "--json"]);
    args.extend_from_slice(extra);
    let out = fair_ok(&args, code);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", describe(&out)))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("read")).expect("JSON")
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_pdb_pipeline_writes_three_deepfolders_a_deepcell_and_three_download_indexes() {
    let f = pdb();
    let report = run_actions(&f, &fixture("pdb/actions.yaml"), &[], 0);
    assert_eq!(
        names(&f.root.join("deepfolders")),
        ["mmcif-flat.json", "mmcif.json", "pdb.json"]
    );
    assert_eq!(names(&f.root.join("deepcells")), ["pdb-cell.json"]);
    assert_eq!(
        names(&f.root.join("download_indices")),
        ["mmcif-flat.json", "mmcif.json", "pdb.json"]
    );
    let keys: Vec<&String> = report["collections"]
        .as_object()
        .expect("map")
        .keys()
        .collect();
    assert_eq!(keys, ["mmcif", "mmcif-flat", "pdb", "pdb-cell"]);
    assert_eq!(report["operations"]["pdb-cif"]["run"], 200);
    crate::schemas::assert_valid("index-report.schema.json", &report);

    // The deepcell maps each code to the mixed buffer: the JSON string of the
    // decompressed text plus a newline.
    let code = mirror::code(17);
    let text = mirror::mmcif(17, 0);
    let mut mixed = serde_json::to_vec(&text).expect("json string");
    mixed.push(b'\n');
    let cell = read_json(&f.root.join("deepcells/pdb-cell.json"));
    assert_eq!(cell.as_object().map(|m| m.len()), Some(200));
    assert_eq!(
        cell[&code].as_str(),
        Some(HashAlgo::Blake3.hash(&mixed).to_hex().as_str())
    );
    assert_eq!(
        fs::read(
            f.root
                .join("buffers")
                .join(HashAlgo::Blake3.hash(&mixed).to_hex())
        )
        .expect("buffer"),
        mixed
    );

    // The copies hold the decompressed text, divided and flat.
    let dir = &code[1..3];
    let copied = fs::read_to_string(f.root.join(format!("collections/mmcif/{dir}/{code}.cif")))
        .expect("copy");
    assert_eq!(copied, text);
    let flat = read_json(&f.root.join("deepfolders/mmcif-flat.json"));
    assert_eq!(
        flat[format!("{code}.cif")].as_str(),
        Some(HashAlgo::Blake3.hash(text.as_bytes()).to_hex().as_str())
    );

    // Download URLs expand from the templates.
    let index = read_json(&f.root.join("download_indices/pdb.json"));
    let expected = serde_json::json!([{"compression": "gzip", "url": format!("http://127.0.0.1:8000/pdb/{dir}/{code}.cif.gz")}]);
    assert_eq!(index[format!("{dir}/{code}.cif.gz")], expected);
    let flat_index = read_json(&f.root.join("download_indices/mmcif-flat.json"));
    assert_eq!(
        flat_index[format!("{code}.cif")][0]["url"],
        format!("http://127.0.0.1:8000/mmcif-flat/{code}.cif")
    );
    let divided = read_json(&f.root.join("download_indices/mmcif.json"));
    assert_eq!(
        divided[format!("{dir}/{code}.cif")][0]["url"],
        format!("http://127.0.0.1:8000/mmcif/{dir}/{code}.cif")
    );

    // Every deepfolder and deepcell the run wrote is a buffer too.
    for kind in ["deepfolders", "deepcells"] {
        for name in names(&f.root.join(kind)) {
            let bytes = fs::read(f.root.join(kind).join(&name)).expect("collection");
            let buffer = f
                .root
                .join("buffers")
                .join(HashAlgo::Blake3.hash(&bytes).to_hex());
            assert_eq!(fs::read(&buffer).ok(), Some(bytes), "{kind}/{name}");
        }
    }
}

#[test]
fn a_rerun_after_two_changes_decompresses_two_files_and_rewrites_only_what_changed() {
    let f = pdb();
    run_actions(&f, &fixture("pdb/actions.yaml"), &[], 0);
    let snapshot = |dir: &str| -> BTreeMap<String, (u64, Vec<u8>)> {
        walk(&f.root.join(dir))
            .into_iter()
            .map(|p| {
                let ino = fs::metadata(&p).expect("stat").ino();
                (p.display().to_string(), (ino, fs::read(&p).expect("read")))
            })
            .collect()
    };
    let indexes = snapshot("download_indices");
    let copies = snapshot("collections");
    for n in [3, 150] {
        let path = mirror::write_entry(&f.source, n, 1).expect("rewrite");
        backdate(&path);
    }
    let report = run_actions(&f, &fixture("pdb/actions.yaml"), &[], 0);
    assert_eq!(report["hashed"], 2, "{report}");
    assert_eq!(
        report["operations"]["pdb-cif"],
        serde_json::json!({"run": 2, "reused": 198})
    );
    assert_eq!(
        report["operations"]["pdb-mixed"],
        serde_json::json!({"run": 2, "reused": 198})
    );
    assert_eq!(
        snapshot("download_indices"),
        indexes,
        "same keys, same URLs: not rewritten"
    );
    let after = snapshot("collections");
    let changed: Vec<&String> = after.keys().filter(|k| after[*k] != copies[*k]).collect();
    assert_eq!(
        changed.len(),
        4,
        "two entries in two copied collections: {changed:?}"
    );
    for n in [3, 150] {
        let code = mirror::code(n);
        assert!(
            changed
                .iter()
                .any(|k| k.ends_with(&format!("mmcif-flat/{code}.cif"))),
            "{code}"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The rows of `fixtures/bad-actions/README.md`: file, message fragment, and
/// whether the schema rejects it.
pub fn bad_action_files() -> Vec<(String, String, bool)> {
    let table = fs::read_to_string(fixture("bad-actions/README.md")).expect("README");
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| file") && !l.starts_with("| ---"))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            let message = cells[2].trim_matches('`').trim().to_owned();
            (cells[0].to_owned(), message, cells[3] == "invalid")
        })
        .collect()
}

#[test]
fn every_malformed_action_file_fails_with_exit_1_naming_the_place_and_changes_nothing() {
    let f = pdb();
    run_actions(&f, &fixture("pdb/download-only.json"), &[], 0);
    let files = bad_action_files();
    assert!(files.len() >= 10, "at least 10 faults: {}", files.len());
    let before: BTreeMap<_, _> = walk(&f.root)
        .into_iter()
        .filter(|p| !p.starts_with(f.root.join(".fair")))
        .map(|p| (p.clone(), fs::read(&p).expect("read")))
        .collect();
    for (file, message, _) in &files {
        let path = fixture(&format!("bad-actions/{file}"));
        let mut args = vec!["index", path_str(&f.root), "--source", path_str(&f.source)];
        args.extend(["--actions", path_str(&path)]);
        let out = fair(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}\n{}", describe(&out));
        assert!(
            stderr.contains(message.as_str()),
            "{file}: expected {message:?} in\n{stderr}"
        );
        assert!(
            stderr.contains(file.as_str()),
            "{file}: the message names the file\n{stderr}"
        );
    }
    let after: BTreeMap<_, _> = walk(&f.root)
        .into_iter()
        .filter(|p| !p.starts_with(f.root.join(".fair")))
        .map(|p| (p.clone(), fs::read(&p).expect("read")))
        .collect();
    assert!(
        before == after,
        "a malformed action file changed the catalogue"
    );
}

#[test]
fn a_json_action_file_runs_like_a_yaml_one() {
    let f = pdb();
    let report = run_actions(&f, &fixture("pdb/download-only.json"), &[], 0);
    assert!(report["collections"]["pdb"].is_string(), "{report}");
    let code = mirror::code(5);
    let index = read_json(&f.root.join("download_indices/pdb.json"));
    let urls = &index[format!("{}/{code}.cif.gz", &code[1..3])];
    assert_eq!(
        urls[0]["url"],
        format!("https://files.rcsb.org/download/{code}.cif.gz")
    );
    assert_eq!(urls[1]["compression"], "gzip");
}

/// Runs `fair ARGS` (stdout discarded): its exit code, stderr and peak resident
/// set in KiB.
///
/// The peak is taken by a small Python parent (`RUSAGE_CHILDREN`), not by
/// `wait4` here: Linux starts a child's `ru_maxrss` at the peak of the address
/// space it was spawned from, and this test process (threads, in-process
/// servers of other tests) can be larger than anything measured.
fn run_measured(args: &[&str]) -> (Option<i32>, String, i64) {
    const MEASURE: &str = "import resource, subprocess, sys\n\
        code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n\
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
        sys.exit(code)\n";
    let out = std::process::Command::new("python3")
        .args(["-c", MEASURE, env!("CARGO_BIN_EXE_fair")])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("python3");
    let peak = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the peak in KiB");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        peak,
    )
}

#[test]
fn gzip_and_zip_bombs_are_refused_with_bounded_memory() {
    let f = Fixture::new("blake3", &[]);
    let zeros = vec![0u8; 1 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    zip.start_file("bomb.bin", options).expect("zip member");
    for _ in 0..600 {
        gz.write_all(&zeros).expect("gzip");
        zip.write_all(&zeros).expect("zip");
    }
    let gz = gz.finish().expect("gzip");
    let zip = zip.finish().expect("zip").into_inner();
    assert!(gz.len() < 2 << 20 && zip.len() < 2 << 20, "small inputs");
    fs::create_dir_all(&f.source).expect("mkdir");
    fs::write(f.source.join("bomb.gz"), gz).expect("write");
    fs::write(f.source.join("bomb.zip"), zip).expect("write");
    backdate_tree(&f.source);
    for (command, file) in [("gunzip", "bomb.gz"), ("unzip", "bomb.zip")] {
        let actions = f.tmp.path().join(format!("{command}.yaml"));
        let text = format!(
            "collection: bombs\ncross_device: false\nactions:\n  - action: operation\n    command: {command}\n    collection: out\n  - action: copy_collection\n    source_collection: out\n    collection: copied\n    source_file: '({})'\n    target_file: '{{0}}'\n",
            file.replace('.', "\\.")
        );
        fs::write(&actions, text).expect("actions");
        let (code, stderr, peak_kib) = run_measured(&[
            "index",
            path_str(&f.root),
            "--source",
            path_str(&f.source),
            "--actions",
            path_str(&actions),
            "--max-decompressed",
            "256M",
        ]);
        assert_eq!(code, Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains("more than 268435456 bytes"),
            "{command}: {stderr}"
        );
        assert!(
            peak_kib < 100 * 1024,
            "{command}: peak memory {peak_kib} KiB"
        );
        assert!(
            !f.root.join("collections/copied").exists(),
            "nothing published"
        );
    }
}

#[test]
fn gunzip_accepts_zero_padding_and_names_trailing_garbage_as_gzip_d_does() {
    let f = Fixture::new("blake3", &[]);
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    member.write_all(b"hello\n").expect("gzip");
    let member = member.finish().expect("gzip");
    fs::create_dir_all(&f.source).expect("mkdir");
    // Tape or block padding: `gzip -d` and Python's gzip accept it.
    fs::write(
        f.source.join("padded.gz"),
        [&member[..], &[0; 512]].concat(),
    )
    .expect("write");
    backdate_tree(&f.source);
    let actions = f.tmp.path().join("gunzip.yaml");
    let text = "collection: gz\ncross_device: false\nactions:\n  - action: operation\n    command: gunzip\n    collection: out\n";
    fs::write(&actions, text).expect("actions");
    run_actions(&f, &actions, &[], 0);
    let hello = HashAlgo::Blake3.hash(b"hello\n").to_hex();
    assert!(
        names(&f.root.join("buffers")).contains(&hello),
        "decompressed"
    );

    fs::write(
        f.source.join("junk.gz"),
        [&member[..], b"\0\0junk"].concat(),
    )
    .expect("write");
    backdate_tree(&f.source);
    let mut args = vec!["index", path_str(&f.root), "--source", path_str(&f.source)];
    args.extend(["--actions", path_str(&actions)]);
    let out = fair_ok(&args, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "trailing garbage after the last gzip member at byte {}",
        member.len() + 2
    );
    assert!(
        stderr.contains("junk.gz") && stderr.contains(&want),
        "{stderr}"
    );
}

/// Runs `fair` in `dir` (relative paths as a shell script gives them), expecting
/// success.
fn fair_in(dir: &Path, args: &[&str]) {
    let out = fair_cmd()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("fair");
    assert_eq!(
        out.status.code(),
        Some(0),
        "fair {args:?}\n{}",
        describe(&out)
    );
}

/// What `seamless-bufferdir-deploy-deepfolder CHECKSUM BUFFERDIR` needs: the
/// collection buffer `checksum` in `bufferdir`, and each of its elements.
fn assert_deployable(bufferdir: &Path, checksum: &str, algo: HashAlgo) {
    let bytes = fs::read(bufferdir.join(checksum))
        .unwrap_or_else(|e| panic!("collection buffer {checksum} in the bufferdir: {e}"));
    assert_eq!(algo.hash(&bytes).to_hex(), checksum);
    let entries: BTreeMap<String, String> = serde_json::from_slice(&bytes).expect("plain map");
    for (key, element) in entries {
        let element_bytes = fs::read(bufferdir.join(&element))
            .unwrap_or_else(|e| panic!("element {key} ({element}) in the bufferdir: {e}"));
        assert_eq!(algo.hash(&element_bytes).to_hex(), element);
    }
}

/// Seamless's `tests/fairserver` pipeline in `fair` commands: index with
/// `--bufferdir ./bufferdir`, add the distribution, then deploy the deepfolder
/// from `./bufferdir` (and the same for a deepcell).
#[test]
fn the_seamless_fairserver_pipeline_finds_every_collection_buffer_in_the_bufferdir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let golden = fixture("golden");
    let testset = golden.join("v1");
    let actions = golden.join("mydataset.yaml");
    fair_in(dir, &["init", "./fairdir", "--hash", "sha3-256"]);
    let build = ["index", "./fairdir", "--source", path_str(&testset)];
    let bufferdir = ["--bufferdir", "./bufferdir"];
    fair_in(
        dir,
        &[&build[..], &["--actions", path_str(&actions)], &bufferdir].concat(),
    );
    let snapshot = [
        "snapshot",
        "./fairdir",
        "mydataset",
        "mydataset",
        "--version",
        "1",
    ];
    fair_in(dir, &snapshot);
    let records = read_json(&dir.join("fairdir/distributions/mydataset.json"));
    let checksum = records[0]["checksum"].as_str().expect("checksum");
    // The upstream vector (seamless.md §1).
    assert_eq!(
        checksum,
        "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41"
    );
    assert_deployable(&dir.join("bufferdir"), checksum, HashAlgo::Sha3_256);

    // A deepcell of operation results: its buffer is there too.
    let othercoll = golden.join("othercoll");
    let cell_actions = golden.join("othercoll.yaml");
    let cell = ["index", "./fairdir", "--source", path_str(&othercoll)];
    fair_in(
        dir,
        &[
            &cell[..],
            &["--actions", path_str(&cell_actions)],
            &bufferdir,
        ]
        .concat(),
    );
    let bytes = fs::read(dir.join("fairdir/deepcells/othercoll.json")).expect("deepcell");
    let checksum = HashAlgo::Sha3_256.hash(&bytes).to_hex();
    assert_deployable(&dir.join("bufferdir"), &checksum, HashAlgo::Sha3_256);
}
