//! A PostgreSQL [`Store`] for [live flags](flags_core::live): every instance of an application
//! shares one set of overrides, one version and one audit, and a change made through any of them
//! reaches the others within milliseconds, pushed by `LISTEN`/`NOTIFY`.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader};
//! use flags_postgres::PostgresStore;
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     #[flag(default = false, public = "whatsapp")]
//!     whatsapp_enabled: bool,
//! }
//!
//! let store = PostgresStore::builder("postgres://flags@db.internal/app", "rose")
//!     // Where to start from when the database cannot be reached at start.
//!     .cache("/var/lib/rose/flags.json")
//!     .start()?;
//! let flags = Arc::new(
//!     Live::<Settings>::builder()
//!         .store(store.clone())
//!         .load(Loader::new().env())?,
//! );
//! // Other instances' changes, from now on, until `following` is dropped.
//! let following = store.follow(&flags);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it works
//!
//! - **Tables**, created by embedded, numbered, idempotent migrations (`flags_migrations` keeps
//!   which ran; one instance at a time migrates): `flags_state` (an application's version),
//!   `flags_overrides` and `flags_audit`. Every row names its application, so applications can
//!   share a database; an instance reads and writes its own application's rows only.
//! - **A change** is one transaction: the new overrides, the version (refused with
//!   [`StoreError::Conflict`] when another instance changed it first, which flags-http turns into
//!   412), its audit row, and a `NOTIFY` on the application's channel carrying the new version,
//!   delivered when the transaction commits.
//! - **Following**: the store's worker listens, reads the overrides after each notification, and
//!   hands them to [`Live::sync`], which validates them with this build's rules and swaps them
//!   in, or refuses them (logged, audited) and keeps the last good flags.
//! - **Faults.** The database away at start: the store starts from its [`cache`](Builder::cache)
//!   (the last overrides it read, kept in a local file) or from the environment alone, with a
//!   WARN, unless it [requires the database](Builder::require_database). Lost later: the flags
//!   stay as they are, changes are refused ([`StoreError::Unavailable`]: never applied here
//!   alone), and the worker reconnects with backoff, then reads everything again, since
//!   notifications sent meanwhile are lost. A read every [`reread_every`](Builder::reread_every)
//!   catches anything else missed. Each change of the link is logged once (target
//!   `flags_postgres`).
//!
//! The store's work runs on a thread of its own with its own connection, so the store's methods
//! (which [`Live`] calls as it changes flags) may be called from any thread, async or not; they
//! block until the database answers.
//!
//! Connections are not encrypted (`NoTls`): for a database on the same host or network.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod sql;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flags_core::FeatureFlags;
use flags_core::live::{AuditEvent, FileStore, Live, Store, StoreError, Stored};
use tokio::sync::mpsc::UnboundedSender;

use worker::{Asked, FollowerSlot, Request};

/// The live flags of one application, in PostgreSQL: see the [crate documentation](crate).
///
/// A handle: clones share one worker and one connection. The worker stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    app: String,
    requests: Option<UnboundedSender<Asked>>,
    follower: FollowerSlot,
    cache: Option<FileStore>,
    require_database: bool,
    /// Whether the first read was made: only that one, the start's, falls back to the cache.
    started: AtomicBool,
    /// How long a caller waits: the worker answers every request within `answer_within` of it
    /// being asked, the time to connect aside.
    wait_within: Duration,
    worker: Option<JoinHandle<()>>,
}

/// How a [`PostgresStore`] is set up before it starts.
pub struct Builder {
    url: String,
    app: String,
    cache: Option<PathBuf>,
    require_database: bool,
    connect_within: Duration,
    answer_within: Duration,
    reread_every: Duration,
}

impl PostgresStore {
    /// A store of the flags of `app` (letters, digits, `_` and `-`, at most 48) in the database
    /// at `url` (`postgres://user:password@host:port/database`, or `host=... user=...`).
    pub fn builder(url: impl Into<String>, app: impl Into<String>) -> Builder {
        Builder {
            url: url.into(),
            app: app.into(),
            cache: None,
            require_database: false,
            connect_within: Duration::from_secs(3),
            answer_within: Duration::from_secs(10),
            reread_every: Duration::from_secs(30),
        }
    }

