//! [`Visitor`]: what the runtime does with every field of a loaded struct, one generic call per
//! field: logging it, projecting it for a frontend, checking its requirements.

use crate::value::Kind;

/// Visits the fields of a struct of flags, in declaration order (generated code calls
/// [`Visitor::field`] once per field).
#[doc(hidden)]
pub trait Visitor {
    /// The field at `index` holds `value`, of a type `kind` reads.
    fn field<T>(&mut self, index: usize, kind: &Kind<T>, value: &T);
}
