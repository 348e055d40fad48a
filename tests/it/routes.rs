//! The one list of routes, `fairserver::ROUTES`, against every other place that
//! names routes: the route table of `docs/http.md`, and the application `create_app`
//! builds (each route answered by its own handler, with HEAD, 405, CORS,
//! metrics and compression as the list says); and the request targets the other
//! tests make from it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use fairserver::{ROUTES, Route};

use crate::golden::build;
use crate::http::{Answers, Response};
use crate::inproc::InProc;

/// A value for a variable part of a route's syntax that names something of the
/// golden catalogue (`NAME`: a dataset), or is well-formed (a checksum, a key, a
/// part, a manifest format).
pub fn sample(part: &str) -> String {
    match part {
        "NAME" | "D" => "mydataset".into(),
        "KEY" => "a/key.txt".into(),
        "PART" => "collection".into(),
        "F" => "urls".into(),
        _ => "0".repeat(64),
    }
}

/// How many variable parts `route` has.
pub fn parts(route: &Route) -> usize {
    let mut n = 0;
    route.target(|_| {
        n += 1;
        String::new()
    });
    n
}

/// `route`'s target with `value` as its variable part number `at` and samples
/// as the others.
pub fn with_part(route: &Route, at: usize, value: &str) -> String {
    let mut i = 0;
    route.target(|part| {
        i += 1;
        if i - 1 == at {
            value.to_string()
        } else {
            sample(part)
        }
    })
}

/// `route`'s target up to its variable part number `at` (samples before it).
pub fn up_to_part(route: &Route, at: usize) -> String {
    const CUT: &str = "\u{0}";
    let target = with_part(route, at, CUT);
    target.split(CUT).next().unwrap_or_default().to_string()
}

/// A target of `route` with samples for all its variable parts.
pub fn example(route: &Route) -> String {
    route.target(sample)
}

/// The first cell of each row of the route table of `docs/http.md` (the one headed
/// `| route | answer |`), without its backquotes.
fn documented_routes() -> Vec<String> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/http.md");
    let doc = std::fs::read_to_string(doc).expect("docs/http.md");
    let tables: Vec<&str> = doc.split("\n| route | answer |\n| --- | --- |\n").collect();
    assert_eq!(tables.len(), 2, "one route table in docs/http.md");
    tables[1]
        .lines()
        .take_while(|row| row.starts_with('|'))
        .map(|row| {
            let cell = row.split(" | ").next().unwrap_or_default();
            cell.trim_start_matches("| `")
                .trim_end_matches('`')
                .to_string()
        })
        .collect()
}

#[test]
fn the_documented_route_table_lists_exactly_the_routes_of_the_server_in_order() {
    let listed: Vec<&str> = ROUTES.iter().map(|r| r.syntax).collect();
    assert_eq!(documented_routes(), listed);
}

/// The golden catalogue, served in this process (dropped before its directory).
fn golden() -> (InProc, tempfile::TempDir) {
    let (tmp, dir) = build();
    (InProc::start(&dir), tmp)
}

/// The example target of every route, with the route.
fn examples() -> Vec<(&'static Route, String)> {
    ROUTES.iter().map(|route| (route, example(route))).collect()
}

/// The request counters of `/metrics`: (route, status) → requests.
pub fn counted(served: &impl Answers) -> BTreeMap<(String, String), u64> {
    let metrics = served.get("/metrics").text();
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("fair_http_requests_total{route=\""))
        .filter_map(|line| {
            let (route, rest) = line.split_once("\",status=\"")?;
            let (status, n) = rest.split_once("\"} ")?;
            Some(((route.to_string(), status.to_string()), n.parse().ok()?))
        })
        .collect()
}

#[test]
fn every_route_of_the_list_is_answered_by_create_app_at_its_own_pattern() {
    let (served, _tmp) = golden();
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (route, target) in examples() {
        let got = served.get(&target);
        assert_ne!(got.text(), "404: Not Found", "{target}: no route took it");
        let key = (route.pattern.to_string(), got.status.to_string());
        *expected.entry(key).or_default() += 1;
    }
    // Each request was counted under the pattern of the route it was made for
    // (none under "(no route)").
    assert_eq!(counted(&served), expected);
    let metrics = served.get("/metrics").text();
    let timed = format!(
        "fair_http_request_duration_seconds_count {}\n",
        ROUTES.len() + 1
    );
    assert!(metrics.contains(&timed), "{metrics}");
}

#[test]
fn every_route_answers_head_as_get_without_a_body() {
    let (served, _tmp) = golden();
    for (_, target) in examples() {
        let get = served.get(&target);
        let head = served.request("HEAD", &target, &[]);
        assert_eq!(head.status, get.status, "{target}");
        let sorted = |response: &Response| {
            let mut headers = response.headers.clone();
            headers.sort();
            headers
        };
        assert_eq!(sorted(&head), sorted(&get), "{target}");
        assert!(head.body.is_empty(), "{target}");
    }
}

