//! `GET /buffers/{checksum}`, `GET /files/{checksum}/{key}`, `--serve-source` and
//! `--base-url`, and the keyorders: the server's own copies and the indexed source files, fetched by
//! aria2c (Metalink, hashes verified) and wget (keys' directories recreated), and
//! read by byte range.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{
    backdate, describe, digest_by, fair_ok, init, init_with, path_str, small_files, tree,
    write_tree,
};
use crate::http::{self, Answers, Served};
use crate::inproc::{self, InProc};

/// Where the server takes the files' bytes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// A sha256 catalogue with every file interned into `buffers/`.
    Buffers,
    /// A blake3 catalogue with an extra SHA-256, nothing interned, served with
    /// `--serve-source`.
    Source,
}

/// A server, or a catalogue's root; the files of its distribution, the
/// distribution's checksum, and the source directory.
type With<S> = (S, BTreeMap<String, Vec<u8>>, String, PathBuf);

/// A catalogue whose dataset `files` (version 1) holds `n` files, served in this
/// process with its own address as base URL; returns the server, the files, the
/// distribution's checksum and the source directory.
fn served(dir: &Path, n: usize, from: Origin) -> With<InProc> {
    served_with(dir, n, from, &|_| {})
}

/// [`served`], with `prepare` called on the source directory before it is
/// indexed.
fn served_with(dir: &Path, n: usize, from: Origin, prepare: &dyn Fn(&Path)) -> With<InProc> {
    let (root, files, checksum, source) = catalogue(dir, n, from, prepare);
    let options = fairserver::Options {
        base_url: Some(format!("http://{}/", inproc::ADDR)),
        serve_source: from == Origin::Source,
        ..inproc::options(&root)
    };
    (InProc::open(&options), files, checksum, source)
}

/// [`served`] by `fair serve` on a free port, for the downloaders.
fn served_over_tcp(dir: &Path, n: usize, from: Origin) -> With<Served> {
    let (root, files, checksum, source) = catalogue(dir, n, from, &|_| {});
    let served = Served::with_base_url(&root, from == Origin::Source);
    (served, files, checksum, source)
}

/// A catalogue whose dataset `files` (version 1) holds `n` files (`prepare` is
/// called on the source directory before it is indexed); returns its root, the
/// files, the distribution's checksum and the source directory.
fn catalogue(dir: &Path, n: usize, from: Origin, prepare: &dyn Fn(&Path)) -> With<PathBuf> {
    let root = match from {
        Origin::Buffers => init(dir, "sha256"),
        Origin::Source => init_with(dir, &["--extra-digest", "sha256"]),
    };
    let source = dir.join("source");
    let files = small_files(n);
    write_tree(&source, &files);
    prepare(&source);
    let mut index = vec![
        "index",
        path_str(&root),
        "--source",
        path_str(&source),
        "--collection",
        "files",
    ];
    if from == Origin::Buffers {
        index.extend(["--intern", "copy"]);
    }
    fair_ok(&index, 0);
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
    (root, files.into_iter().collect(), checksum, source)
}

#[test]
fn aria2c_fetches_a_whole_distribution_from_the_source_tree_with_the_metalink_manifest_and_checks_every_hash()
 {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum, _) = served_over_tcp(tmp.path(), 1000, Origin::Source);
    let metalink = served.get(&format!("/machine/manifest/{checksum}?format=metalink"));
    assert_eq!(metalink.status, 200, "{}", metalink.text());
    assert_eq!(
        metalink.header("content-type"),
        Some("application/metalink4+xml")
    );
    let text = metalink.text();
    assert_eq!(text.matches("<hash type=\"sha-256\">").count(), 1000);
    assert_eq!(
        text.matches("/files/").count(),
        1000,
        "served from the source"
    );
    assert!(!text.contains("/buffers/"), "nothing interned");
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
fn downloads_one_after_another_on_one_keep_alive_connection_each_complete() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum, _) = served_over_tcp(tmp.path(), 20, Origin::Source);
    let list = served.get(&format!("/machine/manifest/{checksum}?format=wget"));
    let targets: Vec<String> = list
        .text()
        .lines()
        .map(|url| url[url.find("/files/").expect("a /files/ URL")..].to_string())
        .chain(["/health".to_string()])
        .collect();
    assert_eq!(targets.len(), 21);
    let answers = http::one_after_another(&served.addr, &targets);
    for (target, answer) in targets.iter().zip(&answers) {
        assert_eq!(answer.status, 200, "{target}");
        if let Some(key) = target.splitn(4, '/').nth(3) {
            assert_eq!(Some(&answer.body), files.get(key), "{target}");
        }
    }
}

