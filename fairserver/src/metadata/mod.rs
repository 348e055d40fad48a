//! FAIR metadata of the catalogue, for machines and for people: every resource
//! below has a DCAT 3 / FAIR Data Point description (Turtle, JSON-LD, RDF/XML),
//! an HTML landing page with schema.org JSON-LD, signposting `Link` headers and a
//! linkset, chosen by content negotiation.
//!
//! | resource | what |
//! | --- | --- |
//! | `/` | the FAIR Data Point, which is also the catalogue (`dcat:Catalog`) |
//! | `/dataset/{name}` | a dataset across its versions (`dcat:hasVersion`) |
//! | `/dataset/{name}/{checksum}` | one immutable snapshot (a distribution record) |
//! | `/dataset/{name}/{checksum}/distribution/{part}` | a `dcat:Distribution` of it: `collection` or a manifest format |
//! | `/dataset/{name}/{checksum}/collection.json` | the collection index itself (download) |

mod dcat;
mod html;
mod negotiate;
mod schemaorg;
mod signposting;

use std::time::SystemTime;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use faircore::config::DEFAULT_THEME;
use faircore::header::{ACCESS_RIGHT, Agent, HeaderMeta};
use faircore::manifest::{Format, Manifest, Mirror};
use faircore::{Catalogue, Checksum, ContentDir, Distribution, Name};

use crate::error::ApiError;
use crate::{Server, content};
use faircore::view::{Dataset, View};
use negotiate::Representation;

type Answer = Result<HttpResponse, ApiError>;

/// Where the resources are and what the catalogue says of itself.
pub struct Site<'v> {
    /// The server's public URL without a final slash: fair.toml's `base_url` or
    /// `--base-url`, else the scheme and host the request came to.
    base: String,
    view: &'v View,
    catalogue: &'v Catalogue,
    /// This server as a mirror of the catalogue's content, if its URL is known.
    mirror: Option<Mirror>,
}

/// A dataset of the view, with its name.
#[derive(Clone, Copy)]
pub struct Entry<'v> {
    name: &'v Name,
    dataset: &'v Dataset,
}

/// A distribution of a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The collection index (key → element checksum), as plain JSON.
    Collection,
    /// A bulk download manifest.
    Manifest(Format),
}

impl Part {
    /// Its name in the resource's URL.
    fn name(self) -> &'static str {
        match self {
            Part::Collection => "collection",
            Part::Manifest(format) => format.name(),
        }
    }
}

