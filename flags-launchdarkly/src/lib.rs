//! LaunchDarkly drives live flags: the flags of a typed struct follow LaunchDarkly through its
//! official Rust SDK, which evaluates them (targets, rules, segments, prerequisites, rollouts), and
//! each value is validated, audited and applied whole as any change of [`Live`] flags is.
//!
//! ```no_run
//! use std::sync::Arc;
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader};
//! use flags_launchdarkly::LaunchDarkly;
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     /// Managed by the LaunchDarkly flag `FEATURE_NEW_CHECKOUT`, its variable.
//!     #[flag(default = false)]
//!     new_checkout: bool,
//!     /// Managed by the LaunchDarkly flag `new-feature`.
//!     #[flag(default = false, managed_as = "new-feature")]
//!     new_feature: bool,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let flags = Arc::new(Live::<Settings>::load(Loader::new().env())?);
//! let sdk_key = std::env::var("LAUNCHDARKLY_SDK_KEY")?;
//! let (launchdarkly, driver) = LaunchDarkly::builder(sdk_key)
//!     .app_name("rose-healer")
//!     .start(&flags)
//!     .await?;
//! tokio::spawn(driver);
//!
//! if flags.get().new_checkout {
//!     // on for the application itself (the context of kind `service`, key `rose-healer`)
//! }
//! // The seed's `ld_client.variation("new-feature", {"key": user_id}, False)`:
//! let alice = flags.get().evaluate("FEATURE_NEW_FEATURE", Some("alice"));
//! # drop(launchdarkly); let _ = alice; Ok(()) }
//! ```
//!
//! # Which flags LaunchDarkly manages
//!
//! Every flag that can change live and is not secret: a flag read only at start
//! (`#[flag(restart)]`) or a secret never is. Each is managed by the LaunchDarkly flag whose key
//! is its variable, unless `#[flag(managed_as = "flag-key")]` names another. A local change to a
//! managed flag (the admin API) is refused
//! ([`ChangeError::Managed`]): change it in LaunchDarkly.
//!
//! A flag's value for everyone is its LaunchDarkly flag evaluated for the application's own
//! context: kind `service`, key the application's name ([`Builder::app_name`]). What that gives
//! the flag depends on its type ([`Shape`](flags_core::Shape)):
//! - a `bool` is the boolean variation; per user ([`Snapshot::evaluate`](flags_core::Snapshot::evaluate)
//!   with a targeting key, `?user=` on the public route, OFREP's `targetingKey`), the variation
//!   for the context `{"key": user}`, as the seed's `ld_client.variation("new-feature",
//!   {"key": user_id}, False)`, with the struct's default as LaunchDarkly's fallback value;
//! - a [`Rollout`](flags_core::Rollout) is `100%` while its LaunchDarkly flag's targeting is on
//!   (when off, `100%` or `0%` as its off variation says), and per user the flag's boolean
//!   variation for that user: ask per user through
//!   [`Snapshot::evaluate`](flags_core::Snapshot::evaluate) (or
//!   [`LaunchDarkly::variation_detail`] with a whole context), not the field's own
//!   `is_enabled_for`, which knows nothing of LaunchDarkly's targeting;
//! - a [`Variants`](flags_core::Variants) is the string variation for everyone, and per user the
//!   string variation for that user (the variant);
//! - any other type (a number, a string, a duration, JSON read by a `from_str` type) takes the
//!   variation for the application's context, read as its variable would be, and per user the
//!   variation for that user.
//!
//! A value served to a user is a value validated: each of a LaunchDarkly flag's variations is
//! checked when the data is taken, as the flag would take it for everyone
//! ([`Managed::try_value`]: the flag's type and its requirements, every other flag as it is
//! then), and a user whose variation the flag cannot hold (a negative number for a `u32`, `true`
//! for a flag whose required token is unset) is answered the value for everyone.
//!
//! A flag LaunchDarkly does not have keeps the value it has without LaunchDarkly (from the
//! environment, its default, or an override the store kept), logged once. Flag data whose values
//! the flags cannot hold (a string for a `bool`, a negative number for a `u32`), or that breaks a
//! `requires`, is refused whole as any bad change is: audited with actor `launchdarkly`, logged
//! once, and the flags keep the last good values. Decisions per user then come from the last good
//! data too, evaluated by the SDK's own engine, so that no user sees the refused change.
//!
//! # How fast a change arrives
//!
//! The SDK streams changes by default. It has no change listener, so this crate gives it the
//! store it writes each change to, and takes the change as soon as it is stored: the flags serve
//! a change as soon as the SDK receives it, with no polling interval of its own. Nothing is read
//! per flag when nothing changes.
//!
//! # Faults
//!
//! - LaunchDarkly unreachable at start: the start waits at most [`Builder::start_within`] (5 s
//!   unless set), then the flags keep the environment's values, with one WARN; the SDK keeps
//!   trying, and the flags follow LaunchDarkly once it answers.
//! - A rejected SDK key: an error that names `LAUNCHDARKLY_SDK_KEY`, never its value
//!   ([`StartError::Refused`]).
//! - Offline ([`Builder::offline`]): the SDK connects to nothing, and the flags keep the
//!   environment's values.
//!
//! # TLS
//!
//! The SDK connects with rustls. When the application has not installed rustls's process-wide
//! crypto provider, the start installs aws-lc-rs: the SDK's transport asks for the process-wide
//! one, which rustls cannot pick by itself in a program that also has ring.

