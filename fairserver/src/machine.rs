//! The machine API (`/machine/...`): one handler per route of the Seamless
//! server (dataset, find, access, keyorder, find_distribution, find_checksum,
//! datasets), plus the extensions (diff, manifest, locate).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding};
use actix_web::{HttpRequest, HttpResponse, web};
use faircore::{Checksum, ContentDir, Distribution, Name, Query};
use serde_json::{Value, json};

use std::io::{Read, Write};

use faircore::manifest::{Format, Manifest};
use faircore::store::locate;
use faircore::stream::EntryStream;

use crate::checked::{KEEP_MAX, Verdict};
use crate::content::Content;
use crate::error::ApiError;
use crate::{Server, content, immutable, streaming};

type Answer = Result<HttpResponse, ApiError>;

/// Pretty JSON with a final newline, as upstream.
pub(crate) fn pretty(value: &impl serde::Serialize) -> HttpResponse {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// A checksum in a path: 64 lowercase hex digits, exactly (upstream compares
/// strings, so uppercase never matched).
pub(crate) fn checksum(text: &str) -> Option<Checksum> {
    let lower = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    lower.then(|| text.parse().ok()).flatten()
}

/// `GET /machine/dataset/{name}`: the header with `distributions` set to the
/// records; 404 without a header, as upstream.
pub async fn dataset(server: web::Data<Server>, name: web::Path<String>) -> Answer {
    let view = server.view();
    let name: Name = name.parse().map_err(|_| ApiError::NotFound)?;
    let dataset = view.datasets.get(&name).ok_or(ApiError::NotFound)?;
    /// The header's fields, then the records with their fields in file order.
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(flatten)]
        header: &'a serde_json::Map<String, Value>,
        distributions: &'a [Distribution],
    }
    let mut header = dataset.header.clone().ok_or(ApiError::NotFound)?;
    header.remove("distributions");
    Ok(pretty(&Body {
        header: &header,
        distributions: &dataset.records,
    }))
}

/// `GET /machine/find/{checksum}`: the dataset and record of a distribution.
pub async fn find(server: web::Data<Server>, tail: web::Path<String>) -> Answer {
    let view = server.view();
    let wanted = checksum(&tail).ok_or(ApiError::NotFound)?;
    let (name, record) = view.find(&wanted).ok_or(ApiError::NotFound)?;
    #[derive(serde::Serialize)]
    struct Body<'a> {
        dataset: &'a str,
        distribution: &'a Distribution,
    }
    Ok(pretty(&Body {
        dataset: name.as_str(),
        distribution: record,
    }))
}

/// The store to answer lookups from (`None`: the catalogue has none, so no
/// lookup has an answer); 503 while it lacks some of the current view's
/// lookups and cannot be caught up (another writer holds the lock, or the
/// catalogue cannot be written): an answer then could be wrong.
fn lookups(server: &Server) -> Result<Option<std::sync::Arc<faircore::StoreReader>>, ApiError> {
    if server.is_behind() {
        return Err(ApiError::Unavailable(
            "the derived store lacks lookups of this catalogue and cannot be caught up now (see /health)".into(),
        ));
    }
    Ok(server.store())
}

