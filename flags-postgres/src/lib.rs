//! A PostgreSQL [`Store`] for [live flags](flags_core::live): every instance of an application
//! shares one set of overrides, one version and one audit, and a change made through any of them
//! reaches the others within milliseconds, pushed by `LISTEN`/`NOTIFY`.
//!
//! As tokio-postgres hands back a client and the connection future that drives it, the store
//! comes with its [`Driver`], which the application spawns on its own runtime: no thread and no
//! runtime of the store's own.
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
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (store, driver) = PostgresStore::builder("postgres://flags@db.internal/app", "rose")
//!     // Where to start from when the database cannot be reached at start.
//!     .cache("/var/lib/rose/flags.json")
//!     .connect()
//!     .await?;
//! tokio::spawn(driver);
//! let flags = Arc::new(
//!     Live::<Settings>::builder()
//!         .store(store.clone())
//!         .load(Loader::new().env())?,
//! );
//! // Other instances' changes, from now on, until `following` is dropped.
//! let following = store.follow(&flags);
//! # Ok(())
//! # }
//! ```
//!
//! A synchronous program (a command that changes one flag and exits) uses
//! [`blocking::PostgresStore`] instead, which runs the same store on a runtime of its own, on the
//! calling thread, while it waits.
//!
//! # How it works
//!
//! - **Tables**, created by embedded, numbered, idempotent migrations (`flags_migrations` keeps
//!   which ran; one instance at a time migrates): `flags_state` (an application's version),
//!   `flags_overrides` and `flags_audit`. Every row names its application, so applications can
//!   share a database; an instance reads and writes its own application's rows only.
//! - **A change** is one transaction: the new overrides, the version (when another instance
//!   changed it first, nothing is written and the store answers with what it holds, which the
//!   flags take before they try again, or refuse a change made on a version: flags-http's 412),
//!   its audit row, and a `NOTIFY` on the application's channel carrying the new version,
//!   delivered when the transaction commits. It runs on the task that makes the change, on the
//!   store's one connection.
//! - **Following**: the driver listens, reads the overrides after each notification, and hands
//!   them to [`Live::sync`](flags_core::live::Live::sync), which validates them with this
//!   build's rules and swaps them in, or refuses them (logged, audited) and keeps the last good
//!   flags.
//! - **Faults.** The database away at start: the store starts from its [`cache`](Builder::cache)
//!   (the last overrides it read, kept in a local file) or from the environment alone, with a
//!   WARN, unless it [requires the database](Builder::require_database). Lost later: the flags
//!   stay as they are, changes are refused ([`StoreError::Unavailable`]: never applied here
//!   alone), and the driver reconnects with backoff, then reads everything again, since
//!   notifications sent meanwhile are lost. A commit whose answer does not come within
//!   [`answer_within`](Builder::answer_within) is [`StoreError::OutcomeUnknown`] when its
//!   `COMMIT` was sent (it may have landed), and the connection is dropped and made again. A read
//!   every [`reread_every`](Builder::reread_every) catches anything else missed. Each change of
//!   the link is logged once (target `flags_postgres`).
//!
//! # TLS
//!
//! The URL's `sslmode` is honoured as libpq honours it, with rustls: `disable`, `prefer` (the
//! default: encrypted if the server offers it), `require` (encrypted), `verify-ca` (and the
//! server's certificate signed by a root in `sslrootcert`, or `~/.postgresql/root.crt`) and
//! `verify-full` (and naming the host), in a URL's query
//! (`postgres://…/app?sslmode=verify-full&sslrootcert=/etc/ssl/rds-ca.pem`) or among `key=value`
//! pairs. A certificate refused is an error that says why (not signed by a root in the file, not
//! naming the host), never showing the password.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
mod driver;
mod sql;
mod tls;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use flags_core::live::{
    AuditEvent, AuditPage, CommitOutcome, FileStore, Follower, Store, StoreError, StoreFuture,
    StoreState, Stored,
};
use tokio::sync::Notify;
use tokio::time::timeout;

pub use flags_core::live::Driver;

use driver::{Shared, lock};

/// The live flags of one application, in PostgreSQL: see the [crate documentation](crate).
///
/// A handle: clones share one connection and one driver. The driver ends when the last clone is
/// dropped.
///
/// Its work runs on the task that asks for it and on the driver, both on a tokio runtime: its
/// futures must be awaited (or blocked on) where a tokio runtime is entered, else they fail with
/// [`StoreError::Misconfigured`] saying so. A program without a runtime uses
/// [`blocking::PostgresStore`].
#[derive(Clone)]
pub struct PostgresStore {
    handle: Arc<Handle>,
}

