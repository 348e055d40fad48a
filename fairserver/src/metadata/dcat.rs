//! The DCAT 3 / FAIR Data Point graph of each resource. Every graph stands on its
//! own: the nodes it points to are typed and described enough (titles,
//! distributions' access URLs, agents' names) for the FDP v2 and DCAT-AP 3 shapes
//! to hold on it alone, and the union of all graphs says the same of each node.

use faircore::header::{Agent, HeaderMeta, Identifier};
use faircore::{Distribution, HashAlgo};
use oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedOrBlankNode, Term, TripleRef};

use super::{Entry, Part, Site, Subject, flavour, label};

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const SPDX: &str = "http://spdx.org/rdf/terms#";
const LDP: &str = "http://www.w3.org/ns/ldp#";
const FDPO: &str = "https://w3id.org/fdp/fdp-o#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
const ADMS: &str = "http://www.w3.org/ns/adms#";
const PROV: &str = "http://www.w3.org/ns/prov#";
const OWL: &str = "http://www.w3.org/2002/07/owl#";
const VOID: &str = "http://rdfs.org/ns/void#";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";

/// The titles harvesters match licences by (CKAN's licence register, after the
/// Open Definition's list), for the SPDX licences they know: (SPDX id, title).
const LICENSE_TITLES: [(&str, &str); 11] = [
    ("CC0-1.0", "Creative Commons CCZero"),
    ("CC-BY-4.0", "Creative Commons Attribution"),
    ("CC-BY-3.0", "Creative Commons Attribution"),
    ("CC-BY-SA-4.0", "Creative Commons Attribution Share-Alike"),
    ("CC-BY-SA-3.0", "Creative Commons Attribution Share-Alike"),
    ("CC-BY-NC-4.0", "Creative Commons Non-Commercial (Any)"),
    ("ODbL-1.0", "Open Data Commons Open Database License (ODbL)"),
    ("ODC-By-1.0", "Open Data Commons Attribution License"),
    (
        "PDDL-1.0",
        "Open Data Commons Public Domain Dedication and License (PDDL)",
    ),
    ("GFDL-1.3-or-later", "GNU Free Documentation License"),
    ("OGL-UK-3.0", "UK Open Government Licence (OGL)"),
];

/// The FAIR Data Point specification the root conforms to.
const FDP_SPEC: &str = "https://specs.fairdatapoint.org/v1.2";
/// IANA's media type registry, for `dcat:mediaType`.
const IANA: &str = "https://www.iana.org/assignments/media-types/";
/// The EU file-type vocabulary, for `dct:format`.
const FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";

/// A term of a vocabulary.
fn term(namespace: &str, local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{namespace}{local}"))
}

/// An IRI we made or checked (`header::is_iri`); one that is still not an IRI is
/// left out rather than written.
fn iri(text: &str) -> Option<NamedNode> {
    NamedNode::new(text).ok()
}

/// A graph being built.
struct Builder {
    graph: Graph,
    /// Blank nodes made so far: they are numbered, so that the same catalogue
    /// always gives the same bytes.
    blanks: usize,
    /// The catalogue's URL, under which agents and contacts without an IRI get
    /// one: the same node in every graph, so that graphs merge into one
    /// description of it.
    root: String,
}

impl Builder {
    /// The node of an agent: its IRI, else `ROOT#KIND-NAME` (`NAME` made of
    /// letters, digits and `-`).
    fn named(&self, kind: &str, agent: &Agent) -> NamedOrBlankNode {
        if let Some(named) = agent.iri.as_deref().and_then(iri) {
            return named.into();
        }
        let slug: String = agent
            .name
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        let fragment = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>();
        node(&format!("{}#{kind}-{fragment}", self.root))
    }

    fn blank(&mut self) -> NamedOrBlankNode {
        self.blanks += 1;
        BlankNode::new_unchecked(format!("b{}", self.blanks)).into()
    }

    fn add(
        &mut self,
        subject: &NamedOrBlankNode,
        predicate: (&str, &str),
        object: impl Into<Term>,
    ) {
        let predicate = term(predicate.0, predicate.1);
        let object = object.into();
        self.graph
            .insert(TripleRef::new(subject, &predicate, &object));
    }