/// The resource a request is about.
pub enum Subject<'v> {
    /// `/`.
    Catalogue,
    /// `/dataset/{name}`.
    Dataset(Entry<'v>),
    /// `/dataset/{name}/{checksum}`: the record at that index.
    Snapshot(Entry<'v>, usize),
    /// `/dataset/{name}/{checksum}/distribution/{part}`.
    Part(Entry<'v>, usize, Part),
}

impl<'v> Site<'v> {
    fn new(server: &'v Server, request: &HttpRequest, view: &'v View) -> Site<'v> {
        let base = match &server.base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                // The request's own Host: never X-Forwarded-Host or Forwarded,
                // which any client can send (a cache would then keep its URLs for
                // everyone). Behind a proxy, configure the public URL (base_url).
                let host = request
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .or_else(|| request.uri().authority().map(|a| a.as_str()))
                    .unwrap_or("localhost");
                let guess = format!("http://{host}");
                // A Host header that is no host must not reach the output.
                match url::Url::parse(&guess) {
                    Ok(url) if url.path() == "/" && url.query().is_none() => {
                        url.as_str().trim_end_matches('/').to_string()
                    }
                    _ => "http://localhost".to_string(),
                }
            }
        };
        Site {
            base,
            view,
            catalogue: &server.catalogue,
            mirror: server.mirror(),
        }
    }

    fn root(&self) -> String {
        format!("{}/", self.base)
    }

    fn dataset_url(&self, name: &Name) -> String {
        format!("{}/dataset/{name}", self.base)
    }

    fn snapshot_url(&self, name: &Name, record: &Distribution) -> String {
        format!("{}/dataset/{name}/{}", self.base, record.checksum)
    }

    fn part_url(&self, name: &Name, record: &Distribution, part: Part) -> String {
        format!(
            "{}/distribution/{}",
            self.snapshot_url(name, record),
            part.name()
        )
    }

    /// Page `page` of the catalogue's data dump.
    fn dump_url(&self, page: usize) -> String {
        format!("{}/catalogue?page={page}", self.base)
    }

    fn download_url(&self, name: &Name, record: &Distribution) -> String {
        format!("{}/collection.json", self.snapshot_url(name, record))
    }

    fn manifest_url(&self, record: &Distribution, format: Format) -> String {
        format!(
            "{}/machine/manifest/{}?format={format}",
            self.base, record.checksum
        )
    }

    /// The catalogue's title (fair.toml's, else the directory's name).
    fn title(&self) -> String {
        let meta = &self.view.catalogue;
        meta.title
            .clone()
            .unwrap_or_else(|| "fair catalogue".into())
    }

    /// The catalogue's description.
    fn description(&self) -> String {
        let meta = &self.view.catalogue;
        meta.description.clone().unwrap_or_else(|| {
            "Versioned, content-addressed datasets: for every release, which bytes it \
             holds and where to download them."
                .into()
        })
    }

    /// The license of the catalogue's metadata and default of datasets
    /// (fair.toml's, else the one every dataset's header gives).
    fn catalogue_license(&self) -> Option<String> {
        let license = self.view.catalogue.license.as_deref()?;
        faircore::header::license_iri(license).ok()
    }

    /// The license of a dataset: its header's, else the catalogue's.
    fn license(&self, meta: &HeaderMeta) -> Option<String> {
        meta.license.clone().or_else(|| self.catalogue_license())
    }

    /// The themes of a dataset: its header's, else fair.toml's, else the EU
    /// data theme "Science and technology".
    fn themes(&self, meta: &HeaderMeta) -> Vec<String> {
        if !meta.themes.is_empty() {
            return meta.themes.clone();
        }
        let theme = self.view.catalogue.theme.as_deref();
        vec![theme.unwrap_or(DEFAULT_THEME).to_string()]
    }

    /// The access rights of a dataset: its header's, else public (the EU
    /// access-right vocabulary's concept).
    fn access_rights(&self, meta: &HeaderMeta) -> String {
        meta.access_rights
            .clone()
            .unwrap_or_else(|| format!("{ACCESS_RIGHT}PUBLIC"))
    }

    /// When a dataset's snapshots were first and last issued.
    fn issued_span(&self, entry: &Entry<'_>) -> Option<(String, String)> {
        let dates: Vec<String> = entry
            .dataset
            .records
            .iter()
            .filter_map(|r| self.issued(r))
            .collect();
        Some((dates.iter().min()?.clone(), dates.iter().max()?.clone()))
    }

    /// The catalogue's publisher (fair.toml's, else the one every dataset's
    /// header gives, else its title).
    fn catalogue_publisher(&self) -> Agent {
        let meta = &self.view.catalogue;
        Agent {
            name: meta.publisher.clone().unwrap_or_else(|| self.title()),
            iri: meta.publisher_url.clone(),
            email: meta.contact_email.clone(),
        }
    }

    /// The publisher of a dataset: its header's, else the catalogue's.
    fn publisher(&self, meta: &HeaderMeta) -> Agent {
        meta.publisher
            .clone()
            .unwrap_or_else(|| self.catalogue_publisher())
    }

    /// The hex checksum of a distribution's collection file and its size, if
    /// the file is there.
    fn collection_size(&self, record: &Distribution) -> Option<u64> {
        let path = self
            .catalogue
            .layout()
            .content(ContentDir::Buffers, &record.checksum);
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    /// The distributions of a snapshot: its collection, and the manifests that can
    /// be made of it (those its catalogue and record can give; the keys are not
    /// read here, so a key a format cannot carry is refused by
    /// `/machine/manifest` alone).
    fn parts(&self, record: &Distribution) -> Vec<Part> {
        let made = |f: &Format| {
            Manifest::new(self.catalogue, record, None, *f, self.mirror.clone()).is_ok()
        };
        std::iter::once(Part::Collection)
            .chain(Format::ALL.into_iter().filter(made).map(Part::Manifest))
            .collect()
    }

    /// When the catalogue was first and last changed (the oldest and newest
    /// metadata file), as `xsd:dateTime` text.
    fn catalogue_times(&self) -> Option<(String, String)> {
        let times = self
            .view
            .fingerprint
            .iter()
            .map(|(_, _, seconds, _, _)| *seconds);
        let (first, last) = (times.clone().min()?, times.max()?);
        Some((date_time(first)?, date_time(last)?))
    }

    /// When a snapshot was issued: its date, else when its collection was
    /// published.
    fn issued(&self, record: &Distribution) -> Option<String> {
        if let Some(date) = &record.date {
            return Some(format!("{date}T00:00:00Z"));
        }
        let path = self
            .catalogue
            .layout()
            .content(ContentDir::Buffers, &record.checksum);
        let modified = std::fs::metadata(path).ok()?.modified().ok()?;
        let seconds = modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        date_time(i64::try_from(seconds.as_secs()).ok()?)
    }
}

