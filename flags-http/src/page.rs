//! The admin page, `GET /admin`: static files embedded in the crate (no build step, nothing
//! loaded from elsewhere), a page for people over the admin API, under its own strict content
//! security policy.

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// What the page may do: run its own script and style, and call its own server; nothing else,
/// and nobody may frame it.
pub(crate) const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'";

const INDEX: &str = include_str!("../admin/index.html");
const SCRIPT: &str = include_str!("../admin/app.js");
const STYLE: &str = include_str!("../admin/app.css");
const ICON: &str = include_str!("../admin/favicon.svg");

/// The page's routes. Its files name each other and the API by relative paths, so the router
/// may be nested under a prefix.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/admin",
            get(|| async { file("text/html; charset=utf-8", INDEX) }),
        )
        .route("/admin/", get(|| async { to_page() }))
        .route(
            "/admin/app.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/admin/app.css",
            get(|| async { file("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/admin/favicon.svg",
            get(|| async { file("image/svg+xml", ICON) }),
        )
}

/// One of the page's files, with the page's headers.
fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // The files change only with the crate: revalidated, never stale after an upgrade.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `/admin/` to `/admin`, whose relative paths the page's files use.
fn to_page() -> Response {
    (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "../admin")]).into_response()
}