    fn a(&mut self, subject: &NamedOrBlankNode, class: (&str, &str)) {
        self.add(subject, (RDF, "type"), term(class.0, class.1));
    }

    fn text(&mut self, subject: &NamedOrBlankNode, predicate: (&str, &str), text: &str) {
        self.add(subject, predicate, Literal::new_simple_literal(text));
    }

    fn typed(
        &mut self,
        subject: &NamedOrBlankNode,
        predicate: (&str, &str),
        value: &str,
        datatype: &str,
    ) {
        let literal = Literal::new_typed_literal(value, term(XSD, datatype));
        self.add(subject, predicate, literal);
    }

    fn link(&mut self, subject: &NamedOrBlankNode, predicate: (&str, &str), target: &str) {
        if let Some(target) = iri(target) {
            self.add(subject, predicate, target);
        }
    }

    /// `subject predicate agent`, the agent typed `foaf:Agent` with its name (an
    /// IRI node when it has one, else a blank node).
    fn agent(&mut self, subject: &NamedOrBlankNode, predicate: (&str, &str), agent: &Agent) {
        let node = self.named("agent", agent);
        self.add(subject, predicate, node.clone());
        self.a(&node, (FOAF, "Agent"));
        self.text(&node, (FOAF, "name"), &agent.label());
        if let Some(email) = &agent.email {
            self.link(&node, (FOAF, "mbox"), &format!("mailto:{email}"));
        }
    }

    /// A contact point (`vcard:Kind`) for `agent`: an IRI node (its mail
    /// address, its IRI, else one under the catalogue's), as the FAIR Data
    /// Point's shapes want.
    fn contact(&mut self, subject: &NamedOrBlankNode, agent: &Agent) {
        let node = match agent
            .email
            .as_deref()
            .and_then(|e| iri(&format!("mailto:{e}")))
        {
            Some(mail) => mail.into(),
            None => self.named("contact", agent),
        };
        self.add(subject, (DCAT, "contactPoint"), node.clone());
        self.a(&node, (VCARD, "Kind"));
        self.text(&node, (VCARD, "fn"), &agent.name);
        if let Some(email) = &agent.email {
            self.link(&node, (VCARD, "hasEmail"), &format!("mailto:{email}"));
        }
        if let Some(url) = &agent.iri {
            self.link(&node, (VCARD, "hasURL"), url);
        }
    }

    /// `dct:license`, the license typed `dct:LicenseDocument` with a title a
    /// harvester can match (its usual title for an SPDX licence, else its SPDX
    /// identifier or IRI).
    fn license(&mut self, subject: &NamedOrBlankNode, license: Option<&str>) {
        if let Some(named) = license.and_then(iri) {
            self.add(subject, (DCT, "license"), named.clone());
            let spdx = named.as_str().strip_prefix("https://spdx.org/licenses/");
            let title = spdx
                .and_then(|id| LICENSE_TITLES.iter().find(|(known, _)| *known == id))
                .map(|(_, title)| *title)
                .or(spdx)
                .unwrap_or(named.as_str())
                .to_string();
            let node = named.into();
            self.a(&node, (DCT, "LicenseDocument"));
            self.text(&node, (DCT, "title"), &title);
        }
    }

    /// The identifiers of a resource: its URL, and more.
    fn identifiers(&mut self, subject: &NamedOrBlankNode, identifiers: &[&str]) {
        for identifier in identifiers {
            self.text(subject, (DCT, "identifier"), identifier);
        }
    }

    /// A dataset node with the properties every dataset here has: title,
    /// description, publisher, license.
    fn dataset_core(
        &mut self,
        site: &Site<'_>,
        node: &NamedOrBlankNode,
        entry: &Entry<'_>,
        title: &str,
        description: &str,
    ) {
        self.a(node, (DCAT, "Dataset"));
        self.a(node, (DCAT, "Resource"));
        self.text(node, (DCT, "title"), title);
        self.text(node, (DCT, "description"), description);
        let meta = &entry.dataset.meta;
        self.agent(node, (DCT, "publisher"), &site.publisher(meta));
        self.license(node, site.license(meta).as_deref());
        if let Some(rights) = iri(&site.access_rights(meta)) {
            self.add(node, (DCT, "accessRights"), rights.clone());
            self.a(&rights.into(), (DCT, "RightsStatement"));
        }
    }