#[test]
fn wget_recreates_the_keys_from_the_wget_manifest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum, _) = served_over_tcp(tmp.path(), 1000, Origin::Source);
    let list = served.get(&format!("/machine/manifest/{checksum}?format=wget"));
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.text().lines().count(), 1000);
    let file = tmp.path().join("wget.txt");
    std::fs::write(&file, list.text()).expect("write");
    let out_dir = tmp.path().join("wget");
    // The command of `fair manifest --help` for a base URL without a path.
    let out = Command::new("wget")
        .args(["--quiet", "-x", "-nH", "--cut-dirs=2", "-i"])
        .arg(&file)
        .arg("--directory-prefix")
        .arg(&out_dir)
        .output()
        .expect("wget runs (apt-get install wget)");
    assert!(out.status.success(), "wget\n{}", describe(&out));
    assert_eq!(
        tree(&out_dir),
        files,
        "wget fetched every key, byte for byte"
    );
}

#[test]
fn a_source_file_changed_since_it_was_indexed_is_not_served() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum, source) = served(tmp.path(), 3, Origin::Source);
    let list = served.get(&format!("/machine/manifest/{checksum}?format=wget"));
    let url = list.text().lines().next().expect("a URL").to_string();
    let target = &url[url.find("/files/").expect("a /files/ URL")..];
    let key = target.splitn(4, '/').nth(3).expect("a key").to_string();
    let whole = served.get(target);
    assert_eq!(whole.status, 200);
    assert_eq!(Some(&whole.body), files.get(&key));
    // /machine/access offers the source file too (no access index, no buffer).
    let element = target.split('/').nth(2).expect("an element");
    let access = served.get(&format!("/machine/access/{element}"));
    assert_eq!(access.status, 200, "{}", access.text());
    assert!(access.text().contains(target), "{}", access.text());
    let digest = whole
        .header("repr-digest")
        .expect("Repr-Digest from the extra SHA-256");
    assert!(digest.starts_with("sha-256=:"), "{digest}");
    assert_eq!(
        served
            .request("GET", target, &[("Range", "bytes=1-2")])
            .body,
        files[&key][1..3]
    );

    // Same size, new mtime: refused, and said in the log.
    let path = source.join(&key);
    let mut changed = files[&key].clone();
    changed[0] ^= 1;
    std::fs::write(&path, &changed).expect("rewrite");
    let refused = served.get(target);
    assert_eq!(refused.status, 404, "{}", refused.text());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = served.log();
    assert!(
        log.contains("WARN") && log.contains(&key) && log.contains("changed since it was indexed"),
        "{log}"
    );
}

#[test]
fn a_symbolic_link_is_listed_and_served_only_if_it_resolves_inside_its_source_tree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "not part of the source tree\n").expect("write");
    backdate(&secret);
    let link = |source: &Path| {
        std::os::unix::fs::symlink(&secret, source.join("outside.txt")).expect("symlink");
        std::os::unix::fs::symlink("d00/f00000.txt", source.join("inside.txt")).expect("symlink");
    };
    let (served, files, checksum, _) = served_with(tmp.path(), 3, Origin::Source, &link);
    let list = served.get(&format!("/machine/manifest/{checksum}?format=wget"));
    let target = |key: &str| {
        let url = list
            .text()
            .lines()
            .find(|url| url.ends_with(&format!("/{key}")))
            .unwrap_or_else(|| panic!("{key} in {}", list.text()))
            .to_string();
        url[url.find("/files/").expect("a /files/ URL")..].to_string()
    };

    let inside = served.get(&target("inside.txt"));
    assert_eq!(inside.status, 200, "{}", inside.text());
    assert_eq!(inside.body, files["d00/f00000.txt"]);

    // Not listed (the server would refuse it), and refused when asked all the same.
    assert!(!list.text().contains("outside.txt"), "{}", list.text());
    let element = target("inside.txt")
        .split('/')
        .nth(2)
        .expect("element")
        .to_string();
    let secret_element = digest_by("b3sum", b"not part of the source tree\n");
    assert_ne!(element, secret_element);
    let outside = served.get(&format!("/files/{secret_element}/outside.txt"));
    assert_eq!(outside.status, 404, "{}", outside.text());
    assert!(
        !outside.text().contains("not part of"),
        "{}",
        outside.text()
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = served.log();
    assert!(
        log.contains("WARN")
            && log.contains("outside.txt")
            && log.contains("resolves outside the source tree"),
        "{log}"
    );
}

