//! Making a change: [`Live::commit`], the one path every change takes, and the synchronous ways
//! in ([`Live::commit_blocking`] and the changes SPEC names: apply, reset, rollback).

use std::sync::Arc;

use super::change::{Attempt, Change, Kind};
use super::error::ChangeError;
use super::state::{Overrides, State, stored};
use super::store::{CommitOutcome, Stored, StoredOverride};
use super::sync::overrides_of;
use super::{AuditEvent, Live};
use crate::flags::FeatureFlags;
use crate::snapshot::Snapshot;

/// How many times a change made on no version in particular catches up with other instances'
/// changes and is made again on top, before it gives up.
const ATTEMPTS: u32 = 10;

/// What [`Live::commit_detailed`] made of a change it did not refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Committed {
    /// The version the change made; for a change that changed nothing, the version the flags
    /// were at, which it left as it was.
    pub version: u64,
    /// Whether it made a version. A change whose every override already holds the value it
    /// asks for (a value saved again as it is, a rollback to the same values) makes none, and
    /// is not audited: nothing happened.
    pub changed: bool,
}

/// A change ready to commit: what it was made on, what it makes, and its audit event.
struct Prepared<S> {
    attempt: Attempt,
    previous: u64,
    next: Overrides,
    snapshot: Snapshot<S>,
    event: AuditEvent,
}

impl<S> Prepared<S> {
    /// The change, refused for `error` on the version it was made on.
    fn refused(self, error: ChangeError) -> Refusal {
        Refusal {
            attempt: self.attempt,
            version: self.previous,
            error,
        }
    }
}

/// A change that will not be made, with what it found (for its audit event).
struct Refusal {
    attempt: Attempt,
    /// The version it was tried on.
    version: u64,
    error: ChangeError,
}

impl<S: FeatureFlags> Live<S> {
    /// Makes `change`: validated as a load is (every problem reported at once), kept by the
    /// store if there is one, then swapped in for readers as a new version, which it returns; or
    /// not made at all, with why ([`ChangeError`]). Audited either way.
    ///
    /// Local changes are made one at a time: a change waits for the one before it. With a store
    /// that other instances share, a change made on no version in particular that finds the
    /// store ahead takes the store's version ([`Live::sync`]) and is made again on top, ten
    /// times at most ([`ChangeError::Overtaken`]); one made on a version
    /// ([`Change::if_version`]) is refused instead ([`ChangeError::Stale`]).
    ///
    /// A change that changes nothing (every override it makes already holds the value it asks
    /// for) makes no version: it returns the version the flags are at, and is not audited.
    /// [`Live::commit_detailed`] says which it was.
    ///
    /// The future waits on the store and on the change before; it holds no lock a reader needs.
    pub async fn commit(&self, change: Change) -> Result<u64, ChangeError> {
        self.commit_detailed(change)
            .await
            .map(|committed| committed.version)
    }

