//! The inputs a fault campaign broke `fair` with (issue 21), each kept as a test:
//! a catalogue that lost its `fair.toml`, FIFOs among its files, links out of the
//! source tree, bytes changed under a checksum, names that forge report lines.

use std::fs;

use crate::helpers::*;

/// A blake3 catalogue whose `fair.toml` went missing is refused with what to do,
/// not re-read as a sha3-256 Seamless dir whose cache hands back blake3 checksums.
#[test]
fn a_catalogue_that_lost_its_fair_toml_is_refused_not_read_as_sha3() {
    let f = Fixture::new("blake3", &[("a.txt".to_string(), b"a\n".to_vec())]);
    f.index(&[], 0);
    fs::remove_file(f.root.join("fair.toml")).expect("rm fair.toml");
    write_tree(&f.source, &[("b.txt".to_string(), b"b\n".to_vec())]);
    let out = fair(&f.index_args());
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fair.toml: missing") && stderr.contains("hash = \"blake3\""),
        "names the file and the line to restore: {stderr}"
    );
    let verify = fair(&["verify", path_str(&f.root)]);
    assert_eq!(verify.status.code(), Some(1), "{}", describe(&verify));
    // Restored, the catalogue is whole again.
    fs::write(f.root.join("fair.toml"), "format = 1\nhash = \"blake3\"\n").expect("restore");
    let report = f.index(&[], 0);
    assert!(reported(&report, "c").is_some(), "{report}");
    let collection = f.collection();
    assert_eq!(
        collection["b.txt"].as_str(),
        Some(digest_by("b3sum", b"b\n").as_str())
    );
    fair_ok(&["verify", path_str(&f.root)], 0);
}

/// A catalogue with the dataset `d` (one version of the collection `files`), in
/// a temporary directory: (tmp, catalogue, source).
fn catalogue_with_dataset() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &[("a.txt".to_string(), b"a\n".to_vec())]);
    let root = init(tmp.path(), "blake3");
    index_and_snapshot(&root, &source, "1");
    let snapshot = ["snapshot", path_str(&root), "d", "files", "--version", "1"];
    fair_ok(&snapshot, 0);
    (tmp, root, source)
}

/// Control characters in the IRIs of a dataset header (a licence, a creator, a
/// landing page) are skipped and reported in `/health`, never a 500 on the
/// dataset's pages or `/`: every representation, and the `Link` header.
#[test]
fn control_characters_in_header_iris_are_skipped_not_a_500() {
    use crate::http::Answers;
    let (_tmp, root, _source) = catalogue_with_dataset();
    let header = serde_json::json!({
        "title": "D",
        "license": "https://example.org/lic\u{1}ence",
        "creators": [{"name": "A", "url": "https://a.example/\u{7}"}, "https://b.example/\u{0}"],
        "landing_page": "https://x.example/\u{1b}[31m",
        "themes": ["https://t.example/\u{7f}"],
    });
    fs::write(root.join("dataset_header/d.json"), header.to_string()).expect("header");
    let served = crate::inproc::InProc::start(&root);
    let health = served.request("GET", "/health", &[]);
    let text = health.text();
    for field in ["license", "creators[0]", "landing_page", "themes[0]"] {
        assert!(text.contains(field), "/health names {field}: {text}");
    }
    for path in ["/", "/dataset/d", "/dataset/", "/machine/dataset/d"] {
        for format in ["html", "ttl", "jsonld", "rdf", "linkset"] {
            let target = format!("{path}?format={format}");
            let answer = served.request("GET", &target, &[]);
            assert!(
                answer.status < 500,
                "{target}: {} {}",
                answer.status,
                answer.text()
            );
            let all: String = answer.headers.iter().map(|(_, v)| v.as_str()).collect();
            assert!(
                !all.contains(char::is_control),
                "{target}: a control character in a header"
            );
        }
    }
}

/// Runs `fair ARGS`, killed (and the test failed) if it has not ended within 20 s.
fn fair_within(args: &[&str]) -> std::process::Output {
    use std::process::Stdio;
    let mut child = fair_cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fair starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fair {args:?} hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(
        made.expect("mkfifo runs").success(),
        "mkfifo {}",
        path.display()
    );
}

/// `fair serve`, killed when dropped; its start is bounded (20 s).
struct Server(std::process::Child, String);

