//! Flags a flag service drives (Unleash, LaunchDarkly): [`Live::managed_by`] hands them to it,
//! and it pushes their values through the [`Managed`] handle it gets.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::Live;
use super::change::Attempt;
use super::error::ChangeError;
use crate::decision::Decide;
use crate::error::{FlagsError, Problem, Unmanageable};
use crate::flags::FeatureFlags;
use crate::meta::FlagMeta;
use crate::rollout::murmur3::Murmur3;

impl<S: FeatureFlags + Send + Sync + 'static> Live<S> {
    /// Hands the flags whose variables are `variables` to the flag service `service` (`unleash`,
    /// say): from now on their values are the ones it pushes through the returned handle
    /// ([`Managed::push`]), over the loaded sources and the store's overrides; until it pushes
    /// one, a flag keeps the value they give it. A local change that names one of them is refused
    /// ([`ChangeError::Managed`], naming the service).
    ///
    /// An error names every flag that cannot be handed over: a variable that is no flag's, a flag
    /// read only at start (`#[flag(restart)]`), a secret (a service's values are not secret), or
    /// a flag another service manages. A flag the store keeps an override of is handed over with
    /// a warning: the service's values win over it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use flags_core::live::{ChangeError, Live};
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(FeatureFlags)]
    /// struct Settings {
    ///     #[flag(default = false)]
    ///     new_checkout: bool,
    ///     #[flag(default = 10)]
    ///     limit: u32,
    /// }
    ///
    /// let flags = Arc::new(Live::<Settings>::load(Loader::new())?);
    /// let unleash = flags.managed_by("unleash", ["NEW_CHECKOUT"])?;
    /// assert!(unleash.push([("NEW_CHECKOUT", Some("true"))])?);
    /// assert!(flags.get().new_checkout);
    ///
    /// let refused = flags.apply([("NEW_CHECKOUT", "false")], "alice").unwrap_err();
    /// assert!(matches!(refused, ChangeError::Managed { .. }));
    /// assert_eq!(refused.to_string(), "NEW_CHECKOUT is managed by unleash: change it in unleash");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn managed_by<I, K>(
        self: &Arc<Self>,
        service: &str,
        variables: I,
    ) -> Result<Managed, FlagsError>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let service: Arc<str> = Arc::from(service);
        let mut state = self.lock();
        let mut attempt = Attempt::by_service(state.version, &service);
        let mut handed: Vec<&'static FlagMeta> = Vec::new();
        for name in variables {
            let Some(flag) = attempt.known::<S>(name.as_ref()) else {
                continue;
            };
            let reason = if flag.needs_restart() {
                Some(Unmanageable::ReadAtStart)
            } else if flag.is_secret() {
                Some(Unmanageable::Secret)
            } else {
                let other = state
                    .services
                    .manager(flag.env())
                    .filter(|other| other.as_ref() != service.as_ref());
                other.map(|other| Unmanageable::ManagedBy(Arc::clone(other)))
            };
            match reason {
                Some(reason) => attempt.problems.push(Problem::NotManageable {
                    flag: flag.field(),
                    env: flag.env(),
                    service: Arc::clone(&service),
                    reason,
                }),
                None => handed.push(flag),
            }
        }
        if !attempt.problems.is_empty() {
            return Err(FlagsError::new(attempt.problems));
        }
        for flag in &handed {
            if let Some(entry) = state.overrides.get(flag.env()) {
                Problem::LikelyMistake {
                    flag: flag.field(),
                    env: flag.env(),
                    note: format!(
                        "{service} manages it now, so its values win over the store's override; \
                         reset the override"
                    ),
                    source: entry.source(),
                }
                .log();
            }
            state
                .services
                .managers
                .insert(flag.env(), Arc::clone(&service));
        }
        drop(state);
        let live: Arc<dyn Push> = Arc::clone(self) as Arc<dyn Push>;
        Ok(Managed {
            live,
            service,
            variables: handed.iter().map(|flag| flag.env()).collect(),
        })
    }

    /// The flag service that manages the flag whose variable is `env` ([`Live::managed_by`]),
    /// if one does: a local change to it is refused.
    pub fn manager(&self, env: &str) -> Option<Arc<str>> {
        self.lock().services.manager(env).map(Arc::clone)
    }

    /// Sets the values of the flags `service` manages, and its decider when one is given, as
    /// [`Managed::push`] and [`Managed::push_deciding`] describe.
    fn push_values(
        &self,
        service: &Arc<str>,
        values: Vec<(String, Option<String>)>,
        decider: Option<Arc<dyn Decide>>,
    ) -> Result<bool, ChangeError> {
        let mut state = self.lock();
        let mut attempt = Attempt::by_service(state.version, service);
        let mut next = state.services.values.clone();
        let mut deciders = state.services.deciders.clone();
        if let Some(decider) = decider {
            deciders.insert(Arc::clone(service), decider);
        }
        for (name, value) in &values {
            let Some(flag) = attempt.known::<S>(name) else {
                continue;
            };
            if !handed(&state.services, service, flag, &mut attempt) {
                continue;
            }
            if let Some(text) = value
                && !attempt.holdable(flag, text)
            {
                continue;
            }
            if next.get(flag.env()) == value.as_ref() {
                // Named, but unchanged: not part of the change.
                attempt.touched.pop();
                continue;
            }
            attempt.requested(name, Some(flag), value.as_ref());
            match value {
                Some(value) => next.insert(flag.env(), value.clone()),
                None => next.remove(flag.env()),
            };
        }
        let values_changed = next != state.services.values;
        let rules = |deciders: &BTreeMap<Arc<str>, Arc<dyn Decide>>| {
            let revisions = deciders
                .iter()
                .map(|(service, decider)| (Arc::clone(service), decider.revision()));
            revisions.collect::<Vec<_>>()
        };
        let rules_changed = rules(&deciders) != rules(&state.services.deciders);
        if attempt.problems.is_empty() && !values_changed && !rules_changed {
            return Ok(false);
        }
        let revision = revision_of(&next, &deciders);
        let previous = std::mem::replace(&mut state.services.values, next);
        let previous_deciders = std::mem::replace(&mut state.services.deciders, deciders);
        let previous_revision = std::mem::replace(&mut state.services.revision, revision);
        let version = state.version;
        let built = state.build::<S>(&state.overrides, version);
        let snapshot = match built {
            Ok(snapshot) if attempt.problems.is_empty() => snapshot,
            built => {
                if let Err(error) = built {
                    attempt.problems.extend(error.into_problems());
                }
                state.services.values = previous;
                state.services.deciders = previous_deciders;
                state.services.revision = previous_revision;
                return Err(self.refuse_push(state, attempt, revision));
            }
        };
        state.services.refused = None;
        if !values_changed {
            // Only how the service decides per user changed (its rules): no value to audit.
            self.show(state, snapshot, &[]);
            return Ok(true);
        }
        let event = attempt.applied::<S>(&self.current.load(), &snapshot);
        state.remember(event.clone());
        self.show(state, snapshot, &attempt.touched);
        self.record(&event);
        Ok(true)
    }

    /// The public value the flag `name`, which `service` manages, would have were the service to
    /// give it `text`, every other flag as it is: validated as a push is, changing nothing.
    fn try_value(&self, service: &Arc<str>, name: &str, text: &str) -> Result<Value, FlagsError> {
        let mut state = self.lock();
        let mut attempt = Attempt::by_service(state.version, service);
        let Some(flag) = attempt.known::<S>(name) else {
            return Err(attempt.error());
        };
        if !handed(&state.services, service, flag, &mut attempt) || !attempt.holdable(flag, text) {
            return Err(attempt.error());
        }
        let mut next = state.services.values.clone();
        next.insert(flag.env(), text.to_owned());
        let previous = std::mem::replace(&mut state.services.values, next);
        let version = state.version;
        let built = state.build::<S>(&state.overrides, version);
        state.services.values = previous;
        let snapshot = built?;
        let index = S::__schema().index_of(flag.env()).unwrap_or_default();
        let mut public = None;
        (*snapshot).__visit_field(index, &mut PublicValue(&mut public));
        Ok(public.unwrap_or(Value::Null))
    }

    /// Audits and logs a push that does not load (once for the same values), and returns why.
    fn refuse_push(
        &self,
        mut state: std::sync::MutexGuard<'_, super::state::State>,
        attempt: Attempt,
        revision: u64,
    ) -> ChangeError {
        let error = attempt.error();
        if state.services.refused == Some(revision) {
            return ChangeError::Rejected(error);
        }
        state.services.refused = Some(revision);
        tracing::error!(
            target: "flags::live",
            "the values {} pushed do not load here, so the flags keep the last good ones:\n{error}",
            attempt.actor
        );
        let event = attempt.rejected::<S>(&self.current.load(), state.version, error.to_string());
        self.audit_refusal(state, &event);
        ChangeError::Rejected(error)
    }
}

