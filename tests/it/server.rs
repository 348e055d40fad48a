//! `fair serve`: the golden transcript's section A replayed in this process and
//! over TCP, path traversal and random requests on every route of the list,
//! and shutdown of the real executable.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::golden::build;
use crate::helpers::{fixture, path_str};
use crate::http::{Answers, Response, Served};
use crate::inproc::InProc;
use crate::routes::{counted, example, parts, up_to_part, with_part};

const SECRET: &str = "SECRET-OUTSIDE-FAIRDIR";

/// The golden fixture, with a secret file next to it (and `outside.json` two
/// levels above `distributions/`) as in the transcript.
fn golden() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = build();
    fs::write(tmp.path().join("secret.txt"), format!("{SECRET}\n")).expect("secret");
    fs::write(
        tmp.path().join("outside.json"),
        format!("{{\"{SECRET}\": 1}}\n"),
    )
    .expect("outside");
    (tmp, dir)
}

#[derive(Deserialize)]
struct Case {
    case: String,
    method: String,
    target: String,
    request_headers: BTreeMap<String, String>,
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// The body with its content encoding undone.
fn decoded(response: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    match response.header("content-encoding") {
        Some("gzip") => flate2::read::GzDecoder::new(&response.body[..])
            .read_to_end(&mut out)
            .map(drop),
        Some("deflate") => flate2::read::ZlibDecoder::new(&response.body[..])
            .read_to_end(&mut out)
            .map(drop),
        _ => return response.body.clone(),
    }
    .expect("decodes");
    out
}

fn assert_no_secret(case: &str, response: &Response) {
    let body = String::from_utf8_lossy(&decoded(response)).into_owned();
    assert!(
        !body.contains(SECRET),
        "{case}: a file outside the catalogue was served"
    );
}

#[test]
fn every_golden_case_of_section_a_is_answered_as_upstream_or_as_documented() {
    let (tmp, dir) = golden();
    replay(&InProc::start(&dir), tmp.path());
}

#[test]
fn the_golden_cases_are_answered_the_same_over_tcp() {
    let (tmp, dir) = golden();
    replay(&Served::start(&dir), tmp.path());
}

/// Sends every case of the golden transcript's section A to `served` (the
/// secret files under `outside`), and checks each answer.
fn replay(served: &impl Answers, outside: &Path) {
    let cases: Vec<Case> =
        serde_json::from_slice(&fs::read(fixture("golden/server-cases.json")).expect("cases"))
            .expect("cases parse");
    assert_eq!(cases.len(), 69);
    let outside = path_str(outside).to_string();
    let mut deviations = Vec::new();
    let mut cors_deviations = Vec::new();
    for case in &cases {
        let target = case.target.replace("<outside>", &outside);
        let headers: Vec<(&str, &str)> = case
            .request_headers
            .iter()
            .filter(|(n, _)| n.as_str() != "Content-Length")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let got = served.request(&case.method, &target, &headers);
        let id = case.case.split(' ').next().unwrap_or_default();
        let deviation = match id {
            // Keyorder miss: 404, not 400.
            "A23." => Some((404, Some(r#"{"not found": 404}"#))),
            // Empty keyorder name: 400 naming what was expected, not a 500.
            "A24." => Some((400, None)),
            // Path traversal: refused.
            "A25." | "A26." | "A27." | "A28." | "A29." => Some((0, None)),
            // Unknown, empty or traversing dataset: 404 with the reason, not a 500.
            "A45." | "A46." | "A56." | "A62." => Some((404, None)),
            // The root is the FAIR Data Point (Turtle by default), not a 404.
            "A64." => Some((200, None)),
            _ => None,
        };
        assert_no_secret(&case.case, &got);
        if let Some((status, body)) = deviation {
            deviations.push(id);
            match status {
                0 => assert!(
                    (400..500).contains(&got.status),
                    "{}: {} {}",
                    case.case,
                    got.status,
                    got.text()
                ),
                _ => assert_eq!(got.status, status, "{}: {}", case.case, got.text()),
            }
            if let Some(body) = body {
                assert_eq!(got.text(), body, "{}", case.case);
            }
            if status == 404 && id != "A23." {
                assert!(
                    got.text().contains("unknown dataset"),
                    "{}: {}",
                    case.case,
                    got.text()
                );
            }
            continue;
        }
        assert_eq!(got.status, case.status, "{}: {}", case.case, got.text());
        if let Some(kind) = case.headers.get("content-type") {
            assert_eq!(
                got.header("content-type"),
                Some(kind.as_str()),
                "{}",
                case.case
            );
        }
        let body = decoded(&got);
        if case.headers.get("content-type").map(String::as_str) == Some("application/json")
            && !case.body.is_empty()
        {
            let want: Value = serde_json::from_str(&case.body).expect("golden JSON");
            let have: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{}: {e}: {}", case.case, got.text()));
            assert_eq!(have, want, "{}", case.case);
            if case.body.ends_with('\n') {
                assert!(body.ends_with(b"\n"), "{}: final newline", case.case);
            }
        } else {
            assert_eq!(String::from_utf8_lossy(&body), case.body, "{}", case.case);
        }
        for (name, value) in &case.headers {
            if name.starts_with("access-control-allow") || name == "allow" {
                // CORS: the catalogue is public: `*` and no credentials, where
                // upstream echoes the origin with credentials (any site could then
                // read answers with the user's cookies, and a shared cache would
                // give one origin's answer to another: it sends no `Vary: Origin`).
                let want = match name.as_str() {
                    "access-control-allow-origin" => Some("*"),
                    "access-control-allow-credentials" => None,
                    _ => Some(value.as_str()),
                };
                if want != Some(value.as_str()) && !cors_deviations.contains(&id) {
                    cors_deviations.push(id);
                }
                assert_eq!(got.header(name), want, "{}: {name}", case.case);
            }
        }
    }
    assert_eq!(cors_deviations, ["A66.", "A68."]);
    assert_eq!(
        deviations,
        [
            "A23.", "A24.", "A25.", "A26.", "A27.", "A28.", "A29.", "A45.", "A46.", "A56.", "A62.",
            "A64."
        ]
    );
}

/// The targets of every route with `payload` as one of its variable parts, and
/// as the end of its target cut there.
fn traversals(payload: &str) -> BTreeSet<String> {
    let mut targets = BTreeSet::new();
    for route in fairserver::ROUTES {
        for at in 0..parts(route) {
            targets.insert(with_part(route, at, payload));
            targets.insert(format!("{}{payload}", up_to_part(route, at)));
        }
    }
    targets
}

#[test]
fn no_form_of_path_traversal_returns_a_byte_outside_the_catalogue() {
    let (tmp, dir) = golden();
    let served = InProc::start(&dir);
    let abs = path_str(tmp.path()).trim_start_matches('/').to_string();
    let payloads = [
        "..%2F..%2Fsecret.txt".to_string(),
        "../../secret.txt".into(),
        "%2e%2e%2f%2e%2e%2fsecret.txt".into(),
        "%2E%2E/%2E%2E/secret.txt".into(),
        "%252e%252e%252f%252e%252e%252fsecret.txt".into(),
        "..%5C..%5Csecret.txt".into(),
        "..\\..\\secret.txt".into(),
        format!("%2F{abs}%2Fsecret.txt"),
        format!("/{abs}/secret.txt"),
        format!("..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F{abs}%2Fsecret.txt"),
        "secret.txt%00".into(),
        "%00".into(),
        "..%2Ffair.toml".into(),
        "..%2Fdistributions%2Fmydataset.json".into(),
        "..%2F..%2Foutside".into(),
        "a%2Fb".into(),
        "x".repeat(20_000),
        format!("{}%2F..%2F..%2Fsecret.txt", "0".repeat(64)),
    ];
    // The forms of before the routes came from the list, all still there.
    let forms = traversals("P");
    let zeros = "0".repeat(64);
    for form in [
        "/machine/dataset/P",
        "/machine/find/P",
        "/machine/access/P",
        "/machine/keyorder/P",
        "/machine/diff/P",
        &format!("/machine/diff/{zeros}/P"),
        "/machine/manifest/P",
        "/machine/locate/P",
        "/machine/find_distribution?dataset=P",
        "/machine/find_checksum?dataset=P",
        "/dataset/P",
        "/dataset/mydataset/P",
        "/dataset/mydataset/P/collection.json",
        &format!("/dataset/mydataset/{zeros}/distribution/P"),
        "/buffers/P",
        "/files/P",
        &format!("/files/{zeros}/P"),
    ] {
        assert!(forms.contains(form), "{form} in {forms:#?}");
    }
    let targets: Vec<String> = payloads.iter().flat_map(|p| traversals(p)).collect();
    for target in &targets {
        let got = served.get(target);
        assert!((400..500).contains(&got.status), "{target}: {}", got.status);
        assert_no_secret(target, &got);
    }
    assert_eq!(targets.len(), forms.len() * payloads.len());
    assert_eq!(served.get("/health").status, 200, "still serving");
}

/// A small deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    /// A string of up to `max` pieces from `pieces`.
    fn text(&mut self, pieces: &[&str], max: u64) -> String {
        let n = self.next() % (max + 1);
        (0..n).map(|_| *self.pick(pieces)).collect()
    }
}

#[test]
fn random_paths_and_queries_never_get_a_server_error() {
    let (_tmp, dir) = golden();
    let served = InProc::start(&dir);
    // Targets HTTP/1 refuses to parse (bytes outside ASCII) never reach the
    // application: the TCP server answers those.
    let tcp = Served::start(&dir);
    // The path of every route, and each cut before a variable part, and a path
    // that is no route but the start of several.
    let mut routes = BTreeSet::from(["/machine/".to_string()]);
    let path = |target: String| target.split('?').next().unwrap_or_default().to_string();
    for route in fairserver::ROUTES {
        routes.insert(path(example(route)));
        routes.extend((0..parts(route)).map(|at| path(up_to_part(route, at))));
    }
    let routes: Vec<String> = routes.into_iter().collect();
    // Those of before the routes came from the list, all still there.
    for before in [
        "/machine/dataset/",
        "/machine/find/",
        "/machine/access/",
        "/machine/keyorder/",
        "/machine/diff/",
        "/machine/manifest/",
        "/machine/locate/",
        "/buffers/",
        "/files/",
        "/machine/find_distribution",
        "/machine/find_checksum",
        "/machine/datasets",
        "/health",
        "/metrics",
        "/",
        "/machine/",
        "/dataset/",
        "/dataset/mydataset/",
    ] {
        assert!(routes.iter().any(|r| r == before), "{before} in {routes:?}");
    }
    let pieces = [
        "a",
        "Z",
        "0",
        "f",
        "9",
        "mydataset",
        "otherset",
        "..",
        ".",
        "/",
        "%2F",
        "%2e",
        "%00",
        "%",
        "%zz",
        "%C3%BC",
        "ü",
        "\\",
        "~",
        "-",
        "_",
        "?",
        "&",
        "=",
        "#",
        ";",
        "+",
        "%20",
        "latest",
        "none",
        "dataset=",
        "version=",
        "&date=",
        "format=json",
        "\u{7f}",
        "83de3aaebf47696b49e26217a21e7f6ac2bdb062ab94eb8c2b7d1fd286a01e80",
    ];
    let methods = ["GET", "HEAD", "GET", "POST", "OPTIONS", "DELETE"];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut statuses = BTreeMap::new();
    let mut over_tcp = 0;
    for _ in 0..3000 {
        let route = random.pick(&routes);
        let tail = random.text(&pieces, 12);
        let query = random.text(&pieces, 8);
        let target = format!("{route}{tail}?{query}");
        let method = random.pick(&methods);
        let headers = [("Origin", "http://x.org")];
        let got = match target.parse::<actix_web::http::Uri>() {
            Ok(_) => served.request(method, &target, &headers),
            Err(_) => {
                over_tcp += 1;
                tcp.request(method, &target, &headers)
            }
        };
        assert!(
            got.status < 500,
            "{method} {target}: {} {}",
            got.status,
            got.text()
        );
        *statuses.entry(got.status).or_insert(0) += 1;
    }
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&404),
        "{statuses:?}"
    );
    assert_eq!(served.get("/health").status, 200);
    assert_eq!(tcp.get("/health").status, 200);
    // Every answer came from a route of the list, or from no route.
    for (route, _) in counted(&served).keys() {
        let listed = fairserver::ROUTES.iter().any(|r| r.pattern == route);
        assert!(listed || route == "(no route)", "{route}");
    }
    eprintln!("{over_tcp} of 3000 requests over TCP: {statuses:?}");
}

#[test]
fn sigterm_stops_the_server_after_its_requests() {
    let (_tmp, dir) = golden();
    let served = Served::start(&dir);
    assert_eq!(served.get("/health").status, 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &served.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = served.wait();
    assert!(exit.success(), "{exit:?}");
}
