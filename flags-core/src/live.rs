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
//! # Ok::<(), flags_core::FlagsError>(())
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

mod audit;
mod change;
#[cfg(feature = "metrics")]
mod gauges;
mod store;
mod sync;

use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use arc_swap::{ArcSwap, Guard};

pub use audit::{AuditChange, AuditEvent, AuditSink, JsonLinesAudit, Outcome, TracingAudit};
pub use store::{FileStore, Store, StoreError, Stored, StoredOverride};

use change::Change;

use crate::error::{FlagsError, Problem};
use crate::flags::{FeatureFlags, load_from};
use crate::provenance::Source;
use crate::snapshot::Snapshot;
use crate::source::{Loader, Raw, Vars};

/// Flags that change while the application runs: see the [module documentation](self).
///
/// `Live<S>` is `Send + Sync`: share it (`Arc<Live<S>>`, or a `static`) between threads and
/// tasks. Reads never block; changes are serialized.
pub struct Live<S> {
    current: ArcSwap<Snapshot<S>>,
    state: Mutex<State>,
    /// Written to only under `state`'s lock, one change at a time; read without it.
    store: Option<Box<dyn Store>>,
    subscribers: Arc<Subscribers<S>>,
}

/// What changes hold while they are made, one at a time.
struct State {
    /// The loaded sources, under the overrides.
    base: Vars,
    overrides: Overrides,
    version: u64,
    /// Earlier versions and their overrides, newest last.
    history: VecDeque<(u64, Overrides)>,
    history_len: usize,
    /// Recent audit events, newest last.
    audit: VecDeque<AuditEvent>,
    audit_len: usize,
    sinks: Vec<Box<dyn AuditSink>>,
    /// The newest version from the store that did not load here ([`Live::sync`]), reported once.
    refused: Option<u64>,
}

/// Why a commit did not happen: refused (audited, with its problems), or behind the store, to
/// catch up with and make again.
enum Refusal {
    Refused(FlagsError),
    Behind,
}

/// The overrides of one version, by variable.
type Overrides = BTreeMap<&'static str, Override>;

#[derive(Clone, PartialEq, Eq)]
struct Override {
    value: String,
    actor: Arc<str>,
    version: u64,
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
    /// load is. A store that cannot be read, or whose overrides no longer load (a flag gone, a
    /// value this build does not accept), is an error naming it: never silently empty flags.
    /// The load's warnings are logged (WARN, target `flags`), as [`Loader::load`] logs them, and
    /// kept in the first snapshot's [`warnings`](Snapshot::warnings): among them, each override
    /// from the store that replaces a value the loaded sources set.
    pub fn load(self, loader: Loader) -> Result<Live<S>, FlagsError> {
        let base = loader.read(S::__schema());
        let (overrides, version) = match &self.store {
            Some(store) => read_store::<S>(store.as_ref()).map_err(with_store_advice)?,
            None => (Overrides::new(), 0),
        };
        let mut snapshot = build::<S>(&base, &overrides, version).map_err(|error| {
            // Without the store's overrides it would load: they are what this build refuses.
            match build::<S>(&base, &Overrides::new(), version) {
                Ok(_) => with_store_advice(error),
                Err(_) => error,
            }
        })?;
        let replaced = replaced_by_store::<S>(&base, &overrides);
        snapshot.warnings.extend(replaced);
        // Logged as `Loader::load` logs a load's warnings, and kept in the snapshot.
        snapshot.warnings.iter().for_each(Problem::log);
        let mut sinks = self.sinks;
        if self.tracing {
            sinks.insert(0, Box::new(TracingAudit));
        }
        #[cfg(feature = "metrics")]
        gauges::export(&snapshot, None);
        Ok(Live {
            current: ArcSwap::from_pointee(snapshot),
            state: Mutex::new(State {
                base,
                overrides,
                version,
                history: VecDeque::new(),
                history_len: self.history_len,
                audit: VecDeque::new(),
                audit_len: self.audit_len,
                sinks,
                refused: None,
            }),
            store: self.store,
            subscribers: Arc::default(),
        })
    }
}