    /// The persistent identifier of a dataset: `dct:identifier` and an
    /// `adms:Identifier` with its scheme.
    fn persistent_identifier(&mut self, node: &NamedOrBlankNode, id: &Identifier) {
        self.text(node, (DCT, "identifier"), &id.iri);
        let identifier = self.blank();
        self.add(node, (ADMS, "identifier"), identifier.clone());
        self.a(&identifier, (ADMS, "Identifier"));
        self.text(&identifier, (SKOS, "notation"), &id.value);
        self.text(&identifier, (ADMS, "schemaAgency"), id.scheme);
        self.link(&identifier, (RDFS, "seeAlso"), &id.iri);
    }

    /// How a snapshot came to be (PROV-O): derived from the mirror's upstream
    /// source when the header names it, generated at its issue time by a `fair`
    /// activity, associated with `fair` and its version.
    fn provenance(&mut self, url: &str, source: Option<&str>, issued: Option<&str>) {
        let this = &node(url);
        if let Some(source) = source {
            self.link(this, (PROV, "wasDerivedFrom"), source);
        }
        // An IRI of its own, as the FDP shapes want.
        let activity = node(&format!("{url}#generation"));
        self.add(this, (PROV, "wasGeneratedBy"), activity.clone());
        self.a(&activity, (PROV, "Activity"));
        self.text(&activity, (RDFS, "label"), "fair snapshot");
        if let Some(issued) = issued {
            self.typed(this, (PROV, "generatedAtTime"), issued, "dateTime");
            self.typed(&activity, (PROV, "endedAtTime"), issued, "dateTime");
        }
        if let Some(source) = source {
            self.link(&activity, (PROV, "used"), source);
        }
        let software = self.blank();
        self.add(&activity, (PROV, "wasAssociatedWith"), software.clone());
        self.a(&software, (PROV, "SoftwareAgent"));
        let version = env!("CARGO_PKG_VERSION");
        self.text(&software, (RDFS, "label"), &format!("fair {version}"));
        self.text(&software, (OWL, "versionInfo"), version);
    }

    /// `dcat:theme` each of `themes`, a `skos:Concept` labelled by its last
    /// segment.
    fn themes(&mut self, node: &NamedOrBlankNode, themes: &[String]) {
        for theme in themes {
            if let Some(concept) = iri(theme) {
                self.add(node, (DCAT, "theme"), concept.clone());
                let concept = concept.into();
                self.a(&concept, (SKOS, "Concept"));
                let name = theme
                    .trim_end_matches('/')
                    .rsplit(['/', '#'])
                    .next()
                    .unwrap_or(theme);
                self.text(&concept, (SKOS, "prefLabel"), name);
            }
        }
    }

    /// The rest of what a dataset's header says: creators, keywords, themes,
    /// contact point, landing page.
    fn header(&mut self, site: &Site<'_>, node: &NamedOrBlankNode, entry: &Entry<'_>) {
        let meta = &entry.dataset.meta;
        for creator in &meta.creators {
            self.agent(node, (DCT, "creator"), creator);
        }
        for keyword in &meta.keywords {
            self.text(node, (DCAT, "keyword"), keyword);
        }
        self.themes(node, &site.themes(meta));
        if let Some(contact) = &meta.contact {
            self.contact(node, contact);
        }
        if let Some(page) = meta.landing_page.as_deref().and_then(iri) {
            self.add(node, (DCAT, "landingPage"), page.clone());
            self.a(&page.into(), (FOAF, "Document"));
        }
    }

    /// An LDP direct container listing `members` of `resource` by `relation`.
    fn container(
        &mut self,
        url: &str,
        title: &str,
        resource: &str,
        relation: (&str, &str),
        members: &[String],
    ) {
        let Some(container) = iri(url) else { return };
        let container = container.into();
        self.a(&container, (LDP, "DirectContainer"));
        self.text(&container, (DCT, "title"), title);
        self.link(&container, (LDP, "membershipResource"), resource);
        self.add(
            &container,
            (LDP, "hasMemberRelation"),
            term(relation.0, relation.1),
        );
        for member in members {
            self.link(&container, (LDP, "contains"), member);
        }
    }
}