mod data;
mod decide;
mod store;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use flags_core::live::{ChangeError, Live, Managed};
use flags_core::{FeatureFlags, FlagMeta, Snapshot};
use launchdarkly_server_sdk::{
    ApplicationInfo, Client, ConfigBuilder, ContextBuilder, NullEventProcessorBuilder,
    ServiceEndpointsBuilder,
};
use tokio::sync::Notify;

pub use flags_core::live::Driver;
/// Why the flags cannot follow LaunchDarkly: `Refused` names `LAUNCHDARKLY_SDK_KEY`.
pub use flags_core::live::ServiceError as StartError;
pub use launchdarkly_server_sdk::{Context, Detail, FlagValue, TestData};

use data::Data;
use decide::Evaluator;
use store::Watch;

/// The name flags-core knows LaunchDarkly by: audit events name it as their actor, and a refused
/// local change names it.
pub const SERVICE: &str = "launchdarkly";

/// Flags that follow LaunchDarkly: see the [crate documentation](crate). Dropping the last handle
/// stops its [`Driver`], which closes the SDK's client.
#[derive(Clone)]
pub struct LaunchDarkly {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

/// How a [`LaunchDarkly`] source is set up ([`LaunchDarkly::builder`]).
#[derive(Clone)]
pub struct Builder {
    sdk_key: String,
    app_name: String,
    endpoints: Endpoints,
    offline: bool,
    events: bool,
    start_within: Duration,
    test_data: Option<TestData>,
}

/// Where the SDK connects.
#[derive(Debug, Clone)]
enum Endpoints {
    /// LaunchDarkly's own service.
    LaunchDarkly,
    /// A relay proxy, for streaming, polling and events.
    Relay(String),
    /// Each of the SDK's service endpoints.
    Custom {
        streaming: String,
        polling: String,
        events: String,
    },
}

impl LaunchDarkly {
    /// A source for LaunchDarkly with `sdk_key`, a server-side SDK key (`LAUNCHDARKLY_SDK_KEY`).
    pub fn builder(sdk_key: impl Into<String>) -> Builder {
        Builder {
            sdk_key: sdk_key.into(),
            app_name: String::from("flags"),
            endpoints: Endpoints::LaunchDarkly,
            offline: false,
            events: true,
            start_within: Duration::from_secs(5),
            test_data: None,
        }
    }

    /// Whether the SDK has received LaunchDarkly's flag data (or is offline): for a health check.
    pub fn initialized(&self) -> bool {
        self.shared.client.initialized()
    }

    /// The flag that manages the variable `variable` as the SDK's `variation_detail` evaluates it
    /// for `context` (a whole LaunchDarkly context: its kind, attributes, several kinds), with the
    /// struct's default as the fallback value, for the data the values of `snapshot` were taken
    /// from; `None` when LaunchDarkly does not decide the flag per user in it (a flag it does not
    /// manage, or of a type other than `bool`, a rollout or variants).
    pub fn variation_detail<S: FeatureFlags>(
        &self,
        snapshot: &Snapshot<S>,
        variable: &str,
        context: &Context,
    ) -> Option<Detail<FlagValue>> {
        let (flag, decider) = snapshot.decider(variable)?;
        let any: &dyn std::any::Any = decider.as_ref();
        let evaluator = any.downcast_ref::<Evaluator>()?;
        let index = S::FLAGS
            .iter()
            .position(|other| other.env() == flag.env())?;
        evaluator.detail_at(index, context)
    }
}

impl std::fmt::Debug for LaunchDarkly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchDarkly")
            .field("initialized", &self.initialized())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("sdk_key", &"[redacted]")
            .field("app_name", &self.app_name)
            .field("endpoints", &self.endpoints)
            .field("offline", &self.offline)
            .field("events", &self.events)
            .field("start_within", &self.start_within)
            .field("test_data", &self.test_data.is_some())
            .finish()
    }
}