impl Server {
    fn start(root: &std::path::Path) -> Server {
        use std::io::BufRead;
        let mut child = fair_cmd()
            .args([
                "serve",
                path_str(root),
                "--listen",
                "127.0.0.1:0",
                "--poll-ms",
                "100",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("fair serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.split("on http://").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('/').to_string());
                }
            }
        });
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(addr) => Server(child, addr),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("fair serve {} never listens", root.display());
            }
        }
    }

    fn health(&self) -> serde_json::Value {
        let answer = crate::http::request(&self.1, "GET", "/health", &[]);
        serde_json::from_slice(&answer.body).expect("JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A FIFO as a distributions file, a dataset header, `fair.toml` or the action
/// file is refused at once by every command, named as "not a regular file", and
/// one created while serving is a problem in `/health` that goes with it.
#[test]
fn fifos_among_the_catalogue_s_files_are_refused_never_waited_on() {
    let (tmp, root, source) = catalogue_with_dataset();
    let root_s = path_str(&root);
    let server = Server::start(&root);
    let fifo = root.join("distributions/x.json");
    mkfifo(&fifo);
    let named =
        |value: &serde_json::Value| value.to_string().contains("not a regular file (a FIFO)");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !named(&server.health()) {
        assert!(std::time::Instant::now() < deadline, "{}", server.health());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    fs::remove_file(&fifo).expect("rm fifo");
    while named(&server.health()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the reload after the FIFO went: {}",
            server.health()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(server);

    mkfifo(&fifo);
    mkfifo(&root.join("dataset_header/d.yaml"));
    let _ = Server::start(&root);
    let verify = fair_within(&["verify", root_s]);
    assert_eq!(verify.status.code(), Some(2), "{}", describe(&verify));
    let said = String::from_utf8_lossy(&verify.stdout).into_owned();
    let line = said
        .lines()
        .find(|l| l.contains("x.json"))
        .unwrap_or_default();
    assert_eq!(line.matches(root_s).count(), 1, "the path once: {said}");
    let snapshot = fair_within(&["snapshot", root_s, "x", "files", "--version", "1"]);
    assert_eq!(snapshot.status.code(), Some(1), "{}", describe(&snapshot));
    assert!(
        String::from_utf8_lossy(&snapshot.stderr).contains("not a regular file"),
        "{}",
        describe(&snapshot)
    );
    let actions = tmp.path().join("actions.yaml");
    mkfifo(&actions);
    let index = fair_within(&[
        "index",
        root_s,
        "--source",
        path_str(&source),
        "--actions",
        path_str(&actions),
    ]);
    assert_eq!(index.status.code(), Some(1), "{}", describe(&index));
    assert!(
        String::from_utf8_lossy(&index.stderr).contains("not a regular file (a FIFO)"),
        "{}",
        describe(&index)
    );
    fs::remove_file(root.join("fair.toml")).expect("rm");
    mkfifo(&root.join("fair.toml"));
    for args in [
        &["verify", root_s][..],
        &["serve", root_s, "--listen", "127.0.0.1:0"],
    ] {
        let out = fair_within(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("fair.toml: not a regular file (a FIFO)"),
            "{args:?}: {stderr}"
        );
    }
}

/// A release copied in by hand (as a mirror tool would) while another writer
/// holds the lock: the store lacks its lookups and cannot catch up, so the
/// server keeps the view it has, and `/health` says `stale` (the reason among
/// the warnings) until a reload finishes, then `ok` with the new release.
#[test]
fn health_says_stale_while_a_reload_cannot_finish() {
    let (tmp, root, _source) = catalogue_with_dataset();
    let other_dir = tmp.path().join("other");
    fs::create_dir_all(&other_dir).expect("mkdir");
    let other = init(&other_dir, "blake3");
    let other_source = tmp.path().join("src2");
    write_tree(&other_source, &[("b.txt".to_string(), b"b\n".to_vec())]);
    let new = index_and_snapshot(&other, &other_source, "1");
    let server = Server::start(&root);
    let before = server.health();
    assert_eq!(before["status"], "ok", "{before}");
    let status = |health: &serde_json::Value| health["status"].as_str().unwrap_or("").to_string();
    let served = || {
        let target = "/machine/find_checksum?dataset=files&version=1";
        crate::http::request(&server.1, "GET", target, &[]).text()
    };
    let old = served();
    assert_ne!(old.trim(), new, "two different releases");

    let lock = fs::File::open(root.join(".fair/lock")).expect("the lock file");
    lock.lock().expect("flock");
    for dir in ["buffers", "keyorder"] {
        for entry in fs::read_dir(other.join(dir)).expect(dir) {
            let path = entry.expect("entry").path();
            if path.is_file() {
                fs::copy(&path, root.join(dir).join(path.file_name().expect("name")))
                    .expect("copy");
            }
        }
    }
    // Replaced at once, as a mirror tool does (a temporary file renamed).
    let partial = root.join("files.json.part");
    fs::copy(other.join("distributions/files.json"), &partial).expect("copy the record");
    fs::rename(&partial, root.join("distributions/files.json")).expect("rename");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut health = server.health();
    while status(&health) != "stale" {
        assert!(std::time::Instant::now() < deadline, "{health}");
        std::thread::sleep(std::time::Duration::from_millis(50));
        health = server.health();
    }
    assert_eq!(served(), old, "{health}");
    let warned = health["warnings"].to_string();
    assert!(
        warned.contains("stale") && warned.contains("cannot be brought up to date now"),
        "{health}"
    );

    lock.unlock().expect("unlock");
    while status(&health) != "ok" {
        assert!(std::time::Instant::now() < deadline, "{health}");
        std::thread::sleep(std::time::Duration::from_millis(50));
        health = server.health();
    }
    assert_eq!(served().trim(), new, "{health}");
    assert!(
        !health["warnings"].to_string().contains("stale"),
        "{health}"
    );
}

/// The bytes of a file outside every source tree, which nothing may publish.
const SECRET: &[u8] = b"SECRET-sentinel-3f9a outside the tree\n";

/// A source tree with `a.txt` and `leak`, a symbolic link to a file outside it.
fn tree_with_a_link_out(dir: &std::path::Path) -> std::path::PathBuf {
    let source = dir.join("src");
    write_tree(&source, &[("a.txt".to_string(), b"a\n".to_vec())]);
    fs::write(dir.join("secret.txt"), SECRET).expect("secret");
    std::os::unix::fs::symlink(dir.join("secret.txt"), source.join("leak")).expect("symlink");
    source
}

/// Whether any file under `dir` holds the secret's bytes.
fn holds_secret(dir: &std::path::Path) -> bool {
    tree(dir)
        .values()
        .any(|bytes| bytes.windows(SECRET.len()).any(|w| w == SECRET))
}

/// `--intern copy|hardlink` of a link resolving outside the tree reports the link
/// and interns nothing of it, as `--serve-source` serves nothing of it.
#[test]
fn interning_refuses_links_out_of_the_source_tree() {
    for mode in ["copy", "hardlink"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let source = tree_with_a_link_out(tmp.path());
        let root = init(tmp.path(), "blake3");
        let out = fair(&[
            "index",
            path_str(&root),
            "--source",
            path_str(&source),
            "--collection",
            "c",
            "--intern",
            mode,
        ]);
        assert_eq!(out.status.code(), Some(2), "{mode}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("leak") && stderr.contains("outside the source tree"),
            "{mode}: {stderr}"
        );
        assert!(
            !root.join("deepfolders/c.json").exists(),
            "{mode}: nothing published"
        );
        let out = fair(&[
            "index",
            path_str(&root),
            "--source",
            path_str(&source),
            "--collection",
            "c",
            "--intern",
            mode,
            "--allow-errors",
        ]);
        // Published without the link: a success that names what it skipped.
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", describe(&out));
        let collection = fs::read_to_string(root.join("deepfolders/c.json")).expect("published");
        assert!(
            collection.contains("a.txt") && !collection.contains("leak"),
            "{collection}"
        );
        assert!(
            !holds_secret(&root),
            "{mode}: the secret is in the catalogue"
        );
    }
}

/// With `--serve-source`, `/machine/access` and the manifests list a `/files/`
/// URL only for keys `/files/` serves: not for a link out of the tree.
#[test]
fn urls_are_listed_only_for_files_that_will_be_served() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tree_with_a_link_out(tmp.path());
    let root = init_with(
        tmp.path(),
        &["--hash", "blake3", "--base-url", "http://127.0.0.1:9/"],
    );
    index_and_snapshot(&root, &source, "1");
    let out = fair_ok(
        &[
            "manifest",
            path_str(&root),
            "files@latest",
            "--format",
            "urls",
            "--serve-source",
        ],
        0,
    );
    let urls = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        urls.contains("/files/") && urls.contains("/a.txt"),
        "{urls}"
    );
    assert!(!urls.contains("leak"), "a URL /files/ answers 404: {urls}");
    let served = crate::http::Served::with_base_url(&root, true);
    let secret = digest_by("b3sum", SECRET);
    let answer = crate::http::request(&served.addr, "GET", &format!("/files/{secret}/leak"), &[]);
    assert_eq!(answer.status, 404);
    let access = crate::http::request(
        &served.addr,
        "GET",
        &format!("/machine/access/{secret}"),
        &[],
    );
    assert!(
        !access.text().contains("/files/"),
        "{} {}",
        access.status,
        access.text()
    );
    let a = digest_by("b3sum", b"a\n");
    let access = crate::http::request(&served.addr, "GET", &format!("/machine/access/{a}"), &[]);
    assert!(
        access.text().contains("/files/"),
        "{} {}",
        access.status,
        access.text()
    );
}

/// Bytes that changed under a checksum are never served as it: a hard-linked
/// buffer edited in place, and a source file rewritten with the same size and
/// mtime (only its ctime differs) answer 404; the same bytes put back are
/// served again.
#[test]
fn changed_bytes_are_not_served_under_the_old_checksum() {
    let big = |fill: u8| vec![fill; 300 << 10];
    for intern in ["hardlink", "none"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let source = tmp.path().join("src");
        write_tree(&source, &[("big.dat".to_string(), big(b'a'))]);
        let root = init_with(
            tmp.path(),
            &["--hash", "blake3", "--base-url", "http://127.0.0.1:9/"],
        );
        let index = [
            "index",
            path_str(&root),
            "--source",
            path_str(&source),
            "--collection",
            "c",
        ];
        fair_ok(&[&index[..], &["--intern", intern]].concat(), 0);
        let served = crate::http::Served::with_base_url(&root, true);
        let element = digest_by("b3sum", &big(b'a'));
        let target = format!("/files/{element}/big.dat");
        let get = || crate::http::request(&served.addr, "GET", &target, &[]);
        let first = get();
        assert_eq!(
            (first.status, first.body.len()),
            (200, 300 << 10),
            "{intern}"
        );
        let file = source.join("big.dat");
        let mtime =
            filetime::FileTime::from_last_modification_time(&fs::metadata(&file).expect("stat"));
        // In place (same inode, size and mtime; the ctime moves).
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&file, big(b'b')).expect("rewrite");
        filetime::set_file_mtime(&file, mtime).expect("mtime");
        assert_eq!(get().status, 404, "{intern}: changed bytes under {element}");
        fs::write(&file, big(b'a')).expect("put back");
        filetime::set_file_mtime(&file, mtime).expect("mtime");
        let again = get();
        assert_eq!(
            (again.status, again.body == big(b'a')),
            (200, true),
            "{intern}"
        );
    }
}

/// Names in reports are escaped: two non-UTF-8 names stay apart, and a name
/// with a line break cannot forge a report line.
#[test]
fn bad_names_are_escaped_in_reports() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new("blake3", &[("a.txt".to_string(), b"a\n".to_vec())]);
    for name in [&b"bad\xff"[..], b"bad\xfe", b"x\nfair: forged line"] {
        mkfifo(&f.source.join(std::ffi::OsStr::from_bytes(name)));
    }
    let out = fair(&f.index_args());
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8");
    assert!(
        stderr.contains("bad\\xff") && stderr.contains("bad\\xfe"),
        "{stderr}"
    );
    assert!(stderr.contains("x\\nfair: forged line"), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("fair: forged line")),
        "{stderr}"
    );
}

