//! What a field's type decides for a context, and why: the types the visitor hands back to
//! [`crate::evaluate`], below it so that neither the visitor nor the snapshot depends on it.

use std::fmt;

use serde_json::Value;

/// Why a flag has the value it has for a context: OpenFeature's resolution reasons, as
/// [`Reason::as_str`] spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No context changes the value, and it is not the flag's default: it was set.
    Static,
    /// No context changes the value, and it is the flag's default (its variable is unset), or
    /// the flag has no value at all: the caller's own default applies.
    Default,
    /// The user's key is on a rollout's allow or deny list.
    TargetingMatch,
    /// The user's bucket decided: a rollout between 0% and 100%, or variants that split users.
    Split,
    /// The flag is off for everyone it does not list: a rollout at 0% with no allow list, or
    /// variants with none to give (every user gets [`Variants::DISABLED`](crate::Variants::DISABLED)).
    Disabled,
}

impl Reason {
    /// As OpenFeature writes it: `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a field's type decides for a context: the public value, and why when the context
/// decided (`None` when the value is the same for everyone, so that where it came from says
/// why).
#[doc(hidden)]
#[derive(Debug)]
pub struct Decision {
    pub value: Value,
    pub reason: Option<Reason>,
    pub variant: Option<String>,
}

impl Decision {
    /// A value that is the same for every context.
    pub(crate) fn constant(value: Value) -> Self {
        Self {
            value,
            reason: None,
            variant: None,
        }
    }
}

/// The evaluation of a flag that is the same for every context.
#[derive(Debug, Clone)]
pub(crate) struct Constant {
    pub(crate) value: Value,
    pub(crate) reason: Reason,
    pub(crate) variant: Option<String>,
}

/// How a flag service decides, per user, the flags it manages (Unleash's engine, say): handed
/// over with the values it pushes ([`Managed::push_deciding`](crate::live::Managed::push_deciding)),
/// and kept in each snapshot made from them, so that a snapshot's values and its per-user
/// decisions always come from the same push.
///
/// [`Snapshot::evaluate`](crate::Snapshot::evaluate), [`Snapshot::evaluate_all`](crate::Snapshot::evaluate_all)
/// and [`Snapshot::public_flags_for`](crate::Snapshot::public_flags_for) ask it first for each
/// flag its service manages.
pub trait Decide: std::any::Any + fmt::Debug + Send + Sync {
    /// The evaluation of `flag`, at `index` in its struct's [`FLAGS`](crate::FeatureFlags::FLAGS),
    /// for `user` (`None`: no user was given), or `None` to leave it to the flag's own value, as
    /// if no service decided it.
    fn decide(
        &self,
        index: usize,
        flag: &'static crate::FlagMeta,
        user: Option<&str>,
    ) -> Option<Decided>;

    /// A digest of what it decides with (the service's rules): equal rules, equal digest, on
    /// every instance. It goes into the snapshots' [`revision`](crate::Snapshot::revision).
    fn revision(&self) -> u64;
}

/// What a [`Decide`] decided for one flag and one user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decided {
    /// The flag's public value for the user.
    pub value: Value,
    /// Why.
    pub reason: Reason,
    /// The variant it is, if the service names one.
    pub variant: Option<String>,
}

impl Decided {
    /// `value`, for `reason`, with no variant.
    pub fn new(value: Value, reason: Reason) -> Self {
        Self {
            value,
            reason,
            variant: None,
        }
    }

    /// The same, as the variant named `variant`.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = Some(variant.into());
        self
    }
}

/// The deciders of a snapshot's flags, by position: `None` for a flag no service decides.
pub(crate) type Deciders = std::sync::Arc<[Option<std::sync::Arc<dyn Decide>>]>;