impl Builder {
    /// The application's name: the key of the context (kind `service`) every flag's value for
    /// everyone is evaluated for, and the application id LaunchDarkly is told; `flags` unless set.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = name.into();
        self
    }

    /// Connects through the LaunchDarkly Relay Proxy at `url` (`LAUNCHDARKLY_RELAY_PROXY_URL`)
    /// for streaming, polling and events.
    pub fn relay_proxy(mut self, url: impl Into<String>) -> Self {
        self.endpoints = Endpoints::Relay(url.into());
        self
    }

    /// Connects to these service endpoints (`LAUNCHDARKLY_STREAM_URL`, `LAUNCHDARKLY_POLLING_URL`
    /// and `LAUNCHDARKLY_EVENTS_URL`), as LaunchDarkly's SDKs name them: for a private instance,
    /// or a federal one.
    pub fn service_endpoints(
        mut self,
        streaming: impl Into<String>,
        polling: impl Into<String>,
        events: impl Into<String>,
    ) -> Self {
        self.endpoints = Endpoints::Custom {
            streaming: streaming.into(),
            polling: polling.into(),
            events: events.into(),
        };
        self
    }

    /// Offline (`LAUNCHDARKLY_OFFLINE`): the SDK connects to nothing and sends nothing, and the
    /// flags keep the environment's values.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Whether the SDK sends analytics events (`LAUNCHDARKLY_SEND_EVENTS`): each per-user
    /// decision, as its `variation` calls do; on unless set.
    pub fn send_events(mut self, send: bool) -> Self {
        self.events = send;
        self
    }

    /// How long the start waits for LaunchDarkly's flag data (5 s unless set) before the flags
    /// start from the environment.
    pub fn start_within(mut self, wait: Duration) -> Self {
        self.start_within = wait;
        self
    }

    /// Takes the flag data from LaunchDarkly's test double, [`TestData`], rather than from
    /// LaunchDarkly: for tests.
    pub fn test_data(mut self, data: &TestData) -> Self {
        self.test_data = Some(data.clone());
        self
    }

    /// Hands the flags LaunchDarkly manages to it, starts the SDK's client on the application's
    /// runtime and waits for its flag data (at most [`Builder::start_within`]), and takes it; or
    /// starts from the environment when none came (one WARN). Returns the handle, and the
    /// [`Driver`] to spawn on the application's runtime, which takes each change from then on.
    pub async fn start<S>(self, live: &Arc<Live<S>>) -> Result<(LaunchDarkly, Driver), StartError>
    where
        S: FeatureFlags + Send + Sync + 'static,
    {
        check_sdk_key(&self.sdk_key)?;
        let service = ContextBuilder::new(&self.app_name)
            .kind("service")
            .build()
            .map_err(|error| {
                StartError::Settings(format!(
                    "the application's name `{}` cannot be a LaunchDarkly context key: {error}",
                    self.app_name
                ))
            })?;
        let watch = Arc::new(Watch::default());
        let client = Arc::new(self.client(&watch)?);

        // Every flag that may change live and is not secret, and any other an attribute names
        // (which flags-core then refuses, naming it).
        let handed: Vec<(usize, &'static FlagMeta)> = S::FLAGS
            .iter()
            .enumerate()
            .filter(|(_, flag)| {
                let eligible = !flag.needs_restart() && !flag.is_secret();
                eligible || key_of(flag) != flag.env()
            })
            .collect();
        let managed = live
            .managed_by(SERVICE, handed.iter().map(|(_, flag)| flag.env()))
            .map_err(StartError::Flags)?;
        let shared = Arc::new(Shared {
            client,
            watch,
            managed,
            flags: handed,
            len: S::FLAGS.len(),
            service,
            events: self.events && !self.offline,
            taken: Mutex::new(None),
            missing: Mutex::default(),
            refused: Mutex::new(None),
            waiting: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            stop: Notify::new(),
        });

        shared.client.start_with_default_executor();
        let started = shared.client.wait_for_initialization(self.start_within);
        match started.await {
            Some(true) if self.offline => tracing::info!(
                target: "flags_launchdarkly",
                "LaunchDarkly is offline (LAUNCHDARKLY_OFFLINE): the flags keep the environment's \
                 values"
            ),
            Some(true) => {
                shared.take();
            }
            Some(false) => {
                shared.close();
                return Err(StartError::Refused(String::from(
                    "LaunchDarkly refused the SDK key in LAUNCHDARKLY_SDK_KEY (it answered with an \
                     error the SDK does not retry, such as 401 or 403): set a server-side SDK key \
                     of the environment",
                )));
            }
            None => {
                shared.waiting.store(true, Ordering::Release);
                tracing::warn!(
                    target: "flags_launchdarkly",
                    "LaunchDarkly sent no flag data within {:?}; the flags start from the \
                     environment alone, and follow LaunchDarkly once it answers",
                    self.start_within
                );
            }
        }
        let driver = Driver::new(run(Arc::clone(&shared)));
        let stop = Arc::new(StopOnDrop(Arc::clone(&shared)));
        Ok((
            LaunchDarkly {
                shared,
                _stop: stop,
            },
            driver,
        ))
    }

    /// The SDK's client, as set up, over the store `watch` sees.
    fn client(&self, watch: &Arc<Watch>) -> Result<Client, StartError> {
        // The SDK's transport asks rustls for the process-wide provider, which rustls cannot
        // pick when the application's tree has both ring and aws-lc-rs: aws-lc-rs, unless the
        // application installed one (then this does nothing).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut config = ConfigBuilder::new(&self.sdk_key)
            .offline(self.offline)
            .data_store(&watch.store());
        let mut application = ApplicationInfo::new();
        application.application_identifier(&self.app_name);
        config = config.application_info(application);
        match &self.endpoints {
            Endpoints::LaunchDarkly => {}
            Endpoints::Relay(url) => {
                check_url("LAUNCHDARKLY_RELAY_PROXY_URL", url)?;
                config = config.service_endpoints(ServiceEndpointsBuilder::new().relay_proxy(url));
            }
            Endpoints::Custom {
                streaming,
                polling,
                events,
            } => {
                check_url("LAUNCHDARKLY_STREAM_URL", streaming)?;
                check_url("LAUNCHDARKLY_POLLING_URL", polling)?;
                check_url("LAUNCHDARKLY_EVENTS_URL", events)?;
                let mut endpoints = ServiceEndpointsBuilder::new();
                endpoints
                    .streaming_base_url(streaming)
                    .polling_base_url(polling)
                    .events_base_url(events);
                config = config.service_endpoints(&endpoints);
            }
        }
        if !self.events {
            config = config.event_processor(&NullEventProcessorBuilder::new());
        }
        if let Some(data) = &self.test_data {
            config = config.data_source(data);
        }
        let config = config
            .build()
            .map_err(|error| StartError::Settings(format!("LaunchDarkly's SDK: {error}")))?;
        Client::build(config)
            .map_err(|error| StartError::Settings(format!("LaunchDarkly's SDK: {error}")))
    }
}