/// The SPDX name of an algorithm.
fn spdx_algorithm(algo: HashAlgo) -> &'static str {
    match algo {
        HashAlgo::Blake3 => "checksumAlgorithm_blake3",
        HashAlgo::Sha256 => "checksumAlgorithm_sha256",
        HashAlgo::Sha3_256 => "checksumAlgorithm_sha3_256",
    }
}

/// The graph of `subject`.
pub fn graph(site: &Site<'_>, subject: &Subject<'_>) -> Graph {
    let mut b = Builder {
        graph: Graph::new(),
        blanks: 0,
        root: site.root(),
    };
    match subject {
        Subject::Catalogue => catalogue(&mut b, site),
        Subject::Dataset(entry) => dataset(&mut b, site, entry),
        Subject::Snapshot(entry, index) => snapshot(&mut b, site, entry, *index),
        Subject::Part(entry, index, part) => {
            let record = &entry.dataset.records[*index];
            distribution(&mut b, site, entry, record, *part);
        }
    }
    b.graph
}

/// A node for `url` (our own URLs always parse).
fn node(url: &str) -> NamedOrBlankNode {
    NamedNode::new_unchecked(url).into()
}

/// What the root says of itself: the FAIR Data Point and catalogue, without its
/// datasets.
fn describe_root(b: &mut Builder, site: &Site<'_>) {
    let root_url = site.root();
    let root = node(&root_url);
    for class in [
        (FDPO, "FAIRDataPoint"),
        (FDPO, "MetadataService"),
        (DCAT, "DataService"),
        (DCAT, "Catalog"),
        (DCAT, "Resource"),
    ] {
        b.a(&root, class);
    }
    b.text(&root, (DCT, "title"), &site.title());
    b.text(&root, (DCT, "description"), &site.description());
    let publisher = site.catalogue_publisher();
    b.agent(&root, (DCT, "publisher"), &publisher);
    if publisher.email.is_some() {
        b.contact(&root, &publisher);
    }
    b.license(&root, site.catalogue_license().as_deref());
    // The FAIR Data Point's version: the software's.
    b.text(&root, (DCAT, "version"), env!("CARGO_PKG_VERSION"));
    // A dcat:Catalog is a dcat:Dataset: it has the default theme.
    b.themes(&root, &site.themes(&HeaderMeta::default()));
    b.link(&root, (DCAT, "endpointURL"), &root_url);
    b.identifiers(&root, &[&root_url]);
    b.link(&root, (FDPO, "metadataIdentifier"), &root_url);
    let spec = node(FDP_SPEC);
    b.add(
        &root,
        (DCT, "conformsTo"),
        NamedNode::new_unchecked(FDP_SPEC),
    );
    b.add(
        &root,
        (FDPO, "conformsToFdpSpec"),
        NamedNode::new_unchecked(FDP_SPEC),
    );
    b.a(&spec, (DCT, "Standard"));
    b.text(&spec, (RDFS, "label"), "FAIR Data Point specification 1.2");
    if let Some((issued, modified)) = site.catalogue_times() {
        b.typed(&root, (FDPO, "metadataIssued"), &issued, "dateTime");
        b.typed(&root, (FDPO, "metadataModified"), &modified, "dateTime");
        b.typed(&root, (DCT, "issued"), &issued, "dateTime");
        b.typed(&root, (DCT, "modified"), &modified, "dateTime");
    }
}

fn catalogue(b: &mut Builder, site: &Site<'_>) {
    let root_url = site.root();
    let root = node(&root_url);
    describe_root(b, site);
    b.link(&root, (VOID, "dataDump"), &site.dump_url(1));
    let mut members = Vec::new();
    for (name, dataset) in &site.view.datasets {
        let entry = Entry { name, dataset };
        let url = site.dataset_url(name);
        b.link(&root, (DCAT, "dataset"), &url);
        b.link(&root, (FDPO, "servesMetadata"), &url);
        let this = node(&url);
        b.dataset_core(site, &this, &entry, &entry.title(), &entry.description());
        // What the FAIR Data Point's shapes want of every dataset node.
        b.themes(&this, &site.themes(&dataset.meta));
        if let Some(current) = entry.current() {
            b.text(&this, (DCAT, "version"), &label(&dataset.records[current]));
        }
        members.push(url);
    }
    let datasets = format!("{}/dataset/", site.base);
    b.container(
        &datasets,
        "Datasets",
        &root_url,
        (DCAT, "dataset"),
        &members,
    );
}