    /// Hands every version other instances commit to `flags` ([`Live::sync`]), on a thread of
    /// its own, until the returned [`Following`] is dropped; starts by reading the flags again,
    /// for what changed since they were loaded.
    pub fn follow<S>(&self, flags: &Arc<Live<S>>) -> Following
    where
        S: FeatureFlags + Send + Sync + 'static,
    {
        static FOLLOWERS: AtomicU64 = AtomicU64::new(0);
        let id = FOLLOWERS.fetch_add(1, Ordering::Relaxed);
        let (sender, received) = mpsc::channel::<Stored>();
        let flags: Weak<Live<S>> = Arc::downgrade(flags);
        let thread = std::thread::Builder::new()
            .name(format!("flags-postgres-follow-{}", self.inner.app))
            .spawn(move || follow(&flags, &received));
        let thread = match thread {
            Ok(thread) => thread,
            Err(error) => {
                tracing::error!(target: "flags_postgres", "cannot follow the flags: {error}");
                return Following {
                    id,
                    slot: None,
                    thread: None,
                };
            }
        };
        // A later follower replaces an earlier one, which stops.
        *lock(&self.inner.follower) = Some((id, sender));
        if let Some(requests) = &self.inner.requests {
            let _ = requests.send(Asked {
                at: Instant::now(),
                request: Request::Reread,
            });
        }
        Following {
            id,
            slot: Some(Arc::clone(&self.inner.follower)),
            thread: Some(thread),
        }
    }

    /// Sends `request` to the worker and waits for its answer.
    fn call<T>(&self, request: impl FnOnce(worker::Reply<T>) -> Request) -> Result<T, StoreError> {
        let stopped = || StoreError::Unavailable(String::from("the store's worker has stopped"));
        let (reply, answer) = mpsc::sync_channel(1);
        let asked = Asked {
            at: Instant::now(),
            request: request(reply),
        };
        let sent = self
            .inner
            .requests
            .as_ref()
            .is_some_and(|requests| requests.send(asked).is_ok());
        if !sent {
            return Err(stopped());
        }
        match answer.recv_timeout(self.inner.wait_within) {
            Ok(result) => result,
            Err(RecvTimeoutError::Disconnected) => Err(stopped()),
            Err(RecvTimeoutError::Timeout) => Err(StoreError::Unavailable(format!(
                "the store's worker did not answer within {} s",
                self.inner.wait_within.as_secs_f32()
            ))),
        }
    }
}

impl Builder {
    /// Keeps the last overrides read from the database in the file at `path`, and starts from
    /// them when the database cannot be reached at start. Without a cache, such a start has the
    /// environment's values alone until the database is back.
    pub fn cache(mut self, path: impl Into<PathBuf>) -> Self {
        self.cache = Some(path.into());
        self
    }

    /// Refuses to start (the first read fails) when the database cannot be reached, rather than
    /// start from the cache or the environment.
    pub fn require_database(mut self) -> Self {
        self.require_database = true;
        self
    }

    /// How long a connection attempt may take (default 3 s).
    pub fn connect_within(mut self, timeout: Duration) -> Self {
        self.connect_within = timeout;
        self
    }

    /// How long a request of the store may wait for its turn, and then for the database,
    /// before it fails (default 10 s each). A request whose turn comes too late is not made; a
    /// database that answers too late is dropped and connected to again, and everything read
    /// again, so that a change it made all the same is seen.
    pub fn answer_within(mut self, timeout: Duration) -> Self {
        self.answer_within = timeout;
        self
    }

    /// How often the flags are read again even without a notification (default 30 s).
    pub fn reread_every(mut self, period: Duration) -> Self {
        self.reread_every = period;
        self
    }

