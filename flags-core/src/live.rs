//! Live flags: change flags while the application runs, validated as a load is, applied whole or
//! not at all, audited, kept in a store across restarts, and rolled back.
//!
//! ```
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader};
//!
//! #[derive(Debug, FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     #[flag(default = false, requires = "WHATSAPP_TOKEN")]
//!     whatsapp_enabled: bool,
//!     #[flag(env = "WHATSAPP_TOKEN", secret, live)]
//!     whatsapp_token: Option<flags_core::secrecy::SecretString>,
//! }
//!
//! let flags = Live::<Settings>::load(Loader::new().map([("WHATSAPP_TOKEN", "t0ken")]))?;
//! assert!(!flags.get().whatsapp_enabled); // a snapshot: cheap, never blocks
//!
//! let version = flags.apply([("FEATURE_WHATSAPP_ENABLED", "true")], "alice")?;
//! assert!(flags.get().whatsapp_enabled);
//! assert_eq!(flags.version(), version);
//!
//! // Validated as a load is: a change that breaks a requirement changes nothing.
//! let refused = flags.apply([("WHATSAPP_TOKEN", "")], "mallory").unwrap_err();
//! assert_eq!(
//!     refused.to_string(),
//!     "FEATURE_WHATSAPP_ENABLED: \"true\" requires WHATSAPP_TOKEN, which is not set \
//!      (from override by alice (version 1))"
//! );
//! assert_eq!(flags.version(), version);
//!
//! flags.rollback("alice")?; // the previous version's values, as a new version
//! assert!(!flags.get().whatsapp_enabled);
//! assert_eq!(flags.audit().len(), 3); // applied, rejected, applied
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The model
//!
//! A change is one more source on top of the loaded ones (`.env` files, maps, the process
//! environment): an override per variable, with who set it and in which version. Each change
//! parses its values with the same rules as a variable's, then rebuilds the whole struct and
//! validates it (`requires`, `when`, unknown names) exactly as a load does; one bad value among
//! ten changes nothing, and the error is the report a load gives. Readers see the old snapshot or
//! the new one, never a mix. A flag marked `#[flag(restart)]` cannot change live, nor can a
//! secret unless its flag says `#[flag(secret, live)]`; a secret's value never enters an audit event, a
//! log line or an error.
//!
//! # One path for a change
//!
//! A change is a value, a [`Change`], and [`Live::commit`] makes it: validated, kept in the
//! store if there is one, then swapped in for readers. A conditional change
//! ([`Change::if_version`]) goes the same way. An async application awaits
//! [`Live::commit`]; a synchronous one calls [`Live::commit_blocking`] (or [`Live::apply`],
//! [`Live::reset`], [`Live::rollback`], which build the change for it), which waits for the same
//! future on the calling thread, with no runtime. A refused change says why in a
//! [`ChangeError`], one variant per reason.
//!
//! # Stores, and flags changed elsewhere
//!
//! A [`Store`] keeps the overrides across restarts ([`FileStore`], or `flags-postgres`, which
//! many instances share); a store that follows changes made by other instances hands each new
//! version to [`Live::sync`], through the [`Follower`] it is given. A flag service (Unleash,
//! LaunchDarkly) that drives some flags holds them with [`Live::managed_by`] and pushes their
//! values through the [`Managed`] handle it gets: validated as a change is, audited with the
//! service as actor, never half-applied; a local change to a flag it manages is refused
//! ([`ChangeError::Managed`]).

mod audit;
mod change;
mod commit;
mod driver;
mod error;
mod file_store;
#[cfg(feature = "metrics")]
mod gauges;
/// Without the `metrics` feature, no gauges to set.
#[cfg(not(feature = "metrics"))]
mod gauges {
    pub(super) fn changed<S>(_: &crate::Snapshot<S>, _: &[usize]) {}
}
mod managed;
mod scoped;
mod state;
mod store;
mod sync;

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use arc_swap::{ArcSwap, Guard};

pub use audit::{
    AuditChange, AuditEvent, AuditKind, AuditSink, JsonLinesAudit, Outcome, TracingAudit,
};
pub use change::Change;
pub use commit::Committed;
pub use driver::Driver;
pub use error::{ChangeError, LoadError, Refused, ServiceError};
pub use file_store::FileStore;
pub use managed::Managed;
pub use scoped::Scoped;
pub use store::{
    AuditPage, CommitOutcome, Store, StoreError, StoreFuture, StoreState, Stored, StoredOverride,
};
pub use sync::Follower;

