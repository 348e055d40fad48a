//! The schema.org description embedded in each landing page (what dataset search
//! engines read): `Dataset` with name, description, license, creator, version and
//! its downloads as `DataDownload` (`contentUrl`, `encodingFormat`). The context is
//! inline (`@vocab`), so the JSON-LD parses without fetching anything.

use faircore::Distribution;
use faircore::header::Agent;
use serde_json::{Value, json};

use super::{Entry, Part, Site, Subject, label};

/// A schema.org person or organisation.
fn agent(agent: &Agent, kind: &str) -> Value {
    let mut value = json!({"@type": kind, "name": agent.name});
    if let Some(iri) = &agent.iri {
        value["@id"] = json!(iri);
        value["url"] = json!(iri);
    }
    if let Some(email) = &agent.email {
        value["email"] = json!(email);
    }
    value
}

/// The downloads of a snapshot.
fn downloads(site: &Site<'_>, entry: &Entry<'_>, record: &Distribution) -> Vec<Value> {
    site.parts(record)
        .into_iter()
        .map(|part| download(site, entry, record, part))
        .collect()
}

/// One download of a snapshot.
fn download(site: &Site<'_>, entry: &Entry<'_>, record: &Distribution, part: Part) -> Value {
    match part {
        Part::Collection => {
            let mut value = json!({
                "@type": "DataDownload",
                "name": format!("Collection index of {}", entry.snapshot_title(record)),
                "contentUrl": site.download_url(entry.name, record),
                "encodingFormat": "application/json",
            });
            if let Some(size) = site.collection_size(record) {
                value["contentSize"] = json!(format!("{size} B"));
            }
            value
        }
        Part::Manifest(format) => json!({
            "@type": "DataDownload",
            "name": format!("{format} manifest of {}", entry.snapshot_title(record)),
            "contentUrl": site.manifest_url(record, format),
            "encodingFormat": format.media_type().split(';').next().unwrap_or("text/plain"),
        }),
    }
}

/// A dataset's common fields.
fn dataset(
    site: &Site<'_>,
    entry: &Entry<'_>,
    url: &str,
    name: String,
    description: String,
) -> Value {
    let meta = &entry.dataset.meta;
    let mut value = json!({
        "@context": {"@vocab": "https://schema.org/"},
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "name": name,
        "description": description,
        "identifier": url,
        "publisher": agent(&site.publisher(meta), "Organization"),
        "includedInDataCatalog": {"@type": "DataCatalog", "name": site.title(), "url": site.root()},
    });
    if let Some(license) = site.license(meta) {
        value["license"] = json!(license);
    }
    if !meta.creators.is_empty() {
        let creators: Vec<Value> = meta.creators.iter().map(|c| agent(c, "Person")).collect();
        value["creator"] = json!(creators);
    }
    if !meta.keywords.is_empty() {
        value["keywords"] = json!(meta.keywords);
    }
    value
}

/// The schema.org JSON-LD of `subject`.
pub fn describe(site: &Site<'_>, subject: &Subject<'_>) -> Value {
    match subject {
        Subject::Catalogue => {
            let datasets: Vec<Value> = site
                .view
                .datasets
                .iter()
                .map(|(name, dataset)| {
                    let entry = Entry { name, dataset };
                    json!({"@type": "Dataset", "name": entry.title(), "url": site.dataset_url(name)})
                })
                .collect();
            json!({
                "@context": {"@vocab": "https://schema.org/"},
                "@type": "DataCatalog",
                "@id": site.root(),
                "url": site.root(),
                "name": site.title(),
                "description": site.description(),
                "dataset": datasets,
            })
        }
        Subject::Dataset(entry) => {
            let url = site.dataset_url(entry.name);
            let mut value = dataset(site, entry, &url, entry.title(), entry.description());
            if let Some(current) = entry.current() {
                let record = &entry.dataset.records[current];
                value["version"] = json!(label(record));
                value["distribution"] = json!(downloads(site, entry, record));
            }
            let versions: Vec<Value> = entry
                .snapshots()
                .into_iter()
                .map(|i| {
                    let record = &entry.dataset.records[i];
                    let name = entry.snapshot_title(record);
                    let url = site.snapshot_url(entry.name, record);
                    json!({"@type": "Dataset", "name": name, "url": url})
                })
                .collect();
            value["hasPart"] = json!(versions);
            value
        }
        Subject::Snapshot(entry, index) => {
            let record = &entry.dataset.records[*index];
            let url = site.snapshot_url(entry.name, record);
            let mut value = dataset(
                site,
                entry,
                &url,
                entry.snapshot_title(record),
                entry.description(),
            );
            value["version"] = json!(label(record));
            value["distribution"] = json!(downloads(site, entry, record));
            value["isPartOf"] = json!(site.dataset_url(entry.name));
            if let Some(issued) = site.issued(record) {
                value["datePublished"] = json!(issued);
            }
            value
        }
        Subject::Part(entry, index, part) => {
            let record = &entry.dataset.records[*index];
            let mut value = download(site, entry, record, *part);
            value["@context"] = json!({"@vocab": "https://schema.org/"});
            value["@id"] = json!(site.part_url(entry.name, record, *part));
            value
        }
    }
}

/// `value` as the text of a `<script>` element: `<`, `>` and `&` escaped as
/// JSON escapes, so no `</script>` can end it early.
pub fn script_text(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}
