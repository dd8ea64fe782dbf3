//! The store's [`Driver`]: the future the application spawns on its runtime, which keeps the
//! connection to the database (connecting again with backoff when it is lost), listens for other
//! instances' changes, reads the flags again after a notification, a reconnection or a period,
//! and hands each newer version to the flags that follow the store.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use flags_core::live::{AuditEvent, FileStore, Follower, StoreError, Stored};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, timeout};
use tokio_postgres::{AsyncMessage, Client, Config, Connection, Socket};

use crate::sql::{self, Statements};

/// The first wait before reconnecting, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// A connection to the database, as tokio-postgres makes it: over TLS, or not, as `sslmode` says.
pub(crate) type DatabaseConnection = Connection<Socket, crate::tls::TlsStream>;

/// What the store's handles and its driver share.
pub(crate) struct Shared {
    pub(crate) app: String,
    /// The `LISTEN` channel of the application: `flags:APP`.
    pub(crate) channel: String,
    pub(crate) config: Config,
    /// Where the store connects, for its log: `host:port/dbname`, never the user's password.
    pub(crate) address: String,
    pub(crate) tls: crate::tls::Tls,
    pub(crate) cache: Option<Arc<Cache>>,
    pub(crate) connect_within: Duration,
    pub(crate) answer_within: Duration,
    pub(crate) reread_every: Duration,
    /// The connection in use, while there is one: a commit holds it for its transaction.
    pub(crate) link: tokio::sync::Mutex<Option<Link>>,
    /// Why the database cannot be used, while it cannot.
    pub(crate) down: Mutex<Option<String>>,
    /// What the store holds, as last read or committed here: what [`Store::read`] answers.
    ///
    /// [`Store::read`]: flags_core::live::Store::read
    pub(crate) known: Mutex<Option<Stored>>,
    /// The flags that follow the store, by the number of the [`Following`] that holds them.
    ///
    /// [`Following`]: crate::Following
    pub(crate) follower: Mutex<Option<(u64, Weak<dyn Follower>)>>,
    /// Wakes the driver: to read the flags again (a new follower), or to connect again (a commit
    /// found the connection broken, and dropped it).
    pub(crate) wake: Notify,
    /// Set, and the driver woken, when the last handle of the store is dropped.
    pub(crate) stopped: AtomicBool,
    /// Audit events of changes refused while the database could not be used: written when it
    /// is back, oldest first.
    pub(crate) pending: Mutex<Pending>,
}

/// The file the store starts from when the database cannot be used at start: the last version
/// read or committed.
pub(crate) struct Cache {
    pub(crate) file: FileStore,
    /// The version to write next, set as it is kept in memory; `None` once written.
    next: Mutex<Option<Stored>>,
    /// Held from taking the version to write to renaming the file, so that writes end in the
    /// order their versions were kept.
    writing: Mutex<()>,
}

impl Cache {
    pub(crate) fn new(file: FileStore) -> Self {
        Self {
            file,
            next: Mutex::new(None),
            writing: Mutex::new(()),
        }
    }

    /// Writes the version kept last, if another write did not already: blocks on the disk.
    fn write_next(&self) -> Result<(), StoreError> {
        let _writing = lock(&self.writing);
        let next = lock(&self.next).take();
        match next {
            Some(stored) => self.file.replace(&stored),
            None => Ok(()),
        }
    }
}

/// The audit events waiting for the database, at most [`Pending::LIMIT`].
#[derive(Default)]
pub(crate) struct Pending {
    /// Oldest first, each with its number, so that the one written can be told from one that
    /// took its place.
    events: VecDeque<(u64, Audit)>,
    /// The number of the next event kept.
    next: u64,
    /// How many were dropped, the oldest first, since the database was last written to.
    pub(crate) dropped: u64,
}

impl Pending {
    /// More than a long outage's refusals, as few as memory allows.
    pub(crate) const LIMIT: usize = 1000;

