//! [`Visitor`]: what the runtime does with every field of a loaded struct (log it, project it for
//! a frontend, check its requirements), written once for every struct: generated code hands each
//! field to the visitor as a [`FieldValue`], so neither the visit nor the visitors are compiled
//! again for each type in each crate that derives.

use serde_json::Value;

use crate::decision::Decision;

/// One field's value, with what its type's kind says of it.
#[doc(hidden)]
pub trait FieldValue {
    /// The text that parses back to the value.
    fn to_env(&self) -> String;
    /// Whether the value counts as unset, as an empty variable does.
    fn is_unset(&self) -> bool;
    /// Whether the value switches its flag on, for types that are on or off.
    fn switched_on(&self) -> Option<bool>;
    /// The value as logs show it.
    fn summary(&self) -> String;
    /// The value as the public projection shows it.
    fn to_public(&self) -> Value;
    /// The public value for one user.
    fn to_public_for(&self, user: &str) -> Value;
    /// Whether the public value depends on the user.
    fn is_per_user(&self) -> bool;
    /// The public value for a context, and why when the context decided it; `None` when it
    /// depends on a user and there is none.
    fn decide(&self, user: Option<&str>) -> Option<Decision>;
}

/// Visits the fields of a struct of flags, in declaration order (generated code calls
/// [`Visitor::field`] once per field).
#[doc(hidden)]
pub trait Visitor {
    /// The field at `index` holds `value`.
    fn field(&mut self, index: usize, value: &dyn FieldValue);
}
