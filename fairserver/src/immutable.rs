//! What the answers for immutable, content-addressed files (buffers, source
//! files, keyorders) share: the strong `ETag` (the checksum, one per content
//! coding), a year of `Cache-Control`, and the preconditions (RFC 9110 §13):
//! `If-None-Match` (304) and `If-Range` (whether a `Range` is honoured); and
//! the content codings a file may be sent in (gzip, deflate), negotiated and
//! applied here so that the coding and its ETag always agree. The headers are
//! parsed by actix-web's typed headers.

use std::io::{self, Read, Write};

use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, EntityTag, Header, IfNoneMatch, IfRange,
};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};
use faircore::Checksum;

use crate::error::ApiError;

/// The content codings a file can be sent in.
const CODINGS: [Encoding; 3] = [Encoding::identity(), Encoding::gzip(), Encoding::deflate()];

/// The strong ETag of the file `wanted` sent in the content coding `coding`:
/// `"CHECKSUM"` as stored, `"CHECKSUM-gzip"` gzipped (each coding is another
/// byte sequence, so another strong validator).
pub(crate) fn etag(wanted: &Checksum, coding: ContentEncoding) -> EntityTag {
    match coding {
        ContentEncoding::Identity => EntityTag::new_strong(wanted.to_string()),
        coding => EntityTag::new_strong(format!("{wanted}-{}", coding.as_str())),
    }
}

/// A 200 answer with the strong ETag `etag`, cacheable for a year.
pub(crate) fn answer(etag: &EntityTag) -> HttpResponseBuilder {
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header(header::ETag(etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"));
    answer
}

/// Whether the request's `If-None-Match` matches `etag` (weak comparison, as
/// RFC 9110 §13.1.2 says); a header that does not parse matches nothing.
pub(crate) fn not_modified(request: &HttpRequest, etag: &EntityTag) -> bool {
    if !request.headers().contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    match IfNoneMatch::parse(request) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Err(_) => false,
    }
}

/// Whether a `Range` of the request may be honoured (RFC 9110 §13.1.5): without
/// `If-Range`, or with one that is `etag` by strong comparison. A weak or other
/// tag does not match, nor does a date (we send no `Last-Modified`), nor a value
/// that does not parse: the whole file is then sent.
pub(crate) fn range_allowed(request: &HttpRequest, etag: &EntityTag) -> bool {
    if !request.headers().contains_key(header::IF_RANGE) {
        return true;
    }
    match IfRange::parse(request) {
        Ok(IfRange::EntityTag(tag)) => tag.strong_eq(etag),
        Ok(IfRange::Date(_)) | Err(_) => false,
    }
}

/// The coding `Accept-Encoding` prefers among [`CODINGS`] (identity without
/// the header, or with one that does not parse); 406 if it refuses them all.
pub(crate) fn coding(request: &HttpRequest) -> Result<ContentEncoding, ApiError> {
    let Some(accept) = request.get_header::<AcceptEncoding>() else {
        return Ok(ContentEncoding::Identity);
    };
    match accept.negotiate(CODINGS.iter()) {
        Some(Encoding::Known(coding)) => Ok(coding),
        _ => Err(ApiError::NotAcceptable(
            "Accept-Encoding: this resource is available as identity, gzip, deflate".into(),
        )),
    }
}

/// Copies `from` to `to` in `coding` (gzip or deflate; anything else as it is),
/// at the level actix-web's `Compress` uses.
pub(crate) fn encode(
    coding: ContentEncoding,
    mut from: impl Read,
    to: impl Write,
) -> io::Result<()> {
    use flate2::Compression;
    match coding {
        ContentEncoding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(to, Compression::fast());
            io::copy(&mut from, &mut encoder)?;
            encoder.finish().map(drop)
        }
        ContentEncoding::Deflate => {
            let mut encoder = flate2::write::ZlibEncoder::new(to, Compression::fast());
            io::copy(&mut from, &mut encoder)?;
            encoder.finish().map(drop)
        }
        _ => {
            let mut to = to;
            io::copy(&mut from, &mut to).map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn checksum() -> Checksum {
        "5f5d584c5857d85af911ade1b2ae7cb593c17654282091f3ace31efd9e951360"
            .parse()
            .expect("a checksum")
    }

    #[test]
    fn if_range_matches_only_the_same_strong_etag() {
        let wanted = checksum();
        let ours = etag(&wanted, ContentEncoding::Identity);
        let allowed = |value: Option<&str>| {
            let mut request = TestRequest::default();
            if let Some(value) = value {
                request = request.insert_header((header::IF_RANGE, value));
            }
            range_allowed(&request.to_http_request(), &ours)
        };
        assert!(allowed(None));
        assert!(allowed(Some(&format!("\"{wanted}\""))));
        assert!(!allowed(Some(&format!("W/\"{wanted}\""))));
        assert!(!allowed(Some(&format!("\"{wanted}-gzip\""))));
        assert!(!allowed(Some("\"other\"")));
        assert!(!allowed(Some("Sat, 29 Oct 1994 19:43:31 GMT")));
        assert!(!allowed(Some("not a validator")));
    }

    #[test]
    fn if_none_match_compares_weakly_and_per_coding() {
        let wanted = checksum();
        let gzip = etag(&wanted, ContentEncoding::Gzip);
        assert_eq!(gzip.to_string(), format!("\"{wanted}-gzip\""));
        let matches = |value: &str, etag: &EntityTag| {
            let request = TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request();
            not_modified(&request, etag)
        };
        let identity = etag(&wanted, ContentEncoding::Identity);
        assert!(matches(&format!("\"{wanted}\""), &identity));
        assert!(matches(&format!("W/\"{wanted}\""), &identity));
        assert!(matches(&format!("\"x\", \"{wanted}-gzip\""), &gzip));
        assert!(matches("*", &gzip));
        assert!(!matches(&format!("\"{wanted}\""), &gzip));
        assert!(!matches(&format!("\"{wanted}-gzip\""), &identity));
        assert!(!matches("garbage", &identity));
    }
}
