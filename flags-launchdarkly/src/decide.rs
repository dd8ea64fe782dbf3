//! [`Evaluator`]: how LaunchDarkly decides, per user, the flags it manages, and what each flag
//! takes from its LaunchDarkly flag for everyone.

use std::fmt;
use std::sync::Arc;

use flags_core::evaluate::{Decide, Decided, Reason};
use flags_core::serde_json::Value;
use flags_core::{FlagMeta, Shape};
use launchdarkly_server_sdk::{Client, Context, ContextBuilder, Detail, EvalError, FlagValue};

use crate::data::Data;
use crate::store::Watch;

/// Decides per user the flags LaunchDarkly manages, as the SDK's `variation` calls do, for the
/// data the flags' values were taken from.
///
/// With analytics events on, while the SDK holds that data (always, but for the moment between a
/// change and the flags taking it, or while a change is refused), each decision is the SDK
/// client's own `variation_detail` for `{"key": user}`, which records LaunchDarkly's analytics
/// event. Otherwise (events off, or the SDK holds newer data the flags have not taken) the
/// decision is the SDK's own engine evaluating the data the flags took, which no client call can
/// do faster: a refused change never reaches a user.
pub(crate) struct Evaluator {
    client: Arc<Client>,
    watch: Arc<Watch>,
    data: Arc<Data>,
    /// The store's generation `data` was read at.
    generation: u64,
    /// Whether the SDK sends analytics events: then the SDK's client decides, to record them.
    events: bool,
    /// For each flag of the struct, by position: how LaunchDarkly decides it per user, when its
    /// LaunchDarkly flag is in the data.
    slots: Vec<Option<Slot>>,
}

struct Slot {
    key: &'static str,
    fallback: Fallback,
    /// The public value the flag has with each of its LaunchDarkly flag's variations, by index
    /// (as the flag would take it for everyone): `None` for one it cannot hold, of another type or
    /// breaking a requirement (checked when the data was taken), which no user is served.
    held: Vec<Option<Value>>,
}

/// How a flag is decided per user: a boolean or string variation, falling back to the struct's
/// default, or any variation.
enum Fallback {
    Bool(bool),
    Str(String),
    Value,
}

