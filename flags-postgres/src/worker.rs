//! The store's worker: one thread with its own runtime and one connection, which answers the
//! store's requests, listens for other instances' changes, reads the flags again after any
//! notification, reconnection or period, and hands what it read to the follower.

use std::future::{Future, poll_fn};
use std::sync::mpsc::{Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use flags_core::live::{AuditEvent, FileStore, StoreError, Stored};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

use crate::sql::{self, Failure, Statements};

/// A request of the store, and when it was asked.
pub(crate) struct Asked {
    pub(crate) at: std::time::Instant,
    pub(crate) request: Request,
}

/// A request of the store, with where to send its answer.
pub(crate) enum Request {
    Read(Reply<Option<Stored>>),
    Commit {
        previous: u64,
        next: Stored,
        event: AuditEvent,
        reply: Reply<()>,
    },
    Record(AuditEvent, Reply<()>),
    Audit(usize, Reply<Vec<AuditEvent>>),
    /// Read the flags again and hand them to the follower (one just started following).
    Reread,
}

pub(crate) type Reply<T> = SyncSender<Result<T, StoreError>>;

/// Where the worker hands what it reads: the channel of the follower that follows now, by its
/// number, once one follows.
pub(crate) type FollowerSlot = Arc<Mutex<Option<(u64, Sender<Stored>)>>>;

/// What the worker needs, fixed when the store starts.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) app: String,
    pub(crate) channel: String,
    pub(crate) cache: Option<FileStore>,
    pub(crate) reread_every: Duration,
    /// How long connecting (and migrating, listening, preparing) may take.
    pub(crate) connect_within: Duration,
    /// How long a request may wait for its turn, and then for the database.
    pub(crate) answer_within: Duration,
    pub(crate) follower: FollowerSlot,
}

/// The first wait before reconnecting, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// The link to the database as last logged, so that each change of it is logged once.
enum Link {
    Starting,
    Up,
    /// Down, for this reason.
    Down(String),
}

/// Runs until the store is dropped (its requests' channel closes).
pub(crate) fn run(settings: Settings, mut requests: UnboundedReceiver<Asked>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(target: "flags_postgres", "cannot start the store's runtime: {error}");
            return;
        }
    };
    runtime.block_on(Worker::new(settings).run(&mut requests));
}

struct Worker {
    settings: Settings,
    link: Link,
    /// The version last written to the cache, so that a read of the same is not written again.
    cached: Option<u64>,
    /// The newest version this worker committed or read: a notification of it, or of an older
    /// one, needs no read (an instance is told of its own commits too).
    known: u64,
    /// Why the rows could not be read as flags, last time: logged when it changes, not at
    /// every read.
    unreadable: Option<String>,
    /// Whether this store ran the migrations already: once is enough.
    migrated: bool,
}

/// Why serving on one connection ended.
enum Ended {
    Stopped,
    Lost(String),
}

impl Worker {
    fn new(settings: Settings) -> Self {
        Self {
            settings,
            link: Link::Starting,
            cached: None,
            known: 0,
            unreadable: None,
            migrated: false,
        }
    }