    /// [`Live::commit`], saying whether the change made a version ([`Committed::changed`]):
    /// what an API answers so that its caller knows a save changed nothing.
    pub async fn commit_detailed(&self, change: Change) -> Result<Committed, ChangeError> {
        let changed = |version| Committed {
            version,
            changed: true,
        };
        let _turn = self.writers.lock().await;
        let mut attempts = 0;
        // The store's version that these flags refused, when the change is made on it instead.
        let mut refused_version = self.refused_store_version();
        loop {
            attempts += 1;
            let prepared = match self.prepare(&change, refused_version.as_ref()) {
                Ok(Some(prepared)) => prepared,
                Ok(None) => {
                    // A retry of a change made here finds its values in place: answered as the
                    // change was.
                    let remembered = change
                        .key()
                        .and_then(|key| self.lock().key(key).map(|(version, _)| version));
                    if let Some(version) = remembered {
                        return Ok(changed(version));
                    }
                    let version = self.version();
                    return Ok(Committed {
                        version,
                        changed: false,
                    });
                }
                Err(refusal) => return Err(self.refuse(*refusal).await),
            };
            // A retry of a change made here: answered as it was, from memory.
            if let Some(key) = change.key() {
                let made = self
                    .lock()
                    .key(key)
                    .map(|(version, event)| (version, event.asks_as(&prepared.event)));
                match made {
                    Some((version, true)) => return Ok(changed(version)),
                    Some((version, false)) => {
                        let key = key.to_owned();
                        let refusal = prepared.refused(ChangeError::KeyInUse { key, version });
                        return Err(self.refuse(refusal).await);
                    }
                    None => {}
                }
            }
            let Some(store) = &self.store else {
                return Ok(changed(self.publish(prepared)));
            };
            let next = stored(&prepared.next, prepared.snapshot.version());
            let outcome = store
                .commit(prepared.previous, &next, &prepared.event)
                .await;
            let newer = match outcome {
                Ok(CommitOutcome::Committed) => return Ok(changed(self.publish(prepared))),
                Ok(CommitOutcome::Behind(newer)) => newer,
                Ok(CommitOutcome::AlreadyCommitted { version }) => {
                    // Made before (its answer was lost): the flags catch up with it, as far as
                    // the store says; a store that follows its database takes it anyway.
                    if let Some(key) = change.key_arc() {
                        self.lock().remember_key(key, version, &prepared.event);
                    }
                    if let Some(stored) = store.read().ok().flatten()
                        && let Err(refused) = self.sync(stored)
                    {
                        self.record_refused_version(refused).await;
                    }
                    return Ok(changed(version));
                }
                Ok(CommitOutcome::KeyInUse { version }) => {
                    let key = change.key().unwrap_or_default().to_owned();
                    let refusal = prepared.refused(ChangeError::KeyInUse { key, version });
                    return Err(self.refuse(refusal).await);
                }
                // A store that cannot keep the change may keep its audit later (flags-postgres
                // writes it when the database is back).
                Err(error) => return Err(self.refuse(prepared.refused(error.into())).await),
            };
            let found = newer.version;
            // Other instances' changes, taken as any version from the store is (a store that went
            // back, restored from a backup, is followed back). One that does not load here
            // leaves these flags behind: the change is made again on what the store holds, so
            // that a change that repairs it (resets or fixes what this build refuses) can go on.
            let taken = match found < prepared.previous {
                true => self.adopt(newer.clone()),
                false => self.sync(newer.clone()),
            };
            refused_version = match taken {
                Ok(_) => None,
                Err(refused) => {
                    self.record_refused_version(refused).await;
                    Some(newer)
                }
            };
            let error = match change.expected_version() {
                Some(expected) => ChangeError::Stale { expected, found },
                None if attempts == ATTEMPTS => ChangeError::Overtaken { attempts, found },
                None => continue,
            };
            return Err(self.refuse(prepared.refused(error)).await);
        }
    }

    /// [`Live::commit`], waiting on the calling thread: for a synchronous application, with no
    /// runtime. With a store that waits on a network, call it where blocking the thread is fine
    /// (not on an async runtime's thread: there, await [`Live::commit`]).
    pub fn commit_blocking(&self, change: Change) -> Result<u64, ChangeError> {
        pollster::block_on(self.commit(change))
    }

