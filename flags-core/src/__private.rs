//! What generated code needs. Not API: names here change without notice.

pub use core::convert::From;
pub use core::option::Option::{self, None, Some};
pub use core::result::Result::{self, Err, Ok};
// The bodies of the impl a failed derive leaves behind; the build never gets to run them.
pub use core::unreachable;
pub use std::string::String;

pub use crate::error::FlagsError;
pub use crate::flags::{FeatureFlags, Schema};
pub use crate::meta::{FlagMeta, FlagMetaParts, Requirement, Text};
pub use crate::public::{PublicFlags, PublicValue};
pub use crate::source::Vars;
pub use crate::state::{StateLog, ValueFns};
pub use crate::value::{Bound, FlagValue, ValueError, trim};

/// The error of a derived enum's parser: the values it accepts, never the text it rejects.
pub fn one_of(values: &'static [&'static str]) -> ValueError {
    ValueError::one_of_values(values)
}

use std::fmt;
use std::marker::PhantomData;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox};
use serde::de::{self, DeserializeOwned, IntoDeserializer};

use crate::error::{Problem, ShownValue};
use crate::source::Raw;

/// Parses each field of a struct in turn, collecting every problem instead of stopping.
pub struct Fields<'a> {
    vars: &'a Vars,
    problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    pub fn new(vars: &'a Vars) -> Self {
        Self {
            vars,
            problems: vars.source_problems(),
        }
    }

    /// A field with `default = EXPR`; `bind` tells the value its flag.
    pub fn with_default<T>(
        &mut self,
        index: usize,
        parse: fn(&str) -> Result<T, ValueError>,
        default: fn() -> T,
        bind: Option<fn(&mut T, &FlagMeta) -> Bound>,
    ) -> Option<T> {
        let value = match self.parse(index, parse) {
            Parsed::Value(value) => Some(value),
            Parsed::Unset => Some(default()),
            Parsed::Invalid => None,
        };
        self.bind(index, value, bind)
    }

    /// The flag at `index`, parsed.
    fn parse<T>(&mut self, index: usize, parse: fn(&str) -> Result<T, ValueError>) -> Parsed<T> {
        match self.vars.get(index) {
            Raw::Unset => Parsed::Unset,
            Raw::Text(text) => match parse(text) {
                Ok(value) => Parsed::Value(value),
                Err(error) => {
                    self.invalid(index, text, error);
                    Parsed::Invalid
                }
            },
            Raw::NotUnicode => {
                let flag = &self.vars.schema().flags()[index];
                self.problems.push(Problem::NotUnicode {
                    flag: flag.field(),
                    env: flag.env(),
                    source: self.vars.source_of(index),
                });
                Parsed::Invalid
            }
        }
    }

    /// Records a required flag that is unset.
    #[cold]
    fn missing(&mut self, index: usize) {
        let flag = &self.vars.schema().flags()[index];
        self.problems.push(Problem::Missing {
            flag: flag.field(),
            env: flag.env(),
            values: flag.values(),
            source: self.vars.blank_source(index),
        });
    }

    #[cold]
    fn invalid(&mut self, index: usize, text: &str, error: ValueError) {
        let flag = &self.vars.schema().flags()[index];
        let expected = if flag.is_secret() {
            error.shown_for_secret(flag.type_name())
        } else {
            error.what_was_expected().to_owned().into()
        };
        self.problems.push(Problem::Invalid {
            flag: flag.field(),
            env: flag.env(),
            value: ShownValue::new(text, flag.is_secret()),
            expected,
            source: self.vars.source_of(index),
        });
    }

    /// A field with no default: `unset` gives its value when unset (`None` for an `Option`), or
    /// says there is none and the flag is missing.
    pub fn without_default<T>(
        &mut self,
        index: usize,
        parse: fn(&str) -> Result<T, ValueError>,
        unset: fn() -> Option<T>,
        bind: Option<fn(&mut T, &FlagMeta) -> Bound>,
    ) -> Option<T> {
        let value = match self.parse(index, parse) {
            Parsed::Value(value) => Some(value),
            Parsed::Unset => unset().or_else(|| {
                self.missing(index);
                None
            }),
            Parsed::Invalid => None,
        };
        self.bind(index, value, bind)
    }

    /// Tells a loaded value its flag ([`FlagValue::BIND`]), and records what it finds wrong with
    /// itself: a value no variable could hold (a default built in code) fails the load.
    #[inline]
    fn bind<T>(
        &mut self,
        index: usize,
        value: Option<T>,
        bind: Option<fn(&mut T, &FlagMeta) -> Bound>,
    ) -> Option<T> {
        match (value, bind) {
            (Some(value), Some(bind)) => self.bind_with(index, value, bind),
            (value, _) => value,
        }
    }

    /// [`Fields::bind`] for a value that has a `BIND` (a rollout): out of the common path.
    #[cold]
    fn bind_with<T>(
        &mut self,
        index: usize,
        mut value: T,
        bind: fn(&mut T, &FlagMeta) -> Bound,
    ) -> Option<T> {
        let loaded = &mut value;
        let flag = &self.vars.schema().flags()[index];
        match bind(loaded, flag) {
            Ok(None) => Some(value),
            Ok(Some(note)) => {
                self.vars.warn(Problem::Doubtful {
                    flag: flag.field(),
                    env: flag.env(),
                    note,
                    source: self.vars.source_of(index),
                });
                Some(value)
            }
            Err(error) => {
                match self.vars.get(index) {
                    Raw::Text(text) => self.invalid(index, text, error),
                    Raw::Unset | Raw::NotUnicode => self.problems.push(Problem::InvalidDefault {
                        flag: flag.field(),
                        env: flag.env(),
                        expected: error.what_was_expected().to_owned().into(),
                    }),
                }
                None
            }
        }
    }

    /// Checks requirements on the values parsed so far.
    pub fn requires(&mut self) -> Requires<'_> {
        Requires {
            flags: self.vars.schema().flags(),
            vars: Some(self.vars),
            problems: &mut self.problems,
        }
    }

    /// Every problem found; call once every field is parsed.
    pub fn finish(self) -> Result<(), FlagsError> {
        FlagsError::from_problems(self.problems).map_or(Ok(()), Err)
    }

    /// The error for a load in which some field could not be parsed.
    pub fn into_error(self) -> FlagsError {
        FlagsError::new(self.problems)
    }
}