    pub(crate) fn push(&mut self, event: Audit) {
        if self.events.len() == Self::LIMIT {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back((self.next, event));
        self.next += 1;
    }

    /// The oldest event, with its number: a copy, written while others are kept.
    fn oldest(&self) -> Option<(u64, Audit)> {
        self.events.front().cloned()
    }

    /// Forgets the event numbered `number`, written, unless a full queue dropped it meanwhile.
    fn forget(&mut self, number: u64) {
        if self
            .events
            .front()
            .is_some_and(|(oldest, _)| *oldest == number)
        {
            self.events.pop_front();
        }
    }
}

/// An audit event for the shared audit, as it is to be kept.
#[derive(Clone)]
pub(crate) enum Audit {
    /// A change refused here: kept as it is.
    Rejected(AuditEvent),
    /// A version of the store this build refused: kept once, whichever instances refuse it.
    RefusedVersion(AuditEvent),
}

impl Audit {
    async fn write(&self, link: &mut Link, app: &str) -> Result<(), sql::Failure> {
        match self {
            Self::Rejected(event) => sql::record(&link.client, &link.statements, app, event).await,
            Self::RefusedVersion(event) => {
                sql::record_once(&mut link.client, &link.statements, app, event).await
            }
        }
    }
}

/// Why a request cannot have the store's connection.
pub(crate) enum NoLink {
    /// An earlier request still held it when this one had waited `answer_within`.
    Busy,
    /// There is none, for this reason.
    Down(String),
}

impl NoLink {
    /// The error of a request, `doing` what, that cannot have the connection: retryable.
    pub(crate) fn into_store_error(self, doing: &str) -> StoreError {
        match self {
            Self::Busy => {
                StoreError::unavailable(doing, "an earlier request still holds the connection")
            }
            Self::Down(reason) => StoreError::unavailable(doing, reason),
        }
    }
}

/// The store's connection, held for one request.
pub(crate) struct Held<'a> {
    shared: &'a Shared,
    /// Holds a connection: [`Shared::hold_link`] makes none without one, and only
    /// [`Held::drop_link`], which ends the hold, takes it away.
    guard: tokio::sync::MutexGuard<'a, Option<Link>>,
}

impl Held<'_> {
    pub(crate) fn link(&mut self) -> &mut Link {
        match self.guard.as_mut() {
            Some(link) => link,
            None => unreachable!("a held connection is taken away only as its hold ends"),
        }
    }

    /// Drops the connection (a commit that did not hear back leaves it in a state no one can
    /// know), so that the driver connects again and reads everything.
    pub(crate) fn drop_link(mut self, reason: &str) {
        *self.guard = None;
        *lock(&self.shared.down) = Some(reason.to_owned());
        self.shared.wake.notify_one();
    }
}

/// An open connection's client, and its prepared statements.
pub(crate) struct Link {
    pub(crate) client: Client,
    pub(crate) statements: Statements,
}

impl Shared {
    /// The version last read or committed here.
    pub(crate) fn known_version(&self) -> u64 {
        lock(&self.known)
            .as_ref()
            .map_or(0, |stored| stored.version)
    }

    /// Keeps `stored` as what the store holds, when it is newer than what was. The cache file
    /// follows with [`Shared::save_cache`].
    pub(crate) fn learn(&self, stored: &Stored) {
        self.keep(stored, |known| known.version < stored.version);
    }

    /// Keeps `stored` as what the store holds although it is older than what was known: the
    /// store went back. The cache file follows with [`Shared::save_cache`].
    pub(crate) fn forget_to(&self, stored: &Stored) {
        self.keep(stored, |_| true);
    }

    /// Keeps `stored` in memory when `replaces` what was known (or nothing was), and as the next
    /// content of the cache file: both under the lock of `known`, so that the file cannot be
    /// left with an older version than memory when two threads keep versions at once.
    fn keep(&self, stored: &Stored, replaces: impl FnOnce(&Stored) -> bool) {
        let mut known = lock(&self.known);
        if known.as_ref().is_some_and(|known| !replaces(known)) {
            return;
        }
        *known = Some(stored.clone());
        if let Some(cache) = &self.cache {
            *lock(&cache.next) = Some(stored.clone());
        }
    }