/// `seconds` since the epoch as `xsd:dateTime` text (UTC, whole seconds).
fn date_time(seconds: i64) -> Option<String> {
    let at = jiff::Timestamp::from_second(seconds).ok()?;
    Some(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// What a record is called among its dataset's versions: its version, else its
/// date.
fn label(record: &Distribution) -> String {
    record
        .version
        .clone()
        .or_else(|| record.date.clone())
        .unwrap_or_default()
}

/// A record's format and compression in words, when it has either.
fn flavour(record: &Distribution) -> Option<String> {
    match (&record.format, &record.compression) {
        (None, None) => None,
        (Some(f), None) => Some(f.clone()),
        (None, Some(c)) => Some(format!("{c}-compressed")),
        (Some(f), Some(c)) => Some(format!("{f}, {c}-compressed")),
    }
}

impl Entry<'_> {
    /// The dataset's title: its header's, else its name.
    fn title(&self) -> String {
        let meta = &self.dataset.meta;
        meta.title.clone().unwrap_or_else(|| self.name.to_string())
    }

    /// The dataset's description: its header's, else a sentence about it.
    fn description(&self) -> String {
        self.dataset.meta.description.clone().unwrap_or_else(|| {
            format!(
                "Dataset {} of this catalogue, in {} distribution(s).",
                self.name,
                self.dataset.records.len()
            )
        })
    }

    /// The description of a snapshot: the dataset's, and what the snapshot holds.
    fn snapshot_description(&self, site: &Site<'_>, record: &Distribution) -> String {
        format!(
            "{} This snapshot holds {} files ({} bytes); its collection index has {} checksum {}.",
            self.description(),
            record.nkeys,
            record.content_size,
            site.catalogue.hash(),
            record.checksum
        )
    }

    /// The release dates of the dataset as a `first/last` interval (one date
    /// alone when they agree), if any record has a date.
    fn temporal_coverage(&self) -> Option<String> {
        let dates = self
            .dataset
            .records
            .iter()
            .filter_map(|r| r.date.as_deref());
        let (first, last) = (dates.clone().min()?, dates.max()?);
        Some(if first == last {
            first.to_string()
        } else {
            format!("{first}/{last}")
        })
    }

    /// The first record with the checksum of record `index`: the one that names
    /// the snapshot (records of several formats or compressions may share a
    /// collection, and so a snapshot).
    fn first_of(&self, index: usize) -> usize {
        let records = &self.dataset.records;
        let checksum = records[index].checksum;
        records
            .iter()
            .position(|r| r.checksum == checksum)
            .unwrap_or(index)
    }

    /// The snapshots of the dataset: the first record of each checksum, in the
    /// order they were added.
    fn snapshots(&self) -> Vec<usize> {
        (0..self.dataset.records.len())
            .filter(|&i| self.first_of(i) == i)
            .collect()
    }

    /// The snapshot before the one of record `index`: the latest earlier record
    /// of the same type, format and compression with another collection.
    fn previous(&self, index: usize) -> Option<usize> {
        let records = &self.dataset.records;
        let this = &records[index];
        let previous = (0..index).rev().find(|&i| {
            let other = &records[i];
            other.kind == this.kind
                && other.format == this.format
                && other.compression == this.compression
                && other.checksum != this.checksum
        })?;
        Some(self.first_of(previous))
    }

    /// The current version: the newest record marked `latest` without
    /// compression, else the newest marked `latest`, else the last record.
    /// Newest: the latest date, then the last added (records without a date,
    /// version-only ones, go by the order they were added).
    fn current(&self) -> Option<usize> {
        let records = &self.dataset.records;
        let newest = |plain: bool| {
            (0..records.len())
                .filter(|&i| records[i].latest && (!plain || records[i].compression.is_none()))
                .max_by(|&a, &b| (&records[a].date, a).cmp(&(&records[b].date, b)))
        };
        let current = newest(true)
            .or_else(|| newest(false))
            .or(records.len().checked_sub(1))?;
        Some(self.first_of(current))
    }

    /// The snapshot's title: the dataset's, its version, and the formats and
    /// compressions of the records that share its collection.
    fn snapshot_title(&self, record: &Distribution) -> String {
        let mut title = format!("{}, {}", self.title(), label(record));
        let flavours: Vec<String> = self
            .dataset
            .records
            .iter()
            .filter(|r| r.checksum == record.checksum)
            .filter_map(flavour)
            .collect();
        if !flavours.is_empty() {
            title.push_str(&format!(" ({})", flavours.join("; ")));
        }
        title
    }
}

/// The resource at `/dataset/{name}`, `404` if there is none.
fn entry<'v>(view: &'v View, name: &str) -> Result<Entry<'v>, ApiError> {
    let name: Name = name.parse().map_err(|_| ApiError::NotFound)?;
    let (name, dataset) = view
        .datasets
        .get_key_value(&name)
        .ok_or(ApiError::NotFound)?;
    Ok(Entry { name, dataset })
}

