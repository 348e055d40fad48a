//! What a dataset header (`dataset_header/<dataset>.json|yaml|cson`, any object)
//! says about its dataset, for the FAIR metadata: title, description, license,
//! publisher, creators, keywords, themes, contact point, landing page, persistent
//! identifier, access rights and upstream source
//! (`schemas/dataset-header.schema.json`). Headers are hand-written and were free
//! form in Seamless, so reading is tolerant: unknown fields are left alone, and a
//! known field of the wrong shape is skipped with a problem that names it and
//! says what was expected.

use serde_json::{Map, Value};

/// A person or organisation: a name, and an IRI (ORCID, ROR, a home page) or a
/// mail address when known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agent {
    /// What people call it.
    pub name: String,
    /// An IRI that identifies it.
    pub iri: Option<String>,
    /// A mail address.
    pub email: Option<String>,
}

/// The registries whose IRIs identify agents: (host, kind, label).
const REGISTRIES: [(&str, &str, &str); 2] = [
    ("orcid.org", "Person", "ORCID"),
    ("ror.org", "Organization", "ROR"),
];

impl Agent {
    /// The registry its IRI belongs to: (schema.org type, registry name).
    fn registry(&self) -> Option<(&'static str, &'static str)> {
        let url = url::Url::parse(self.iri.as_deref()?).ok()?;
        let host = url.host_str()?.trim_start_matches("www.");
        REGISTRIES
            .iter()
            .find(|(h, _, _)| *h == host)
            .map(|(_, kind, label)| (*kind, *label))
    }

    /// Its schema.org type: `Person` for an ORCID, `Organization` for a ROR ID,
    /// else `default`.
    pub fn schema_type(&self, default: &'static str) -> &'static str {
        self.registry().map_or(default, |(kind, _)| kind)
    }

    /// Whether its IRI is an ORCID or a ROR ID: an identifier of the agent
    /// (schema.org `sameAs`/`identifier`), not its home page (`url`).
    pub fn registered(&self) -> bool {
        self.registry().is_some()
    }

    /// What to call it: its name; for an ORCID or ROR ID given without one, the
    /// registry and the ID (`ORCID 0000-0002-1825-0097`).
    pub fn label(&self) -> String {
        match (self.registry(), &self.iri) {
            (Some((_, registry)), Some(iri)) if *iri == self.name => {
                let id = iri.trim_end_matches('/').rsplit('/').next().unwrap_or(iri);
                format!("{registry} {id}")
            }
            _ => self.name.clone(),
        }
    }
}

/// The metadata of a dataset header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMeta {
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `license`: an SPDX identifier (`CC-BY-4.0`) made an SPDX IRI, or an IRI.
    pub license: Option<String>,
    /// `publisher`.
    pub publisher: Option<Agent>,
    /// `creator` (one or a list; `creators` and `author` are read too).
    pub creators: Vec<Agent>,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `themes`: IRIs of concepts (e.g. EU data themes, EDAM topics).
    pub themes: Vec<String>,
    /// `contact_point`: an agent with a mail address.
    pub contact: Option<Agent>,
    /// `landing_page` (or Seamless's `link`): a page about the dataset.
    pub landing_page: Option<String>,
    /// `identifier`: the dataset's persistent identifier.
    pub identifier: Option<Identifier>,
    /// `access_rights`: an IRI; `public`, `restricted` and `non-public` name the
    /// EU access-right vocabulary's concepts. `None`: public.
    pub access_rights: Option<String>,
    /// `conditions_of_access`: what a user must do or accept to get the data.
    pub conditions_of_access: Option<String>,
    /// `source` (or `upstream`): the URL the mirrored data comes from.
    pub source: Option<String>,
}

/// The EU access-right vocabulary.
pub const ACCESS_RIGHT: &str = "http://publications.europa.eu/resource/authority/access-right/";

