//! [`FlagValue`]: how one variable's text becomes a typed value, and back.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use serde_json::Value;

mod duration;
mod from_str;
mod kind;
mod serde;
mod std_types;

pub use from_str::{FromStrValue, Optional, Plain};
pub(crate) use kind::{Bound, PerUser};
pub use kind::{Kind, WrittenValue};
pub use serde::{SerdeSecret, SerdeValue};

/// A type that one environment variable can hold.
///
/// Implemented for `bool`, every integer type, `f32`, `f64`, `String`, `PathBuf`,
/// [`SecretString`], [`Duration`](std::time::Duration), `Option<T>` and `Vec<T>` (comma-separated), and by
/// `#[derive(FlagValue)]` for fieldless enums.
///
/// An empty variable counts as unset and never reaches [`FlagValue::parse_env`]: the flag's
/// default applies instead.
///
/// ```
/// use flags_core::FlagValue;
///
/// assert_eq!(bool::parse_env(" Yes ").unwrap(), true);
/// assert_eq!(<Vec<u16>>::parse_env("80, 443").unwrap(), vec![80, 443]);
/// assert_eq!(std::time::Duration::from_secs(5400).to_env(), "1h30m");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from an environment variable",
    label = "this field's type does not implement `FlagValue`",
    note = "derive `FlagValue` for a fieldless enum or implement it for your type; a type with `FromStr` and `Display` (such as one of another crate) is read with #[flag(from_str)], and one with serde's `Deserialize` and `Serialize` with #[flag(serde)]"
)]
pub trait FlagValue: Sized + 'static {
    /// The values a fieldless enum accepts, as written in variables; empty for other types.
    const VALUES: &'static [&'static str] = &[];

    /// Other names the type accepts for some of its [`VALUES`](Self::VALUES), each with the value
    /// it names (`("postgres", "postgresql")`), for docs to list.
    const ALIASES: &'static [(&'static str, &'static str)] = &[];

    /// Whether every value of this type is secret, whatever the field says ([`SecretString`]).
    const SECRET: bool = false;

    /// Parses the text of one variable; `text` is never empty or only whitespace.
    fn parse_env(text: &str) -> Result<Self, ValueError>;

    /// The text that [`FlagValue::parse_env`] turns back into this value.
    fn to_env(&self) -> String;

    /// The value of a flag whose variable is unset and which has no default; `None` makes the
    /// flag required. `Option<T>` returns `Some(None)`.
    fn unset() -> Option<Self> {
        None
    }

    /// Whether the value counts as unset, as an empty variable does: `None`, an empty string or
    /// list. A flag that `requires` this one needs it set.
    fn is_unset(&self) -> bool {
        self.to_env().trim().is_empty()
    }

    /// The value as the public projection shows it: typed JSON (`true`, `42`, `"sqlite"`), a
    /// [`Value`] of the re-exported [`serde_json`](crate::serde_json). By default its text.
    fn to_public(&self) -> Value {
        Value::String(self.to_env())
    }

    /// The value as logs show it: its text, or a summary that leaves out what must not be
    /// logged (a rollout's allowed and denied users, of which only the counts are shown).
    fn summary(&self) -> String {
        self.to_env()
    }

    /// How the runtime reads and shows the type: these methods, and what this crate's own types
    /// do beside (a `bool` is on or off; a rollout decides per user). Not for other types to set.
    #[doc(hidden)]
    const __KIND: &'static Kind<Self> = &Kind::plain();
}

/// Why a variable's text is not a valid value: what was expected instead.
///
/// A parser may quote the text it rejects (`expected a licence key, not "LIC_42"`), which is
/// useful for most flags and a leak for a secret one. So for a secret flag a load shows only
/// the messages of this crate's own parsers, which never quote what they reject; any other
/// message (yours, serde's) is replaced by "a valid `Type`", however it renders the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    expected: Cow<'static, str>,
    /// Written by this crate's parsers, which never quote the value: safe to show for a secret.
    quotes_nothing: bool,
}

impl ValueError {
    /// An error that says what a valid value looks like: `ValueError::expected("a port number")`.
    /// For a secret flag the message is not shown (it may quote the value); the type's name is.
    pub fn expected(what: impl Into<Cow<'static, str>>) -> Self {
        Self {
            expected: what.into(),
            quotes_nothing: false,
        }
    }

