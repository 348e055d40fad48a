//! The HTML landing pages: server-rendered, readable without JavaScript and on a
//! phone, each with its signposts as `<link>` elements and its schema.org JSON-LD.

use faircore::header::Agent;
use faircore::manifest::Format;
use faircore::{Distribution, Query};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::negotiate::Representation;
use super::signposting::Signposts;
use super::{Entry, Part, Site, Subject, label, schemaorg};

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:0 1rem;line-height:1.5;color:#1b1f24}\
header{border-bottom:1px solid #d0d7de;padding:.5rem 0}header a{font-weight:600;text-decoration:none}\
footer{border-top:1px solid #d0d7de;margin-top:2rem;padding:.5rem 0;font-size:.9rem;overflow-wrap:anywhere}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}\
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}code{overflow-wrap:anywhere}\
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
input[type=search]{width:100%;max-width:24rem;padding:.4rem;font-size:1rem}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}\
svg.chart{width:100%;height:auto;max-width:30rem}.axis{stroke:#8c959f}\
.line{fill:none;stroke:#0969da;stroke-width:1.5}svg.chart circle{fill:#0969da}\
svg.chart[data-figure=bytes] .line{stroke:#bf8700}svg.chart[data-figure=bytes] circle{fill:#bf8700}\
nav.pages{margin:.5rem 0}\
";

/// Hides the catalogue's rows that do not contain the filter's text (the page
/// shows every row without JavaScript).
const FILTER: &str = "\
const box=document.getElementById('filter');\
box.addEventListener('input',()=>{const q=box.value.toLowerCase();\
for(const row of document.querySelectorAll('#datasets tbody tr')){\
row.hidden=!row.textContent.toLowerCase().includes(q);}});";

/// `n` bytes in words.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Rows of a dataset's versions table on one page.
pub const VERSIONS_PAGE: usize = 50;

/// The number of pages of the versions table of a dataset with `n` records (1
/// when it has none).
pub fn version_pages(n: usize) -> usize {
    n.div_ceil(VERSIONS_PAGE).max(1)
}

/// The page of `subject`; `page` is the page of a dataset's versions table
/// (from 1, at most [`version_pages`]).
pub fn page(site: &Site<'_>, subject: &Subject<'_>, signposts: &Signposts, page: usize) -> String {
    let (title, body) = match subject {
        Subject::Catalogue => (site.title(), catalogue(site)),
        Subject::Dataset(entry) => (entry.title(), dataset(site, entry, page)),
        Subject::Snapshot(entry, index) => {
            let record = &entry.dataset.records[*index];
            (entry.snapshot_title(record), snapshot(site, entry, record))
        }
        Subject::Part(entry, index, part) => {
            let record = &entry.dataset.records[*index];
            let title = match part {
                Part::Collection => format!("Collection index of {}", entry.snapshot_title(record)),
                Part::Manifest(f) => format!("{f} manifest of {}", entry.snapshot_title(record)),
            };
            (title, distribution(site, entry, record, *part))
        }
    };
    let json_ld = schemaorg::script_text(&schemaorg::describe(site, subject));
    layout(site, &title, signposts, &json_ld, body).into_string()
}

/// The frame of every page.
fn layout(
    site: &Site<'_>,
    title: &str,
    signposts: &Signposts,
    json_ld: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // No favicon: browsers would otherwise ask for /favicon.ico.
                link rel="icon" href="data:,";
                link rel="cite-as" href=(signposts.cite_as);
                @for representation in Representation::RDF {
                    link rel="describedby" type=(representation.media_type()) href=(signposts.alternate(representation));
                }
                @for kind in signposts.types() {
                    link rel="type" href=(kind);
                }
                @if let Some(license) = &signposts.license {
                    link rel="license" href=(license);
                }
                @for author in &signposts.authors {
                    link rel="author" href=(author);
                }
                @for item in &signposts.items {
                    link rel="item" type=[item.kind] href=(item.href);
                }
                link rel="linkset" type="application/linkset+json" href=(signposts.alternate(Representation::Linkset));
                style { (PreEscaped(STYLE)) }
                script type="application/ld+json" { (PreEscaped(json_ld)) }
            }
            body {
                header { a href=(site.root()) { (site.title()) } }
                main { h1 { (title) } (body) }
                footer {
                    "This page as "
                    a href=(signposts.alternate(Representation::Turtle)) { "Turtle" } ", "
                    a href=(signposts.alternate(Representation::JsonLd)) { "JSON-LD" } ", "
                    a href=(signposts.alternate(Representation::RdfXml)) { "RDF/XML" } " (DCAT 3), "
                    a href=(signposts.alternate(Representation::Linkset)) { "linkset" } ". "
                    "Cite as " code { (signposts.cite_as) } "."
                }
            }
        }
    }
}