/// A flag's variable, parsed.
enum Parsed<T> {
    /// Its value.
    Value(T),
    /// Unset or empty.
    Unset,
    /// Not a valid value; the problem is recorded.
    Invalid,
}

/// Checks `requires`: records an unmet requirement as a problem.
pub struct Requires<'a> {
    flags: &'static [FlagMeta],
    /// The load's variables, to say where a value came from; `None` in `validate`.
    vars: Option<&'a Vars>,
    problems: &'a mut Vec<Problem>,
}

impl Requires<'_> {
    /// When the flag at `index` has a value and `applies` to it, each target must be set:
    /// `targets` holds each target's index and whether it is unset (`None` when it failed to
    /// load, which is reported already).
    pub fn require<T>(
        &mut self,
        index: usize,
        value: Option<&T>,
        applies: impl Fn(&T) -> bool,
        to_env: fn(&T) -> String,
        targets: &[(usize, Option<bool>)],
    ) {
        let Some(value) = value.filter(|value| applies(value)) else {
            return;
        };
        let missing: Vec<&'static str> = targets
            .iter()
            .filter(|(_, unset)| *unset == Some(true))
            .map(|(target, _)| self.flags[*target].env())
            .collect();
        if missing.is_empty() {
            return;
        }
        let flag = &self.flags[index];
        let value = if flag.is_secret() {
            ShownValue::Redacted
        } else {
            // The text as the operator wrote it (`postgres`, `ON`), which they can search for;
            // the value's own text for a default or a struct changed after loading.
            let written = self.vars.and_then(|vars| match vars.get(index) {
                Raw::Text(text) => Some(text.trim().to_owned()),
                Raw::Unset | Raw::NotUnicode => None,
            });
            ShownValue::Text(written.unwrap_or_else(|| to_env(value)))
        };
        self.problems.push(Problem::Unmet {
            flag: flag.field(),
            env: flag.env(),
            value,
            missing,
            source: self.vars.map(|vars| vars.source_of(index)),
        });
    }
}

/// `FeatureFlags::validate`: runs `check` on a struct's values.
pub fn validate(schema: &Schema, check: impl FnOnce(&mut Requires<'_>)) -> Result<(), FlagsError> {
    let mut problems = Vec::new();
    check(&mut Requires {
        flags: schema.flags(),
        vars: None,
        problems: &mut problems,
    });
    FlagsError::from_problems(problems).map_or(Ok(()), Err)
}

/// A type whose values are on or off, so that `requires` without `when` means "when on".
#[diagnostic::on_unimplemented(
    message = "`requires` without `when` needs a flag that is on or off, and `{Self}` is neither",
    label = "add `when = <value>` to say which value of this flag requires the others",
    note = "a `bool` is on when `true`, an `Option` when `Some`"
)]
pub trait Switch: FlagValue {
    /// Whether the switch is on. A method, not a function bounded by `Switch`, so that rustc's
    /// error names no function the user never wrote.
    fn is_on(&self) -> bool {
        self.switched_on() == Some(true)
    }
}