/// What stands for the current snapshot in place of its checksum.
const LATEST: &str = "latest";

/// A temporary redirect from `/dataset/NAME/latest[/...]` to the same resource
/// of the current snapshot (query kept): a stable URL for the newest release.
fn to_current(request: &HttpRequest, entry: &Entry<'_>) -> Answer {
    let current = entry.current().ok_or(ApiError::NotFound)?;
    let checksum = entry.dataset.records[current].checksum.to_string();
    let mut segments: Vec<&str> = request.path().split('/').collect();
    // "", "dataset", NAME, "latest", ...
    match segments.get_mut(3) {
        Some(segment) if *segment == LATEST => *segment = &checksum,
        _ => return Err(ApiError::NotFound),
    }
    redirect(request, segments.join("/"), StatusCode::TEMPORARY_REDIRECT)
}

/// A redirect with `status` to `path` with the request's query.
fn redirect(request: &HttpRequest, mut path: String, status: StatusCode) -> Answer {
    if !request.query_string().is_empty() {
        path.push('?');
        path.push_str(request.query_string());
    }
    let location = header::HeaderValue::try_from(path)
        .map_err(|_| ApiError::BadRequest("the request's path cannot be redirected".into()))?;
    Ok(HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish())
}

/// `GET /dataset/`: the LDP container of the datasets, described in the
/// catalogue's document: a `303 See Other` to `/`.
pub async fn datasets_container(request: HttpRequest) -> Answer {
    redirect(&request, "/".into(), StatusCode::SEE_OTHER)
}

/// `GET /dataset/{name}/`: the LDP container of a dataset's versions, described
/// in the dataset's document: a `303 See Other` to `/dataset/{name}`.
pub async fn versions_container(
    server: web::Data<Server>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Answer {
    let view = server.view();
    entry(&view, &name)?;
    let path = request.path().trim_end_matches('/').to_string();
    redirect(&request, path, StatusCode::SEE_OTHER)
}

/// The record of `entry` with checksum `hex`.
fn record_index(entry: &Entry<'_>, hex: &str) -> Result<usize, ApiError> {
    let wanted: Checksum = crate::machine::checksum(hex).ok_or(ApiError::NotFound)?;
    entry
        .dataset
        .records
        .iter()
        .position(|r| r.checksum == wanted)
        .ok_or(ApiError::NotFound)
}

/// The answer about `subject`, in the representation the request negotiates,
/// with its signposts.
/// `page` is the page of a dataset's versions table (from 1).
fn respond(site: &Site<'_>, request: &HttpRequest, subject: &Subject<'_>, page: usize) -> Answer {
    let format = query_param(request, "format");
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let representation = negotiate::choose(format.as_deref(), accept)?;
    let signposts = signposting::Signposts::of(site, subject);
    let body = match representation {
        Representation::Html => html::page(site, subject, &signposts, page).into_bytes(),
        Representation::Linkset => signposts.linkset(),
        rdf => negotiate::serialise(&dcat::graph(site, subject), rdf).map_err(|e| {
            tracing::error!("serialising metadata: {e}");
            ApiError::Unavailable("the metadata could not be serialised".into())
        })?,
    };
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(representation.content_type())
        .insert_header((header::VARY, "Accept"));
    // Every target is a checked IRI made a URI; a value a header still cannot
    // carry loses the header, not the page.
    match header::HeaderValue::from_str(&signposts.header()) {
        Ok(link) => answer.insert_header((header::LINK, link)),
        Err(e) => {
            tracing::warn!("Link header of {}: {e}; sent without it", request.path());
            &mut answer
        }
    };
    Ok(answer.body(body))
}

/// `GET /`: the FAIR Data Point and catalogue.
pub async fn root(server: web::Data<Server>, request: HttpRequest) -> Answer {
    let view = server.view();
    let site = Site::new(&server, &request, &view);
    respond(&site, &request, &Subject::Catalogue, 1)
}

/// Datasets on a page of the catalogue's data dump.
const DUMP_PAGE: usize = 100;

/// `GET /catalogue?page=N` (no page: the first): the whole catalogue as one
/// RDF document (`void:dataDump` of the root), catalogue → datasets → current
/// distributions, 100 datasets a page linked by a Hydra `PartialCollectionView`,
/// as DCAT harvesters read it. Turtle, JSON-LD or RDF/XML; a page that is not a
/// number is a 400, one past the last a 404.
pub async fn dump(server: web::Data<Server>, request: HttpRequest) -> Answer {
    let page = page_number(&request)?;
    let format = query_param(&request, "format");
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let representation = negotiate::choose(format.as_deref(), accept)?;
    if !Representation::RDF.contains(&representation) {
        return Err(ApiError::NotAcceptable(
            "the catalogue dump is RDF: text/turtle, application/ld+json or application/rdf+xml"
                .into(),
        ));
    }
    let view = server.view();
    let site = Site::new(&server, &request, &view);
    let graph = dcat::dump(&site, page, DUMP_PAGE).ok_or(ApiError::NotFound)?;
    let body = negotiate::serialise(&graph, representation).map_err(|e| {
        tracing::error!("serialising the dump: {e}");
        ApiError::Unavailable("the metadata could not be serialised".into())
    })?;
    Ok(HttpResponse::Ok()
        .content_type(representation.content_type())
        .insert_header((header::VARY, "Accept"))
        .body(body))
}

/// The first value of the query parameter `key` of `request`.
fn query_param(request: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The `page` parameter of `request` (none: 1). Errors: not a number from 1
/// (400).
fn page_number(request: &HttpRequest) -> Result<usize, ApiError> {
    match query_param(request, "page") {
        None => Ok(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("page={text:?}: expected a page number from 1"))
            }),
    }
}

