//! FAIR metadata of the served demo catalogue: the project's offline FAIR checker
//! (content negotiation, signposting, landing pages, downloads, SHACL), SHACL on
//! every resource alone, a strict HTML5 parser on every page, headless Chromium on
//! the dataset page, and the negotiation rules themselves.
//!
//! The Python checks run in the virtual environment `.ci/run` creates
//! (`target/fair-venv`, or `FAIR_TEST_PYTHON`), with the checkers of `tests/fair/`
//! (`fair_http_check.py`, `shacl_check.py`) and the SHACL shapes and DCAT
//! vocabulary kept beside them as test data (`tests/fair/shapes/`): the
//! repository alone is enough, nothing is read from outside it.

use std::path::{Path, PathBuf};
use std::process::Command;

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::RcDom;
use serde_json::Value;

use crate::helpers::{fair_ok, path_str};
use crate::http::{Answers, Response, Served};
use crate::inproc::{self, InProc};

/// The demo catalogue, served (in this process, or over TCP for the tools
/// that fetch URLs themselves).
struct Demo<S = InProc> {
    served: S,
    root: PathBuf,
    _tmp: tempfile::TempDir,
}

fn demo() -> Demo {
    demo_with(|_| {})
}

/// The demo catalogue, changed by `edit` before it is served in this process.
fn demo_with(edit: impl FnOnce(&Path)) -> Demo {
    built(edit, InProc::start)
}

/// The demo catalogue served by `fair serve`.
fn demo_over_tcp() -> Demo<Served> {
    built(|_| {}, Served::start)
}

/// The demo catalogue, changed by `edit`, then served by `serve`.
fn built<S>(edit: impl FnOnce(&Path), serve: impl FnOnce(&Path) -> S) -> Demo<S> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    fair_ok(&["demo", "--dir", path_str(&base), "--no-serve"], 0);
    let root = base.join("catalogue");
    edit(&root);
    Demo {
        served: serve(&root),
        root,
        _tmp: tmp,
    }
}

impl<S: Answers> Demo<S> {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.served.addr())
    }

    fn get(&self, path: &str, accept: &str) -> Response {
        self.served.request("GET", path, &[("Accept", accept)])
    }
}

/// The Python of the test environment.
fn python() -> PathBuf {
    let python = std::env::var_os("FAIR_TEST_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fair-venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "{} is missing: run .ci/run, or `python3 -m venv target/fair-venv && target/fair-venv/bin/pip install -r tests/fair/requirements.txt`",
        python.display()
    );
    python
}

/// Runs a Python script; its stdout, asserting the exit status 0. The checkers
/// import each other: no `__pycache__` is left in `tests/fair/`.
fn run_python(args: &[&str]) -> String {
    let (code, stdout) = run_python_status(args);
    assert_eq!(code, Some(0), "{args:?}\n{stdout}");
    stdout
}

/// Runs a Python script: its exit code, and its stdout followed by its stderr.
fn run_python_status(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(python())
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), format!("{stdout}{stderr}"))
}

/// A helper script of `tests/fair/`.
fn script(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fair")
        .join(name);
    path.to_string_lossy().into_owned()
}

/// The URL paths of every metadata resource of the demo: root, datasets,
/// snapshots and their distributions (from the snapshot pages' links).
fn resources(demo: &Demo<impl Answers>) -> Vec<String> {
    let mut paths = vec!["/".to_string()];
    let datasets = demo.served.get("/machine/datasets");
    let datasets: Value = serde_json::from_slice(&datasets.body).expect("JSON");
    for name in datasets.as_array().expect("a list") {
        let name = name["dataset"].as_str().expect("a name");
        paths.push(format!("/dataset/{name}"));
        let records = demo.served.get(&format!("/machine/dataset/{name}"));
        let records: Value = serde_json::from_slice(&records.body).expect("JSON");
        for record in records["distributions"].as_array().expect("records") {
            let snapshot = format!(
                "/dataset/{name}/{}",
                record["checksum"].as_str().expect("hex")
            );
            let page = demo.get(&snapshot, "text/html").text();
            for part in page.split("href=\"").skip(1) {
                let href = &part[..part.find('"').expect("quoted")];
                let path = href.strip_prefix(&demo.url("")).unwrap_or(href);
                if path.starts_with(&format!("{snapshot}/distribution/"))
                    && !paths.iter().any(|p| p == path)
                {
                    paths.push(path.to_string());
                }
            }
            if !paths.contains(&snapshot) {
                paths.push(snapshot);
            }
        }
    }
    paths
}

#[test]
fn the_offline_fair_checker_passes_on_the_demo_catalogue() {
    let demo = demo_over_tcp();
    let root = demo.url("/");
    let out = run_python(&[
        &script("fair_http_check.py"),
        &root,
        "--shacl-profiles",
        "fdp-v2,dcat-ap",
    ]);
    let last = out.lines().last().unwrap_or_default();
    let (passed, failed) = last.split_once(" passed, ").expect("N passed, M failed");
    assert_eq!(failed, "0 failed", "{out}");
    assert!(!out.lines().any(|l| l.starts_with("FAIL ")), "{out}");
    let passed: usize = passed.parse().expect("a count");
    let lines = |category: &str, what: &str| {
        out.lines()
            .filter(|l| l.starts_with(&format!("PASS [{category}] ")) && l.ends_with(what))
            .count()
    };
    // It crawled the whole catalogue: every resource was negotiated, every
    // collection downloaded and checked against its checksum and size.
    let resources = resources(&demo);
    let crawled = lines("conneg", ": without Accept: text/turtle");
    assert_eq!(crawled, resources.len(), "{out}");
    assert!(
        out.contains(&format!(
            "PASS [crawl] {root}: {} records reached from the root, each readable",
            resources.len()
        )),
        "{out}"
    );
    let snapshots = resources.iter().filter(|p| p.matches('/').count() == 3);
    let downloads = lines("download", ": sha3_256 digest equals spdx:checksumValue");
    assert_eq!(
        downloads,
        snapshots.count(),
        "one collection per snapshot\n{out}"
    );
    assert_eq!(
        lines("download", " bytes, as dcat:byteSize says"),
        downloads
    );
    for profile in ["fdp-v2", "dcat-ap"] {
        assert!(
            out.contains(&format!("PASS [shacl] {profile}: no violations (")),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "PASS [shacl] {profile}: each of the {} records is a focus node",
                resources.len()
            )),
            "{out}"
        );
    }
    // Every resource passes at least 34 checks when none fails (14 of content
    // negotiation, 10 of signposting level 1, 4 of level 2, 6 of its landing
    // page), every download at least 6 (status, checksum present, algorithm
    // known, digest, size, link back): far more than the 500 of old.
    assert!(passed >= 34 * resources.len() + 6 * downloads, "{out}");
    assert!(passed > 500, "{out}");
}