/// Stops the driver when the last store handle goes.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

/// How a [`PostgresStore`] is set up before it connects.
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
            answer_within: Duration::from_secs(2),
            reread_every: Duration::from_secs(3),
        }
    }

    /// Hands every version other instances commit to `flags` ([`Live::sync`]), on the driver,
    /// until the returned [`Following`] is dropped; starts by reading the flags again, for what
    /// changed since they were loaded. A later follower replaces an earlier one.
    ///
    /// [`Live::sync`]: flags_core::live::Live::sync
    pub fn follow<F: Follower + 'static>(&self, flags: &Arc<F>) -> Following {
        static FOLLOWERS: AtomicU64 = AtomicU64::new(0);
        let id = FOLLOWERS.fetch_add(1, Ordering::Relaxed);
        let weak: Weak<F> = Arc::downgrade(flags);
        let follower: Weak<dyn Follower> = weak;
        let shared = &self.handle.shared;
        *lock(&shared.follower) = Some((id, follower));
        shared.wake.notify_one();
        Following {
            id,
            shared: Arc::downgrade(shared),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
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

    /// Refuses to start ([`Builder::connect`] fails) when the database cannot be reached, rather
    /// than start from the cache or the environment: with [`StoreError::Misconfigured`] when the
    /// database refuses the store's settings (a password, a database that does not exist, a
    /// grant), which trying again cannot help, else [`StoreError::Unavailable`].
    pub fn require_database(mut self) -> Self {
        self.require_database = true;
        self
    }

    /// How long connecting (and migrating, listening, preparing) may take (default 3 s).
    pub fn connect_within(mut self, timeout: Duration) -> Self {
        self.connect_within = timeout;
        self
    }

    /// How long the database may take to answer a request (a read, a commit) before it fails
    /// (default 2 s, well within an HTTP client's patience): a database that answers too late,
    /// or a network that went silent, is dropped and connected to again, and everything read
    /// again, so that a change it made all the same is seen. A change waiting for the connection
    /// waits no longer than that either. The server ends the store's sessions that sit in a
    /// transaction, or run a statement, for twice as long (a cut instance's transaction would
    /// otherwise hold the row every other instance's change waits for).
    pub fn answer_within(mut self, timeout: Duration) -> Self {
        self.answer_within = timeout;
        self
    }

    /// How often the flags are read again even without a notification (default 3 s): what
    /// catches a change no notification told of, such as a database restored from a backup,
    /// which every instance then follows back within that time.
    pub fn reread_every(mut self, period: Duration) -> Self {
        self.reread_every = period;
        self
    }

    /// Connects (migrating the database the first time, and listening), reads what the store
    /// holds, and returns the store with its [`Driver`], to spawn. When the database cannot be
    /// reached, the store starts from its cache or from nothing (with a WARN), and the driver
    /// keeps trying; with [`Builder::require_database`], that is an error instead. A URL that
    /// cannot be read or a name that cannot name an application is
    /// [`StoreError::Misconfigured`].
    ///
    /// Until the driver runs, the store's changes wait for the database, and no change made
    /// elsewhere is seen; it ends when the last handle of the store is dropped.
    pub async fn connect(self) -> Result<(PostgresStore, Driver), StoreError> {
        let require_database = self.require_database;
        let shared = Arc::new(self.shared()?);
        let first = match driver::establish(&shared, true).await {
            Ok(established) => {
                if let Some(stored) = &established.read.stored {
                    shared.learn(stored);
                    shared.save_cache().await;
                }
                Ok(established)
            }
            Err(error) => Err(start_without_database(&shared, require_database, error)?),
        };
        let driver = Driver::new(driver::run(Arc::clone(&shared), first));
        let store = PostgresStore {
            handle: Arc::new(Handle { shared }),
        };
        Ok((store, driver))
    }

    /// What the store's handles and driver share, from the settings; an error for a URL that
    /// cannot be read or a name that cannot name an application.
    fn shared(self) -> Result<Shared, StoreError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if self.app.is_empty() || self.app.len() > 48 || !self.app.chars().all(valid) {
            return Err(StoreError::misconfigured(format!(
                "{:?} cannot name an application: use 1 to 48 letters, digits, `_` or `-`",
                self.app
            )));
        }
        // The URL may hold a password: its errors say what a URL looks like, never what this
        // one holds (the driver's reasons can quote a character of it).
        let (mut config, tls) = tls::parse(&self.url)?;
        config.connect_timeout(self.connect_within);
        // A server that stops answering mid-request is noticed in seconds, not TCP's minutes.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(5));
        config.keepalives_interval(Duration::from_secs(1));
        config.keepalives_retries(3);
        config.tcp_user_timeout(self.answer_within);
        if config.get_application_name().is_none() {
            config.application_name(format!("flags {}", self.app));
        }
        Ok(Shared {
            channel: format!("flags:{}", self.app),
            address: address(&config),
            app: self.app,
            config,
            tls,
            cache: self
                .cache
                .map(|path| Arc::new(driver::Cache::new(FileStore::new(path)))),
            connect_within: self.connect_within,
            answer_within: self.answer_within,
            reread_every: self.reread_every,
            link: tokio::sync::Mutex::new(None),
            down: Mutex::new(None),
            known: Mutex::new(None),
            follower: Mutex::new(None),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            pending: Mutex::default(),
        })
    }
}