/// An agent, linked when it has an IRI.
fn agent(agent: &Agent) -> Markup {
    html! {
        @if let Some(iri) = &agent.iri { a href=(iri) { (agent.label()) } } @else { (agent.name) }
        @if let Some(email) = &agent.email { " (" a href={ "mailto:" (email) } { (email) } ")" }
    }
}

fn catalogue(site: &Site<'_>) -> Markup {
    html! {
        p { (site.description()) }
        p {
            label for="filter" { "Filter datasets" }
            br;
            input type="search" id="filter" placeholder="name, title or description";
        }
        div.scroll {
            table #datasets {
                thead { tr { th { "Dataset" } th { "Description" } th { "Versions" } th { "Current" } } }
                tbody {
                    @for (name, dataset) in &site.view.datasets {
                        @let entry = Entry { name, dataset };
                        tr {
                            td { a href=(site.dataset_url(name)) { (entry.title()) } br; code { (name) } }
                            td { (entry.description()) }
                            td.n { (dataset.records.len()) }
                            td { @if let Some(i) = entry.current() { (label(&dataset.records[i])) } }
                        }
                    }
                }
            }
        }
        script { (PreEscaped(FILTER)) }
    }
}

fn dataset(site: &Site<'_>, entry: &Entry<'_>, page: usize) -> Markup {
    let meta = &entry.dataset.meta;
    let records = &entry.dataset.records;
    let pages = version_pages(records.len());
    let shown = records
        .iter()
        .rev()
        .skip((page - 1) * VERSIONS_PAGE)
        .take(VERSIONS_PAGE);
    let page_url = |n: usize| format!("{}?page={n}", site.dataset_url(entry.name));
    html! {
        p { (entry.description()) }
        dl {
            dt { "Name" } dd { code { (entry.name) } }
            dt { "License" } dd {
                @if let Some(license) = site.license(meta) { a href=(license) { (license) } } @else { "none given" }
            }
            dt { "Publisher" } dd { (agent(&site.publisher(meta))) }
            @if !meta.creators.is_empty() {
                dt { "Creators" } dd { @for (i, c) in meta.creators.iter().enumerate() { @if i > 0 { ", " } (agent(c)) } }
            }
            @if !meta.keywords.is_empty() { dt { "Keywords" } dd { (meta.keywords.join(", ")) } }
            @if let Some(id) = &meta.identifier { dt { "Identifier" } dd { a href=(id.iri) { (id.iri) } } }
            dt { "Access" } dd {
                @let rights = site.access_rights(meta);
                a href=(rights) { (rights.rsplit('/').next().unwrap_or(&rights).to_lowercase().replace('_', "-")) }
                @if let Some(conditions) = &meta.conditions_of_access { ": " (conditions) }
            }
            @if let Some(source) = &meta.source { dt { "Source" } dd { a href=(source) { (source) } } }
            @if let Some(page) = &meta.landing_page { dt { "More" } dd { a href=(page) { (page) } } }
        }
        h2 { "Versions" }
        div.scroll {
            table #versions {
                thead { tr {
                    th { "Version" } th { "Date" } th { "Format" } th { "Compression" }
                    th { "Files" } th { "Size" } th { "Checksum" }
                } }
                tbody {
                    @for record in shown {
                        tr data-checksum=(record.checksum) {
                            td { a href=(site.snapshot_url(entry.name, record)) { (label(record)) }
                                @if record.latest { " (latest)" } }
                            td { (record.date.as_deref().unwrap_or("")) }
                            td { (record.format.as_deref().unwrap_or("")) }
                            td { (record.compression.as_deref().unwrap_or("")) }
                            td.n { (record.nkeys) }
                            td.n { (bytes(record.content_size)) }
                            td { code title=(record.checksum) { (record.checksum.to_string()[..12]) "…" } }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pages aria-label="Versions table pages" {
                @if page > 1 { a rel="prev" href=(page_url(page - 1)) { "← newer" } " · " }
                "page " (page) " of " (pages) " (" (records.len()) " versions)"
                @if page < pages { " · " a rel="next" href=(page_url(page + 1)) { "older →" } }
            }
        }
        h2 { "Files and size per version" }
        div.charts {
            (chart("files", "Files", records, |r| r.nkeys, |n| n.to_string()))
            (chart("bytes", "Size", records, |r| r.content_size, bytes))
        }
        h2 { "Use it" }
        (snippets(site, entry))
    }
}

/// A line chart of one figure of each version, in the order the versions were
/// added, between the figure's smallest and largest values (both labelled on
/// the axis): a change of 1% shows, and 400 versions are 400 points of one
/// line. Drawn 360 units wide so that its 12-unit text stays readable when a
/// phone shrinks it.
fn chart(
    figure: &str,
    title: &str,
    records: &[Distribution],
    value: fn(&Distribution) -> u64,
    show: fn(u64) -> String,
) -> Markup {
    const WIDTH: f64 = 360.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 26.0;
    const PLOT: f64 = 120.0;
    let values: Vec<u64> = records.iter().map(value).collect();
    let (low, high) = (
        values.iter().copied().min().unwrap_or(0),
        values.iter().copied().max().unwrap_or(0),
    );
    let step = (WIDTH - LEFT - RIGHT) / values.len().max(1) as f64;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * step;
    let span = (high - low).max(1) as f64;
    let y = |v: u64| TOP + PLOT - (v - low) as f64 / span * PLOT;
    let line: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
        .collect();
    let radius = (step / 3.0).clamp(1.0, 3.5);
    let last = records.len().saturating_sub(1);
    let bottom = TOP + PLOT;
    html! {
        svg.chart data-figure=(figure) xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (WIDTH) " " (bottom + 34.0) } role="img" aria-labelledby={ "chart-" (figure) } {
            title id={ "chart-" (figure) } { (title) " of each version, oldest to newest" }
            text x="0" y="14" font-size="13" font-weight="600" { (title) }
            line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(bottom) {}
            line.axis x1=(LEFT) y1=(bottom) x2=(WIDTH - RIGHT) y2=(bottom) {}
            text.tick x=(LEFT - 5.0) y=(format!("{:.1}", y(high) + 4.0)) font-size="12" text-anchor="end" { (show(high)) }
            @if high > low {
                text.tick x=(LEFT - 5.0) y=(format!("{:.1}", y(low) + 4.0)) font-size="12" text-anchor="end" { (show(low)) }
            }
            @if let (Some(first), Some(newest)) = (records.first(), records.last()) {
                text x=(LEFT) y=(bottom + 16.0) font-size="12" text-anchor="start" { (label(first)) }
                @if last > 0 {
                    text x=(WIDTH - RIGHT) y=(bottom + 30.0) font-size="12" text-anchor="end" { (label(newest)) }
                }
            }
            polyline.line points=(line.join(" ")) {}
            @for (i, record) in records.iter().enumerate() {
                g.version data-version=(label(record)) data-value=(values[i]) {
                    circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(values[i]))) r=(format!("{radius:.1}")) {
                        title { (label(record)) ": " (show(values[i])) }
                    }
                }
            }
        }
    }
}