/// What the handle and the driver share.
struct Shared {
    client: Arc<Client>,
    watch: Arc<Watch>,
    managed: Managed,
    /// The flags LaunchDarkly manages, each with its position in the struct.
    flags: Vec<(usize, &'static FlagMeta)>,
    /// How many flags the struct has.
    len: usize,
    /// The application's own context, which each flag's value for everyone is evaluated for.
    service: Context,
    /// Whether the SDK sends analytics events.
    events: bool,
    /// The store's generation last taken (or refused).
    taken: Mutex<Option<u64>>,
    /// The flags found missing, each logged once until it exists.
    missing: Mutex<HashSet<&'static str>>,
    /// The last data refused, logged once.
    refused: Mutex<Option<String>>,
    /// Whether the flags started without LaunchDarkly's data and have not taken any since.
    waiting: AtomicBool,
    stopped: AtomicBool,
    stop: Notify,
}

impl Shared {
    /// Takes the flag data the SDK stored last, unless it was taken: pushed to the flags with the
    /// evaluator that decides them, or refused whole (logged once). Whether the flags took it.
    fn take(&self) -> bool {
        let Some(read) = self.watch.data() else {
            return false;
        };
        let (data, generation) = match read {
            Ok(read) => read,
            Err(why) => {
                self.refused_once(format!("LaunchDarkly's flag data is refused: {why}"));
                return false;
            }
        };
        {
            let mut taken = lock(&self.taken);
            if *taken == Some(generation) {
                return false;
            }
            *taken = Some(generation);
        }
        let data = Arc::new(data);
        let values: Vec<(&'static str, Option<String>)> = self
            .flags
            .iter()
            .map(|(_, flag)| (flag.env(), self.global(&data, flag)))
            .collect();
        let evaluator = Evaluator::new(
            Arc::clone(&self.client),
            Arc::clone(&self.watch),
            data,
            generation,
            self.events,
            &self.flags,
            self.len,
            |flag, text| self.managed.try_value(flag.env(), text).ok(),
        );
        let pushed = self.managed.push_deciding(values, Arc::new(evaluator));
        match pushed {
            Ok(_) => {
                *lock(&self.refused) = None;
                if self.waiting.swap(false, Ordering::AcqRel) {
                    tracing::info!(
                        target: "flags_launchdarkly",
                        "LaunchDarkly answered: the flags follow it"
                    );
                }
                true
            }
            // flags-core logged and audited it, once for the same values.
            Err(ChangeError::Rejected(_)) => false,
            Err(error) => {
                self.refused_once(format!("LaunchDarkly's flag data is refused: {error}"));
                false
            }
        }
    }

    /// The value `data` gives `flag` for everyone (`None`: the flag keeps the value it has without
    /// LaunchDarkly); a flag LaunchDarkly lacks is logged once, until it exists.
    fn global(&self, data: &Data, flag: &'static FlagMeta) -> Option<String> {
        let key = key_of(flag);
        let mut missing = lock(&self.missing);
        let Some(detail) = data.evaluate(key, &self.service) else {
            if missing.insert(flag.env()) {
                tracing::info!(
                    target: "flags_launchdarkly",
                    "{}: LaunchDarkly has no flag `{key}`, so the flag keeps the value it has \
                     without LaunchDarkly (from the environment, its default or an override)",
                    flag.env(),
                );
            }
            return None;
        };
        missing.remove(flag.env());
        decide::global_text(flag, &detail)
    }

    fn refused_once(&self, message: String) {
        let mut refused = lock(&self.refused);
        if refused.as_ref() != Some(&message) {
            tracing::error!(
                target: "flags_launchdarkly",
                "{message}; the flags keep the last good values"
            );
            *refused = Some(message);
        }
    }

    /// Closes the SDK's client off the runtime's threads: it waits for its last events to be
    /// sent.
    fn close(&self) {
        let client = Arc::clone(&self.client);
        tokio::task::spawn_blocking(move || client.close());
    }
}

/// What the source's driver runs: it takes each change the SDK stores, and closes the SDK's
/// client when the last handle is dropped.
async fn run(shared: Arc<Shared>) {
    loop {
        let changed = shared.watch.changed();
        // A change stored before the wait began is taken now.
        shared.take();
        if shared.stopped.load(Ordering::Acquire) {
            break;
        }
        tokio::select! {
            () = changed => {}
            () = shared.stop.notified() => {}
        }
    }
    shared.close();
}

/// Stops the driver when the last handle is dropped.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.stop.notify_one();
    }
}

