//! [`FlagMeta`]: what the derive knows about each flag, for docs, logs and tooling.

use std::fmt;

mod serialize;

pub(crate) use serialize::pairs_as_map;

/// Everything the derive knows about one flag, available as `Settings::FLAGS` without loading.
///
/// ```
/// use flags_core::FeatureFlags;
///
/// #[derive(FeatureFlags)]
/// #[flags(prefix = "FEATURE_")]
/// struct Settings {
///     /// Enable API rate limiting.
///     #[flag(env = "RATE_LIMIT_ENABLED", default = true)]
///     rate_limit_enabled: bool,
/// }
///
/// let flag = &Settings::FLAGS[0];
/// assert_eq!(flag.env(), "RATE_LIMIT_ENABLED");
/// assert_eq!(flag.type_name(), "bool");
/// assert_eq!(flag.default().as_deref(), Some("true"));
/// assert_eq!(flag.description(), "Enable API rate limiting.");
/// ```
#[derive(Clone, Copy)]
pub struct FlagMeta {
    parts: FlagMetaParts,
}

/// The parts of a [`FlagMeta`], as generated code writes them: the ones that follow from the
/// field's type come from its kind (`Kind::parts`), the rest are listed where they are set.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct FlagMetaParts {
    pub field: &'static str,
    pub env: &'static str,
    pub type_name: &'static str,
    pub description: &'static str,
    /// The text of the value for unset, when there is no default: the type's.
    pub default: DefaultFn,
    /// The default the attributes write, if they write one.
    pub written: Option<&'static dyn Written>,
    pub values: &'static [&'static str],
    pub aliases: &'static [(&'static str, &'static str)],
    pub requires: &'static [Requirement],
    pub public: Option<&'static str>,
    pub secret: bool,
    pub per_user: bool,
    pub status: Option<&'static str>,
    pub group: Option<&'static str>,
    pub expires: Option<&'static str>,
    pub rollout_group: Option<&'static str>,
    /// `#[flag(restart)]`: the flag cannot change live.
    pub restart: bool,
    /// `#[flag(live)]`: the flag may change live though it is secret.
    pub live: bool,
    /// `#[flag(managed_as = "…")]`: the flag's name in the flag service that manages it.
    pub managed_as: Option<&'static str>,
    /// What the flag's type holds, as a flag service maps it.
    pub shape: Shape,
}

/// What a flag's type holds, for a flag service that maps its own flags onto it
/// ([`FlagMeta::shape`]): an on/off toggle drives a `bool`, a toggle's strategies a [`Rollout`],
/// its variants a [`Variants`]; any other type takes a value.
///
/// [`Rollout`]: crate::Rollout
/// [`Variants`]: crate::Variants
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// On or off: `bool`, `Option<bool>`.
    Switch,
    /// On or off per user: [`Rollout`](crate::Rollout).
    Rollout,
    /// One of named variants per user: [`Variants`](crate::Variants).
    Variants,
    /// Any other value, read from text.
    Value,
}

impl FlagMeta {
    #[doc(hidden)]
    pub const fn from_parts(parts: FlagMetaParts) -> Self {
        Self { parts }
    }

    /// A required `bool` flag with only a variable, for unit tests.
    #[cfg(test)]
    pub(crate) const fn for_tests(env: &'static str) -> Self {
        let kind = <bool as crate::FlagValue>::__KIND;
        Self::from_parts(FlagMetaParts { env, ..kind.parts })
    }

