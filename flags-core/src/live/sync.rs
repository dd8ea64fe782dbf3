//! Following a store that other instances write too: [`Live::sync`], and [`Follower`], the
//! flags as a store that pushes versions holds them.

use std::sync::Arc;

use super::Live;
use super::change::Attempt;
use super::error::Refused;
use super::state::{Override, Overrides};
use super::store::{Stored, StoredOverride};
use crate::error::{FlagsError, Problem};
use crate::flags::FeatureFlags;

/// Live flags as a store that pushes other instances' versions holds them, whatever their
/// settings struct: what `flags-postgres` hands each version it reads to.
pub trait Follower: Send + Sync {
    /// Takes a version the store holds: [`Live::sync`].
    fn sync(&self, stored: Stored) -> Result<Option<u64>, Refused>;

    /// Takes what the store holds although it went back: [`Live::adopt`].
    fn adopt(&self, stored: Stored) -> Result<Option<u64>, Refused>;

    /// The version the flags are at: [`Live::version`].
    fn version(&self) -> u64;
}

impl<S: FeatureFlags + Send + Sync> Follower for Live<S> {
    fn sync(&self, stored: Stored) -> Result<Option<u64>, Refused> {
        Live::sync(self, stored)
    }

    fn adopt(&self, stored: Stored) -> Result<Option<u64>, Refused> {
        Live::adopt(self, stored)
    }

    fn version(&self) -> u64 {
        Live::version(self)
    }
}