#[test]
fn every_resource_alone_has_no_shacl_violations() {
    let demo = demo_over_tcp();
    let out = run_python(&[
        &script("each_resource_shacl.py"),
        &demo.url("/"),
        "--profiles",
        "fdp-v2,dcat-ap",
    ]);
    let expected = format!("{} resources, 0 with violations", resources(&demo).len());
    assert!(out.trim_end().ends_with(&expected), "{out}");
}

#[test]
fn the_stock_fair_data_point_shapes_report_only_the_documented_media_type_conflict() {
    let demo = demo_over_tcp();
    let (code, out) = run_python_status(&[
        &script("each_resource_shacl.py"),
        &demo.url("/"),
        "--profiles",
        "fdp-stock",
    ]);
    assert_eq!(
        code,
        Some(1),
        "the dcat:mediaType conflict is reported\n{out}"
    );
    let violations: Vec<&str> = out.lines().filter(|l| l.contains("violation:")).collect();
    assert!(!violations.is_empty(), "{out}");
    let conflict = "path dcat:mediaType value";
    let others: Vec<&&str> = violations
        .iter()
        .filter(|v| !v.contains(conflict))
        .collect();
    assert!(others.is_empty(), "{others:#?}");
    let checked = resources(&demo).len();
    assert!(out.contains(&format!("{checked} resources, ")), "{out}");
}

/// The parse errors of `html` by the HTML5 parsing algorithm (html5ever, with
/// exact error messages).
fn html5_errors(html: &[u8]) -> Vec<String> {
    let options = html5ever::ParseOpts {
        tokenizer: html5ever::tokenizer::TokenizerOpts {
            exact_errors: true,
            ..Default::default()
        },
        tree_builder: html5ever::tree_builder::TreeBuilderOpts {
            exact_errors: true,
            ..Default::default()
        },
    };
    let dom = html5ever::parse_document(RcDom::default(), options)
        .from_utf8()
        .one(html);
    dom.errors.take().into_iter().map(String::from).collect()
}

#[test]
fn every_html_page_parses_without_errors_in_a_strict_html5_parser() {
    // The checker finds errors.
    assert!(!html5_errors(b"<!DOCTYPE html><p><div></span></div>").is_empty());
    assert!(!html5_errors(b"<html><title>no doctype</title></html>").is_empty());
    let demo = demo();
    let paths = resources(&demo);
    assert!(paths.len() > 20, "{paths:?}");
    for path in &paths {
        let page = demo.get(path, "text/html");
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let errors = html5_errors(&page.body);
        assert!(errors.is_empty(), "{path}: {errors:#?}\n{}", page.text());
    }
}

#[test]
fn the_dataset_page_renders_in_headless_chromium() {
    let demo = demo_over_tcp();
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fair-dataset-page.png");
    let _ = std::fs::remove_file(&shot);
    let out = run_python(&[
        &script("browser_check.py"),
        &demo.url("/dataset/cells"),
        path_str(&shot),
    ]);
    let report: Value = serde_json::from_str(&out).expect("a JSON report");
    assert_eq!(report["console"], serde_json::json!([]), "console errors");
    assert_eq!(report["title"], "Demo cells");

    // The versions table: one row per record, newest first, with its figures.
    let header: Value =
        serde_json::from_slice(&demo.served.get("/machine/dataset/cells").body).expect("JSON");
    let records = header["distributions"].as_array().expect("records");
    let rows = report["versions"].as_array().expect("rows");
    assert_eq!(rows.len(), records.len(), "{report:#}");
    for (row, record) in rows.iter().zip(records.iter().rev()) {
        let cell = |i: usize| row[i].as_str().expect("text").to_string();
        assert_eq!(cell(1), record["date"].as_str().unwrap_or(""), "{row}");
        assert_eq!(cell(2), record["format"].as_str().unwrap_or(""), "{row}");
        assert_eq!(
            cell(3),
            record["compression"].as_str().unwrap_or(""),
            "{row}"
        );
        assert_eq!(cell(4), record["nkeys"].to_string(), "{row}");
        let hex = record["checksum"].as_str().expect("hex");
        assert!(cell(6).starts_with(&hex[..12]), "{row}");
    }

    // The charts: one point per record in the order they were added, placed
    // in proportion to the figure between its smallest and largest values.
    assert_charts(&report, records);
    let width = report["chart_box"][0].as_f64().unwrap_or(0.0);
    assert!(width > 100.0, "the chart is drawn: {report:#}");
    let overflow = report["overflow"].as_i64().expect("overflow");
    assert!(overflow <= 0, "no sideways scrolling: {report:#}");
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );

    // On a phone, too: nothing wider than the screen, no errors.
    let phone = shot.with_file_name("fair-dataset-page-phone.png");
    let out = run_python(&[
        &script("browser_check.py"),
        &demo.url("/dataset/cells"),
        path_str(&phone),
        "--width",
        "390",
    ]);
    let report: Value = serde_json::from_str(&out).expect("a JSON report");
    let overflow = report["overflow"].as_i64().expect("overflow");
    assert!(overflow <= 0, "no sideways scrolling: {report:#}");
    assert_eq!(report["console"], serde_json::json!([]), "console errors");
    assert_eq!(
        report["versions"].as_array().map(Vec::len),
        Some(records.len())
    );
}

