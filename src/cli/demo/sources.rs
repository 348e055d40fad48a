//! What the demo catalogue is made of: the source trees (the upstream Seamless
//! testset, built into the binary, and small generated ones), their action files,
//! the dataset headers, and the releases to snapshot.

use std::fs;
use std::path::Path;

use anyhow::Context;
use faircore::Writer;

/// The upstream six-file testset (`fixtures/upstream-testset/`).
pub const TESTSET: [(&str, &[u8]); 6] = [
    (
        "5.txt",
        include_bytes!("../../../fixtures/upstream-testset/5.txt"),
    ),
    (
        "8.txt",
        include_bytes!("../../../fixtures/upstream-testset/8.txt"),
    ),
    (
        "9.txt",
        include_bytes!("../../../fixtures/upstream-testset/9.txt"),
    ),
    (
        "seven.txt",
        include_bytes!("../../../fixtures/upstream-testset/seven.txt"),
    ),
    (
        "six.txt",
        include_bytes!("../../../fixtures/upstream-testset/six.txt"),
    ),
    (
        "ten.txt",
        include_bytes!("../../../fixtures/upstream-testset/ten.txt"),
    ),
];

/// The testset's second version: as the golden transcript's history has it
/// (`8.txt` and `seven.txt` deleted, `5.txt` changed, three files added).
const TESTSET_V2: [(&str, &[u8]); 7] = [
    ("5.txt", include_bytes!("../../../fixtures/golden/v2/5.txt")),
    ("9.txt", include_bytes!("../../../fixtures/golden/v2/9.txt")),
    (
        "eleven.txt",
        include_bytes!("../../../fixtures/golden/v2/eleven.txt"),
    ),
    (
        "six.txt",
        include_bytes!("../../../fixtures/golden/v2/six.txt"),
    ),
    (
        "ten.txt",
        include_bytes!("../../../fixtures/golden/v2/ten.txt"),
    ),
    (
        "thirteen.txt",
        include_bytes!("../../../fixtures/golden/v2/thirteen.txt"),
    ),
    (
        "twelve.txt",
        include_bytes!("../../../fixtures/golden/v2/twelve.txt"),
    ),
];

/// Action files, by name (written to `actions/` of the demo directory).
const ACTIONS: [(&str, &str); 3] = [
    (
        "testset.yaml",
        "\
# The upstream testset: two mirrors, the second one gzipped.
collection: testset
cross_device: false
actions:
  - action: build_download_index
    source_file: '(?P<name>[^.]+)\\.(?P<ext>.*)'
    urls:
      - 'https://mirror1.example.org/testset/{name}.{ext}'
      - url: 'https://mirror2.example.org/testset/{name}.{ext}.gz'
        compression: gzip
  - action: intern_collection
    hardlink: false
  - action: deepfolder
",
    ),
    (
        "structures.yaml",
        "\
# A PDB-like mirror: entries divided by the middle two characters of their code.
collection: structures
cross_device: false
actions:
  - action: build_download_index
    source_file: '(?P<mid>.{2})/(?P<code>.{4})\\.cif'
    urls:
      - url: 'https://files.example.org/pub/structures/{mid}/{code}.cif.gz'
        compression: gzip
      - 'https://mirror.example.org/structures/{code}.cif'
  - action: intern_collection
    hardlink: false
  - action: deepfolder
",
    ),
    (
        "cells.yaml",
        "\
# Every JSON file becomes a plain cell of the deepcell `cells`, keyed by its name.
collection: cells-files
cross_device: false
actions:
  - action: operation
    celltype: plain
    collection: cells-plain
  - action: deepcell
    source_collection: cells-plain
    collection: cells
    source_file: '(.*)\\.json'
    target_key: '{0}'
",
    ),
];

/// What the demo's fair.toml says of the catalogue (`[catalogue]`).
pub fn catalogue_meta() -> faircore::CatalogueMeta {
    faircore::CatalogueMeta {
        title: Some("fair demo catalogue".into()),
        description: Some(
            "Three small datasets built by `fair demo`: the Seamless testset, monthly \
             releases of a structure mirror and a deepcell in several formats."
                .into(),
        ),
        publisher: Some("The fair developers".into()),
        publisher_url: Some("https://example.org/fair".into()),
        contact_email: Some("fair@example.org".into()),
        license: Some("CC0-1.0".into()),
        theme: None,
    }
}

/// Dataset headers, by file name (written to `dataset_header/`).
const HEADERS: [(&str, &str); 3] = [
    (
        "testset.json",
        r#"{
  "title": "Seamless testset",
  "description": "The six-file testset of the Seamless FAIR tools, in two versions.",
  "license": "CC0-1.0",
  "keywords": ["demo", "seamless"],
  "creator": [{"name": "Josiah Carberry", "orcid": "https://orcid.org/0000-0002-1825-0097"}],
  "contact_point": {"name": "Demo data team", "email": "data@example.org"},
  "link": "https://example.org/testset"
}
"#,
    ),
    (
        "structures.yaml",
        "\
title: Demo structures
description: >-
  Monthly releases of a small mirror of mmCIF-like entries, divided by the
  middle two characters of their code, as the PDB divides its archive.
license: CC-BY-4.0
keywords: [demo, structures, mmcif]
creator:
  name: Josiah Carberry
  orcid: https://orcid.org/0000-0002-1825-0097
themes:
  - http://publications.europa.eu/resource/authority/data-theme/TECH
link: https://example.org/structures
",
    ),
    (
        "cells.yaml",
        "\
title: Demo cells
description: JSON documents as a Seamless deepcell, in several formats and compressions.
license: CC0-1.0
keywords: [demo, deepcell]
link: https://example.org/cells
",
    ),
];