/// Starts from the cache (or from nothing) when the database cannot be used at start, with a
/// WARN, and returns why it cannot, for the driver; an error when the store requires the
/// database.
fn start_without_database(
    shared: &Shared,
    require_database: bool,
    error: StoreError,
) -> Result<String, StoreError> {
    if require_database {
        return Err(required_at_start(error));
    }
    let reason = driver::down_reason(&error);
    *lock(&shared.down) = Some(reason.clone());
    let (address, app) = (&shared.address, &shared.app);
    let Some(cache) = shared.cache.as_ref().map(|cache| &cache.file) else {
        tracing::warn!(
            target: "flags_postgres",
            "cannot use the database at {address} for the flags of {app}, starting from the \
             environment alone, with no override, until it is back: {reason}"
        );
        return Ok(reason);
    };
    let cached = cache.read()?;
    match &cached {
        Some(stored) => tracing::warn!(
            target: "flags_postgres",
            "cannot use the database at {address} for the flags of {app}, starting from the \
             overrides last read from it (version {}, kept in {}) until it is back: {reason}",
            stored.version,
            cache.path().display()
        ),
        None => tracing::warn!(
            target: "flags_postgres",
            "cannot use the database at {address} for the flags of {app}, and the cache {} holds \
             nothing yet, starting from the environment alone until it is back: {reason}",
            cache.path().display()
        ),
    }
    *lock(&shared.known) = cached;
    Ok(reason)
}

/// Where `config` connects, for the log: `host:port/dbname`, each host for several; never the
/// user's password.
fn address(config: &tokio_postgres::Config) -> String {
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(directory) => directory.display().to_string(),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config
            .get_hostaddrs()
            .iter()
            .map(ToString::to_string)
            .collect();
    }
    // One port for every host, or one each; PostgreSQL's when none is given.
    let ports = config.get_ports();
    let port = |index: usize| ports.get(index).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(index, host)| format!("{host}:{}", port(index)))
        .collect();
    // A database that is not named is the user's, as libpq has it.
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default();
    format!("{}/{database}", hosts.join(","))
}

/// The error of a start that requires the database and cannot use it: of the kind of `error`,
/// so that settings the database refuses stay [`StoreError::Misconfigured`] (trying again cannot
/// help), with its cause.
fn required_at_start(error: StoreError) -> StoreError {
    let what = String::from("the database is required at start, and cannot be used");
    match error {
        StoreError::Misconfigured {
            cause: Some(cause), ..
        } => StoreError::Misconfigured {
            what,
            cause: Some(cause),
        },
        error @ StoreError::Misconfigured { .. } => StoreError::Misconfigured {
            what,
            cause: Some(Box::new(error)),
        },
        StoreError::Unavailable {
            cause: Some(cause), ..
        } => StoreError::unavailable(what, cause),
        error => StoreError::unavailable(what, error),
    }
}

/// The error of a store's future polled where no tokio runtime is entered.
fn outside_a_runtime() -> Result<(), StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(StoreError::misconfigured(
            "the PostgreSQL store's work runs on a tokio runtime, and none is entered here: \
             await the change from async code, or use flags_postgres::blocking::PostgresStore",
        )),
    }
}

