//! [`Kind`]: what the runtime needs of a field's type, whichever trait reads it ([`FlagValue`],
//! serde, `FromStr`).
//!
//! Each of those traits builds its types' kind as a constant (`<T as FlagValue>::__KIND`), where
//! the trait's bounds hold. Generated code hands a reference to it to the runtime with the field:
//! one generic call per field, no bound on the type anywhere else, so a type that cannot be read
//! fails once, at the field's type, naming the trait it lacks.

use serde_json::Value;

use crate::decision::Decision;
use crate::meta::{FlagMeta, FlagMetaParts, Shape, TextForm, Written};
use crate::value::{FlagValue, ValueError};
use crate::visit::FieldValue;

/// How one type is read, written back and shown: a table the type's trait fills in.
#[doc(hidden)]
pub struct Kind<T> {
    parse: fn(&str) -> Result<T, ValueError>,
    unset: fn() -> Option<T>,
    to_env: fn(&T) -> String,
    is_unset: fn(&T) -> bool,
    summary: fn(&T) -> String,
    to_public: fn(&T) -> Value,
    /// Whether a value switches its flag on, for types that are on or off.
    switched_on: Option<fn(&T) -> bool>,
    /// How a type that decides per user does it.
    per_user: Option<PerUserFns<T>>,
    /// The parts of a flag's metadata that its type decides (values, secrecy, its value for
    /// unset as the default), with nothing set for the rest: generated code writes the rest, and
    /// takes these with `..`.
    pub parts: FlagMetaParts,
}

/// A value with its kind: what a [`Visitor`](crate::visit::Visitor) is handed.
#[doc(hidden)]
pub struct Field<'a, T> {
    kind: &'a Kind<T>,
    value: &'a T,
}

impl<T> FieldValue for Field<'_, T> {
    fn to_env(&self) -> String {
        self.kind.to_env(self.value)
    }

    fn is_unset(&self) -> bool {
        self.kind.is_unset(self.value)
    }

    fn switched_on(&self) -> Option<bool> {
        self.kind.switched_on(self.value)
    }

    fn summary(&self) -> String {
        self.kind.summary(self.value)
    }

    fn to_public(&self) -> Value {
        self.kind.to_public(self.value)
    }

    fn to_public_for(&self, user: &str) -> Value {
        self.kind.to_public_for(self.value, user)
    }

    fn is_per_user(&self) -> bool {
        self.kind.is_per_user()
    }

    fn decide(&self, user: Option<&str>) -> Option<Decision> {
        self.kind.decide(self.value, user)
    }
}

/// A value the attributes write (a default, a `when` value): the function the derive made of the
/// expression, with the kind that shows its value.
#[doc(hidden)]
pub struct WrittenValue<T: 'static> {
    kind: &'static Kind<T>,
    value: fn() -> T,
}

impl<T> WrittenValue<T> {
    pub const fn new(kind: &'static Kind<T>, value: fn() -> T) -> Self {
        Self { kind, value }
    }
}

impl<T> Written for WrittenValue<T> {
    fn text(&self, form: TextForm) -> String {
        let value = (self.value)();
        match form {
            TextForm::Env => self.kind.to_env(&value),
            TextForm::Summary => self.kind.summary(&value),
        }
    }
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
    fn decide_for(&self, user: &str) -> Value;
    /// The public value for a context, with why: what [`PerUser::decide_for`] gives a user, or
    /// the value every user gets when the rule gives all the same; `None` when it depends on a
    /// user and there is none.
    fn decide(&self, user: Option<&str>) -> Option<Decision>;
}

struct PerUserFns<T> {
    bind: fn(&mut T, &FlagMeta) -> Bound,
    decide_for: fn(&T, &str) -> Value,
    decide: fn(&T, Option<&str>) -> Option<Decision>,
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
        let mut kind = Self::of(
            T::parse_env,
            T::unset,
            unset_text::<T>,
            T::to_env,
            T::is_unset,
            T::summary,
            T::to_public,
        );
        kind.parts.values = T::VALUES;
        kind.parts.aliases = T::ALIASES;
        kind.parts.secret = T::SECRET;
        kind
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
        to_public: fn(&T) -> Value,
    ) -> Self {
        Self {
            parse,
            unset,
            to_env,
            is_unset,
            summary,
            to_public,
            switched_on: None,
            per_user: None,
            parts: FlagMetaParts {
                field: "",
                env: "",
                type_name: "",
                description: "",
                default: unset_text,
                written: None,
                values: &[],
                aliases: &[],
                requires: &[],
                public: None,
                secret: false,
                per_user: false,
                status: None,
                group: None,
                expires: None,
                rollout_group: None,
                managed_as: None,
                shape: Shape::Value,
                restart: false,
                live: false,
            },
        }
    }

    /// This kind, for a type whose every value is secret.
    pub(crate) const fn secret(mut self) -> Self {
        self.parts.secret = true;
        self
    }

    /// This kind, for a type a flag service maps its flags onto as `shape`.
    pub(crate) const fn shape(mut self, shape: Shape) -> Self {
        self.parts.shape = shape;
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
            decide: T::decide,
        });
        self.parts.per_user = true;
        self
    }

    /// `value` with this kind, to hand to a visitor.
    pub fn field<'a>(&'a self, value: &'a T) -> Field<'a, T> {
        Field { kind: self, value }
    }

    /// Whether every value of the type is secret: what the derive checks `secret` and `public`
    /// flags against.
    pub const fn is_secret(&self) -> bool {
        self.parts.secret
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
    pub(crate) fn to_public(&self, value: &T) -> Value {
        (self.to_public)(value)
    }

    /// The public value for one user: a per-user type's decision, else the same for everyone.
    pub(crate) fn to_public_for(&self, value: &T, user: &str) -> Value {
        match self.per_user {
            Some(per_user) => (per_user.decide_for)(value, user),
            None => self.to_public(value),
        }
    }

    /// The public value for a context: a per-user type's decision (`None` when it needs a user
    /// and has none), else the same for everyone.
    pub(crate) fn decide(&self, value: &T, user: Option<&str>) -> Option<Decision> {
        match self.per_user {
            Some(per_user) => (per_user.decide)(value, user),
            None => Some(Decision::constant(self.to_public(value))),
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
        let mut kind = Self::plain()
            .switch(Option::is_some)
            .shape(T::__KIND.parts.shape);
        if T::__KIND.per_user.is_some() {
            kind.per_user = Some(PerUserFns {
                bind: |value, flag| match (value, T::__KIND.per_user) {
                    (Some(value), Some(inner)) => (inner.bind)(value, flag),
                    _ => Ok(None),
                },
                decide_for: |value, user| match (value, T::__KIND.per_user) {
                    (Some(value), Some(inner)) => (inner.decide_for)(value, user),
                    _ => Value::Null,
                },
                decide: |value, user| match (value, T::__KIND.per_user) {
                    (Some(value), Some(inner)) => (inner.decide)(value, user),
                    _ => Some(Decision::constant(Value::Null)),
                },
            });
            kind.parts.per_user = true;
        }
        kind
    }
}

/// The text of the value for unset of a `T` without a default: `""` when there is one (an
/// `Option`), `None` when the flag is required.
fn unset_text<T: FlagValue>(_: TextForm) -> Option<String> {
    T::unset().map(|_| String::new())
}