fn dataset(b: &mut Builder, site: &Site<'_>, entry: &Entry<'_>) {
    let url = site.dataset_url(entry.name);
    let this = node(&url);
    b.dataset_core(site, &this, entry, &entry.title(), &entry.description());
    b.header(site, &this, entry);
    b.identifiers(&this, &[&url]);
    if let Some(id) = &entry.dataset.meta.identifier {
        b.persistent_identifier(&this, id);
    }
    b.link(&this, (DCT, "isPartOf"), &site.root());
    let records = &entry.dataset.records;
    if let Some((first, last)) = site.issued_span(entry) {
        b.typed(&this, (DCT, "issued"), &first, "dateTime");
        b.typed(&this, (DCT, "modified"), &last, "dateTime");
    }
    let mut members = Vec::new();
    for index in entry.snapshots() {
        let version = site.snapshot_url(entry.name, &records[index]);
        b.link(&this, (DCAT, "hasVersion"), &version);
        members.push(version);
    }
    if let Some(current) = entry.current() {
        let record = &records[current];
        b.link(
            &this,
            (DCAT, "hasCurrentVersion"),
            &site.snapshot_url(entry.name, record),
        );
        b.text(&this, (DCAT, "version"), &label(record));
        // The dataset's distributions are its current version's.
        distributions(b, site, entry, record, &this);
    }
    let title = format!("Versions of {}", entry.name);
    b.container(
        &format!("{url}/"),
        &title,
        &url,
        (DCAT, "hasVersion"),
        &members,
    );
}

fn snapshot(b: &mut Builder, site: &Site<'_>, entry: &Entry<'_>, index: usize) {
    let record = &entry.dataset.records[index];
    let url = site.snapshot_url(entry.name, record);
    let this = node(&url);
    let description = entry.snapshot_description(site, record);
    b.dataset_core(
        site,
        &this,
        entry,
        &entry.snapshot_title(record),
        &description,
    );
    b.header(site, &this, entry);
    b.identifiers(&this, &[&url, &record.checksum.to_string()]);
    b.text(&this, (DCAT, "version"), &label(record));
    b.link(&this, (DCT, "isVersionOf"), &site.dataset_url(entry.name));
    b.link(&this, (DCT, "isPartOf"), &site.root());
    if let Some(previous) = entry.previous(index) {
        let previous = &entry.dataset.records[previous];
        b.link(
            &this,
            (DCAT, "previousVersion"),
            &site.snapshot_url(entry.name, previous),
        );
    }
    let issued = site.issued(record);
    if let Some(issued) = &issued {
        b.typed(&this, (DCT, "issued"), issued, "dateTime");
    }
    let source = entry.dataset.meta.source.as_deref();
    b.provenance(&url, source, issued.as_deref());
    distributions(b, site, entry, record, &this);
}

/// Links `this` (a dataset or snapshot) to each distribution of `record`, and
/// describes them.
fn distributions(
    b: &mut Builder,
    site: &Site<'_>,
    entry: &Entry<'_>,
    record: &Distribution,
    this: &NamedOrBlankNode,
) {
    for part in site.parts(record) {
        b.link(
            this,
            (DCAT, "distribution"),
            &site.part_url(entry.name, record, part),
        );
        distribution(b, site, entry, record, part);
    }
}

