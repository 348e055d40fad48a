//! The reference's end-to-end vector and agreement with b3sum.

use std::fs;
use std::process::Command;

use faircore::HashAlgo;

use crate::helpers::*;

fn upstream_testset() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/upstream-testset");
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("fixtures")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().into_string().expect("utf-8"),
                fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn sha3_catalogue_reproduces_the_seamless_deepfolder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("source");
    write_tree(&source, &upstream_testset());
    let root = init(tmp.path(), "sha3-256");
    let report = index_json(&root, &source, "testset", &[], 0);
    let bytes = fs::read(root.join("deepfolders/testset.json")).expect("deepfolder");
    assert_eq!(bytes.len(), 485);
    let expected = "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41";
    assert_eq!(HashAlgo::Sha3_256.hash(&bytes).to_hex(), expected);
    assert_eq!(reported(&report, "testset").as_deref(), Some(expected));
    assert_eq!(report["files"], 6);
    assert_eq!(report["bytes"], 23);
}

#[test]
fn blake3_catalogue_checksum_equals_b3sum_of_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("source");
    write_tree(&source, &upstream_testset());
    let root = init(tmp.path(), "blake3");
    let report = index_json(&root, &source, "testset", &[], 0);
    let file = root.join("deepfolders/testset.json");
    let out = Command::new("b3sum")
        .arg("--no-names")
        .arg(&file)
        .output()
        .expect("b3sum is installed (apt-get install b3sum; .ci/run does it)");
    assert!(out.status.success());
    let b3 = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(reported(&report, "testset").as_deref(), Some(b3.trim()));
    // Every element checksum is b3sum of its source file too.
    let collection: serde_json::Value =
        serde_json::from_slice(&fs::read(&file).expect("read")).expect("json");
    let out = Command::new("b3sum")
        .arg("--no-names")
        .arg(source.join("seven.txt"))
        .output()
        .expect("b3sum");
    assert_eq!(
        collection["seven.txt"].as_str(),
        Some(String::from_utf8_lossy(&out.stdout).trim())
    );
}