/// One distribution of the demo: which source tree is indexed with which action
/// file, and the release its collection is snapshotted as.
#[derive(Debug)]
pub struct Release {
    /// The source directory, under `sources/`.
    pub source: &'static str,
    /// The action file, under `actions/`.
    pub actions: &'static str,
    /// The dataset that gets the distribution.
    pub dataset: &'static str,
    /// The collection snapshotted.
    pub collection: &'static str,
    /// Version, date, format and compression.
    pub version: Option<&'static str>,
    pub date: Option<&'static str>,
    pub format: Option<&'static str>,
    pub compression: Option<&'static str>,
}

const fn release(
    source: &'static str,
    actions: &'static str,
    dataset: &'static str,
    version: Option<&'static str>,
    date: &'static str,
) -> Release {
    Release {
        source,
        actions,
        dataset,
        collection: dataset,
        version,
        date: Some(date),
        format: None,
        compression: None,
    }
}

const fn cells(
    source: &'static str,
    date: &'static str,
    format: &'static str,
    compression: Option<&'static str>,
) -> Release {
    Release {
        format: Some(format),
        compression,
        ..release(source, "cells.yaml", "cells", None, date)
    }
}

/// The releases, in the order they are made.
pub const RELEASES: [Release; 10] = [
    release(
        "testset-v1",
        "testset.yaml",
        "testset",
        Some("1"),
        "2025-01-15",
    ),
    release(
        "testset-v2",
        "testset.yaml",
        "testset",
        Some("2"),
        "2025-02-14",
    ),
    release(
        "structures-2025-01",
        "structures.yaml",
        "structures",
        Some("2025.01"),
        "2025-01-01",
    ),
    release(
        "structures-2025-02",
        "structures.yaml",
        "structures",
        Some("2025.02"),
        "2025-02-01",
    ),
    release(
        "structures-2025-03",
        "structures.yaml",
        "structures",
        Some("2025.03"),
        "2025-03-01",
    ),
    cells("cells-2025-03", "2025-03-01", "json", None),
    cells("cells-2025-03", "2025-03-01", "json", Some("gzip")),
    cells("cells-2025-03", "2025-03-01", "json", Some("bzip2")),
    cells("cells-2025-03", "2025-03-01", "yaml", None),
    cells("cells-2025-04", "2025-04-01", "json", None),
];

/// The structure entries of month `month` (1, 2 or 3) as (path, content): 40
/// entries, four new ones each month, one in ten revised each month.
fn structures(month: u32) -> Vec<(String, String)> {
    (month * 4..40 + month * 4)
        .map(|i| {
            // 97 is coprime to 4096: distinct codes.
            let code = format!("{}{:03x}", 1 + i % 9, i * 97 % 4096);
            let revision = if i % 10 < month { month } else { 0 };
            let mut text = format!(
                "data_{upper}\n_entry.id {upper}\n_pdbx_audit_revision_history.ordinal {revision}\n",
                upper = code.to_uppercase()
            );
            for atom in 0..(i % 7 + 1) * 5 {
                text.push_str(&format!(
                    "ATOM {atom} C {:.3} {:.3} {:.3}\n",
                    f64::from(atom) * 1.5,
                    f64::from(i) * 0.25,
                    f64::from(atom + i) * 0.125
                ));
            }
            (format!("{}/{code}.cif", &code[1..3]), text)
        })
        .collect()
}

/// The JSON documents of the cells dataset, as (file, content).
fn cell_documents(date: &str) -> Vec<(String, String)> {
    ["alpha", "beta", "gamma", "delta"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                format!("{name}.json"),
                format!("{{\"name\": \"{name}\", \"index\": {i}, \"updated\": \"{date}\"}}\n"),
            )
        })
        .collect()
}

fn write_all<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> anyhow::Result<()> {
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
        }
        fs::write(&path, bytes).with_context(|| path.display().to_string())?;
    }
    Ok(())
}

/// Writes `sources/` and `actions/` under `base`.
pub fn write(base: &Path) -> anyhow::Result<()> {
    let sources = base.join("sources");
    write_all(&sources.join("testset-v1"), TESTSET)?;
    write_all(&sources.join("testset-v2"), TESTSET_V2)?;
    for month in 1..=3 {
        let files = structures(month);
        write_all(
            &sources.join(format!("structures-2025-0{month}")),
            files.iter().map(|(p, t)| (p.as_str(), t.as_bytes())),
        )?;
    }
    for date in ["2025-03", "2025-04"] {
        let files = cell_documents(date);
        write_all(
            &sources.join(format!("cells-{date}")),
            files.iter().map(|(p, t)| (p.as_str(), t.as_bytes())),
        )?;
    }
    write_all(
        &base.join("actions"),
        ACTIONS.map(|(name, text)| (name, text.as_bytes())),
    )
}

/// Publishes the dataset headers into the catalogue.
pub fn write_headers(writer: &Writer<'_>) -> anyhow::Result<()> {
    let dir = writer.catalogue().layout().headers_dir();
    fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    for (name, text) in HEADERS {
        writer.publish(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}
