//! [`Kind`]: what the runtime needs of a field's type, whichever trait reads it ([`FlagValue`],
//! serde, `FromStr`).
//!
//! Each of those traits builds its types' kind as a constant (`<T as FlagValue>::__KIND`), where
//! the trait's bounds hold. Generated code hands a reference to it to the runtime with the field:
//! one generic call per field, no bound on the type anywhere else, so a type that cannot be read
//! fails once, at the field's type, naming the trait it lacks.

use crate::meta::{FlagMeta, FlagMetaParts, TextForm};
use crate::public::PublicValue;
use crate::value::{FlagValue, ValueError};

/// How one type is read, written back and shown: a table the type's trait fills in.
#[doc(hidden)]
pub struct Kind<T> {
    /// The values a fieldless enum accepts.
    pub(crate) values: &'static [&'static str],
    /// Other names for some of the values, each with the value it names.
    pub(crate) aliases: &'static [(&'static str, &'static str)],
    /// Whether every value of the type is secret.
    pub(crate) secret: bool,
    parse: fn(&str) -> Result<T, ValueError>,
    unset: fn() -> Option<T>,
    /// The text of the value for unset, for the metadata of a flag without a default.
    pub(crate) unset_text: fn(TextForm) -> Option<String>,
    to_env: fn(&T) -> String,
    is_unset: fn(&T) -> bool,
    summary: fn(&T) -> String,
    to_public: fn(&T) -> PublicValue,
    /// Whether a value switches its flag on, for types that are on or off.
    switched_on: Option<fn(&T) -> bool>,
    /// How a type that decides per user does it.
    per_user: Option<PerUserFns<T>>,
}

/// What a value found once it knew its flag: `Err` for a value no variable could hold (a default
/// built in code, such as a rollout of 150%), which fails the load as a bad value does;
/// `Ok(Some(note))` for one that loads but deserves a warning (a user on a rollout's allow and
/// deny lists both).
pub(crate) type Bound = Result<Option<String>, ValueError>;

/// What only this crate's own types do with a value, beside reading and showing it: decide per
/// user ([`Rollout`](crate::Rollout), [`Variants`](crate::Variants)).
pub(crate) trait PerUser {
    /// Learns the flag it belongs to (a rollout hashes users with its group), and says what is
    /// wrong with itself.
    fn bind(&mut self, flag: &FlagMeta) -> Bound;
    /// The public value for one user: a decision, a variant's name; never the rule.
    fn decide_for(&self, user: &str) -> PublicValue;
}

struct PerUserFns<T> {
    bind: fn(&mut T, &FlagMeta) -> Bound,
    decide_for: fn(&T, &str) -> PublicValue,
}

// Not derived: `derive` would ask `T: Copy`.
impl<T> Clone for PerUserFns<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for PerUserFns<T> {}

impl<T: FlagValue> Kind<T> {
    /// The kind of a type that only reads and shows values, through its [`FlagValue`] methods:
    /// what a user's type is.
    pub const fn plain() -> Self {
        Self {
            values: T::VALUES,
            aliases: T::ALIASES,
            secret: T::SECRET,
            parse: T::parse_env,
            unset: T::unset,
            unset_text: unset_text::<T>,
            to_env: T::to_env,
            is_unset: T::is_unset,
            summary: T::summary,
            to_public: T::to_public,
            switched_on: None,
            per_user: None,
        }
    }
}

impl<T> Kind<T> {
    /// The kind of a type read some other way than [`FlagValue`] (serde, `FromStr`): its functions.
    #[allow(clippy::too_many_arguments)]
    pub(crate) const fn of(
        parse: fn(&str) -> Result<T, ValueError>,
        unset: fn() -> Option<T>,
        unset_text: fn(TextForm) -> Option<String>,
        to_env: fn(&T) -> String,
        is_unset: fn(&T) -> bool,
        summary: fn(&T) -> String,
        to_public: fn(&T) -> PublicValue,
    ) -> Self {
        Self {
            values: &[],
            aliases: &[],
            secret: false,
            parse,
            unset,
            unset_text,
            to_env,
            is_unset,
            summary,
            to_public,
            switched_on: None,
            per_user: None,
        }
    }

    /// This kind, for a type whose every value is secret.
    pub(crate) const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// This kind, for a type whose values are on or off.
    pub(crate) const fn switch(mut self, on: fn(&T) -> bool) -> Self {
        self.switched_on = Some(on);
        self
    }

