//! A bounded HTTP fuzz test: a few thousand requests built from the route list
//! (`fairserver::ROUTES`), each variable part replaced by a mutation (names and
//! checksums of the catalogue and near misses, traversal spellings, encoded NUL
//! and line breaks, overlong values), with bad headers and other methods, sent to
//! a catalogue served with `--serve-source` whose source tree holds a link to a
//! sentinel file outside it. No answer may be a 5xx, and none may carry a byte of
//! the sentinel. The choices are drawn from a fixed-seed generator: the same
//! requests every run.

use std::fs;

use fairserver::ROUTES;

use crate::helpers::*;
use crate::http::Answers;
use crate::inproc::{self, InProc};

/// The sentinel: planted outside the catalogue and its source trees.
const SENTINEL: &[u8] = b"FUZZ-SENTINEL-7c1d never to be served\n";

/// A small deterministic generator (a 64-bit LCG; the high bits are used).
struct Draw(u64);

impl Draw {
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        &from[(self.0 >> 33) as usize % from.len()]
    }
}

/// The mutations of a variable part named `part` (as in a route's syntax).
fn values(part: &str, known: &Known) -> Vec<String> {
    let traversal = [
        "..",
        "%2e%2e",
        "%2E%2E%2fsecret.txt",
        "..%2f..%2f..%2fsecret.txt",
        "....%2f%2f",
        "%252e%252e%252fsecret.txt",
        "%00",
        "a%0d%0aSet-Cookie:%20x=1",
        "%ff%fe",
        "~",
        "%2fetc%2fpasswd",
    ];
    let mut values: Vec<String> = traversal.iter().map(|s| s.to_string()).collect();
    values.push("x".repeat(3000));
    let own: Vec<String> = match part {
        "NAME" | "D" => vec![
            "files".into(),
            "nope".into(),
            "files%00".into(),
            "FILES".into(),
        ],
        "KEY" => vec![
            "a.txt".into(),
            "leak".into(),
            "d/b.txt".into(),
            "../secret.txt".into(),
            "d/../../secret.txt".into(),
            "d//b.txt".into(),
            "./a.txt".into(),
            "a.txt%00.png".into(),
        ],
        "PART" => vec!["collection".into(), "0".into(), "99".into(), "-1".into()],
        "F" => ["urls", "wget", "bagit", "aria2", "b3sum", "nope", ""]
            .map(String::from)
            .to_vec(),
        _ => vec![
            known.distribution.clone(),
            known.element.clone(),
            known.sentinel.clone(),
            known.distribution.to_uppercase(),
            known.distribution[..63].to_string(),
            format!("{}%2f..", known.element),
            "0".repeat(64),
            "latest".into(),
        ],
    };
    values.extend(own);
    values
}

/// What the catalogue holds, as request values.
struct Known {
    distribution: String,
    element: String,
    sentinel: String,
}

const HEADERS: &[&[(&str, &str)]] = &[
    &[],
    &[("Range", "bytes=0-0")],
    &[("Range", "bytes=5-1")],
    &[("Range", "bytes=-0")],
    &[("Range", "bytes=0-1,3-4,99999999999999999999-")],
    &[("Range", "lines=1-2")],
    &[("Accept", "text/turtle;q=0, */*;q=abc")],
    &[("Accept", "application/ld+json;q=0.5, text/html;q=1.1")],
    &[("Accept-Encoding", "gzip;q=2, deflate;q=-1, br")],
    &[("If-None-Match", "\"x\", W/\"y\", *")],
    &[("If-Range", "not a date"), ("Range", "bytes=1-2")],
    &[
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "javascript"),
    ],
    &[("Forwarded", "host=\"evil.example\";proto=ftp;for=unknown")],
    &[("Host", "")],
    &[("Content-Length", "5")],
];

const METHODS: &[&str] = &[
    "GET", "GET", "GET", "HEAD", "POST", "OPTIONS", "DELETE", "PROPFIND",
];

const QUERIES: &[&str] = &[
    "",
    "?format=ttl",
    "?format=%00",
    "?format=linkset&format=rdf",
    "?dataset=files&version=%ff&date=2024-13-45",
    "?since=..%2f..%2fsecret.txt",
    "?%zz=1",
];

#[test]
fn thousands_of_mutated_requests_get_no_5xx_and_no_sentinel_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("secret.txt"), SENTINEL).expect("sentinel");
    let source = tmp.path().join("src");
    write_tree(
        &source,
        &[
            ("a.txt".to_string(), b"a\n".to_vec()),
            ("d/b.txt".to_string(), b"b\n".to_vec()),
        ],
    );
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), source.join("leak")).expect("link");
    let root = init_with(
        tmp.path(),
        &[
            "--hash",
            "blake3",
            "--base-url",
            "http://fair.invalid:61918/",
        ],
    );
    let distribution = index_and_snapshot(&root, &source, "1");
    let known = Known {
        distribution,
        element: digest_by("b3sum", b"a\n"),
        sentinel: digest_by("b3sum", SENTINEL),
    };
    let mut options = inproc::options(&root);
    options.serve_source = true;
    let served = InProc::open(&options);

    let mut draw = Draw(21);
    let mut sent = 0;
    for route in ROUTES {
        let mut names = Vec::new();
        route.target(|part| {
            names.push(part.to_string());
            String::new()
        });
        let slots = names.len().max(1);
        for at in 0..slots {
            let mutations = names
                .get(at)
                .map_or_else(|| vec![String::new()], |p| values(p, &known));
            for value in &mutations {
                for _ in 0..6 {
                    let mut i = 0;
                    let mut target = route.target(|part| {
                        i += 1;
                        if i - 1 == at {
                            value.clone()
                        } else {
                            draw.pick(&values(part, &known)).clone()
                        }
                    });
                    let query = draw.pick(QUERIES);
                    if !query.is_empty() {
                        let joiner = if target.contains('?') { "&" } else { "?" };
                        target.push_str(joiner);
                        target.push_str(&query[1..]);
                    }
                    let method = draw.pick(METHODS);
                    let headers = draw.pick(HEADERS);
                    let answer = served.request(method, &target, headers);
                    sent += 1;
                    assert!(
                        answer.status < 500,
                        "{method} {target} {headers:?}: {} {}",
                        answer.status,
                        answer.text()
                    );
                    let leaked = answer.body.windows(SENTINEL.len()).any(|w| w == SENTINEL)
                        || answer
                            .headers
                            .iter()
                            .any(|(_, v)| v.contains("FUZZ-SENTINEL"));
                    assert!(
                        !leaked,
                        "{method} {target} {headers:?}: the sentinel was served"
                    );
                    assert!(
                        !answer.body.contains(&0)
                            || answer
                                .header("content-type")
                                .is_some_and(|t| !t.starts_with("text/")),
                        "{method} {target}: a raw NUL in a text body: {:?}",
                        answer.text()
                    );
                }
            }
        }
    }
    assert!(sent >= 2000, "only {sent} requests were sent");
}
