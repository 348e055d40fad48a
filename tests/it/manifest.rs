//! `fair manifest` and `/machine/manifest`: bulk download manifests, checked by
//! the tools that read them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::helpers::{
    describe, fair, fair_ok, index_and_snapshot, init_with, path_str, small_files, write_tree,
};
use crate::http::Answers;
use crate::inproc::InProc;

/// Every source file gets two mirrors, one exact and one gzipped.
const ACTIONS: &str = "\
collection: files
cross_device: false
actions:
  - action: build_download_index
    source_file: '(.*)'
    urls:
      - 'https://mirror.example.org/files/{0}'
      - url: 'https://gz.example.org/files/{0}.gz'
        compression: gzip
  - action: deepfolder
";

/// A catalogue made by `fair init` with `init_args` holding `files` as version 1
/// of the dataset `files`, and the changed tree as version 2; returns
/// (catalogue, source).
fn catalogue(dir: &Path, init_args: &[&str]) -> (PathBuf, PathBuf) {
    let root = init_with(dir, init_args);
    let source = dir.join("source");
    let mut files = small_files(60);
    files.push(("with space/ünïcode ß.txt".into(), b"odd name\n".to_vec()));
    write_tree(&source, &files);
    let actions = dir.join("actions.yaml");
    std::fs::write(&actions, ACTIONS).expect("actions");
    // Indexes the tree and snapshots it as `version`.
    let release = |version: &str| {
        fair_ok(
            &[
                "index",
                path_str(&root),
                "--source",
                path_str(&source),
                "--actions",
                path_str(&actions),
            ],
            0,
        );
        fair_ok(
            &[
                "snapshot",
                path_str(&root),
                "files",
                "files",
                "--version",
                version,
            ],
            0,
        );
    };
    release("1");
    // Version 2: three files changed, two removed, two added.
    for (i, (path, _)) in files.iter().enumerate().take(3) {
        std::fs::write(source.join(path), format!("changed {i}\n")).expect("change");
    }
    for (path, _) in &files[3..5] {
        std::fs::remove_file(source.join(path)).expect("remove");
    }
    write_tree(
        &source,
        &[
            ("new/a.txt".into(), b"a\n".to_vec()),
            ("new/b.txt".into(), b"b\n".to_vec()),
        ],
    );
    release("2");
    (root, source)
}

fn manifest(root: &Path, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["manifest", path_str(root)];
    all.extend_from_slice(args);
    fair_ok(&all, 0).stdout
}