/// `GET /dataset/{name}[?page=N]`: a dataset and its versions (the page's
/// table shows them 50 a page, newest first; a page past the last is a 404).
pub async fn dataset(
    server: web::Data<Server>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Answer {
    let view = server.view();
    let site = Site::new(&server, &request, &view);
    let entry = entry(&view, &name)?;
    let page = page_number(&request)?;
    if page > html::version_pages(entry.dataset.records.len()) {
        return Err(ApiError::NotFound);
    }
    respond(&site, &request, &Subject::Dataset(entry), page)
}

/// `GET /dataset/{name}/{checksum}`: one snapshot (`latest`: a redirect to the
/// current one).
pub async fn snapshot(
    server: web::Data<Server>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Answer {
    let view = server.view();
    let site = Site::new(&server, &request, &view);
    let entry = entry(&view, &path.0)?;
    if path.1 == LATEST {
        return to_current(&request, &entry);
    }
    let index = record_index(&entry, &path.1)?;
    respond(&site, &request, &Subject::Snapshot(entry, index), 1)
}

/// `GET /dataset/{name}/{checksum}/distribution/{part}`: a distribution of a
/// snapshot (`latest`: a redirect to the current one's).
pub async fn distribution(
    server: web::Data<Server>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Answer {
    let view = server.view();
    let site = Site::new(&server, &request, &view);
    let entry = entry(&view, &path.0)?;
    if path.1 == LATEST {
        return to_current(&request, &entry);
    }
    let index = record_index(&entry, &path.1)?;
    let part = site
        .parts(&entry.dataset.records[index])
        .into_iter()
        .find(|p| p.name() == path.2)
        .ok_or(ApiError::NotFound)?;
    respond(&site, &request, &Subject::Part(entry, index, part), 1)
}

/// `GET /dataset/{name}/{checksum}/collection.json`: the collection index of a
/// snapshot, as `/buffers/` serves it, linked back to its landing page
/// (`latest`: a redirect to the current one's).
pub async fn collection(
    server: web::Data<Server>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Answer {
    let landing = {
        let view = server.view();
        let site = Site::new(&server, &request, &view);
        let entry = entry(&view, &path.0)?;
        if path.1 == LATEST {
            return to_current(&request, &entry);
        }
        let index = record_index(&entry, &path.1)?;
        site.snapshot_url(entry.name, &entry.dataset.records[index])
    };
    let hex = path.into_inner().1;
    let mut answer = content::buffer(server, request, web::Path::from(hex)).await?;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    if let Ok(link) = header::HeaderValue::from_str(&format!(
        "<{landing}>; rel=\"collection\"; type=\"text/html\""
    )) {
        headers.insert(header::LINK, link);
    }
    Ok(answer)
}
