//! Properties of rollouts and variants over random rollout groups, users, percentages and weights, and
//! of their parsers over random text.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use flags_core::rollout::bucket;
use flags_core::{FlagValue, Rollout, Variants};
use proptest::prelude::*;

/// Random user keys shaped like UUIDs (36 bytes), from a seed: the same seed, the same users.
struct Users {
    state: u64,
    key: String,
}

impl Users {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            key: String::with_capacity(36),
        }
    }

    /// SplitMix64: cheap, and good enough to scatter keys.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_key(&mut self) -> &str {
        let (high, low) = (self.next_u64(), self.next_u64());
        self.key.clear();
        let _ = write!(
            self.key,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        );
        &self.key
    }
}

const USERS: u32 = 100_000;

/// A user key as the variable's grammar can hold it: no `,` or `;`, no surrounding spaces.
fn user_key() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9@._:=-]([a-zA-Z0-9@._:= -]{0,10}[a-zA-Z0-9@._:=-])?"
}

fn rollout_group() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_:.-]{0,24}"
}

/// A variant name as the variable's grammar can hold it: no `,` or `:`, no surrounding spaces.
fn variant_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.-]([a-zA-Z0-9_. -]{0,8}[a-zA-Z0-9_.-])?"
}

/// Unique names with weights, not all 0.
fn weighted_variants(max_weight: u32) -> impl Strategy<Value = Vec<(String, u32)>> {
    proptest::collection::btree_set(variant_name(), 1..6)
        .prop_flat_map(move |names| {
            let count = names.len();
            (
                Just(names),
                proptest::collection::vec(0..=max_weight, count),
            )
        })
        .prop_filter("a weight above 0", |(_, weights)| {
            weights.iter().any(|&weight| weight > 0)
        })
        .prop_map(|(names, weights)| names.into_iter().zip(weights).collect())
}

fn as_pairs(variants: &[(String, u32)]) -> Vec<(&str, u32)> {
    variants
        .iter()
        .map(|(name, weight)| (name.as_str(), *weight))
        .collect()
}

/// `text` parses, its `to_env` parses back to the same value, and writing that gives the same text.
fn round_trips<T: FlagValue + PartialEq + std::fmt::Debug>(text: &str) -> Result<T, TestCaseError> {
    let value =
        T::parse_env(text).map_err(|error| TestCaseError::fail(format!("{text:?}: {error}")))?;
    let written = value.to_env();
    let reparsed = T::parse_env(&written);
    prop_assert_eq!(
        reparsed.as_ref(),
        Ok(&value),
        "{:?} was written as {:?}",
        text,
        written
    );
    prop_assert_eq!(reparsed.unwrap().to_env(), written);
    Ok(value)
}

