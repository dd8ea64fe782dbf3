//! `GET /metrics`: what the process records through the `metrics` facade, as Prometheus text. The
//! flags' values, version and changes (`flags_value`, `flags_version`, `flags_changes_total`),
//! rollout decisions (`flags_exposures_total`), and each response the server gives
//! (`http_requests_total`).

use std::cell::RefCell;
use std::collections::HashMap;

use axum::extract::{MatchedPath, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use metrics::Counter;
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

/// The methods counted by name; any other counts as `other`, so that a client inventing methods
/// cannot add series.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// Installs the process's recorder: from now on, what the `metrics` facade records is kept for
/// `/metrics` to render.
pub(crate) fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new().install_recorder()
}

/// `GET /metrics`, rendering `metrics`' records.
pub(crate) fn route(metrics: PrometheusHandle) -> MethodRouter {
    get(render).with_state(metrics)
}

/// Metrics
///
/// Every metric the server records, in Prometheus text: the flags' values (`flags_value{flag}`,
/// booleans and numbers), their version (`flags_version`), changes by outcome
/// (`flags_changes_total{outcome}`), rollout decisions (`flags_exposures_total`), and responses
/// (`http_requests_total{method,route,status}`, `route` being the route's pattern).
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "server",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The metrics, in Prometheus text format 0.0.4",
            content_type = "text/plain", body = String),
        (status = 401, description = "No token: the metrics are the admin's"),
        (status = 403, description = "A wrong token, or no token configured"),
        (status = 429, description = "Too many wrong tokens from this address"),
    ),
)]
pub(crate) async fn render(State(metrics): State<PrometheusHandle>) -> Response {
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(CONTENT_TYPE, content_type)], metrics.render()).into_response()
}

/// Counts each response in `http_requests_total{method, route, status}`. `route` is the pattern
/// the request matched (`/api/admin/feature-flags/{variable}`), never its path, and `unmatched`
/// when no route has the path: the series stay few whatever paths clients send.
pub(crate) fn count(method: &Method, route: Option<&MatchedPath>, status: StatusCode) {
    let method = METHODS
        .iter()
        .position(|known| *known == method.as_str())
        .unwrap_or(METHODS.len());
    let status = status.as_u16();
    let route = route.map_or("unmatched", MatchedPath::as_str);
    COUNTERS.with(|counters| {
        let mut counters = counters.borrow_mut();
        let by_route = counters.entry((method, status)).or_default();
        match by_route.get(route) {
            Some(counter) => counter.increment(1),
            None => {
                let counter = metrics::counter!(
                    "http_requests_total",
                    "method" => METHODS.get(method).copied().unwrap_or("other"),
                    "route" => route.to_owned(),
                    "status" => status.to_string()
                );
                counter.increment(1);
                by_route.insert(route.to_owned(), counter);
            }
        }
    });
}

thread_local! {
    /// Each series' counter on this thread, by method and status, then route: a response is
    /// counted without building its series' key again. As few as the series: the methods are
    /// counted by name or as `other`, the routes are the router's patterns, the statuses three
    /// digits.
    static COUNTERS: RefCell<HashMap<(usize, u16), HashMap<String, Counter>>> =
        RefCell::new(HashMap::new());
}