/// A sha256 catalogue of three files interned into `buffers/`, served in this
/// process; the server, a file's key, content and checksum.
fn served_buffers(dir: &Path) -> (InProc, String, Vec<u8>, String) {
    let (served, files, _, _) = served(dir, 3, Origin::Buffers);
    let (key, content) = files.into_iter().next().expect("a file");
    let hex = digest_by("sha256sum", &content);
    (served, key, content, hex)
}

#[test]
fn buffers_are_immutable_ranged_and_digested() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, _, content, hex) = served_buffers(tmp.path());
    let content = &content;
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
}

/// A catalogue of three files served in this process; the server, the
/// distribution's keyorder checksum and the keyorder file's bytes.
fn served_keyorder(dir: &Path) -> (InProc, String, Vec<u8>) {
    let (served, _, _, _) = served(dir, 3, Origin::Buffers);
    let record = served.get("/machine/find_distribution?dataset=files");
    let record: serde_json::Value = serde_json::from_slice(&record.body).expect("JSON");
    let keyorder = record["keyorder"].as_str().expect("a keyorder").to_string();
    let file = dir.join("catalogue/keyorder").join(&keyorder);
    let stored = std::fs::read(file).expect("the keyorder file");
    (served, keyorder, stored)
}

#[test]
fn keyorders_are_immutable_and_revalidated_by_their_etag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, keyorder, stored) = served_keyorder(tmp.path());
    let target = format!("/machine/keyorder/{keyorder}");
    let whole = served.get(&target);
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert_eq!(whole.body, stored);
    assert_eq!(
        whole.header("content-type"),
        Some("application/octet-stream")
    );
    let etag = format!("\"{keyorder}\"");
    assert_eq!(whole.header("etag"), Some(etag.as_str()));
    assert_eq!(
        whole.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let cached = served.request("GET", &target, &[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let upper = format!("/machine/keyorder/{}", keyorder.to_uppercase());
    assert_eq!(served.get(&upper).status, 400, "{upper}");
}

#[test]
fn access_offers_the_server_s_own_copy_of_a_buffer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, _, _, hex) = served_buffers(tmp.path());
    let access = served.get(&format!("/machine/access/{hex}"));
    assert_eq!(access.status, 200);
    assert!(
        access.text().contains(&format!("/buffers/{hex}")),
        "{}",
        access.text()
    );
}

#[test]
fn files_give_a_buffer_under_a_key_s_name_and_refuse_malformed_targets() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, key, content, hex) = served_buffers(tmp.path());
    let named = served.get(&format!("/files/{hex}/{key}"));
    assert_eq!((named.status, &named.body), (200, &content));
    for (target, status) in [
        (format!("/buffers/{}", "0".repeat(64)), 404),
        ("/buffers/..%2Ffair.toml".to_string(), 400),
        (format!("/buffers/{}", hex.to_uppercase()), 400),
        (format!("/files/{}/{key}", "0".repeat(64)), 404),
        (format!("/files/{hex}/../fair.toml"), 400),
        (format!("/files/{hex}/a//b"), 400),
        (format!("/files/x/{key}"), 400),
    ] {
        assert_eq!(served.get(&target).status, status, "{target}");
    }
}

