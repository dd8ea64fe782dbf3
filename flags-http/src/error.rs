//! [`Error`]: every way a request fails, as the status, headers and JSON body a client gets.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::header::{ETAG, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flags_core::{FlagsError, Problem};
use serde_derive::Serialize;

/// A failed request. Its body is always a JSON object with a `message`; a refused change also
/// lists its `problems`, each as [`Problem`] serializes (`kind`, `variable`, `message`).
#[derive(Debug)]
pub(crate) enum Error {
    /// 400: the request cannot be read (malformed JSON, a bad query string).
    BadRequest(String),
    /// 401: no credentials; the client is told to send a bearer token.
    Unauthenticated,
    /// 403: the credentials are wrong, or the admin API has no credentials to accept.
    Forbidden(&'static str),
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: a rollback with no earlier version.
    NothingToRollBack(FlagsError),
    /// 409: a change made on no version in particular that other instances' changes kept
    /// overtaking (it caught up, and was overtaken again, until it gave up).
    Overtaken {
        message: String,
        problems: Vec<ProblemBody>,
        version: u64,
    },
    /// 412: a change conditional on a version (`If-Match`) that is no longer the flags'.
    PreconditionFailed {
        message: String,
        problems: Vec<ProblemBody>,
        version: u64,
    },
    /// 413: a body over the limit.
    TooLarge { limit: usize },
    /// 422: a change that would not load, or that names no variable; nothing changed.
    Unprocessable {
        message: String,
        problems: Vec<ProblemBody>,
    },
    /// 429: too many failed authentications from the client's address.
    TooManyFailures { retry_after: Duration },
    /// 503: the store of live flags cannot keep the change; nothing changed.
    Unavailable,
    /// 500: a bug; logged, never described to the client.
    Internal,
}

/// One problem, as a client reads it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ProblemBody {
    /// What kind of problem: `invalid`, `unknown`, `unmet`, `needs_restart`, `not_unicode`...
    pub(crate) kind: &'static str,
    /// The variable it is about, if any.
    pub(crate) variable: Option<String>,
    /// The problem as one line, naming the variable and the value (never a secret's).
    pub(crate) message: String,
}

impl From<&Problem> for ProblemBody {
    fn from(problem: &Problem) -> Self {
        Self {
            kind: problem.kind(),
            variable: problem.env().map(str::to_owned),
            message: problem.to_string(),
        }
    }
}

/// The body of every error.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ErrorBody {
    /// What went wrong, in one or more lines.
    pub(crate) message: String,
    /// For a refused change, each of its problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) problems: Vec<ProblemBody>,
}

impl Error {
    /// The error of a change that `Live` refused: a stale `If-Match` (`conditional`) is 412, a
    /// change without one overtaken by others 409, a rollback with nothing to go back to 409, a
    /// store that failed 503, anything else 422.
    pub(crate) fn refused(error: FlagsError, version: u64, conditional: bool) -> Self {
        let problems = error.problems();
        let any = |kind: fn(&Problem) -> bool| problems.iter().any(kind);
        if any(|problem| matches!(problem, Problem::Conflict { .. })) {
            let message = error.to_string();
            let problems = problems.iter().map(ProblemBody::from).collect();
            return match conditional {
                true => Self::PreconditionFailed {
                    message,
                    problems,
                    version,
                },
                false => Self::Overtaken {
                    message,
                    problems,
                    version,
                },
            };
        }
        if any(|problem| matches!(problem, Problem::NothingToRollBack { .. })) {
            return Self::NothingToRollBack(error);
        }
        if any(|problem| matches!(problem, Problem::Store { .. })) {
            // The reason may quote a path or a database's words: the log gets it, not the client.
            tracing::error!(target: "flags_http", "the store refused a change: {error}");
            return Self::Unavailable;
        }
        Self::Unprocessable {
            message: error.to_string(),
            problems: problems.iter().map(ProblemBody::from).collect(),
        }
    }

    /// A query string that cannot be read, said in the crate's words rather than axum's.
    pub(crate) fn query(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        let what = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        Self::BadRequest(format!("the query string cannot be read: {what}"))
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NothingToRollBack(_) | Self::Overtaken { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyFailures { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut headers = Vec::new();
        let (message, problems) = match self {
            Self::BadRequest(message) => (message, Vec::new()),
            Self::Unauthenticated => {
                headers.push((
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"flags admin\""),
                ));
                let message = "the admin API needs a token: send `Authorization: Bearer <token>`";
                (message.to_owned(), Vec::new())
            }
            Self::Forbidden(message) => (message.to_owned(), Vec::new()),
            Self::MethodNotAllowed => {
                let message =
                    "this path does not take this method; the `Allow` header lists those it takes";
                (message.to_owned(), Vec::new())
            }
            Self::NothingToRollBack(error) => (error.to_string(), Vec::new()),
            Self::PreconditionFailed {
                message,
                problems,
                version,
            }
            | Self::Overtaken {
                message,
                problems,
                version,
            } => {
                headers.push((ETAG, crate::conditional::etag(version)));
                (message, problems)
            }
            Self::TooLarge { limit } => {
                let message = format!(
                    "the body is over {} KiB, more than any change of flags needs",
                    limit / 1024
                );
                (message, Vec::new())
            }
            Self::Unprocessable { message, problems } => (message, problems),
            Self::TooManyFailures { retry_after } => {
                // Whole seconds, rounded up: a client that waits that long is let in.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                headers.push((RETRY_AFTER, HeaderValue::from(seconds.max(1))));
                let message = format!(
                    "too many failed attempts to authenticate from this address: retry in {} s",
                    seconds.max(1)
                );
                (message, Vec::new())
            }
            Self::Unavailable => {
                let message = "the flags' store is unavailable: nothing changed, retry later";
                (message.to_owned(), Vec::new())
            }
            Self::Internal => {
                let message = "an internal error: nothing changed; the server's log has details";
                (message.to_owned(), Vec::new())
            }
        };
        let mut response = (status, Json(&ErrorBody { message, problems })).into_response();
        response.headers_mut().extend(headers);
        response
    }
}