// The note names the switches; rustc would otherwise list these impls, in this file, again.
#[diagnostic::do_not_recommend]
impl Switch for bool {}

#[diagnostic::do_not_recommend]
impl<T: FlagValue> Switch for Option<T> {}

/// [`Switch`] for a `#[flag(serde)]` field, whose type is read through serde, not `FlagValue`.
#[diagnostic::on_unimplemented(
    message = "`requires` without `when` needs a flag that is on or off, and `{Self}` is neither",
    label = "add `when = <value>` to say which value of this flag requires the others",
    note = "a `bool` is on when `true`, an `Option` when `Some`"
)]
pub trait SerdeSwitch {
    fn is_on(&self) -> bool;
}

// As for `Switch`: the note names the switches.
#[diagnostic::do_not_recommend]
impl SerdeSwitch for bool {
    fn is_on(&self) -> bool {
        *self
    }
}

#[diagnostic::do_not_recommend]
impl<T> SerdeSwitch for Option<T> {
    fn is_on(&self) -> bool {
        self.is_some()
    }
}

/// Whether a flag's type is secret, as a type: `SecretType<{ <T as FlagValue>::SECRET }>`, so
/// that a `public` flag of a secret type fails to compile with a trait's message rather than a
/// panic in const evaluation.
pub struct SecretType<const SECRET: bool>;

/// Implemented for the types that a `public` flag may have: those that are not secret.
#[diagnostic::on_unimplemented(
    message = "a `public` flag cannot have a secret type such as `SecretString`",
    label = "the public projection is sent to frontends, and this flag's type is secret",
    note = "drop `public`, or give the flag a type that is not secret"
)]
pub trait PublicType {
    const CHECKED: () = ();
}

// Else rustc adds "is implemented for `SecretType<false>`", which means nothing to a user.
#[diagnostic::do_not_recommend]
impl PublicType for SecretType<false> {}

/// Implemented for the types a `secret` flag may have: those whose `Debug` hides the value, so
/// that `println!("{settings:?}")` cannot print a secret.
#[diagnostic::on_unimplemented(
    message = "a `secret` flag needs a type that hides its value",
    label = "`{{:?}}` of the settings would print this secret",
    note = "use `SecretString` for text, or `SecretBox<T>` (`flags_core::secrecy`) for another type, \
            in an `Option` when the flag may be unset; `expose_secret()` reads the value"
)]
pub trait HidesValue {
    const CHECKED: () = ();
}

// Else rustc adds "is implemented for `SecretType<true>`", which means nothing to a user.
#[diagnostic::do_not_recommend]
impl HidesValue for SecretType<true> {}

/// The public value of a flag that is the same for every user; `None` for a per-user value
/// (a rollout), which only `public_flags_for` shows.
pub fn shared_public<T>(
    value: &T,
    per_user: bool,
    to_public: fn(&T) -> PublicValue,
) -> Option<PublicValue> {
    (!per_user).then(|| to_public(value))
}

/// The public value of a `#[flag(serde)]` field, typed as JSON types it (`Null` for what one
/// variable cannot hold).
pub fn serde_public<T: serde::Serialize>(value: &T) -> PublicValue {
    PublicValue::from_serialize(value).unwrap_or(PublicValue::Null)
}

/// How a `#[flag(serde)]` field is read (envy's rules) and written back (through `Serialize`),
/// with the same functions as [`FlagValue`] so generated code treats both alike.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read with #[flag(serde)]",
    label = "this field's type must implement serde's `Deserialize` and `Serialize`",
    note = "flags reads the value with `Deserialize` and writes it back with `Serialize` (docs, logs, \
            the public projection): derive both, or turn on the `serde` feature of the type's crate"
)]
pub trait SerdeValue: Sized {
    fn parse_env(text: &str) -> Result<Self, ValueError>;
    fn unset() -> Option<Self>;
    fn to_env(&self) -> String;
    fn is_unset(&self) -> bool;
    fn switched_on(&self) -> Option<bool>;
    fn summary(&self) -> String;
    const BIND: Option<fn(&mut Self, &FlagMeta) -> Bound> = None;
}

