//! The admin routes: every flag as an operator sees it, changes, resets, rollback, and the audit.
//! [`require`](crate::auth::require) has authorised each request before it gets here.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::header::ETAG;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use flags_core::live::{AuditEvent, AuditPage, Change, Live};
use flags_core::{FeatureFlags, Source};
use serde_derive::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Actor;
use crate::conditional::{self, Comment, IdempotencyKey, IfMatch};
use crate::error::{Error, ProblemBody, Refused};
use crate::patch::Edits;
use crate::tag::Tag;
use crate::{BODY_LIMIT, Shared};

/// The body of `GET /api/admin/feature-flags`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct AdminFlags<'a> {
    /// The flags' version: what `If-Match` names to make a change conditional on it.
    version: u64,
    /// Which application, environment and host these flags are, as the server names them
    /// (`Api::deployment`); each `null` when it does not.
    #[serde(flatten)]
    deployment: &'a crate::Deployment,
    /// Every flag, in declaration order.
    flags: Vec<AdminFlag<'a>>,
}

/// One flag as an operator sees it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct AdminFlag<'a> {
    /// Its environment variable: the name a change uses.
    variable: &'static str,
    /// Its field in the settings struct.
    field: &'static str,
    /// Its Rust type.
    #[serde(rename = "type")]
    type_name: &'static str,
    /// Its value as JSON of its type (`false`, `3`, `"debug"`, `["a", "b"]`); `"<redacted>"` for
    /// a secret that is set, `null` when unset, and the text for a value decided per user (a
    /// rollout's `"25%"`).
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    value: serde_json::Value,
    /// Its value as a variable would hold it, and as a change sets it (`"false"`); `<redacted>`
    /// for a secret that is set, `null` when unset.
    text: Option<String>,
    /// Where the value came from.
    source: &'a Source,
    /// Its default as a variable would hold it; `null` when it has none, or is secret.
    default: Option<String>,
    /// Its documentation.
    description: &'static str,
    /// Its lifecycle status (`stable`, `experimental`...), if set.
    status: Option<&'static str>,
    /// The date it should be gone by (`YYYY-MM-DD`), if set.
    expires: Option<&'static str>,
    /// Whether that date has passed (in UTC): the flag should be removed.
    expired: bool,
    /// The group the docs list it under, if set.
    group: Option<&'static str>,
    /// Its name in the public projection, if it is public.
    public: Option<&'static str>,
    /// Whether its value is secret (never shown).
    secret: bool,
    /// Whether it has no default and must be set.
    required: bool,
    /// Whether it takes effect only on restart (`#[flag(restart)]`): a change is refused.
    needs_restart: bool,
    /// Whether a change may set it now (not `restart`, and not a secret that does not opt in).
    changes_live: bool,
    /// The flag service that manages it (`unleash`, `launchdarkly`), if one does: change it
    /// there; a change here is refused (409).
    managed_by: Option<String>,
    /// The values it accepts, when it takes one of a list.
    values: &'static [&'static str],
    /// The variables it requires, when it is on (or holds a `when` value).
    requires: Vec<&'static str>,
}