/// Runs `tool -c` on `check` in `dir`; asserts it succeeded and returns its output.
fn check(tool: &str, dir: &Path, check: &[u8]) -> String {
    let file = dir.join(format!(".{tool}-check"));
    std::fs::write(&file, check).expect("check file");
    let out = Command::new(tool)
        .arg("-c")
        .arg(&file)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .output()
        .expect("the tool runs");
    std::fs::remove_file(&file).expect("remove");
    assert!(out.status.success(), "{tool} -c\n{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn b3sum_and_sha256sum_check_the_source_tree_with_our_manifests() {
    for (hash, format, tool) in [
        ("blake3", "b3sum", "b3sum"),
        ("sha256", "sha256sum", "sha256sum"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (root, source) = catalogue(tmp.path(), &["--hash", hash]);
        let list = manifest(&root, &["files@2", "--format", format]);
        let verdicts = check(tool, &source, &list);
        let ok = verdicts.lines().filter(|l| l.ends_with(": OK")).count();
        assert_eq!(ok, 61 - 2 + 2, "{hash}: every file checked\n{verdicts}");
        assert!(
            verdicts.contains("with space/ünïcode ß.txt: OK"),
            "{verdicts}"
        );

        // Version 1's manifest no longer matches the changed files.
        let old = manifest(&root, &["files@1", "--format", format]);
        std::fs::write(source.join(".old"), &old).expect("write");
        let out = Command::new(tool)
            .args(["-c", ".old"])
            .current_dir(&source)
            .output()
            .expect("runs");
        assert!(
            !out.status.success(),
            "{tool} notices the changed and removed files"
        );

        // A check file of another algorithm is refused.
        let other = if format == "b3sum" {
            "sha256sum"
        } else {
            "b3sum"
        };
        let out = fair(&["manifest", path_str(&root), "files@2", "--format", other]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("use {format}")));
    }
}

#[test]
fn with_an_extra_sha256_a_blake3_catalogue_gives_sha256sum_check_files_and_aria2_checksums() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = ["--hash", "blake3", "--extra-digest", "sha256,md5"];
    // Version 2 reuses the cached checksums of unchanged files: their extra
    // digests come from the database, not from a new read.
    let (root, source) = catalogue(tmp.path(), &args);
    let toml = std::fs::read_to_string(root.join("fair.toml")).expect("fair.toml");
    assert!(
        toml.contains(r#"extra_digests = ["sha256", "md5"]"#),
        "{toml}"
    );
    let list = manifest(&root, &["files@2", "--format", "sha256sum"]);
    let verdicts = check("sha256sum", &source, &list);
    let ok = verdicts.lines().filter(|l| l.ends_with(": OK")).count();
    assert_eq!(ok, 61, "every file checked with its SHA-256\n{verdicts}");
    let aria2 =
        String::from_utf8(manifest(&root, &["files@2", "--format", "aria2"])).expect("UTF-8");
    assert_eq!(aria2.matches("  checksum=sha-256=").count(), 61, "{aria2}");
    let metalink =
        String::from_utf8(manifest(&root, &["files@2", "--format", "metalink"])).expect("UTF-8");
    for kind in ["blake3", "sha-256", "md5"] {
        let tag = format!("<hash type=\"{kind}\">");
        assert_eq!(metalink.matches(&tag).count(), 61, "{kind}\n{metalink}");
    }
    // Without the extra digest, sha256sum is refused in a blake3 catalogue.
    let plain = tempfile::tempdir().expect("tempdir");
    let (root, _) = catalogue(plain.path(), &["--hash", "blake3"]);
    let args = [
        "manifest",
        path_str(&root),
        "files@2",
        "--format",
        "sha256sum",
    ];
    refused(&args, "--extra-digest");
}

/// Runs `fair` with `args`, expecting exit code 1 and `reason` on stderr.
fn refused(args: &[&str], reason: &str) {
    let out = fair(args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(reason), "{args:?}: {stderr}");
}

#[test]
fn the_wget_format_names_each_key_under_the_server_s_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = ["--base-url", "http://example.org/fair/"];
    let (root, _) = catalogue(tmp.path(), &args);
    let wget = ["manifest", path_str(&root), "files@2", "--format", "wget"];
    // Nothing interned: without --serve-source the server has none of them.
    let out = fair_ok(&wget, 0);
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("61 keys left out"), "{stderr}");
    assert!(
        stderr.contains("(fair index --intern copy) or serve the source trees (fair serve --serve-source) and pass --serve-source"),
        "{stderr}"
    );
    let out = fair_ok(&[&wget[..], &["--serve-source"]].concat(), 0);
    let list = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(list.lines().count(), 61, "{list}");
    assert!(
        list.lines()
            .all(|l| l.starts_with("http://example.org/fair/files/")),
        "{list}"
    );
    assert!(
        list.contains("/with%20space/%C3%BCn%C3%AFcode%20%C3%9F.txt\n"),
        "{list}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wget -x -nH --cut-dirs=3 --restrict-file-names=nocontrol -i"),
        "{stderr}"
    );

    let plain = tempfile::tempdir().expect("tempdir");
    let (root, _) = catalogue(plain.path(), &["--hash", "blake3"]);
    let args = ["manifest", path_str(&root), "files@2", "--format", "wget"];
    refused(
        &args,
        "set its public URL as base_url = \"http://HOST:PORT/\" in the catalogue's fair.toml (fair init --base-url sets it only for a new catalogue), then either intern the files into buffers/ (fair index --intern copy) or serve",
    );
}