    /// The field's name.
    pub fn field(&self) -> &'static str {
        self.parts.field
    }

    /// The environment variable.
    pub fn env(&self) -> &'static str {
        self.parts.env
    }

    /// The field's type as written, e.g. `Option<SecretString>`.
    pub fn type_name(&self) -> &'static str {
        self.parts.type_name
    }

    /// The field's doc comment, lines joined with `\n`; empty when there is none.
    pub fn description(&self) -> &'static str {
        self.parts.description
    }

    /// The text of the value used when the variable is unset: the default written as a variable's
    /// value, `""` for an `Option` without a default, `None` for a required flag.
    ///
    /// For a secret flag this is the real default: renderers show it as `<redacted>`.
    pub fn default(&self) -> Option<String> {
        self.default_in(TextForm::Env)
    }

    fn default_in(&self, form: TextForm) -> Option<String> {
        match self.parts.written {
            Some(written) => Some(written.text(form)),
            None => (self.parts.default)(form),
        }
    }

    /// The default as docs and logs show it: the same text as [`FlagMeta::default`], except for
    /// values that keep something out of logs (a rollout shows its list sizes, not its users).
    pub fn default_summary(&self) -> Option<String> {
        self.default_in(TextForm::Summary)
    }

    /// Whether the flag must be set: it has no default and is not an `Option`.
    pub fn is_required(&self) -> bool {
        self.default().is_none()
    }

    /// The values the flag accepts, for enums; empty otherwise.
    pub fn values(&self) -> &'static [&'static str] {
        self.parts.values
    }

    /// Other names the flag accepts for some of its [`values`](Self::values), each with the value
    /// it names: `("postgres", "postgresql")`.
    pub fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        self.parts.aliases
    }

    /// What the flag requires of other flags (`requires`, with or without `when`).
    pub fn requires(&self) -> &'static [Requirement] {
        self.parts.requires
    }

    /// The name under which the flag appears in the public projection, when it is `public`.
    pub fn public_name(&self) -> Option<&'static str> {
        self.parts.public
    }

    /// Whether the value must never be shown: `#[flag(secret)]`, or a secret type such as
    /// `SecretString`.
    pub fn is_secret(&self) -> bool {
        self.parts.secret
    }

    /// Whether the flag decides per user (a rollout, variants): its public value is only in
    /// `public_flags_for(user)`, and [`FlagMeta::rollout_group`] is what it hashes users with.
    pub fn is_per_user(&self) -> bool {
        self.parts.per_user
    }

    /// The flag's `status`, e.g. `frozen` or `experimental`.
    pub fn status(&self) -> Option<&'static str> {
        self.parts.status
    }

    /// The flag's `group`, e.g. `Core` or `Infrastructure`, which docs are organised by.
    pub fn group(&self) -> Option<&'static str> {
        self.parts.group
    }

    /// The date (`YYYY-MM-DD`) after which the flag should be gone from the code; see
    /// [`crate::lifecycle`].
    pub fn expires(&self) -> Option<&'static str> {
        self.parts.expires
    }

    /// Whether the flag takes effect only when the application starts (`#[flag(restart)]`): a
    /// change made live ([`crate::live`]) cannot set it.
    pub fn needs_restart(&self) -> bool {
        self.parts.restart
    }

    /// Whether a change made live ([`crate::live`]) may set the flag: it does not need a restart,
    /// and it is not secret, or its flag opts in with `#[flag(live)]`.
    pub fn changes_live(&self) -> bool {
        !self.parts.restart && (!self.parts.secret || self.parts.live)
    }

    /// What the flag's type holds, as a flag service maps its own flags onto it.
    pub fn shape(&self) -> Shape {
        self.parts.shape
    }

    /// The flag's name in the flag service that drives the flags (Unleash's toggle,
    /// LaunchDarkly's flag key): `#[flag(managed_as = "…")]`, else the flag's variable.
    pub fn managed_as(&self) -> &'static str {
        self.parts.managed_as.unwrap_or(self.parts.env)
    }

    /// The name a rollout hashes users with (Unleash's `groupId`, or a variants toggle's name):
    /// `#[flag(rollout_group = "…")]`, else the flag's variable.
    pub fn rollout_group(&self) -> &'static str {
        self.parts.rollout_group.unwrap_or(self.parts.env)
    }
}

impl fmt::Debug for FlagMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlagMeta")
            .field("field", &self.field())
            .field("env", &self.env())
            .field("type_name", &self.type_name())
            .field("required", &self.is_required())
            .field("values", &self.values())
            .field("aliases", &self.aliases())
            .field("requires", &RequiresShown(self))
            .field("public", &self.public_name())
            .field("secret", &self.is_secret())
            .field("status", &self.status())
            .field("group", &self.group())
            .field("expires", &self.expires())
            .finish_non_exhaustive()
    }
}

/// A flag's requirements as `Debug` shows them: a secret flag's `when` values are left out, as
/// docs leave them out.
struct RequiresShown<'a>(&'a FlagMeta);

impl fmt::Debug for RequiresShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_secret() {
            return fmt::Debug::fmt(self.0.requires(), f);
        }
        let vars = self.0.requires().iter().map(Requirement::vars);
        f.debug_list().entries(vars).finish()
    }
}

/// The text of a type's value for unset, in one of two forms; `None` for a required flag.
#[doc(hidden)]
pub type DefaultFn = fn(TextForm) -> Option<String>;

/// A value the attributes write (a default, a `when` value), which the derive keeps as the
/// function that makes it: its text is made when docs or checks ask for it.
#[doc(hidden)]
pub trait Written: Sync {
    /// The value's text in `form`.
    fn text(&self, form: TextForm) -> String;
}

/// Which text of a value: the variable's, or the summary logs and docs show.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// The text a variable would hold ([`FlagValue::to_env`](crate::FlagValue::to_env)).
    Env,
    /// The text logs show ([`FlagValue::summary`](crate::FlagValue::summary)).
    Summary,
}

/// One `requires` of a flag: the variables that must be set when the flag is on, or, with
/// `when`, when it holds a given value.
#[derive(Clone, Copy)]
pub struct Requirement {
    /// The `when` value.
    when: Option<&'static dyn Written>,
    vars: &'static [&'static str],
}

impl Requirement {
    #[doc(hidden)]
    pub const fn new(when: Option<&'static dyn Written>, vars: &'static [&'static str]) -> Self {
        Self { when, vars }
    }

    /// The value (as a variable's text) that switches the requirement on; `None` means "when on"
    /// (a `bool` that is `true`, an `Option` that is `Some`).
    pub fn when(&self) -> Option<String> {
        self.when.map(|when| when.text(TextForm::Env))
    }

    /// Whether the requirement holds only when the flag has one value (`when`).
    pub(crate) fn has_when(&self) -> bool {
        self.when.is_some()
    }

    /// The variables that must then be set and non-empty.
    pub fn vars(&self) -> &'static [&'static str] {
        self.vars
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("when", &self.when())
            .field("vars", &self.vars)
            .finish()
    }
}