    /// Starts the store's worker, which connects, migrates and listens in the background; an
    /// error for a URL that cannot be read or a name that cannot name an application.
    pub fn start(self) -> Result<PostgresStore, StoreError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if self.app.is_empty() || self.app.len() > 48 || !self.app.chars().all(valid) {
            return Err(StoreError::Unavailable(format!(
                "{:?} cannot name an application: use 1 to 48 letters, digits, `_` or `-`",
                self.app
            )));
        }
        // The URL may hold a password: what a URL looks like, never what this one holds (the
        // driver's reasons can quote a character of it).
        let mut config: tokio_postgres::Config = self.url.parse().map_err(|_| {
            StoreError::Unavailable(String::from(
                "the database URL cannot be read: write it as \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE, or as key=value pairs \
                 (host=... user=... dbname=...)",
            ))
        })?;
        config.connect_timeout(self.connect_within);
        // A server that stops answering mid-request is noticed in seconds, not TCP's minutes.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
        config.tcp_user_timeout(self.answer_within);
        if config.get_application_name().is_none() {
            config.application_name(format!("flags {}", self.app));
        }
        let follower: FollowerSlot = Arc::default();
        let settings = worker::Settings {
            config,
            app: self.app.clone(),
            channel: format!("flags:{}", self.app),
            cache: self.cache.clone().map(FileStore::new),
            reread_every: self.reread_every,
            connect_within: self.connect_within,
            answer_within: self.answer_within,
            follower: Arc::clone(&follower),
        };
        let (requests, received) = tokio::sync::mpsc::unbounded_channel();
        let worker = std::thread::Builder::new()
            .name(format!("flags-postgres-{}", self.app))
            .spawn(move || worker::run(settings, received))
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot start the store's worker: {error}"))
            })?;
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                app: self.app,
                requests: Some(requests),
                follower,
                cache: self.cache.map(FileStore::new),
                require_database: self.require_database,
                started: AtomicBool::new(false),
                wait_within: self.connect_within + 2 * self.answer_within,
                worker: Some(worker),
            }),
        })
    }
}

impl Store for PostgresStore {
    /// The database's overrides; when it cannot be reached, the cache's (or none), with a WARN,
    /// unless the store requires the database.
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        let first = !self.inner.started.swap(true, Ordering::Relaxed);
        let error = match self.call(Request::Read) {
            Ok(stored) => return Ok(stored),
            Err(error @ StoreError::Unavailable(_)) if first && !self.inner.require_database => {
                error
            }
            Err(error) => return Err(error),
        };
        let Some(cache) = &self.inner.cache else {
            tracing::warn!(
                target: "flags_postgres",
                "{error}: starting from the environment alone, with no override, until the \
                 database is back"
            );
            return Ok(None);
        };
        let cached = cache.read()?;
        match &cached {
            Some(stored) => tracing::warn!(
                target: "flags_postgres",
                "{error}: starting from the overrides last read from it (version {}, kept in {}) \
                 until it is back",
                stored.version,
                cache.path().display()
            ),
            None => tracing::warn!(
                target: "flags_postgres",
                "{error}, and its cache {} holds nothing yet: starting from the environment \
                 alone until the database is back",
                cache.path().display()
            ),
        }
        Ok(cached)
    }

    fn commit(&self, previous: u64, next: &Stored, event: &AuditEvent) -> Result<(), StoreError> {
        let (next, event) = (next.clone(), event.clone());
        self.call(|reply| Request::Commit {
            previous,
            next,
            event,
            reply,
        })
    }

    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let event = event.clone();
        self.call(|reply| Request::Record(event, reply))
    }

    fn audit(&self, limit: usize) -> Option<Result<Vec<AuditEvent>, StoreError>> {
        Some(self.call(|reply| Request::Audit(limit, reply)))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel stops the worker, which ends its connection.
        drop(self.requests.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Hands other instances' versions to live flags ([`PostgresStore::follow`]) until dropped.
pub struct Following {
    id: u64,
    slot: Option<FollowerSlot>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Following {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            // Dropping the sender ends the thread's loop; a later follower's stays.
            let mut slot = lock(slot);
            if slot.as_ref().is_some_and(|(id, _)| *id == self.id) {
                drop(slot.take());
            }
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The follower's loop: each version read, to `sync`, until the store stops sending or the flags
/// are gone.
fn follow<S: FeatureFlags>(flags: &Weak<Live<S>>, received: &Receiver<Stored>) {
    while let Ok(mut stored) = received.recv() {
        // Read while the last was being taken: only the newest matters.
        while let Ok(newer) = received.try_recv() {
            stored = newer;
        }
        let Some(flags) = flags.upgrade() else {
            return;
        };
        // A version that does not load here is logged and audited by `sync`.
        let _ = flags.sync(stored);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