/// Whether `flag` was handed to `service`; when not, `attempt` says so.
fn handed(
    services: &super::state::Services,
    service: &Arc<str>,
    flag: &'static FlagMeta,
    attempt: &mut Attempt,
) -> bool {
    if services.manager(flag.env()) == Some(service) {
        return true;
    }
    attempt.problems.push(Problem::NotManageable {
        flag: flag.field(),
        env: flag.env(),
        service: Arc::clone(service),
        reason: Unmanageable::NotHanded,
    });
    false
}

/// A digest of the services' values and of their deciders' rules: equal values and rules, equal
/// digest, on every instance and build.
fn revision_of(
    values: &BTreeMap<&'static str, String>,
    deciders: &BTreeMap<Arc<str>, Arc<dyn Decide>>,
) -> u64 {
    if values.is_empty() && deciders.is_empty() {
        return 0;
    }
    let digest = |seed| {
        let mut hash = Murmur3::new(seed);
        for (env, value) in values {
            hash = hash
                .write(env.as_bytes())
                .write(b"=")
                .write(value.as_bytes())
                .write(b"\0");
        }
        for (service, decider) in deciders {
            hash = hash
                .write(service.as_bytes())
                .write(b":")
                .write(&decider.revision().to_le_bytes())
                .write(b"\0");
        }
        hash.finish()
    };
    // Never 0, which says no service pushed anything.
    (u64::from(digest(0)) << 32 | u64::from(digest(1))).max(1)
}

