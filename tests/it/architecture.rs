//! The crate graph of DESIGN.md: `faircore` depends on no other crate of the
//! workspace; `indexer` (and later `fairserver`) only on `faircore`.

use std::fs;
use std::path::Path;

fn internal_dependencies(krate: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(krate)
        .join("Cargo.toml");
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(&path).expect("manifest")).expect("toml");
    let mut names = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) {
            names.extend(
                deps.keys()
                    .filter(|name| {
                        ["fair", "faircore", "indexer", "fairserver"].contains(&name.as_str())
                    })
                    .cloned(),
            );
        }
    }
    names
}

#[test]
fn libraries_depend_only_downwards() {
    assert!(internal_dependencies("faircore").is_empty());
    assert_eq!(internal_dependencies("indexer"), ["faircore"]);
}
