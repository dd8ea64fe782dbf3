//! What follows Unleash: each feature set read is taken (pushed to the flags with the engine that
//! decides them), kept in the backup file, and followed by the next poll; usage metrics are
//! sent on their own period.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use flags_core::FlagMeta;
use flags_core::live::{ChangeError, Managed};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};
use unleash_yggdrasil::EngineState;

use crate::client::{Client, FetchError, Fetched};
use crate::features::Features;

/// What the handle and the driver share.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) managed: Managed,
    /// The flags Unleash manages, each with its position in the struct.
    pub(crate) flags: Vec<(usize, &'static FlagMeta)>,
    /// How many flags the struct has.
    pub(crate) len: usize,
    pub(crate) app_name: String,
    pub(crate) instance_id: String,
    pub(crate) refresh: Duration,
    pub(crate) metrics_every: Duration,
    pub(crate) backup: Option<PathBuf>,
    /// Where decisions are counted, across feature sets.
    pub(crate) metrics: Arc<EngineState>,
    /// The last feature set the flags took.
    pub(crate) current: Mutex<Option<Arc<Features>>>,
    /// The tag of the last features read, sent as `If-None-Match`.
    pub(crate) etag: Mutex<Option<String>>,
    /// How the link to Unleash stands, as last logged.
    pub(crate) link: Mutex<Link>,
    /// The toggles found missing, each logged once until it exists.
    pub(crate) missing: Mutex<HashSet<&'static str>>,
    /// The last feature set refused, logged once.
    pub(crate) refused: Mutex<Option<String>>,
    pub(crate) stopped: AtomicBool,
    pub(crate) stop: Notify,
}

/// How the link to Unleash stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link {
    /// The last read of the features was answered.
    Up,
    /// It was not, for this reason: the flags keep the last values they took.
    Down {
        /// Why, in one line.
        reason: String,
    },
}

impl Shared {
    /// Reads the features once, and takes them when they changed; why not, when Unleash could
    /// not be read.
    pub(crate) async fn poll(&self) -> Result<(), FetchError> {
        let etag = lock(&self.etag).clone();
        match self.client.fetch(etag.as_deref()).await? {
            Fetched::NotModified => Ok(()),
            Fetched::Features { body, etag } => {
                self.take(&body, etag, "Unleash");
                Ok(())
            }
        }
    }

    /// Takes the features in `body` (tagged `etag`), read from `from`: pushed to the flags with
    /// the engine that decides them, or refused whole (logged once). Whether the flags took them.
    pub(crate) fn take(&self, body: &[u8], etag: Option<String>, from: &str) -> bool {
        let read = Features::read(body, &self.app_name, Arc::clone(&self.metrics));
        let (features, warnings) = match read {
            Ok(read) => read,
            Err(error) => {
                // Not kept as read: the next poll reads them again, whole.
                self.refused_once(format!("the features {from} sent are refused: {error}"));
                return false;
            }
        };
        for warning in &warnings {
            tracing::warn!(target: "flags_unleash", "{warning}");
        }
        let mut features = features;
        features.bind(&self.flags, self.len);
        let features = Arc::new(features);
        let values: Vec<(&'static str, Option<String>)> = self
            .flags
            .iter()
            .map(|(_, flag)| (flag.env(), self.global(&features, flag)))
            .collect();
        let taken = match self
            .managed
            .push_deciding(values, Arc::clone(&features) as _)
        {
            Ok(_) => true,
            // flags-core logged and audited it, once for the same values.
            Err(ChangeError::Rejected(_)) => false,
            Err(error) => {
                self.refused_once(format!("the features {from} sent are refused: {error}"));
                false
            }
        };
        *lock(&self.etag) = etag;
        if taken {
            *lock(&self.refused) = None;
            *lock(&self.current) = Some(features);
            self.save_backup(body);
        }
        taken
    }

    /// The value `features` give `flag` for everyone (`None`: the flag keeps the value it has
    /// without Unleash); a toggle it lacks is logged once, until it exists.
    fn global(&self, features: &Features, flag: &'static FlagMeta) -> Option<String> {
        let mut missing = lock(&self.missing);
        match features.global(flag) {
            Some(text) => {
                missing.remove(flag.env());
                text
            }
            None => {
                if missing.insert(flag.env()) {
                    tracing::info!(
                        target: "flags_unleash",
                        "{}: Unleash has no toggle `{}`, so the flag keeps the value it has \
                         without Unleash (from the environment, its default or an override)",
                        flag.env(),
                        flag.managed_as()
                    );
                }
                None
            }
        }
    }

    fn refused_once(&self, message: String) {
        let mut refused = lock(&self.refused);
        if refused.as_ref() != Some(&message) {
            tracing::error!(target: "flags_unleash", "{message}; the flags keep the last good values");
            *refused = Some(message);
        }
    }

    /// Writes `body` to the backup file, whole or not at all.
    fn save_backup(&self, body: &[u8]) {
        let Some(path) = &self.backup else {
            return;
        };
        let write = || -> std::io::Result<()> {
            let directory = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => std::path::Path::new("."),
            };
            let mut file = tempfile::NamedTempFile::new_in(directory)?;
            std::io::Write::write_all(&mut file, body)?;
            file.as_file().sync_all()?;
            file.persist(path).map_err(|error| error.error)?;
            Ok(())
        };
        if let Err(error) = write() {
            tracing::warn!(
                target: "flags_unleash",
                "cannot write the backup of Unleash's features to {}: {error}",
                path.display()
            );
        }
    }