    /// Writes what was last kept to the cache file, if not written yet, on tokio's threads for
    /// blocking work: the write waits for the disk (an fsync of the file and of its directory),
    /// which no runtime thread should, nor anyone waiting for the connection. Called with no lock
    /// held.
    pub(crate) async fn save_cache(&self) {
        let Some(cache) = &self.cache else {
            return;
        };
        let cache = Arc::clone(cache);
        let written = tokio::task::spawn_blocking(move || cache.write_next()).await;
        let error = match written {
            Ok(Ok(())) => return,
            Ok(Err(error)) => error.to_string(),
            Err(failed) => format!("the cache file was not written: {failed}"),
        };
        tracing::warn!(
            target: "flags_postgres",
            "the cache of the flags of {} misses their last version: {error}",
            self.app
        );
    }

    /// Why a request failed that the database did not answer in time.
    pub(crate) fn no_answer(&self) -> String {
        no_answer(self.answer_within, "answer_within")
    }

    /// Why the database cannot be used now.
    pub(crate) fn down_reason(&self) -> String {
        lock(&self.down)
            .clone()
            .unwrap_or_else(|| String::from("the store has no connection yet"))
    }

    /// The connection, for one request, once the requests before it free it: waited for no
    /// longer than `answer_within`, as long as the database may take to answer (a request it
    /// holds up holds the connection).
    pub(crate) async fn hold_link(&self) -> Result<Held<'_>, NoLink> {
        let Ok(guard) = timeout(self.answer_within, self.link.lock()).await else {
            return Err(NoLink::Busy);
        };
        if guard.is_none() {
            return Err(NoLink::Down(self.down_reason()));
        }
        Ok(Held {
            shared: self,
            guard,
        })
    }

    /// Writes `audit` to the shared audit; while the database cannot be used (no connection,
    /// one held or lost, no answer), keeps it, and wakes the driver, which writes it as soon as
    /// it has the connection (at once when it was only busy, else once connected again). An
    /// error only when the database refuses it for good.
    pub(crate) async fn record(&self, audit: Audit) -> Result<(), StoreError> {
        let failed = match self.hold_link().await {
            Ok(mut held) => {
                let link = held.link();
                match timeout(self.answer_within, audit.write(link, &self.app)).await {
                    Ok(Ok(())) => return Ok(()),
                    // The database refused this event (a text it cannot hold): so it would again.
                    Ok(Err(failure)) if !failure.lost_connection(&link.client) => {
                        return Err(failure.into_store_error(RECORDING));
                    }
                    Ok(Err(failure)) => failure.into_store_error(RECORDING),
                    Err(_) => StoreError::unavailable(RECORDING, self.no_answer()),
                }
            }
            Err(no_link) => no_link.into_store_error(RECORDING),
        };
        match failed.is_retryable() {
            true => {
                lock(&self.pending).push(audit);
                self.wake.notify_one();
                Ok(())
            }
            false => Err(failed),
        }
    }

    fn stop_requested(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// A connection made ready (migrated, listening, statements prepared), with the versions its
/// notifications carry, and the flags as it read them once it listened.
pub(crate) struct Established {
    connection: DatabaseConnection,
    notes: UnboundedReceiver<u64>,
    sender: UnboundedSender<u64>,
    pub(crate) read: Read,
}

/// The flags as read, with the version known here when they were: commits are known before they
/// free the connection, which a read holds, so a read older than that is a store that went back.
pub(crate) struct Read {
    pub(crate) stored: Option<Stored>,
    known: u64,
}

/// Connects, gets the connection ready (migrations the first time, `LISTEN`, statements), and
/// reads what the store holds. Its link goes into `shared`; `Err` says why not: a refusal of the
/// store's settings (a password, a database, a grant) is [`StoreError::Misconfigured`], anything
/// else [`StoreError::Unavailable`].
pub(crate) async fn establish(shared: &Shared, migrate: bool) -> Result<Established, StoreError> {
    let connecting = async {
        let (mut client, mut connection) = shared
            .config
            .connect(shared.tls.connector.clone())
            .await
            .map_err(|error| connecting_error(shared, &error))?;
        let (sender, notes) = unbounded_channel();
        let setup = async {
            if migrate {
                sql::migrate(&mut client).await?;
            }
            // The channel is the application's, from a name checked to need no escaping. The
            // server ends this session's transactions and statements that last twice as long as
            // the store waits for them: a cut instance's would hold the state's row.
            let server_limit = 2 * shared.answer_within.as_millis();
            client
                .batch_execute(&format!(
                    "LISTEN \"{}\"; SET statement_timeout = {server_limit}; \
                     SET idle_in_transaction_session_timeout = {server_limit}",
                    shared.channel
                ))
                .await
                .map_err(sql::Failure::from)?;
            let statements = Statements::prepare(&client).await?;
            // No commit can use this connection before it is published, below.
            let known = shared.known_version();
            let stored = sql::read(&client, &statements, &shared.app).await?;
            Ok::<_, sql::Failure>((statements, Read { stored, known }))
        };
        // The connection is driven while it is set up, or nothing would be answered.
        let (statements, read) = tokio::select! {
            ready = setup => ready.map_err(|failure| failure.into_store_error(GETTING_READY))?,
            lost = pump(&mut connection, &sender) => {
                return Err(StoreError::unavailable(GETTING_READY, lost));
            }
        };
        *shared.link.lock().await = Some(Link { client, statements });
        Ok(Established {
            connection,
            notes,
            sender,
            read,
        })
    };
    match timeout(shared.connect_within, connecting).await {
        Ok(established) => established,
        Err(_) => Err(StoreError::unavailable(
            CONNECTING,
            no_answer(shared.connect_within, "connect_within"),
        )),
    }
}

/// Why a request failed that the database did not answer within `within`, naming the builder's
/// `setting` that sets it.
fn no_answer(within: Duration, setting: &str) -> String {
    format!("no answer within {} s ({setting})", within.as_secs_f32())
}

/// What recording an audit event says when it fails.
const RECORDING: &str = "cannot record an audit event";

/// What [`establish`] was doing when it failed, for its error.
const CONNECTING: &str = "cannot connect to the database";
const GETTING_READY: &str = "cannot get the database ready";

/// Why a connection could not be made: a TLS handshake's failure in words an operator can act
/// on (retryable: the server may be given another certificate), else the database's.
fn connecting_error(shared: &Shared, error: &tokio_postgres::Error) -> StoreError {
    let host = match shared.config.get_hosts() {
        [tokio_postgres::config::Host::Tcp(host)] => Some(host.as_str()),
        _ => None,
    };
    match shared.tls.describe(error, host) {
        Some(refused) => StoreError::unavailable(CONNECTING, refused),
        None => sql::database_error(CONNECTING, error),
    }
}

/// Why the database cannot be used, in one line, for the store's state and its log. A refusal of
/// the store's settings says so: waiting alone does not help, someone has to fix them.
pub(crate) fn down_reason(error: &StoreError) -> String {
    match error {
        StoreError::Misconfigured { .. } => format!(
            "the database refuses the store's settings, which must be fixed (the URL's user, \
             password or database, or the user's grants): {error}"
        ),
        error => error.to_string(),
    }
}

/// The link to the database as last logged, so that each change of it is logged once.
enum LinkLog {
    Starting,
    Up,
    /// Down, for this reason.
    Down(String),
}

/// Keeps the store connected and following, until the store is dropped.
/// What the store's driver runs: for a store that connected at start (`Ok`), or could not, for
/// the reason the start logged (`Err`).
pub(crate) async fn run(shared: Arc<Shared>, first: Result<Established, String>) {
    let mut migrated = first.is_ok();
    let (mut log, mut next) = match first {
        Ok(established) => (LinkLog::Starting, Some(established)),
        // The start said why already: the first retry waits its backoff, as every later one.
        Err(reason) => (LinkLog::Down(reason), None),
    };
    let mut backoff = FIRST_BACKOFF;
    // A connection that served and was lost (a commit that did not hear back drops it) is made
    // again at once; a connection that cannot be made is tried again after a backoff.
    let mut at_once = false;
    loop {
        let reason = match next.take() {
            Some(established) => {
                migrated = true;
                backoff = FIRST_BACKOFF;
                *lock(&shared.down) = None;
                went_up(&shared, &mut log);
                at_once = true;
                match serve(&shared, established).await {
                    Some(reason) => reason,
                    None => return,
                }
            }
            None => {
                if std::mem::take(&mut at_once) {
                    if shared.stop_requested() {
                        return;
                    }
                } else {
                    if !wait_to_retry(&shared, backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(LONGEST_BACKOFF);
                }
                match establish(&shared, !migrated).await {
                    Ok(established) => {
                        next = Some(established);
                        continue;
                    }
                    Err(error) => down_reason(&error),
                }
            }
        };
        shared.link.lock().await.take();
        *lock(&shared.down) = Some(reason.clone());
        went_down(&shared, &mut log, &reason);
    }
}

/// Waits `backoff`, give or take, before connecting again; `false` when the store was dropped
/// meanwhile. Other wake-ups (a new follower) wait too: connecting reads everything anyway.
async fn wait_to_retry(shared: &Shared, backoff: Duration) -> bool {
    let retry = sleep(jittered(backoff));
    tokio::pin!(retry);
    loop {
        if shared.stop_requested() {
            return false;
        }
        tokio::select! {
            () = &mut retry => return !shared.stop_requested(),
            () = shared.wake.notified() => {}
        }
    }
}

/// Follows notifications, the period and wake-ups on one connection, while driving it; the
/// reason it was lost, or `None` when the store was dropped.
async fn serve(shared: &Shared, established: Established) -> Option<String> {
    let Established {
        mut connection,
        mut notes,
        sender,
        read,
    } = established;
    let mut unreadable = Unreadable::default();
    let follow = async {
        // The audit of what was refused meanwhile, then what changed meanwhile: notifications
        // sent while this instance was not listening are lost, so the flags read as it
        // connected, once it listened, are taken.
        write_pending(shared).await?;
        take(shared, read).await;
        let period = shared.reread_every;
        let mut ticks = interval_at(Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                note = notes.recv() => {
                    // Many changes in a burst: one read covers them all; none is needed for
                    // versions this store has (its own commits among them).
                    let mut newest = note.unwrap_or(u64::MAX);
                    while let Ok(note) = notes.try_recv() {
                        newest = newest.max(note);
                    }
                    if newest > shared.known_version() {
                        reread(shared, &mut unreadable).await?;
                    }
                }
                _ = ticks.tick() => {
                    write_pending(shared).await?;
                    reread(shared, &mut unreadable).await?;
                }
                () = shared.wake.notified() => {
                    if shared.stop_requested() {
                        return Ok(());
                    }
                    if shared.link.lock().await.is_none() {
                        return Err(shared.down_reason());
                    }
                    // An audit event kept while the connection was busy, say.
                    write_pending(shared).await?;
                    reread(shared, &mut unreadable).await?;
                }
            }
        }
    };
    let ended: Result<(), String> = tokio::select! {
        ended = follow => ended,
        lost = pump(&mut connection, &sender) => Err(lost),
    };
    ended.err()
}

/// Writes the audit events kept while the database could not be used, oldest first, each
/// forgotten once written; `Err` when the connection is lost (those not written wait for the
/// next). While a request holds the connection past the store's wait, they wait for the next
/// wake-up or period.
async fn write_pending(shared: &Shared) -> Result<(), String> {
    {
        let pending = lock(&shared.pending);
        if pending.events.is_empty() && pending.dropped == 0 {
            return Ok(());
        }
    }
    let dropped = std::mem::take(&mut lock(&shared.pending).dropped);
    if dropped > 0 {
        let events = match dropped {
            1 => "1 audit event of a change refused while the database was away was",
            _ => &format!(
                "{dropped} audit events of changes refused while the database was away were"
            ),
        };
        tracing::warn!(
            target: "flags_postgres",
            "{events} not kept for the flags of {} (at most {} are); this instance's log has them",
            shared.app,
            Pending::LIMIT
        );
    }
    let mut held = match shared.hold_link().await {
        Ok(held) => held,
        Err(NoLink::Busy) => return Ok(()),
        Err(NoLink::Down(reason)) => return Err(reason),
    };
    loop {
        let Some((number, event)) = lock(&shared.pending).oldest() else {
            return Ok(());
        };
        let link = held.link();
        let failed = match timeout(shared.answer_within, event.write(link, &shared.app)).await {
            Ok(Ok(())) => {
                lock(&shared.pending).forget(number);
                continue;
            }
            Ok(Err(failure)) if failure.lost_connection(&link.client) => {
                return Err(failure.into_store_error(RECORDING).to_string());
            }
            Ok(Err(failure)) => failure.into_store_error(RECORDING),
            Err(_) => {
                return Err(StoreError::unavailable(RECORDING, shared.no_answer()).to_string());
            }
        };
        // Refused for good (a grant taken away, a text the database cannot hold) while the
        // connection stands: kept waiting, it would stop every later event, and the following of
        // the flags, on every connection.
        tracing::error!(
            target: "flags_postgres",
            "an audit event of the flags of {} is dropped (this instance's log has it): {failed}",
            shared.app
        );
        lock(&shared.pending).forget(number);
    }
}

/// Drives `connection` until it ends, handing on the version each notification carries; the
/// reason it ended.
async fn pump(connection: &mut DatabaseConnection, notes: &UnboundedSender<u64>) -> String {
    loop {
        match poll_fn(|context| connection.poll_message(context)).await {
            Some(Ok(AsyncMessage::Notification(note))) => {
                // The receiver is the follower beside this pump, gone only with it.
                if notes.send(version_of(note.payload())).is_err() {
                    return String::from("the store stopped following");
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return sql::describe(&error),
            None => return String::from("the connection closed"),
        }
    }
}

/// Why the rows of the flags could not be read as flags, as last logged: a read every period
/// logs once each time it changes, not each time it fails.
#[derive(Default)]
struct Unreadable(Option<String>);

impl Unreadable {
    fn failed(&mut self, shared: &Shared, error: &StoreError) {
        let reason = error.to_string();
        if self.0.as_ref() != Some(&reason) {
            tracing::error!(
                target: "flags_postgres",
                "the flags of {} stay as they are while their rows cannot be read: {reason}",
                shared.app
            );
            self.0 = Some(reason);
        }
    }

    fn read(&mut self, shared: &Shared) {
        if self.0.take().is_some() {
            tracing::info!(
                target: "flags_postgres",
                "the rows of the flags of {} can be read again",
                shared.app
            );
        }
    }
}

/// Reads the flags and takes them; `Err` when the connection is lost.
async fn reread(shared: &Shared, unreadable: &mut Unreadable) -> Result<(), String> {
    match read(shared).await? {
        Ok(read) => {
            unreadable.read(shared);
            take(shared, read).await;
        }
        Err(error) => unreadable.failed(shared, &error),
    }
    Ok(())
}

/// The flags as the database holds them now, or why its rows cannot be read as flags; `Err`
/// when the connection is lost.
async fn read(shared: &Shared) -> Result<Result<Read, StoreError>, String> {
    let link = shared.link.lock().await;
    let Some(link) = link.as_ref() else {
        return Err(shared.down_reason());
    };
    let known = shared.known_version();
    let reading = sql::read(&link.client, &link.statements, &shared.app);
    match timeout(shared.answer_within, reading).await {
        Ok(Ok(stored)) => Ok(Ok(Read { stored, known })),
        Ok(Err(failure)) if failure.lost_connection(&link.client) => Err(failure
            .into_store_error("cannot read the flags")
            .to_string()),
        Ok(Err(failure)) => Ok(Err(failure.into_store_error("cannot read the flags"))),
        Err(_) => {
            Err(StoreError::unavailable("cannot read the flags", shared.no_answer()).to_string())
        }
    }
}

/// Keeps the flags `read`, and hands a newer version to the follower, or an older one when the
/// store went back.
async fn take(shared: &Shared, read: Read) {
    let Some(stored) = read.stored else {
        return;
    };
    let went_back = stored.version < read.known;
    match went_back {
        true => shared.forget_to(&stored),
        false => shared.learn(&stored),
    }
    shared.save_cache().await;
    let follower = lock(&shared.follower)
        .as_ref()
        .and_then(|(_, follower)| follower.upgrade());
    let Some(follower) = follower else {
        return;
    };
    // A version that does not load here is logged by `sync` (or `adopt`); its audit event, the
    // first time, goes to the shared audit.
    let taken = match went_back {
        true => follower.adopt(stored),
        false if stored.version > follower.version() => follower.sync(stored),
        false => return,
    };
    if let Err(refused) = taken
        && let Some(event) = refused.event
        && let Err(error) = shared.record(Audit::RefusedVersion(*event)).await
    {
        tracing::error!(
            target: "flags_postgres",
            "the audit of the flags of {} misses a version they refused: {error}",
            shared.app
        );
    }
}

fn went_up(shared: &Shared, log: &mut LinkLog) {
    match log {
        LinkLog::Starting => tracing::info!(
            target: "flags_postgres",
            "connected to the database: the flags of {} are shared, and changes pushed ({})",
            shared.app,
            shared.address
        ),
        LinkLog::Down(_) => tracing::info!(
            target: "flags_postgres",
            "the database at {} is back: reading the flags of {} again, and taking changes",
            shared.address,
            shared.app
        ),
        LinkLog::Up => {}
    }
    *log = LinkLog::Up;
}

/// Logs the link going down, once, and again only when the reason changes (a password fixed, a
/// server that now refuses for another reason).
fn went_down(shared: &Shared, log: &mut LinkLog, reason: &str) {
    match log {
        // A driver that starts down starts knowing why (the start said it).
        LinkLog::Starting | LinkLog::Up => tracing::warn!(
            target: "flags_postgres",
            "lost the database at {}: the flags of {} stay as last read, changes are refused, \
             and the store reconnects: {reason}",
            shared.address,
            shared.app
        ),
        LinkLog::Down(before) if before != reason => tracing::warn!(
            target: "flags_postgres",
            "still cannot use the database at {} for the flags of {}, for another reason: \
             {reason}; retrying",
            shared.address,
            shared.app
        ),
        LinkLog::Down(_) => {}
    }
    *log = LinkLog::Down(reason.to_owned());
}

/// The version a notification carries; one that carries none (written by hand) is newer than
/// any, so that it is read.
fn version_of(note: &str) -> u64 {
    note.trim().parse().unwrap_or(u64::MAX)
}

/// `delay`, give or take an eighth, so that instances that lost the database together do not
/// all come back in the same instant.
fn jittered(delay: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |now| now.subsec_nanos());
    let eighth = delay / 8;
    let spread = u32::try_from(eighth.as_micros()).unwrap_or(u32::MAX).max(1);
    delay - eighth + Duration::from_micros(u64::from(nanos % (2 * spread)))
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use flags_core::live::Outcome;

    use super::*;

    fn rejected(version: u64) -> Audit {
        Audit::Rejected(AuditEvent {
            version,
            actor: String::from("alice"),
            at: time::OffsetDateTime::UNIX_EPOCH,
            outcome: Outcome::Rejected,
            kind: Default::default(),
            reason: None,
            comment: None,
            changes: Vec::new(),
            idempotency_key: None,
        })
    }

    fn version(audit: &Audit) -> u64 {
        match audit {
            Audit::Rejected(event) | Audit::RefusedVersion(event) => event.version,
        }
    }

    #[test]
    fn pending_events_stay_within_the_limit_and_are_forgotten_only_once_written() {
        let mut pending = Pending::default();
        for number in 0..=Pending::LIMIT as u64 {
            pending.push(rejected(number));
        }
        assert_eq!((pending.events.len(), pending.dropped), (Pending::LIMIT, 1));
        let (number, oldest) = pending.oldest().unwrap();
        assert_eq!(version(&oldest), 1);
        // A failed write leaves it first.
        assert_eq!(version(&pending.oldest().unwrap().1), 1);
        // Dropped by a full queue while it was written: the next is not forgotten in its place.
        pending.push(rejected(1001));
        pending.forget(number);
        assert_eq!(version(&pending.oldest().unwrap().1), 2);
        let (number, _) = pending.oldest().unwrap();
        pending.forget(number);
        assert_eq!(version(&pending.oldest().unwrap().1), 3);
        assert_eq!(pending.events.len(), Pending::LIMIT - 1);
    }
}
