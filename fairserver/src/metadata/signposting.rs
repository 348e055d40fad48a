//! FAIR signposting (<https://signposting.org/FAIR/>): level 1 as `Link` headers
//! on every answer about a resource (GET and HEAD, every representation), level 2
//! as a linkset (RFC 9264, `application/linkset+json`) that also describes the
//! resource's items.

use serde_json::{Map, Value, json};

use super::negotiate::Representation;
use super::{Part, Site, Subject};

/// A typed link target.
#[derive(Clone, Debug)]
pub struct Target {
    /// Where.
    pub href: String,
    /// Its media type, when the relation wants one.
    pub kind: Option<&'static str>,
}

/// The signposts of one resource.
#[derive(Debug)]
pub struct Signposts {
    /// The resource's URL.
    pub url: String,
    /// Its persistent identifier (`cite-as`): the header's `identifier` for a
    /// dataset that has one, else its URL.
    pub cite_as: String,
    /// Its schema.org type (`Dataset`, `DataCatalog`, `DataDownload`).
    pub schema_type: &'static str,
    /// Its license.
    pub license: Option<String>,
    /// IRIs of its creators.
    pub authors: Vec<String>,
    /// What it is made of: downloads of its bytes.
    pub items: Vec<Target>,
}

impl Signposts {
    /// The signposts of `subject`.
    pub fn of(site: &Site<'_>, subject: &Subject<'_>) -> Signposts {
        let authors = |entry: &super::Entry<'_>| {
            let meta = &entry.dataset.meta;
            meta.creators.iter().filter_map(|c| c.iri.clone()).collect()
        };
        match subject {
            Subject::Catalogue => Signposts {
                url: site.root(),
                cite_as: site.root(),
                schema_type: "DataCatalog",
                license: site.catalogue_license(),
                authors: Vec::new(),
                items: Vec::new(),
            },
            Subject::Dataset(entry) => Signposts {
                url: site.dataset_url(entry.name),
                cite_as: entry
                    .dataset
                    .meta
                    .identifier
                    .as_ref()
                    .map_or_else(|| site.dataset_url(entry.name), |id| id.iri.clone()),
                schema_type: "Dataset",
                license: site.license(&entry.dataset.meta),
                authors: authors(entry),
                items: Vec::new(),
            },
            Subject::Snapshot(entry, index) => {
                let record = &entry.dataset.records[*index];
                Signposts {
                    url: site.snapshot_url(entry.name, record),
                    cite_as: site.snapshot_url(entry.name, record),
                    schema_type: "Dataset",
                    license: site.license(&entry.dataset.meta),
                    authors: authors(entry),
                    items: vec![Target {
                        href: site.download_url(entry.name, record),
                        kind: Some("application/json"),
                    }],
                }
            }
            Subject::Part(entry, index, part) => {
                let record = &entry.dataset.records[*index];
                let item = match part {
                    Part::Collection => Target {
                        href: site.download_url(entry.name, record),
                        kind: Some("application/json"),
                    },
                    Part::Manifest(format) => Target {
                        href: site.manifest_url(record, *format),
                        kind: Some(
                            format
                                .media_type()
                                .split(';')
                                .next()
                                .unwrap_or("text/plain"),
                        ),
                    },
                };
                Signposts {
                    url: site.part_url(entry.name, record, *part),
                    cite_as: site.part_url(entry.name, record, *part),
                    schema_type: "DataDownload",
                    license: site.license(&entry.dataset.meta),
                    authors: authors(entry),
                    items: vec![item],
                }
            }
        }
    }

    /// The URL of the resource in `representation`.
    pub fn alternate(&self, representation: Representation) -> String {
        format!("{}?format={}", self.url, representation.name())
    }

    /// The IRIs of its types: its schema.org type, and `AboutPage` (the page is
    /// about it).
    pub fn types(&self) -> [String; 2] {
        [
            format!("https://schema.org/{}", self.schema_type),
            "https://schema.org/AboutPage".into(),
        ]
    }

    /// Every relation of the resource, in order: (relation, target).
    fn links(&self) -> Vec<(&'static str, Target)> {
        let target = |href: String, kind: Option<&'static str>| Target { href, kind };
        let mut links = vec![("cite-as", target(self.cite_as.clone(), None))];
        for representation in Representation::RDF {
            let href = self.alternate(representation);
            links.push((
                "describedby",
                target(href, Some(representation.media_type())),
            ));
        }
        for kind in self.types() {
            links.push(("type", target(kind, None)));
        }
        if let Some(license) = &self.license {
            links.push(("license", target(license.clone(), None)));
        }
        for author in &self.authors {
            links.push(("author", target(author.clone(), None)));
        }
        for item in &self.items {
            links.push(("item", item.clone()));
        }
        let linkset = self.alternate(Representation::Linkset);
        links.push((
            "linkset",
            target(linkset, Some(Representation::Linkset.media_type())),
        ));
        links
    }

    /// The `Link` header (RFC 8288).
    pub fn header(&self) -> String {
        self.links()
            .into_iter()
            .map(|(rel, t)| match t.kind {
                Some(kind) => format!("<{}>; rel=\"{rel}\"; type=\"{kind}\"", t.href),
                None => format!("<{}>; rel=\"{rel}\"", t.href),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The linkset (RFC 9264 §4.2): the resource's links, and for each item a
    /// link back to the resource.
    pub fn linkset(&self) -> Vec<u8> {
        let mut own = Map::new();
        own.insert("anchor".into(), json!(self.url));
        for (rel, t) in self.links() {
            if rel == "linkset" {
                continue;
            }
            let mut target = Map::new();
            target.insert("href".into(), json!(t.href));
            if let Some(kind) = t.kind {
                target.insert("type".into(), json!(kind));
            }
            let slot = own.entry(rel).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(targets) = slot {
                targets.push(Value::Object(target));
            }
        }
        let mut linkset = vec![Value::Object(own)];
        for item in &self.items {
            linkset.push(json!({
                "anchor": item.href,
                "collection": [{"href": self.url, "type": "text/html"}],
            }));
        }
        let mut body =
            serde_json::to_vec_pretty(&json!({ "linkset": linkset })).unwrap_or_default();
        body.push(b'\n');
        body
    }
}