    /// An error of this crate's own parsers, whose message never quotes the value.
    pub(crate) fn known(what: impl Into<Cow<'static, str>>) -> Self {
        Self {
            expected: what.into(),
            quotes_nothing: true,
        }
    }

    /// An error for a value that must be one of `values`.
    pub fn one_of(values: &[&str]) -> Self {
        Self::expected(format!("one of: {}", values.join(", ")))
    }

    /// `one_of` for the values a type declares, which are not the text being parsed.
    pub(crate) fn one_of_values(values: &'static [&'static str]) -> Self {
        Self::known(format!("one of: {}", values.join(", ")))
    }

    /// What a valid value looks like, e.g. `one of: sqlite, postgresql`.
    pub fn what_was_expected(&self) -> &str {
        &self.expected
    }

    /// What a valid value looks like, as a secret flag of type `type_name` may show it: the
    /// message itself if this crate wrote it, else only the type.
    pub(crate) fn shown_for_secret(&self, type_name: &str) -> Cow<'static, str> {
        if self.quotes_nothing {
            self.expected.clone()
        } else {
            Cow::Owned(format!(
                "a valid `{type_name}` (the parser's message is not shown: the flag is secret)"
            ))
        }
    }

    /// This error with more said of where it happened, as trustworthy as it was.
    pub(crate) fn map(self, what: impl FnOnce(&str) -> String) -> Self {
        Self {
            expected: Cow::Owned(what(&self.expected)),
            quotes_nothing: self.quotes_nothing,
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}", self.expected)
    }
}

impl std::error::Error for ValueError {}

/// `text` without surrounding whitespace; free when there is none, as in almost every value.
#[doc(hidden)]
#[inline]
pub fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

const BOOL_EXPECTED: &str = "a boolean: true/false, 1/0, yes/no or on/off";

/// Also `t`/`f` and `y`/`n`, in any case: pydantic accepts them, so a deployment of a Python
/// service that writes them loads with the same meaning here. The message lists only the usual
/// spellings.
impl FlagValue for bool {
    const __KIND: &'static Kind<Self> = &Kind::plain()
        .switch(|on| *on)
        .shape(crate::meta::Shape::Switch);

    fn parse_env(text: &str) -> Result<Self, ValueError> {
        let text = trim(text);
        // The spellings as usually written first, then in any case.
        match text {
            "true" | "1" | "yes" | "on" => return Ok(true),
            "false" | "0" | "no" | "off" => return Ok(false),
            _ => {}
        }
        let is = |spelling: &str| text.eq_ignore_ascii_case(spelling);
        if is("true") || is("yes") || is("on") || is("t") || is("y") {
            Ok(true)
        } else if is("false") || is("no") || is("off") || is("f") || is("n") {
            Ok(false)
        } else {
            Err(ValueError::known(BOOL_EXPECTED))
        }
    }

    fn to_env(&self) -> String {
        self.to_string()
    }

    fn is_unset(&self) -> bool {
        false
    }

    fn to_public(&self) -> Value {
        Value::Bool(*self)
    }
}

macro_rules! integers {
    ($($int:ty)*) => {$(
        impl FlagValue for $int {
            fn parse_env(text: &str) -> Result<Self, ValueError> {
                trim(text).parse().map_err(|_| {
                    ValueError::known(format!(
                        "an integer from {} to {}",
                        <$int>::MIN,
                        <$int>::MAX
                    ))
                })
            }

            fn to_env(&self) -> String {
                self.to_string()
            }

            fn is_unset(&self) -> bool {
                false
            }

            /// A JSON number; one beyond 64 bits (a `u128`, an `i128`), which JSON numbers here
            /// cannot hold, as text.
            fn to_public(&self) -> Value {
                serde_json::to_value(self).unwrap_or_else(|_| Value::String(self.to_string()))
            }
        }
    )*};
}

integers! { u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }

