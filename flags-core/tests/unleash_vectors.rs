//! Every case that Unleash's own evaluation engine (yggdrasil, through the UnleashClient package)
//! decided, in `data/unleash-vectors.json`: the same rollout group, user and weights give the same answer
//! here.

mod common;

use common::{cases, number, text};
use flags_core::Rollout;
use flags_core::Variants;
use flags_core::rollout::{bucket, variant_bucket};
use serde_json::Value;

fn vectors() -> Value {
    common::parse(
        "unleash-vectors.json",
        include_str!("data/unleash-vectors.json"),
    )
}

#[test]
fn every_unleash_gradual_rollout_decision_is_reproduced() {
    let vectors = vectors();
    for case in cases(&vectors, "rollouts") {
        let (rollout_group, user) = (text(case, "group"), text(case, "user"));
        let percentage = u8::try_from(number(case, "percentage")).expect("a percentage");
        let enabled = case["enabled"].as_bool().expect("enabled");

        let rollout = Rollout::new(rollout_group, percentage);
        assert_eq!(rollout.is_enabled_for(user), enabled, "{case}");
        // The same rule, written out: Unleash's `percentage > 0 && bucket <= percentage`.
        let bucket = bucket(rollout_group, user);
        assert_eq!(
            percentage > 0 && bucket <= u32::from(percentage),
            enabled,
            "{case}"
        );
    }
}

#[test]
fn every_unleash_variant_decision_is_reproduced() {
    let vectors = vectors();
    for case in cases(&vectors, "variants") {
        let (rollout_group, user) = (text(case, "toggle"), text(case, "user"));
        let weights: Vec<(&str, u32)> = case["variants"]
            .as_array()
            .expect("a list of variants")
            .iter()
            .map(|variant| {
                let weight = u32::try_from(number(variant, "weight")).expect("a weight");
                (text(variant, "name"), weight)
            })
            .collect();

        let variants = Variants::new(rollout_group, &weights);
        assert_eq!(variants.variant_for(user), text(case, "variant"), "{case}");
        let total = weights.iter().map(|&(_, weight)| weight).sum();
        assert!((1..=total).contains(&variant_bucket(rollout_group, user, total)));
    }
}
