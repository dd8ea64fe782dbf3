//! [`Error`]: how the server's own routes and layers refuse a request, as flags-http's routes do:
//! a status and a JSON object with a `message`.

use std::time::Duration;

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_derive::Serialize;
use utoipa::ToSchema;

/// A request the server refuses before any handler of flags-http sees it, or on its own routes.
#[derive(Debug)]
pub(crate) enum Error {
    /// 404: no route has this path, or the route is off (the docs, while `ENABLE_API_DOCS` is);
    /// the two answer alike, so that a client cannot tell an off route from a missing one.
    NotFound,
    /// 405: the path is one of the server's own, the method is not.
    MethodNotAllowed,
    /// 429: the client's address has used its quota of the public routes.
    TooManyRequests { retry_after: Duration },
}

/// The body of an error of the server's own.
#[derive(Serialize, ToSchema)]
#[schema(as = ServerError)]
pub(crate) struct ErrorBody {
    /// What went wrong.
    message: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => body(StatusCode::NOT_FOUND, "no such route".to_owned()),
            Self::MethodNotAllowed => body(
                StatusCode::METHOD_NOT_ALLOWED,
                "this path does not take this method; the `Allow` header lists those it takes"
                    .to_owned(),
            ),
            Self::TooManyRequests { retry_after } => {
                // Whole seconds, rounded up: a client that waits that long is let in.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let seconds = seconds.max(1);
                let message = format!("too many requests from this address: retry in {seconds} s");
                let mut response = body(StatusCode::TOO_MANY_REQUESTS, message);
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
        }
    }
}

fn body(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorBody { message })).into_response()
}

/// The answer to a path no route has.
pub(crate) async fn not_found() -> Error {
    Error::NotFound
}

/// The answer to a method that a path of the server's own does not take.
pub(crate) async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
