//! `#[flag(from_str)]`: a field of any type with `FromStr` and `Display` (a type of another
//! crate, which cannot implement [`FlagValue`](crate::FlagValue) here), or an `Option` of one.

use std::fmt::Display;
use std::str::FromStr;

use serde_json::Value;

use super::serde::short_type_name;
use super::{Kind, ValueError, trim};

/// A `#[flag(from_str)]` field's type is the value itself.
#[doc(hidden)]
pub struct Plain;

/// A `#[flag(from_str)]` field's type is an `Option` of the value: unset is `None`.
#[doc(hidden)]
pub struct Optional;

/// A type a `#[flag(from_str)]` field may have. `Form` is [`Plain`] or [`Optional`], as the
/// derive reads the field's type: std could one day implement `FromStr` for `Option`, so one
/// blanket impl cannot cover both.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read with #[flag(from_str)]",
    label = "this field's type must implement `FromStr` and `Display` (or be an `Option` of such a type)",
    note = "flags parses the text with `FromStr` and writes the value back with `Display` (docs, \
            logs, the public projection), and shows the error of `FromStr` with `Display`"
)]
#[doc(hidden)]
pub trait FromStrValue<Form>: Sized + 'static {
    /// How the field's type is read and written back.
    const __KIND: &'static Kind<Self>;
}

#[diagnostic::do_not_recommend]
impl<T> FromStrValue<Plain> for T
where
    T: FromStr + Display + 'static,
    T::Err: Display,
{
    const __KIND: &'static Kind<T> = &Kind::of(
        parse::<T>,
        || None,
        |_| None,
        T::to_string,
        |value| value.to_string().trim().is_empty(),
        T::to_string,
        |value| Value::String(value.to_string()),
    );
}

#[diagnostic::do_not_recommend]
impl<T> FromStrValue<Optional> for Option<T>
where
    T: FromStr + Display + 'static,
    T::Err: Display,
{
    const __KIND: &'static Kind<Self> = &Kind::of(
        |text| parse::<T>(text).map(Some),
        || Some(None),
        |_| Some(String::new()),
        to_env::<T>,
        |value| to_env(value).trim().is_empty(),
        to_env::<T>,
        |value| {
            value
                .as_ref()
                .map_or(Value::Null, |value| Value::String(value.to_string()))
        },
    )
    .switch(Option::is_some);
}

/// The text trimmed, as every flag's; the error says which type failed and why.
fn parse<T>(text: &str) -> Result<T, ValueError>
where
    T: FromStr,
    T::Err: Display,
{
    trim(text).parse().map_err(|error| {
        ValueError::expected(format!(
            "a valid `{}` ({error})",
            short_type_name(std::any::type_name::<T>())
        ))
    })
}

fn to_env<T: Display>(value: &Option<T>) -> String {
    value.as_ref().map(T::to_string).unwrap_or_default()
}
