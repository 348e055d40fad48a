//! `ApiError`: every way a request can fail, and the status and body each gets
//! (the upstream bodies where Seamless had one).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use faircore::Unresolved;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A name or checksum the catalogue does not have (or that cannot be one):
    /// 404 `{"not found": 404}`, as upstream.
    #[error("not found")]
    NotFound,
    /// A malformed parameter: 400 with what was expected.
    #[error("{0}\n")]
    BadRequest(String),
    /// A resolution that has no single answer, with the text `fair find` prints:
    /// no `dataset` 400 (upstream text); an unknown dataset 404 (upstream: 500);
    /// no match or several 300 (upstream text).
    #[error("{0}")]
    Unresolved(#[from] Unresolved),
    /// An `Accept` header no representation meets: 406 with the ones there are.
    #[error("{0}\n")]
    NotAcceptable(String),
    /// A method a route does not answer: 405, as aiohttp words it.
    #[error("405: Method Not Allowed")]
    MethodNotAllowed,
    /// A route that does not exist: 404, as aiohttp words it.
    #[error("404: Not Found")]
    NoRoute,
    /// The server could not read what the catalogue promises (logged): 503.
    #[error("{0}\n")]
    Unavailable(String),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound
            | ApiError::NoRoute
            | ApiError::Unresolved(Unresolved::UnknownDataset(_)) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Unresolved(Unresolved::NoDataset) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unresolved(_) => StatusCode::MULTIPLE_CHOICES,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::NotFound => response
                .content_type("application/json")
                .body(r#"{"not found": 404}"#),
            ApiError::MethodNotAllowed => response
                .insert_header(("Allow", "GET,HEAD,OPTIONS"))
                .content_type("text/plain; charset=utf-8")
                .body(self.to_string()),
            _ => response
                .content_type("text/plain; charset=utf-8")
                .body(self.to_string()),
        }
    }
}
