//! `#[flag(serde)]`: a field of any type with serde's `Deserialize` and `Serialize`, read with
//! envy's rules and written back through `Serialize`; and `#[flag(serde, secret)]`, the same inside
//! a `SecretBox`.

use std::fmt;
use std::marker::PhantomData;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox};
use serde::Serialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer};
use serde_json::Value;

use super::{Kind, ValueError};
use crate::meta::TextForm;

/// A type a `#[flag(serde)]` field may have: one with serde's `Deserialize` and `Serialize`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read with #[flag(serde)]",
    label = "this field's type must implement serde's `Deserialize` and `Serialize`",
    note = "flags reads the value with `Deserialize` and writes it back with `Serialize` (docs, logs, \
            the public projection): derive both, or turn on the `serde` feature of the type's crate"
)]
#[doc(hidden)]
pub trait SerdeValue: Sized + 'static {
    /// How the field's type is read and written back.
    const __KIND: &'static Kind<Self>;
}

// Without this, rustc reports serde's bound that fails (with serde's list of every type that
// implements it) rather than `SerdeValue`'s message.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + Serialize + 'static> SerdeValue for T {
    const __KIND: &'static Kind<T> = &Kind::of(
        parse::<T>,
        unset::<T>,
        unset_text::<T>,
        to_env::<T>,
        is_unset::<T>,
        to_env::<T>,
        to_public::<T>,
    )
    .switch(switched_on::<T>);
}

/// Reads the text with envy's rules (numbers, bools, comma-separated sequences, unit variants).
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ValueError> {
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
fn unset<T: DeserializeOwned>() -> Option<T> {
    let missing: de::value::UnitDeserializer<de::value::Error> = ().into_deserializer();
    T::deserialize(missing).ok()
}

fn unset_text<T: DeserializeOwned>(_: TextForm) -> Option<String> {
    unset::<T>().map(|_| String::new())
}

/// The text envy reads back: scalars as text, sequences comma-separated, `None` empty. A map or
/// a struct, which one variable cannot hold, has no text.
fn to_env<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .map(|value| env_text(&value))
        .unwrap_or_default()
}

fn env_text(value: &Value) -> String {
    match value {
        Value::Null | Value::Object(_) => String::new(),
        Value::Bool(value) => value.to_string(),
        // Rust's own text for a float (`1`, where JSON writes `1.0`), as `f64::to_env` writes it.
        Value::Number(number) if number.is_f64() => number.as_f64().unwrap_or_default().to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(env_text).collect::<Vec<_>>().join(","),
    }
}

fn is_unset<T: Serialize>(value: &T) -> bool {
    to_env(value).trim().is_empty()
}

/// Typed as JSON types it: a struct is an object; `Null` for what JSON cannot hold (a map whose
/// keys are not strings).
fn to_public<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A `bool` is on when `true`, an `Option` when `Some` (whatever it holds, even `Some(false)`);
/// other types are never on. The derive lets `requires` without `when` on the first two only.
fn switched_on<T: DeserializeOwned + Serialize>(value: &T) -> bool {
    let value = serde_json::to_value(value);
    // An `Option` is the type that deserializes from nothing; only `None` serializes to `null`.
    if unset::<T>().is_some() {
        !matches!(value, Ok(Value::Null))
    } else {
        matches!(value, Ok(Value::Bool(true)))
    }
}

/// A type a `#[flag(serde, secret)]` field may have: a `SecretBox` of a serde type, or an `Option`
/// of one, which `Debug` cannot print.
#[diagnostic::on_unimplemented(
    message = "a `secret` flag read with serde needs a type that hides its value, and `{Self}` shows it",
    label = "`{{:?}}` of the settings would print this secret",
    note = "wrap the type in `SecretBox` (`flags_core::secrecy`): `SecretBox<T>`, or \
            `Option<SecretBox<T>>` when the flag may be unset; `expose_secret()` reads the value"
)]
#[doc(hidden)]
pub trait SerdeSecret: Sized + 'static {
    /// How the field's type is read: the type inside as [`SerdeValue`] reads it.
    const __KIND: &'static Kind<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + Serialize + Zeroize + 'static> SerdeSecret for SecretBox<T> {
    const __KIND: &'static Kind<Self> = &Kind::of(
        |text| parse::<T>(text).map(|value| SecretBox::new(Box::new(value))),
        || unset::<T>().map(|value| SecretBox::new(Box::new(value))),
        unset_text::<T>,
        |value| to_env(value.expose_secret()),
        |value| is_unset(value.expose_secret()),
        |_| String::from("<redacted>"),
        |_| Value::String(String::from("<redacted>")),
    )
    .secret();
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + Serialize + Zeroize + 'static> SerdeSecret for Option<SecretBox<T>> {
    const __KIND: &'static Kind<Self> = &Kind::of(
        |text| parse::<T>(text).map(|value| Some(SecretBox::new(Box::new(value)))),
        || Some(None),
        |_| Some(String::new()),
        |value| {
            value
                .as_ref()
                .map(|value| to_env(value.expose_secret()))
                .unwrap_or_default()
        },
        |value| {
            value
                .as_ref()
                .is_none_or(|value| is_unset(value.expose_secret()))
        },
        |_| String::from("<redacted>"),
        |_| Value::String(String::from("<redacted>")),
    )
    .secret()
    .switch(Option::is_some);
}

/// A type's name as its user writes it: `Option<Vec<u16>>`, not
/// `core::option::Option<alloc::vec::Vec<u16>>`.
pub(crate) fn short_type_name(name: &str) -> String {
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
    use serde_json::{Value, json};

    #[test]
    fn serializable_values_become_public_values_as_json_types_them() {
        assert_eq!(super::to_public(&true), Value::Bool(true));
        assert_eq!(super::to_public(&-3i16), json!(-3));
        assert_eq!(super::to_public(&None::<u8>), Value::Null);
        assert_eq!(super::to_public(&vec![Some("a"), None]), json!(["a", null]));
        let map: std::collections::BTreeMap<&str, u8> = [("a", 1)].into();
        assert_eq!(super::to_public(&map), json!({"a": 1}));
        let not_json: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert_eq!(super::to_public(&not_json), Value::Null);
    }

    #[test]
    fn serializable_values_write_back_as_a_variables_text() {
        assert_eq!(super::to_env(&vec![1u8, 2]), "1,2");
        assert_eq!(super::to_env(&None::<u8>), "");
        assert_eq!(super::to_env(&"fast"), "fast");
        assert_eq!(super::to_env(&1.0f64), "1");
        assert_eq!(super::to_env(&-2.5f32), "-2.5");
        let map: std::collections::BTreeMap<&str, u8> = [("a", 1)].into();
        assert_eq!(super::to_env(&map), "");
    }

    #[test]
    fn a_true_bool_or_any_some_switches_a_flag_on_and_nothing_else_does() {
        assert!(super::switched_on(&true));
        assert!(super::switched_on(&Some(false)));
        assert!(super::switched_on(&Some(0u8)));
        assert!(!super::switched_on(&false));
        assert!(!super::switched_on(&None::<bool>));
        assert!(!super::switched_on(&1u8));
        assert!(!super::switched_on(&String::from("true")));
    }

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
