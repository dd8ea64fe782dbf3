//! Where live overrides are kept between restarts and shared between instances: the [`Store`]
//! trait, what it keeps ([`Stored`]), and how it fails ([`StoreError`]).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::AuditEvent;

/// The overrides of one version, as a store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stored {
    /// The version these overrides make.
    pub version: u64,
    /// Each override, by variable.
    pub overrides: Vec<StoredOverride>,
}

/// One override: a flag's variable set to a value by an actor in a version.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOverride {
    /// The flag's variable.
    pub env: String,
    /// The text it is set to, as a variable would hold it.
    pub value: String,
    /// Who set it.
    pub actor: String,
    /// The version that set it.
    pub version: u64,
}

/// The value is left out: it may be a secret's.
impl fmt::Debug for StoredOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredOverride")
            .field("env", &self.env)
            .field("actor", &self.actor)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// What a store's work returns: a future, so that a store on a network (`flags-postgres`) waits
/// without holding a thread, and one that answers at once ([`FileStore`](super::FileStore))
/// returns a future that is already done.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Which audit events to read: the newest `limit` of those before `before` (all, without it),
/// as a page of a longer audit, read backwards from its newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPage {
    /// At most this many events.
    pub limit: usize,
    /// Only events strictly before this time: the `at` of the oldest event of the page before.
    pub before: Option<time::OffsetDateTime>,
}

impl AuditPage {
    /// The newest `limit` events.
    pub fn newest(limit: usize) -> Self {
        Self {
            limit,
            before: None,
        }
    }
}

/// How a commit went, when the store could be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The store holds the new overrides, as the new version.
    Committed,
    /// Another writer committed first: the store holds this, at a newer version than the one the
    /// change was made on. Nothing was written; the change may be made again on top of it.
    Behind(Stored),
    /// The change's idempotency key (the event's) is that of a change committed already, which
    /// asked for the same ([`AuditEvent::asks_as`]): it made `version`. Nothing was written.
    AlreadyCommitted {
        /// The version the change made.
        version: u64,
    },
    /// The change's idempotency key is that of a change committed already that asked for
    /// something else. Nothing was written.
    KeyInUse {
        /// The version the other change made.
        version: u64,
    },
}

/// Whether a store can be used now, as far as it knows: what a health check reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreState {
    /// It can be used (a file store always can: its errors come with each commit).
    Ready,
    /// It cannot be reached: changes are refused, and the flags are the last it gave.
    Unreachable {
        /// Why, in one line, never with a password.
        reason: String,
    },
}

/// Keeps the overrides of live flags, so that a change survives a restart (and, in a store that
/// many instances share, reaches them all).
///
/// A change is committed by [`Store::commit`], which [`Live`](super::Live) calls with no lock
/// held that a reader or another part of the application needs: a store may take its time.
/// Local changes come to it one at a time.
pub trait Store: Send + Sync {
    /// The overrides as last committed, as far as this process knows; `None` when none were ever
    /// committed. Read when the flags load: it must answer without waiting on a network (a store
    /// that follows a database answers with what it last read from it).
    fn read(&self) -> Result<Option<Stored>, StoreError>;

    /// Commits `next`, made on version `previous`, with `event`, the audit event of the change
    /// that made it: whole, or not at all. When the store is no longer at `previous` (another
    /// instance committed first), nothing is written and the answer is
    /// [`CommitOutcome::Behind`] with what the store holds. A store that keeps an audit keeps
    /// `event` in the same commit; others ignore it (the audit sinks have it). A store that
    /// keeps the events' idempotency keys answers a key it has with
    /// [`CommitOutcome::AlreadyCommitted`] or [`CommitOutcome::KeyInUse`], writing nothing.
    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome>;

