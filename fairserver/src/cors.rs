//! CORS: `GET` and `HEAD` from any origin, as upstream (aiohttp-cors with every
//! origin allowed, credentials on): preflights for other methods are refused.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderMap, HeaderValue};

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
    HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, method))
        .finish()
}

/// Adds the CORS headers to the answer to a request from `origin`.
pub fn decorate(origin: HeaderValue, response: &mut HeaderMap) {
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    response.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Server,Date,Content-Length,ETag"),
    );
}
