//! The schema.org description embedded in each landing page (what dataset search
//! engines read): `Dataset` with name, description, license, creator, version and
//! its downloads as `DataDownload` (`contentUrl`, `encodingFormat`). The context is
//! inline (`@vocab`), so the JSON-LD parses without fetching anything.

use faircore::Distribution;
use faircore::header::{ACCESS_RIGHT, Agent, Identifier};
use serde_json::{Value, json};

use super::{Entry, Part, Site, Subject, label};

/// A schema.org person or organisation: typed by its ORCID (`Person`) or ROR ID
/// (`Organization`), else `kind`; such an ID is given as `sameAs` and
/// `identifier`, another IRI (a home page) as `@id` and `url`.
fn agent(agent: &Agent, kind: &'static str) -> Value {
    let mut value = json!({"@type": agent.schema_type(kind), "name": agent.label()});
    if let Some(iri) = &agent.iri {
        if agent.registered() {
            value["sameAs"] = json!(iri);
            value["identifier"] = json!(iri);
        } else {
            value["@id"] = json!(iri);
            value["url"] = json!(iri);
        }
    }
    if let Some(email) = &agent.email {
        value["email"] = json!(email);
    }
    value
}

/// A persistent identifier as a `PropertyValue` with its scheme.
fn identifier(id: &Identifier) -> Value {
    json!({
        "@type": "PropertyValue",
        "propertyID": id.scheme,
        "value": id.value,
        "url": id.iri,
    })
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
    if let Some(page) = &meta.landing_page {
        value["sameAs"] = json!(page);
    }
    let rights = site.access_rights(meta);
    value["isAccessibleForFree"] = json!(rights == format!("{ACCESS_RIGHT}PUBLIC"));
    if let Some(conditions) = &meta.conditions_of_access {
        value["conditionsOfAccess"] = json!(conditions);
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
                    json!({
                        "@type": "Dataset",
                        "name": entry.title(),
                        "url": site.dataset_url(name),
                        "description": entry.description(),
                    })
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
            if let Some(id) = &entry.dataset.meta.identifier {
                value["identifier"] = identifier(id);
            }
            if let Some((first, last)) = site.issued_span(entry) {
                value["datePublished"] = json!(first);
                value["dateModified"] = json!(last);
            }
            if let Some(coverage) = entry.temporal_coverage() {
                value["temporalCoverage"] = json!(coverage);
            }
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
                    let description = entry.snapshot_description(site, record);
                    json!({"@type": "Dataset", "name": name, "url": url, "description": description})
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
                entry.snapshot_description(site, record),
            );
            value["version"] = json!(label(record));
            if let Some(date) = &record.date {
                value["temporalCoverage"] = json!(date);
            }
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