    /// Logs a change of the link's state, once per change.
    pub(crate) fn link_is(&self, now: Link) {
        let mut link = lock(&self.link);
        if *link == now {
            return;
        }
        match (&*link, &now) {
            (_, Link::Up) => tracing::info!(
                target: "flags_unleash",
                "Unleash answers again: the flags follow it"
            ),
            (Link::Up, Link::Down { reason }) => tracing::warn!(
                target: "flags_unleash",
                "lost Unleash: the flags keep the last values it gave, and the source retries: \
                 {reason}"
            ),
            (Link::Down { .. }, Link::Down { reason }) => tracing::warn!(
                target: "flags_unleash",
                "still cannot read Unleash, for another reason: {reason}; retrying"
            ),
        }
        *link = now;
    }

    /// Sends the decisions counted since the last bucket, if any.
    async fn send_metrics(&self) {
        let Some(bucket) = self.metrics.get_metrics(chrono::Utc::now()) else {
            return;
        };
        let body = serde_json::json!({
            "appName": self.app_name,
            "instanceId": self.instance_id,
            "bucket": bucket,
        });
        if let Err(error) = self.client.send_metrics(&body).await {
            tracing::debug!(target: "flags_unleash", "usage metrics not sent: {error}");
            self.metrics.restore_metrics(bucket);
        }
    }

    async fn register(&self) {
        let body = serde_json::json!({
            "appName": self.app_name,
            "instanceId": self.instance_id,
            "sdkVersion": concat!("flags-unleash:", env!("CARGO_PKG_VERSION")),
            "strategies": unleash_yggdrasil::KNOWN_STRATEGIES,
            "started": chrono::Utc::now(),
            "interval": self.metrics_every.as_millis() as u64,
            "platformName": "rust",
            "yggdrasilVersion": unleash_yggdrasil::CORE_VERSION,
            "specVersion": unleash_yggdrasil::SUPPORTED_SPEC_VERSION,
        });
        if let Err(error) = self.client.register(&body).await {
            tracing::debug!(target: "flags_unleash", "the client is not registered: {error}");
        }
    }

    fn stop_requested(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// The first retry's wait, doubled on each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the source's driver runs; `first_up` says whether the start read Unleash (the next poll
/// is then a refresh interval away, else a first backoff).
pub(crate) async fn run(shared: Arc<Shared>, first_up: bool) {
    shared.register().await;
    let mut backoff = FIRST_BACKOFF;
    let mut next_poll = Instant::now()
        + match first_up {
            true => jittered(shared.refresh),
            false => jittered(backoff),
        };
    let mut next_metrics = Instant::now() + shared.metrics_every;
    loop {
        if shared.stop_requested() {
            break;
        }
        tokio::select! {
            () = sleep_until(next_poll) => {
                match shared.poll().await {
                    Ok(()) => {
                        shared.link_is(Link::Up);
                        backoff = FIRST_BACKOFF;
                        next_poll = Instant::now() + jittered(shared.refresh);
                    }
                    Err(error) => {
                        shared.link_is(Link::Down { reason: error.to_string() });
                        // Never later than the refresh interval would poll, when that is longer.
                        let wait = backoff.min(shared.refresh.max(FIRST_BACKOFF));
                        next_poll = Instant::now() + jittered(wait);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
            () = sleep_until(next_metrics) => {
                shared.send_metrics().await;
                next_metrics = Instant::now() + shared.metrics_every;
            }
            () = shared.stop.notified() => {}
        }
    }
    // What was counted since the last bucket, sent before the driver ends (bounded).
    let _ = tokio::time::timeout(Duration::from_secs(2), shared.send_metrics()).await;
}

/// `delay`, less up to an eighth of it, so that instances that poll together drift apart and
/// none polls later than its interval says (a toggle is served within the interval).
pub(crate) fn jittered(delay: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |now| now.subsec_nanos());
    let eighth = delay / 8;
    let spread = u32::try_from(eighth.as_micros()).unwrap_or(u32::MAX).max(1);
    delay - Duration::from_micros(u64::from(nanos % spread)).min(eighth)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