/// A persistent identifier, in its resolvable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identifier {
    /// The resolvable IRI (`https://doi.org/10.5281/zenodo.1`).
    pub iri: String,
    /// The scheme: `doi`, `hdl`, `ark` or `w3id`.
    pub scheme: &'static str,
    /// The identifier within its scheme (`10.5281/zenodo.1`).
    pub value: String,
}

impl Identifier {
    /// Reads a DOI (`https://doi.org/10.…`, `doi:10.…` or `10.…/…`), a Handle
    /// (`https://hdl.handle.net/…` or `hdl:…`), an ARK (`https://n2t.net/ark:/…`
    /// or `ark:/…`) or a w3id IRI (`https://w3id.org/…`).
    pub fn parse(text: &str) -> Result<Identifier, String> {
        let make = |scheme: &'static str, resolver: &str, value: &str| {
            let value = value.trim_start_matches('/');
            (!value.is_empty() && !value.contains(char::is_whitespace)).then(|| Identifier {
                iri: format!("{resolver}{value}"),
                scheme,
                value: value.to_string(),
            })
        };
        let lower = text.to_ascii_lowercase();
        let rest = |prefixes: &[&str]| {
            prefixes
                .iter()
                .find(|p| lower.starts_with(*p))
                .map(|p| &text[p.len()..])
        };
        let doi = rest(&[
            "https://doi.org/",
            "http://doi.org/",
            "https://dx.doi.org/",
            "http://dx.doi.org/",
            "doi:",
        ])
        .or_else(|| text.starts_with("10.").then_some(text))
        .filter(|v| v.starts_with("10.") && v.contains('/'));
        let found = if let Some(doi) = doi {
            make("doi", "https://doi.org/", doi)
        } else if let Some(handle) =
            rest(&["https://hdl.handle.net/", "http://hdl.handle.net/", "hdl:"])
        {
            make("hdl", "https://hdl.handle.net/", handle)
        } else if let Some(ark) = rest(&["https://n2t.net/ark:", "http://n2t.net/ark:", "ark:"]) {
            make("ark", "https://n2t.net/ark:/", ark).map(|mut id| {
                id.value = format!("ark:/{}", id.value);
                id
            })
        } else if lower.starts_with("https://w3id.org/") && is_iri(text) {
            Some(Identifier {
                iri: text.to_string(),
                scheme: "w3id",
                value: text.to_string(),
            })
        } else {
            None
        };
        found.ok_or_else(|| {
            format!(
                "{text:?}: expected a DOI (https://doi.org/10.… or doi:10.…), a Handle (hdl:…), an ARK (ark:/…) or a w3id IRI (https://w3id.org/…)"
            )
        })
    }
}

