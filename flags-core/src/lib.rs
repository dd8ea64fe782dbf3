//! Typed feature flags, loaded from environment variables.
//!
//! Declare the flags as a struct, derive [`FeatureFlags`], and load it from the process
//! environment, a map or `.env` files. Every problem is reported at once, in one [`FlagsError`]
//! whose lines name the variable, the value and what was expected.
//!
//! ```
//! use flags_core::{FeatureFlags, FlagValue};
//! use flags_core::secrecy::SecretString;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
//! pub enum DatabaseType {
//!     Sqlite,
//!     #[flag_value(alias = "postgres")]
//!     Postgresql,
//! }
//!
//! #[derive(Debug, FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! pub struct Settings {
//!     /// Enable WhatsApp integration.
//!     #[flag(default = false)]
//!     pub whatsapp_enabled: bool,
//!
//!     #[flag(env = "WHATSAPP_TOKEN", secret)]
//!     pub whatsapp_token: Option<SecretString>,
//!
//!     /// Select database backend for checkpointer.
//!     #[flag(default = DatabaseType::Sqlite)]
//!     pub database_type: DatabaseType,
//!
//!     /// How long a session lives.
//!     #[flag(env = "SESSION_TTL", default = std::time::Duration::from_secs(30 * 60))]
//!     pub session_ttl: std::time::Duration,
//! }
//!
//! let settings = Settings::from_iter([
//!     ("FEATURE_WHATSAPP_ENABLED", "yes"),
//!     ("FEATURE_DATABASE_TYPE", "Postgres"),
//!     ("SESSION_TTL", "1h30m"),
//! ])?;
//! assert!(settings.whatsapp_enabled);
//! assert_eq!(settings.database_type, DatabaseType::Postgresql);
//! assert_eq!(settings.session_ttl.as_secs(), 5400);
//! assert!(settings.whatsapp_token.is_none());
//!
//! let error = Settings::from_iter([
//!     ("FEATURE_WHATSAPP_ENABLED", "maybe"),
//!     ("FEATURE_DATABASE_TYPE", "mysql"),
//! ])
//! .unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "FEATURE_WHATSAPP_ENABLED: invalid value \"maybe\", expected a boolean: true/false, 1/0, yes/no or on/off (from map)\n\
//!      FEATURE_DATABASE_TYPE: invalid value \"mysql\", expected one of: sqlite, postgresql (from map)"
//! );
//! # Ok::<(), flags_core::FlagsError>(())
//! ```
//!
//! # Attributes
//!
//! On the struct, `#[flags(...)]`:
//! - `prefix = "P_"`: a field's variable is `P_` and the field name in upper case, unless the
//!   field gives `env`.
//! - `deny_unknown`: a variable that starts with the prefix and names no flag is an error (by
//!   default it is a warning that suggests the nearest flag).
//!
//! On a field, `#[flag(...)]` (optional, repeatable):
//! - `default = EXPR`: an expression of the field's type, checked by rustc where it is written;
//!   for `String`, `PathBuf` and `SecretString` a string literal will do (`default = "text"`).
//!   Without a default a field is required, unless it is an `Option`.
//! - `env = "NAME"`: the exact variable name; the prefix does not apply.
//! - `requires = "X"` / `requires = ["X", "Y"]`, optionally with `when = EXPR`: flags (by field
//!   or variable name) that must be set when this flag is on, or equals `EXPR`. A target with a
//!   default always has a value, so the requirement holds for it: name targets without one.
//! - `public` / `public = "name"`: the flag may be shown to a frontend under that name.
//! - `secret`: the value is never shown. The field's type must hide it too, so that `{:?}` of the
//!   settings cannot print it: `SecretString`, `SecretBox<T>` (in an `Option` when it may be
//!   unset), or a [`FlagValue`] with `SECRET = true`; any other type fails to compile.
//! - `status = "…"`: free text such as `frozen` or `experimental`.
//! - `serde`: the field's type is any type with serde's `Deserialize` and `Serialize`, read with
//!   envy's rules instead of [`FlagValue`] (and written back through `Serialize` for docs and logs).
//! - `from_str`: the field's type is any type with `FromStr` and `Display` (or an `Option` of one),
//!   such as a type of another crate, which cannot implement [`FlagValue`] here.
//! - `group = "…"`: the section the flag is documented under, e.g. `Core`.
//! - `expires = "YYYY-MM-DD"`: when the flag should be gone; see [`lifecycle`].
//! - `rollout_group = "…"`: the name a [`Rollout`] or [`Variants`] flag hashes users with
//!   (Unleash's `groupId`, or its toggle's name), instead of the flag's variable.
//! - `restart`: the flag takes effect when the application starts; a change made [`live`] cannot
//!   set it.
//! - `live`: a `secret` flag may change [`live`] (other secrets cannot).
//!
//! Doc comments are the flags' descriptions, in [`FlagMeta`].
//!
//! # Values
//!
//! See [`FlagValue`]. An empty variable (or one of only spaces) counts as unset.
//!
//! # Rollouts
//!
//! A [`Rollout`] flag (`FEATURE_NEW_UI=25%; allow=alice; deny=mallory`) decides per user with
//! [`Rollout::is_enabled_for`], and a [`Variants`] flag (`control:50,treatment:50`, weights in
//! percent; [`Variants::new`] takes Unleash's per mille weights, `500`) picks a variant with
//! [`Variants::variant_for`], bucketed exactly as Unleash does (see [`rollout`]). Their public
//! value exists only per user: [`FeatureFlags::public_flags_for`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the derives' `::flags_core::…` paths resolve in this crate's own unit tests.
#[cfg(all(test, feature = "derive"))]
extern crate self as flags_core;

mod checks;
mod decision;
pub mod docs;
mod error;
pub mod evaluate;
mod flags;
pub mod lifecycle;
pub mod live;
mod load;
mod log_state;
mod meta;
mod provenance;
mod public;
mod requires;
pub mod rollout;
mod schema;
mod snapshot;
mod source;
mod suggest;
mod value;
mod visit;

#[doc(hidden)]
pub mod __private;

pub use error::{FlagsError, Problem, ShownValue, Unmanageable};
pub use flags::FeatureFlags;
pub use meta::{FlagMeta, Requirement, Shape};
pub use provenance::{Provenance, Source};
pub use public::PublicFlags;
pub use rollout::{percentage::Rollout, variants::Variants};
pub use snapshot::{FlagState, Snapshot};
pub use source::Loader;
pub use value::{FlagValue, ValueError};

/// The `secrecy` crate, for [`secrecy::SecretString`] flags.
pub use secrecy;

/// The `serde_json` crate, whose [`Value`](serde_json::Value) is a flag's public value
/// ([`FlagValue::to_public`], [`PublicFlags::get`]).
pub use serde_json;

/// Derives [`FeatureFlags`] for a struct with named fields; see the [crate docs](crate).
#[cfg(feature = "derive")]
pub use flags_derive::FeatureFlags;

/// Derives [`FlagValue`] for a fieldless enum: variants are written in snake_case and matched
/// ignoring case; `#[flag_value(rename = "…", alias = "…")]` on a variant changes its name or adds
/// another.
#[cfg(feature = "derive")]
pub use flags_derive::FlagValue;
