//! An [axum](https://docs.rs/axum) [`Router`] for [live flags](flags_core::live): the flags a
//! frontend may see, health, and an admin API behind bearer tokens, to `merge` into an
//! application's own router.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use std::sync::Arc;
//!
//! use flags_core::live::Live;
//! use flags_core::secrecy::SecretString;
//! use flags_core::{FeatureFlags, Loader};
//! use flags_http::Tokens;
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     /// Enable WhatsApp integration.
//!     #[flag(default = false, public = "whatsapp")]
//!     whatsapp_enabled: bool,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let flags = Arc::new(Live::<Settings>::load(Loader::new().env())?);
//! let tokens = Tokens::new().token(SecretString::from("a-long-random-token"), "ops");
//! let app = axum::Router::new()
//!     // ...the application's own routes...
//!     .merge(flags_http::router(Arc::clone(&flags), tokens));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // The client's address lets the API limit failed authentications per client.
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Routes
//!
//! | Route | What it does |
//! |---|---|
//! | `GET /api/feature-flags` | The public flags, `{"whatsapp": false}`; `?user=ID` decides rollouts and variants for a user. `ETag` is the flags' tag; `If-None-Match` with it (weak or strong) or `*` gets 304. |
//! | `GET /api/health` | `{"status": "ok", "version": N, "store": "connected"}`. `store` is `connected`, `unreachable`, `behind` (it holds a version this build refuses), `unknown` (a state this version does not know), or `null` without a store; `status` is `degraded` when there is a store and it is not `connected`, else `ok`. 200, or 503 with `?store=required` while `degraded` (the same body); any other `?store=` is 400. |
//! | `GET /api/admin/feature-flags` | Every flag: variable, type, value (secrets redacted), source, default, description, status, group, public name, whether it needs a restart; and the version. `ETag` and `If-None-Match` as on the public flags. |
//! | `PATCH /api/admin/feature-flags` | A JSON object of variable to value (text as in an env file, a boolean, a number; `null` resets), applied whole as one change by the token's actor: 200 `{"version": N}` with the new tag as `ETag`, or 422 `{"message", "problems"}` and nothing changed. |
//! | `DELETE /api/admin/feature-flags/{VARIABLE}` | The variable goes back to what the environment (or its default) says. |
//! | `POST /api/admin/feature-flags/rollback` | Back to the previous version's values, as a new version. |
//! | `GET /api/admin/audit` | The recent audit events, newest last, 1000 at most; `?limit=N` keeps the newest `N`; `?before=T` (RFC 3339, the `at` of the oldest event read) gives the events before it, to read the audit a page at a time. |
//! | `GET /admin` | The admin page: the admin API for people, in a browser ([`Api::without_admin_page`] leaves it out). |
//! | `POST /ofrep/v1/evaluate/flags/{key}` | OpenFeature's remote evaluation (OFREP 0.3) of one flag for a context, `{"context": {"targetingKey": "alice"}}`: `{key, value, reason, variant, metadata}`. See [OFREP](#ofrep). |
//! | `POST /ofrep/v1/evaluate/flags` | Every flag the caller may see, evaluated for a context, with `eventStreams` naming the event stream; `ETag`, and 304 to `If-None-Match`. |
//! | `GET /api/feature-flags/events` | Server-sent events: one each time the flags change (OFREP's `refetchEvaluation`, with the flags' tag as `etag` and as the event's id), the current tag first unless `Last-Event-ID` names it. At most [`Api::event_streams`] open at once (429 beyond); each ends after a while without a change, and its client connects again. |
//!
//! # OFREP
//!
//! What a caller sees: without a token, the public flags, by public name (as
//! `GET /api/feature-flags` shows them); with a client token ([`Api::client_tokens`]; as a
//! bearer token or `X-API-Key`) or an admin's, every flag but the secrets, by variable. A secret
//! never answers; a key is matched exactly. A value is the flag's public value for the context's
//! `targetingKey`: a rollout's decision, a variant's name, as
//! [`Snapshot::evaluate`](flags_core::Snapshot::evaluate) gives them, with its reason (`STATIC`,
//! `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`) and the flags' `version` (and the flag's
//! `status`) as metadata. A flag with no value answers without `value`, for the caller's default.
//! Every answer names a `variant`: a [`Variants`](flags_core::Variants) flag's arm, `on` or `off`
//! for a boolean, the text of a string or a number, `default` without a value, `value` for an
//! object (OFREP makes it optional; clients read it).
//!
//! Errors are the protocol's: 400 `{key, errorCode, errorDetails}` with `PARSE_ERROR` (not JSON,
//! not `application/json`, over 64 KiB), `INVALID_CONTEXT` (no context, not an object, a
//! `targetingKey` that is not text, over 1000 fields), `TARGETING_KEY_MISSING` (a flag that
//! splits users, and no key), `GENERAL` (a key over 256 bytes); 404 `FLAG_NOT_FOUND`; 401 for a
//! token that is neither a client's nor an admin's. Each 400 and 401 counts against the
//! client's address: after [`Api::bad_request_limit`] of them, 429 with `Retry-After`. No input
//! gets a 5xx. The bulk answer's `ETag` names the flags' version and what of the caller decides
//! what it sees (its token's view and its targeting key, hashed): 304 until one of them changes.
//!
//! # Tags and changes
//!
//! The flags' tag (`ETag`) is their version, quoted, `"7"`; once a flag service pushed values,
//! it also names the revision of those values, `"7-00c0ffee00c0ffee"`. A client sends it back
//! as it came. A change (`PATCH`, `DELETE`, rollback) answers:
//!
//! - With `If-Match`, it is made only on the version a strong tag names (`"7"`, or the `ETag`
//!   as it came: the revision does not count). A list that names the flags' version goes ahead;
//!   one that names only other versions gets 412, with the flags' `ETag`, as does a list that
//!   names no version at all (weak `W/` tags never match). `*` is no condition.
//! - Without it, a change that other instances sharing the store overtake is made again on top,
//!   and 409 (with the `ETag`) when they keep overtaking.
//! - 409, too, for a flag a flag service manages, and for a rollback with no earlier version.
//! - `Idempotency-Key` (1 to 255 visible ASCII characters, else 400): a retry with the same key
//!   is answered as the first attempt was, and the change is made once; the key on another
//!   change is 422.
//! - 503 when the store cannot keep the change now: nothing changed. 504 when the store's answer
//!   never came: the change may have been made; read the flags, or retry with the same
//!   `Idempotency-Key`. 500 when the store cannot keep changes until it is fixed.
//!
//! The admin routes answer only a request that the [`Authorize`] given to the router accepts:
//! 401 with `WWW-Authenticate: Bearer` without a token, 403 with a wrong one, 403 always when no
//! token is configured. An address that sends wrong tokens too often gets 429 with
//! `Retry-After`, whatever it sends, until its window ends ([`Api::failure_limit`]); never for
//! what other addresses did, however many (the limit remembers a bounded number of addresses,
//! and past it forgets one that is not blocked). The address is the connection's peer, or the [`ClientAddress`] an application behind a proxy puts in the
//! request ([`client_address`]). A body is at most 64 KiB (413). Every error is a JSON object with
//! a `message`; a change is never half-applied. The admin routes' answers and health are never
//! cached (`Cache-Control: no-store`); the public flags are revalidated (`no-cache`, and
//! `private` with `?user=`).
//!
//! The router adds nothing the application did not ask for: no global state, no logging setup
//! (it emits a `tracing` event, target `flags_http`, when a change gets 500 because its store
//! cannot keep changes until it is fixed; flags-core's audit, target `flags::audit`, logs every
//! refused change with its reason, which the client is not told), no fallback route.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod auth;
mod conditional;
mod error;
mod events;
mod limit;
mod ofrep;
#[cfg(feature = "openapi")]
mod openapi;
mod page;
mod patch;
mod public;
#[cfg(feature = "openapi")]
mod schema;
mod tag;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware;
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};
use flags_core::FeatureFlags;
use flags_core::live::Live;

