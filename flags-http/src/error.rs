//! [`Error`]: every way a request fails, as the status, headers and JSON body a client gets; and
//! the two families of failure the admin routes share, each a type of its own whose OpenAPI
//! description is its own: [`Refused`] (a change not made, or not known to be) and
//! [`TurnedAway`] (a request not let in).

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::header::{ETAG, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flags_core::Problem;
use flags_core::live::{ChangeError, StoreError};
use serde_derive::Serialize;

use crate::tag::Tag;

/// A failed request. Its body is always a JSON object with a `message`; a refused change also
/// lists its `problems`, each as [`Problem`] serializes (`kind`, `variable`, `message`).
#[derive(Debug)]
pub(crate) enum Error {
    /// 400: the request cannot be read (malformed JSON, a bad query string).
    BadRequest(String),
    /// 401, 403, 429: the request may not use the admin routes.
    TurnedAway(TurnedAway),
    /// 404: the path names a flag that does not exist (a reset of an unknown variable); its
    /// problems say so, with the nearest name.
    NoSuchFlag {
        message: String,
        problems: Vec<ProblemBody>,
    },
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409, 412, 422, 503, 504: the change was not made, or (504) may have been.
    Refused(Refused),
    /// 413: a body over the limit.
    TooLarge { limit: usize },
    /// 500: a bug; logged, never described to the client.
    Internal,
}

/// Why a request may not use the admin routes: what an [`Authorize`](crate::Authorize) answers
/// for a request it does not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// It carries no credentials: 401, with `WWW-Authenticate: Bearer`.
    Missing,
    /// Its credentials are not valid: 403. Counts as a failure.
    Invalid,
    /// Nothing is accepted: the admin API is off (no token configured). 403, whatever the
    /// request carries.
    Disabled,
    /// The token is valid, for reading only, and the request would change something: 403. Not
    /// a failure: the client is who it says.
    ReadOnly,
}

/// Why a request may not use the admin routes: what [`require`](crate::auth::require) answers.
#[derive(Debug)]
pub(crate) enum TurnedAway {
    /// 401 without credentials (the client is told to send a bearer token); 403 with wrong
    /// ones, or when the admin API has no credentials to accept.
    Denied(Denied),
    /// 429: too many failed authentications from the client's address.
    TooManyFailures { retry_after: Duration },
}

/// Why a change was not made: what the routes that change flags answer when they refuse one.
/// Nothing changed, except perhaps after [`Refused::OutcomeUnknown`].
#[derive(Debug)]
pub(crate) enum Refused {
    /// 409: the change cannot be made on the flags as they are: a rollback with no earlier
    /// version, a change that other instances' changes kept overtaking (made on no version in
    /// particular, it caught up and was overtaken again until it gave up), or a change of flags
    /// a flag service manages. The flags' tag (`ETag`), when it is what the client should read
    /// again.
    Conflict { message: String, tag: Option<Tag> },
    /// 412: a change conditional on a version (`If-Match`) that is no longer the flags'.
    PreconditionFailed { message: String, tag: Option<Tag> },
    /// 422: a change that would not load, or that names no variable.
    Unprocessable {
        message: String,
        problems: Vec<ProblemBody>,
    },
    /// 503: the store of live flags cannot keep the change now.
    Unavailable,
    /// 504: the store was asked to keep the change, and its answer never came
    /// ([`OUTCOME_UNKNOWN`] says what the client does).
    OutcomeUnknown,
}

/// What a client is told when the store's answer to a change never came (504): in the body, and
/// in the OpenAPI document.
pub(crate) const OUTCOME_UNKNOWN: &str = "the flags' store did not answer in time: the change \
    may or may not have been made; read the flags before trying it again, or retry it with the \
    same Idempotency-Key, which makes it once";

/// A wait as `Retry-After` says it: whole seconds, rounded up so that a client that waits that
/// long is let in, and at least one.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl From<TurnedAway> for Error {
    fn from(turned_away: TurnedAway) -> Self {
        Self::TurnedAway(turned_away)
    }
}

impl From<Denied> for Error {
    fn from(denied: Denied) -> Self {
        Self::TurnedAway(TurnedAway::Denied(denied))
    }
}

