//! [`Features`]: one feature set as Unleash's client API sends it, checked, compiled by Unleash's
//! own engine (yggdrasil), and how it decides the flags Unleash manages.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use flags_core::evaluate::{Decide, Decided, Reason};
use flags_core::serde_json::Value;
use flags_core::{FlagMeta, Shape};
use unleash_yggdrasil::{
    Context, EngineState, ExtendedVariantDef, KNOWN_STRATEGIES, UpdateMessage,
};

/// A feature set read from Unleash, compiled by Unleash's engine: strategies, constraints,
/// segments, variants and dependent features decide exactly as Unleash's SDKs decide them.
///
/// It never changes: a newer feature set is another `Features`. The flags Unleash manages keep
/// the one their snapshot was made with, so that a snapshot's values and its per-user decisions
/// always agree.
pub struct Features {
    engine: EngineState,
    /// Each toggle's name, with whether it is on in the token's environment.
    toggles: HashMap<String, bool>,
    /// For each flag of the struct it decides, by position: whether its toggle is on in the
    /// environment, `None` for a flag it does not decide (no toggle, or not Unleash's). Worked out
    /// once per feature set ([`Features::bind`]), so that a decision looks up no name.
    slots: Vec<Option<bool>>,
    /// The application's name, which the engine's context carries as Unleash's SDKs fill it in.
    app_name: Arc<str>,
    revision: u64,
    /// Where decisions are counted, for the usage metrics Unleash is sent: shared by every
    /// feature set of one source, so that a new one loses no count.
    metrics: Arc<EngineState>,
}

/// Why a feature set was refused: nothing of it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeaturesError(String);

impl fmt::Display for FeaturesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FeaturesError {}

impl Features {
    /// A feature set from the JSON of Unleash's client API (`GET /api/client/features`), or of its
    /// delta API's events, for the application `app_name`. Refused whole when it is not that
    /// JSON, or names a toggle twice. What the engine cannot compile (a constraint it cannot
    /// read) or does not know (a custom strategy) is evaluated as Unleash's SDKs evaluate it,
    /// off, and returned as warnings, each naming its toggle.
    pub fn from_json(
        body: &[u8],
        app_name: &str,
    ) -> Result<(Features, Vec<String>), FeaturesError> {
        Self::read(body, app_name, Arc::new(EngineState::default()))
    }

    pub(crate) fn read(
        body: &[u8],
        app_name: &str,
        metrics: Arc<EngineState>,
    ) -> Result<(Features, Vec<String>), FeaturesError> {
        let message: UpdateMessage = serde_json::from_slice(body).map_err(|error| {
            FeaturesError(format!(
                "the features are not the JSON of Unleash's client API: {error}"
            ))
        })?;
        let mut unknown = Vec::new();
        if let UpdateMessage::FullResponse(features) = &message {
            for feature in &features.features {
                let strategies = feature.strategies.iter().flatten();
                for strategy in strategies.filter(|s| !KNOWN_STRATEGIES.contains(&s.name.as_str()))
                {
                    unknown.push(format!(
                        "toggle `{}`: the strategy `{}` is none of those Unleash's SDKs know \
                         (a custom strategy), so it is off",
                        feature.name, strategy.name
                    ));
                }
            }
            let mut names = HashSet::with_capacity(features.features.len());
            if let Some(twice) = features
                .features
                .iter()
                .find(|feature| !names.insert(feature.name.as_str()))
            {
                return Err(FeaturesError(format!(
                    "the features name the toggle `{}` twice, so which one is meant cannot be told",
                    twice.name
                )));
            }
        }
        let engine = EngineState::default();
        let warnings = engine.take_state(message).unwrap_or_default();
        let warnings = warnings
            .into_iter()
            .map(|warning| format!("toggle `{}`: {}", warning.toggle_name, warning.message))
            .chain(unknown)
            .collect();
        let toggles = engine
            .list_known_toggles()
            .into_iter()
            .map(|toggle| (toggle.name, toggle.enabled))
            .collect();
        let features = Features {
            engine,
            toggles,
            slots: Vec::new(),
            app_name: Arc::from(app_name),
            revision: fnv1a(body),
            metrics,
        };
        Ok((features, warnings))
    }