pub use auth::{Actor, Authorize, Tokens, TokensFileError};
pub use error::Denied;
pub use limit::{ClientAddress, client_address};
#[cfg(feature = "openapi")]
pub use openapi::openapi;

use error::Error;
use limit::FailureLimit;

/// The largest body a request may have.
const BODY_LIMIT: usize = 64 * 1024;

/// The routes over `flags`, their admin side authorised by `authorize`, with the default limit
/// on failed authentications: see the [crate documentation](crate).
pub fn router<S>(flags: Arc<Live<S>>, authorize: impl Authorize) -> Router
where
    S: FeatureFlags + Send + Sync + 'static,
{
    Api::new(flags, authorize).router()
}

/// The routes, with their settings: [`router`] with the defaults, or this to change them.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use flags_core::live::Live;
/// use flags_core::{FeatureFlags, Loader};
/// use flags_http::{Api, Tokens};
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = false, public)]
///     beta: bool,
/// }
///
/// let flags = Arc::new(Live::<Settings>::load(Loader::new())?);
/// let router: axum::Router = Api::new(flags, Tokens::new())
///     .failure_limit(3, Duration::from_secs(600))
///     .router();
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
pub struct Api<S> {
    flags: Arc<Live<S>>,
    authorize: Arc<dyn Authorize>,
    max_failures: u32,
    failure_window: Duration,
    admin_page: bool,
    /// The application's own routes behind the admin API's authorization.
    admin_routes: Vec<(&'static str, MethodRouter)>,
    /// The tokens that read every flag but the secrets over OFREP.
    readers: Tokens,
    max_bad_requests: u32,
    bad_request_window: Duration,
    max_streams: usize,
    stream_idle: Duration,
    deployment: Deployment,
}

/// Which application, environment and host the admin routes control, as the admin list (and
/// the page's header) says.
#[derive(Debug, Clone, Default, serde_derive::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct Deployment {
    /// The application's name (`rose`), if the server gave one.
    application: Option<String>,
    /// Its environment (`production`), if the server gave one.
    environment: Option<String>,
    /// The host the server runs on, if it gave one: which instance an operator is looking at.
    host: Option<String>,
}