    /// Keeps the audit event of a change that was rejected, in a store that keeps an audit,
    /// whatever the reason (the store itself could not be used, say: a store may keep such an
    /// event until it can write it). Nothing by default.
    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        let _ = event;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Keeps the audit event of a version of the store that these flags refused ([`Refused`]):
    /// every instance that follows the store refuses it alike, so a store whose audit the
    /// instances share keeps it once. [`Store::record`] by default.
    ///
    /// [`Refused`]: super::Refused
    fn record_refused_version<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        self.record(event)
    }

    /// The audit events of `page`, oldest first, of a store that keeps an audit that instances
    /// share; `None` (the default) for one that keeps none, whose
    /// [`Live::audit_events`](super::Live::audit_events) are its process's own.
    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        let _ = page;
        None
    }

    /// Whether the store can be used now, as far as it knows without asking it (a health check
    /// calls it): [`StoreState::Ready`] by default.
    fn state(&self) -> StoreState {
        StoreState::Ready
    }
}

/// A store shared with whoever else holds it (a test that looks at what it was handed, an
/// application that follows the store it gave its flags).
impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        (**self).read()
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        (**self).commit(previous, next, event)
    }

    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        (**self).record(event)
    }

    fn record_refused_version<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        (**self).record_refused_version(event)
    }

    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        (**self).audit(page)
    }

    fn state(&self) -> StoreState {
        (**self).state()
    }
}

/// The error a store's error wraps.
type Cause = Box<dyn Error + Send + Sync>;

/// Why a store could not read, commit or record.
///
/// Each kind says whether trying again can help ([`StoreError::is_retryable`]). The message
/// names what was being done and where (a file's path, "the database"), never a value nor a
/// password, and ends with the text of the error it wraps, if any, which
/// [`StoreError::cause`] gives as a value (to downcast to the driver's own error, say). As the
/// message already says it, [`Error::source`] does not repeat it.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached now (a database down, a connection lost, a disk full):
    /// nothing was written. Trying again later can help.
    Unavailable {
        /// What could not be done.
        what: String,
        /// The error that stopped it.
        cause: Option<Cause>,
    },
    /// A commit was sent but its answer never came: it may have been made, or not. The flags show
    /// it once they read the store again.
    OutcomeUnknown {
        /// What was being done.
        what: String,
        /// The error that cut it short.
        cause: Option<Cause>,
    },
    /// The store holds what this build cannot read (a file that is not a store of flags, a
    /// negative version): trying again cannot help until it is fixed.
    Corrupt {
        /// Where, and what is wrong (never a value).
        what: String,
    },
    /// The store is set up wrong (a URL that cannot be read, a certificate file that is missing,
    /// an application name it cannot take): trying again cannot help until it is fixed.
    Misconfigured {
        /// What is wrong, and what to write instead.
        what: String,
        /// The error behind it, if any.
        cause: Option<Cause>,
    },
}

impl StoreError {
    /// [`StoreError::Unavailable`]: `what` could not be done because of `cause`.
    pub fn unavailable(what: impl Into<String>, cause: impl Into<Cause>) -> Self {
        Self::Unavailable {
            what: what.into(),
            cause: Some(cause.into()),
        }
    }

    /// [`StoreError::OutcomeUnknown`]: `what` was sent, and `cause` cut it short.
    pub fn outcome_unknown(what: impl Into<String>, cause: impl Into<Cause>) -> Self {
        Self::OutcomeUnknown {
            what: what.into(),
            cause: Some(cause.into()),
        }
    }

    /// [`StoreError::Corrupt`], saying what is wrong and where.
    pub fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt { what: what.into() }
    }

    /// [`StoreError::Misconfigured`], saying what is wrong and what to write instead.
    pub fn misconfigured(what: impl Into<String>) -> Self {
        Self::Misconfigured {
            what: what.into(),
            cause: None,
        }
    }

    /// Whether trying again later can help: the store was unreachable, or the outcome of a
    /// commit is unknown (read the flags again first: it may have been made).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::OutcomeUnknown { .. })
    }

    /// The error this one wraps (an I/O error, the database driver's), if any.
    pub fn cause(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            Self::Unavailable { cause, .. }
            | Self::OutcomeUnknown { cause, .. }
            | Self::Misconfigured { cause, .. } => cause.as_deref(),
            Self::Corrupt { .. } => None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Self::Unavailable { what, .. }
            | Self::OutcomeUnknown { what, .. }
            | Self::Corrupt { what }
            | Self::Misconfigured { what, .. } => what,
        };
        f.write_str(what)?;
        match self.cause() {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}

impl Error for StoreError {}
