//! Unleash drives live flags: the flags of a typed struct follow an Unleash server, each decided
//! per user by Unleash's own engine, and validated, audited and applied whole as any change of
//! [`Live`] flags is.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader};
//! use flags_unleash::Unleash;
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     /// Managed by the toggle `FEATURE_NEW_CHECKOUT`, its variable.
//!     #[flag(default = false)]
//!     new_checkout: bool,
//!     /// Managed by the toggle `image-generation`.
//!     #[flag(default = false, managed_as = "image-generation")]
//!     image_generation: bool,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let flags = Arc::new(Live::<Settings>::load(Loader::new().env())?);
//! let (unleash, driver) = Unleash::builder("http://localhost:4242/api", "default:development.secret")
//!     .app_name("rose-healer")
//!     .refresh_interval(Duration::from_secs(15))
//!     .backup_file("unleash-backup.json")
//!     .start(&flags)
//!     .await?;
//! tokio::spawn(driver);
//!
//! if flags.get().new_checkout {
//!     // the toggle is on (for no user in particular)
//! }
//! let alice = flags.get().evaluate("FEATURE_IMAGE_GENERATION", Some("alice"));
//! # drop(unleash); let _ = alice; Ok(()) }
//! ```
//!
//! # Which flags Unleash manages
//!
//! Every flag that can change live and is not secret: a flag read only at start
//! (`#[flag(restart)]`) or a secret never is. Each is managed by the toggle named as its variable,
//! unless `#[flag(managed_as = "toggle-name")]` names another. A local change to a managed flag
//! (the admin API) is refused ([`ChangeError::Managed`](flags_core::live::ChangeError::Managed)):
//! change it in Unleash.
//!
//! What the toggle gives the flag depends on the flag's type ([`Shape`](flags_core::Shape)):
//! - a `bool` is the toggle's `isEnabled` for no user, as the seed's
//!   `client.is_enabled(name)`; for a user ([`Snapshot::evaluate`](flags_core::Snapshot::evaluate)
//!   with a targeting key, `?user=` on the public route, OFREP's `targetingKey`), the toggle's
//!   strategies for that user;
//! - a [`Rollout`](flags_core::Rollout) is `100%` when the toggle is on in the environment, `0%`
//!   when off, and per user the toggle's strategies decide: ask per user through
//!   [`Snapshot::evaluate`](flags_core::Snapshot::evaluate) (or [`Unleash::is_enabled`] with a
//!   whole context), not the field's own `is_enabled_for`, which knows nothing of the strategies;
//! - a [`Variants`](flags_core::Variants) is the toggle's variant for no user, and per user the
//!   toggle's variant for that user (strategy variants and overrides included);
//! - any other type takes the payload of the toggle's variant for no user, when the toggle is on;
//!   else it keeps the value it has without Unleash.
//!
//! A toggle Unleash does not have leaves its flag at the value it has without Unleash (from the
//! environment, its default, or an override the store kept), logged once. A feature set whose values the flags cannot hold (a payload that is no number for a
//! `u32`), or that breaks a `requires`, is refused whole as any bad change is: audited, logged
//! once, and the flags keep the last good values and decisions.
//!
//! # Faults
//!
//! - Unleash down at start: the flags start from the backup file of the last features taken
//!   ([`Builder::backup_file`]), or from the environment alone, with one WARN; the driver keeps
//!   trying.
//! - Unleash lost later: the last good values stay; the driver retries with a jittered backoff
//!   (from 1 s, doubling, never longer than the refresh interval), one log line per change of
//!   the link's state ([`Unleash::link`]).
//! - A 401 or 403 is an error that names `UNLEASH_API_KEY`, never its value; at start it stops
//!   the start ([`StartError::Refused`]).
//! - A response that is not the client API's JSON, names a toggle twice, or is over
//!   [`Builder::max_response_bytes`] is refused whole, unread past the limit.

mod client;
mod driver;
mod features;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flags_core::live::Live;
use flags_core::{FeatureFlags, FlagMeta, Snapshot};
use reqwest::Url;
use tokio::sync::Notify;
use unleash_yggdrasil::EngineState;

pub use driver::Link;
pub use features::{Features, FeaturesError};
pub use flags_core::live::Driver;
/// Why the flags cannot follow Unleash: `Refused` names `UNLEASH_API_KEY`.
pub use flags_core::live::ServiceError as StartError;
pub use unleash_yggdrasil::{Context, ExtendedVariantDef as Variant};

use client::{Client, FetchError};
use driver::{Shared, lock};

/// The name flags-core knows Unleash by: audit events name it as their actor, and a refused
/// local change names it.
pub const SERVICE: &str = "unleash";

