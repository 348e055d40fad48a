//! What every request goes through around its route: CORS (preflights answered
//! here, every other answer decorated), the metrics of its route and
//! status, and one log line.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use futures_util::future::{Either, ok};

use crate::{Server, cors};

/// Answers `request` through `service` (a preflight at once), recording it in
/// the metrics of `server` and the log.
pub fn observe<S, B>(
    server: &Arc<Server>,
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let started = Instant::now();
    if request.method() == Method::OPTIONS {
        let response = cors::preflight(request.headers());
        return Either::Left(ok(request.into_response(response).map_into_right_body()));
    }
    let metrics = server.clone();
    let answer = service.call(request);
    Either::Right(async move {
        let mut response = answer.await?;
        cors::decorate(response.headers_mut());
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "(no route)".into());
        let status = response.status().as_u16();
        let took = started.elapsed();
        metrics.metrics.record(&route, status, took);
        tracing::info!(
            method = %response.request().method(),
            path = response.request().path(),
            status,
            micros = took.as_micros() as u64,
            "request"
        );
        Ok(response.map_into_left_body())
    })
}