    /// This kind, for a type that decides per user.
    pub(crate) const fn per_user(mut self) -> Self
    where
        T: PerUser,
    {
        self.per_user = Some(PerUserFns {
            bind: T::bind,
            decide_for: T::decide_for,
        });
        self
    }

    /// The parts of the metadata of a flag of this kind's type named `field` with variable `env`:
    /// what the type says (values, secrecy, its value for unset as the default), and nothing set
    /// for the rest, which generated code writes where an attribute sets it.
    pub const fn flag_parts(
        &self,
        field: &'static str,
        env: &'static str,
        type_name: &'static str,
    ) -> FlagMetaParts {
        FlagMetaParts {
            field,
            env,
            type_name,
            description: "",
            default: self.unset_text,
            values: self.values,
            aliases: self.aliases,
            requires: &[],
            public: None,
            secret: self.secret,
            per_user: self.is_per_user(),
            status: None,
            group: None,
            expires: None,
            rollout_group: None,
        }
    }

    /// The text of a default `value` in `form`, for metadata.
    pub fn default_text(&self, form: TextForm, value: &T) -> Option<String> {
        Some(match form {
            TextForm::Env => self.to_env(value),
            TextForm::Summary => self.summary(value),
        })
    }

    /// The text of a `when` value, for metadata.
    pub fn when_text(&self, value: T) -> String {
        self.to_env(&value)
    }

    /// Whether every value of the type is secret: what the derive checks `secret` and `public`
    /// flags against.
    pub const fn is_secret(&self) -> bool {
        self.secret
    }

    /// Whether the public value depends on the user, and a loaded value must be bound to its flag.
    pub(crate) const fn is_per_user(&self) -> bool {
        self.per_user.is_some()
    }

    /// Parses one variable's text, never blank.
    pub(crate) fn parse(&self, text: &str) -> Result<T, ValueError> {
        (self.parse)(text)
    }

    /// The value of an unset flag without a default; `None` when the flag is required.
    pub(crate) fn unset(&self) -> Option<T> {
        (self.unset)()
    }

    /// The text that parses back to `value`.
    pub(crate) fn to_env(&self, value: &T) -> String {
        (self.to_env)(value)
    }

    /// Whether `value` counts as unset, as an empty variable does.
    pub(crate) fn is_unset(&self, value: &T) -> bool {
        (self.is_unset)(value)
    }

    /// Whether `value` switches its flag on, for types that are on or off.
    pub(crate) fn switched_on(&self, value: &T) -> Option<bool> {
        self.switched_on.map(|on| on(value))
    }

    /// The value as logs show it.
    pub(crate) fn summary(&self, value: &T) -> String {
        (self.summary)(value)
    }

    /// The value as the public projection shows it.
    pub(crate) fn to_public(&self, value: &T) -> PublicValue {
        (self.to_public)(value)
    }

    /// The public value for one user: a per-user type's decision, else the same for everyone.
    pub(crate) fn to_public_for(&self, value: &T, user: &str) -> PublicValue {
        match self.per_user {
            Some(per_user) => (per_user.decide_for)(value, user),
            None => self.to_public(value),
        }
    }

    /// Tells a loaded value its flag, for the kinds that are per user.
    pub(crate) fn bind(&self, value: &mut T, flag: &FlagMeta) -> Bound {
        match self.per_user {
            Some(per_user) => (per_user.bind)(value, flag),
            None => Ok(None),
        }
    }
}

impl<T: FlagValue> Kind<Option<T>> {
    /// The kind of an `Option` of `T`: on when `Some`, and per user when `T` is.
    pub(crate) const fn option() -> Self {
        let mut kind = Self::plain().switch(Option::is_some);
        if T::__KIND.per_user.is_some() {
            kind.per_user = Some(PerUserFns {
                bind: |value, flag| match (value, T::__KIND.per_user) {
                    (Some(value), Some(inner)) => (inner.bind)(value, flag),
                    _ => Ok(None),
                },
                decide_for: |value, user| match (value, T::__KIND.per_user) {
                    (Some(value), Some(inner)) => (inner.decide_for)(value, user),
                    _ => PublicValue::Null,
                },
            });
        }
        kind
    }
}

/// The text of the value for unset of a `T` without a default: `""` when there is one (an
/// `Option`), `None` when the flag is required.
fn unset_text<T: FlagValue>(_: TextForm) -> Option<String> {
    T::unset().map(|_| String::new())
}
