//! Traits that exist for their compile errors: generated code names one of them at the tokens a
//! user wrote, so that a misuse fails to compile there with a message in the user's words.

use crate::value::FlagValue;

/// A type whose values are on or off, so that `requires` without `when` means "when on".
#[diagnostic::on_unimplemented(
    message = "`requires` without `when` needs a flag that is on or off, and `{Self}` is neither",
    label = "add `when = <value>` to say which value of this flag requires the others",
    note = "a `bool` is on when `true`, an `Option` when `Some`"
)]
pub trait Switch {
    /// Generated code names it: the name compiles only where the trait holds.
    const CHECKED: () = ();
}

// The note names the switches; rustc would otherwise list these impls, in this file, again.
#[diagnostic::do_not_recommend]
impl Switch for bool {}

#[diagnostic::do_not_recommend]
impl<T: FlagValue> Switch for Option<T> {}

/// [`Switch`] for a field read through serde or `FromStr`, not `FlagValue`.
#[diagnostic::on_unimplemented(
    message = "`requires` without `when` needs a flag that is on or off, and `{Self}` is neither",
    label = "add `when = <value>` to say which value of this flag requires the others",
    note = "a `bool` is on when `true`, an `Option` when `Some`"
)]
pub trait AnySwitch {
    /// Generated code names it: the name compiles only where the trait holds.
    const CHECKED: () = ();
}

// As for `Switch`: the note names the switches.
#[diagnostic::do_not_recommend]
impl AnySwitch for bool {}

#[diagnostic::do_not_recommend]
impl<T> AnySwitch for Option<T> {}

/// Whether a flag's type is secret, as a type: `SecretType<{ <T as FlagValue>::SECRET }>`, so
/// that a misuse fails to compile with a trait's message rather than a panic in const evaluation.
pub struct SecretType<const SECRET: bool>;

/// Implemented for the types that a `public` flag may have: those that are not secret.
#[diagnostic::on_unimplemented(
    message = "a `public` flag cannot have a secret type such as `SecretString`",
    label = "the public projection is sent to frontends, and this flag's type is secret",
    note = "drop `public`, or give the flag a type that is not secret"
)]
pub trait PublicType {
    /// Generated code names it: the name compiles only where the trait holds.
    const CHECKED: () = ();
}

// Else rustc adds "is implemented for `SecretType<false>`", which means nothing to a user.
#[diagnostic::do_not_recommend]
impl PublicType for SecretType<false> {}

/// Implemented for the types a `live` flag not marked `secret` may have: secret ones, which
/// `live` lets change live.
#[diagnostic::on_unimplemented(
    message = "`live` lets a secret flag change live, and this flag's type is not secret",
    label = "a flag that is not secret changes live without `live`",
    note = "drop `live`; for a secret that may change live, write #[flag(secret, live)] with a type that hides its value"
)]
pub trait LiveType {
    /// Generated code names it: the name compiles only where the trait holds.
    const CHECKED: () = ();
}

// As for `PublicType`: "implemented for `SecretType<true>`" would mean nothing to a user.
#[diagnostic::do_not_recommend]
impl LiveType for SecretType<true> {}

/// Implemented for the types a `secret` flag may have: those whose `Debug` hides the value, so
/// that `println!("{settings:?}")` cannot print a secret.
#[diagnostic::on_unimplemented(
    message = "a `secret` flag needs a type that hides its value",
    label = "`{{:?}}` of the settings would print this secret",
    note = "use `SecretString` for text, or `SecretBox<T>` (`flags_core::secrecy`) for another type, \
            in an `Option` when the flag may be unset; `expose_secret()` reads the value"
)]
pub trait HidesValue {
    /// Generated code names it: the name compiles only where the trait holds.
    const CHECKED: () = ();
}

// Else rustc adds "is implemented for `SecretType<true>`", which means nothing to a user.
#[diagnostic::do_not_recommend]
impl HidesValue for SecretType<true> {}

/// A type whose `default` or `when` value may be written as a string literal; generated code
/// calls `StringDefault::from_literal`, a method, so that rustc's error names no function the
/// user never wrote.
#[diagnostic::on_unimplemented(
    message = "a string literal is not a `{Self}`",
    label = "write a Rust value of type `{Self}` here",
    note = "string literals are accepted for string-like flags: String, PathBuf, SecretString"
)]
pub trait StringDefault {
    /// The value the literal `text` writes.
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