/// A dataset with both `NAME.json` and `NAME.yaml` headers: the one read and the
/// one ignored are named in `/health`; a YAML header's errors name no parser
/// internals.
#[test]
fn two_headers_of_one_dataset_are_reported() {
    use crate::http::Answers;
    let (_tmp, root, _source) = catalogue_with_dataset();
    fs::write(
        root.join("dataset_header/d.json"),
        r#"{"title": "from json"}"#,
    )
    .expect("json");
    fs::write(root.join("dataset_header/d.yaml"), "title: from yaml\n").expect("yaml");
    fs::write(
        root.join("dataset_header/files.yaml"),
        "title: a\ntitle: b\n",
    )
    .expect("dup");
    let served = crate::inproc::InProc::start(&root);
    let health = served.request("GET", "/health", &[]).text();
    assert!(
        health.contains("dataset_header/d.yaml: not read: dataset_header/d.json is read instead"),
        "{health}"
    );
    assert!(
        health.contains("duplicate") && !health.contains("DuplicateKeyPolicy"),
        "{health}"
    );
}

/// Without a base URL, the URLs of the answers are built from the request's own
/// Host, never from `X-Forwarded-Host` or `Forwarded` (which any client sends,
/// and a cache would keep for everyone): no answer of the golden catalogue
/// carries a forged host, crawled from `/` and every route's example target
/// through each URL an answer names, in each format.
#[test]
fn forwarded_headers_do_not_build_urls_without_a_configured_proxy() {
    use crate::http::Answers;
    let (_tmp, root) = crate::golden::build();
    let served = crate::inproc::InProc::start(&root);
    let forged = [
        &[
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "https"),
        ][..],
        &[("Forwarded", "host=evil.example;proto=https")],
    ];
    let own = format!("http://{}", crate::inproc::ADDR);
    let mut queue: std::collections::VecDeque<String> = std::iter::once("/".to_string())
        .chain(fairserver::ROUTES.iter().map(crate::routes::example))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut built_from_host = 0;
    while let Some(target) = queue.pop_front() {
        if seen.len() >= 400 || !seen.insert(target.clone()) {
            continue;
        }
        for (i, accept) in ["text/html", "text/turtle", "application/ld+json", "*/*"]
            .into_iter()
            .enumerate()
        {
            let headers = [forged[i % 2], &[("Accept", accept)]].concat();
            let answer = served.request("GET", &target, &headers);
            assert!(answer.status < 500, "{target}: {}", answer.status);
            let all = format!("{:?} {}", answer.headers, answer.text());
            assert!(!all.contains("evil.example"), "{target} {headers:?}: {all}");
            built_from_host += usize::from(all.contains(&own));
            for url in all.split(&own).skip(1) {
                let path: String = url
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"\"'<>`{}\\".contains(*c))
                    .collect();
                if path.starts_with('/') && !path.contains('#') {
                    queue.push_back(path);
                }
            }
        }
    }
    assert!(seen.len() > 30, "crawled {} targets", seen.len());
    assert!(
        built_from_host > 30,
        "URLs built from Host: {built_from_host}"
    );
}