/// Every flag
///
/// Each flag with its value (secrets redacted), where the value came from, and what the code
/// declares of it; and the flags' version.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api/admin/feature-flags",
    operation_id = "admin_flags",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every flag and the flags' version", body = AdminFlags,
            headers(("ETag" = String, description = "The flags' tag: their version, quoted (`\"7\"`), with the revision of the values \
                flag services pushed once one did (`\"7-00c0ffee00c0ffee\"`)"))),
        (status = 304, description = "The flags still have the tag `If-None-Match` names"),
        crate::error::TurnedAway,
    ),
))]
pub(crate) async fn flags<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    headers: HeaderMap,
) -> Response {
    let snapshot = shared.flags.snapshot();
    let tag = Tag::of(&snapshot);
    // A page that polls for changes asks with the version it shows.
    if conditional::has_tag(&headers, tag) {
        return admin_response(StatusCode::NOT_MODIFIED, Some(tag), ());
    }
    let today = flags_core::lifecycle::today();
    let flags = snapshot
        .flag_states()
        .into_iter()
        .map(|state| {
            let meta = state.meta;
            let mut requires: Vec<&'static str> = Vec::new();
            for requirement in meta.requires() {
                for var in requirement.vars() {
                    if !requires.contains(var) {
                        requires.push(var);
                    }
                }
            }
            AdminFlag {
                variable: meta.env(),
                field: meta.field(),
                type_name: meta.type_name(),
                value: state.json,
                text: state.value,
                source: state.source,
                default: meta.default_summary().filter(|_| !meta.is_secret()),
                description: meta.description(),
                status: meta.status(),
                expires: meta.expires(),
                expired: meta
                    .expires()
                    .is_some_and(|expires| expires < today.as_str()),
                group: meta.group(),
                managed_by: shared
                    .flags
                    .manager(meta.env())
                    .map(|service| service.to_string()),
                public: meta.public_name(),
                secret: meta.is_secret(),
                required: meta.is_required(),
                needs_restart: meta.needs_restart(),
                changes_live: meta.changes_live(),
                values: meta.values(),
                requires,
            }
        })
        .collect();
    let body = AdminFlags {
        version: snapshot.version(),
        deployment: &shared.deployment,
        flags,
    };
    admin_response(StatusCode::OK, Some(tag), Json(body))
}

/// The body of a change that was applied, or that changed nothing.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct Changed {
    /// The flags' new version; the version they are at when the change changed nothing.
    version: u64,
    /// Whether the change made a version: `false` when every flag it names already held what
    /// it asks for (nothing was made, nothing audited).
    changed: bool,
}

/// Change flags
///
/// Sets each variable of a JSON object to its value (`null` resets it), as one change by the
/// request's actor: validated as a load is, applied whole or not at all, audited either way.
#[cfg_attr(feature = "openapi", utoipa::path(
    patch,
    path = "/api/admin/feature-flags",
    operation_id = "change_flags",
    tag = "admin",
    security(("bearer" = [])),
    params(IfMatch, IdempotencyKey, Comment),
    request_body(
        content = Object, content_type = "application/json",
        description = "Variable to value: text as in an env file, a boolean, a number, or null \
            to reset the variable to what the environment says",
    ),
    responses(
        (status = 200, description = "Applied: the new version", body = Changed,
            headers(("ETag" = String, description = "The new version's tag"))),
        (status = 400, description = "The body is not a JSON object", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 64 KiB", body = crate::error::ErrorBody),
        Refused,
        crate::error::TurnedAway,
    ),
))]
pub(crate) async fn patch<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    Extension(Actor(actor)): Extension<Actor>,
    if_match: IfMatch,
    key: IdempotencyKey,
    comment: Comment,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge { limit: BODY_LIMIT },
        _ => Error::BadRequest(rejection.body_text()),
    })?;
    let edits: Edits = crate::patch::edits(&body)?;
    commit(
        &shared.flags,
        &if_match,
        comment.on(key.on(Change::edit(&actor, edits))),
    )
    .await
}

/// Reset a flag
///
/// The variable goes back to what the environment (or its default) says, as one change.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/api/admin/feature-flags/{variable}",
    operation_id = "reset_flag",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("variable" = String, Path, description = "The flag's environment variable"),
        IfMatch,
        IdempotencyKey,
        Comment,
    ),
    responses(
        (status = 200, description = "Reset: the new version", body = Changed,
            headers(("ETag" = String, description = "The new version's tag"))),
        (status = 404, description = "No flag has this variable: the problem names it, with the \
            nearest name; nothing changed", body = crate::error::ErrorBody),
        Refused,
        crate::error::TurnedAway,
    ),
))]
pub(crate) async fn reset<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    Extension(Actor(actor)): Extension<Actor>,
    uri: Uri,
    if_match: IfMatch,
    key: IdempotencyKey,
    comment: Comment,
    variable: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let variable = match variable {
        Ok(Path(variable)) => variable,
        Err(_) => {
            // Percent-encoded bytes that are not UTF-8: named as far as they can be read.
            let raw = uri.path().rsplit('/').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            let problem = ProblemBody {
                kind: "not_unicode",
                variable: Some(name.to_string()),
                message: format!("{name}: the variable's name is not valid UTF-8"),
            };
            return Err(Error::Refused(Refused::Unprocessable {
                message: problem.message.clone(),
                problems: vec![problem],
            }));
        }
    };
    let known = S::FLAGS.iter().any(|flag| flag.env() == variable);
    let reset = commit(
        &shared.flags,
        &if_match,
        comment.on(key.on(Change::reset(&actor, [variable]))),
    )
    .await;
    match reset {
        // The path names no flag: not found, with the problem that says so (and the nearest
        // name), as the refused change was audited.
        Err(Error::Refused(Refused::Unprocessable { message, problems })) if !known => {
            Err(Error::NoSuchFlag { message, problems })
        }
        reset => reset,
    }
}

