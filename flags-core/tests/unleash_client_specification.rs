//! Every case of Unleash's client specification that a [`Rollout`] or [`Variants`] can express,
//! in `data/unleash-client-specification.json`, answers as the specification expects.
//!
//! A case keeps its origin file and description; `data/README.md` lists the specification's cases
//! that do not apply, and why.

mod common;

use common::{cases, number, text};
use flags_core::{FlagValue, Rollout, Variants};
use serde_json::Value;

fn specification() -> Value {
    common::parse(
        "unleash-client-specification.json",
        include_str!("data/unleash-client-specification.json"),
    )
}

/// The variants' names and weights, as the specification holds them.
fn weights(case: &Value) -> Vec<(&str, u32)> {
    case["weights"]
        .as_array()
        .expect("a list of weights")
        .iter()
        .map(|variant| {
            let weight = u32::try_from(number(variant, "weight")).expect("a weight");
            (text(variant, "name"), weight)
        })
        .collect()
}

/// The origin file and description, to find the case in the specification.
fn origin(case: &Value) -> String {
    format!("{}: {}", text(case, "origin"), text(case, "description"))
}

#[test]
fn every_applicable_rollout_case_answers_as_the_specification() {
    let specification = specification();
    for case in cases(&specification, "rollouts") {
        let percentage = u8::try_from(number(case, "percentage")).expect("a percentage");
        let allow: Vec<&str> = case["allow"]
            .as_array()
            .expect("an allow list")
            .iter()
            .map(|user| user.as_str().expect("a user"))
            .collect();

        let rollout = Rollout::new(text(case, "group"), percentage).allow(allow);
        let enabled = case["enabled"].as_bool().expect("enabled");
        assert_eq!(
            rollout.is_enabled_for(text(case, "user")),
            enabled,
            "{}",
            origin(case)
        );
    }
}

#[test]
fn every_applicable_variant_case_answers_as_the_specification() {
    let specification = specification();
    for case in cases(&specification, "variants") {
        let weights = weights(case);

        let variants = Variants::new(text(case, "group"), &weights);
        assert_eq!(
            variants.variant_for(text(case, "user")),
            text(case, "variant"),
            "{}",
            origin(case)
        );
    }
}

/// The specification's weights are Unleash's raw weights, per mille; a variable writes them in
/// percent, a tenth of them: its `1, 1` are `0.1, 0.1` and its `33, 33, 33` are `3.3, 3.3, 3.3`.
#[test]
fn the_specifications_weights_written_in_percent_are_the_same_weights() {
    let specification = specification();
    for case in cases(&specification, "variants") {
        let weights = weights(case);
        let in_percent: Vec<String> = weights
            .iter()
            .map(|(name, weight)| format!("{name}:{}.{}", weight / 10, weight % 10))
            .collect();

        let parsed = Variants::parse_env(&in_percent.join(",")).expect("variants");
        assert_eq!(
            parsed.weights().collect::<Vec<_>>(),
            weights,
            "{}",
            origin(case)
        );
    }
}