    async fn run(mut self, requests: &mut UnboundedReceiver<Asked>) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let connecting = tokio::time::timeout(self.settings.connect_within, self.connect());
            let connected = match connecting.await {
                Ok(connected) => connected,
                Err(_) => Err(format!(
                    "no answer within {} s while connecting",
                    self.settings.connect_within.as_secs_f32()
                )),
            };
            let reason = match connected {
                Ok((mut client, statements, notes)) => {
                    backoff = FIRST_BACKOFF;
                    match self.serve(&mut client, &statements, notes, requests).await {
                        Ended::Stopped => return,
                        Ended::Lost(reason) => reason,
                    }
                }
                Err(reason) => reason,
            };
            self.went_down(&reason);
            // Until the next attempt, requests are answered at once: the database is away.
            let wait = sleep(jittered(backoff));
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    () = &mut wait => break,
                    asked = requests.recv() => match asked {
                        Some(asked) => asked.request.refuse(&reason),
                        None => return,
                    },
                }
            }
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
        }
    }

    /// A connection, migrated and listening, with its prepared statements and the channel of its
    /// notifications' payloads.
    async fn connect(&mut self) -> Result<(Client, Statements, UnboundedReceiver<String>), String> {
        let (mut client, mut connection) = self
            .settings
            .config
            .connect(NoTls)
            .await
            .map_err(|error| sql::describe(&error))?;
        let (notes, received) = unbounded_channel();
        tokio::spawn(async move {
            // Drives the connection; ends, dropping `notes`, when it closes.
            while let Some(message) = poll_fn(|context| connection.poll_message(context)).await {
                match message {
                    Ok(AsyncMessage::Notification(note)) => {
                        let _ = notes.send(note.payload().to_owned());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        if !self.migrated {
            sql::migrate(&mut client)
                .await
                .map_err(|error| sql::describe(&error))?;
            self.migrated = true;
        }
        // The channel is the application's, from a name checked to need no escaping but quotes.
        let listen = format!("LISTEN \"{}\"", self.settings.channel);
        client
            .batch_execute(&listen)
            .await
            .map_err(|error| sql::describe(&error))?;
        let statements = Statements::prepare(&client)
            .await
            .map_err(|error| sql::describe(&error))?;
        Ok((client, statements, received))
    }

    /// Answers requests, and follows notifications and the period, until the connection is lost
    /// or the store is dropped.
    async fn serve(
        &mut self,
        client: &mut Client,
        statements: &Statements,
        mut notes: UnboundedReceiver<String>,
        requests: &mut UnboundedReceiver<Asked>,
    ) -> Ended {
        self.went_up();
        // Notifications sent while this instance was not listening are lost: read everything.
        if let Err(failure) = self.reread(client, statements).await {
            return Ended::Lost(failure);
        }
        let period = self.settings.reread_every;
        let mut ticks = interval_at(Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let outcome = tokio::select! {
                asked = requests.recv() => match asked {
                    Some(asked) => self.answer(client, statements, asked).await,
                    None => return Ended::Stopped,
                },
                note = notes.recv() => match note {
                    Some(note) => {
                        // Many changes in a burst: one read covers them all; none is needed
                        // for versions this worker has (its own commits among them).
                        let mut newest = version_of(&note);
                        while let Ok(note) = notes.try_recv() {
                            newest = newest.max(version_of(&note));
                        }
                        match newest > self.known {
                            true => self.reread(client, statements).await,
                            false => Ok(()),
                        }
                    }
                    None => Err(String::from("the connection closed")),
                },
                _ = ticks.tick() => self.reread(client, statements).await,
            };
            if let Err(reason) = outcome {
                return Ended::Lost(reason);
            }
        }
    }

    /// Answers one request, within `answer_within` of its asking, or says it was not
    /// attempted; `Err` when the connection is lost (or the database stopped answering, which is
    /// handled as lost: the reconnection reads the flags again, so that a change whose answer
    /// came too late is seen).
    async fn answer(
        &mut self,
        client: &mut Client,
        statements: &Statements,
        asked: Asked,
    ) -> Result<(), String> {
        let answer_within = self.settings.answer_within;
        if asked.at.elapsed() > answer_within {
            // Whoever asked has given up: a change made now would be one nobody waits for.
            asked.request.refuse(&format!(
                "its turn did not come within {} s",
                answer_within.as_secs_f32()
            ));
            return Ok(());
        }
        let app = self.settings.app.as_str();
        match asked.request {
            Request::Read(reply) => {
                let read = within(answer_within, sql::read(client, statements, app)).await;
                if let Ok(Some(stored)) = &read {
                    self.known = self.known.max(stored.version);
                }
                let cached = read.as_ref().ok().and_then(Option::clone);
                let settled = settle(client, read, reply);
                if let Some(stored) = cached {
                    self.cache(&stored);
                }
                settled
            }
            Request::Commit {
                previous,
                next,
                event,
                reply,
            } => {
                let channel = self.settings.channel.as_str();
                let committing =
                    sql::commit(client, statements, app, channel, previous, &next, &event);
                let committed = within(answer_within, committing).await;
                if committed.is_ok() {
                    self.known = self.known.max(next.version);
                }
                let kept = committed.is_ok();
                // Answered first: the cache is for starts without the database, not the change.
                let settled = settle(client, committed, reply);
                if kept {
                    self.cache(&next);
                }
                settled
            }
            Request::Record(event, reply) => {
                let recorded = within(answer_within, sql::record(client, statements, app, &event));
                settle(client, recorded.await, reply)
            }
            Request::Audit(limit, reply) => {
                let events = within(answer_within, sql::audit(client, statements, app, limit));
                settle(client, events.await, reply)
            }
            Request::Reread => self.reread(client, statements).await,
        }
    }

    /// Reads the flags and hands them to the follower; `Err` when the connection is lost.
    async fn reread(&mut self, client: &Client, statements: &Statements) -> Result<(), String> {
        let reading = sql::read(client, statements, &self.settings.app);
        match within(self.settings.answer_within, reading).await {
            Ok(Some(stored)) => {
                self.unreadable = None;
                self.known = self.known.max(stored.version);
                self.cache(&stored);
                let follower = self.settings.follower.lock();
                let follower = follower.unwrap_or_else(PoisonError::into_inner);
                if let Some((_, follower)) = follower.as_ref() {
                    let _ = follower.send(stored);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(failure) if failure.lost_connection(client) => {
                Err(failure.into_store_error().to_string())
            }
            Err(failure) => {
                // The rows cannot be read as flags: the flags stay, and it is said once.
                let reason = failure.into_store_error().to_string();
                if self.unreadable.as_ref() != Some(&reason) {
                    tracing::error!(
                        target: "flags_postgres",
                        "cannot read the flags of {}: {reason}",
                        self.settings.app
                    );
                    self.unreadable = Some(reason);
                }
                Ok(())
            }
        }
    }

    /// Keeps `stored` in the local file the store starts from when the database is away.
    fn cache(&mut self, stored: &Stored) {
        let Some(cache) = &self.settings.cache else {
            return;
        };
        if self.cached == Some(stored.version) {
            return;
        }
        match cache.replace(stored) {
            Ok(()) => self.cached = Some(stored.version),
            Err(error) => tracing::warn!(target: "flags_postgres", "{error}"),
        }
    }

    fn went_up(&mut self) {
        match &self.link {
            Link::Starting => tracing::info!(
                target: "flags_postgres",
                "connected to the database: the flags of {} are shared, and changes pushed",
                self.settings.app
            ),
            Link::Down(_) => tracing::info!(
                target: "flags_postgres",
                "the database is back: reading the flags of {} again, and taking changes",
                self.settings.app
            ),
            Link::Up => {}
        }
        self.link = Link::Up;
    }

    /// Logs the link going down, once, and again only when the reason changes (a password
    /// fixed, a server that now refuses for another reason).
    fn went_down(&mut self, reason: &str) {
        match &self.link {
            Link::Starting => tracing::warn!(
                target: "flags_postgres",
                "cannot use the database ({reason}): changes are refused until it can be used; \
                 retrying"
            ),
            Link::Up => tracing::warn!(
                target: "flags_postgres",
                "lost the database ({reason}): serving the last flags read, refusing changes, \
                 reconnecting"
            ),
            Link::Down(before) if before != reason => tracing::warn!(
                target: "flags_postgres",
                "still cannot use the database, now: {reason}; retrying"
            ),
            Link::Down(_) => {}
        }
        self.link = Link::Down(reason.to_owned());
    }
}

impl Request {
    /// Answers that the database cannot be used now, for `reason`.
    fn refuse(self, reason: &str) {
        let error = || StoreError::Unavailable(format!("the database cannot be used ({reason})"));
        match self {
            Self::Read(reply) => drop(reply.send(Err(error()))),
            Self::Commit { reply, .. } | Self::Record(_, reply) => drop(reply.send(Err(error()))),
            Self::Audit(_, reply) => drop(reply.send(Err(error()))),
            Self::Reread => {}
        }
    }
}

/// Sends `result` to whoever asked; `Err` when it failed because the connection is lost.
fn settle<T>(client: &Client, result: Result<T, Failure>, reply: Reply<T>) -> Result<(), String> {
    match result {
        Ok(value) => {
            let _ = reply.send(Ok(value));
            Ok(())
        }
        Err(failure) => {
            let lost = failure.lost_connection(client);
            let error = failure.into_store_error();
            let reason = error.to_string();
            let _ = reply.send(Err(error));
            if lost { Err(reason) } else { Ok(()) }
        }
    }
}

/// `work`, or a failure when the database takes longer than `limit` to answer.
async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(Failure::TimedOut(limit)))
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
