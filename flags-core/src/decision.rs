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