use state::{Overrides, Services, State, build, replaced_by_store};
use sync::overrides_of;

use crate::error::{FlagsError, Problem};
use crate::flags::FeatureFlags;
use crate::snapshot::Snapshot;
use crate::source::Loader;

/// Flags that change while the application runs: see the [module documentation](self).
///
/// `Live<S>` is `Send + Sync`: share it (`Arc<Live<S>>`, or a `static`) between threads and
/// tasks. Reads never block; changes are made one at a time.
pub struct Live<S> {
    current: ArcSwap<Snapshot<S>>,
    /// Held for what a change computes, never across a store's work.
    state: Mutex<State>,
    /// One local change at a time, from reading the flags to swapping the new ones in: held
    /// across the store's commit, so it is a lock a task can wait for without blocking a thread.
    writers: tokio::sync::Mutex<()>,
    store: Option<Box<dyn Store>>,
    sinks: Vec<Box<dyn AuditSink>>,
    subscribers: Arc<Subscribers<S>>,
}

type Subscribers<S> = Mutex<Vec<(u64, Arc<dyn Fn(&Snapshot<S>) + Send + Sync>)>>;

/// How a [`Live`] is set up: its store, its audit sinks, how much history it keeps.
pub struct Builder<S> {
    store: Option<Box<dyn Store>>,
    sinks: Vec<Box<dyn AuditSink>>,
    tracing: bool,
    history_len: usize,
    audit_len: usize,
    flags: PhantomData<fn() -> S>,
}

impl<S> Default for Builder<S> {
    fn default() -> Self {
        Self {
            store: None,
            sinks: Vec::new(),
            tracing: true,
            history_len: 100,
            audit_len: 1000,
            flags: PhantomData,
        }
    }
}