/// Asks `target` (an element of `content`) for bytes 1-3 under each kind of
/// `If-Range`: only its own strong ETag gets the range, anything else the whole.
fn assert_if_range(served: &InProc, target: &str, etag: &str, content: &[u8]) {
    let ranged = |if_range: &str| {
        served.request(
            "GET",
            target,
            &[("Range", "bytes=1-3"), ("If-Range", if_range)],
        )
    };
    let part = ranged(etag);
    assert_eq!(
        (part.status, &part.body[..]),
        (206, &content[1..4]),
        "{target}"
    );
    let weak = format!("W/{etag}");
    let other = format!("\"{}\"", "0".repeat(64));
    for if_range in [
        weak.as_str(),
        &other,
        "Sat, 29 Oct 1994 19:43:31 GMT",
        "Fri, 04 Dec 2099 00:00:00 GMT",
        "no validator",
    ] {
        let whole = ranged(if_range);
        assert_eq!(whole.status, 200, "{target} If-Range: {if_range}");
        assert_eq!(whole.body, content, "{target} If-Range: {if_range}");
        assert_eq!(whole.header("content-range"), None);
    }
}

#[test]
fn a_range_under_an_if_range_that_is_not_the_strong_etag_gets_the_whole_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (buffers, key, content, hex) = served_buffers(tmp.path());
    let etag = format!("\"{hex}\"");
    assert_if_range(&buffers, &format!("/buffers/{hex}"), &etag, &content);
    assert_if_range(&buffers, &format!("/files/{hex}/{key}"), &etag, &content);

    // A file served from its source tree (read from disk, not kept).
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, files, checksum, _) = served(tmp.path(), 3, Origin::Source);
    let list = served.get(&format!("/machine/manifest/{checksum}?format=wget"));
    let url = list.text().lines().next().expect("a URL").to_string();
    let target = &url[url.find("/files/").expect("a /files/ URL")..];
    let key = target.splitn(4, '/').nth(3).expect("a key");
    let element = target.split('/').nth(2).expect("an element");
    assert_if_range(&served, target, &format!("\"{element}\""), &files[key]);
}

#[test]
fn each_content_coding_of_a_keyorder_has_its_own_strong_etag_and_revalidates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (served, keyorder, stored) = served_keyorder(tmp.path());
    let target = format!("/machine/keyorder/{keyorder}");
    let mut etags = Vec::new();
    for (accept, coding) in [
        ("", None),
        ("identity", None),
        ("gzip", Some("gzip")),
        ("deflate", Some("deflate")),
        ("gzip;q=0.5, deflate", Some("deflate")),
        ("br", None),
        ("br, gzip;q=0.1", Some("gzip")),
    ] {
        let got = served.request("GET", &target, &[("Accept-Encoding", accept)]);
        assert_eq!(got.status, 200, "{accept}");
        assert_eq!(got.header("content-encoding"), coding, "{accept}");
        assert_eq!(got.header("vary"), Some("Accept-Encoding"), "{accept}");
        let etag = match coding {
            None => format!("\"{keyorder}\""),
            Some(coding) => format!("\"{keyorder}-{coding}\""),
        };
        assert_eq!(got.header("etag"), Some(etag.as_str()), "{accept}");
        assert_eq!(decoded(coding, &got.body), stored, "{accept}");
        // Revalidated by its own tag, not by another coding's.
        let asked = [("Accept-Encoding", accept), ("If-None-Match", &etag)];
        let cached = served.request("GET", &target, &asked);
        assert_eq!(cached.status, 304, "{accept}");
        assert_eq!(cached.header("etag"), Some(etag.as_str()), "{accept}");
        assert_eq!(cached.header("vary"), Some("Accept-Encoding"), "{accept}");
        assert!(cached.body.is_empty());
        etags.push(etag);
    }
    etags.sort();
    etags.dedup();
    assert_eq!(etags.len(), 3, "{etags:?}");
    for (accept, other) in [("gzip", &etags[0]), ("identity", &etags[1])] {
        let asked = [
            ("Accept-Encoding", accept),
            ("If-None-Match", other.as_str()),
        ];
        let got = served.request("GET", &target, &asked);
        assert_eq!(got.status, 200, "{accept} with {other}");
    }
    let refused = served.request("GET", &target, &[("Accept-Encoding", "identity;q=0")]);
    assert_eq!(refused.status, 406, "{}", refused.text());
}

/// `body` with the content coding `coding` undone.
fn decoded(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        Some("gzip") => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        Some("deflate") => flate2::read::ZlibDecoder::new(body).read_to_end(&mut out),
        _ => return body.to_vec(),
    }
    .expect("decodes");
    out
}