/// An operation stops an element, and names it, before the buffer filesystem's
/// free space would fall under the reserve (`--min-free`, here more than any
/// disk has); nothing is published.
#[test]
fn operations_keep_the_free_space_reserve() {
    use std::io::Write;
    let f = Fixture::new("blake3", &[]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&[0; 1 << 16]).expect("gzip");
    fs::create_dir_all(&f.source).expect("mkdir");
    fs::write(f.source.join("zeros.gz"), gz.finish().expect("gzip")).expect("write");
    backdate_tree(&f.source);
    let actions = f.tmp.path().join("gunzip.yaml");
    fs::write(
        &actions,
        "collection: z\ncross_device: false\nactions:\n  - action: operation\n    command: gunzip\n    collection: out\n  - action: copy_collection\n    source_collection: out\n    collection: copied\n    source_file: '(zeros\\.gz)'\n    target_file: '{0}'\n",
    )
    .expect("actions");
    let args = [
        "index",
        path_str(&f.root),
        "--source",
        path_str(&f.source),
        "--actions",
        path_str(&actions),
    ];
    let out = fair(&[&args[..], &["--min-free", "1000T"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("zeros.gz") && stderr.contains("--min-free"),
        "{stderr}"
    );
    assert!(!f.root.join("collections/copied").exists());
    fair_ok(&args, 0);
    assert!(f.root.join("collections/copied/zeros.gz").exists());
}

/// Six files of 300 KB each, different, for a buffer filesystem too small.
fn six_files() -> Vec<(String, Vec<u8>)> {
    (0..6u8)
        .map(|i| {
            let bytes = (0..300_000u32)
                .map(|n| (n.wrapping_mul(2_654_435_761) >> (8 + i)) as u8)
                .collect();
            (format!("f{i}.bin"), bytes)
        })
        .collect()
}

/// What a run of `--intern copy` that the buffer directory `buffers` could not
/// take must show: exit 1, one message naming the directory once (no source
/// file blamed), the previous collection kept, every buffer in `left` (what
/// `buffers` held after the run) whole and no temporary file left; returns how
/// many buffers were written.
fn assert_stopped_for_the_buffer_directory(
    out: &std::process::Output,
    f: &Fixture,
    (buffers, left): (&std::path::Path, &std::path::Path),
    previous: &[u8],
    expected: &str,
) -> usize {
    assert_eq!(out.status.code(), Some(1), "{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let dir = path_str(buffers);
    assert_eq!(stderr.matches(dir).count(), 1, "{stderr}");
    assert!(
        stderr.contains("the buffer directory") && stderr.contains(expected),
        "{stderr}"
    );
    assert!(
        stderr.contains("published nothing") && !stderr.contains(".bin"),
        "{stderr}"
    );
    assert_eq!(fs::read(f.deepfolder()).expect("deepfolder"), previous);
    let mut written = 0;
    for entry in fs::read_dir(left).expect("the buffer directory") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).expect("name");
            let bytes = fs::read(&path).expect("buffer");
            assert_eq!(digest_by("b3sum", &bytes), name, "a whole buffer");
            written += 1;
        }
    }
    let staging = left.join(".fair-tmp");
    let temporary = fs::read_dir(&staging).map_or(0, |d| d.count());
    assert_eq!(
        temporary,
        0,
        "temporary files left in {}",
        staging.display()
    );
    written
}