    /// Sets each variable to its text, as one change by `actor` ([`Change::set`]): parsed as a
    /// variable's text, then the whole struct validated as a load is. Applied whole, as a new
    /// version (returned), or not at all, with every problem in the error; audited either way.
    /// An empty text unsets the flag over what the environment says (the default applies);
    /// [`Live::reset`] goes back to what it says. Waits as [`Live::commit_blocking`] does.
    pub fn apply<I, K, V>(&self, pairs: I, actor: &str) -> Result<u64, ChangeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.commit_blocking(Change::set(actor, pairs))
    }

    /// Removes the overrides of `variables`, as one change by `actor` ([`Change::reset`]): each
    /// goes back to what the loaded sources say (`.env` files, the environment, its default).
    /// Validated, applied whole and audited as [`Live::apply`] is.
    pub fn reset<I, K>(&self, variables: I, actor: &str) -> Result<u64, ChangeError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.commit_blocking(Change::reset(actor, variables))
    }

    /// Goes back to the previous version's overrides, as a new version by `actor`
    /// ([`Change::rollback`]). Validated, applied whole and audited as [`Live::apply`] is; an
    /// error when there is no earlier version in this process's history.
    pub fn rollback(&self, actor: &str) -> Result<u64, ChangeError> {
        self.commit_blocking(Change::rollback(actor))
    }

    /// What the store holds, when these flags refused it (a version this build does not load):
    /// a change is made on it, so that one that repairs it can go on.
    fn refused_store_version(&self) -> Option<Stored> {
        let refused = self.lock().refused?;
        let stored = self.store.as_ref()?.read().ok()??;
        (stored.version == refused).then_some(stored)
    }

    /// The change made on the flags as they are now (or, with `on`, on the store's version they
    /// refused): its overrides, built and validated, with its audit event; `None` when it changes
    /// nothing; or why it cannot be made.
    fn prepare(
        &self,
        change: &Change,
        on: Option<&Stored>,
    ) -> Result<Option<Prepared<S>>, Box<Refusal>> {
        let state = self.lock();
        let previous = on.map_or(state.version, |stored| stored.version);
        let version = previous + 1;
        let mut attempt = Attempt::of(version, change);
        let mut managed = Vec::new();
        let next = match (&change.kind, on) {
            (Kind::Edit(edits), Some(stored)) => Some(rebased::<S>(
                &state,
                stored,
                edits,
                &mut attempt,
                &mut managed,
            )),
            // A rollback goes to a version this instance had, which it did not have of this one.
            (Kind::Rollback | Kind::Restore(_), Some(_)) => None,
            (Kind::Edit(edits), None) => {
                Some(edited::<S>(&state, edits, &mut attempt, &mut managed))
            }
            (Kind::Rollback, None) => rolled_back::<S>(&state, &mut attempt),
            (Kind::Restore(saved), None) => {
                let mut next = state.overrides.clone();
                for (env, saved) in saved {
                    attempt.touched.extend(S::__schema().index_of(env));
                    match saved {
                        Some(entry) => next.insert(env, entry.clone()),
                        None => next.remove(env),
                    };
                }
                Some(next)
            }
        };
        let tried_on = previous;
        let refused = |attempt, error| {
            Box::new(Refusal {
                attempt,
                version: tried_on,
                error,
            })
        };
        if let Some(expected) = change.expected_version()
            && expected != previous
        {
            let found = previous;
            return Err(refused(attempt, ChangeError::Stale { expected, found }));
        }
        let Some(next) = next else {
            let version = previous;
            return Err(refused(attempt, ChangeError::NothingToRollBack { version }));
        };
        if let Some(service) = managed.first().and_then(|env| state.services.manager(env)) {
            let service = Arc::clone(service);
            let error = ChangeError::Managed {
                service,
                variables: managed,
            };
            return Err(refused(attempt, error));
        }
        // A change with problems of its own (a name that is no flag's) is still built, so that
        // its error lists every problem at once.
        let built = state.build::<S>(&next, version);
        let snapshot = match built {
            Ok(snapshot) if attempt.problems.is_empty() => snapshot,
            built => {
                if let Err(error) = built {
                    attempt.problems.extend(error.into_problems());
                }
                let error = ChangeError::Rejected(attempt.error());
                return Err(refused(attempt, error));
            }
        };
        // Nothing to make: every override holds what it held. (With a store others share, the
        // store may be a version ahead that this instance has not heard of yet: the change then
        // comes before that version, which it leaves as it was.)
        if on.is_none() && same_values(&state.overrides, &next) {
            return Ok(None);
        }
        let current = self.current.load();
        let event = attempt.applied::<S>(&current, &snapshot);
        Ok(Some(Prepared {
            attempt,
            previous,
            next,
            snapshot,
            event,
        }))
    }

    /// Makes a prepared change the flags, if they are still at the version it was made on, and
    /// returns its version. A store's follower may have taken the change already (an instance is
    /// told of its own commits too); then it only remains to audit it.
    fn publish(&self, prepared: Prepared<S>) -> u64 {
        let Prepared {
            attempt,
            previous,
            next,
            mut snapshot,
            event,
        } = prepared;
        let version = snapshot.version();
        // Audited before anyone can see it: a subscriber that acts on it (a log level raised)
        // comes after.
        self.record(&event);
        let mut state = self.lock();
        if let Some(key) = &attempt.key {
            state.remember_key(key, version, &event);
        }
        state.remember(event);
        // Made on the flags' version, or on the store's that they refused (and now leave).
        if state.version == previous || state.refused == Some(previous) {
            state.refused = None;
            if state.services.revision != snapshot.revision() {
                // A flag service pushed while the store kept the change: on top of its values.
                match state.build::<S>(&next, version) {
                    Ok(rebuilt) => snapshot = rebuilt,
                    Err(error) => tracing::error!(
                        target: "flags::live",
                        "version {version} does not load with the values a flag service pushed \
                         meanwhile, so readers see it with the service's previous values:\n{error}"
                    ),
                }
            }
            state.advance(next, version);
            self.show(state, snapshot, &attempt.touched);
        }
        version
    }

    /// Audits a change that will not be made (in the store too, when it keeps an audit), and
    /// returns why.
    async fn refuse(&self, refusal: Refusal) -> ChangeError {
        let Refusal {
            attempt,
            version,
            error,
        } = refusal;
        let event = attempt.rejected::<S>(&self.current.load(), version, error.to_string());
        self.audit_refusal(self.lock(), &event);
        self.record_in_store(&event).await;
        error
    }

    /// Hands the audit event of a version of the store these flags refused to the store (the
    /// first time they refuse it).
    async fn record_refused_version(&self, refused: super::Refused) {
        if let (Some(event), Some(store)) = (refused.event, &self.store)
            && let Err(error) = store.record_refused_version(&event).await
        {
            tracing::error!(target: "flags::audit", "the store cannot record an audit event: {error}");
        }
    }

    /// Hands the audit event of a rejected change to the store, when it keeps an audit.
    async fn record_in_store(&self, event: &AuditEvent) {
        let Some(store) = &self.store else { return };
        if let Err(error) = store.record(event).await {
            tracing::error!(target: "flags::audit", "the store cannot record an audit event: {error}");
        }
    }
}