impl Evaluator {
    /// The evaluator of `data`, read at `generation`, for `managed`, each at its position in a
    /// struct of `len` flags; `holds` gives the public value a flag would have with a text, or
    /// `None` when it cannot hold it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        client: Arc<Client>,
        watch: Arc<Watch>,
        data: Arc<Data>,
        generation: u64,
        events: bool,
        managed: &[(usize, &'static FlagMeta)],
        len: usize,
        holds: impl Fn(&'static FlagMeta, &str) -> Option<Value>,
    ) -> Self {
        let mut slots: Vec<Option<Slot>> = (0..len).map(|_| None).collect();
        for (index, flag) in managed {
            let fallback = match flag.shape() {
                Shape::Switch | Shape::Rollout => Fallback::Bool(default_is_on(flag)),
                Shape::Variants => Fallback::Str(default_variant(flag)),
                _ => Fallback::Value,
            };
            let Some(variations) = data.variations_of(crate::key_of(flag)) else {
                continue;
            };
            let held = variations
                .iter()
                .map(|variation| holds(flag, &variation_text(flag, variation)))
                .collect();
            if let Some(slot) = slots.get_mut(*index) {
                *slot = Some(Slot {
                    key: crate::key_of(flag),
                    fallback,
                    held,
                });
            }
        }
        Self {
            client,
            watch,
            data,
            generation,
            events,
            slots,
        }
    }

    /// Whether the SDK holds the data this evaluator was made from.
    fn current(&self) -> bool {
        self.watch.generation() == self.generation
    }

    /// The flag `key` as the SDK's `variation_detail` evaluates it for `context`, falling back to
    /// `fallback`, and to it too when the flag's value is of another type (as the SDK's typed
    /// calls do).
    ///
    /// With analytics events on, while the SDK holds the data the flags took, the SDK's client
    /// evaluates it, recording the event; else the SDK's engine evaluates the data the flags took.
    pub(crate) fn variation_detail(
        &self,
        context: &Context,
        key: &str,
        fallback: FlagValue,
    ) -> Detail<FlagValue> {
        let detail = self.evaluate(context, key, &fallback);
        match &detail.value {
            Some(value) if same_type(value, &fallback) => detail,
            Some(_) => Detail::err_default(EvalError::WrongType, fallback),
            None => Detail {
                value: Some(fallback),
                variation_index: None,
                reason: detail.reason,
            },
        }
    }

    /// The flag `key` evaluated for `context`, as it is: by the SDK's client, or its engine on
    /// the data the flags took (`variation_detail` says which).
    fn evaluate(&self, context: &Context, key: &str, fallback: &FlagValue) -> Detail<FlagValue> {
        match self.events && self.current() {
            true => self.client.variation_detail(context, key, fallback.clone()),
            false => match self.data.evaluate(key, context) {
                Some(detail) => detail,
                None => Detail::err(EvalError::FlagNotFound),
            },
        }
    }

    /// The flag at `index` evaluated for `context`, when LaunchDarkly decides it per user: a
    /// boolean or string variation falling back to the struct's default, or any variation; a
    /// variation the flag cannot hold is [`EvalError::WrongType`], without a value.
    pub(crate) fn detail_at(&self, index: usize, context: &Context) -> Option<Detail<FlagValue>> {
        let slot = self.slots.get(index)?.as_ref()?;
        let detail = self.detail(slot, context);
        Some(match slot.holds(&detail) {
            Some(false) => Detail::err(EvalError::WrongType),
            _ => detail,
        })
    }

    /// The flag of `slot` evaluated for `context`, as its type asks.
    fn detail(&self, slot: &Slot, context: &Context) -> Detail<FlagValue> {
        match &slot.fallback {
            Fallback::Bool(on) => self.variation_detail(context, slot.key, FlagValue::Bool(*on)),
            Fallback::Str(text) => {
                self.variation_detail(context, slot.key, FlagValue::Str(text.clone()))
            }
            Fallback::Value => self.evaluate(context, slot.key, &FlagValue::Json(Value::Null)),
        }
    }
}

impl Decide for Evaluator {
    /// A managed `bool` or [`Rollout`](flags_core::Rollout) is its LaunchDarkly flag's boolean
    /// variation for the user, a [`Variants`](flags_core::Variants) its string variation (the
    /// variant), falling back to the struct's default when LaunchDarkly gives none of that type;
    /// a flag of any other type is the variation's public value. A variation the flag cannot
    /// hold, of another type or breaking a requirement, gives the value for everyone, as does no
    /// user.
    fn decide(&self, index: usize, _: &'static FlagMeta, user: Option<&str>) -> Option<Decided> {
        let slot = self.slots.get(index)?.as_ref()?;
        let context = user_context(user?)?;
        let detail = self.detail(slot, &context);
        // A variation the flag cannot hold: the value for everyone.
        if slot.holds(&detail) == Some(false) {
            return None;
        }
        let reason = reason(&detail.reason);
        match (&slot.fallback, detail.value) {
            // The fallback, of the flag's type, when LaunchDarkly's value is of another.
            (Fallback::Bool(_), Some(FlagValue::Bool(on))) => {
                Some(Decided::new(Value::Bool(on), reason))
            }
            (Fallback::Str(_), Some(FlagValue::Str(variant))) => {
                Some(Decided::new(Value::String(variant.clone()), reason).with_variant(variant))
            }
            (Fallback::Value, _) => {
                let variation = usize::try_from(detail.variation_index?).ok()?;
                let value = slot.held.get(variation)?.clone()?;
                Some(Decided::new(value, reason))
            }
            _ => None,
        }
    }

    fn revision(&self) -> u64 {
        self.data.revision()
    }
}

impl Slot {
    /// Whether the flag holds the variation `detail` gives; `None` when it gives none (the
    /// fallback).
    fn holds(&self, detail: &Detail<FlagValue>) -> Option<bool> {
        let variation = usize::try_from(detail.variation_index?).ok()?;
        Some(matches!(self.held.get(variation), Some(Some(_))))
    }
}

impl fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluator")
            .field("flags", &self.data.len())
            .field("revision", &self.data.revision())
            .finish_non_exhaustive()
    }
}