/// Checks the page's charts against `records`: a line per figure, a point per
/// record in the order they were added, each placed in proportion to its value
/// between the smallest and the largest (drawn higher when larger).
fn assert_charts(report: &Value, records: &[Value]) {
    for (figure, field) in [("files", "nkeys"), ("bytes", "content_size")] {
        let points = report["charts"][figure].as_array().expect("a chart");
        assert_eq!(points.len(), records.len(), "{figure}: {report:#}");
        let value = |p: &Value| p["value"].as_f64().unwrap_or(f64::NAN);
        let y = |p: &Value| p["y"].as_f64().unwrap_or(f64::NAN);
        for (point, record) in points.iter().zip(records) {
            assert_eq!(point["value"], record[field], "{figure}: {point}");
        }
        let low = points.iter().min_by(|a, b| value(a).total_cmp(&value(b)));
        let high = points.iter().max_by(|a, b| value(a).total_cmp(&value(b)));
        let (Some(low), Some(high)) = (low, high) else {
            continue;
        };
        if value(high) == value(low) {
            continue;
        }
        assert!(y(high) < y(low), "{figure}: larger is higher");
        for point in points {
            let expected = y(low)
                + (value(point) - value(low)) / (value(high) - value(low)) * (y(high) - y(low));
            assert!(
                (y(point) - expected).abs() <= 0.15,
                "{figure}: {point} at {}, expected {expected}",
                y(point)
            );
        }
    }
}

#[test]
fn four_hundred_releases_get_a_paginated_table_and_a_readable_chart() {
    // 400 nightly releases of `cells`, each with one file more than the one
    // before; every record points at the files of the demo's first one.
    let demo = built(
        |root| {
            let path = root.join("distributions/cells.json");
            let records: Vec<Value> =
                serde_json::from_slice(&std::fs::read(&path).expect("records")).expect("JSON");
            let first = records[0].clone();
            let releases: Vec<Value> = (0..400u64)
                .map(|i| {
                    let mut record = first.clone();
                    let date = format!(
                        "{}-{:02}-{:02}",
                        2001 + i / 336,
                        1 + i / 28 % 12,
                        1 + i % 28
                    );
                    record["date"] = Value::from(date);
                    record["version"] = Value::from(format!("r{i}"));
                    record["nkeys"] = Value::from(2_000 + i);
                    record["content_size"] = Value::from(1_000_000 + 7 * i * i);
                    record["latest"] = Value::from(i == 399);
                    record
                })
                .collect();
            std::fs::write(&path, serde_json::to_vec_pretty(&releases).expect("JSON"))
                .expect("write");
        },
        Served::start,
    );
    let header: Value =
        serde_json::from_slice(&demo.served.get("/machine/dataset/cells").body).expect("JSON");
    let records = header["distributions"].as_array().expect("records");
    assert_eq!(records.len(), 400);
    let shots = tempfile::tempdir().expect("tempdir");
    for (width, page, first, rows) in [
        ("1280", 1, 399, 50),
        ("390", 8, 49, 50),
        ("390", 3, 299, 50),
    ] {
        let shot = shots.path().join(format!("{width}-{page}.png"));
        let out = run_python(&[
            &script("browser_check.py"),
            &demo.url(&format!("/dataset/cells?page={page}")),
            path_str(&shot),
            "--width",
            width,
        ]);
        let report: Value = serde_json::from_str(&out).expect("a JSON report");
        assert_eq!(report["console"], serde_json::json!([]), "console errors");
        let versions = report["versions"].as_array().expect("rows");
        assert_eq!(versions.len(), rows, "page {page}");
        assert_eq!(
            versions[0][0]
                .as_str()
                .map(|v| v.trim_end_matches(" (latest)")),
            Some(format!("r{first}").as_str()),
            "page {page}: newest first"
        );
        let pages = report["pages"].as_str().unwrap_or_default();
        assert!(pages.contains(&format!("page {page} of 8")), "{pages:?}");
        assert_eq!(pages.contains("newer"), page > 1, "{pages:?}");
        assert_eq!(pages.contains("older"), page < 8, "{pages:?}");
        assert_charts(&report, records);
        let font = report["chart_font_px"].as_f64().unwrap_or(0.0);
        assert!(font >= 10.0, "chart text {font} px at {width} px wide");
        assert_eq!(
            report["overflow"].as_i64(),
            Some(0),
            "{width} px: {report:#}"
        );
    }
    for (page, status) in [("9", 404), ("0", 400), ("x", 400)] {
        let got = demo
            .served
            .get(&format!("/dataset/cells?page={page}&format=html"));
        assert_eq!(got.status, status, "page={page}");
    }
}

/// The demo catalogue served in this process, the checksum of the first
/// snapshot of `testset`, and its path.
fn testset() -> (Demo, String, String) {
    let demo = demo();
    let header: Value =
        serde_json::from_slice(&demo.served.get("/machine/dataset/testset").body).expect("JSON");
    let hex = header["distributions"][0]["checksum"]
        .as_str()
        .expect("hex")
        .to_string();
    let snapshot = format!("/dataset/testset/{hex}");
    (demo, hex, snapshot)
}

