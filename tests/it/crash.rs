//! SIGKILL at any moment of `fair index` (and of `fair index --actions`, while it
//! publishes too) leaves the old or the new state, never a partial file, `fair
//! verify` agrees, and the next run succeeds.

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
    fair_ok(&["verify", path_str(root), "--no-buffers"], 0);
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

/// `n` small files whose contents depend on `version`.
fn small_tree(n: usize, version: u8) -> Vec<(String, Vec<u8>)> {
    small_files(n)
        .into_iter()
        .map(|(key, mut content)| {
            content.push(b'0' + version);
            (key, content)
        })
        .collect()
}

/// The published outputs of `fair index --actions`: deepfolders, download
/// indexes and copied trees, by path.
fn outputs(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    ["deepfolders", "download_indices", "collections"]
        .into_iter()
        .filter(|dir| root.join(dir).is_dir())
        .flat_map(|dir| {
            crate::helpers::tree(&root.join(dir))
                .into_iter()
                .map(move |(k, v)| (format!("{dir}/{k}"), v))
        })
        .collect()
}

/// SIGKILL of `fair index --actions` at moments spread over a run (its
/// publishing of 500 copies, two deepfolders and a download index included):
/// afterwards `fair verify` reports either nothing or the interrupted
/// publication, and once any writer ran the outputs are all old or all new,
/// the copies agree with their deepfolder, and `fair verify` finds nothing.
#[test]
fn sigkill_of_an_action_run_leaves_all_its_outputs_old_or_all_new() {
    const FILES: usize = 500;
    let f = Fixture::new("blake3", &small_tree(FILES, 1));
    let root_s = path_str(&f.root);
    let actions = f.tmp.path().join("actions.yaml");
    fs::write(
        &actions,
        "collection: c\ncross_device: false\nactions:\n  - action: build_download_index\n    source_file: '(.*)'\n    urls: ['https://mirror.example.org/{0}']\n  - action: copy_collection\n    collection: copied\n    source_file: 'd(..)/(f.*)'\n    target_file: 'x{0}/{1}'\n  - action: deepfolder\n  - action: deepfolder\n    source_collection: copied\n",
    )
    .expect("actions");
    let args = [
        "index",
        root_s,
        "--source",
        path_str(&f.source),
        "--actions",
        path_str(&actions),
    ];
    let run = |version: u8| {
        write_tree(&f.source, &small_tree(FILES, version));
        fair_ok(&args, 0);
        outputs(&f.root)
    };
    let old = run(1);
    let started = std::time::Instant::now();
    let new = run(2);
    let took = started.elapsed();
    assert_ne!(old, new);
    assert_eq!(run(1), old);

    let (mut interrupted, mut pending) = (0, 0);
    for step in 0..6u32 {
        write_tree(&f.source, &small_tree(FILES, 2));
        let mut child = fair_cmd()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        sleep(took * step / 5);
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let verify = fair(&["verify", root_s, "--no-buffers"]);
        if f.root.join(".fair/journal.json").exists() {
            pending += 1;
            assert_eq!(verify.status.code(), Some(2), "{}", describe(&verify));
            let said = String::from_utf8_lossy(&verify.stdout);
            assert!(
                said.contains("journal.json") && said.contains("killed while it published"),
                "{said}"
            );
            fair_ok(&["reindex", root_s], 0);
            assert!(!f.root.join(".fair/journal.json").exists());
        }
        let now = outputs(&f.root);
        assert!(
            now == old || now == new,
            "a mix of old and new outputs after a kill at step {step}"
        );
        fair_ok(&["verify", root_s, "--no-buffers"], 0);
        if now == old {
            interrupted += u32::from(!status.success());
        } else {
            assert_eq!(run(1), old);
        }
    }
    eprintln!("{interrupted} runs interrupted, {pending} while publishing");
    assert!(
        interrupted >= 1,
        "no kill landed during a run: the test proved nothing"
    );
}

/// A copy that no longer agrees with its deepfolder (changed, missing, or one
/// too many) is a problem for `fair verify`.
#[test]
fn verify_checks_copies_against_their_deepfolder() {
    let f = Fixture::new("blake3", &small_tree(20, 1));
    let actions = f.tmp.path().join("actions.yaml");
    fs::write(
        &actions,
        "collection: c\ncross_device: false\nactions:\n  - action: copy_collection\n    collection: copied\n    source_file: 'd(..)/(f.*)'\n    target_file: 'x{0}/{1}'\n  - action: deepfolder\n    source_collection: copied\n",
    )
    .expect("actions");
    let root_s = path_str(&f.root);
    fair_ok(
        &[
            "index",
            root_s,
            "--source",
            path_str(&f.source),
            "--actions",
            path_str(&actions),
        ],
        0,
    );
    fair_ok(&["verify", root_s], 0);
    let copies = f.root.join("collections/copied");
    let first = crate::helpers::tree(&copies)
        .into_keys()
        .next()
        .expect("a copy");
    fs::write(copies.join(&first), b"changed\n").expect("change");
    fs::write(copies.join("x00/extra.txt"), b"extra\n").expect("extra");
    let out = fair(&["verify", root_s, "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&first) && said.contains("content hashes to"),
        "{said}"
    );
    assert!(
        said.contains("extra.txt") && said.contains("not in"),
        "{said}"
    );
}