impl<S> Api<S>
where
    S: FeatureFlags + Send + Sync + 'static,
{
    /// The routes over `flags`, their admin side authorised by `authorize`.
    pub fn new(flags: Arc<Live<S>>, authorize: impl Authorize) -> Self {
        Self {
            flags,
            authorize: Arc::new(authorize),
            max_failures: 10,
            failure_window: Duration::from_secs(60),
            admin_page: true,
            admin_routes: Vec::new(),
            readers: Tokens::new(),
            max_bad_requests: 100,
            bad_request_window: Duration::from_secs(60),
            max_streams: 1000,
            stream_idle: Duration::from_secs(300),
            deployment: Deployment::default(),
        }
    }

    /// Names the application (`rose`) and, if known, its environment (`production`) and the
    /// host the server runs on: the admin list says them and the admin page's header shows
    /// them, so that an operator with several tabs open knows which deployment each one changes.
    pub fn deployment(
        mut self,
        application: impl Into<String>,
        environment: Option<String>,
        host: Option<String>,
    ) -> Self {
        self.deployment = Deployment {
            application: Some(application.into()),
            environment,
            host,
        };
        self
    }

    /// Client tokens: a request to the OFREP routes with one of them (as a bearer token or
    /// `X-API-Key`) sees every flag but the secrets, by variable, where a request without a token
    /// sees the public flags by public name. A client token changes nothing: the admin routes
    /// refuse it. An admin's token reads as a client token does.
    pub fn client_tokens(mut self, tokens: Tokens) -> Self {
        self.readers = tokens;
        self
    }

    /// After `max` OFREP requests that cannot be read (or carry a wrong token) from one address
    /// within `window` of the first, the address gets 429 on the OFREP routes until `window`
    /// has passed (default: 100 in 60 s).
    pub fn bad_request_limit(mut self, max: u32, window: Duration) -> Self {
        self.max_bad_requests = max.max(1);
        self.bad_request_window = window;
        self
    }

    /// At most `max` event streams open at once (429 beyond), each ended after `idle` without
    /// a change, for its client to connect again (default: 1000, 5 minutes).
    pub fn event_streams(mut self, max: usize, idle: Duration) -> Self {
        self.max_streams = max;
        self.stream_idle = idle;
        self
    }

    /// Serves `route` at `path` behind the admin API's authorization and its limit on wrong
    /// tokens, as the admin routes are: for what the application shows its operators only
    /// (metrics, a debug page). A handler reads who is asking from the request's
    /// [`Actor`] extension.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use flags_core::{FeatureFlags, Loader, live::Live};
    /// # use flags_http::{Api, Tokens};
    /// # #[derive(FeatureFlags)]
    /// # struct Settings { #[flag(default = false)] beta: bool }
    /// # let flags = Arc::new(Live::<Settings>::load(Loader::new())?);
    /// let router: axum::Router = Api::new(flags, Tokens::new())
    ///     .admin_route("/metrics", axum::routing::get(|| async { "up 1\n" }))
    ///     .router();
    /// # Ok::<(), flags_core::FlagsError>(())
    /// ```
    pub fn admin_route(mut self, path: &'static str, route: MethodRouter) -> Self {
        self.admin_routes.push((path, route));
        self
    }

    /// Leaves out the admin page (`GET /admin`); the admin API stays.
    pub fn without_admin_page(mut self) -> Self {
        self.admin_page = false;
        self
    }

    /// After `max` wrong tokens (or other invalid credentials) from one address within `window`
    /// of the first, the address gets 429 on the admin routes until `window` has passed (default:
    /// 10 in 60 s).
    pub fn failure_limit(mut self, max: u32, window: Duration) -> Self {
        self.max_failures = max.max(1);
        self.failure_window = window;
        self
    }

    /// The router, to `merge` into the application's own (or to `nest` under a prefix).
    pub fn router(self) -> Router {
        let events = events::Events::new(&self.flags, self.max_streams, self.stream_idle);
        let shared = Arc::new(Shared {
            ofrep: ofrep::Ofrep::new(
                S::FLAGS,
                self.readers,
                FailureLimit::new(self.max_bad_requests, self.bad_request_window),
            ),
            events: Arc::new(events),
            flags: self.flags,
            authorize: self.authorize,
            failures: FailureLimit::new(self.max_failures, self.failure_window),
            public: ArcSwapOption::empty(),
            deployment: self.deployment,
        });
        let public = Router::new()
            .route("/api/feature-flags", get(public::flags::<S>))
            .route(events::PATH, get(events::stream::<S>))
            .route("/api/health", get(public::health::<S>))
            .route(ofrep::BULK_PATH, post(ofrep::evaluate_all::<S>))
            .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::evaluate::<S>));
        let admin = Router::new()
            .route(
                "/api/admin/feature-flags",
                get(admin::flags::<S>).patch(admin::patch::<S>),
            )
            .route(
                "/api/admin/feature-flags/rollback",
                post(admin::rollback::<S>),
            )
            .route(
                "/api/admin/feature-flags/{variable}",
                delete(admin::reset::<S>),
            )
            .route("/api/admin/audit", get(admin::audit::<S>));
        let admin = self
            .admin_routes
            .into_iter()
            .fold(admin, |admin, (path, route)| {
                admin.route(path, route.with_state(()))
            })
            .route_layer(middleware::from_fn_with_state(
                Arc::clone(&shared),
                auth::require::<S>,
            ))
            .route_layer(middleware::map_response(no_store))
            .route_layer(middleware::from_fn(refuse_declared_too_large))
            .layer(DefaultBodyLimit::max(BODY_LIMIT));
        let router = public.merge(admin);
        let router = match self.admin_page {
            true => router.merge(page::router()),
            false => router,
        };
        router
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(shared)
    }
}

/// Whether the request's `Content-Length` declares a body over `limit` bytes.
fn declared_over(headers: &axum::http::HeaderMap, limit: usize) -> bool {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64)
}

/// 413 for a body declared over [`BODY_LIMIT`], before anything reads it: a client that asks
/// first (`Expect: 100-continue`) is never told to send it.
async fn refuse_declared_too_large(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    if declared_over(request.headers(), BODY_LIMIT) {
        return axum::response::IntoResponse::into_response(error::Error::TooLarge {
            limit: BODY_LIMIT,
        });
    }
    next.run(request).await
}

/// What every route shares.
struct Shared<S> {
    flags: Arc<Live<S>>,
    authorize: Arc<dyn Authorize>,
    failures: FailureLimit,
    /// The public projection of the latest version asked for.
    public: ArcSwapOption<public::Rendered>,
    ofrep: ofrep::Ofrep,
    events: Arc<events::Events>,
    deployment: Deployment,
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// An admin response, error or not, is never cached.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