#[test]
fn resources_negotiate_their_representation_and_carry_signposts() {
    let (demo, _, snapshot) = testset();
    for path in ["/", "/dataset/testset", snapshot.as_str()] {
        // No Accept: Turtle; a browser: HTML; ?format= wins over Accept.
        let plain = demo.served.get(path);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(
            plain.header("content-type"),
            Some("text/turtle; charset=utf-8"),
            "{path}"
        );
        assert_eq!(plain.header("vary"), Some("Accept"), "{path}");
        assert_eq!(
            plain.body,
            demo.served.get(path).body,
            "{path}: same bytes each time"
        );
        let browser = demo.get(path, "text/html,application/xhtml+xml,*/*;q=0.8");
        assert!(browser.text().starts_with("<!DOCTYPE html>"), "{path}");
        let forced = demo.get(&format!("{path}?format=jsonld"), "text/html");
        assert_eq!(
            forced.header("content-type"),
            Some("application/ld+json; charset=utf-8")
        );
        let json_ld: Value = serde_json::from_slice(&forced.body).expect("JSON-LD");
        assert!(json_ld["@context"].is_object(), "inline context: {json_ld}");
        let xml = demo.get(path, "application/rdf+xml");
        assert!(xml.text().contains("<rdf:RDF"), "{path}");
        // Types we cannot serve: 406 naming ours; an unknown format: 400.
        let refused = demo.get(path, "image/png");
        assert_eq!(refused.status, 406, "{path}");
        assert!(refused.text().contains("text/turtle"), "{}", refused.text());
        // q=0 refuses a type, whatever a wider range allows.
        let not_turtle = demo.get(path, "text/turtle;q=0, */*");
        assert_eq!(
            not_turtle.header("content-type"),
            Some("application/ld+json; charset=utf-8"),
            "{path}"
        );
        assert_eq!(demo.get(path, "text/turtle;q=0").status, 406, "{path}");
        assert_eq!(demo.get(path, "*/*;q=0").status, 406, "{path}");
        assert_eq!(demo.served.get(&format!("{path}?format=n3")).status, 400);
        // Signposting level 1 on HEAD as on GET.
        let head = demo.served.request("HEAD", path, &[]);
        let links = head.header("link").expect("Link").to_string();
        let url = demo.url(path);
        assert!(
            links.contains(&format!("<{url}>; rel=\"cite-as\"")),
            "{links}"
        );
        assert!(
            links.contains("rel=\"describedby\"; type=\"text/turtle\""),
            "{links}"
        );
        assert!(
            links.contains("<https://schema.org/AboutPage>; rel=\"type\""),
            "{links}"
        );
        assert!(links.contains("rel=\"license\""), "{links}");
        // Level 2.
        let linkset = demo.get(path, "application/linkset+json");
        assert_eq!(
            linkset.header("content-type"),
            Some("application/linkset+json")
        );
        let linkset: Value = serde_json::from_slice(&linkset.body).expect("linkset JSON");
        assert_eq!(linkset["linkset"][0]["anchor"], url.as_str());
    }
}

#[test]
fn a_snapshot_s_item_is_its_collection_and_a_creator_with_an_orcid_an_author() {
    let (demo, hex, snapshot) = testset();
    // The snapshot's item is its collection, which downloads with its checksum.
    let links = demo
        .served
        .get(&snapshot)
        .header("link")
        .expect("Link")
        .to_string();
    let download = format!("{snapshot}/collection.json");
    assert!(
        links.contains(&format!(
            "<{}>; rel=\"item\"; type=\"application/json\"",
            demo.url(&download)
        )),
        "{links}"
    );
    let file = demo.served.get(&download);
    assert_eq!(file.status, 200);
    let on_disk = std::fs::read(demo.root.join("buffers").join(&hex)).expect("collection file");
    assert_eq!(file.body, on_disk);
    assert!(
        file.header("link")
            .is_some_and(|l| l.contains("rel=\"collection\""))
    );
    // A creator with an ORCID is an author.
    let links = demo
        .served
        .get("/dataset/testset")
        .header("link")
        .expect("Link")
        .to_string();
    assert!(
        links.contains("<https://orcid.org/0000-0002-1825-0097>; rel=\"author\""),
        "{links}"
    );
}

#[test]
fn latest_is_a_redirect_to_the_same_resource_of_the_current_snapshot() {
    let demo = demo();
    // `latest` stands for the current snapshot: a 307 to its URL, query kept,
    // for the snapshot, its distributions and its collection file.
    let dataset = demo.get("/dataset/testset?format=ttl", "").text();
    let current = dataset
        .split("hasCurrentVersion")
        .nth(1)
        .and_then(|rest| rest.split('<').nth(1))
        .and_then(|rest| rest.split('>').next())
        .expect("dcat:hasCurrentVersion <URL>")
        .to_string();
    let current = &current[current.find("/dataset/").expect("a dataset URL")..];
    for tail in [
        "?format=jsonld",
        "/collection.json",
        "/distribution/collection",
    ] {
        let (path, query) = tail.split_at(tail.find('?').unwrap_or(tail.len()));
        let moved = demo.served.get(&format!("/dataset/testset/latest{tail}"));
        assert_eq!(moved.status, 307, "{tail}");
        assert_eq!(
            moved.header("location"),
            Some(format!("{current}{path}{query}").as_str()),
            "{tail}"
        );
        let target = demo.served.get(&format!("{current}{path}{query}"));
        assert_eq!(target.status, 200, "{tail}");
    }
    assert_eq!(demo.served.get("/dataset/nothing/latest").status, 404);
}