/// Flags that follow an Unleash server: see the [crate documentation](crate). Dropping the last
/// handle stops its [`Driver`].
#[derive(Clone)]
pub struct Unleash {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

/// How an [`Unleash`] source is set up ([`Unleash::builder`]).
#[derive(Debug, Clone)]
pub struct Builder {
    url: String,
    api_key: String,
    app_name: String,
    instance_id: Option<String>,
    refresh: Duration,
    metrics_every: Duration,
    backup: Option<PathBuf>,
    max_body: usize,
    start_within: Duration,
}

impl Unleash {
    /// A source for the Unleash API at `url` (`http://host:4242/api`, as Unleash's SDKs take
    /// `UNLEASH_URL`), with `api_key`, a client (backend) token.
    pub fn builder(url: impl Into<String>, api_key: impl Into<String>) -> Builder {
        Builder {
            url: url.into(),
            api_key: api_key.into(),
            app_name: String::from("flags"),
            instance_id: None,
            refresh: Duration::from_secs(15),
            metrics_every: Duration::from_secs(60),
            backup: None,
            max_body: 16 << 20,
            start_within: Duration::from_secs(10),
        }
    }

    /// How the link to Unleash stands now: for a health check.
    pub fn link(&self) -> Link {
        lock(&self.shared.link).clone()
    }

    /// The feature set the flags took last, if any.
    pub fn features(&self) -> Option<Arc<Features>> {
        lock(&self.shared.current).clone()
    }

    /// Whether the toggle that manages the flag `variable` is on for `context` (a whole Unleash
    /// context: session, address, properties), as the feature set of `snapshot` decides; `None`
    /// when Unleash decides no flag of that variable in it.
    pub fn is_enabled<S: FeatureFlags>(
        &self,
        snapshot: &Snapshot<S>,
        variable: &str,
        context: &Context,
    ) -> Option<bool> {
        let (features, toggle) = features_of(snapshot, variable)?;
        Some(features.is_enabled(toggle, context))
    }

    /// The variant of the toggle that manages the flag `variable` for `context`, as the feature
    /// set of `snapshot` decides; `None` when Unleash decides no flag of that variable in it.
    pub fn variant<S: FeatureFlags>(
        &self,
        snapshot: &Snapshot<S>,
        variable: &str,
        context: &Context,
    ) -> Option<Variant> {
        let (features, toggle) = features_of(snapshot, variable)?;
        Some(features.variant(toggle, context))
    }
}

/// The feature set that decides the flag `variable` in `snapshot`, and its toggle.
fn features_of<'a, S: FeatureFlags>(
    snapshot: &'a Snapshot<S>,
    variable: &str,
) -> Option<(&'a Features, &'static str)> {
    let (flag, decider) = snapshot.decider(variable)?;
    let any: &dyn std::any::Any = decider.as_ref();
    let features = any.downcast_ref::<Features>()?;
    Some((features, flag.managed_as()))
}