impl<S: FeatureFlags> Live<S> {
    /// Loads the flags from `loader`'s sources, to change them live; overrides last as long as
    /// the process. [`Live::builder`] adds a store, audit sinks and limits.
    pub fn load(loader: Loader) -> Result<Self, FlagsError> {
        Self::builder().load(loader)
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

    /// Sets each variable to its text, as one change by `actor`: parsed as a variable's text,
    /// then the whole struct validated as a load is. Applied whole, as a new version (returned),
    /// or not at all, with every problem in the error; audited either way. An empty text unsets
    /// the flag over what the environment says (the default applies); [`Live::reset`] goes back
    /// to what it says.
    pub fn apply<I, K, V>(&self, pairs: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.apply_at(None, pairs, actor)
    }

    /// Makes the next change conditional on the flags still being at `version` (an HTTP
    /// `If-Match`): if another change came first, it is rejected with [`Problem::Conflict`].
    pub fn at(&self, version: u64) -> At<'_, S> {
        At {
            live: self,
            version,
        }
    }

    fn apply_at<I, K, V>(
        &self,
        expected: Option<u64>,
        pairs: I,
        actor: &str,
    ) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let edits = pairs
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self.edit(expected, edits.collect(), actor)
    }

    /// Sets some variables and resets others, as one change by `actor`: each variable with
    /// `Some(text)` is set as [`Live::apply`] sets it, each with `None` goes back to what the
    /// loaded sources say as [`Live::reset`] does. What an HTTP `PATCH` with a JSON object does,
    /// `null` resetting (RFC 7396). Validated, applied whole and audited as [`Live::apply`] is.
    ///
    /// ```
    /// # use flags_core::{FeatureFlags, Loader, live::Live};
    /// #[derive(FeatureFlags)]
    /// struct Settings {
    ///     #[flag(default = false)]
    ///     beta: bool,
    ///     #[flag(default = 10)]
    ///     limit: u32,
    /// }
    ///
    /// let flags = Live::<Settings>::load(Loader::new())?;
    /// flags.apply([("LIMIT", "20")], "alice")?;
    /// flags.patch([("BETA", Some("true")), ("LIMIT", None)], "alice")?;
    /// assert!(flags.get().beta);
    /// assert_eq!(flags.get().limit, 10);
    /// # Ok::<(), flags_core::FlagsError>(())
    /// ```
    pub fn patch<I, K, V>(&self, edits: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.patch_at(None, edits, actor)
    }

    fn patch_at<I, K, V>(
        &self,
        expected: Option<u64>,
        edits: I,
        actor: &str,
    ) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let edits = edits.into_iter().map(|(name, value)| {
            let value = value.map(|value| value.as_ref().to_owned());
            (name.as_ref().to_owned(), value)
        });
        self.edit(expected, edits.collect(), actor)
    }

    /// One change: each variable set to its text, or reset where it has none.
    ///
    /// A change made on no version in particular goes on whichever the store is at: when another
    /// instance sharing the store committed first, these flags catch up with it
    /// ([`Live::refresh`]) and the change is made again on top, ten times at most. One made on
    /// a version ([`Live::at`]) is refused instead.
    fn edit(
        &self,
        expected: Option<u64>,
        edits: Vec<(String, Option<String>)>,
        actor: &str,
    ) -> Result<u64, FlagsError> {
        const CATCH_UPS: usize = 10;
        let actor: Arc<str> = Arc::from(actor);
        let mut caught_up = 0;
        loop {
            let state = self.lock();
            let (next, change) = Self::edited(&state, expected, edits.clone(), &actor);
            let catch_up = expected.is_none() && caught_up < CATCH_UPS;
            match self.try_commit(state, next, change, catch_up) {
                Ok(version) => return Ok(version),
                Err(Refusal::Refused(error)) => return Err(error),
                Err(Refusal::Behind) => {
                    caught_up += 1;
                    // A version that does not load here is refused (logged, audited) by `sync`:
                    // the next attempt is the last, refused as conflicting.
                    if self.refresh().is_err() {
                        caught_up = CATCH_UPS;
                    }
                }
            }
        }
    }

    /// The overrides `edits` make of the current ones, as a change by `actor`, with its problems.
    fn edited(
        state: &State,
        expected: Option<u64>,
        edits: Vec<(String, Option<String>)>,
        actor: &Arc<str>,
    ) -> (Overrides, Change) {
        let version = state.version + 1;
        let mut next = state.overrides.clone();
        let mut change = Change::new(version, actor);
        change.expect(expected, state.version);
        for (name, value) in edits {
            let flag = change.known::<S>(&name);
            change.requested(&name, flag, value.as_ref());
            match (flag, value) {
                (Some(flag), Some(value)) if change.changes_live(flag) => {
                    let actor = Arc::clone(actor);
                    let entry = Override {
                        value,
                        actor,
                        version,
                    };
                    next.insert(flag.env(), entry);
                }
                (Some(flag), None) if change.changes_live(flag) => {
                    next.remove(flag.env());
                }
                _ => {}
            }
        }
        (next, change)
    }

    /// Reads the store and takes a newer version it holds, as [`Live::sync`] does: for a store
    /// that other processes write but that pushes nothing, to call now and then (a change made
    /// on no version in particular calls it when it finds the store ahead). `Ok(None)` without a
    /// store, or without a newer version in it. ([`FileStore`] is for one process: two that
    /// write one file can both commit the same version.)
    pub fn refresh(&self) -> Result<Option<u64>, FlagsError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        match store.read() {
            Ok(Some(stored)) => self.sync(stored),
            Ok(None) => Ok(None),
            Err(error) => Err(FlagsError::new(vec![Problem::from(error)])),
        }
    }

    /// Removes the overrides of `variables`, as one change by `actor`: each goes back to what the
    /// loaded sources say (`.env` files, the environment, its default). Validated, applied whole
    /// and audited as [`Live::apply`] is.
    pub fn reset<I, K>(&self, variables: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.reset_at(None, variables, actor)
    }

    fn reset_at<I, K>(
        &self,
        expected: Option<u64>,
        variables: I,
        actor: &str,
    ) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let edits = variables
            .into_iter()
            .map(|name| (name.as_ref().to_owned(), None));
        self.edit(expected, edits.collect(), actor)
    }

    /// Goes back to the previous version's overrides, as a new version by `actor` (so rolling
    /// back twice returns to where it began). Validated, applied whole and audited as
    /// [`Live::apply`] is; an error when there is no earlier version in this process's history.
    pub fn rollback(&self, actor: &str) -> Result<u64, FlagsError> {
        self.rollback_at(None, actor)
    }

    fn rollback_at(&self, expected: Option<u64>, actor: &str) -> Result<u64, FlagsError> {
        let state = self.lock();
        let actor: Arc<str> = Arc::from(actor);
        let mut change = Change::new(state.version + 1, &actor);
        change.expect(expected, state.version);
        let previous = state
            .history
            .back()
            .filter(|(version, _)| *version + 1 == state.version)
            .map(|(_, overrides)| overrides.clone());
        let Some(next) = previous else {
            if change.problems.is_empty() {
                change.problems.push(Problem::NothingToRollBack {
                    version: state.version,
                });
            }
            return self.commit(state, Overrides::new(), change);
        };
        let flags = S::FLAGS;
        for (index, flag) in flags.iter().enumerate() {
            if state.overrides.get(flag.env()) != next.get(flag.env()) {
                change.touched.push(index);
            }
        }
        self.commit(state, next, change)
    }

    /// Sets flags for as long as the returned guard lives, then puts back the overrides they had:
    /// for a test that needs some flags one way. Validated and audited as [`Live::apply`] is
    /// (the actor is `test scope`).
    pub fn scoped<I, K, V>(&self, pairs: I) -> Result<Scoped<'_, S>, FlagsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        let saved: Vec<(&'static str, Option<Override>)> = {
            let state = self.lock();
            let schema = S::__schema();
            let envs = pairs.iter().filter_map(|(name, _)| schema.index_of(name));
            envs.map(|index| {
                let env = schema.flags()[index].env();
                (env, state.overrides.get(env).cloned())
            })
            .collect()
        };
        self.apply(pairs, "test scope")?;
        Ok(Scoped { live: self, saved })
    }

    /// The recent audit events (see [`Builder::audit_len`]), oldest first, newest last: the
    /// store's, when it keeps an audit that instances share ([`Store::audit`]), else this
    /// process's (also when the store cannot be read: then with a warning logged).
    pub fn audit(&self) -> Vec<AuditEvent> {
        let (len, own) = {
            let state = self.lock();
            (state.audit_len, state.audit.iter().cloned().collect())
        };
        match self.store.as_ref().and_then(|store| store.audit(len)) {
            Some(Ok(events)) => events,
            Some(Err(error)) => {
                tracing::warn!(
                    target: "flags::audit",
                    "cannot read the store's audit, so only this process's is shown: {error}"
                );
                own
            }
            None => own,
        }
    }

    /// Hands the audit event of a rejected change to the store too, when it keeps one.
    fn record_rejected(&self, event: &AuditEvent) {
        if let Some(Err(error)) = self.store.as_ref().map(|store| store.record(event)) {
            tracing::error!(target: "flags::audit", "the store cannot record an audit event: {error}");
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

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes `next` the overrides as the change's new version, if the change found no problem
    /// and the struct loads with them, and the store takes them; audits the change either way.
    fn commit(
        &self,
        state: MutexGuard<'_, State>,
        next: Overrides,
        change: Change,
    ) -> Result<u64, FlagsError> {
        self.try_commit(state, next, change, false)
            .map_err(|refusal| match refusal {
                Refusal::Refused(error) => error,
                Refusal::Behind => unreachable!("only a commit that may catch up is behind"),
            })
    }

    /// [`Live::commit`], but when `catch_up` and the store is at a newer version than these
    /// flags, nothing is audited and the change is left to be made again ([`Refusal::Behind`]).
    fn try_commit(
        &self,
        mut state: MutexGuard<'_, State>,
        next: Overrides,
        mut change: Change,
        catch_up: bool,
    ) -> Result<u64, Refusal> {
        let version = change.version;
        let current = self.current.load_full();
        // A change with problems of its own (a name that is no flag's) is still built, so that
        // its error lists every problem at once; one made on a stale version, or with nothing to
        // go back to, is not: its values are beside the point.
        let beside_the_point = change.problems.iter().any(|problem| {
            matches!(
                problem,
                Problem::Conflict { .. } | Problem::NothingToRollBack { .. }
            )
        });
        let built = match beside_the_point {
            false => match build::<S>(&state.base, &next, version) {
                Ok(snapshot) => Some(snapshot).filter(|_| change.problems.is_empty()),
                Err(error) => {
                    change.problems.extend(error.into_problems());
                    None
                }
            },
            true => None,
        };
        // Whether the store holds a newer version (to catch up with after refusing), and
        // whether it cannot be reached (so it cannot keep the refusal's audit either).
        let (mut behind, mut unreachable) = (false, false);
        let snapshot = match (built, &self.store) {
            (Some(snapshot), Some(store)) => {
                let event = change.applied::<S>(&current, &snapshot);
                match store.commit(state.version, &stored(&next, version), &event) {
                    Ok(()) => Some((snapshot, event)),
                    Err(StoreError::Conflict { .. }) if catch_up => return Err(Refusal::Behind),
                    Err(StoreError::Conflict { expected, found }) => {
                        behind = true;
                        change.problems.push(Problem::Conflict { expected, found });
                        None
                    }
                    Err(error) => {
                        unreachable = true;
                        change.problems.push(Problem::from(error));
                        None
                    }
                }
            }
            (built, _) => built.map(|snapshot| {
                let event = change.applied::<S>(&current, &snapshot);
                (snapshot, event)
            }),
        };
        let Some((snapshot, event)) = snapshot else {
            let event = change.rejected::<S>(&current, state.version);
            record(&mut state, event.clone());
            drop(state);
            #[cfg(feature = "metrics")]
            metrics::counter!("flags_changes_total", "outcome" => "rejected").increment(1);
            // The store's work, after the lock: readers of the store may be waiting on it.
            if !unreachable {
                self.record_rejected(&event);
            }
            // Caught up, the next change made on the version these flags show can go through.
            if behind {
                let _ = self.refresh();
            }
            return Err(Refusal::Refused(FlagsError::new(change.problems)));
        };
        record(&mut state, event);
        self.publish(state, next, snapshot);
        Ok(version)
    }

    /// Makes `snapshot`, built from `next`, the flags: readers see it, the history keeps the
    /// overrides it replaces, and subscribers learn of it (after the lock is released).
    fn publish(&self, mut state: MutexGuard<'_, State>, next: Overrides, snapshot: Snapshot<S>) {
        let previous = std::mem::replace(&mut state.overrides, next);
        let previous_version = std::mem::replace(&mut state.version, snapshot.version());
        state.history.push_back((previous_version, previous));
        while state.history.len() > state.history_len {
            state.history.pop_front();
        }
        self.current.store(Arc::new(snapshot));
        drop(state);
        // The flags as they are now, not the snapshot this change made: another change may have
        // been published since the lock was released, and subscribers must end on the newest.
        let latest = self.current.load_full();
        #[cfg(feature = "metrics")]
        gauges::export(&latest, Some("applied"));
        let subscribers: Vec<_> = lock(&self.subscribers)
            .iter()
            .map(|(_, subscriber)| Arc::clone(subscriber))
            .collect();
        for subscriber in subscribers {
            subscriber(&latest);
        }
    }
}

/// Adds `event` to the recent events and hands it to every sink.
fn record(state: &mut State, event: AuditEvent) {
    for sink in &state.sinks {
        if let Err(error) = sink.record(&event) {
            tracing::error!(target: "flags::audit", "cannot record an audit event: {error}");
        }
    }
    state.audit.push_back(event);
    while state.audit.len() > state.audit_len {
        state.audit.pop_front();
    }
}

/// The struct loaded from `base` with `overrides` on top, as version `version`.
fn build<S: FeatureFlags>(
    base: &Vars,
    overrides: &Overrides,
    version: u64,
) -> Result<Snapshot<S>, FlagsError> {
    let mut vars = base.clone();
    for (env, entry) in overrides {
        let source = vars.add_source(Source::Override {
            actor: Arc::clone(&entry.actor),
            version: entry.version,
        });
        vars.set(env, &entry.value, source);
    }
    let (value, warnings) = load_from::<S>(&vars)?;
    Ok(Snapshot::new(value, vars.provenance(), warnings, version))
}

/// The overrides and version `store` holds; an error naming the store when it cannot be read, or
/// when it names a flag that does not exist or cannot change live.
fn read_store<S: FeatureFlags>(store: &dyn Store) -> Result<(Overrides, u64), FlagsError> {
    let stored = match store.read() {
        Ok(Some(stored)) => stored,
        Ok(None) => return Ok((Overrides::new(), 0)),
        Err(error) => return Err(FlagsError::new(vec![Problem::from(error)])),
    };
    let (overrides, problems) = overrides_of::<S>(stored.overrides);
    if problems.is_empty() {
        Ok((overrides, stored.version))
    } else {
        Err(FlagsError::new(problems))
    }
}

/// `error`, a load refused for the overrides a store keeps, with what to do about them: an
/// override outlives a deploy, and a build without its flag, or with stricter values, refuses it.
fn with_store_advice(error: FlagsError) -> FlagsError {
    if error
        .problems()
        .iter()
        .all(|problem| matches!(problem, Problem::Store { .. }))
    {
        return error;
    }
    let mut problems = error.into_problems();
    problems.push(Problem::Store {
        reason: String::from(
            "the store keeps overrides this build does not load: reset them (DELETE \
             /api/admin/feature-flags/VARIABLE, or Live::reset) with the build that set them, \
             or remove them from the store",
        ),
    });
    FlagsError::new(problems)
}

/// A store's overrides as a change's, with the problem of each that names no flag, or a flag
/// that cannot change live.
fn overrides_of<S: FeatureFlags>(stored: Vec<StoredOverride>) -> (Overrides, Vec<Problem>) {
    let mut overrides = Overrides::new();
    let mut problems = Vec::new();
    for entry in stored {
        let actor: Arc<str> = Arc::from(entry.actor.as_str());
        let mut change = Change::new(entry.version, &actor);
        if let Some(flag) = change.changeable::<S>(&entry.env) {
            overrides.insert(
                flag.env(),
                Override {
                    value: entry.value,
                    actor,
                    version: entry.version,
                },
            );
        }
        problems.append(&mut change.problems);
    }
    (overrides, problems)
}

/// The warnings for overrides from the store that replace a value the loaded sources set: an
/// operator who sets the environment should know a change made live still wins over it.
fn replaced_by_store<S: FeatureFlags>(base: &Vars, overrides: &Overrides) -> Vec<Problem> {
    let schema = S::__schema();
    overrides
        .iter()
        .filter_map(|(env, entry)| {
            let index = schema.index_of(env)?;
            let Raw::Text(text) = base.get(index) else {
                return None;
            };
            if text == entry.value {
                return None;
            }
            let flag = &schema.flags()[index];
            Some(Problem::Doubtful {
                flag: flag.field(),
                env: flag.env(),
                note: format!(
                    "the store's override replaces the value from the {}",
                    base.source_of(index)
                ),
                source: Source::Override {
                    actor: Arc::clone(&entry.actor),
                    version: entry.version,
                },
            })
        })
        .collect()
}

/// `overrides` as a store keeps them, as version `version`.
fn stored(overrides: &Overrides, version: u64) -> Stored {
    let overrides = overrides.iter().map(|(env, entry)| StoredOverride {
        env: (*env).to_owned(),
        value: entry.value.clone(),
        actor: entry.actor.to_string(),
        version: entry.version,
    });
    Stored {
        version,
        overrides: overrides.collect(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A change conditional on the flags' version ([`Live::at`]).
pub struct At<'a, S> {
    live: &'a Live<S>,
    version: u64,
}

impl<S: FeatureFlags> At<'_, S> {
    /// [`Live::apply`], if the flags are still at the version.
    pub fn apply<I, K, V>(&self, pairs: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.live.apply_at(Some(self.version), pairs, actor)
    }

    /// [`Live::reset`], if the flags are still at the version.
    pub fn reset<I, K>(&self, variables: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.live.reset_at(Some(self.version), variables, actor)
    }

    /// [`Live::patch`], if the flags are still at the version.
    pub fn patch<I, K, V>(&self, edits: I, actor: &str) -> Result<u64, FlagsError>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.live.patch_at(Some(self.version), edits, actor)
    }

    /// [`Live::rollback`], if the flags are still at the version.
    pub fn rollback(&self, actor: &str) -> Result<u64, FlagsError> {
        self.live.rollback_at(Some(self.version), actor)
    }
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

/// Flags set for a scope ([`Live::scoped`]): dropping it puts back the overrides they had.
pub struct Scoped<'a, S: FeatureFlags> {
    live: &'a Live<S>,
    saved: Vec<(&'static str, Option<Override>)>,
}

impl<S: FeatureFlags> Drop for Scoped<'_, S> {
    fn drop(&mut self) {
        let state = self.live.lock();
        let actor: Arc<str> = Arc::from("test scope");
        let mut change = Change::new(state.version + 1, &actor);
        let mut next = state.overrides.clone();
        for (env, saved) in self.saved.drain(..) {
            if let Some(index) = S::__schema().index_of(env) {
                change.touched.push(index);
            }
            match saved {
                Some(entry) => next.insert(env, entry),
                None => next.remove(env),
            };
        }
        if let Err(error) = self.live.commit(state, next, change) {
            tracing::error!(target: "flags::audit", "cannot put back flags set for a scope: {error}");
        }
    }
}