proptest! {

    /// The lists' hash table answers as plain sets would, for listed and unlisted users alike.
    #[test]
    fn lists_decide_as_sets_would(
        rollout_group in rollout_group(),
        percentage in 0u8..=100,
        allow in proptest::collection::vec(user_key(), 0..40),
        deny in proptest::collection::vec(user_key(), 0..40),
        others in proptest::collection::vec(user_key(), 0..20),
    ) {
        let rollout = Rollout::new(rollout_group.clone(), percentage)
            .allow(allow.iter().cloned())
            .deny(deny.iter().cloned());
        let (allowed, denied): (BTreeSet<&String>, BTreeSet<&String>) =
            (allow.iter().collect(), deny.iter().collect());
        for user in allow.iter().chain(&deny).chain(&others) {
            let expected = if denied.contains(user) {
                false
            } else if allowed.contains(user) {
                true
            } else {
                bucket(&rollout_group, user) <= u32::from(percentage)
            };
            prop_assert_eq!(rollout.is_enabled_for(user), expected, "{}", user);
        }
        prop_assert_eq!(rollout.deny_list_len(), denied.len());
        prop_assert_eq!(rollout.allow_list_len(), allowed.difference(&denied).count());
    }
    #[test]
    fn a_decision_is_the_same_on_every_call_and_every_copy(
        rollout_group in rollout_group(),
        user in user_key(),
        percentage in 0u8..=100,
        allow in proptest::collection::vec(user_key(), 0..3),
        deny in proptest::collection::vec(user_key(), 0..3),
        variants in weighted_variants(1000),
    ) {
        let rollout = Rollout::new(rollout_group.as_str(), percentage).allow(allow).deny(deny);
        let enabled = rollout.is_enabled_for(&user);
        prop_assert_eq!(rollout.is_enabled_for(&user), enabled);
        prop_assert_eq!(rollout.clone().is_enabled_for(&user), enabled);
        prop_assert_eq!(Rollout::new(rollout_group.as_str(), percentage).is_enabled_for(&user),
            percentage > 0 && bucket(&rollout_group, &user) <= u32::from(percentage));

        let variants = Variants::new(rollout_group.as_str(), &as_pairs(&variants));
        let variant = variants.variant_for(&user).to_owned();
        prop_assert_eq!(variants.variant_for(&user), variant.as_str());
        let copy = variants.clone();
        prop_assert_eq!(copy.variant_for(&user), variant.as_str());
    }

    #[test]
    fn raising_the_percentage_never_turns_a_user_off(
        rollout_group in rollout_group(),
        user in user_key(),
        low in 0u8..=100,
        raise in 0u8..=100,
        allowed in any::<bool>(),
        denied in any::<bool>(),
    ) {
        let high = low.saturating_add(raise).min(100);
        let rollout = |percentage| {
            let rollout = Rollout::new(rollout_group.as_str(), percentage);
            let rollout = if allowed { rollout.allow([user.as_str()]) } else { rollout };
            if denied { rollout.deny([user.as_str()]) } else { rollout }
        };
        if rollout(low).is_enabled_for(&user) {
            prop_assert!(rollout(high).is_enabled_for(&user), "on at {}%, off at {}%", low, high);
        }
    }

    #[test]
    fn rollout_text_round_trips(
        state in prop_oneof![
            Just("on".to_owned()), Just("OFF".to_owned()), Just(" Yes".to_owned()),
            Just("false".to_owned()), Just("1".to_owned()),
            (0u8..=100, " ?", " ?").prop_map(|(p, a, b)| format!("{a}{p}{b}%")),
        ],
        allow in proptest::option::of(proptest::collection::vec(user_key(), 0..4)),
        deny in proptest::option::of(proptest::collection::vec(user_key(), 0..4)),
        deny_first in any::<bool>(),
        key_case in any::<bool>(),
    ) {
        let clause = |key: &str, users: &Option<Vec<String>>| {
            let key = if key_case { key.to_uppercase() } else { key.to_owned() };
            users.as_ref().map(|users| format!(" ; {key} = {}", users.join(" , ")))
        };
        let (allow_clause, deny_clause) = (clause("allow", &allow), clause("deny", &deny));
        let clauses = if deny_first { [deny_clause, allow_clause] } else { [allow_clause, deny_clause] };
        let text = format!("{state}{}", clauses.into_iter().flatten().collect::<String>());

        let rollout: Rollout = round_trips(&text)?;
        let denied: BTreeSet<&String> = deny.iter().flatten().collect();
        let allowed: BTreeSet<&String> = allow.iter().flatten().filter(|user| !denied.contains(user)).collect();
        prop_assert_eq!(rollout.allow_list_len(), allowed.len());
        prop_assert_eq!(rollout.deny_list_len(), denied.len());
    }

    #[test]
    fn rollout_values_round_trip(
        percentage in 0u8..=100,
        allow in proptest::collection::vec(user_key(), 0..4),
        deny in proptest::collection::vec(user_key(), 0..4),
    ) {
        let rollout = Rollout::new("", percentage).allow(allow).deny(deny);
        prop_assert_eq!(round_trips::<Rollout>(&rollout.to_env())?, rollout);
    }

    /// Weights per mille written in percent, with a decimal (`33.3`, `50.0`) or without (`50`).
    #[test]
    fn variants_text_round_trips(
        // At most 5 variants, whose weights' sum must be a u32.
        variants in weighted_variants(u32::MAX / 5),
        spaces in proptest::collection::vec(" {0,2}", 4),
        with_tenths in any::<bool>(),
    ) {
        let percent = |per_mille: u32| match per_mille % 10 {
            0 if !with_tenths => format!("{}", per_mille / 10),
            tenths => format!("{}.{tenths}", per_mille / 10),
        };
        let text = variants
            .iter()
            .map(|(name, weight)| {
                format!("{}{name}{}:{}{}", spaces[0], spaces[1], spaces[2], percent(*weight))
            })
            .collect::<Vec<_>>()
            .join(&format!(",{}", spaces[3]));
        let parsed: Variants = round_trips(&text)?;
        prop_assert_eq!(parsed, Variants::new("", &as_pairs(&variants)));
    }

    #[test]
    fn no_text_makes_a_parser_panic(text in any::<String>()) {
        let _ = Rollout::parse_env(&text);
        let _ = Variants::parse_env(&text);
    }

    #[test]
    fn no_text_that_looks_like_a_rollout_makes_the_parser_panic(
        text in " ?(on|off|[0-9]{1,4} ?%|[a-z]{0,3})( ?;( ?(allow|deny|ALLOW|x) ?=? ?[a-z, ]{0,8})?){0,4}",
    ) {
        let _ = Rollout::parse_env(&text);
    }

    #[test]
    fn no_text_that_looks_like_variants_makes_the_parser_panic(
        text in "([a-z ]{0,3}(:[ 0-9.+-]{0,11})?,?){0,5}",
    ) {
        let _ = Variants::parse_env(&text);
    }
}

proptest! {
    // Each case makes 100 000 decisions.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn the_share_of_users_on_is_within_a_point_of_the_percentage(
        rollout_group in rollout_group(),
        percentage in 0u8..=100,
        seed in any::<u64>(),
    ) {
        let rollout = Rollout::new(rollout_group, percentage);
        let mut users = Users::new(seed);
        let on = (0..USERS).filter(|_| rollout.is_enabled_for(users.next_key())).count();
        let share = on as f64 / f64::from(USERS) * 100.0;
        prop_assert!((share - f64::from(percentage)).abs() <= 1.0, "{}% on at {}%", share, percentage);
    }

    #[test]
    fn each_variants_share_of_users_is_within_a_point_of_its_weight(
        rollout_group in rollout_group(),
        variants in weighted_variants(1000),
        seed in any::<u64>(),
    ) {
        let split = Variants::new(rollout_group, &as_pairs(&variants));
        let mut users = Users::new(seed);
        let mut counts = vec![0u32; variants.len()];
        for _ in 0..USERS {
            let variant = split.variant_for(users.next_key());
            let index = variants.iter().position(|(name, _)| name == variant).expect("a known variant");
            counts[index] += 1;
        }
        let total: u32 = variants.iter().map(|(_, weight)| weight).sum();
        for ((name, weight), count) in variants.iter().zip(counts) {
            let share = f64::from(count) / f64::from(USERS) * 100.0;
            let expected = f64::from(*weight) / f64::from(total) * 100.0;
            prop_assert!((share - expected).abs() <= 1.0, "{} got {}%, weight {}%", name, share, expected);
        }
    }
}

#[test]
fn users_are_36_byte_keys() {
    let mut users = Users::new(1);
    let first = users.next_key().to_owned();
    assert_eq!(first.len(), 36);
    assert_ne!(users.next_key(), first);
}