impl Store for PostgresStore {
    /// What the store holds as last read or committed here (at start, the database's, or the
    /// cache's when it could not be reached).
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        Ok(lock(&self.shared().known).clone())
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        Box::pin(async move {
            outside_a_runtime()?;
            let shared = self.shared();
            let doing = "cannot commit a change of flags";
            let mut held = shared
                .hold_link()
                .await
                .map_err(|no_link| no_link.into_store_error(doing))?;
            let connected = held.link();
            // Another instance's newer version, read while this change waited for the
            // connection: no need to ask the database to refuse it.
            if let Some(known) = lock(&shared.known)
                .as_ref()
                .filter(|known| known.version > previous)
            {
                return Ok(CommitOutcome::Behind(known.clone()));
            }
            let sent = AtomicBool::new(false);
            let commit = sql::Commit {
                previous,
                next,
                event,
                sent: &sent,
            };
            let committing = sql::commit(
                &mut connected.client,
                &connected.statements,
                &shared.app,
                &shared.channel,
                commit,
            );
            match timeout(shared.answer_within, committing).await {
                Ok(Ok(outcome)) => {
                    // Known before the connection is free: a read after it must not look older.
                    // The cache file is written once it is free.
                    if outcome == CommitOutcome::Committed {
                        shared.learn(next);
                    }
                    drop(held);
                    shared.save_cache().await;
                    Ok(outcome)
                }
                Ok(Err(failure)) => {
                    if failure.lost_connection(&connected.client) {
                        held.drop_link("the connection was lost during a commit");
                    }
                    Err(failure.into_store_error(doing))
                }
                Err(_) => {
                    let reason = shared.no_answer();
                    held.drop_link(&reason);
                    Err(match sent.load(Ordering::Acquire) {
                        true => sql::outcome_unknown(reason),
                        false => StoreError::unavailable(doing, reason),
                    })
                }
            }
        })
    }

    /// Writes `event` to the shared audit; while the database cannot be used, keeps it (the last
    /// thousand such) and writes it when the database is back.
    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            outside_a_runtime()?;
            let audit = driver::Audit::Rejected(event.clone());
            self.shared().record(audit).await
        })
    }

    /// Kept once, whichever instances refuse the version; kept for later as
    /// [`record`](Store::record) keeps an event.
    fn record_refused_version<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            outside_a_runtime()?;
            let audit = driver::Audit::RefusedVersion(event.clone());
            self.shared().record(audit).await
        })
    }

    fn state(&self) -> StoreState {
        self.link_state()
    }

    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        Some(Box::pin(self.on_link(
            "cannot read the audit",
            async move |link: &driver::Link, app: &str| {
                sql::audit(&link.client, &link.statements, app, page).await
            },
        )))
    }
}

impl PostgresStore {
    /// Whether the database can be used now: the driver holds a connection.
    fn link_state(&self) -> StoreState {
        match lock(&self.shared().down).clone() {
            None => StoreState::Ready,
            Some(reason) => StoreState::Unreachable { reason },
        }
    }

    /// `work` on the store's connection, within the time the database has to answer; `doing`
    /// says what, for its error.
    async fn on_link<T>(
        &self,
        doing: &str,
        work: impl AsyncFnOnce(&driver::Link, &str) -> Result<T, sql::Failure>,
    ) -> Result<T, StoreError> {
        outside_a_runtime()?;
        let shared = self.shared();
        let mut held = shared
            .hold_link()
            .await
            .map_err(|no_link| no_link.into_store_error(doing))?;
        match timeout(shared.answer_within, work(held.link(), &shared.app)).await {
            Ok(done) => done.map_err(|failure| failure.into_store_error(doing)),
            Err(_) => Err(StoreError::unavailable(doing, shared.no_answer())),
        }
    }
}

/// Hands other instances' versions to live flags ([`PostgresStore::follow`]) until dropped.
pub struct Following {
    id: u64,
    shared: Weak<Shared>,
}

impl Drop for Following {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            // A later follower's stays.
            let mut follower = lock(&shared.follower);
            if follower.as_ref().is_some_and(|(id, _)| *id == self.id) {
                *follower = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address_of(url: &str) -> String {
        address(&url.parse().unwrap())
    }

    #[test]
    fn the_address_logged_names_hosts_ports_and_database_never_the_password() {
        assert_eq!(
            address_of("postgres://flags:hunter2@db.internal:6543/app"),
            "db.internal:6543/app"
        );
        assert_eq!(
            address_of("host=a,b port=1,2 user=flags password=hunter2 dbname=app"),
            "a:1,b:2/app"
        );
        // PostgreSQL's port, and the user's database, when none is given.
        assert_eq!(address_of("host=db user=flags"), "db:5432/flags");
    }
}
