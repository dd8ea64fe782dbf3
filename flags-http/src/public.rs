//! The public routes: the flags a frontend may see, and health.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flags_core::FeatureFlags;
use flags_core::live::StoreHealth;
use serde_derive::{Deserialize, Serialize};

use crate::Shared;
use crate::conditional;
use crate::error::Error;
use crate::tag::Tag;

/// The public projection of one state of the flags, serialized once for every request that
/// asks for it.
pub(crate) struct Rendered {
    tag: Tag,
    etag: HeaderValue,
    body: Bytes,
}

/// The query of `GET /api/feature-flags`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct PublicQuery {
    /// A user's id: rollouts are decided and variants chosen for this user.
    user: Option<String>,
}

/// The public flags
///
/// A JSON object of public name to value; with `?user=ID`, as that user sees them. `ETag` is the
/// flags' tag (their version, and the revision of the values flag services pushed, if any), and
/// `If-None-Match` with it gets 304.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api/feature-flags",
    operation_id = "public_flags",
    tag = "public",
    params(PublicQuery),
    responses(
        (status = 200, description = "The public flags: public name to value. Rollouts and \
            variants appear only with `user`, decided for that user.",
            body = Object, headers(("ETag" = String, description = "The flags' tag: their version, quoted (`\"7\"`), with the revision of the values \
                flag services pushed once one did (`\"7-00c0ffee00c0ffee\"`)"))),
        (status = 304, description = "The flags still have the tag `If-None-Match` names"),
        (status = 400, description = "The query string cannot be read", body = crate::error::ErrorBody),
    ),
))]
pub(crate) async fn flags<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    // The request itself, not extractors that would copy its headers: this route is the hot one.
    request: Request,
) -> Result<Response, Error> {
    let Query(query) = Query::<PublicQuery>::try_from_uri(request.uri()).map_err(Error::query)?;
    let snapshot = shared.flags.get();
    let tag = Tag::of(&snapshot);
    let cache = match query.user {
        Some(_) => "private, no-cache",
        None => "no-cache",
    };
    // The projection of these flags, if a request without a user asked for it already: its
    // `ETag` is formatted, whoever asks.
    let rendered = shared.public.load();
    let cached = rendered.as_deref().filter(|rendered| rendered.tag == tag);
    let etag = || cached.map_or_else(|| tag.header(), |rendered| rendered.etag.clone());
    if conditional::has_tag(request.headers(), tag) {
        // With what the 200 would have said of caching (RFC 9110, 15.4.5).
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        let headers = response.headers_mut();
        headers.insert(ETAG, etag());
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        return Ok(response);
    }
    let (etag, body) = match (query.user, cached) {
        (Some(user), _) => {
            let body = serde_json::to_vec(&snapshot.public_flags_for(&user))
                .map_err(|_| Error::Internal)?;
            (etag(), Bytes::from(body))
        }
        (None, Some(rendered)) => (rendered.etag.clone(), rendered.body.clone()),
        (None, None) => {
            let body = serde_json::to_vec(&snapshot.public_flags()).map_err(|_| Error::Internal)?;
            let rendered = Rendered {
                tag,
                etag: tag.header(),
                body: Bytes::from(body),
            };
            let sent = (rendered.etag.clone(), rendered.body.clone());
            shared.public.store(Some(Arc::new(rendered)));
            sent
        }
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(ETAG, etag);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

/// The body of `GET /api/health`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct Health {
    /// `ok` when the flags are at their store's version (or have no store); `degraded` when the
    /// store cannot be reached, holds a version this build refused, or is in a state this
    /// version does not know: the flags served are then the last good ones, and changes may be
    /// refused.
    #[cfg_attr(feature = "openapi", schema(inline))]
    status: Status,
    /// The flags' version.
    version: u64,
    /// The store: `connected`, `unreachable`, `behind` or `unknown`; `null` without one.
    #[cfg_attr(feature = "openapi", schema(inline))]
    store: Option<StoreStatus>,
}

/// Whether the server serves what its store holds.
#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Degraded,
}

/// How the flags stand with their store.
#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
enum StoreStatus {
    Connected,
    Unreachable,
    Behind,
    /// A state this version does not know: reported, not hidden.
    Unknown,
}

impl StoreStatus {
    fn of(health: &StoreHealth) -> Self {
        match health {
            StoreHealth::Ready => Self::Connected,
            StoreHealth::Unreachable { .. } => Self::Unreachable,
            StoreHealth::Behind { .. } => Self::Behind,
            _ => Self::Unknown,
        }
    }
}

/// The query of `GET /api/health`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct HealthQuery {
    /// `required`: answer 503 when the status is `degraded` (for a load balancer that should
    /// take an instance without its store out of rotation).
    #[cfg_attr(feature = "openapi", param(inline))]
    store: Option<StoreRequirement>,
}

/// What `?store=` asks of the store.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
enum StoreRequirement {
    Required,
}

/// Health
///
/// `{"status": "ok", "version": N, "store": "connected"}` while the server answers; `degraded`
/// with its store unreachable or ahead of what this build loads. 200 unless `?store=required`
/// and the status is `degraded`: then 503.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api/health",
    operation_id = "health",
    tag = "public",
    params(HealthQuery),
    responses(
        (status = 200, description = "The server is up", body = Health),
        (status = 503, description = "`?store=required`, and the store is not connected, or \
            holds what this build refuses", body = Health),
        (status = 400, description = "The query string cannot be read", body = crate::error::ErrorBody),
    ),
))]
pub(crate) async fn health<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(Error::query)?;
    let store = shared.flags.store_health().as_ref().map(StoreStatus::of);
    let status = match store {
        None | Some(StoreStatus::Connected) => Status::Ok,
        Some(_) => Status::Degraded,
    };
    let code = match (query.store, status) {
        (Some(StoreRequirement::Required), Status::Degraded) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    };
    let health = Health {
        status,
        version: shared.flags.version(),
        store,
    };
    let headers = [(CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    Ok((code, headers, Json(health)).into_response())
}