impl std::fmt::Debug for Unleash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unleash")
            .field("app_name", &self.shared.app_name)
            .field("link", &self.link())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The application's name, which Unleash shows its metrics under (`UNLEASH-APPNAME`);
    /// `flags` unless set.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = name.into();
        self
    }

    /// This instance's id (`UNLEASH-INSTANCEID`); the app name, host and process id unless set.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// How often the features are read again: 15 s, as Unleash's SDKs, unless set.
    pub fn refresh_interval(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }

    /// How often usage metrics are sent: 60 s, as Unleash's SDKs, unless set.
    pub fn metrics_interval(mut self, every: Duration) -> Self {
        self.metrics_every = every;
        self
    }

    /// Keeps the last features taken in `path` (written whole, replacing it), and starts from
    /// it when Unleash cannot be read at start.
    pub fn backup_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.backup = Some(path.into());
        self
    }

    /// The largest response the features may be (16 MiB unless set): a larger one is refused
    /// unread.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// How long the start waits for the first read of the features (10 s unless set) before
    /// it starts from the backup file or the environment.
    pub fn start_within(mut self, wait: Duration) -> Self {
        self.start_within = wait;
        self
    }

    /// Hands the flags Unleash manages to it, reads the features once (waiting at most
    /// [`Builder::start_within`]) and takes them, or starts from the backup file or the
    /// environment when Unleash cannot be read (one WARN); then returns the handle, and the
    /// [`Driver`] to spawn on the application's runtime, which follows Unleash from then on.
    pub async fn start<S>(self, live: &Arc<Live<S>>) -> Result<(Unleash, Driver), StartError>
    where
        S: FeatureFlags + Send + Sync + 'static,
    {
        let url = check_url(&self.url)?;
        check_api_key(&self.api_key)?;
        let nonzero = |every: Duration, name: &str| match every.is_zero() {
            true => Err(StartError::Settings(format!(
                "the {name} is 0: it must be a positive duration, such as 15s"
            ))),
            false => Ok(()),
        };
        nonzero(self.refresh, "refresh interval (UNLEASH_REFRESH_INTERVAL)")?;
        nonzero(self.metrics_every, "metrics interval")?;
        let instance_id = self.instance_id.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| String::from("host"));
            format!("{}-{host}-{}", self.app_name, std::process::id())
        });
        let client = Client::new(
            &url,
            &self.api_key,
            &self.app_name,
            &instance_id,
            self.max_body,
        )
        .map_err(StartError::Settings)?;

        // Every flag that may change live and is not secret, and any other an attribute names
        // (which flags-core then refuses, naming it).
        let handed: Vec<(usize, &'static FlagMeta)> = S::FLAGS
            .iter()
            .enumerate()
            .filter(|(_, flag)| {
                let eligible = !flag.needs_restart() && !flag.is_secret();
                eligible || flag.managed_as() != flag.env()
            })
            .collect();
        let managed = live
            .managed_by(SERVICE, handed.iter().map(|(_, flag)| flag.env()))
            .map_err(StartError::Flags)?;
        let shared = Arc::new(Shared {
            client,
            managed,
            flags: handed,
            len: S::FLAGS.len(),
            app_name: self.app_name.clone(),
            instance_id,
            refresh: self.refresh,
            metrics_every: self.metrics_every,
            backup: self.backup.clone(),
            metrics: Arc::new(EngineState::default()),
            current: Mutex::new(None),
            etag: Mutex::new(None),
            link: Mutex::new(Link::Up),
            missing: Mutex::default(),
            refused: Mutex::new(None),
            stopped: AtomicBool::new(false),
            stop: Notify::new(),
        });

        let first = match tokio::time::timeout(self.start_within, shared.poll()).await {
            Ok(first) => first,
            Err(_) => Err(FetchError::Failed(format!(
                "Unleash did not answer within {:?}",
                self.start_within
            ))),
        };
        let up = match first {
            Ok(()) => true,
            Err(FetchError::Refused(status)) => {
                return Err(StartError::Refused(FetchError::Refused(status).to_string()));
            }
            Err(error) => {
                self.start_without_unleash(&shared, &error.to_string());
                false
            }
        };
        let driver = Driver::new(driver::run(Arc::clone(&shared), up));
        let stop = Arc::new(StopOnDrop(Arc::clone(&shared)));
        Ok((
            Unleash {
                shared,
                _stop: stop,
            },
            driver,
        ))
    }

    /// Starts from the backup file, if it holds features the flags take, else from the
    /// environment alone; one WARN either way.
    fn start_without_unleash(&self, shared: &Shared, reason: &str) {
        *lock(&shared.link) = Link::Down {
            reason: reason.to_owned(),
        };
        let backup = self.backup.as_ref().and_then(|path| {
            let body = std::fs::read(path).ok()?;
            shared.take(&body, None, "the backup file").then_some(path)
        });
        match backup {
            Some(path) => tracing::warn!(
                target: "flags_unleash",
                "{reason}; the flags start from the backup of Unleash's features in {}, and \
                 follow Unleash once it answers",
                path.display()
            ),
            None => tracing::warn!(
                target: "flags_unleash",
                "{reason}; the flags start from the environment alone, and follow Unleash once \
                 it answers"
            ),
        }
    }
}

/// Stops the driver when the last handle is dropped.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.stop.notify_one();
    }
}

/// `url` as the API root Unleash's SDKs take, or why it is not one.
fn check_url(url: &str) -> Result<Url, StartError> {
    let wrong = |why: &str| {
        StartError::Settings(format!(
            "UNLEASH_URL: `{url}` {why}; expected the URL of Unleash's API, such as \
             http://localhost:4242/api"
        ))
    };
    let parsed = Url::parse(url).map_err(|error| wrong(&format!("is not a URL ({error})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(wrong(&format!(
            "has the scheme `{}`, not http or https",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(wrong(
            "carries a user name or password; the API key goes in UNLEASH_API_KEY",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(wrong("has a query or fragment"));
    }
    Ok(parsed)
}

/// Whether `key` can be a client token, without ever showing it.
fn check_api_key(key: &str) -> Result<(), StartError> {
    let wrong = |why: &str| StartError::Settings(format!("UNLEASH_API_KEY {why}"));
    if key.trim().is_empty() {
        return Err(wrong("is empty; expected a client (backend) token"));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(wrong(
            "has a space or a control character; a token has none (was it copied with a line \
             break, or with `Authorization:`?)",
        ));
    }
    if key.starts_with("*:*.") {
        return Err(wrong(
            "is an admin token (`*:*.…`); the client API takes a client (backend) token, \
             `project:environment.…`, which reads flags and cannot change them",
        ));
    }
    Ok(())
}