impl<S: FeatureFlags> Builder<S> {
    /// Keeps the overrides in `store`, and starts from what it holds: a change survives a
    /// restart. Without a store, overrides last as long as the process.
    pub fn store(mut self, store: impl Store + 'static) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// Also records every audit event in `sink` (a [`JsonLinesAudit`] file, say).
    pub fn audit_sink(mut self, sink: impl AuditSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Does not log audit events with `tracing` (target `flags::audit`), which it does by default.
    pub fn without_tracing_audit(mut self) -> Self {
        self.tracing = false;
        self
    }

    /// How many earlier versions to keep for [`Live::rollback`] (100 by default).
    pub fn history(mut self, versions: usize) -> Self {
        self.history_len = versions;
        self
    }

    /// How many recent events [`Live::audit`] returns (1000 by default); sinks get them all.
    pub fn audit_len(mut self, events: usize) -> Self {
        self.audit_len = events;
        self
    }

    /// Loads the flags from `loader`'s sources with the store's overrides on top, validated as a
    /// load is. A store that cannot be read ([`LoadError::Store`]), or whose overrides no longer
    /// load ([`LoadError::Overrides`]: a flag gone, a value this build does not accept) is an
    /// error naming it: never silently empty flags. The load's warnings are logged (WARN, target
    /// `flags`), as [`Loader::load`] logs them, and kept in the first snapshot's
    /// [`warnings`](Snapshot::warnings): among them, each override from the store that replaces
    /// a value the loaded sources set.
    pub fn load(self, loader: Loader) -> Result<Live<S>, LoadError> {
        let base = loader.read(S::__schema());
        let stored = match &self.store {
            Some(store) => store.read().map_err(LoadError::Store)?,
            None => None,
        };
        let (overrides, version) = match stored {
            Some(stored) => {
                let (overrides, problems) = overrides_of::<S>(stored.overrides);
                if !problems.is_empty() {
                    return Err(LoadError::Overrides(FlagsError::new(problems)));
                }
                (overrides, stored.version)
            }
            None => (Overrides::new(), 0),
        };
        let services = Services::default();
        let mut snapshot = build::<S>(&base, &overrides, &services, version).map_err(|error| {
            // Without the store's overrides it would load: they are what this build refuses.
            match build::<S>(&base, &Overrides::new(), &services, version) {
                Ok(_) => LoadError::Overrides(error),
                Err(_) => LoadError::Flags(error),
            }
        })?;
        let replaced = replaced_by_store::<S>(&base, &overrides);
        snapshot.warnings.extend(replaced);
        // Logged as `Loader::load` logs a load's warnings, and kept in the snapshot.
        snapshot.warnings.iter().for_each(Problem::log);
        #[cfg(feature = "metrics")]
        gauges::export(&snapshot, None, None);
        Ok(Live::from_parts(base, overrides, snapshot, self))
    }
}

impl<S: FeatureFlags> Live<S> {
    /// Loads the flags from `loader`'s sources, to change them live; overrides last as long as
    /// the process. [`Live::builder`] adds a store, audit sinks and limits.
    pub fn load(loader: Loader) -> Result<Self, FlagsError> {
        let base = loader.read(S::__schema());
        let snapshot = build::<S>(&base, &Overrides::new(), &Services::default(), 0)?;
        snapshot.warnings.iter().for_each(Problem::log);
        #[cfg(feature = "metrics")]
        gauges::export(&snapshot, None, None);
        Ok(Self::from_parts(
            base,
            Overrides::new(),
            snapshot,
            Builder::default(),
        ))
    }

    /// How a `Live` is set up before it loads.
    pub fn builder() -> Builder<S> {
        Builder::default()
    }

    /// The flags now: a snapshot that derefs to `S` and says where each value came from. Cheap
    /// (an atomic load), never blocks, never allocates; hold it briefly (a request's length),
    /// and read it again for the next.
    pub fn get(&self) -> Current<S> {
        Current(self.current.load())
    }

    /// The flags now, as an `Arc` to keep as long as needed (across an `.await`).
    pub fn snapshot(&self) -> Arc<Snapshot<S>> {
        self.current.load_full()
    }

    /// A handle for one thread that reads the flags in a hot loop: after the first read, a read
    /// costs a check that nothing changed.
    pub fn reader(&self) -> Reader<'_, S> {
        Reader {
            cache: arc_swap::Cache::new(&self.current),
        }
    }

    /// The version the flags are at: 0 as loaded (or the store's), one more for each change.
    pub fn version(&self) -> u64 {
        self.current.load().version()
    }

    /// How the flags stand with their store, for a health check: `None` without a store;
    /// [`StoreHealth::Behind`] when the store holds a version this build refused (the flags stay
    /// at an older one until it holds what this build loads), else the store's own
    /// [`StoreState`].
    pub fn store_health(&self) -> Option<StoreHealth> {
        let store = self.store.as_ref()?;
        if let Some(version) = self.lock().refused {
            return Some(StoreHealth::Behind { store: version });
        }
        Some(match store.state() {
            StoreState::Unreachable { reason } => StoreHealth::Unreachable { reason },
            _ => StoreHealth::Ready,
        })
    }

    /// The recent audit events, oldest first, newest last (see [`Builder::audit_len`]): the
    /// store's, when it keeps an audit that instances share ([`Store::audit`]), else this
    /// process's (also when the store cannot be read: then with a warning logged). Waits for
    /// the store on the calling thread, as [`Live::commit_blocking`] does: from async code,
    /// await [`Live::audit_events`].
    pub fn audit(&self) -> Vec<AuditEvent> {
        let len = self.lock().audit_len;
        pollster::block_on(self.audit_events(AuditPage::newest(len)))
    }

    /// The audit events of `page`, oldest first, as [`Live::audit`] gives them: the newest,
    /// or, with [`AuditPage::before`], those of the page before a page read already.
    pub async fn audit_events(&self, page: AuditPage) -> Vec<AuditEvent> {
        let own = || {
            let state = self.lock();
            let before = |event: &&AuditEvent| page.before.is_none_or(|before| event.at < before);
            let events: Vec<&AuditEvent> = state.audit.iter().filter(before).collect();
            let skip = events.len().saturating_sub(page.limit);
            events.into_iter().skip(skip).cloned().collect()
        };
        let Some(reading) = self.store.as_ref().and_then(|store| store.audit(page)) else {
            return own();
        };
        match reading.await {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(
                    target: "flags::audit",
                    "cannot read the store's audit, so only this process's is shown: {error}"
                );
                own()
            }
        }
    }