/// Roll back
///
/// Back to the previous version's values, as a new version.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/api/admin/feature-flags/rollback",
    operation_id = "rollback",
    tag = "admin",
    security(("bearer" = [])),
    params(IfMatch, IdempotencyKey, Comment),
    responses(
        (status = 200, description = "Rolled back: the new version", body = Changed,
            headers(("ETag" = String, description = "The new version's tag"))),
        Refused,
        crate::error::TurnedAway,
    ),
))]
pub(crate) async fn rollback<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    Extension(Actor(actor)): Extension<Actor>,
    if_match: IfMatch,
    key: IdempotencyKey,
    comment: Comment,
) -> Result<Response, Error> {
    let change = comment.on(key.on(Change::rollback(&actor)));
    commit(&shared.flags, &if_match, change).await
}

/// Makes `change`, on the version `If-Match` names if it names one, and answers with the new
/// version or why there is none.
async fn commit<S: FeatureFlags + Send + Sync + 'static>(
    flags: &Live<S>,
    if_match: &IfMatch,
    change: Change,
) -> Result<Response, Error> {
    let change = match if_match.version(Tag::of(&flags.get()))? {
        Some(version) => change.if_version(version),
        None => change,
    };
    match flags.commit_detailed(change).await {
        Ok(committed) => {
            let version = committed.version;
            let tag = Tag::with_version(&flags.get(), version);
            let changed = committed.changed;
            let body = Json(Changed { version, changed });
            Ok(admin_response(StatusCode::OK, Some(tag), body))
        }
        Err(error) => Err(Error::refused(error, Tag::of(&flags.get()))),
    }
}

/// The query of `GET /api/admin/audit`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct AuditQuery {
    /// At most this many events, the newest (1000 at most, and by default).
    limit: Option<usize>,
    /// Only events before this time (RFC 3339): the `at` of the oldest event of the page read
    /// before, to read the audit a page at a time.
    before: Option<String>,
}

/// The body of `GET /api/admin/audit`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct Audit {
    /// The recent audit events, oldest first, newest last.
    events: Vec<AuditEvent>,
}

/// The audit
///
/// The recent attempts to change the flags, applied or rejected, newest last.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api/admin/audit",
    operation_id = "audit",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The recent audit events, newest last", body = Audit),
        (status = 400, description = "The query string cannot be read", body = crate::error::ErrorBody),
        crate::error::TurnedAway,
    ),
))]
pub(crate) async fn audit<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(Error::query)?;
    let limit = query.limit.unwrap_or(AUDIT_LIMIT).min(AUDIT_LIMIT);
    let before = match query.before.as_deref() {
        None => None,
        Some(text) => Some(OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            Error::BadRequest(format!(
                "before={text:?} is not a time: write it as RFC 3339, as an event's `at` is \
                 (2026-12-04T20:15:07.123456Z)"
            ))
        })?),
    };
    let events = shared.flags.audit_events(AuditPage { limit, before }).await;
    Ok(admin_response(StatusCode::OK, None, Json(Audit { events })))
}

/// The most events `GET /api/admin/audit` answers with.
const AUDIT_LIMIT: usize = 1000;

/// An admin response, with the flags' tag as its `ETag` where it has one.
fn admin_response(status: StatusCode, tag: Option<Tag>, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    if let Some(tag) = tag {
        response.headers_mut().insert(ETAG, tag.header());
    }
    response
}