// Without this, rustc reports serde's bound that fails (with serde's list of every type that
// implements it) rather than `SerdeValue`'s message.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + serde::Serialize> SerdeValue for T {
    /// Reads the text with envy's rules (numbers, bools, comma-separated sequences, unit variants).
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        // envy names the key in its errors: "... provided by the variable".
        let pairs = std::iter::once((String::from("the variable"), text.to_owned()));
        envy::from_iter::<_, Single<T>>(pairs)
            .map(|single| single.0)
            .map_err(|error| {
                ValueError::expected(format!(
                    "a value of type `{}` ({error})",
                    short_type_name(std::any::type_name::<T>())
                ))
            })
    }

    /// `None` for an `Option`; any other type is required.
    fn unset() -> Option<Self> {
        let missing: de::value::UnitDeserializer<de::value::Error> = ().into_deserializer();
        T::deserialize(missing).ok()
    }

    /// The text envy reads back: scalars as text, sequences comma-separated, `None` empty.
    fn to_env(&self) -> String {
        PublicValue::from_serialize(self)
            .map(|value| value.to_env_text())
            .unwrap_or_default()
    }

    fn is_unset(&self) -> bool {
        self.to_env().trim().is_empty()
    }

    fn switched_on(&self) -> Option<bool> {
        None
    }

    fn summary(&self) -> String {
        self.to_env()
    }
}

/// How a `#[flag(serde, secret)]` field is read: a `SecretBox` of a serde type, or an `Option` of
/// one, read and written back as [`SerdeValue`] reads the type inside.
#[diagnostic::on_unimplemented(
    message = "a `secret` flag read with serde needs a type that hides its value, and `{Self}` shows it",
    label = "`{{:?}}` of the settings would print this secret",
    note = "wrap the type in `SecretBox` (`flags_core::secrecy`): `SecretBox<T>`, or \
            `Option<SecretBox<T>>` when the flag may be unset; `expose_secret()` reads the value"
)]
pub trait SerdeSecret: Sized {
    fn parse_env(text: &str) -> Result<Self, ValueError>;
    fn unset() -> Option<Self>;
    fn to_env(&self) -> String;
    fn is_unset(&self) -> bool;
    fn switched_on(&self) -> Option<bool>;
    fn summary(&self) -> String;
    const BIND: Option<fn(&mut Self, &FlagMeta) -> Bound> = None;
}

#[diagnostic::do_not_recommend]
impl<T: SerdeValue + Zeroize> SerdeSecret for SecretBox<T> {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        T::parse_env(text).map(|value| SecretBox::new(Box::new(value)))
    }

    fn unset() -> Option<Self> {
        T::unset().map(|value| SecretBox::new(Box::new(value)))
    }

    fn to_env(&self) -> String {
        self.expose_secret().to_env()
    }

    fn is_unset(&self) -> bool {
        self.expose_secret().is_unset()
    }

    fn switched_on(&self) -> Option<bool> {
        None
    }

    fn summary(&self) -> String {
        String::from("<redacted>")
    }
}

#[diagnostic::do_not_recommend]
impl<T: SerdeValue + Zeroize> SerdeSecret for Option<SecretBox<T>> {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        <SecretBox<T> as SerdeSecret>::parse_env(text).map(Some)
    }

    fn unset() -> Option<Self> {
        Some(None)
    }

    fn to_env(&self) -> String {
        self.as_ref()
            .map(<SecretBox<T> as SerdeSecret>::to_env)
            .unwrap_or_default()
    }

    fn is_unset(&self) -> bool {
        self.as_ref()
            .is_none_or(<SecretBox<T> as SerdeSecret>::is_unset)
    }

    fn switched_on(&self) -> Option<bool> {
        Some(self.is_some())
    }

    fn summary(&self) -> String {
        String::from("<redacted>")
    }
}

/// A `#[flag(from_str)]` field's type is the value itself.
pub struct Plain;

/// A `#[flag(from_str)]` field's type is an `Option` of the value: unset is `None`.
pub struct Optional;

/// How a `#[flag(from_str)]` field is read (`FromStr`) and written back (`Display`), with the same
/// functions as [`FlagValue`] so generated code treats both alike. `Kind` is [`Plain`] or
/// [`Optional`], as the field's type is written: std could one day implement `FromStr` for
/// `Option`, so one blanket impl cannot cover both.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read with #[flag(from_str)]",
    label = "this field's type must implement `FromStr` and `Display` (or be an `Option` of such a type)",
    note = "flags parses the text with `FromStr` and writes the value back with `Display` (docs, \
            logs, the public projection), and shows the error of `FromStr` with `Display`"
)]
pub trait FromStrValue<Kind>: Sized {
    fn parse_env(text: &str) -> Result<Self, ValueError>;
    fn unset() -> Option<Self>;
    fn to_env(&self) -> String;
    fn is_unset(&self) -> bool;
    fn switched_on(&self) -> Option<bool>;
    fn summary(&self) -> String;
    fn to_public(&self) -> PublicValue;
    const BIND: Option<fn(&mut Self, &FlagMeta) -> Bound> = None;
}

