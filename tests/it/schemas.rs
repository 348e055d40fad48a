//! What `fair` writes and prints matches the JSON Schemas in `schemas/`.

use std::fs;
use std::path::Path;

use crate::helpers::*;

fn validator(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("schema")).expect("schema JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn assert_valid(schema: &str, value: &serde_json::Value) {
    let v = validator(schema);
    let errors: Vec<String> = v.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{value}");
}

#[test]
fn outputs_and_files_match_their_schemas() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("src");
    write_tree(&source, &small_files(5));
    std::os::unix::fs::symlink("nowhere", source.join("dangling")).expect("symlink");
    let root = tmp.path().join("catalogue");
    fair_ok(
        &[
            "init",
            path_str(&root),
            "--base-url",
            "https://fair.example.org/",
            "--extra-digest",
            "md5,sha256",
        ],
        0,
    );

    let failed = index_json(&root, &source, "c", &[], 2);
    assert_valid("index-report.schema.json", &failed);
    let report = index_json(&root, &source, "c", &["--allow-errors"], 0);
    assert_valid("index-report.schema.json", &report);

    let bytes = fs::read(root.join("deepfolders/c.json")).expect("read");
    let collection: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_valid("collection.schema.json", &collection);

    let config = fs::read_to_string(root.join("fair.toml")).expect("read");
    let config: toml::Value = toml::from_str(&config).expect("toml");
    assert_valid(
        "fair-toml.schema.json",
        &serde_json::to_value(config).expect("as JSON"),
    );

    // And the schemas are not vacuous.
    let bad = serde_json::json!({"collections": {"c": "XYZ"}, "files": 1});
    assert!(!validator("index-report.schema.json").is_valid(&bad));
}

/// An action file as a JSON value, or `None` if it does not even parse.
fn action_file(path: &Path) -> Option<serde_json::Value> {
    let text = fs::read_to_string(path).expect("read");
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).ok()
    } else {
        serde_saphyr::from_str(&text).ok()
    }
}

#[test]
fn every_fixture_action_file_is_checked_against_the_schema() {
    let schema = validator("actions.schema.json");
    let pdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pdb");
    let mut good = 0;
    for entry in fs::read_dir(&pdb).expect("fixtures/pdb") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "json") {
            let value = action_file(&path).expect("a good action file parses");
            let errors: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            good += 1;
        }
    }
    assert!(good >= 2);
    for (file, _, invalid) in crate::actions::bad_action_files() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/bad-actions")
            .join(&file);
        let valid = action_file(&path).is_some_and(|v| schema.is_valid(&v));
        assert_eq!(
            valid,
            !invalid,
            "{file}: the README says the schema finds it {}",
            if invalid { "invalid" } else { "valid" }
        );
    }
}

#[test]
fn distribution_files_and_records_match_their_schema() {
    let golden = fixture("golden/expected/distributions");
    for name in ["mydataset.json", "otherset.json"] {
        let value: serde_json::Value =
            serde_json::from_slice(&fs::read(golden.join(name)).expect("read")).expect("json");
        assert_valid("distribution.schema.json", &value);
    }
    let f = Fixture::new("blake3", &small_files(3));
    f.index(&[], 0);
    let out = fair_ok(
        &[
            "snapshot",
            path_str(&f.root),
            "ds",
            "c",
            "--date",
            "2025-01-31",
            "--json",
        ],
        0,
    );
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("record");
    assert_valid("distribution.schema.json", &serde_json::json!([record]));
    let file: serde_json::Value =
        serde_json::from_slice(&fs::read(f.root.join("distributions/ds.json")).expect("read"))
            .expect("json");
    assert_valid("distribution.schema.json", &file);
    let bad = serde_json::json!([{"checksum": "x", "type": "deepfolder", "keyorder": "y"}]);
    assert!(!validator("distribution.schema.json").is_valid(&bad));
}

#[test]
fn dataset_headers_match_their_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("demo");
    fair_ok(&["demo", "--dir", path_str(&base), "--no-serve"], 0);
    let headers = base.join("catalogue/dataset_header");
    let mut seen = 0;
    for entry in fs::read_dir(&headers).expect("dataset_header/") {
        let path = entry.expect("entry").path();
        let text = fs::read_to_string(&path).expect("read");
        let value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).expect("json")
        } else {
            serde_saphyr::from_str(&text).expect("yaml")
        };
        assert_valid("dataset-header.schema.json", &value);
        seen += 1;
    }
    assert_eq!(seen, 3);
    // The demo's fair.toml has a [catalogue] table.
    let config = fs::read_to_string(base.join("catalogue/fair.toml")).expect("fair.toml");
    let config: toml::Value = toml::from_str(&config).expect("toml");
    assert!(config.get("catalogue").is_some(), "{config}");
    let config = serde_json::to_value(config).expect("as JSON");
    assert_valid("fair-toml.schema.json", &config);
    let golden = fixture("golden/dataset_header/mydataset.json");
    let value = serde_json::from_slice(&fs::read(golden).expect("read")).expect("json");
    assert_valid("dataset-header.schema.json", &value);
    // Not vacuous: the shapes the server would skip are refused.
    for bad in [
        serde_json::json!({"license": "Creative Commons"}),
        serde_json::json!({"themes": ["not an IRI"]}),
        serde_json::json!({"creator": [{"orcid": "0000-0002"}]}),
        serde_json::json!({"title": ""}),
    ] {
        assert!(
            !validator("dataset-header.schema.json").is_valid(&bad),
            "{bad}"
        );
    }
}
