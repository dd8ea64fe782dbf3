//! `GET /api/feature-flags/events`: a server-sent event each time the flags change, for OFREP
//! clients (the bulk evaluation advertises it in `eventStreams`) and for the admin page, so
//! that a change reaches them at once instead of at their next poll.
//!
//! An event only says that the flags changed, and to which tag, as OFREP's `refetchEvaluation`:
//! the client reads what it may see from the routes it reads anyway. So the stream needs no
//! token, and shows nothing a public `ETag` does not. Streams are bounded in number (429 beyond
//! it) and end after a while without a change (the client's `EventSource` connects again).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use flags_core::FeatureFlags;
use flags_core::live::{Live, Subscription};
use tokio::sync::watch;

use crate::Shared;
use crate::tag::Tag;

/// The stream's path.
pub(crate) const PATH: &str = "/api/feature-flags/events";

/// How long an idle stream's keep-alive comments are apart: a connection a client left is
/// found out when one cannot be written.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The open streams, and the flags' tag they follow.
pub(crate) struct Events {
    tags: watch::Receiver<Tag>,
    open: AtomicUsize,
    max: usize,
    idle: Duration,
    /// Sends each new tag while the router lives.
    _subscription: Subscription,
}

impl Events {
    /// Follows the tag of `flags`, for at most `max` streams at once, each ended after `idle`
    /// without a change.
    pub(crate) fn new<S>(flags: &Live<S>, max: usize, idle: Duration) -> Self
    where
        S: FeatureFlags + Send + Sync + 'static,
    {
        let (sender, tags) = watch::channel(Tag::of(&flags.snapshot()));
        let subscription = flags.subscribe(move |snapshot| {
            sender.send_replace(Tag::of(snapshot));
        });
        Self {
            tags,
            open: AtomicUsize::new(0),
            max,
            idle,
            _subscription: subscription,
        }
    }
}

/// One open stream, counted until it is dropped.
struct Open(Arc<Events>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Changes of the flags
///
/// Server-sent events, one each time the flags change: OFREP's `refetchEvaluation`, with the
/// flags' tag as `etag` and as the event's id; the current tag first, unless `Last-Event-ID`
/// names it. The stream ends after a while without a change; the client connects again.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api/feature-flags/events",
    operation_id = "flag_events",
    tag = "public",
    params(("Last-Event-ID" = Option<String>, Header, description = "The last event's id: its tag is not sent again")),
    responses(
        (status = 200, description = "`text/event-stream`: `data: {\"type\": \"refetchEvaluation\", \"etag\": \"\\\"7\\\"\"}`",
            content_type = "text/event-stream", body = String),
        (status = 429, description = "Too many streams are open: poll, or connect again later",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(crate) async fn stream<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    request: Request,
) -> Response {
    let events = Arc::clone(&shared.events);
    if events.open.fetch_add(1, Ordering::Relaxed) >= events.max {
        events.open.fetch_sub(1, Ordering::Relaxed);
        let body = axum::Json(serde_json::json!({
            "message": "too many open event streams: poll the flags, or connect again later",
        }));
        let headers = [(RETRY_AFTER, HeaderValue::from_static("30"))];
        return (StatusCode::TOO_MANY_REQUESTS, headers, body).into_response();
    }
    let open = Open(events);
    let mut tags = open.0.tags.clone();
    let current = *tags.borrow_and_update();
    let known = request
        .headers()
        .get("last-event-id")
        .and_then(|id| id.to_str().ok())
        .is_some_and(|id| id == id_of(current));
    let first = (!known).then_some(current);
    let idle = open.0.idle;
    let stream = futures_util::stream::unfold(
        (open, tags, first),
        move |(open, mut tags, first)| async move {
            let tag = match first {
                Some(tag) => tag,
                None => match tokio::time::timeout(idle, tags.changed()).await {
                    Ok(Ok(())) => *tags.borrow_and_update(),
                    // Idle for long enough, or the flags are gone: the stream ends.
                    Ok(Err(_)) | Err(_) => return None,
                },
            };
            Some((Ok::<_, Infallible>(event(tag)), (open, tags, None)))
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An event's id: the tag without its quotes (`7`, `7-00c0ffee00c0ffee`).
fn id_of(tag: Tag) -> String {
    let header = tag.header();
    header
        .to_str()
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

/// OFREP's `refetchEvaluation`, with the flags' tag as `etag`.
fn event(tag: Tag) -> Event {
    let etag = tag.header();
    let data = serde_json::json!({
        "type": "refetchEvaluation",
        "etag": etag.to_str().unwrap_or_default(),
    });
    Event::default()
        .id(id_of(tag))
        .retry(Duration::from_secs(1))
        .data(data.to_string())
}
