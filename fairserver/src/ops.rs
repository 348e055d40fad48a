//! The server's own routes: `/health` and `/metrics`, and the answers to a method
//! a route does not take and to a path no route has.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::Server;
use crate::error::ApiError;
use crate::machine::pretty;

type Answer = Result<HttpResponse, ApiError>;

/// `GET /health`: status (`ok`, `degraded` with problems, `saturated` while as
/// many streamed answers as may be are being sent, `stale` while the served
/// catalogue is older than the one on disk because a reload could not finish,
/// the reason among the warnings), generation, counts, problems, warnings, and
/// the streamed answers being sent.
pub async fn health(server: web::Data<Server>) -> Answer {
    let view = server.view();
    let problems = &view.problems;
    let streams = crate::streaming::active();
    let stale = server.staleness();
    let mut warnings = view.warnings.clone();
    warnings.extend(stale.clone());
    let status = if stale.is_some() {
        "stale"
    } else if streams >= crate::streaming::MAX_STREAMS {
        "saturated"
    } else if problems.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    Ok(pretty(&json!({
        "status": status,
        "generation": view.generation,
        "datasets": view.datasets.len(),
        "distributions": view.records(),
        "access_indexes": view.needs().access_indexes.len(),
        "problems": problems,
        "warnings": warnings,
        "streams": { "active": streams, "max": crate::streaming::MAX_STREAMS },
    })))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(server: web::Data<Server>) -> Answer {
    let body = server.metrics.render(&server.view());
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .body(body))
}

/// Any other method on a route.
pub async fn method_not_allowed() -> Answer {
    Err(ApiError::MethodNotAllowed)
}

/// Any other path.
pub async fn no_route() -> Answer {
    Err(ApiError::NoRoute)
}