/// Copy-paste snippets: curl, Python requests and the Seamless client.
fn snippets(site: &Site<'_>, entry: &Entry<'_>) -> Markup {
    let name = entry.name;
    let base = &site.base;
    let current = entry.current();
    // The current version's selector: the shortest query that resolves to
    // exactly its record (its version or date, then format, compression, type).
    let selector = current.and_then(|i| Query::selecting(&entry.dataset.records, i));
    let parameters = selector
        .as_ref()
        .map_or_else(|| vec![("version", "1")], Query::parameters);
    let record = current.map(|i| &entry.dataset.records[i]);
    let checksum = record.map_or_else(|| "CHECKSUM".to_string(), |r| r.checksum.to_string());
    // The Metalink manifest where there are URLs to list; else the collection.
    let metalink = Part::Manifest(Format::Metalink);
    let download = if record.is_some_and(|r| site.parts(r).contains(&metalink)) {
        format!(
            "# Every file of this version, checked, with aria2c\n\
             curl '{base}/machine/manifest/{checksum}?format=metalink' -o {name}.meta4\n\
             aria2c -M {name}.meta4"
        )
    } else {
        format!(
            "# The files of this version: key -> checksum\n\
             curl '{base}/dataset/{name}/{checksum}/collection.json'"
        )
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("dataset", name.as_str())
        .extend_pairs(&parameters)
        .finish();
    let quoted = |value: &str| serde_json::Value::from(value).to_string();
    let params: Vec<String> = parameters
        .iter()
        .map(|(key, value)| format!(", \"{key}\": {}", quoted(value)))
        .collect();
    let keywords: Vec<String> = parameters
        .iter()
        .map(|(key, value)| format!(", {key}={}", quoted(value)))
        .collect();
    let curl = format!(
        "# The record of this version\n\
         curl '{base}/machine/find_distribution?{query}'\n\
         # This dataset's metadata (DCAT 3, Turtle)\n\
         curl -H 'Accept: text/turtle' {}\n\
         {download}",
        site.dataset_url(name)
    );
    let python = format!(
        "import requests\n\n\
         record = requests.get(\"{base}/machine/find_distribution\",\n\
         \x20   params={{\"dataset\": \"{name}\"{}}}).json()\n\
         collection = requests.get(\n\
         \x20   f\"{base}/dataset/{name}/{{record['checksum']}}/collection.json\").json()\n\
         print(record[\"nkeys\"], \"files\")",
        params.concat()
    );
    let seamless = format!(
        "import seamless.fair\n\
         from seamless.highlevel import DeepCell\n\n\
         seamless.fair.add_server(\"{base}\")\n\
         cell = DeepCell.find_distribution(\"{name}\"{})",
        keywords.concat()
    );
    html! {
        h3 { "curl" } pre { code { (curl) } }
        h3 { "Python (requests)" } pre { code { (python) } }
        h3 { "Seamless" } pre { code { (seamless) } }
    }
}

fn snapshot(site: &Site<'_>, entry: &Entry<'_>, record: &Distribution) -> Markup {
    let index = entry
        .dataset
        .records
        .iter()
        .position(|r| r.checksum == record.checksum);
    let previous = index.and_then(|i| entry.previous(i));
    html! {
        p { (entry.description()) }
        dl {
            dt { "Dataset" } dd { a href=(site.dataset_url(entry.name)) { (entry.title()) } }
            @if let Some(v) = &record.version { dt { "Version" } dd { (v) } }
            @if let Some(d) = &record.date { dt { "Date" } dd { (d) } }
            @if let Some(f) = &record.format { dt { "Format" } dd { (f) } }
            @if let Some(c) = &record.compression { dt { "Compression" } dd { (c) } }
            dt { "Files" } dd { (record.nkeys) }
            dt { "Size" } dd { (bytes(record.content_size)) }
            dt { "Checksum" } dd { code { (site.catalogue.hash()) ":" (record.checksum) } }
            @if let Some(p) = previous {
                @let p = &entry.dataset.records[p];
                dt { "Previous version" } dd { a href=(site.snapshot_url(entry.name, p)) { (label(p)) } }
            }
            dt { "License" } dd {
                @if let Some(license) = site.license(&entry.dataset.meta) { a href=(license) { (license) } } @else { "none given" }
            }
        }
        h2 { "Downloads" }
        ul #downloads {
            @for part in site.parts(record) {
                li { (part_link(site, entry, record, part)) }
            }
        }
    }
}

/// A download of a snapshot and the page describing it.
fn part_link(site: &Site<'_>, entry: &Entry<'_>, record: &Distribution, part: Part) -> Markup {
    let (href, what) = match part {
        Part::Collection => (
            site.download_url(entry.name, record),
            "collection.json: every key with its checksum".to_string(),
        ),
        Part::Manifest(f) => (site.manifest_url(record, f), format!("{f} manifest")),
    };
    html! {
        a href=(href) { (what) }
        " (" a href=(site.part_url(entry.name, record, part)) { "about" } ")"
    }
}

fn distribution(site: &Site<'_>, entry: &Entry<'_>, record: &Distribution, part: Part) -> Markup {
    html! {
        p {
            "A distribution of "
            a href=(site.snapshot_url(entry.name, record)) { (entry.snapshot_title(record)) } "."
        }
        p { "Download: " (part_link(site, entry, record, part)) }
        @if let Part::Manifest(f) = part {
            p { "Made on request by the server, as " code { "fair manifest DIR " (record.checksum) " --format " (f) } " makes it." }
        }
        @if let (Part::Collection, Some(size)) = (part, site.collection_size(record)) {
            p { (size) " bytes, " (site.catalogue.hash()) " " code { (record.checksum) } "." }
        }
    }
}
