//! CORS: the catalogue is public, so every answer, whatever its `Origin` (or
//! none: a shared cache may then give it to any origin, and no `Vary: Origin`
//! is needed), says `Access-Control-Allow-Origin: *`, without credentials, and
//! exposes the headers browser code reads (validators, ranges, digests, links).
//! Preflights are answered for `GET` and `HEAD` with whatever request headers
//! they name, and refused (403, as upstream's aiohttp-cors) for other methods.
//! Upstream echoed the origin with `Access-Control-Allow-Credentials: true`.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// The response headers a script may read besides the CORS-safelisted ones.
const EXPOSED: &str = "Accept-Ranges, Content-Encoding, Content-Length, Content-Range, Date, \
                       ETag, Link, Location, Repr-Digest, Server, Vary";

/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "86400";

/// The answer to an `OPTIONS` request (a preflight).
pub fn preflight(headers: &HeaderMap) -> HttpResponse {
    let refuse = |why: String| {
        HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body(format!("CORS preflight request failed: {why}"))
    };
    let Some(origin) = headers.get(header::ORIGIN) else {
        return refuse("origin header is not specified in the request".into());
    };
    let Some(method) = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD) else {
        return refuse("'Access-Control-Request-Method' header is not specified".into());
    };
    let method = method.to_str().unwrap_or_default();
    if method != "GET" && method != "HEAD" {
        return refuse(format!(
            "request method '{method}' is not allowed for '{}' origin",
            origin.to_str().unwrap_or_default()
        ));
    }
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, method))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE));
    // `Range`, `If-Range`, `If-None-Match`, `Accept`...: whatever it asks.
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        answer.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone()));
    }
    answer.finish()
}

/// Adds the CORS headers to an answer.
pub fn decorate(response: &mut HeaderMap) {
    response.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
}
