//! What live flags hold besides the snapshot readers see: the loaded sources, the overrides of
//! the current version and its history, the values flag services push, the recent audit; and how
//! a snapshot is built from them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::audit::AuditEvent;
use super::store::{Stored, StoredOverride};
use crate::decision::{Decide, Deciders};
use crate::error::{FlagsError, Problem};
use crate::flags::{FeatureFlags, load_from};
use crate::meta::FlagMeta;
use crate::provenance::Source;
use crate::snapshot::Snapshot;
use crate::source::{Raw, Vars};

/// What changes hold while they are made; behind the flags' lock, which is never held across a
/// store's work.
pub(super) struct State {
    /// The loaded sources, under the overrides.
    pub(super) base: Vars,
    pub(super) overrides: Overrides,
    pub(super) version: u64,
    /// Earlier versions and their overrides, newest last.
    pub(super) history: VecDeque<(u64, Overrides)>,
    pub(super) history_len: usize,
    /// The values flag services push, over the overrides, and which service manages which flag.
    pub(super) services: Services,
    /// Recent audit events, newest last.
    pub(super) audit: VecDeque<AuditEvent>,
    pub(super) audit_len: usize,
    /// The newest version from the store that did not load here ([`Live::sync`]), reported once.
    ///
    /// [`Live::sync`]: super::Live::sync
    pub(super) refused: Option<u64>,
    /// The idempotency keys of the last changes made here, each with its version and its audit
    /// event (what it asked for), newest last.
    pub(super) keys: VecDeque<(Arc<str>, u64, AuditEvent)>,
}

/// How many changes' idempotency keys a process keeps.
const KEYS: usize = 1000;

/// The overrides of one version, by variable.
pub(super) type Overrides = BTreeMap<&'static str, Override>;

/// One flag's override: its text, and who set it in which version.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Override {
    pub(super) value: String,
    pub(super) actor: Arc<str>,
    pub(super) version: u64,
}

impl Override {
    /// Where its value comes from, as a snapshot's provenance and a problem name it.
    pub(super) fn source(&self) -> Source {
        Source::Override {
            actor: Arc::clone(&self.actor),
            version: self.version,
        }
    }
}

/// The flag services that manage flags ([`Live::managed_by`](super::Live::managed_by)), and the
/// values they pushed.
#[derive(Default)]
pub(super) struct Services {
    /// Each managed flag's variable, with its service.
    pub(super) managers: BTreeMap<&'static str, Arc<str>>,
    /// The value each service gave a flag it manages; a flag it gave none keeps the value of the
    /// sources and overrides under it.
    pub(super) values: BTreeMap<&'static str, String>,
    /// A digest of `values`, which the snapshot carries as its revision: equal values, equal
    /// revision, on every instance.
    pub(super) revision: u64,
    /// The revision of the last push that was refused, logged once.
    pub(super) refused: Option<u64>,
    /// What decides per user the flags of each service that handed a decider over.
    pub(super) deciders: BTreeMap<Arc<str>, Arc<dyn Decide>>,
}

impl Services {
    /// The service that manages the flag whose variable is `env`.
    pub(super) fn manager(&self, env: &str) -> Option<&Arc<str>> {
        self.managers.get(env)
    }

    /// Each flag's decider, by position, for a snapshot of `S`; `None` when no service handed
    /// one over.
    fn deciders<S: FeatureFlags>(&self) -> Option<Deciders> {
        if self.deciders.is_empty() {
            return None;
        }
        let decider = |flag: &FlagMeta| {
            let service = self.manager(flag.env())?;
            self.deciders.get(service).map(Arc::clone)
        };
        Some(S::FLAGS.iter().map(decider).collect())
    }
}

impl State {
    /// The struct with `overrides` on top of the loaded sources, and the services' values on top
    /// of both, as version `version`.
    pub(super) fn build<S: FeatureFlags>(
        &self,
        overrides: &Overrides,
        version: u64,
    ) -> Result<Snapshot<S>, FlagsError> {
        build(&self.base, overrides, &self.services, version)
    }

    /// Keeps `event` among the recent ones.
    pub(super) fn remember(&mut self, event: AuditEvent) {
        self.audit.push_back(event);
        while self.audit.len() > self.audit_len {
            self.audit.pop_front();
        }
    }

    /// Keeps the idempotency key of a change that made `version`, with its event.
    pub(super) fn remember_key(&mut self, key: &Arc<str>, version: u64, event: &AuditEvent) {
        if self.keys.len() == KEYS {
            self.keys.pop_front();
        }
        self.keys
            .push_back((Arc::clone(key), version, event.clone()));
    }

    /// The version and event of the change made here with `key`, if this process keeps it.
    pub(super) fn key(&self, key: &str) -> Option<(u64, &AuditEvent)> {
        self.keys
            .iter()
            .rev()
            .find(|(kept, _, _)| &**kept == key)
            .map(|(_, version, event)| (*version, event))
    }

    /// Makes `next` the overrides, as `version`, keeping the ones it replaces in the history.
    pub(super) fn advance(&mut self, next: Overrides, version: u64) {
        let previous = std::mem::replace(&mut self.overrides, next);
        let previous_version = std::mem::replace(&mut self.version, version);
        self.history.push_back((previous_version, previous));
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
    }
}

/// The struct loaded from `base` with `overrides` and the services' values on top, as version
/// `version`.
pub(super) fn build<S: FeatureFlags>(
    base: &Vars,
    overrides: &Overrides,
    services: &Services,
    version: u64,
) -> Result<Snapshot<S>, FlagsError> {
    let mut vars = base.clone();
    for (env, entry) in overrides {
        let source = vars.add_source(entry.source());
        vars.set(env, &entry.value, source);
    }
    for (env, value) in &services.values {
        if let Some(service) = services.manager(env) {
            let source = vars.add_source(Source::Service {
                service: Arc::clone(service),
            });
            vars.set(env, value, source);
        }
    }
    let (value, warnings) = load_from::<S>(&vars)?;
    let provenance = vars.provenance();
    let mut snapshot = Snapshot::new(value, provenance, warnings, version, services.revision);
    snapshot.deciders = services.deciders::<S>();
    Ok(snapshot)
}

/// The warnings for overrides from the store that replace a value the loaded sources set: an
/// operator who sets the environment should know a change made live still wins over it.
pub(super) fn replaced_by_store<S: FeatureFlags>(
    base: &Vars,
    overrides: &Overrides,
) -> Vec<Problem> {
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
            Some(Problem::LikelyMistake {
                flag: flag.field(),
                env: flag.env(),
                note: format!(
                    "the store's override replaces the value from the {}",
                    base.source_of(index)
                ),
                source: entry.source(),
            })
        })
        .collect()
}

/// `overrides` as a store keeps them, as version `version`.
pub(super) fn stored(overrides: &Overrides, version: u64) -> Stored {
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