    /// Whether the toggle `toggle` is on for `context`, as Unleash's SDKs' `isEnabled` answers;
    /// `false` for a toggle it does not have.
    pub fn is_enabled(&self, toggle: &str, context: &Context) -> bool {
        self.engine.is_enabled(toggle, context, &None)
    }

    /// The variant of the toggle `toggle` for `context`, as Unleash's SDKs' `getVariant` answers:
    /// `disabled` (with `enabled: false`) when the toggle is off or has none.
    pub fn variant(&self, toggle: &str, context: &Context) -> ExtendedVariantDef {
        self.engine.get_variant(toggle, context, &None)
    }

    /// Whether it has the toggle `toggle`, and if so whether it is on in the token's environment
    /// (before its strategies decide).
    pub fn toggle(&self, toggle: &str) -> Option<bool> {
        self.toggles.get(toggle).copied()
    }

    /// The names of its toggles.
    pub fn toggles(&self) -> impl Iterator<Item = &str> {
        self.toggles.keys().map(String::as_str)
    }

    /// Binds it to the flags it decides: `managed`, each at its position in a struct of `len`
    /// flags.
    pub(crate) fn bind(&mut self, managed: &[(usize, &'static FlagMeta)], len: usize) {
        let mut slots = vec![None; len];
        for (index, flag) in managed {
            if let Some(slot) = slots.get_mut(*index) {
                *slot = self.toggle(flag.managed_as());
            }
        }
        self.slots = slots;
    }

    /// The context of a decision for `user` (none: no user), as Unleash's SDKs make it: the
    /// application's name, and the user's id.
    fn context(&self, user: Option<&str>) -> Context {
        Context {
            user_id: user.map(str::to_owned),
            app_name: Some(self.app_name.to_string()),
            ..Context::default()
        }
    }

    /// The text the flag `flag` holds for everyone, as the seed's `client.is_enabled(name)` with
    /// no user decides it: `None` when its toggle is not here, `Some(None)` when the toggle gives it
    /// no value: either way the flag keeps the value it has without Unleash.
    pub(crate) fn global(&self, flag: &FlagMeta) -> Option<Option<String>> {
        let toggle = flag.managed_as();
        let on_in_environment = self.toggle(toggle)?;
        let context = self.context(None);
        let text = match flag.shape() {
            Shape::Switch => Some(self.is_enabled(toggle, &context).to_string()),
            // A rollout is on for everyone it is on for at all: who is in it, Unleash decides per
            // user ([`Decide`]).
            Shape::Rollout => Some(String::from(if on_in_environment { "100%" } else { "0%" })),
            Shape::Variants => Some(format!("{}:1", self.variant(toggle, &context).name)),
            // Any other type takes the payload of the variant it gives everyone, when it is on.
            _ => {
                let variant = self.variant(toggle, &context);
                variant
                    .payload
                    .filter(|_| variant.enabled)
                    .map(|payload| payload.value)
            }
        };
        Some(text)
    }
}

impl Decide for Features {
    /// A managed `bool` or [`Rollout`](flags_core::Rollout) is the toggle's `isEnabled` for the
    /// user, a [`Variants`](flags_core::Variants) its variant; each decision is counted for
    /// Unleash's metrics. Without a user, or for another type, the flag's value for everyone.
    fn decide(&self, index: usize, flag: &'static FlagMeta, user: Option<&str>) -> Option<Decided> {
        let user = user?;
        let on_in_environment = (*self.slots.get(index)?)?;
        let toggle = flag.managed_as();
        let reason = match on_in_environment {
            true => Reason::TargetingMatch,
            false => Reason::Disabled,
        };
        let context = self.context(Some(user));
        match flag.shape() {
            Shape::Switch | Shape::Rollout => {
                let enabled = self.is_enabled(toggle, &context);
                self.metrics.count_toggle(toggle, enabled);
                Some(Decided::new(Value::Bool(enabled), reason))
            }
            Shape::Variants => {
                let variant = self.variant(toggle, &context);
                self.metrics.count_toggle(toggle, variant.feature_enabled);
                self.metrics.count_variant(toggle, &variant.name);
                let value = Value::String(variant.name.clone());
                Some(Decided::new(value, reason).with_variant(variant.name))
            }
            _ => None,
        }
    }

    fn revision(&self) -> u64 {
        self.revision
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Features")
            .field("toggles", &self.toggles)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

/// FNV-1a of `bytes`: the same on every instance and build, as a revision must be.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