impl From<Refused> for Error {
    fn from(refused: Refused) -> Self {
        Self::Refused(refused)
    }
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
    /// The answer to a change that `Live` refused, the flags being at `tag` now.
    pub(crate) fn refused(error: ChangeError, tag: Tag) -> Self {
        let message = error.to_string();
        let refused = match error {
            ChangeError::Rejected(error) => Refused::Unprocessable {
                message,
                problems: error.problems().iter().map(ProblemBody::from).collect(),
            },
            ChangeError::Stale { .. } => Refused::PreconditionFailed {
                message,
                tag: Some(tag),
            },
            ChangeError::Overtaken { .. } => Refused::Conflict {
                message,
                tag: Some(tag),
            },
            ChangeError::NothingToRollBack { .. } | ChangeError::Managed { .. } => {
                Refused::Conflict { message, tag: None }
            }
            ChangeError::KeyInUse { .. } => Refused::Unprocessable {
                message,
                problems: Vec::new(),
            },
            // The reason may quote a path or a database's words: the client is not told it. The
            // audit of the refused change (target `flags::audit`) logs it already; only a 500,
            // whose body points to the log, gets a line of its own here.
            ChangeError::Store(error) => match error {
                StoreError::OutcomeUnknown { .. } => Refused::OutcomeUnknown,
                error if error.is_retryable() => Refused::Unavailable,
                error => {
                    tracing::error!(
                        target: "flags_http",
                        "a change was answered 500, as the store cannot keep changes until it is \
                         fixed: {error}"
                    );
                    return Self::Internal;
                }
            },
            // A kind of refusal this version does not know: the client is told what it says.
            _ => Refused::Conflict { message, tag: None },
        };
        Self::Refused(refused)
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
            Self::TurnedAway(TurnedAway::Denied(Denied::Missing)) => StatusCode::UNAUTHORIZED,
            Self::TurnedAway(TurnedAway::Denied(
                Denied::Invalid | Denied::Disabled | Denied::ReadOnly,
            )) => StatusCode::FORBIDDEN,
            Self::TurnedAway(TurnedAway::TooManyFailures { .. }) => StatusCode::TOO_MANY_REQUESTS,
            Self::NoSuchFlag { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Refused(Refused::Conflict { .. }) => StatusCode::CONFLICT,
            Self::Refused(Refused::PreconditionFailed { .. }) => StatusCode::PRECONDITION_FAILED,
            Self::Refused(Refused::Unprocessable { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused(Refused::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
            // The store, upstream of this server, did not answer in time: what a gateway's
            // timeout is, and not "unavailable", which says nothing changed.
            Self::Refused(Refused::OutcomeUnknown) => StatusCode::GATEWAY_TIMEOUT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
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
            Self::TurnedAway(TurnedAway::Denied(Denied::Missing)) => {
                headers.push((
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"flags admin\""),
                ));
                let message = "the admin API needs a token: send `Authorization: Bearer <token>`";
                (message.to_owned(), Vec::new())
            }
            Self::TurnedAway(TurnedAway::Denied(Denied::Invalid)) => {
                let message = "the token is not valid for the admin API";
                (message.to_owned(), Vec::new())
            }
            Self::TurnedAway(TurnedAway::Denied(Denied::ReadOnly)) => {
                let message = "the token reads only: a change needs a token that may make one";
                (message.to_owned(), Vec::new())
            }
            Self::TurnedAway(TurnedAway::Denied(Denied::Disabled)) => {
                let message = "the admin API is disabled: no token is configured for it";
                (message.to_owned(), Vec::new())
            }
            Self::MethodNotAllowed => {
                let message =
                    "this path does not take this method; the `Allow` header lists those it takes";
                (message.to_owned(), Vec::new())
            }
            Self::Refused(
                Refused::PreconditionFailed { message, tag } | Refused::Conflict { message, tag },
            ) => {
                headers.extend(tag.map(|tag| (ETAG, tag.header())));
                (message, Vec::new())
            }
            Self::TooLarge { limit } => {
                let message = format!(
                    "the body is over {} KiB, more than any change of flags needs",
                    limit / 1024
                );
                (message, Vec::new())
            }
            Self::Refused(Refused::Unprocessable { message, problems })
            | Self::NoSuchFlag { message, problems } => (message, problems),
            Self::TurnedAway(TurnedAway::TooManyFailures { retry_after }) => {
                let seconds = retry_after_seconds(retry_after);
                headers.push((RETRY_AFTER, HeaderValue::from(seconds)));
                let message = format!(
                    "too many failed attempts to authenticate from this address: retry in \
                     {seconds} s"
                );
                (message, Vec::new())
            }
            Self::Refused(Refused::Unavailable) => {
                let message = "the flags' store is unavailable: nothing changed, retry later";
                (message.to_owned(), Vec::new())
            }
            Self::Refused(Refused::OutcomeUnknown) => (OUTCOME_UNKNOWN.to_owned(), Vec::new()),
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

#[cfg(test)]
mod tests {
    use std::io;

    use flags_tests::capture_logs;

    use super::*;

    #[test]
    fn only_a_store_error_answered_500_logs_a_line_of_its_own() {
        let tag = Tag::parse("\"0\"").unwrap();
        let refuse = |error: StoreError| {
            let error = Error::refused(ChangeError::Store(error), tag);
            Error::status(&error)
        };
        let lost = || io::Error::other("connection reset");
        let unknown = capture_logs(|| {
            let status = refuse(StoreError::outcome_unknown("commit", lost()));
            assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
            let status = refuse(StoreError::unavailable("commit", lost()));
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        });
        assert_eq!(unknown, "");
        let corrupt = capture_logs(|| {
            let status = refuse(StoreError::corrupt(
                "/srv/flags.json holds a negative version",
            ));
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        });
        assert_eq!(
            corrupt,
            "ERROR flags_http: a change was answered 500, as the store cannot keep changes until it \
             is fixed: /srv/flags.json holds a negative version\n"
        );
    }
}