impl HeaderMeta {
    /// Reads `header`; fields of the wrong shape are returned as problems.
    pub fn read(header: &Map<String, Value>) -> (HeaderMeta, Vec<String>) {
        let mut problems = Vec::new();
        let field = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|name| header.get(*name).map(|value| (*name, value)))
        };
        let mut meta = HeaderMeta::default();
        let mut note = |result: Result<(), String>| {
            if let Err(problem) = result {
                problems.push(problem);
            }
        };
        if let Some((name, value)) = field(&["title"]) {
            note(text(name, value).map(|t| meta.title = Some(t)));
        }
        if let Some((name, value)) = field(&["description"]) {
            note(text(name, value).map(|t| meta.description = Some(t)));
        }
        if let Some((name, value)) = field(&["license"]) {
            note(
                text(name, value)
                    .and_then(|t| license_iri(&t).map_err(|e| format!("{name}: {e}")))
                    .map(|iri| meta.license = Some(iri)),
            );
        }
        if let Some((name, value)) = field(&["publisher"]) {
            note(agent(name, value).map(|a| meta.publisher = Some(a)));
        }
        if let Some((name, value)) = field(&["creator", "creators", "author"]) {
            note(list(name, value, agent).map(|a| meta.creators = a));
        }
        if let Some((name, value)) = field(&["keywords"]) {
            note(list(name, value, text).map(|k| meta.keywords = k));
        }
        if let Some((name, value)) = field(&["themes", "theme"]) {
            note(list(name, value, iri).map(|t| meta.themes = t));
        }
        if let Some((name, value)) = field(&["contact_point", "contact"]) {
            note(agent(name, value).map(|a| meta.contact = Some(a)));
        }
        if let Some((name, value)) = field(&["landing_page", "link"]) {
            note(iri(name, value).map(|i| meta.landing_page = Some(i)));
        }
        if let Some((name, value)) = field(&["identifier"]) {
            note(
                text(name, value)
                    .and_then(|t| Identifier::parse(&t).map_err(|e| format!("{name}: {e}")))
                    .map(|id| meta.identifier = Some(id)),
            );
        }
        if let Some((name, value)) = field(&["access_rights"]) {
            note(
                text(name, value)
                    .and_then(|t| access_right(name, &t))
                    .map(|a| meta.access_rights = Some(a)),
            );
        }
        if let Some((name, value)) = field(&["conditions_of_access"]) {
            note(text(name, value).map(|t| meta.conditions_of_access = Some(t)));
        }
        if let Some((name, value)) = field(&["source", "upstream"]) {
            note(iri(name, value).map(|i| meta.source = Some(i)));
        }
        let agents = meta
            .creators
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("creator[{i}]"), a));
        let others = [
            ("publisher", &meta.publisher),
            ("contact_point", &meta.contact),
        ];
        let agents = agents.chain(
            others
                .into_iter()
                .filter_map(|(name, a)| Some((name.to_string(), a.as_ref()?))),
        );
        for (name, agent) in agents {
            if agent.registered() && agent.iri.as_ref() == Some(&agent.name) {
                problems.push(format!(
                    "{name}: {} has no name (write {{name: ..., url: {}}}); it is shown as {:?}",
                    agent.name,
                    agent.name,
                    agent.label()
                ));
            }
        }
        (meta, problems)
    }
}

/// The IRI of a license given as an SPDX identifier or as an http(s) IRI.
pub fn license_iri(license: &str) -> Result<String, String> {
    if is_iri(license) {
        return Ok(license.to_string());
    }
    let spdx = !license.is_empty()
        && license
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+'));
    if spdx {
        Ok(format!("https://spdx.org/licenses/{license}"))
    } else {
        Err(format!(
            "{license:?}: expected an SPDX license identifier (CC-BY-4.0) or an http(s) IRI"
        ))
    }
}

/// The IRI of an access right: `public`, `restricted` or `non-public` (the EU
/// vocabulary's concepts), or an http(s) IRI.
fn access_right(name: &str, text: &str) -> Result<String, String> {
    let concept = match text.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "public" => "PUBLIC",
        "restricted" => "RESTRICTED",
        "non_public" => "NON_PUBLIC",
        _ if is_iri(text) => return Ok(text.to_string()),
        _ => {
            return Err(format!(
                "{name}: {text:?}: expected public, restricted, non-public or an http(s) IRI"
            ));
        }
    };
    Ok(format!("{ACCESS_RIGHT}{concept}"))
}

/// Whether `s` is an absolute http(s) IRI without spaces or quotes.
pub fn is_iri(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        && !s.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
}

/// A non-empty string.
fn text(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("{name}: expected a non-empty string")),
    }
}

/// An http(s) IRI.
fn iri(name: &str, value: &Value) -> Result<String, String> {
    let s = text(name, value)?;
    if is_iri(&s) {
        Ok(s)
    } else {
        Err(format!("{name}: {s:?} is not an http(s) IRI"))
    }
}

/// One value or a list of them.
fn list<T>(
    name: &str,
    value: &Value,
    item: fn(&str, &Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| item(&format!("{name}[{i}]"), v))
            .collect(),
        one => item(name, one).map(|t| vec![t]),
    }
}