#[diagnostic::do_not_recommend]
impl<T> FromStrValue<Plain> for T
where
    T: std::str::FromStr + fmt::Display,
    T::Err: fmt::Display,
{
    /// The text trimmed, as every flag's; the error says which type failed and why.
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        trim(text).parse().map_err(|error| {
            ValueError::expected(format!(
                "a valid `{}` ({error})",
                short_type_name(std::any::type_name::<T>())
            ))
        })
    }

    fn unset() -> Option<Self> {
        None
    }

    fn to_env(&self) -> String {
        self.to_string()
    }

    fn is_unset(&self) -> bool {
        self.to_env().trim().is_empty()
    }

    fn switched_on(&self) -> Option<bool> {
        None
    }

    fn summary(&self) -> String {
        self.to_env()
    }

    fn to_public(&self) -> PublicValue {
        PublicValue::String(self.to_env())
    }
}

#[diagnostic::do_not_recommend]
impl<T> FromStrValue<Optional> for Option<T>
where
    T: std::str::FromStr + fmt::Display,
    T::Err: fmt::Display,
{
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        <T as FromStrValue<Plain>>::parse_env(text).map(Some)
    }

    fn unset() -> Option<Self> {
        Some(None)
    }

    fn to_env(&self) -> String {
        self.as_ref().map(T::to_string).unwrap_or_default()
    }

    fn is_unset(&self) -> bool {
        self.to_env().trim().is_empty()
    }

    fn switched_on(&self) -> Option<bool> {
        Some(self.is_some())
    }

    fn summary(&self) -> String {
        self.to_env()
    }

    fn to_public(&self) -> PublicValue {
        self.as_ref().map_or(PublicValue::Null, |value| {
            PublicValue::String(value.to_string())
        })
    }
}

/// A type's name as its user writes it: `Option<Vec<u16>>`, not
/// `core::option::Option<alloc::vec::Vec<u16>>`.
fn short_type_name(name: &str) -> String {
    let mut short = String::with_capacity(name.len());
    let mut path = String::new();
    for c in name.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
            continue;
        }
        short.push_str(path.rsplit("::").next().unwrap_or_default());
        path.clear();
        short.push(c);
    }
    short.pop();
    short
}

/// The text `FlagMeta::default` gives for a field without a default: `""` (unset) when the type
/// has a value for unset (an `Option`), `None` when the flag is required.
pub fn unset_text<T>(unset: fn() -> Option<T>) -> Option<String> {
    unset().map(|_| String::new())
}

/// A type whose `default` or `when` value may be written as a string literal; generated code
/// calls `StringDefault::from_literal`, a method, so that rustc's error names no function the
/// user never wrote.
#[diagnostic::on_unimplemented(
    message = "a string literal is not a `{Self}`",
    label = "write a Rust value of type `{Self}` here",
    note = "string literals are accepted for string-like flags: String, PathBuf, SecretString"
)]
pub trait StringDefault {
    fn from_literal(text: &'static str) -> Self;
}

// The note names these types; rustc would otherwise list these impls, in this file, again.
#[diagnostic::do_not_recommend]
impl StringDefault for String {
    fn from_literal(text: &'static str) -> Self {
        text.to_owned()
    }
}

#[diagnostic::do_not_recommend]
impl StringDefault for std::path::PathBuf {
    fn from_literal(text: &'static str) -> Self {
        text.into()
    }
}

#[diagnostic::do_not_recommend]
impl StringDefault for secrecy::SecretString {
    fn from_literal(text: &'static str) -> Self {
        text.into()
    }
}

/// The one value in envy's map of one variable.
struct Single<T>(T);

impl<'de, T: DeserializeOwned> de::Deserialize<'de> for Single<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(PhantomData<T>);

        impl<'de, T: DeserializeOwned> de::Visitor<'de> for Visitor<T> {
            type Value = Single<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one variable")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                match map.next_key::<de::IgnoredAny>()? {
                    Some(_) => map.next_value().map(Single),
                    None => Err(de::Error::custom("no value")),
                }
            }
        }

        deserializer.deserialize_map(Visitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_names_lose_their_module_paths() {
        assert_eq!(
            super::short_type_name("core::option::Option<alloc::vec::Vec<u16>>"),
            "Option<Vec<u16>>"
        );
        assert_eq!(
            super::short_type_name("(my_app::Pair, [&str; 2])"),
            "(Pair, [&str; 2])"
        );
    }
}