macro_rules! floats {
    ($($float:ty => $range:literal)*) => {$(
        impl FlagValue for $float {
            /// Only finite numbers: `NaN`, `inf` and numbers beyond the type's range (`1e400`)
            /// are errors, as JSON (the public projection) cannot hold them and any comparison
            /// with `NaN` is false.
            fn parse_env(text: &str) -> Result<Self, ValueError> {
                trim(text)
                    .parse()
                    .ok()
                    .filter(|number: &$float| number.is_finite())
                    .ok_or_else(|| ValueError::known(concat!(
                        "a finite number such as 0.5, 10 or 1e-3, from -", $range, " to ", $range,
                        " (not NaN or inf)"
                    )))
            }

            fn to_env(&self) -> String {
                // Display prints the shortest text that parses back to the same value.
                self.to_string()
            }

            fn is_unset(&self) -> bool {
                false
            }

            fn to_public(&self) -> Value {
                // Finite (parse_env refuses the rest), so a JSON number.
                Value::from(f64::from(*self))
            }
        }
    )*};
}

floats!(f32 => "3.4e38" f64 => "1.8e308");

impl FlagValue for String {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        Ok(text.to_owned())
    }

    fn to_env(&self) -> String {
        self.clone()
    }

    fn is_unset(&self) -> bool {
        self.trim().is_empty()
    }
}

impl FlagValue for PathBuf {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        Ok(PathBuf::from(text))
    }

    fn to_env(&self) -> String {
        self.to_string_lossy().into_owned()
    }

    fn is_unset(&self) -> bool {
        self.as_os_str().is_empty()
    }
}

impl FlagValue for SecretString {
    const SECRET: bool = true;

    fn parse_env(text: &str) -> Result<Self, ValueError> {
        Ok(SecretString::from(text))
    }

    fn to_env(&self) -> String {
        self.expose_secret().to_owned()
    }

    fn is_unset(&self) -> bool {
        self.expose_secret().trim().is_empty()
    }

    /// Never the secret: `public` flags cannot be secret, and this keeps it so if one slips by.
    fn to_public(&self) -> Value {
        Value::String(String::from("<redacted>"))
    }
}

/// A secret of any type that one variable can hold (`SecretBox<u32>`, a PIN): read as `T`, then
/// kept where `Debug` shows `[REDACTED]`. Every flag of such a type is secret.
impl<T: FlagValue + Zeroize> FlagValue for SecretBox<T> {
    const VALUES: &'static [&'static str] = T::VALUES;
    const ALIASES: &'static [(&'static str, &'static str)] = T::ALIASES;
    const SECRET: bool = true;

    fn parse_env(text: &str) -> Result<Self, ValueError> {
        T::parse_env(text).map(|value| SecretBox::new(Box::new(value)))
    }

    fn to_env(&self) -> String {
        self.expose_secret().to_env()
    }

    fn is_unset(&self) -> bool {
        self.expose_secret().is_unset()
    }

    /// Never the secret, as for [`SecretString`].
    fn to_public(&self) -> Value {
        Value::String(String::from("<redacted>"))
    }
}

impl<T: FlagValue> FlagValue for Option<T> {
    const VALUES: &'static [&'static str] = T::VALUES;
    const ALIASES: &'static [(&'static str, &'static str)] = T::ALIASES;
    const SECRET: bool = T::SECRET;
    const __KIND: &'static Kind<Self> = &Kind::option();

    fn parse_env(text: &str) -> Result<Self, ValueError> {
        T::parse_env(text).map(Some)
    }

    /// The inner value's text, or the empty text (which counts as unset) for `None`.
    fn to_env(&self) -> String {
        self.as_ref().map(T::to_env).unwrap_or_default()
    }

    fn unset() -> Option<Self> {
        Some(None)
    }

    fn is_unset(&self) -> bool {
        self.as_ref().is_none_or(T::is_unset)
    }

    fn to_public(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_public)
    }

    fn summary(&self) -> String {
        self.as_ref().map(T::summary).unwrap_or_default()
    }
}

