//! What generated code needs, and nothing else: it names everything through
//! `::flags_core::__private::…`, so that it compiles with no `use` in scope and survives a user's
//! `type Result = …;` or `mod core {}`. Not API: names here change without notice.

pub use core::convert::From;
pub use core::option::Option::{self, None, Some};
pub use core::result::Result::{self, Err, Ok};
// The bodies of the impl a failed derive leaves behind; the build never gets to run them.
pub use core::unreachable;
pub use std::string::String;

pub use crate::checks::{
    AnySwitch, HidesValue, LiveType, PublicType, SecretType, StringDefault, Switch,
};
pub use crate::error::FlagsError;
pub use crate::flags::FeatureFlags;
pub use crate::load::Load;
pub use crate::meta::{FlagMeta, FlagMetaParts, Requirement};
pub use crate::schema::Schema;
pub use crate::value::{
    FlagValue, FromStrValue, Kind, Optional, Plain, SerdeSecret, SerdeValue, ValueError,
    WrittenValue, trim,
};
pub use crate::visit::Visitor;

/// The error of a derived enum's parser: the values it accepts, never the text it rejects.
pub fn one_of(values: &'static [&'static str]) -> ValueError {
    ValueError::one_of_values(values)
}
