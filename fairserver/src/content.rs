//! `GET /buffers/{checksum}`: element buffers of the catalogue, served as the
//! immutable, content-addressed files they are: strong `ETag` (the checksum),
//! `Cache-Control: immutable`, single byte ranges (under `If-Range` only if it
//! names that ETag), and `Repr-Digest` when the element's SHA-256 is known (a
//! sha256 catalogue, or an extra digest). A buffer is served only once its bytes
//! are known to hash to its name (checked once per run). `GET /files/{checksum}/{key}` gives the same bytes under a key's name,
//! and with `--serve-source` also from the indexed source trees.

use std::fs::File;
use std::path::{Path, PathBuf};

use actix_web::http::header::{self, ContentEncoding};
use actix_web::{HttpRequest, HttpResponse, web};
use faircore::statcache::FileStat;
use faircore::{Checksum, ContentDir, HashAlgo};

use crate::Server;
use crate::checked::{Checked, KEEP_MAX, Verdict};
use crate::error::ApiError;
use crate::immutable;

type Answer = Result<HttpResponse, ApiError>;

/// A byte range to send, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    first: u64,
    last: u64,
}

/// What a `Range` header asks of a file of `size` bytes (RFC 9110 §14.2): `None`
/// to send it whole (no header, a unit other than bytes, several ranges, or
/// syntax we ignore as the RFC allows), `Some(Err(()))` if unsatisfiable.
fn span(range: Option<&str>, size: u64) -> Option<Result<Span, ()>> {
    let spec = range?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    let span = if start.is_empty() {
        // The last `end` bytes.
        let suffix: u64 = end.parse().ok()?;
        if suffix == 0 || size == 0 {
            return Some(Err(()));
        }
        Span {
            first: size.saturating_sub(suffix),
            last: size - 1,
        }
    } else {
        let first: u64 = start.parse().ok()?;
        let last = match end {
            "" => size.saturating_sub(1),
            end => end.parse::<u64>().ok()?.min(size.saturating_sub(1)),
        };
        if first >= size || last < first {
            return Some(Err(()));
        }
        Span { first, last }
    };
    Some(Ok(span))
}

/// Standard base64 with padding (RFC 4648 §4), for `Repr-Digest`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The files of `dir` the server has checked.
fn checked(server: &Server, dir: ContentDir) -> &Checked {
    match dir {
        ContentDir::Keyorder => &server.keyorders,
        _ => &server.buffers,
    }
}

/// The content-addressed file named `wanted` in `dir`, once its bytes are known
/// to hash to the name (hashed off the worker the first time); 404 otherwise.
pub(crate) async fn verified(
    server: &web::Data<Server>,
    dir: ContentDir,
    wanted: Checksum,
) -> Result<(PathBuf, Verdict), ApiError> {
    let path = server.catalogue.layout().content(dir, &wanted);
    if let Some(verdict) = checked(server, dir).get(&path, &wanted) {
        return Ok((path, verdict));
    }
    let (server, file) = (server.clone(), path.clone());
    let verdict =
        web::block(move || checked(&server, dir).check(server.catalogue.hash(), &file, &wanted))
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?
            .ok_or(ApiError::NotFound)?;
    Ok((path, verdict))
}

/// Opens the checked file at `path` (`what` names it in errors): the file and its
/// size; 404 if it went away since, 503 if it cannot be read.
pub(crate) fn open(path: &Path, what: &str) -> Result<(File, u64), ApiError> {
    let unreadable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ApiError::NotFound,
        // Not a regular file (a FIFO planted in buffers/): nothing to serve.
        std::io::ErrorKind::InvalidInput => {
            tracing::warn!("{}: {e}; not served", path.display());
            ApiError::NotFound
        }
        _ => {
            tracing::error!("{}: {e}", path.display());
            ApiError::Unavailable(format!("{what} cannot be read"))
        }
    };
    let file = faircore::regular::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    Ok((file, size))
}

/// A checksum in a path, or 400 saying what was expected.
fn wanted(text: &str) -> Result<Checksum, ApiError> {
    crate::machine::checksum(text).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "expected a checksum of 64 lowercase hex digits, got {text:?}"
        ))
    })
}

/// `GET /buffers/{checksum}`: an element buffer.
pub async fn buffer(
    server: web::Data<Server>,
    request: HttpRequest,
    tail: web::Path<String>,
) -> Answer {
    from_buffers(&server, &request, wanted(&tail)?).await
}