/// The description of a distribution of a snapshot.
fn distribution(
    b: &mut Builder,
    site: &Site<'_>,
    entry: &Entry<'_>,
    record: &Distribution,
    part: Part,
) {
    let url = site.part_url(entry.name, record, part);
    let this = node(&url);
    b.a(&this, (DCAT, "Distribution"));
    let snapshot = entry.snapshot_title(record);
    b.license(&this, site.license(&entry.dataset.meta).as_deref());
    b.link(
        &this,
        (DCT, "isPartOf"),
        &site.snapshot_url(entry.name, record),
    );
    if let Some(issued) = site.issued(record) {
        b.typed(&this, (DCT, "issued"), &issued, "dateTime");
    }
    let media = match part {
        Part::Collection => {
            let algo = site.catalogue.hash();
            let hex = record.checksum.to_string();
            b.text(
                &this,
                (DCT, "title"),
                &format!("Collection index of {snapshot}"),
            );
            let description = format!(
                "Every key of the snapshot ({} keys) with the {algo} checksum of its file, as plain JSON.{}",
                record.nkeys,
                flavour(record)
                    .map(|f| format!(" Files are {f}."))
                    .unwrap_or_default()
            );
            b.text(&this, (DCT, "description"), &description);
            let download = site.download_url(entry.name, record);
            b.link(&this, (DCAT, "accessURL"), &download);
            b.link(&this, (DCAT, "downloadURL"), &download);
            b.identifiers(&this, &[&url, &hex]);
            if let Some(size) = site.collection_size(record) {
                b.typed(
                    &this,
                    (DCAT, "byteSize"),
                    &size.to_string(),
                    "nonNegativeInteger",
                );
            }
            let checksum = node(&format!("{url}#checksum"));
            b.add(
                &this,
                (SPDX, "checksum"),
                NamedNode::new_unchecked(format!("{url}#checksum")),
            );
            b.a(&checksum, (SPDX, "Checksum"));
            b.add(
                &checksum,
                (SPDX, "algorithm"),
                term(SPDX, spdx_algorithm(algo)),
            );
            b.typed(&checksum, (SPDX, "checksumValue"), &hex, "hexBinary");
            let format = node(&format!("{FILE_TYPE}JSON"));
            b.add(
                &this,
                (DCT, "format"),
                NamedNode::new_unchecked(format!("{FILE_TYPE}JSON")),
            );
            b.a(&format, (DCT, "MediaTypeOrExtent"));
            "application/json"
        }
        Part::Manifest(format) => {
            b.text(
                &this,
                (DCT, "title"),
                &format!("{format} manifest of {snapshot}"),
            );
            let description = format!(
                "Bulk download manifest of the snapshot's files in the {format} format, made on request (fair manifest --format {format})."
            );
            b.text(&this, (DCT, "description"), &description);
            b.link(
                &this,
                (DCAT, "accessURL"),
                &site.manifest_url(record, format),
            );
            b.identifiers(&this, &[&url]);
            format
                .media_type()
                .split(';')
                .next()
                .unwrap_or("text/plain")
        }
    };
    let media_type = format!("{IANA}{media}");
    b.link(&this, (DCAT, "mediaType"), &media_type);
    b.a(&node(&media_type), (DCT, "MediaType"));
}

/// Page `page` (from 1) of the catalogue's data dump, `per_page` datasets a
/// page: the catalogue, and each dataset of the page with its versions and the
/// distributions of its current one (what a DCAT harvester such as CKAN's reads
/// as datasets and resources), and a Hydra view of the pages. `None`: no such
/// page.
pub fn dump(site: &Site<'_>, page: usize, per_page: usize) -> Option<Graph> {
    let total = site.view.datasets.len();
    let pages = total.div_ceil(per_page).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let mut b = Builder {
        graph: Graph::new(),
        blanks: 0,
        root: site.root(),
    };
    describe_root(&mut b, site);
    let root = node(&site.root());
    for (name, dataset) in site
        .view
        .datasets
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
    {
        let entry = Entry { name, dataset };
        b.link(&root, (DCAT, "dataset"), &site.dataset_url(name));
        self::dataset(&mut b, site, &entry);
    }
    let view = node(&site.dump_url(page));
    b.a(&view, (HYDRA, "PartialCollectionView"));
    b.link(&view, (HYDRA, "first"), &site.dump_url(1));
    b.link(&view, (HYDRA, "last"), &site.dump_url(pages));
    if page < pages {
        b.link(&view, (HYDRA, "next"), &site.dump_url(page + 1));
    }
    if page > 1 {
        b.link(&view, (HYDRA, "previous"), &site.dump_url(page - 1));
    }
    b.typed(&view, (HYDRA, "totalItems"), &total.to_string(), "integer");
    b.typed(
        &view,
        (HYDRA, "itemsPerPage"),
        &per_page.to_string(),
        "integer",
    );
    Some(b.graph)
}
