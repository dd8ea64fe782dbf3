//! The errors of live flags, one per layer: a change that did not happen ([`ChangeError`]), a
//! start that failed ([`LoadError`]), a version from elsewhere that does not load here
//! ([`Refused`]), and a flag service's source that cannot start ([`ServiceError`]). A store's own errors are [`StoreError`]s, which these carry.

use std::fmt;
use std::sync::Arc;

use super::AuditEvent;
use super::store::StoreError;
use crate::error::FlagsError;

/// Why a change was not made. Nothing changed, and the attempt is audited (rejected), whatever
/// the reason; each variant says what happened, so that a caller (an HTTP API, say) answers with
/// one `match`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChangeError {
    /// The change does not load: each problem, as a load reports them (a value of the wrong
    /// type, an unmet requirement, a variable that names no flag, a flag that cannot change live).
    Rejected(FlagsError),
    /// The change was made on a version ([`Change::if_version`](super::Change::if_version)) that
    /// the flags are no longer at: another change came first. Read them again and redo it.
    Stale {
        /// The version the change was made on.
        expected: u64,
        /// The version the flags are at.
        found: u64,
    },
    /// The change, made on no version in particular, found other instances' changes ahead of it
    /// in a shared store each time it caught up with them and tried again, until it gave up.
    Overtaken {
        /// How many times it was tried.
        attempts: u32,
        /// The version the store was at the last time.
        found: u64,
    },
    /// A rollback with no earlier version in this process's history.
    NothingToRollBack {
        /// The version the flags are at.
        version: u64,
    },
    /// The change names flags that a flag service manages ([`Live::managed_by`]): they change
    /// there, not here.
    ///
    /// [`Live::managed_by`]: super::Live::managed_by
    Managed {
        /// The service (`unleash`, `launchdarkly`).
        service: Arc<str>,
        /// The variables of the flags it manages that the change names.
        variables: Vec<&'static str>,
    },
    /// The store could not keep the change: [`StoreError::is_retryable`] says whether trying
    /// again can help; [`StoreError::OutcomeUnknown`] says it may have been kept after all.
    Store(StoreError),
    /// The change's idempotency key was given to another change, which asked for something
    /// else ([`Change::idempotency_key`](super::Change::idempotency_key)).
    KeyInUse {
        /// The key.
        key: String,
        /// The version the other change made.
        version: u64,
    },
}

impl ChangeError {
    /// The problems of a [`ChangeError::Rejected`] change; none for the other kinds.
    pub fn problems(&self) -> &[crate::Problem] {
        match self {
            Self::Rejected(error) => error.problems(),
            _ => &[],
        }
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(error) => write!(f, "{error}"),
            Self::Stale { expected, found } if expected < found => write!(
                f,
                "the flags changed since version {expected}: they are at version {found}; read \
                 them again and redo the change"
            ),
            Self::Stale { expected, found } => write!(
                f,
                "the change was made on version {expected}, but the flags are at version \
                 {found}; read them again and redo the change"
            ),
            Self::Overtaken { attempts, found } => write!(
                f,
                "other instances' changes came first each of the {attempts} times this change \
                 was tried (the store is at version {found}); try it again"
            ),
            Self::NothingToRollBack { version } => write!(
                f,
                "nothing to roll back: version {version} has no earlier version in this process"
            ),
            Self::Managed { service, variables } => {
                let (verb, pronoun) = match variables.len() {
                    1 => ("is", "it"),
                    _ => ("are", "them"),
                };
                write!(
                    f,
                    "{} {verb} managed by {service}: change {pronoun} in {service}",
                    variables.join(", ")
                )
            }
            Self::Store(error @ StoreError::OutcomeUnknown { .. }) => write!(
                f,
                "the store may or may not have kept the change (read the flags again before \
                 retrying it, or retry it with the same idempotency key): {error}"
            ),
            Self::Store(error) => write!(f, "the store could not keep the change: {error}"),
            Self::KeyInUse { key, version } => write!(
                f,
                "the idempotency key {key:?} was given to another change (version {version}), \
                 which asked for something else: give this change a key of its own"
            ),
        }
    }
}

impl std::error::Error for ChangeError {}

impl From<StoreError> for ChangeError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Why live flags could not start ([`Builder::load`](super::Builder::load)).
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The flags do not load from their sources (the store aside).
    Flags(FlagsError),
    /// The store cannot be read.
    Store(StoreError),
    /// The store keeps overrides this build does not load (a flag gone, a value it no longer
    /// accepts: a newer or older build set them). Starting without them would let this
    /// instance's next change wipe them for every instance, so it does not start.
    Overrides(FlagsError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flags(error) => write!(f, "{error}"),
            Self::Store(error) => write!(f, "{error}"),
            Self::Overrides(error) => write!(
                f,
                "{error}\nthe store keeps overrides this build does not load: reset them (DELETE \
                 /api/admin/feature-flags/VARIABLE, or Live::reset) with the build that set \
                 them, or remove them from the store"
            ),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<FlagsError> for LoadError {
    fn from(error: FlagsError) -> Self {
        Self::Flags(error)
    }
}

/// A version from a store, or values from a flag service, that do not load here: the flags stay
/// as they were ([`Live::sync`](super::Live::sync)).
#[derive(Debug)]
pub struct Refused {
    /// Each problem, as a load reports them.
    pub error: FlagsError,
    /// The audit event of the refusal, the first time this version is refused, for a store that
    /// keeps an audit to keep ([`Store::record`](super::Store::record)); `None` once it has been
    /// refused before.
    pub event: Option<Box<AuditEvent>>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Refused {}

/// Why a flag service's source cannot start (flags-unleash, flags-launchdarkly): a caller maps it
/// with one `match`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServiceError {
    /// The source's settings are wrong (a URL that is not the service's, a key with a space):
    /// what is wrong, naming the variable, never a key's value.
    Settings(String),
    /// The service refused the key: the message names the key's variable, never its value.
    Refused(String),
    /// Some flags cannot be managed by the service (a secret named by
    /// `#[flag(managed_as = …)]`, a flag another service manages).
    Flags(FlagsError),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Settings(message) | ServiceError::Refused(message) => {
                f.write_str(message)
            }
            ServiceError::Flags(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServiceError::Flags(error) => Some(error),
            _ => None,
        }
    }
}