#[test]
fn every_route_refuses_other_methods_with_405_naming_those_it_takes() {
    let (served, _tmp) = golden();
    for (_, target) in examples() {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let got = served.request(method, &target, &[]);
            assert_eq!(got.status, 405, "{method} {target}");
            assert_eq!(got.header("allow"), Some("GET,HEAD,OPTIONS"));
            assert_eq!(got.text(), "405: Method Not Allowed");
        }
    }
}

#[test]
fn every_route_answers_cors_preflights_for_get_and_head_only() {
    let (served, _tmp) = golden();
    let origin = "http://example.org";
    for (_, target) in examples() {
        for method in ["GET", "HEAD"] {
            let asked = [
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", "range,if-range"),
            ];
            let got = served.request("OPTIONS", &target, &asked);
            assert_eq!(got.status, 200, "{method} {target}: {}", got.text());
            assert_eq!(got.header("access-control-allow-origin"), Some("*"));
            assert_eq!(got.header("access-control-allow-credentials"), None);
            assert_eq!(got.header("access-control-allow-methods"), Some(method));
            assert_eq!(
                got.header("access-control-allow-headers"),
                Some("range,if-range")
            );
        }
        let post = [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
        ];
        for asked in [&post[..], &post[1..], &post[..1]] {
            let got = served.request("OPTIONS", &target, asked);
            assert_eq!(got.status, 403, "{asked:?} {target}");
            assert!(got.text().starts_with("CORS preflight request failed: "));
        }
    }
}

/// The headers browser code must be able to read, besides the safelisted ones.
const EXPOSED: [&str; 8] = [
    "Link",
    "Repr-Digest",
    "Content-Range",
    "ETag",
    "Content-Length",
    "Location",
    "Accept-Ranges",
    "Content-Encoding",
];

#[test]
fn every_answer_allows_every_origin_without_credentials_and_exposes_its_headers() {
    let (served, _tmp) = golden();
    let mut asked: Vec<(&str, String)> = examples()
        .into_iter()
        .flat_map(|(_, target)| [("GET", target.clone()), ("POST", target)])
        .collect();
    asked.push(("GET", "/no/such/route".into()));
    for (method, target) in asked {
        // The same answer with any Origin or none: nothing for a cache to vary on.
        for origin in [Some("http://example.org"), Some("null"), None] {
            let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
            let got = served.request(method, &target, &headers);
            let what = format!("{method} {target} from {origin:?}");
            assert_eq!(
                got.header("access-control-allow-origin"),
                Some("*"),
                "{what}"
            );
            assert_eq!(
                got.header("access-control-allow-credentials"),
                None,
                "{what}"
            );
            let exposed = got
                .header("access-control-expose-headers")
                .unwrap_or_default();
            let exposed: Vec<&str> = exposed.split(',').map(str::trim).collect();
            for name in EXPOSED {
                assert!(exposed.contains(&name), "{what}: {name} in {exposed:?}");
            }
        }
    }
}

#[test]
fn a_path_no_route_takes_gets_aiohttp_s_404_whatever_the_method() {
    let (served, _tmp) = golden();
    let zeros = "0".repeat(64);
    let targets = [
        "/machine/".to_string(),
        "/machine/unknown".into(),
        "/machine/datasets/x".into(),
        "/machine/locate/".into(),
        format!("/machine/diff/{zeros}"),
        "/buffers/".into(),
        "/dataset".into(),
        "/health/".into(),
        "/metrics/x".into(),
        "/nothing".into(),
    ];
    let methods = ["GET", "HEAD", "POST", "DELETE"];
    for target in &targets {
        for method in methods {
            let got = served.request(method, target, &[]);
            assert_eq!(got.status, 404, "{method} {target}");
            if method != "HEAD" {
                assert_eq!(got.text(), "404: Not Found", "{method} {target}");
            }
        }
    }
    let counted = counted(&served);
    let unrouted = (String::from("(no route)"), String::from("404"));
    let asked = (targets.len() * methods.len()) as u64;
    assert_eq!(counted.get(&unrouted), Some(&asked));
    assert_eq!(counted.len(), 1, "{counted:?}");
}

#[test]
fn only_the_keyorder_route_compresses_and_its_gzip_decodes_to_the_plain_answer() {
    let (served, _tmp) = golden();
    let record = served.get("/machine/find_distribution?dataset=mydataset");
    let record: serde_json::Value = serde_json::from_slice(&record.body).expect("JSON");
    let keyorder = record["keyorder"].as_str().expect("a keyorder");
    for route in ROUTES {
        let compressed = route.pattern.starts_with("/machine/keyorder/");
        let target = if compressed {
            route.target(|_| keyorder.to_string())
        } else {
            example(route)
        };
        let got = served.request("GET", &target, &[("Accept-Encoding", "gzip")]);
        let encoding = got.header("content-encoding");
        assert_eq!(encoding, compressed.then_some("gzip"), "{target}");
        if compressed {
            assert_eq!(got.status, 200, "{target}");
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&got.body[..])
                .read_to_end(&mut plain)
                .expect("gzip");
            assert!(!plain.is_empty());
            assert_eq!(plain, served.get(&target).body);
        }
    }
}