#[test]
fn the_current_release_is_the_newest_and_every_page_snippet_names_one_record() {
    let demo = demo();
    // `cells`: 2025-03-01 in four flavours (json, json+gzip, json+bzip2, yaml),
    // then 2025-04-01 as json: the current release is 2025-04-01.
    let newest = demo
        .served
        .get("/machine/find_checksum?dataset=cells&date=2025-04-01");
    assert_eq!(newest.status, 200, "{}", newest.text());
    let newest = newest.text().trim().to_string();
    let moved = demo.served.get("/dataset/cells/latest");
    assert_eq!(moved.status, 307);
    assert_eq!(
        moved.header("location"),
        Some(format!("/dataset/cells/{newest}").as_str())
    );
    let turtle = demo.get("/dataset/cells", "text/turtle").text();
    let current = turtle
        .split("hasCurrentVersion")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("dcat:hasCurrentVersion <URL>");
    assert!(current.ends_with(&newest), "{current}");
    // Every URL a dataset page prints answers 200: its snippets name a query
    // that resolves to exactly one record, and a manifest only where there are
    // URLs to list (else the collection).
    for dataset in ["cells", "structures", "testset"] {
        let page = demo.get(&format!("/dataset/{dataset}"), "text/html").text();
        let page = page.replace("&amp;", "&");
        let urls: Vec<&str> = page
            .split("curl '")
            .skip(1)
            .filter_map(|rest| rest.split('\'').next())
            .collect();
        assert!(
            urls.iter()
                .any(|url| url.contains("/machine/find_distribution?")),
            "{dataset}: {urls:?}"
        );
        for url in urls {
            let host = url.find("://").map_or(0, |i| i + 3);
            let target = &url[host + url[host..].find('/').expect("a path")..];
            let answer = demo.served.get(target);
            assert_eq!(answer.status, 200, "{dataset}: {target}: {}", answer.text());
        }
    }
}

#[test]
fn the_ldp_containers_redirect_to_the_documents_that_describe_them() {
    let demo = demo();
    // The LDP containers the documents describe are dereferenceable: a 303 to
    // the document that describes them.
    for (container, document) in [
        ("/dataset/", "/"),
        ("/dataset/testset/", "/dataset/testset"),
    ] {
        let seen = demo.get(container, "text/turtle");
        assert_eq!(seen.status, 303, "{container}");
        assert_eq!(seen.header("location"), Some(document), "{container}");
        let described = demo.get(document, "text/turtle").text();
        let iri = format!("<{}>", demo.url(container));
        let about = described
            .split(" .\n")
            .find(|statement| statement.trim_start().starts_with(&iri))
            .unwrap_or_else(|| panic!("{iri} described in {document}: {described}"));
        assert!(about.contains("DirectContainer"), "{about}");
    }
    assert_eq!(demo.served.get("/dataset/nothing/").status, 404);
}

#[test]
fn what_is_not_there_is_a_404_never_a_500() {
    let (demo, hex, snapshot) = testset();
    // What is not there is a 404, never a 500.
    let missing = "0".repeat(64);
    for path in [
        "/dataset/nothing".to_string(),
        "/dataset/..%2Ffair.toml".to_string(),
        format!("/dataset/testset/{missing}"),
        format!("/dataset/testset/{missing}/collection.json"),
        format!("{snapshot}/distribution/nothing"),
        format!("/dataset/cells/{hex}"),
    ] {
        assert_eq!(demo.served.get(&path).status, 404, "{path}");
    }
}

#[test]
fn with_a_base_url_the_metadata_names_its_resources_under_it() {
    let base = "https://fair.example.org/";
    let demo = built(
        |_| {},
        |root| {
            InProc::open(&fairserver::Options {
                base_url: Some(base.into()),
                ..inproc::options(root)
            })
        },
    );
    for path in ["/", "/dataset/testset"] {
        let turtle = demo.get(path, "text/turtle").text();
        assert!(
            turtle.contains(&format!("<{base}dataset/testset>")),
            "{turtle}"
        );
        assert!(!turtle.contains(&demo.url("/")), "{turtle}");
        let head = demo.served.request("HEAD", path, &[]);
        let links = head.header("link").expect("Link");
        let url = format!("{base}{}", &path[1..]);
        assert!(
            links.contains(&format!("<{url}>; rel=\"cite-as\"")),
            "{links}"
        );
    }
}

