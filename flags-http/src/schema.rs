//! What the OpenAPI document describes that no handler builds: a header, the responses every
//! admin route shares, and the JSON of types flags-core serializes by hand (feature `openapi`).

use utoipa::{IntoParams, IntoResponses, ToSchema};

use crate::error::ErrorBody;

/// `If-Match` on a change.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // A description of a header, never built.
pub(crate) struct IfMatch {
    /// Make the change only if the flags are still at this version, quoted (`"3"`): 412
    /// otherwise.
    #[param(rename = "If-Match")]
    if_match: Option<String>,
}

/// What every admin route may answer when the request is not let in.
#[derive(IntoResponses)]
#[allow(dead_code)] // A description of responses, never built.
pub(crate) enum AuthResponses {
    /// No token: `WWW-Authenticate: Bearer`.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// A wrong token, or no token configured (the admin API is off).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many failed authentications from this address: `Retry-After` says when to retry.
    #[response(status = 429)]
    TooManyFailures(ErrorBody),
}

/// What a change may answer when it is refused; nothing changed.
#[derive(IntoResponses)]
#[allow(dead_code)] // A description of responses, never built.
pub(crate) enum ChangeResponses {
    /// Without `If-Match`: changes through other instances kept overtaking this one; or, for a
    /// rollback, there is no earlier version to go back to.
    #[response(status = 409)]
    Overtaken(ErrorBody),
    /// `If-Match` names a version the flags are no longer at.
    #[response(status = 412)]
    PreconditionFailed(ErrorBody),
    /// The change would not load: each problem listed.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// The store of live flags cannot keep the change.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// Where a value came from, as [`flags_core::Source`] serializes.
#[derive(ToSchema)]
#[schema(as = Source)]
#[allow(dead_code)] // The schema of a type flags-core serializes.
pub(crate) struct SourceSchema {
    /// `default`, `environment`, `file`, `map` or `override`.
    kind: String,
    /// For `file`: the file.
    path: Option<String>,
    /// For `override`: who made the change.
    actor: Option<String>,
    /// For `override`: the version it made.
    version: Option<u64>,
    /// The source as one line (`override by alice (version 3)`).
    text: String,
}

/// One change a audit event records, as [`flags_core::live::AuditChange`] serializes.
#[derive(ToSchema)]
#[schema(as = AuditChange)]
#[allow(dead_code)] // The schema of a type flags-core serializes.
pub(crate) struct AuditChangeSchema {
    /// The flag's variable.
    flag: String,
    /// Its value before (`<redacted>` for a secret), `null` when unset.
    old: Option<String>,
    /// Its value after, or asked for when rejected; `null` when unset.
    new: Option<String>,
}

/// One attempt to change the flags, as [`flags_core::live::AuditEvent`] serializes.
#[derive(ToSchema)]
#[schema(as = AuditEvent)]
#[allow(dead_code)] // The schema of a type flags-core serializes.
pub(crate) struct AuditEventSchema {
    /// The version it made (or would have made, when rejected).
    version: u64,
    /// Who made it.
    actor: String,
    /// When, in RFC 3339 UTC.
    at: String,
    /// `applied` or `rejected`.
    outcome: String,
    /// Why it was rejected.
    reason: Option<String>,
    /// Each flag it changed or asked to change.
    changes: Vec<AuditChangeSchema>,
}