#[test]
fn a_catalogue_as_fair_init_makes_it_is_told_how_to_get_urls_and_checked_hashes() {
    // No download index, no base URL: the URL formats say what to set, where.
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init_with(tmp.path(), &[]);
    let source = tmp.path().join("source");
    write_tree(&source, &small_files(3));
    index_and_snapshot(&root, &source, "1");
    for format in ["urls", "aria2", "metalink", "bagit"] {
        let args = ["manifest", path_str(&root), "files@1", "--format", format];
        refused(
            &args,
            "base_url = \"http://HOST:PORT/\" in the catalogue's fair.toml",
        );
    }
    // Once fair.toml has a base URL, the files served from the source are listed.
    let toml = root.join("fair.toml");
    let text = std::fs::read_to_string(&toml).expect("fair.toml");
    std::fs::write(&toml, format!("{text}base_url = \"http://127.0.0.1:9/\"\n")).expect("write");
    let args = ["manifest", path_str(&root), "files@1", "--format", "urls"];
    let out = fair_ok(&[&args[..], &["--serve-source"]].concat(), 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);

    // A blake3 Metalink gives aria2c no hash it checks: said on stderr, unless
    // SHA-256 is recorded too.
    for (name, init, note) in [("plain", "blake3", true), ("extra", "sha256", false)] {
        let flag = if note { "--hash" } else { "--extra-digest" };
        let (root, _) = catalogue(&tmp.path().join(name), &[flag, init]);
        let args = ["manifest", path_str(&root), "files@2", "--format"];
        let out = fair_ok(&[&args[..], &["metalink"]].concat(), 0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = "aria2c checks none of these downloads: it knows no blake3 hash";
        assert_eq!(stderr.contains(said), note, "{name}: {stderr}");
        assert_eq!(
            stderr.contains("extra_digests = [\"sha256\"] in fair.toml"),
            note
        );
    }
}

#[test]
fn bad_extra_digests_are_refused_naming_the_accepted_ones() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("catalogue");
    let init = ["init", path_str(&root), "--extra-digest"];
    refused(
        &[&init[..], &["sha256,sha1"]].concat(),
        "expected one of sha256, md5",
    );
    refused(&[&init[..], &["sha1"]].concat(), "\"sha1\"");
    assert!(!root.join("fair.toml").exists(), "nothing initialised");
    let same = [&init[..], &["sha256", "--hash", "sha256"]].concat();
    refused(&same, "catalogue hash is sha256 already");
}

#[test]
fn since_gives_exactly_the_added_and_changed_keys_of_fair_diff() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (root, _) = catalogue(tmp.path(), &["--hash", "blake3"]);
    let diff = fair_ok(
        &["diff", path_str(&root), "files@1", "files@2", "--json"],
        0,
    );
    let mut want: Vec<String> = String::from_utf8_lossy(&diff.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|c| c["change"] != "removed")
        .map(|c| c["key"].as_str().expect("key").to_string())
        .collect();
    want.sort();
    assert_eq!(want.len(), 5, "3 changed, 2 added");
    let listed = manifest(
        &root,
        &["files@2", "--format", "rsync", "--since", "files@1"],
    );
    let listed: Vec<String> = String::from_utf8_lossy(&listed)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(listed, want);
}

#[test]
fn the_server_streams_the_same_manifests_as_the_command() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (root, _) = catalogue(tmp.path(), &["--hash", "sha256"]);
    let find = |version: &str| {
        let out = fair_ok(
            &[
                "find",
                path_str(&root),
                "files",
                "--version",
                version,
                "--checksum",
            ],
            0,
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (v1, v2) = (find("1"), find("2"));
    let served = InProc::start(&root);
    for format in ["urls", "aria2", "metalink", "sha256sum", "rsync", "bagit"] {
        let want = manifest(&root, &[&v2, "--format", format]);
        let got = served.get(&format!("/machine/manifest/{v2}?format={format}"));
        assert_eq!(got.status, 200, "{format}: {}", got.text());
        assert_eq!(got.text(), String::from_utf8_lossy(&want), "{format}");
        let want = manifest(&root, &[&v2, "--format", format, "--since", &v1]);
        let got = served.get(&format!(
            "/machine/manifest/{v2}?format={format}&since={v1}"
        ));
        assert_eq!(
            got.text(),
            String::from_utf8_lossy(&want),
            "{format} --since"
        );
    }
    // Only exact mirrors: never the gzipped one; aria2 gets the sha-256.
    let aria2 = served
        .get(&format!("/machine/manifest/{v2}?format=aria2"))
        .text();
    assert!(!aria2.contains("gz.example.org"), "{aria2}");
    assert!(aria2.contains("  checksum=sha-256="), "{aria2}");
    assert_eq!(
        served.get(&format!("/machine/manifest/{v2}")).text(),
        String::from_utf8_lossy(&manifest(&root, &[&v2, "--format", "urls"])),
        "urls by default"
    );
    for (target, status) in [
        (format!("/machine/manifest/{v2}?format=zip"), 400),
        (format!("/machine/manifest/{v2}?format=b3sum"), 400),
        (format!("/machine/manifest/{v2}?since=abc"), 400),
        (format!("/machine/manifest/{}", "0".repeat(64)), 404),
        ("/machine/manifest/..%2Ffair.toml".to_string(), 404),
    ] {
        let got = served.get(&target);
        assert_eq!(got.status, status, "{target}: {}", got.text());
    }
}
