//! `GET /buffers/{checksum}` and `--base-url`: the server's own copies, fetched by
//! aria2c (Metalink, hashes verified) and wget, and read by byte range.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{describe, fair_ok, init, path_str, small_files, write_tree};
use crate::http::Served;

/// A sha256 catalogue whose dataset `files` (version 1) holds `n` interned files,
/// served with its own address as base URL.
fn served(dir: &Path, n: usize) -> (Served, BTreeMap<String, Vec<u8>>, String) {
    let root = init(dir, "sha256");
    let source = dir.join("source");
    let files = small_files(n);
    write_tree(&source, &files);
    fair_ok(
        &[
            "index",
            path_str(&root),
            "--source",
            path_str(&source),
            "--collection",
            "files",
            "--intern",
            "copy",
        ],
        0,
    );
    let out = fair_ok(
        &[
            "snapshot",
            path_str(&root),
            "files",
            "files",
            "--version",
            "1",
            "--json",
        ],
        0,
    );
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let checksum = record["checksum"].as_str().expect("checksum").to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}/");
    let served = Served::spawn(
        &[
            "serve",
            path_str(&root),
            "--listen",
            &listen,
            "--base-url",
            &base,
        ],
        Stdio::null(),
    );
    (served, files.into_iter().collect(), checksum)
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                files.insert(
                    path_str(rel).to_string(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    files
}

#[test]
fn aria2c_fetches_a_whole_distribution_with_the_metalink_manifest_and_checks_every_hash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum) = served(tmp.path(), 1000);
    let metalink = served.get(&format!("/machine/manifest/{checksum}?format=metalink"));
    assert_eq!(metalink.status, 200, "{}", metalink.text());
    assert_eq!(
        metalink.header("content-type"),
        Some("application/metalink4+xml")
    );
    let text = metalink.text();
    assert_eq!(text.matches("<hash type=\"sha-256\">").count(), 1000);
    let manifest = tmp.path().join("files.meta4");
    std::fs::write(&manifest, &text).expect("write");
    let out_dir = tmp.path().join("aria2");
    let out = Command::new("aria2c")
        .args(["--quiet=true", "--max-concurrent-downloads=16", "--dir"])
        .arg(&out_dir)
        .arg("--metalink-file")
        .arg(&manifest)
        .output()
        .expect("aria2c runs (apt-get install aria2)");
    assert!(out.status.success(), "aria2c\n{}", describe(&out));
    assert_eq!(
        tree(&out_dir),
        files,
        "aria2c fetched every file, byte for byte"
    );

    // aria2c does check: a manifest with one wrong hash fails.
    let first = text
        .split("<hash type=\"sha-256\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("a hash")
        .to_string();
    let wrong = text.replacen(&first, &"0".repeat(64), 1);
    std::fs::write(&manifest, wrong).expect("write");
    let out = Command::new("aria2c")
        .args(["--quiet=true", "--dir"])
        .arg(tmp.path().join("aria2-wrong"))
        .arg("--metalink-file")
        .arg(&manifest)
        .output()
        .expect("aria2c runs");
    assert!(!out.status.success(), "aria2c accepted a wrong hash");
}

#[test]
fn wget_fetches_the_same_bytes_from_the_urls_manifest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum) = served(tmp.path(), 200);
    let urls = served.get(&format!("/machine/manifest/{checksum}?format=urls"));
    assert_eq!(urls.status, 200);
    let list = tmp.path().join("urls.txt");
    std::fs::write(&list, urls.text()).expect("write");
    let out_dir = tmp.path().join("wget");
    let out = Command::new("wget")
        .args(["--quiet", "--input-file"])
        .arg(&list)
        .arg("--directory-prefix")
        .arg(&out_dir)
        .output()
        .expect("wget runs");
    assert!(out.status.success(), "wget\n{}", describe(&out));
    // The server's URLs name the elements: the same bytes, by checksum.
    let fetched: Vec<Vec<u8>> = tree(&out_dir).into_values().collect();
    let mut fetched_sorted = fetched.clone();
    fetched_sorted.sort();
    let mut want: Vec<Vec<u8>> = files.into_values().collect();
    want.sort();
    assert_eq!(fetched_sorted, want);
}

#[test]
fn buffers_are_immutable_ranged_and_digested() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, _) = served(tmp.path(), 3);
    let (_, content) = files.iter().next().expect("a file");
    let hex = {
        use std::io::Write;
        let mut child = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sha256sum");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(content)
            .expect("write");
        let out = child.wait_with_output().expect("sha256sum");
        String::from_utf8_lossy(&out.stdout)[..64].to_string()
    };
    let target = format!("/buffers/{hex}");
    let whole = served.get(&target);
    assert_eq!(whole.status, 200);
    assert_eq!(&whole.body, content);
    assert_eq!(whole.header("etag"), Some(format!("\"{hex}\"").as_str()));
    assert_eq!(
        whole.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let digest = whole.header("repr-digest").expect("Repr-Digest");
    assert!(
        digest.starts_with("sha-256=:") && digest.ends_with(":"),
        "{digest}"
    );

    let part = served.request("GET", &target, &[("Range", "bytes=2-4")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, content[2..5]);
    let size = content.len();
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 2-4/{size}").as_str())
    );
    let tail = served.request("GET", &target, &[("Range", "bytes=-3")]);
    assert_eq!(tail.body, content[size - 3..]);
    let beyond = served.request("GET", &target, &[("Range", &format!("bytes={size}-"))]);
    assert_eq!(beyond.status, 416);
    let etag = format!("\"{hex}\"");
    let cached = served.request("GET", &target, &[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());

    // /machine/access offers the server's own copy.
    let access = served.get(&format!("/machine/access/{hex}"));
    assert_eq!(access.status, 200);
    assert!(
        access.text().contains(&format!("/buffers/{hex}")),
        "{}",
        access.text()
    );

    for (target, status) in [
        (format!("/buffers/{}", "0".repeat(64)), 404),
        ("/buffers/..%2Ffair.toml".to_string(), 404),
        (format!("/buffers/{}", hex.to_uppercase()), 404),
    ] {
        assert_eq!(served.get(&target).status, status, "{target}");
    }
}