/// The key of the LaunchDarkly flag that manages `flag`.
pub(crate) fn key_of(flag: &FlagMeta) -> &'static str {
    flag.managed_as()
}

/// Whether `key` can be a server-side SDK key, without ever showing it.
fn check_sdk_key(key: &str) -> Result<(), StartError> {
    let wrong = |why: &str| StartError::Settings(format!("LAUNCHDARKLY_SDK_KEY {why}"));
    if key.trim().is_empty() {
        return Err(wrong("is empty; expected a server-side SDK key (`sdk-…`)"));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(wrong(
            "has a space or a control character; an SDK key has none (was it copied with a line \
             break?)",
        ));
    }
    if key.starts_with("mob-") {
        return Err(wrong(
            "is a mobile key (`mob-…`); a server takes the environment's server-side SDK key \
             (`sdk-…`)",
        ));
    }
    Ok(())
}

/// Whether `url`, the value of `variable`, is an http or https URL with a host.
fn check_url(variable: &str, url: &str) -> Result<(), StartError> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !host
                    .contains(|c: char| c.is_whitespace() || c == '?' || c == '#' || c == '@') =>
        {
            Ok(())
        }
        _ => Err(StartError::Settings(format!(
            "{variable}: `{url}` is not an http or https URL without credentials, query or \
             fragment; expected one such as https://relay.example.com:8030"
        ))),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
