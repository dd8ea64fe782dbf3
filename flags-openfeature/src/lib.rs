//! An [OpenFeature](https://openfeature.dev) provider over [live flags](flags_core::live): a Rust
//! service that already asks OpenFeature for its flags switches to a struct of flags by setting
//! this provider, and nothing else.
//!
//! ```
//! use std::sync::Arc;
//!
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader, Rollout};
//! use flags_openfeature::Provider;
//! use open_feature::{EvaluationContext, OpenFeature};
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     #[flag(default = Rollout::new("", 0))]
//!     new_ui: Rollout,
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let flags = Arc::new(Live::<Settings>::load(Loader::new().map([("FEATURE_NEW_UI", "on")]))?);
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(Provider::new(Arc::clone(&flags))).await;
//! let client = api.create_client();
//! let alice = EvaluationContext::default().with_targeting_key("alice");
//! assert!(client.get_bool_value("FEATURE_NEW_UI", Some(&alice), None).await.unwrap());
//! # Ok::<(), flags_core::FlagsError>(())
//! # }).unwrap();
//! ```
//!
//! # Resolution
//!
//! A flag is found by its variable, exactly (not by case, not by prefix), and resolved as
//! [`Snapshot::evaluate`](flags_core::Snapshot::evaluate) evaluates it for the context's
//! targeting key: a [`Rollout`](flags_core::Rollout) resolves as a boolean, the user's decision,
//! and [`Variants`](flags_core::Variants) as a string, the user's variant (also the resolution's
//! `variant`), each exactly as `is_enabled_for` and `variant_for` decide. The reason is the
//! evaluation's: `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT` or `DISABLED`.
//!
//! | Flag's public value | Resolves as |
//! |---|---|
//! | a boolean (`bool`, a rollout's decision) | `bool` |
//! | an integer that fits an `i64` | `int`, and `float` |
//! | any other number | `float` |
//! | text (a string, an enum, a variant) | `string` |
//! | an object (a `#[flag(serde)]` struct) | `struct` |
//!
//! Errors, on which the SDK gives the caller's default: `FLAG_NOT_FOUND` for a variable of no
//! flag and for every secret (never resolved, so a caller cannot tell a secret exists),
//! `TYPE_MISMATCH` for a resolution of another type, `TARGETING_KEY_MISSING` for a rollout or
//! variants that split users and a context without a key, and `GENERAL` for a flag with no value
//! (an unset `Option`).
//!
//! # Cost
//!
//! A resolution reads the current flags without a lock ([`Live::get`]), looks the variable up in
//! the struct's table, and visits that one field: no allocation for a boolean or a number.
//! The SDK's trait boxes each call's future; the inherent `resolve_*` methods are the same
//! resolution without it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use flags_core::FeatureFlags;
use flags_core::evaluate::{Evaluation, Reason, Unevaluated};
use flags_core::live::Live;
use flags_core::serde_json::Value;
use open_feature::provider::{FeatureProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult,
    StructValue,
};

/// The OpenFeature provider of a struct of live flags.
pub struct Provider<S> {
    flags: Arc<Live<S>>,
    metadata: ProviderMetadata,
}

impl<S: FeatureFlags + Send + Sync + 'static> Provider<S> {
    /// The provider of `flags`, named `flags` in the SDK's metadata.
    pub fn new(flags: Arc<Live<S>>) -> Self {
        Self {
            flags,
            metadata: ProviderMetadata::new("flags"),
        }
    }

    /// `key` resolved as a boolean for `context`.
    #[inline]
    pub fn resolve_bool(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve(key, context, "a boolean", |value| value.as_bool())
    }

    /// `key` resolved as an integer for `context`.
    pub fn resolve_int(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve(key, context, "an integer", Value::as_i64)
    }

    /// `key` resolved as a number for `context`.
    pub fn resolve_float(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve(key, context, "a number", Value::as_f64)
    }

    /// `key` resolved as text for `context`.
    pub fn resolve_string(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve_owned(key, context, "text", |value| match value {
            Value::String(text) => Ok(text),
            other => Err(other),
        })
    }

    /// `key` resolved as a structure for `context`: a `#[flag(serde)]` value that serializes as
    /// an object.
    pub fn resolve_struct(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve_owned(key, context, "an object", |value| match value {
            Value::Object(_) => match open_feature::Value::try_from(&value) {
                Ok(open_feature::Value::Struct(structure)) => Ok(structure),
                _ => Err(value),
            },
            other => Err(other),
        })
    }

    /// Resolves `key` to a value `read` takes from the public value, without taking it.
    #[inline]
    fn resolve<T>(
        &self,
        key: &str,
        context: &EvaluationContext,
        expected: &str,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        self.resolve_owned(key, context, expected, |value| read(&value).ok_or(value))
    }

    /// Resolves `key` to a value `take` takes from the public value, or gives back when the
    /// value is of another type.
    #[inline]
    fn resolve_owned<T>(
        &self,
        key: &str,
        context: &EvaluationContext,
        expected: &str,
        take: impl FnOnce(Value) -> Result<T, Value>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let user = context.targeting_key.as_deref();
        let evaluation = self
            .flags
            .get()
            .evaluate(key, user)
            .map_err(|unevaluated| not_evaluated(key, unevaluated))?;
        let Evaluation {
            value,
            reason,
            variant,
            ..
        } = evaluation;
        if value.is_null() {
            return Err(error(
                EvaluationErrorCode::General(String::from("no value")),
                format!("{key} has no value: the caller's default applies"),
            ));
        }
        match take(value) {
            Ok(value) => Ok(ResolutionDetails {
                value,
                variant,
                reason: Some(reason_of(reason)),
                flag_metadata: None,
            }),
            Err(value) => Err(error(
                EvaluationErrorCode::TypeMismatch,
                format!("{key} is {}, not {expected}", kind(&value)),
            )),
        }
    }
}

/// OpenFeature's reason for an evaluation's.
fn reason_of(reason: Reason) -> EvaluationReason {
    match reason {
        Reason::Static => EvaluationReason::Static,
        Reason::Default => EvaluationReason::Default,
        Reason::TargetingMatch => EvaluationReason::TargetingMatch,
        Reason::Split => EvaluationReason::Split,
        Reason::Disabled => EvaluationReason::Disabled,
        // A reason a later flags-core adds: its name, as OpenFeature allows.
        other => EvaluationReason::Other(other.as_str().to_owned()),
    }
}

fn not_evaluated(key: &str, unevaluated: Unevaluated) -> EvaluationError {
    match unevaluated {
        Unevaluated::TargetingKeyMissing => error(
            EvaluationErrorCode::TargetingKeyMissing,
            format!("{key} decides per user: the context needs a targeting key"),
        ),
        _ => error(EvaluationErrorCode::FlagNotFound, format!("no flag {key}")),
    }
}

fn error(code: EvaluationErrorCode, message: String) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message),
    }
}

/// What a public value is, for a type mismatch.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "unset",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[open_feature::async_trait]
impl<S: FeatureFlags + Send + Sync + 'static> FeatureProvider for Provider<S> {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve_bool(key, context)
    }

    async fn resolve_int_value(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve_int(key, context)
    }

    async fn resolve_float_value(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve_float(key, context)
    }

    async fn resolve_string_value(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve_string(key, context)
    }

    async fn resolve_struct_value(
        &self,
        key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve_struct(key, context)
    }
}