/// Answers with the buffer `wanted` once checked; 404 if there is none.
async fn from_buffers(
    server: &web::Data<Server>,
    request: &HttpRequest,
    wanted: Checksum,
) -> Answer {
    let (path, verdict) = verified(server, ContentDir::Buffers, wanted).await?;
    let content = match verdict {
        Verdict::Kept(bytes) => Content::Kept(bytes),
        Verdict::OnDisk => Content::File(open(&path, &format!("buffer {wanted}"))?),
    };
    send(server, request, wanted, content, &path).await
}

/// `GET /files/{checksum}/{key}`: the element `checksum` under the name `key`,
/// so that a download tool that names files after URLs (`wget -x`) recreates
/// the keys: from `buffers/`, else (with `--serve-source`) from a source tree
/// that `fair index` found `key` in with this content, while its size, mtime and inode
/// are still those it was indexed with.
pub async fn file(
    server: web::Data<Server>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Answer {
    let (element, key) = path.into_inner();
    let wanted = wanted(&element)?;
    let bad_key = key.is_empty()
        || key.starts_with('/')
        || key.contains('\0')
        || key.split('/').any(|s| matches!(s, "" | "." | ".."));
    if bad_key {
        return Err(ApiError::BadRequest(format!(
            "expected a relative key of non-empty names other than . and .., got {key:?}"
        )));
    }
    let buffer = server
        .catalogue
        .layout()
        .content(ContentDir::Buffers, &wanted);
    if buffer.is_file() {
        return from_buffers(&server, &request, wanted).await;
    }
    if !server.serve_source {
        return Err(ApiError::NotFound);
    }
    let database = server.store().ok_or(ApiError::NotFound)?;
    let candidates = database.source_files(&key, &wanted).map_err(|e| {
        tracing::error!("{e}");
        ApiError::Unavailable("the catalogue's database cannot be read".into())
    })?;
    for source in candidates {
        let path = &source.path;
        // A symbolic link is served only if it resolves inside its source tree.
        let Some(real) = source.resolved() else {
            tracing::warn!(
                "{}: indexed as {key} ({wanted}), resolves outside the source tree {}; not served",
                path.display(),
                source.root.display()
            );
            continue;
        };
        // Kept from an earlier answer, while the file keeps the stat it had then.
        let known = server.sources.get(&real, &wanted);
        if let Some(Verdict::Kept(bytes)) = known {
            return send(&server, &request, wanted, Content::Kept(bytes), path).await;
        }
        let opened = faircore::regular::open(&real).and_then(|f| Ok((f.metadata()?, f)));
        let Ok((meta, file)) = opened else {
            tracing::warn!(
                "{}: indexed as {key} ({wanted}), now unreadable; not served",
                path.display()
            );
            continue;
        };
        // As indexed (device, inode, size, mtime and ctime): the bytes that were
        // hashed. Anything else changed (a file rewritten with the same size and
        // mtime keeps neither its ctime nor, often, its inode): hashed again, and
        // served only if it still hashes to its name.
        let verdict = if FileStat::from(&meta) == source.stat {
            Verdict::OnDisk
        } else if let Some(verdict) = known {
            verdict
        } else {
            let (server, real) = (server.clone(), real.clone());
            let checked = web::block(move || {
                server
                    .sources
                    .check(server.catalogue.hash(), &real, &wanted)
            })
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let Some(verdict) = checked else {
                tracing::warn!(
                    "{}: changed since it was indexed as {key} ({wanted}); not served until it is indexed again",
                    path.display()
                );
                continue;
            };
            verdict
        };
        let content = match verdict {
            Verdict::Kept(bytes) => Content::Kept(bytes),
            // Read on the worker: a page-cache read costs less than the hops
            // of a file streamed from the blocking pool.
            Verdict::OnDisk if meta.len() <= KEEP_MAX => match whole(file, &meta) {
                Some(bytes) => {
                    let stat = FileStat::from(&meta);
                    server.sources.keep(&real, &wanted, bytes.clone(), stat);
                    Content::Kept(bytes)
                }
                None => {
                    tracing::warn!(
                        "{}: changed while it was read as {key} ({wanted}); not served",
                        path.display()
                    );
                    continue;
                }
            },
            Verdict::OnDisk => Content::File((file, meta.len())),
        };
        return send(&server, &request, wanted, content, path).await;
    }
    Err(ApiError::NotFound)
}

/// The bytes of the small `file` whose stat was `meta`, if it still has that
/// stat once they are read (else it changed meanwhile).
fn whole(mut file: File, meta: &std::fs::Metadata) -> Option<web::Bytes> {
    use std::io::Read;
    // A file that shrank fails the read, one that grew fails the stat check.
    let mut bytes = vec![0; usize::try_from(meta.len()).ok()?];
    file.read_exact(&mut bytes).ok()?;
    let after = file.metadata().ok()?;
    (FileStat::from(&after) == FileStat::from(meta)).then(|| web::Bytes::from(bytes))
}

/// The bytes of an element: kept in memory, or an open file and its size.
pub(crate) enum Content {
    Kept(web::Bytes),
    File((File, u64)),
}

/// Answers with the element `wanted` (read from `path`): ETag, immutable,
/// `Repr-Digest` when its SHA-256 is known, a single byte range if asked.
async fn send(
    server: &Server,
    request: &HttpRequest,
    wanted: Checksum,
    content: Content,
    path: &Path,
) -> Answer {
    let etag = immutable::etag(&wanted, ContentEncoding::Identity);
    let mut answer = immutable::answer(&etag);
    answer
        .content_type("application/octet-stream")
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let sha256 = match server.catalogue.hash() {
        HashAlgo::Sha256 => Some(*wanted.as_bytes()),
        _ => server
            .store()
            .and_then(|db| {
                // Without it the answer is still right, only without the header.
                db.extra_digests(&wanted)
                    .inspect_err(|e| tracing::warn!("{e}"))
                    .ok()
                    .flatten()
            })
            .and_then(|extra| extra.sha256),
    };
    if let Some(sha256) = sha256 {
        answer.insert_header(("Repr-Digest", format!("sha-256=:{}:", base64(&sha256))));
    }
    if immutable::not_modified(request, &etag) {
        answer.status(actix_web::http::StatusCode::NOT_MODIFIED);
        return Ok(answer.finish());
    }
    let size = match &content {
        Content::Kept(bytes) => bytes.len() as u64,
        Content::File((_, size)) => *size,
    };
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| immutable::range_allowed(request, &etag));
    let span = match span(range, size) {
        None => Span {
            first: 0,
            last: size.saturating_sub(1),
        },
        Some(Ok(span)) => {
            answer.status(actix_web::http::StatusCode::PARTIAL_CONTENT);
            answer.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", span.first, span.last),
            ));
            span
        }
        Some(Err(())) => {
            answer.status(actix_web::http::StatusCode::RANGE_NOT_SATISFIABLE);
            answer.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            return Ok(answer.finish());
        }
    };
    let length = if size == 0 {
        0
    } else {
        span.last - span.first + 1
    };
    match content {
        Content::Kept(bytes) => {
            let slice = bytes.slice(span.first as usize..(span.first + length) as usize);
            Ok(answer.body(slice))
        }
        Content::File((file, _)) => {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let mut file = tokio::fs::File::from_std(file);
            file.seek(std::io::SeekFrom::Start(span.first))
                .await
                .map_err(|e| {
                    tracing::error!("{}: {e}", path.display());
                    ApiError::Unavailable(format!("{wanted} cannot be read"))
                })?;
            let stream = tokio_util::io::ReaderStream::with_capacity(file.take(length), 64 << 10);
            Ok(answer.body(actix_web::body::SizedStream::new(length, stream)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        let ok = |first, last| Some(Ok(Span { first, last }));
        assert_eq!(span(Some("bytes=0-9"), 100), ok(0, 9));
        assert_eq!(span(Some("bytes=90-"), 100), ok(90, 99));
        assert_eq!(span(Some("bytes=-10"), 100), ok(90, 99));
        assert_eq!(span(Some("bytes=-500"), 100), ok(0, 99));
        assert_eq!(span(Some("bytes=50-500"), 100), ok(50, 99));
        assert_eq!(span(Some("bytes=100-"), 100), Some(Err(())));
        assert_eq!(span(Some("bytes=9-3"), 100), Some(Err(())));
        assert_eq!(span(Some("bytes=-0"), 100), Some(Err(())));
        assert_eq!(span(Some("bytes=0-1,5-6"), 100), None);
        assert_eq!(span(Some("items=0-1"), 100), None);
        assert_eq!(span(Some("bytes=x-1"), 100), None);
        assert_eq!(span(None, 100), None);
    }

    #[test]
    fn base64_as_rfc_4648_gives_it() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(bytes), text);
        }
    }
}