/// Takes the public value of the one field it visits.
struct PublicValue<'a>(&'a mut Option<Value>);

impl crate::visit::Visitor for PublicValue<'_> {
    fn field(&mut self, _: usize, value: &dyn crate::visit::FieldValue) {
        *self.0 = Some(value.to_public());
    }
}

/// What a [`Managed`] handle pushes to, whatever the flags' struct.
trait Push: Send + Sync {
    fn try_value(&self, service: &Arc<str>, name: &str, text: &str) -> Result<Value, FlagsError>;

    fn push(
        &self,
        service: &Arc<str>,
        values: Vec<(String, Option<String>)>,
        decider: Option<Arc<dyn Decide>>,
    ) -> Result<bool, ChangeError>;
}

impl<S: FeatureFlags + Send + Sync + 'static> Push for Live<S> {
    fn try_value(&self, service: &Arc<str>, name: &str, text: &str) -> Result<Value, FlagsError> {
        Live::try_value(self, service, name, text)
    }

    fn push(
        &self,
        service: &Arc<str>,
        values: Vec<(String, Option<String>)>,
        decider: Option<Arc<dyn Decide>>,
    ) -> Result<bool, ChangeError> {
        self.push_values(service, values, decider)
    }
}

/// A flag service's hold on the flags it manages ([`Live::managed_by`]): it pushes their values
/// through it. Cloning it gives another handle on the same flags.
#[derive(Clone)]
pub struct Managed {
    live: Arc<dyn Push>,
    service: Arc<str>,
    variables: Vec<&'static str>,
}

impl Managed {
    /// The service's name, which audit events name as their actor.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The variables of the flags it manages.
    pub fn variables(&self) -> &[&'static str] {
        &self.variables
    }

    /// Sets each managed flag named to the service's value for it (`Some(text)`, read as the
    /// flag's variable would be), or to none (`None`: the flag keeps the value of the sources
    /// and overrides under it, as for a toggle the service does not have); flags not named keep
    /// what the service last gave them.
    ///
    /// Validated as a change is, with every other flag as it is: values that do not load here (a
    /// text the flag's type cannot hold, a requirement they break) are refused whole
    /// ([`ChangeError::Rejected`]), logged and audited once for the same values, and the flags
    /// keep the last good ones. Values that load are swapped in for readers, audited with the
    /// service as actor, and `Ok(true)` says so; `Ok(false)` when they change nothing (nothing is
    /// audited). The flags' [`version`](Live::version) stays: it counts the overrides, which
    /// instances share; the snapshot's [`revision`](crate::Snapshot::revision) changes.
    pub fn push<I, K, V>(&self, values: I) -> Result<bool, ChangeError>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.live.push(&self.service, owned(values), None)
    }

    /// The public value (as [`Snapshot::evaluate`](crate::Snapshot::evaluate) gives it) the flag
    /// whose variable is `name` would have were the service to push `text` for it, with every
    /// other flag as it is now: validated as a push is (the flag's type, the requirements), and
    /// changing nothing, auditing nothing. For a service that decides per user, to know before it
    /// serves a value to a user that the flag can hold it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use flags_core::live::Live;
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(FeatureFlags)]
    /// struct Settings {
    ///     #[flag(default = 10)]
    ///     limit: u32,
    /// }
    ///
    /// let flags = Arc::new(Live::<Settings>::load(Loader::new())?);
    /// let service = flags.managed_by("launchdarkly", ["LIMIT"])?;
    /// assert_eq!(service.try_value("LIMIT", "25")?, 25);
    /// assert!(service.try_value("LIMIT", "-1").is_err());
    /// assert_eq!(flags.get().limit, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_value(&self, name: &str, text: &str) -> Result<Value, FlagsError> {
        self.live.try_value(&self.service, name, text)
    }

    /// Pushes `values` as [`Managed::push`] does, and with them `decider`, which from then on
    /// decides per user the flags this service manages ([`Decide`]): both are swapped in together
    /// for readers, or, when the values are refused, neither. A push whose values change nothing
    /// but whose decider decides by other rules ([`Decide::revision`]) makes a new snapshot
    /// without an audit event (no value changed); `Ok(false)` when neither changes.
    pub fn push_deciding<I, K, V>(
        &self,
        values: I,
        decider: Arc<dyn Decide>,
    ) -> Result<bool, ChangeError>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.live.push(&self.service, owned(values), Some(decider))
    }
}

/// Pairs of a variable and a value, as owned text.
fn owned<I, K, V>(values: I) -> Vec<(String, Option<String>)>
where
    I: IntoIterator<Item = (K, Option<V>)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let values = values.into_iter().map(|(name, value)| {
        let value = value.map(|value| value.as_ref().to_owned());
        (name.as_ref().to_owned(), value)
    });
    values.collect()
}

impl std::fmt::Debug for Managed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Managed")
            .field("service", &self.service)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}
