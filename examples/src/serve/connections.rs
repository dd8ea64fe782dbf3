//! The server's connections, bounded: each one's request head must arrive within a time (which
//! also ends a keep-alive connection left idle that long), and past a number of connections a
//! new one takes the place of the one that has waited longest without a request under way, so
//! that sockets left open on purpose (half a header, nothing at all) cannot keep a client out.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// How the connections are bounded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most connections open at once.
    pub(crate) connections: usize,
    /// How long a request's head may take to arrive, from when the connection is ready for it:
    /// on a new connection, or on a kept-alive one after its last response.
    pub(crate) header_timeout: Duration,
}

/// The most connections by default: the process's limit on open files (its soft limit), less
/// 128 for everything else the server opens (the store's file, the database's connections, the
/// logs); 16 at least.
pub(crate) fn by_default() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limit into the struct it is given, which lives meanwhile.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let files = match read {
        true => usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX),
        false => 1024,
    };
    files.saturating_sub(128).clamp(16, 65_536)
}

/// The name of the host the server runs on, as the system knows it; `None` if it cannot say.
pub(crate) fn host_name() -> Option<String> {
    let mut name = [0u8; 256];
    // SAFETY: gethostname writes at most the length given into the buffer, which lives meanwhile.
    let read = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } == 0;
    let end = name.iter().position(|byte| *byte == 0)?;
    let name = std::str::from_utf8(&name[..end]).ok()?;
    (read && !name.is_empty()).then(|| name.to_owned())
}

/// How long a stop waits for the connections still open (an event stream never ends by itself)
/// before it closes them.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// How long accepting pauses after an error (out of descriptors, say), rather than spin on it.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// How often failures to accept are logged, at most.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Whether a new connection has room.
enum Room {
    /// Fewer connections than the bound are open.
    Free,
    /// One was told to close to make room.
    Made,
    /// Every one has a request under way.
    None,
}

/// The connections open, each with when it last began to wait for a request and whether a
/// request is under way.
#[derive(Default)]
struct Open {
    connections: Mutex<HashMap<u64, Connection>>,
}

struct Connection {
    /// When it was accepted, or when its last request was answered.
    waiting_since: Instant,
    /// Whether a request is under way, its response not yet begun.
    busy: bool,
    /// Told when the connection must close to make room for a new one.
    close: Arc<Notify>,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Connection>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one more connection when `limit` are open: closes the one that has waited
    /// longest without a request under way.
    fn make_room(&self, limit: usize) -> Room {
        let mut connections = self.lock();
        if connections.len() < limit {
            return Room::Free;
        }
        let oldest = connections
            .iter()
            .filter(|(_, connection)| !connection.busy)
            .min_by_key(|(_, connection)| connection.waiting_since)
            .map(|(id, _)| *id);
        // Gone from the count at once, so that the next new connection finds another.
        match oldest.and_then(|id| connections.remove(&id)) {
            Some(connection) => {
                connection.close.notify_one();
                Room::Made
            }
            None => Room::None,
        }
    }

    fn set_busy(&self, id: u64, busy: bool) {
        if let Some(connection) = self.lock().get_mut(&id) {
            connection.busy = busy;
            if !busy {
                connection.waiting_since = Instant::now();
            }
        }
    }
}

/// Serves `app` on the connections `listener` accepts, within `limits`, until `stop` resolves;
/// then lets the requests under way be answered (waiting [`STOP_WAIT`] at most) and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    let open = Arc::new(Open::default());
    let (stopping, stopped) = watch::channel(false);
    let mut stop = pin!(stop);
    let ids = AtomicU64::new(0);
    // When accepting last failed and was logged: once a minute at most, as a flood of failures
    // (out of descriptors while closed connections are let go) would be a flood of lines.
    let mut warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if warned.is_none_or(|warned| warned.elapsed() >= WARN_EVERY) {
                    tracing::warn!("cannot accept a connection (for a minute at most): {error}");
                    warned = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        match open.make_room(limits.connections) {
            Room::Free => {}
            // The connection told to close lets its socket go on its task: let it run.
            Room::Made => tokio::task::yield_now().await,
            // Every connection has a request under way: this one waits for none of them.
            Room::None => {
                drop(stream);
                continue;
            }
        }
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        open.lock().insert(
            id,
            Connection {
                waiting_since: Instant::now(),
                busy: false,
                close: Arc::clone(&close),
            },
        );
        let _ = stream.set_nodelay(true);
        let connection = Accepted {
            peer,
            id,
            open: Arc::clone(&open),
            close,
            stopped: stopped.clone(),
        };
        tokio::spawn(connection.serve(stream, app.clone(), limits.header_timeout));
    }
    let _ = stopping.send(true);
    // The connections end as their requests are answered: wait for them, boundedly.
    let deadline = Instant::now() + STOP_WAIT;
    while !open.lock().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A connection accepted, and what it answers to.
struct Accepted {
    peer: SocketAddr,
    id: u64,
    open: Arc<Open>,
    /// Told when it must close to make room for a new one.
    close: Arc<Notify>,
    /// True once the server stops.
    stopped: watch::Receiver<bool>,
}

impl Accepted {
    /// Serves HTTP/1 on `stream`: each request goes to `app` with the peer's address (as
    /// `ConnectInfo`, which the rate limits read), and marks the connection busy until its
    /// response begins. Ends when the client closes, when a request head takes longer than
    /// `header_timeout`, when told to make room, or (once its requests are answered) when the
    /// server stops.
    async fn serve(self, stream: tokio::net::TcpStream, app: Router, header_timeout: Duration) {
        let Accepted {
            peer,
            id,
            open,
            close,
            mut stopped,
        } = self;
        let requests = Arc::clone(&open);
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let (app, open) = (app.clone(), Arc::clone(&requests));
            async move {
                open.set_busy(id, true);
                let response: Result<Response<Body>, Infallible> =
                    app.oneshot(request.map(Body::new)).await;
                open.set_busy(id, false);
                response
            }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(true);
        let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
        let stopping = async move {
            let _ = stopped.wait_for(|stopped| *stopped).await;
        };
        tokio::select! {
            _ = connection.as_mut() => {}
            () = close.notified() => {}
            () = stopping => {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(STOP_WAIT, connection).await;
            }
        }
        open.lock().remove(&id);
    }
}
