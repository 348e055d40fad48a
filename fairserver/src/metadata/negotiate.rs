//! Content negotiation of the metadata resources: which representation a request
//! gets (`?format=` first, then `Accept` with its q-values, Turtle when neither
//! says), and the RDF serialisations of a graph.

use oxrdf::{Graph, GraphNameRef, QuadRef, TripleRef};

use crate::error::ApiError;

/// A representation of a metadata resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// `text/turtle`, the default (FAIR Data Point specification).
    Turtle,
    /// `application/ld+json`, the context inline so it parses offline.
    JsonLd,
    /// `application/rdf+xml`.
    RdfXml,
    /// `text/html`: the landing page.
    Html,
    /// `application/linkset+json`: signposting level 2 (RFC 9264).
    Linkset,
}

impl Representation {
    /// Every representation, in the order ties are broken.
    const ALL: [Representation; 5] = [
        Representation::Turtle,
        Representation::JsonLd,
        Representation::RdfXml,
        Representation::Html,
        Representation::Linkset,
    ];

    /// The RDF serialisations, as `describedby` links list them.
    pub const RDF: [Representation; 3] = [
        Representation::Turtle,
        Representation::JsonLd,
        Representation::RdfXml,
    ];

    /// Its media type.
    pub const fn media_type(self) -> &'static str {
        match self {
            Representation::Turtle => "text/turtle",
            Representation::JsonLd => "application/ld+json",
            Representation::RdfXml => "application/rdf+xml",
            Representation::Html => "text/html",
            Representation::Linkset => "application/linkset+json",
        }
    }

    /// Its name in `?format=`.
    pub const fn name(self) -> &'static str {
        match self {
            Representation::Turtle => "ttl",
            Representation::JsonLd => "jsonld",
            Representation::RdfXml => "rdf",
            Representation::Html => "html",
            Representation::Linkset => "linkset",
        }
    }

    /// The `Content-Type` of a response.
    pub fn content_type(self) -> String {
        match self {
            Representation::Linkset => self.media_type().to_string(),
            _ => format!("{}; charset=utf-8", self.media_type()),
        }
    }

    /// How specifically an `Accept` media range (lowercase, without parameters)
    /// names this representation: 2 by its media type (or an alias), 1 by
    /// `type/*`, 0 by `*/*`; `None` if it does not.
    fn named_by(self, range: &str) -> Option<u8> {
        if range == "*/*" {
            return Some(0);
        }
        if let Some(kind) = range.strip_suffix("/*") {
            let (own, _) = self.media_type().split_once('/')?;
            return (own == kind).then_some(1);
        }
        let alias = match self {
            Representation::Turtle => "application/x-turtle",
            Representation::JsonLd => "application/json",
            Representation::Html => "application/xhtml+xml",
            _ => "",
        };
        (range == self.media_type() || range == alias).then_some(2)
    }
}

/// The representation asked for by `?format=` (if given) or by `Accept`; a
/// `format` we do not know is a 400 that lists ours, an `Accept` we cannot meet a
/// 406 that does.
pub fn choose(format: Option<&str>, accept: Option<&str>) -> Result<Representation, ApiError> {
    if let Some(format) = format {
        return Representation::ALL
            .into_iter()
            .find(|r| r.name() == format)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "format={format:?}: expected one of {}",
                    names(|r| r.name())
                ))
            });
    }
    let accept = accept.map(str::trim).unwrap_or_default();
    if accept.is_empty() {
        return Ok(Representation::Turtle);
    }
    // Each range: (lowercase media range, q in thousandths, position).
    let ranges: Vec<(String, u16, isize)> = accept
        .split(',')
        .enumerate()
        .map(|(position, item)| {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .map(|q| {
                    q.trim()
                        .parse::<f32>()
                        .map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                })
                .next()
                .unwrap_or(1000);
            (range, quality, position as isize)
        })
        .collect();
    // A representation has the quality of the most specific range that names it
    // (RFC 9110 §12.5.1: `text/turtle;q=0, */*` refuses Turtle, q=0 meaning "not
    // acceptable"); the best (quality, specificity, -position) wins, ties going
    // to the first of `ALL`.
    let mut best: Option<((u16, u8, isize), Representation)> = None;
    for representation in Representation::ALL {
        let named = ranges
            .iter()
            .filter_map(|(range, quality, position)| {
                let specificity = representation.named_by(range)?;
                Some((specificity, *quality, -position))
            })
            .max();
        let Some((specificity, quality, position)) = named else {
            continue;
        };
        let rank = (quality, specificity, position);
        if quality > 0 && best.is_none_or(|(b, _)| rank > b) {
            best = Some((rank, representation));
        }
    }
    best.map(|(_, r)| r).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "Accept: {accept:?}: this resource is available as {}",
            names(|r| r.media_type())
        ))
    })
}