impl<S: FeatureFlags> Live<S> {
    /// Takes what a store shared with other instances holds, when one of them committed a newer
    /// version: its overrides are validated with this build's rules, as a change made here is,
    /// and swapped in as that version (readers, history, subscribers and metrics as for a change
    /// made here; the instance that made the change has audited it). `Ok(None)` when the store is
    /// at no newer version than these flags.
    ///
    /// What does not load here (an override of a flag this build lacks, or a value it does not
    /// accept: a newer build wrote it) is refused: the flags stay as they are, the refusal is
    /// logged once per version (ERROR, target `flags::live`) and audited by this process's
    /// sinks, and the error lists its problems, with the refusal's audit event the first time,
    /// for a store that keeps an audit to keep ([`Refused::event`]). A change made here on the
    /// version it stays at conflicts with the store's until the store holds what this build can
    /// load.
    ///
    /// It takes the flags' lock for as long as building them takes, and waits on nothing else:
    /// a store may call it from its own task.
    ///
    /// ```
    /// use flags_core::live::{Live, Stored, StoredOverride};
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(FeatureFlags)]
    /// struct Settings {
    ///     #[flag(default = false)]
    ///     beta: bool,
    /// }
    ///
    /// let flags = Live::<Settings>::load(Loader::new())?;
    /// let beta = |value: &str| StoredOverride {
    ///     env: "BETA".into(),
    ///     value: value.into(),
    ///     actor: "alice".into(),
    ///     version: 4,
    /// };
    /// let synced = flags.sync(Stored { version: 4, overrides: vec![beta("on")] })?;
    /// assert_eq!(synced, Some(4));
    /// assert!(flags.get().beta);
    ///
    /// let refused = flags.sync(Stored { version: 5, overrides: vec![beta("maybe")] });
    /// assert!(refused.unwrap_err().event.is_some());
    /// assert_eq!(flags.version(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sync(&self, stored: Stored) -> Result<Option<u64>, Refused> {
        self.take(stored, Taking::Newer)
    }

    /// Takes what a store holds although its version is older than these flags' own: the store
    /// went back (a database restored from a backup, say), and it is the truth every instance
    /// follows. Validated and swapped in as [`Live::sync`] does, with an ERROR logged (target
    /// `flags::live`) saying from which version to which, and the history of earlier versions
    /// forgotten (a rollback would go to a version the store no longer knows). `Ok(None)` when
    /// the flags are at that version already.
    pub fn adopt(&self, stored: Stored) -> Result<Option<u64>, Refused> {
        self.take(stored, Taking::Any)
    }

    fn take(&self, stored: Stored, taking: Taking) -> Result<Option<u64>, Refused> {
        let mut state = self.lock();
        let version = stored.version;
        let back = version < state.version;
        match taking {
            Taking::Newer if version <= state.version => return Ok(None),
            Taking::Any if version == state.version => return Ok(None),
            _ => {}
        }
        // Who made the version, and what it changes, for the audit of a refusal.
        let actor: Arc<str> = stored
            .overrides
            .iter()
            .find(|entry| entry.version == version)
            .map_or(Arc::from("store"), |entry| Arc::from(entry.actor.as_str()));
        let mut attempt = Attempt::stored(version, &actor);
        let schema = S::__schema();
        for entry in &stored.overrides {
            let same = state
                .overrides
                .get(entry.env.as_str())
                .is_some_and(|current| current.value == entry.value);
            if !same {
                let index = schema.index_of(&entry.env);
                attempt.touched.extend(index);
                let flag = index.map(|index| &schema.flags()[index]);
                attempt.requested(&entry.env, flag, Some(&entry.value));
            }
        }
        for env in state.overrides.keys() {
            if !stored.overrides.iter().any(|entry| entry.env == *env) {
                let index = schema.index_of(env);
                attempt.touched.extend(index);
                attempt.requested(env, index.map(|index| &schema.flags()[index]), None);
            }
        }

        let (next, mut problems) = overrides_of::<S>(stored.overrides);
        match state.build::<S>(&next, version) {
            Ok(snapshot) if problems.is_empty() => {
                if back {
                    tracing::error!(
                        target: "flags::live",
                        "the store went back from version {} to version {version} (was its \
                         database restored from a backup?): following it, as every instance does",
                        state.version
                    );
                } else {
                    tracing::info!(
                        target: "flags::live",
                        "version {version} from the store (this instance was at {})",
                        state.version
                    );
                }
                state.refused = None;
                state.advance(next, version);
                if back {
                    // What `advance` kept is of a version the store no longer knows.
                    state.history.clear();
                }
                self.show(state, snapshot, &attempt.touched);
                return Ok(Some(version));
            }
            Ok(_) => {}
            Err(error) => problems.extend(error.into_problems()),
        }
        let error = FlagsError::new(problems);
        if state.refused == Some(version) {
            return Err(Refused { error, event: None });
        }
        state.refused = Some(version);
        tracing::error!(
            target: "flags::live",
            "version {version} from the store does not load here, so this instance keeps \
             version {}:\n{error}",
            state.version
        );
        attempt.problems = error.problems().to_vec();
        let event = attempt.rejected::<S>(&self.current.load(), version, error.to_string());
        self.audit_refusal(state, &event);
        Err(Refused {
            error,
            event: Some(Box::new(event)),
        })
    }
}

/// Which versions of a store [`Live::take`] takes.
enum Taking {
    /// Newer ones than the flags' own: other instances' changes.
    Newer,
    /// Any other: the store went back.
    Any,
}

/// A store's overrides as a change's, with the problem of each that names no flag, or a flag
/// that cannot change live.
pub(super) fn overrides_of<S: FeatureFlags>(
    stored: Vec<StoredOverride>,
) -> (Overrides, Vec<Problem>) {
    let mut overrides = Overrides::new();
    let mut problems = Vec::new();
    for entry in stored {
        let actor: Arc<str> = Arc::from(entry.actor.as_str());
        let mut attempt = Attempt::stored(entry.version, &actor);
        if let Some(flag) = attempt.changeable::<S>(&entry.env) {
            overrides.insert(
                flag.env(),
                Override {
                    value: entry.value,
                    actor,
                    version: entry.version,
                },
            );
        }
        problems.append(&mut attempt.problems);
    }
    (overrides, problems)
}
