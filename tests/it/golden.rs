//! The golden transcript's FAIR dir, rebuilt with `fair` alone
//! (`fixtures/golden/build.sh`), compared with the Seamless originals, and
//! queried with `fair find` as the original server was.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{describe, fair, fair_ok, fixture, path_str};
use crate::http::Answers;

/// Runs `fixtures/golden/build.sh` into a new directory.
pub fn build() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("fairdir");
    let run = Command::new("sh")
        .arg(fixture("golden/build.sh"))
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_fair"))
        .output()
        .expect("sh runs");
    assert!(run.status.success(), "build.sh\n{}", describe(&run));
    (tmp, out)
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(
                files(&path)
                    .into_iter()
                    .map(|p| Path::new(path.file_name().expect("name")).join(p)),
            );
        } else {
            found.push(PathBuf::from(path.file_name().expect("name")));
        }
    }
    found
}

#[test]
fn the_golden_history_is_reproduced_byte_for_byte() {
    let (_tmp, out) = build();
    let expected = fixture("golden/expected");
    let names = files(&expected);
    assert_eq!(names.len(), 6, "{names:?}");
    for name in names {
        let want = fs::read(expected.join(&name)).expect("expected file");
        let got = fs::read(out.join(&name)).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        if name.starts_with("distributions") {
            // Seamless writes no final newline; we add one, and nothing else differs.
            assert_eq!(got, [&want[..], b"\n"].concat(), "{name:?}");
        } else {
            assert_eq!(got, want, "{name:?}");
        }
    }
    // The v1 index that Seamless deleted after the merge (defect 2) is kept.
    let v1_index = "f69be646ee3dd5c55be21ef5e6a9b9292e155fc2b23257c95e7ac00d8bb3118d";
    assert!(out.join("access_index").join(v1_index).is_file());
    let verified = fair_ok(&["verify", path_str(&out)], 0);
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(text.contains("8 records checked, 0 problems"), "{text}");
}

/// The `fair find` arguments of a server request, and whether it asks for the checksum only.
fn find_args(request: &str) -> Option<(Vec<String>, bool)> {
    let (route, query) = request.split_once('?').unwrap_or((request, ""));
    let mut args = Vec::new();
    let mut dataset = None;
    let mut seen = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // The server takes the first of repeated parameters and ignores unknown ones.
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        match key {
            "dataset" => dataset = Some(value.to_string()),
            "type" | "version" | "date" | "format" | "compression" => {
                args.push(format!("--{key}"));
                args.push(value.to_string());
            }
            _ => {}
        }
    }
    args.insert(0, dataset?);
    Some((args, route.ends_with("find_checksum")))
}

#[test]
fn fair_find_answers_every_golden_query_as_the_server_did() {
    let (_tmp, out) = build();
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&fs::read(fixture("golden/find-cases.json")).expect("cases"))
            .expect("json");
    assert!(cases.len() >= 30, "{}", cases.len());
    for case in &cases {
        let request = case["request"].as_str().expect("request");
        let status = case["status"].as_u64().expect("status");
        let body = case["body"].as_str().expect("body");
        let Some((args, checksum)) = find_args(request) else {
            // No dataset: the server's 400; on the command line it is a required argument.
            assert_eq!(status, 400, "{request}");
            let run = fair(&["find", path_str(&out)]);
            assert_eq!(run.status.code(), Some(1), "{}", describe(&run));
            assert!(String::from_utf8_lossy(&run.stderr).contains("<DATASET>"));
            continue;
        };
        let mut cmd = vec!["find", path_str(&out)];
        cmd.extend(args.iter().map(String::as_str));
        if checksum {
            cmd.push("--checksum");
        }
        let run = fair(&cmd);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr),
        );
        match status {
            200 => {
                assert_eq!(run.status.code(), Some(0), "{request}\n{}", describe(&run));
                assert_eq!(stdout, body, "{request}");
            }
            300 => {
                assert_eq!(run.status.code(), Some(1), "{request}\n{}", describe(&run));
                assert_eq!(stderr, body, "{request}");
                assert!(stdout.is_empty(), "{request}");
            }
            // Unknown, empty or escaping dataset names: upstream's 500.
            500 => {
                assert_eq!(run.status.code(), Some(1), "{request}\n{}", describe(&run));
                assert!(
                    stderr.contains("unknown dataset") || stderr.contains("invalid name"),
                    "{request}\n{stderr}"
                );
            }
            other => panic!("{request}: unexpected golden status {other}"),
        }
    }
}

#[test]
fn fair_find_and_the_server_fail_with_the_same_text_for_every_kind_of_failure() {
    let (_tmp, out) = build();
    let served = crate::inproc::InProc::start(&out);
    // (what fails, the query's parameters, the server's status). Without a
    // dataset the server says "parameter 'dataset' undefined" (400); on the
    // command line the dataset is a required argument, so that kind has no
    // `fair find` form.
    type Kind<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
    let kinds: [Kind; 6] = [
        ("unknown dataset", &[("dataset", "nosuch")], 404),
        ("not a dataset name", &[("dataset", "../etc")], 404),
        ("empty dataset name", &[("dataset", "")], 404),
        (
            "no match",
            &[("dataset", "mydataset"), ("version", "99")],
            300,
        ),
        (
            "no match with none",
            &[
                ("dataset", "mydataset"),
                ("format", "none"),
                ("date", "1999-01-01"),
            ],
            300,
        ),
        (
            "several match",
            &[("dataset", "otherset"), ("compression", "none")],
            300,
        ),
    ];
    for (kind, parameters, status) in kinds {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(parameters.iter())
            .finish();
        let answer = served.get(&format!("/machine/find_distribution?{query}"));
        assert_eq!(answer.status, status, "{kind}: {}", answer.text());
        let mut args = vec!["find".to_string(), path_str(&out).to_string()];
        for (key, value) in parameters.iter() {
            match *key {
                "dataset" => args.insert(2, value.to_string()),
                _ => args.extend([format!("--{key}"), value.to_string()]),
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = fair(&args);
        assert_eq!(run.status.code(), Some(1), "{kind}: {}", describe(&run));
        assert_eq!(
            String::from_utf8_lossy(&run.stderr),
            answer.text(),
            "{kind}: the same text"
        );
    }
    let answer = served.get("/machine/find_distribution?version=1");
    assert_eq!(answer.status, 400);
    assert_eq!(answer.text(), "parameter 'dataset' undefined\n");
}