/// A buffer filesystem that fills up during `--intern copy` (a 1 MiB tmpfs,
/// mounted in a user namespace of its own) stops the run with one message that
/// names the buffer directory, not each source file; nothing is published,
/// even with `--allow-errors`.
#[test]
fn a_full_buffer_filesystem_stops_interning_naming_the_buffer_directory() {
    let f = Fixture::new("blake3", &six_files());
    backdate_tree(&f.source);
    fair_ok(&f.index_args(), 0);
    let previous = fs::read(f.deepfolder()).expect("deepfolder");
    let mount = f.tmp.path().join("small");
    fs::create_dir_all(&mount).expect("mkdir");
    let buffers = mount.join("buffers");
    let left = f.tmp.path().join("left");
    let fair = fair_cmd();
    let mut command = std::process::Command::new("unshare");
    command
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        // Runs fair on the tmpfs, then copies out what it left there (the
        // tmpfs goes with the namespace).
        .arg(
            "mount -t tmpfs -o size=1m fair-full \"$1\" || exit 99; mnt=$1 left=$2; shift 2; \
             \"$@\"; code=$?; cp -a \"$mnt/buffers\" \"$left\" || exit 99; exit $code",
        )
        .arg("sh")
        .arg(&mount)
        .arg(&left)
        .arg(fair.get_program())
        .args(f.index_args())
        .args([
            "--intern",
            "copy",
            "--min-free",
            "0",
            "--allow-errors",
            "--bufferdir",
        ])
        .arg(&buffers);
    for (name, value) in fair.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let out = command.output().expect("unshare runs (util-linux)");
    let refused = out.status.code() == Some(99) || out.stderr.starts_with(b"unshare:");
    assert!(
        !refused,
        "the test needs user namespaces (unshare -rm) to mount a small tmpfs: {}",
        describe(&out)
    );
    let written = assert_stopped_for_the_buffer_directory(
        &out,
        &f,
        (&buffers, &left),
        &previous,
        "No space left on device",
    );
    assert!(
        (1..6).contains(&written),
        "filled up after {written} buffers"
    );
}