/// The context of a decision for `user`, as the seed writes it: `{"key": user}`; `None` for a
/// key LaunchDarkly refuses (empty).
pub(crate) fn user_context(user: &str) -> Option<Context> {
    ContextBuilder::new(user).build().ok()
}

/// Whether `value` is of `fallback`'s JSON type (any number for a number).
fn same_type(value: &FlagValue, fallback: &FlagValue) -> bool {
    std::mem::discriminant(value) == std::mem::discriminant(fallback)
}

/// Why LaunchDarkly gave the value, as OpenFeature names reasons.
fn reason(reason: &launchdarkly_server_sdk::Reason) -> Reason {
    use launchdarkly_server_sdk::Reason as Ld;
    match reason {
        Ld::Off | Ld::PrerequisiteFailed { .. } => Reason::Disabled,
        Ld::TargetMatch | Ld::RuleMatch { .. } => Reason::TargetingMatch,
        Ld::Fallthrough {
            in_experiment: true,
        } => Reason::Split,
        Ld::Fallthrough { .. } | Ld::Error { .. } => Reason::Default,
    }
}

/// Whether a `bool` or a rollout's default is on for a user LaunchDarkly cannot decide.
fn default_is_on(flag: &FlagMeta) -> bool {
    match flag.default() {
        Some(text) => text == "true" || text.trim() == "100%",
        None => false,
    }
}

/// The first variant a `Variants` default names (`classic` of `classic:100`).
fn default_variant(flag: &FlagMeta) -> String {
    let default = flag.default().unwrap_or_default();
    let first = default.split([',', ';']).next().unwrap_or_default();
    first
        .split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The text `flag` takes from its LaunchDarkly flag evaluated for everyone (the application's
/// own context), as its variable would hold it: `None` when LaunchDarkly gives no value (the flag
/// is off without an off variation): the flag keeps the value it has without LaunchDarkly.
pub(crate) fn global_text(flag: &FlagMeta, detail: &Detail<FlagValue>) -> Option<String> {
    let value = detail.value.as_ref()?;
    let off = matches!(detail.reason, launchdarkly_server_sdk::Reason::Off);
    Some(match (flag.shape(), value) {
        // Who is in a rollout LaunchDarkly decides per user: the flag is at 100% while its
        // targeting is on, and when off, as its off variation says.
        (Shape::Rollout, FlagValue::Bool(on)) if off => rollout_text(*on),
        (Shape::Rollout, FlagValue::Bool(_)) => rollout_text(true),
        _ => variation_text(flag, &json(value)),
    })
}

/// The text `flag` takes from a variation (LaunchDarkly's JSON) given to everyone.
fn variation_text(flag: &FlagMeta, variation: &Value) -> String {
    match (flag.shape(), variation) {
        (Shape::Rollout, Value::Bool(on)) => rollout_text(*on),
        (Shape::Variants, Value::String(variant)) => format!("{variant}:1"),
        (_, value) => text(value),
    }
}

fn rollout_text(on: bool) -> String {
    String::from(if on { "100%" } else { "0%" })
}

/// A LaunchDarkly value (as its JSON) as a variable's text: a string as it is, a whole number
/// without a fraction, JSON as JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        // Exactly: below 2^53 every whole f64 is an integer.
        Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() && float.fract() == 0.0 && float.abs() < 9.0e15 => {
                (float as i64).to_string()
            }
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// A LaunchDarkly value as JSON.
fn json(value: &FlagValue) -> Value {
    match value {
        FlagValue::Bool(on) => Value::Bool(*on),
        FlagValue::Str(text) => Value::String(text.clone()),
        FlagValue::Number(number) => Value::from(*number),
        FlagValue::Json(json) => json.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_have_no_fraction_and_others_keep_theirs() {
        let text = |value: FlagValue| text(&json(&value));
        assert_eq!(text(FlagValue::Number(5.0)), "5");
        assert_eq!(text(FlagValue::Number(-3.0)), "-3");
        assert_eq!(text(FlagValue::Number(0.25)), "0.25");
        assert_eq!(text(FlagValue::Str(String::from("a b"))), "a b");
        let object = FlagValue::Json(serde_json::json!({"a": [1, "b"]}));
        assert_eq!(text(object), r#"{"a":[1,"b"]}"#);
    }
}