/// An agent: a name, an IRI (taken as the name too), a mail address, or an
/// object with `name` and optionally `url` (or `orcid`, `ror`, `iri`) and `email`.
fn agent(name: &str, value: &Value) -> Result<Agent, String> {
    let expected =
        || format!("{name}: expected a name, an IRI, a mail address or {{name, url, email}}");
    match value {
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                Err(expected())
            } else if is_iri(s) {
                Ok(Agent {
                    name: s.to_string(),
                    iri: Some(s.to_string()),
                    email: None,
                })
            } else if is_email(s) {
                Ok(Agent {
                    name: s.to_string(),
                    iri: None,
                    email: Some(s.to_string()),
                })
            } else {
                Ok(Agent {
                    name: s.to_string(),
                    ..Agent::default()
                })
            }
        }
        Value::Object(object) => {
            let get = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim);
            let iri = ["url", "orcid", "ror", "iri"].iter().find_map(|k| get(k));
            if let Some(iri) = iri.filter(|i| !is_iri(i)) {
                return Err(format!("{name}: {iri:?} is not an http(s) IRI"));
            }
            let email = get("email");
            if let Some(email) = email.filter(|e| !is_email(e)) {
                return Err(format!("{name}: {email:?} is not a mail address"));
            }
            let label = get("name").or(iri).or(email).ok_or_else(expected)?;
            Ok(Agent {
                name: label.to_string(),
                iri: iri.map(str::to_string),
                email: email.map(str::to_string),
            })
        }
        _ => Err(expected()),
    }
}