/// The representations, named by `name`, comma-separated.
fn names(name: fn(Representation) -> &'static str) -> String {
    Representation::ALL
        .into_iter()
        .map(name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The prefixes the serialisations use.
pub const PREFIXES: [(&str, &str); 13] = [
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("spdx", "http://spdx.org/rdf/terms#"),
    ("ldp", "http://www.w3.org/ns/ldp#"),
    ("fdp-o", "https://w3id.org/fdp/fdp-o#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("adms", "http://www.w3.org/ns/adms#"),
    ("prov", "http://www.w3.org/ns/prov#"),
];

/// `graph` serialised as `representation` (one of [`Representation::RDF`]), its
/// triples sorted so that the same graph always gives the same bytes.
pub fn serialise(graph: &Graph, representation: Representation) -> std::io::Result<Vec<u8>> {
    let mut sorted: Vec<(String, TripleRef<'_>)> =
        graph.iter().map(|t| (t.to_string(), t)).collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let graph = sorted.into_iter().map(|(_, t)| t);
    match representation {
        Representation::JsonLd => {
            let mut serializer = oxjsonld::JsonLdSerializer::new();
            for (name, iri) in PREFIXES {
                serializer = serializer.with_prefix(name, iri).map_err(invalid)?;
            }
            let mut writer = serializer.for_writer(Vec::new());
            for triple in graph {
                writer.serialize_quad(QuadRef::new(
                    triple.subject,
                    triple.predicate,
                    triple.object,
                    GraphNameRef::DefaultGraph,
                ))?;
            }
            writer.finish()
        }
        Representation::RdfXml => {
            let mut serializer = oxrdfxml::RdfXmlSerializer::new();
            for (name, iri) in PREFIXES {
                serializer = serializer.with_prefix(name, iri).map_err(invalid)?;
            }
            let mut writer = serializer.for_writer(Vec::new());
            for triple in graph {
                writer.serialize_triple(triple)?;
            }
            writer.finish()
        }
        _ => {
            let mut serializer = oxttl::TurtleSerializer::new();
            for (name, iri) in PREFIXES {
                serializer = serializer.with_prefix(name, iri).map_err(invalid)?;
            }
            let mut writer = serializer.for_writer(Vec::new());
            for triple in graph {
                writer.serialize_triple(triple)?;
            }
            writer.finish()
        }
    }
}

/// A prefix IRI the serialiser refused (ours are constants, so never).
fn invalid(e: oxrdf::IriParseError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_negotiated_by_quality_then_specificity() {
        use Representation::{Html, JsonLd, RdfXml, Turtle};
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for (accept, wanted) in [
            (None, Some(Turtle)),
            (Some("*/*"), Some(Turtle)),
            (Some(browser), Some(Html)),
            (Some("text/turtle;q=0.5, application/ld+json"), Some(JsonLd)),
            (Some("application/*, application/rdf+xml"), Some(RdfXml)),
            (Some("text/html;q=0, */*;q=0.1"), Some(Turtle)),
            (Some("image/png"), None),
            // q=0 is "not acceptable", whatever a less specific range allows.
            (Some("text/turtle;q=0, */*"), Some(JsonLd)),
            (Some("text/*;q=0, text/html;q=0.2, */*;q=0.1"), Some(Html)),
            (Some("application/*;q=0, text/turtle;q=0, */*"), Some(Html)),
            (Some("text/turtle;q=0"), None),
            (Some("*/*;q=0"), None),
            (Some("text/*"), Some(Turtle)),
            (Some("application/*"), Some(JsonLd)),
        ] {
            assert_eq!(choose(None, accept).ok(), wanted, "{accept:?}");
        }
        assert!(matches!(
            choose(None, Some("image/png")),
            Err(ApiError::NotAcceptable(m)) if m.contains("text/turtle")
        ));
        assert_eq!(choose(Some("jsonld"), Some("text/html")).ok(), Some(JsonLd));
        assert!(matches!(
            choose(Some("n3"), None),
            Err(ApiError::BadRequest(m)) if m.contains("ttl, jsonld, rdf, html, linkset")
        ));
    }
}