/// Whether `before` and `after` override the same variables with the same values, whoever set
/// them and when.
fn same_values(before: &Overrides, after: &Overrides) -> bool {
    before.len() == after.len()
        && before
            .iter()
            .zip(after)
            .all(|((env, old), (next_env, new))| env == next_env && old.value == new.value)
}

/// The flag an edit of `name` to `value` may change, recorded as asked; `None`, with its problem
/// recorded, for a name that is no flag's or a flag that cannot change live, and for a flag a
/// service manages (its variable goes to `managed`).
fn editable<S: FeatureFlags>(
    state: &State,
    name: &str,
    value: Option<&String>,
    attempt: &mut Attempt,
    managed: &mut Vec<&'static str>,
) -> Option<&'static crate::meta::FlagMeta> {
    let flag = attempt.known::<S>(name);
    attempt.requested(name, flag, value);
    let flag = flag?;
    if state.services.manager(flag.env()).is_some() {
        managed.push(flag.env());
        return None;
    }
    attempt.changes_live(flag).then_some(flag)
}

/// The overrides `edits` make of the current ones, with the attempt's problems recorded; the
/// variables of managed flags it names go to `managed`, and stay as they are.
fn edited<S: FeatureFlags>(
    state: &State,
    edits: &[(String, Option<String>)],
    attempt: &mut Attempt,
    managed: &mut Vec<&'static str>,
) -> Overrides {
    let mut next = state.overrides.clone();
    for (name, value) in edits {
        let Some(flag) = editable::<S>(state, name, value.as_ref(), attempt, managed) else {
            continue;
        };
        match value {
            Some(value) if !attempt.holdable(flag, value) => {}
            Some(value) => {
                let entry = super::state::Override {
                    value: value.clone(),
                    actor: Arc::clone(&attempt.actor),
                    version: attempt.version,
                };
                next.insert(flag.env(), entry);
            }
            None => {
                next.remove(flag.env());
            }
        }
    }
    next
}

/// The overrides `edits` make of what the store holds (`stored`, a version these flags refused),
/// with the attempt's problems recorded: those of the change, and those of each of the store's
/// overrides it leaves as they are that this build does not load. A reset removes the store's
/// override of its variable whatever the flag (one this build lacks, one read only at start):
/// that is how such an override is repaired.
fn rebased<S: FeatureFlags>(
    state: &State,
    stored: &Stored,
    edits: &[(String, Option<String>)],
    attempt: &mut Attempt,
    managed: &mut Vec<&'static str>,
) -> Overrides {
    let mut entries = stored.overrides.clone();
    for (name, value) in edits {
        let held = entries.iter().position(|entry| entry.env == *name);
        if let (None, Some(held)) = (value, held) {
            let index = S::__schema().index_of(name);
            attempt.touched.extend(index);
            let flag = index.map(|index| &S::FLAGS[index]);
            attempt.requested(name, flag, None);
            entries.remove(held);
            continue;
        }
        let Some(flag) = editable::<S>(state, name, value.as_ref(), attempt, managed) else {
            continue;
        };
        entries.retain(|entry| entry.env != flag.env());
        if let Some(value) = value
            && attempt.holdable(flag, value)
        {
            entries.push(StoredOverride {
                env: flag.env().to_owned(),
                value: value.clone(),
                actor: attempt.actor.to_string(),
                version: attempt.version,
            });
        }
    }
    let (next, mut problems) = overrides_of::<S>(entries);
    attempt.problems.append(&mut problems);
    next
}

/// The previous version's overrides, with the flags they change recorded as touched; `None`
/// when this process keeps no version before the current one.
fn rolled_back<S: FeatureFlags>(state: &State, attempt: &mut Attempt) -> Option<Overrides> {
    let (_, previous) = state
        .history
        .back()
        .filter(|(version, _)| *version + 1 == state.version)?;
    for (index, flag) in S::FLAGS.iter().enumerate() {
        if state.overrides.get(flag.env()) != previous.get(flag.env()) {
            attempt.touched.push(index);
        }
    }
    Some(previous.clone())
}