impl<T: FlagValue> FlagValue for Vec<T> {
    const VALUES: &'static [&'static str] = T::VALUES;
    const ALIASES: &'static [(&'static str, &'static str)] = T::ALIASES;
    const SECRET: bool = T::SECRET;

    /// Comma-separated items, each trimmed; empty items (`a,,b`, a trailing comma) are skipped.
    /// Text with commas and no item is an error: only an empty variable unsets a list.
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        let items: Vec<T> = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .enumerate()
            .map(|(index, item)| {
                T::parse_env(item).map_err(|error| {
                    error.map(|expected| {
                        format!(
                            "{expected} for item {} of the comma-separated list",
                            index + 1
                        )
                    })
                })
            })
            .collect::<Result<_, _>>()?;
        if items.is_empty() {
            return Err(ValueError::known(
                "a comma-separated list of at least one item (leave the variable empty to unset it)",
            ));
        }
        Ok(items)
    }

    fn to_env(&self) -> String {
        self.iter().map(T::to_env).collect::<Vec<_>>().join(",")
    }

    fn is_unset(&self) -> bool {
        self.iter().all(T::is_unset)
    }

    fn to_public(&self) -> Value {
        Value::Array(self.iter().map(T::to_public).collect())
    }

    fn summary(&self) -> String {
        self.iter().map(T::summary).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bool_accepts_every_documented_spelling_in_any_case_with_spaces() {
        for text in ["true", "TRUE", " 1", "yes ", "On", "\tYES\n"] {
            assert_eq!(bool::parse_env(text), Ok(true), "{text:?}");
        }
        for text in ["false", "False", "0", "NO", " off "] {
            assert_eq!(bool::parse_env(text), Ok(false), "{text:?}");
        }
    }

    #[test]
    fn bool_accepts_the_one_letter_spellings_pydantic_accepts() {
        for text in ["t", "T", "y", " Y "] {
            assert_eq!(bool::parse_env(text), Ok(true), "{text:?}");
        }
        for text in ["f", "F", "n", "N"] {
            assert_eq!(bool::parse_env(text), Ok(false), "{text:?}");
        }
        for text in ["tru", "ye", "2", "-1", "o", "enabled"] {
            assert!(bool::parse_env(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn bool_error_lists_the_accepted_spellings() {
        let error = bool::parse_env("maybe").unwrap_err();
        assert_eq!(
            error.to_string(),
            "expected a boolean: true/false, 1/0, yes/no or on/off"
        );
    }

    #[test]
    fn integer_error_names_the_range_of_the_type() {
        assert_eq!(
            u16::parse_env("80800").unwrap_err().what_was_expected(),
            "an integer from 0 to 65535"
        );
        assert_eq!(
            i8::parse_env("x").unwrap_err().what_was_expected(),
            "an integer from -128 to 127"
        );
        assert_eq!(u16::parse_env(" 8080 "), Ok(8080));
    }

    #[test]
    fn integers_are_public_as_json_numbers_and_beyond_64_bits_as_text() {
        assert_eq!(8080u16.to_public(), Value::from(8080));
        assert_eq!((-3i128).to_public(), Value::from(-3));
        assert_eq!(u128::from(u64::MAX).to_public(), Value::from(u64::MAX));
        let huge = u128::from(u64::MAX) + 1;
        assert_eq!(huge.to_public(), Value::String(huge.to_string()));
        assert_eq!(i128::MIN.to_public(), Value::String(i128::MIN.to_string()));
    }

    #[test]
    fn float_accepts_plain_and_scientific_notation() {
        assert_eq!(f64::parse_env("0.5"), Ok(0.5));
        assert_eq!(f32::parse_env(" 1e-3 "), Ok(1e-3));
        assert!(f64::parse_env("half").is_err());
    }

    #[test]
    fn nan_infinity_and_numbers_beyond_the_range_are_errors_not_values_json_cannot_hold() {
        for text in ["NaN", "nan", "inf", "-inf", "infinity", "1e400", "-1e400"] {
            assert_eq!(
                f64::parse_env(text).unwrap_err().to_string(),
                "expected a finite number such as 0.5, 10 or 1e-3, from -1.8e308 to 1.8e308 \
                 (not NaN or inf)",
                "{text:?}"
            );
        }
        assert!(f32::parse_env("1e39").is_err());
        assert_eq!(f64::parse_env("1e308"), Ok(1e308));
    }

    #[test]
    fn strings_and_paths_keep_their_text_exactly() {
        assert_eq!(String::parse_env(" a b ").unwrap(), " a b ");
        assert_eq!(
            PathBuf::parse_env("/var/lib/app").unwrap(),
            PathBuf::from("/var/lib/app")
        );
    }

    #[test]
    fn secret_string_is_secret_by_type_and_keeps_its_text() {
        const { assert!(<SecretString as FlagValue>::SECRET) };
        const { assert!(<Option<SecretString> as FlagValue>::SECRET) };
        const { assert!(!<Option<String> as FlagValue>::SECRET) };
        let secret = SecretString::parse_env("s3cr3t").unwrap();
        assert_eq!(secret.expose_secret(), "s3cr3t");
    }

    #[test]
    fn option_is_the_inner_value_and_unset_means_none() {
        assert_eq!(<Option<u8>>::parse_env("7"), Ok(Some(7)));
        assert_eq!(<Option<u8>>::unset(), Some(None));
        assert_eq!(<u8>::unset(), None);
        assert_eq!(None::<u8>.to_env(), "");
    }

    #[test]
    fn list_items_are_trimmed_and_empty_items_skipped() {
        assert_eq!(
            <Vec<String>>::parse_env(" a, b ,,c,").unwrap(),
            vec!["a", "b", "c"]
        );
    }

    #[test]
    fn a_list_of_only_commas_is_an_error_not_an_empty_list() {
        // An empty list would satisfy a required flag and switch an `Option` on.
        for text in [",", " , ,", ",,,"] {
            assert_eq!(
                <Vec<u8>>::parse_env(text).unwrap_err().to_string(),
                "expected a comma-separated list of at least one item (leave the variable empty \
                 to unset it)",
                "{text:?}"
            );
        }
    }

    #[test]
    fn list_error_names_the_bad_item() {
        assert_eq!(
            <Vec<u8>>::parse_env("1, x, 3").unwrap_err().to_string(),
            "expected an integer from 0 to 255 for item 2 of the comma-separated list"
        );
    }

    fn round_trips<T: FlagValue + PartialEq + fmt::Debug>(value: T) -> Result<(), TestCaseError> {
        let text = value.to_env();
        prop_assert_eq!(T::parse_env(&text), Ok(value), "text {:?}", text);
        Ok(())
    }

    fn never_panics<T: FlagValue>(text: &str) {
        let _ = T::parse_env(text);
    }

    proptest! {
        #[test]
        fn no_text_makes_a_parser_panic(text in any::<String>()) {
            never_panics::<bool>(&text);
            never_panics::<u8>(&text);
            never_panics::<i64>(&text);
            never_panics::<u128>(&text);
            never_panics::<f64>(&text);
            never_panics::<String>(&text);
            never_panics::<PathBuf>(&text);
            never_panics::<SecretString>(&text);
            never_panics::<Duration>(&text);
            never_panics::<Option<u32>>(&text);
            never_panics::<Vec<Duration>>(&text);
        }

        #[test]
        fn durations_that_look_like_durations_never_panic(
            text in "[0-9]{1,40}(\\.[0-9]{0,12})?(ns|us|ms|s|m|h|d|w|M|y){0,2}",
        ) {
            never_panics::<Duration>(&text);
        }

        #[test]
        fn bools_round_trip(value in any::<bool>()) { round_trips(value)?; }

        #[test]
        fn integers_round_trip(a in any::<u8>(), b in any::<i32>(), c in any::<u64>(), d in any::<i128>()) {
            round_trips(a)?;
            round_trips(b)?;
            round_trips(c)?;
            round_trips(d)?;
        }

        #[test]
        fn floats_round_trip(
            a in proptest::num::f64::NORMAL | proptest::num::f64::ZERO,
            b in proptest::num::f32::NORMAL | proptest::num::f32::SUBNORMAL | proptest::num::f32::ZERO,
        ) {
            round_trips(a)?;
            round_trips(b)?;
        }

        #[test]
        fn non_finite_floats_are_errors(value in proptest::num::f64::INFINITE | proptest::num::f64::QUIET_NAN) {
            prop_assert!(f64::parse_env(&value.to_string()).is_err());
        }

        #[test]
        fn non_blank_strings_round_trip(value in ".*[^\\s].*") {
            round_trips(value.clone())?;
            round_trips(PathBuf::from(value))?;
        }

        #[test]
        fn durations_round_trip(seconds in 0u64..10_000_000_000, nanos in 0u32..1_000_000_000) {
            round_trips(Duration::new(seconds, nanos))?;
        }

        #[test]
        fn options_round_trip(value in any::<u16>()) { round_trips(Some(value))?; }

        #[test]
        fn lists_of_trimmed_items_round_trip(items in proptest::collection::vec("[a-z0-9_.-]+", 1..8)) {
            round_trips(items)?;
        }

        #[test]
        fn lists_of_numbers_round_trip(items in proptest::collection::vec(any::<i32>(), 1..8)) {
            round_trips(items)?;
        }
    }
}