/// `GET /machine/access/{checksum}`: the URL infos of an element.
pub async fn access(server: web::Data<Server>, tail: web::Path<String>) -> Answer {
    let element = checksum(&tail).ok_or(ApiError::NotFound)?;
    // A few pages of the database, normally in its cache or the page cache: read
    // on the worker, which costs less than a hop to the blocking pool (and keeps
    // that pool's threads, and their memory, from piling up under load).
    let found = match lookups(&server)? {
        Some(store) => store.access(&element).map_err(|e| {
            tracing::error!("{e}");
            ApiError::Unavailable("the access lookups cannot be read".into())
        })?,
        None => None,
    };
    // With a base URL, this server's own copy is one more mirror.
    let own = server.base_url.as_deref().and_then(|base| {
        let buffer = server
            .catalogue
            .layout()
            .content(ContentDir::Buffers, &element);
        if buffer.is_file() {
            return Some(faircore::manifest::buffer_url(base, &element));
        }
        let key = server
            .serve_source
            .then(|| source_key(&server, &element))??;
        Some(faircore::manifest::file_url(base, &element, &key))
    });
    let body = match (found, own) {
        (Some(body), None) => body,
        (found, Some(url)) => {
            let mut urls: Vec<Value> = match found {
                Some(body) => serde_json::from_slice(&body)
                    .map_err(|e| ApiError::Unavailable(format!("access database: {e}")))?,
                None => Vec::new(),
            };
            urls.push(json!({ "url": url }));
            faircore::plain::to_vec(&urls).map_err(|e| ApiError::Unavailable(e.to_string()))?
        }
        (None, None) => return Err(ApiError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// A key under which a source tree holds `element` as it was indexed (found
/// through the locate index), inside the tree (as `/files/` serves it), for
/// `--serve-source`.
fn source_key(server: &Server, element: &Checksum) -> Option<String> {
    let store = server.store()?;
    let places = store
        .locate(element)
        .inspect_err(|e| tracing::error!("{e}"))
        .ok()?;
    places.into_iter().map(|p| p.key).find(|key| {
        store
            .source_files(key, element)
            .inspect_err(|e| tracing::error!("{e}"))
            .is_ok_and(|files| files.iter().any(|f| f.resolved().is_some()))
    })
}

/// `GET /machine/keyorder/{checksum}`: the keyorder file, only if its bytes
/// hash to its name (checked once per file and server run); immutable, gzipped
/// or deflated when `Accept-Encoding` prefers it (then streamed from the blocking
/// pool), each coding with its own strong ETag.
pub async fn keyorder(
    server: web::Data<Server>,
    request: HttpRequest,
    tail: web::Path<String>,
) -> Answer {
    let wanted = checksum(&tail).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "keyorder: expected a checksum of 64 lowercase hex digits, got {:?}",
            tail.as_str()
        ))
    })?;
    let (path, verdict) = content::verified(&server, ContentDir::Keyorder, wanted).await?;
    let coding = immutable::coding(&request)?;
    let etag = immutable::etag(&wanted, coding);
    let mut answer = immutable::answer(&etag);
    answer.insert_header((header::VARY, "Accept-Encoding"));
    if immutable::not_modified(&request, &etag) {
        return Ok(answer.status(StatusCode::NOT_MODIFIED).finish());
    }
    answer.content_type("application/octet-stream");
    let unreadable = |e: std::io::Error| {
        tracing::error!("{}: {e}", path.display());
        ApiError::Unavailable(format!("keyorder {wanted} cannot be read"))
    };
    let content = match verdict {
        Verdict::Kept(bytes) => Content::Kept(bytes),
        Verdict::OnDisk => {
            let (mut file, size) = content::open(&path, &format!("keyorder {wanted}"))?;
            if size <= KEEP_MAX {
                let mut bytes = Vec::with_capacity(size as usize);
                file.read_to_end(&mut bytes).map_err(unreadable)?;
                Content::Kept(bytes.into())
            } else {
                Content::File((file, size))
            }
        }
    };
    if coding != ContentEncoding::Identity {
        answer.insert_header((header::CONTENT_ENCODING, coding.as_str()));
        let what = format!("keyorder {wanted} ({})", coding.as_str());
        let body = streaming::body(what, move |out| match content {
            Content::Kept(bytes) => immutable::encode(coding, &bytes[..], out),
            Content::File((file, _)) => immutable::encode(coding, file, out),
        })?;
        return Ok(answer.streaming(body));
    }
    match content {
        Content::Kept(bytes) => Ok(answer.body(bytes)),
        Content::File((file, size)) => {
            let file = tokio::fs::File::from_std(file);
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 << 10);
            Ok(answer.body(actix_web::body::SizedStream::new(size, stream)))
        }
    }
}