/// Whether `s` looks like a mail address (one `@`, something on each side, no
/// spaces).
fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(user), Some(host), None)
            if !user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> (HeaderMeta, Vec<String>) {
        match value {
            Value::Object(map) => HeaderMeta::read(&map),
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn every_field_is_read() {
        let (meta, problems) = read(json!({
            "title": "PDB",
            "description": "Structures",
            "license": "CC0-1.0",
            "publisher": {"name": "wwPDB", "url": "https://www.wwpdb.org/"},
            "creator": ["Ada", "https://lab.example.org/~bob"],
            "keywords": ["protein", "structure"],
            "themes": "http://publications.europa.eu/resource/authority/data-theme/TECH",
            "contact_point": "help@example.org",
            "link": "https://example.org/pdb",
            "anything": {"else": 1}
        }));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(meta.title.as_deref(), Some("PDB"));
        assert_eq!(
            meta.license.as_deref(),
            Some("https://spdx.org/licenses/CC0-1.0")
        );
        let publisher = meta.publisher.expect("publisher");
        assert_eq!(publisher.iri.as_deref(), Some("https://www.wwpdb.org/"));
        assert_eq!(meta.creators.len(), 2);
        assert_eq!(meta.creators[0].name, "Ada");
        assert!(meta.creators[1].iri.is_some());
        assert_eq!(meta.keywords, ["protein", "structure"]);
        assert_eq!(meta.themes.len(), 1);
        let contact = meta.contact.expect("contact");
        assert_eq!(contact.email.as_deref(), Some("help@example.org"));
        assert_eq!(
            meta.landing_page.as_deref(),
            Some("https://example.org/pdb")
        );
    }

    #[test]
    fn wrong_shapes_are_named_and_skipped() {
        let (meta, problems) = read(json!({
            "title": ["not", "a", "string"],
            "license": "Creative Commons, please",
            "keywords": ["ok", 3, {"no": 1}],
            "themes": ["not an iri"],
            "publisher": {"name": "X", "url": "ftp://x"},
            "description": "kept"
        }));
        assert_eq!(meta.description.as_deref(), Some("kept"));
        assert_eq!((meta.title, meta.license), (None, None));
        assert!(meta.keywords.is_empty() && meta.themes.is_empty());
        let all = problems.join("\n");
        for expected in [
            "title: expected a non-empty string",
            "license: \"Creative Commons, please\": expected an SPDX",
            "keywords[2]: expected a non-empty string",
            "themes[0]: \"not an iri\" is not an http(s) IRI",
            "publisher: \"ftp://x\" is not an http(s) IRI",
        ] {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
    }

    #[test]
    fn persistent_identifiers_are_read_in_every_usual_form() {
        for (text, iri, scheme, value) in [
            (
                "https://doi.org/10.5281/zenodo.123",
                "https://doi.org/10.5281/zenodo.123",
                "doi",
                "10.5281/zenodo.123",
            ),
            (
                "doi:10.5281/zenodo.123",
                "https://doi.org/10.5281/zenodo.123",
                "doi",
                "10.5281/zenodo.123",
            ),
            (
                "http://dx.doi.org/10.1000/xyz",
                "https://doi.org/10.1000/xyz",
                "doi",
                "10.1000/xyz",
            ),
            (
                "10.1000/xyz",
                "https://doi.org/10.1000/xyz",
                "doi",
                "10.1000/xyz",
            ),
            (
                "hdl:20.500.12345/6789",
                "https://hdl.handle.net/20.500.12345/6789",
                "hdl",
                "20.500.12345/6789",
            ),
            (
                "ark:/13030/tf5p30086k",
                "https://n2t.net/ark:/13030/tf5p30086k",
                "ark",
                "ark:/13030/tf5p30086k",
            ),
            (
                "https://w3id.org/example/pdb",
                "https://w3id.org/example/pdb",
                "w3id",
                "https://w3id.org/example/pdb",
            ),
        ] {
            let id = Identifier::parse(text).expect(text);
            assert_eq!(
                (id.iri.as_str(), id.scheme, id.value.as_str()),
                (iri, scheme, value),
                "{text}"
            );
        }
        for bad in [
            "https://example.org/x",
            "doi:11.1/x",
            "doi:10.1234",
            "my dataset",
        ] {
            let error = Identifier::parse(bad).expect_err(bad);
            assert!(error.contains("expected a DOI"), "{error}");
        }
    }

    #[test]
    fn access_rights_source_and_conditions_are_read() {
        let (meta, problems) = read(json!({
            "identifier": "doi:10.1000/xyz",
            "access_rights": "restricted",
            "conditions_of_access": "Registration required",
            "upstream": "https://files.example.org/pub/"
        }));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            meta.identifier.map(|i| i.iri).as_deref(),
            Some("https://doi.org/10.1000/xyz")
        );
        assert_eq!(
            meta.access_rights,
            Some(format!("{ACCESS_RIGHT}RESTRICTED"))
        );
        assert_eq!(
            meta.conditions_of_access.as_deref(),
            Some("Registration required")
        );
        assert_eq!(
            meta.source.as_deref(),
            Some("https://files.example.org/pub/")
        );
        let (_, problems) = read(json!({"access_rights": "secret", "identifier": "x"}));
        let all = problems.join("\n");
        assert!(
            all.contains("access_rights: \"secret\": expected public, restricted"),
            "{all}"
        );
        assert!(all.contains("identifier: \"x\": expected a DOI"), "{all}");
    }

    #[test]
    fn orcid_and_ror_agents_are_typed_and_a_bare_one_is_labelled_and_named_as_a_problem() {
        let (meta, problems) = read(json!({
            "creator": [
                "https://ror.org/02mhbdp94",
                {"name": "Josiah Carberry", "orcid": "https://orcid.org/0000-0002-1825-0097"},
                {"name": "Lab", "url": "https://lab.example.org/"}
            ]
        }));
        let [ror, orcid, lab] = &meta.creators[..] else {
            panic!("three creators: {:?}", meta.creators)
        };
        assert_eq!(ror.schema_type("Person"), "Organization");
        assert_eq!(ror.label(), "ROR 02mhbdp94");
        assert_eq!(orcid.schema_type("Organization"), "Person");
        assert_eq!(orcid.label(), "Josiah Carberry");
        assert!(ror.registered() && orcid.registered() && !lab.registered());
        assert_eq!(lab.schema_type("Person"), "Person");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("creator[0]: https://ror.org/02mhbdp94 has no name"));
    }
}