/// `fair index --intern copy` keeps the buffer filesystem's free-space reserve
/// (`--min-free`) as operations do: here more than any disk has, so the run
/// stops before the first copy, naming the buffer directory once.
#[test]
fn interning_copies_keep_the_free_space_reserve() {
    let f = Fixture::new("blake3", &six_files());
    backdate_tree(&f.source);
    fair_ok(&f.index_args(), 0);
    let previous = fs::read(f.deepfolder()).expect("deepfolder");
    let buffers = f.tmp.path().join("buffers");
    let args = [
        &f.index_args()[..],
        &["--intern", "copy", "--bufferdir", path_str(&buffers)],
    ]
    .concat();
    let out = fair(&[&args[..], &["--min-free", "1000T"]].concat());
    let written = assert_stopped_for_the_buffer_directory(
        &out,
        &f,
        (&buffers, &buffers),
        &previous,
        "--min-free",
    );
    assert_eq!(written, 0, "nothing copied under the reserve");
    fair_ok(&args, 0);
    for (name, bytes) in six_files() {
        let buffer = buffers.join(digest_by("b3sum", &bytes));
        assert_eq!(fs::read(buffer).expect(&name), bytes);
    }
}

/// Clients that ask for a large manifest and never read hold no thread other
/// answers need: with more of them than the workers' blocking pools have
/// threads, a manifest, a diff and `/health` are still answered at once, and
/// `/health` counts the streams being sent.
#[test]
fn slow_readers_do_not_block_the_streamed_routes() {
    use std::io::Write;
    const KEYS: usize = 150_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    // Ten elements in buffers/ (so that their sizes are known), many keys.
    fs::create_dir_all(root.join("buffers")).expect("mkdir");
    let elements: Vec<String> = (0..10u8)
        .map(|i| {
            let element = faircore::HashAlgo::Blake3.hash(&[i]).to_hex();
            fs::write(root.join("buffers").join(&element), [i]).expect("buffer");
            element
        })
        .collect();
    let entries: serde_json::Map<String, serde_json::Value> = (0..KEYS)
        .map(|i| {
            (
                format!("d{:02}/file{i:07}.dat", i % 100),
                elements[i % 10].clone().into(),
            )
        })
        .collect();
    fs::create_dir_all(root.join("deepfolders")).expect("mkdir");
    let mut plain = serde_json::to_vec_pretty(&entries).expect("json");
    plain.push(b'\n');
    fs::write(root.join("deepfolders/big.json"), plain).expect("write");
    let snapshot = fair_ok(
        &[
            "snapshot",
            path_str(&root),
            "big",
            "big",
            "--version",
            "1",
            "--json",
        ],
        0,
    );
    let record: serde_json::Value = serde_json::from_slice(&snapshot.stdout).expect("JSON");
    let checksum = record["checksum"].as_str().expect("checksum").to_string();
    let served = Server::start(&root);
    let manifest = format!("/machine/manifest/{checksum}?format=b3sum");
    let mut stalled = Vec::new();
    for _ in 0..12 {
        let mut stream = std::net::TcpStream::connect(&served.1).expect("connect");
        let head = format!("GET {manifest} HTTP/1.1\r\nHost: {}\r\n\r\n", served.1);
        stream.write_all(head.as_bytes()).expect("send");
        stalled.push(stream);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while served.health()["streams"]["active"].as_u64() < Some(12) {
        assert!(std::time::Instant::now() < deadline, "{}", served.health());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let started = std::time::Instant::now();
    let whole = crate::http::request(&served.1, "GET", &manifest, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.text().lines().count(), KEYS, "the whole manifest");
    let diff = crate::http::request(
        &served.1,
        "GET",
        &format!("/machine/diff/{checksum}/{checksum}"),
        &[],
    );
    assert_eq!((diff.status, diff.body.len()), (200, 0));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    drop(stalled);
}

/// Malformed requests, which any client can send, are counted in `/metrics` and
/// logged only with `-vv`: no ERROR line each.
#[test]
fn malformed_requests_are_counted_not_logged_as_errors() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = init(tmp.path(), "blake3");
    let log = tmp.path().join("stderr");
    let mut child = fair_cmd()
        .args(["serve", path_str(&root), "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(&log).expect("log"))
        .spawn()
        .expect("serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let addr = loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("on http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never listens: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    for raw in [
        &b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream.write_all(raw).expect("send");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(
            answer.starts_with(b"HTTP/1.1 400"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let metrics = crate::http::request(&addr, "GET", "/metrics", &[]).text();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        metrics.contains("fair_http_stream_errors_total 3"),
        "{metrics}"
    );
    let text = fs::read_to_string(&log).expect("log");
    assert!(!text.contains("ERROR"), "{text}");
}