/// `GET /machine/diff/{old}/{new}`: the keys added, removed and changed between
/// two distributions, one JSON object a line, streamed as the two collections are
/// merged.
pub async fn diff(server: web::Data<Server>, path: web::Path<(String, String)>) -> Answer {
    let view = server.view();
    let open = |text: &str| {
        let wanted = checksum(text).ok_or(ApiError::NotFound)?;
        view.find(&wanted).ok_or(ApiError::NotFound)?;
        let file = server
            .catalogue
            .layout()
            .content(ContentDir::Buffers, &wanted);
        EntryStream::open(&file).map_err(|e| {
            tracing::error!("{e}");
            ApiError::Unavailable(format!("the collection of {wanted} cannot be read"))
        })
    };
    let (old, new) = (open(&path.0)?, open(&path.1)?);
    let what = format!("diff {} {}", path.0, path.1);
    let body = streaming::body(what, move |out| {
        for change in faircore::diff::diff(old, new) {
            let change = change.map_err(std::io::Error::other)?;
            serde_json::to_writer(&mut *out, &change)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}

/// `GET /machine/manifest/{checksum}?format=F&since=OLD`: the bulk download
/// manifest of a distribution (`fair manifest`), streamed; `format` defaults to
/// `urls`.
pub async fn manifest(
    server: web::Data<Server>,
    request: HttpRequest,
    tail: web::Path<String>,
) -> Answer {
    let view = server.view();
    let wanted = checksum(&tail).ok_or(ApiError::NotFound)?;
    let (_, record) = view.find(&wanted).ok_or(ApiError::NotFound)?;
    let parameters = first_values(&request);
    let format: Format = parameters
        .get("format")
        .map_or(Ok(Format::Urls), |f| f.parse())
        .map_err(ApiError::BadRequest)?;
    let since = match parameters.get("since") {
        Some(old) => Some(
            checksum(old)
                .and_then(|c| view.find(&c))
                .map(|(_, r)| r)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "since: {old:?} is not the checksum of a distribution of this catalogue"
                    ))
                })?,
        ),
        None => None,
    };
    // refuse_keys reads every key once (refusing any the format cannot carry),
    // before the status is sent: on the blocking pool.
    let (record, since, mirror) = (record.clone(), since.cloned(), server.mirror());
    let catalogue = server.clone();
    let manifest = web::block(move || {
        Manifest::new(
            &catalogue.catalogue,
            &record,
            since.as_ref(),
            format,
            mirror,
        )
        .and_then(|manifest| manifest.refuse_keys().map(|()| manifest))
    })
    .await
    .map_err(|e| ApiError::Unavailable(e.to_string()))?
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let body = streaming::body(format!("{format} manifest of {wanted}"), move |out| {
        manifest.write(out).map(drop).map_err(|e| match e {
            // The client went away: not a failure of ours.
            faircore::Error::Io { source, .. }
                if source.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                source
            }
            e => std::io::Error::other(e),
        })
    })?;
    Ok(HttpResponse::Ok()
        .content_type(format.media_type())
        .streaming(body))
}

/// `GET /machine/locate/{checksum}`: every (dataset, distribution, key) holding
/// an element; 404 if none does.
pub async fn locate(server: web::Data<Server>, tail: web::Path<String>) -> Answer {
    let element = checksum(&tail).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "locate: expected an element checksum of 64 lowercase hex digits, got {:?}",
            tail.as_str()
        ))
    })?;
    let view = server.view();
    let places = match lookups(&server)? {
        Some(store) => store.locate(&element).map_err(|e| {
            tracing::error!("{e}");
            ApiError::Unavailable("the reverse index cannot be read".into())
        })?,
        None => Vec::new(),
    };
    let holders = locate::holders(&places, &view);
    if holders.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(pretty(&holders))
}

/// The first value of each parameter of the query string.
fn first_values(request: &HttpRequest) -> std::collections::HashMap<String, String> {
    let mut first = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
        first
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    first
}

/// The resolution parameters of a query string: the first value of each.
fn query(request: &HttpRequest) -> (Option<String>, Query) {
    let mut first = first_values(request);
    let mut take = |k: &str| first.remove(k);
    let dataset = take("dataset");
    let query = Query {
        kind: take("type"),
        version: take("version"),
        date: take("date"),
        format: take("format"),
        compression: take("compression"),
    };
    (dataset, query)
}

/// Resolves the query of `request` (find_distribution and find_checksum).
fn resolve(server: &Server, request: &HttpRequest) -> Result<Distribution, ApiError> {
    let (dataset, query) = query(request);
    Ok(server.view().resolve(dataset.as_deref(), &query)?.clone())
}

/// `GET /machine/find_distribution?dataset=&...`: the record.
pub async fn find_distribution(server: web::Data<Server>, request: HttpRequest) -> Answer {
    Ok(pretty(&resolve(&server, &request)?))
}

/// `GET /machine/find_checksum?dataset=&...`: the record's checksum, as text.
pub async fn find_checksum(server: web::Data<Server>, request: HttpRequest) -> Answer {
    let record = resolve(&server, &request)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", record.checksum)))
}

/// `GET /machine/datasets`: every dataset with its latest distribution per group.
pub async fn datasets(server: web::Data<Server>) -> Answer {
    let view = server.view();
    let list: Vec<Value> = view
        .datasets
        .iter()
        .map(|(name, d)| {
            let latest: Vec<&Distribution> = d.records.iter().filter(|r| r.latest).collect();
            json!({"dataset": name.as_str(), "distributions": d.records.len(), "latest": latest})
        })
        .collect();
    Ok(pretty(&list))
}