    /// Calls `on_change` with each new version's snapshot, on the thread that made the change,
    /// after readers see it (a cache to clear, a pool to resize), until the returned
    /// [`Subscription`] is dropped. It must not change the flags itself.
    pub fn subscribe(
        &self,
        on_change: impl Fn(&Snapshot<S>) + Send + Sync + 'static,
    ) -> Subscription
    where
        S: 'static,
    {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        lock(&self.subscribers).push((id, Arc::new(on_change)));
        let subscribers: Weak<Subscribers<S>> = Arc::downgrade(&self.subscribers);
        Subscription {
            remove: Some(Box::new(move || {
                if let Some(subscribers) = subscribers.upgrade() {
                    lock(&subscribers).retain(|(other, _)| *other != id);
                }
            })),
        }
    }

    fn from_parts(
        base: crate::source::Vars,
        overrides: Overrides,
        snapshot: Snapshot<S>,
        builder: Builder<S>,
    ) -> Self {
        let mut sinks = builder.sinks;
        if builder.tracing {
            sinks.insert(0, Box::new(TracingAudit));
        }
        let version = snapshot.version();
        Self {
            current: ArcSwap::from_pointee(snapshot),
            state: Mutex::new(State {
                base,
                overrides,
                version,
                history: VecDeque::new(),
                history_len: builder.history_len,
                services: Services::default(),
                audit: VecDeque::new(),
                audit_len: builder.audit_len,
                refused: None,
                keys: VecDeque::new(),
            }),
            writers: tokio::sync::Mutex::new(()),
            store: builder.store,
            sinks,
            subscribers: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes `snapshot` what readers see, then tells subscribers (after the flags' lock is
    /// released, which `state` is); `changed` are the positions of the flags whose values it
    /// changes, for the metrics.
    fn show(&self, state: MutexGuard<'_, State>, snapshot: Snapshot<S>, changed: &[usize]) {
        // Under the lock, so that readers see versions in the order they were made.
        self.current.store(Arc::new(snapshot));
        drop(state);
        // The flags as they are now, not the snapshot just stored: another change may have been
        // shown since the lock was released, and subscribers must end on the newest.
        let latest = self.current.load_full();
        gauges::changed(&latest, changed);
        let subscribers: Vec<_> = lock(&self.subscribers)
            .iter()
            .map(|(_, subscriber)| Arc::clone(subscriber))
            .collect();
        for subscriber in subscribers {
            subscriber(&latest);
        }
    }

    /// Keeps `event`, the audit event of a change or version refused, among the recent ones,
    /// then (with the flags' lock, `state`, released) hands it to every audit sink and counts it.
    fn audit_refusal(&self, mut state: MutexGuard<'_, State>, event: &AuditEvent) {
        state.remember(event.clone());
        drop(state);
        self.record(event);
        #[cfg(feature = "metrics")]
        metrics::counter!("flags_changes_total", "outcome" => "rejected").increment(1);
    }

    /// Hands `event` to every audit sink; a sink that fails is logged.
    fn record(&self, event: &AuditEvent) {
        for sink in &self.sinks {
            if let Err(error) = sink.record(event) {
                tracing::error!(target: "flags::audit", "cannot record an audit event: {error}");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How live flags stand with their store ([`Live::store_health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreHealth {
    /// The store can be used, and the flags are at a version it held.
    Ready,
    /// The store cannot be reached: the flags are the last it gave, and changes are refused.
    Unreachable {
        /// Why, in one line.
        reason: String,
    },
    /// The store holds a version this build does not load: the flags stay at an older one.
    Behind {
        /// The version the store holds.
        store: u64,
    },
}

/// The flags now, as [`Live::get`] returns them: derefs to the [`Snapshot`], which derefs to
/// `S`.
pub struct Current<S>(Guard<Arc<Snapshot<S>>>);

impl<S> Deref for Current<S> {
    type Target = Snapshot<S>;

    fn deref(&self) -> &Snapshot<S> {
        &self.0
    }
}

/// One thread's handle to read live flags in a hot loop ([`Live::reader`]).
pub struct Reader<'a, S> {
    cache: arc_swap::Cache<&'a ArcSwap<Snapshot<S>>, Arc<Snapshot<S>>>,
}

impl<S> Reader<'_, S> {
    /// The flags now. After the first call, this costs one check that nothing changed.
    pub fn get(&mut self) -> &Snapshot<S> {
        self.cache.load()
    }
}

/// Calls a [`Live::subscribe`] callback until dropped.
pub struct Subscription {
    remove: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(remove) = self.remove.take() {
            remove();
        }
    }
}
