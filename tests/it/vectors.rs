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
    let f = Fixture::new("sha3-256", &upstream_testset());
    let report = f.index(&[], 0);
    let bytes = fs::read(f.deepfolder()).expect("deepfolder");
    assert_eq!(bytes.len(), 485);
    let expected = "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41";
    assert_eq!(HashAlgo::Sha3_256.hash(&bytes).to_hex(), expected);
    assert_eq!(reported(&report, "c").as_deref(), Some(expected));
    assert_eq!(report["files"], 6);
    assert_eq!(report["bytes"], 23);
}

fn b3sum(path: &std::path::Path) -> String {
    let out = Command::new("b3sum")
        .arg("--no-names")
        .arg(path)
        .output()
        .expect("b3sum is installed (apt-get install b3sum; .ci/run does it)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[test]
fn blake3_catalogue_checksum_equals_b3sum_of_the_file() {
    let f = Fixture::new("blake3", &upstream_testset());
    let report = f.index(&[], 0);
    assert_eq!(reported(&report, "c"), Some(b3sum(&f.deepfolder())));
    // Every element checksum is b3sum of its source file too.
    let seven = f.collection()["seven.txt"].as_str().map(str::to_owned);
    assert_eq!(seven, Some(b3sum(&f.source.join("seven.txt"))));
}