#[test]
fn health_warns_about_datasets_without_license_or_description() {
    // Without a default license in fair.toml, a header without one is warned about.
    let demo = demo_with(|root| {
        let config = std::fs::read_to_string(root.join("fair.toml")).expect("fair.toml");
        let config: String = config
            .lines()
            .filter(|l| !l.starts_with("license"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(root.join("fair.toml"), config).expect("write");
    });
    let headers = demo.root.join("dataset_header");
    std::fs::write(headers.join("cells.yaml"), "title: Cells\nkeywords: 3x\n").expect("write");
    std::fs::write(
        headers.join("testset.json"),
        r#"{"title": "T", "description": "D", "license": "no such thing!"}"#,
    )
    .expect("write");
    let started = std::time::Instant::now();
    let warnings = loop {
        let health: Value = serde_json::from_slice(&demo.served.get("/health").body).expect("JSON");
        let warnings: Vec<String> = health["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| w.as_str().unwrap_or_default().to_string())
            .collect();
        // Until the server has reloaded the edited headers.
        let edited = warnings.iter().any(|w| w.starts_with("dataset cells:"));
        if edited || started.elapsed().as_secs() > 10 {
            break warnings;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let all = warnings.join("\n");
    assert!(all.contains("dataset cells: no description"), "{all}");
    assert!(all.contains("dataset cells: no license"), "{all}");
    assert!(
        all.contains("dataset testset: header field license: \"no such thing!\""),
        "{all}"
    );
    assert!(
        all.contains(
            "dataset testset: description of 1 characters: Google Dataset Search wants 50 to 5000"
        ),
        "{all}"
    );
    assert!(!all.contains("structures"), "{all}");
}

/// The header of `fixtures/cson/cells.cson` as `fairserver.py` reads it (with
/// its bundled `pycson`, the `cson` package of PyPI).
fn pycson(path: &Path) -> Value {
    let code =
        "import cson, json, sys; print(json.dumps(cson.load(open(sys.argv[1], encoding='utf-8'))))";
    let out = run_python(&["-c", code, path_str(path)]);
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn a_cson_header_is_served_with_the_values_fairserver_py_gives_and_unread_files_are_named() {
    let cson = crate::helpers::fixture("cson/cells.cson");
    let demo = demo_with(|root| {
        let headers = root.join("dataset_header");
        std::fs::remove_file(headers.join("cells.yaml")).expect("remove");
        std::fs::copy(&cson, headers.join("cells.cson")).expect("copy");
        std::fs::write(headers.join("cells.toml"), "title = 'not read'\n").expect("write");
        std::fs::write(headers.join("testset.cson"), "title: 'second'\n").expect("write");
    });
    let answer = demo.served.get("/machine/dataset/cells");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let served: Value = serde_json::from_slice(&answer.body).expect("JSON");
    let mut expected = pycson(&cson);
    let records = std::fs::read(demo.root.join("distributions/cells.json")).expect("records");
    expected["distributions"] = serde_json::from_slice(&records).expect("JSON");
    assert_eq!(served, expected);
    // The values reach the FAIR metadata too.
    let page = demo.get("/dataset/cells", "text/html").text();
    assert!(page.contains("Demo cells (CSON header)"), "{page}");

    let health: Value = serde_json::from_slice(&demo.served.get("/health").body).expect("JSON");
    let warnings = health["warnings"].to_string();
    for expected in [
        "dataset_header/cells.toml: not read: a dataset header is DATASET.json, DATASET.yaml, DATASET.yml, DATASET.cson",
        "dataset_header/testset.cson: not read: dataset_header/testset.json is read instead",
    ] {
        assert!(
            warnings.contains(expected),
            "{expected} missing from {warnings}"
        );
    }
}

#[test]
fn a_malformed_cson_header_is_a_problem_naming_its_file_line_and_column() {
    let demo = demo_with(|root| {
        let headers = root.join("dataset_header");
        std::fs::remove_file(headers.join("cells.yaml")).expect("remove");
        std::fs::write(
            headers.join("cells.cson"),
            "title: 'ok'\nlicense: CC0-1.0\n",
        )
        .expect("write");
    });
    let health: Value = serde_json::from_slice(&demo.served.get("/health").body).expect("JSON");
    let problems = health.to_string();
    assert!(
        problems.contains("dataset_header/cells.cson: line 2, column 10: expected a value"),
        "{problems}"
    );
    // The dataset is still served, without a header, as with any unreadable one.
    assert_eq!(demo.served.get("/dataset/testset").status, 200);
}

/// The triples of a Turtle document, each as an N-Triples line without the
/// final ` .`.
fn ntriples(turtle: &[u8]) -> Vec<String> {
    oxttl::TurtleParser::new()
        .for_slice(turtle)
        .map(|t| t.expect("Turtle").to_string())
        .collect()
}

/// The objects of `subject predicate ?` (N-Triples terms).
fn objects(triples: &[String], subject: &str, predicate: &str) -> Vec<String> {
    let prefix = format!("{subject} <{predicate}> ");
    triples
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// The schema.org JSON-LD of an HTML page.
fn page_json_ld(page: &str) -> Value {
    let start = page
        .find("<script type=\"application/ld+json\">")
        .expect("JSON-LD script")
        + "<script type=\"application/ld+json\">".len();
    let end = start + page[start..].find("</script>").expect("end of script");
    serde_json::from_str(&page[start..end]).expect("JSON-LD")
}

const DCT: &str = "http://purl.org/dc/terms/";
const PROV: &str = "http://www.w3.org/ns/prov#";

/// The demo with a testset header that gives a DOI, a ROR creator, an
/// upstream source and conditions of access.
fn identified() -> Demo {
    demo_with(|root| {
        let header = serde_json::json!({
            "title": "Seamless testset",
            "description": "The six-file testset of the Seamless FAIR tools, in two versions.",
            "license": "CC0-1.0",
            "identifier": "doi:10.5281/zenodo.1234567",
            "source": "https://files.example.org/testset/",
            "conditions_of_access": "Cite the DOI when you use the data.",
            "creator": [
                {"name": "Josiah Carberry", "orcid": "https://orcid.org/0000-0002-1825-0097"},
                {"name": "Example University", "ror": "https://ror.org/02mhbdp94"}
            ],
            "link": "https://example.org/testset"
        });
        let path = root.join("dataset_header/testset.json");
        std::fs::write(path, header.to_string()).expect("write");
    })
}

#[test]
fn a_header_identifier_is_cite_as_dct_identifier_and_schema_org_identifier() {
    let demo = identified();
    let doi = "https://doi.org/10.5281/zenodo.1234567";
    let dataset = demo.get("/dataset/testset", "text/html");
    let links = dataset.header("link").expect("Link").to_string();
    assert!(
        links.contains(&format!("<{doi}>; rel=\"cite-as\"")),
        "{links}"
    );
    let page = dataset.text();
    for link in [
        format!("<link rel=\"cite-as\" href=\"{doi}\">"),
        "<link rel=\"author\" href=\"https://orcid.org/0000-0002-1825-0097\">".into(),
        "<link rel=\"type\" href=\"https://schema.org/Dataset\">".into(),
        "<link rel=\"type\" href=\"https://schema.org/AboutPage\">".into(),
    ] {
        assert!(page.contains(&link), "{link} missing from the page's head");
    }
    // DCAT: dct:identifier and an adms:Identifier with the DOI and its scheme.
    let url = format!("<{}>", demo.url("/dataset/testset"));
    let triples = ntriples(&demo.get("/dataset/testset", "text/turtle").body);
    let identifiers = objects(&triples, &url, &format!("{DCT}identifier"));
    assert!(
        identifiers.contains(&format!("\"{doi}\"")),
        "{identifiers:?}"
    );
    let adms = objects(&triples, &url, "http://www.w3.org/ns/adms#identifier");
    let notation = objects(
        &triples,
        &adms[0],
        "http://www.w3.org/2004/02/skos/core#notation",
    );
    assert_eq!(notation, ["\"10.5281/zenodo.1234567\""]);
    // schema.org: a PropertyValue with the scheme.
    let schema = page_json_ld(&page);
    assert_eq!(schema["identifier"]["@type"], "PropertyValue");
    assert_eq!(schema["identifier"]["propertyID"], "doi");
    assert_eq!(schema["identifier"]["url"], doi);
    // A snapshot is cited by its own URL.
    let (_, snapshot) = first_snapshot(&demo);
    let links = demo
        .served
        .get(&snapshot)
        .header("link")
        .unwrap_or_default()
        .to_string();
    assert!(
        links.contains(&format!("<{}>; rel=\"cite-as\"", demo.url(&snapshot))),
        "{links}"
    );
}

/// The checksum and path of the first snapshot of `testset`.
fn first_snapshot(demo: &Demo) -> (String, String) {
    let header: Value =
        serde_json::from_slice(&demo.served.get("/machine/dataset/testset").body).expect("JSON");
    let hex = header["distributions"][0]["checksum"]
        .as_str()
        .expect("hex");
    (hex.to_string(), format!("/dataset/testset/{hex}"))
}

#[test]
fn access_rights_and_provenance_are_in_the_dcat_and_schema_org_descriptions() {
    let demo = identified();
    let (_, snapshot) = first_snapshot(&demo);
    let url = format!("<{}>", demo.url(&snapshot));
    let triples = ntriples(&demo.get(&snapshot, "text/turtle").body);
    let public = "<http://publications.europa.eu/resource/authority/access-right/PUBLIC>";
    assert_eq!(
        objects(&triples, &url, &format!("{DCT}accessRights")),
        [public]
    );
    assert_eq!(
        objects(&triples, &url, &format!("{PROV}wasDerivedFrom")),
        ["<https://files.example.org/testset/>"]
    );
    let generated = objects(&triples, &url, &format!("{PROV}generatedAtTime"));
    assert!(
        generated.len() == 1
            && generated[0].ends_with("^^<http://www.w3.org/2001/XMLSchema#dateTime>"),
        "{generated:?}"
    );
    let activity = objects(&triples, &url, &format!("{PROV}wasGeneratedBy"));
    assert_eq!(
        objects(
            &triples,
            &activity[0],
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        ),
        [format!("<{PROV}Activity>")]
    );
    let software = objects(&triples, &activity[0], &format!("{PROV}wasAssociatedWith"));
    assert_eq!(
        objects(
            &triples,
            &software[0],
            "http://www.w3.org/2002/07/owl#versionInfo"
        ),
        [format!("\"{}\"", env!("CARGO_PKG_VERSION"))]
    );
    // A restricted dataset says so.
    let restricted = demo_with(|root| {
        let path = root.join("dataset_header/cells.yaml");
        let mut text = std::fs::read_to_string(&path).expect("header");
        text.push_str("access_rights: restricted\n");
        std::fs::write(path, text).expect("write");
    });
    let page = restricted.get("/dataset/cells", "text/html").text();
    assert_eq!(page_json_ld(&page)["isAccessibleForFree"], false);
    let triples = ntriples(&restricted.get("/dataset/cells", "text/turtle").body);
    let url = format!("<{}>", restricted.url("/dataset/cells"));
    assert_eq!(
        objects(&triples, &url, &format!("{DCT}accessRights")),
        ["<http://publications.europa.eu/resource/authority/access-right/RESTRICTED>"]
    );
    // schema.org of the public one.
    let schema = page_json_ld(&demo.get("/dataset/testset", "text/html").text());
    assert_eq!(schema["isAccessibleForFree"], true);
    assert_eq!(
        schema["conditionsOfAccess"],
        "Cite the DOI when you use the data."
    );
}

#[test]
fn schema_org_follows_google_dataset_search_rules() {
    let demo = identified();
    let page = demo.get("/dataset/testset", "text/html").text();
    let schema = page_json_ld(&page);
    let creators = schema["creator"].as_array().expect("creators");
    assert_eq!(creators[0]["@type"], "Person");
    assert_eq!(
        creators[0]["sameAs"],
        "https://orcid.org/0000-0002-1825-0097"
    );
    assert_eq!(
        creators[0]["identifier"],
        "https://orcid.org/0000-0002-1825-0097"
    );
    assert!(creators[0].get("@id").is_none(), "{}", creators[0]);
    assert_eq!(creators[1]["@type"], "Organization");
    assert_eq!(creators[1]["name"], "Example University");
    assert_eq!(creators[1]["sameAs"], "https://ror.org/02mhbdp94");
    assert_eq!(schema["sameAs"], "https://example.org/testset");
    let coverage = schema["temporalCoverage"]
        .as_str()
        .expect("temporalCoverage");
    assert!(coverage.contains('/') || coverage.len() == 10, "{coverage}");
    assert!(
        schema["datePublished"]
            .as_str()
            .is_some_and(|d| d <= schema["dateModified"].as_str().unwrap_or_default())
    );
    // Every Dataset, nested ones included, has a description of 50 to 5000
    // characters.
    let parts = schema["hasPart"].as_array().expect("hasPart");
    assert!(!parts.is_empty());
    for dataset in parts.iter().chain([&schema]) {
        let n = dataset["description"]
            .as_str()
            .map_or(0, |d| d.chars().count());
        assert!((50..=5000).contains(&n), "{dataset}");
    }
    let root = page_json_ld(&demo.get("/", "text/html").text());
    for dataset in root["dataset"].as_array().expect("datasets") {
        assert!(dataset["description"].as_str().is_some(), "{dataset}");
    }
    // A ROR or ORCID creator without a name shows as its registry and ID, and
    // /health says to name it.
    let bare = demo_with(|root| {
        let path = root.join("dataset_header/cells.yaml");
        let mut text = std::fs::read_to_string(&path).expect("header");
        text.push_str("creator: https://ror.org/02mhbdp94\n");
        std::fs::write(path, text).expect("write");
    });
    let page = bare.get("/dataset/cells", "text/html").text();
    assert!(page.contains(">ROR 02mhbdp94</a>"), "{page}");
    assert_eq!(page_json_ld(&page)["creator"][0]["name"], "ROR 02mhbdp94");
    let health = bare.served.get("/health").text();
    assert!(
        health.contains("creator[0]: https://ror.org/02mhbdp94 has no name"),
        "{health}"
    );
}

/// The demo without fair.toml's `[catalogue]` (as every Seamless FAIR dir),
/// with `edit` applied to the catalogue, served by `fair serve`.
fn without_catalogue_table(edit: impl FnOnce(&Path)) -> Demo<Served> {
    built(
        |root| {
            let config = std::fs::read_to_string(root.join("fair.toml")).expect("fair.toml");
            let kept = &config[..config.find("[catalogue]").expect("[catalogue]")];
            std::fs::write(root.join("fair.toml"), kept).expect("write");
            edit(root);
        },
        Served::start,
    )
}

#[test]
fn without_a_catalogue_table_the_offline_checker_passes_and_health_lists_what_to_set() {
    // Headers that agree on a license: the catalogue's is theirs.
    let demo = without_catalogue_table(|root| {
        let path = root.join("dataset_header/structures.yaml");
        let text = std::fs::read_to_string(&path).expect("header");
        let text = text.replace("license: CC-BY-4.0", "license: CC0-1.0");
        std::fs::write(path, text).expect("write");
    });
    let out = run_python(&[
        &script("fair_http_check.py"),
        &demo.url("/"),
        "--shacl-profiles",
        "fdp-v2,dcat-ap",
    ]);
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
    let root = demo.get("/", "text/turtle");
    let links = root.header("link").expect("Link").to_string();
    assert!(
        links.contains("<https://spdx.org/licenses/CC0-1.0>; rel=\"license\""),
        "{links}"
    );
    assert!(
        root.text().contains("\"catalogue\""),
        "the directory's name is the title"
    );
    let health: Value = serde_json::from_slice(&demo.served.get("/health").body).expect("JSON");
    let warnings = health["warnings"].to_string();
    for key in [
        "title",
        "description",
        "publisher",
        "contact_email",
        "license",
    ] {
        assert!(
            warnings.contains(&format!("fair.toml: no [catalogue] {key}: ")),
            "{key} missing from {warnings}"
        );
    }
    // Headers that disagree: no license is made up, and /health says so.
    let demo = without_catalogue_table(|_| {});
    let health: Value = serde_json::from_slice(&demo.served.get("/health").body).expect("JSON");
    let warnings = health["warnings"].to_string();
    assert!(
        warnings.contains("no [catalogue] license: the datasets' headers do not agree on one"),
        "{warnings}"
    );
    let links = demo
        .served
        .get("/")
        .header("link")
        .unwrap_or_default()
        .to_string();
    assert!(!links.contains("rel=\"license\""), "{links}");
}

/// The `void:dataDump` of the root of `demo`.
fn data_dump(demo: &Demo<Served>) -> String {
    let root = demo.url("/");
    let triples = ntriples(&demo.get("/", "text/turtle").body);
    let dumps = objects(
        &triples,
        &format!("<{root}>"),
        "http://rdfs.org/ns/void#dataDump",
    );
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    dumps[0].trim_matches(['<', '>']).to_string()
}

/// What ckanext-dcat's RDFParser (profile euro_dcat_ap_3) harvests from `url`,
/// following the Hydra pages.
fn ckan_harvest(url: &str) -> Value {
    serde_json::from_str(&run_python(&[&script("ckan_harvest.py"), url])).expect("JSON")
}

#[test]
fn ckan_s_dcat_harvester_gets_every_dataset_with_resources_and_a_license() {
    let demo = demo_over_tcp();
    let harvest = ckan_harvest(&data_dump(&demo));
    assert_eq!(harvest["pages"], 1);
    let datasets = harvest["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 3, "{harvest}");
    for dataset in datasets {
        assert!(dataset["resources"].as_u64() >= Some(1), "{dataset}");
        // CC0-1.0 and CC-BY-4.0, matched by their titles.
        let license = dataset["license_id"].as_str().unwrap_or_default();
        assert!(["cc-zero", "cc-by"].contains(&license), "{dataset}");
    }
    assert_eq!(demo.served.get("/catalogue?page=2").status, 404);
    assert_eq!(demo.served.get("/catalogue?page=x").status, 400);
    assert_eq!(demo.get("/catalogue", "text/html").status, 406);
}

#[test]
fn a_large_catalogue_s_dump_is_paged_and_the_harvester_follows_the_pages() {
    // 101 more datasets (copies of testset's records, without a header): 104 in
    // all, two pages of 100.
    let demo = built(
        |root| {
            let records = root.join("distributions/testset.json");
            for i in 0..101 {
                let copy = root.join(format!("distributions/copy{i:03}.json"));
                std::fs::copy(&records, copy).expect("copy");
            }
        },
        Served::start,
    );
    let harvest = ckan_harvest(&data_dump(&demo));
    assert_eq!(harvest["pages"], 2, "{harvest}");
    let datasets = harvest["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 104);
    assert!(
        datasets
            .iter()
            .all(|d| d["resources"].as_u64() >= Some(1) && d["license_id"] != ""),
        "{harvest}"
    );
}

#[test]
fn no_page_of_the_demo_scrolls_sideways_on_a_phone() {
    let demo = demo_over_tcp();
    let shots = tempfile::tempdir().expect("tempdir");
    let mut wide = Vec::new();
    let pages = resources(&demo);
    for (i, path) in pages.iter().enumerate() {
        let shot = shots.path().join(format!("{i}.png"));
        let out = run_python(&[
            &script("browser_check.py"),
            &demo.url(path),
            path_str(&shot),
            "--width",
            "390",
        ]);
        let page: Value = serde_json::from_str(&out).expect("JSON");
        if page["overflow"].as_i64() != Some(0) {
            wide.push(format!("{path}: {} px too wide", page["overflow"]));
        }
    }
    assert!(pages.len() > 20, "{pages:?}");
    assert!(wide.is_empty(), "{wide:#?}");
}
