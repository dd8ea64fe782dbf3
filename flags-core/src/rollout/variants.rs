//! [`Variants`]: users split between named variants by weight, as Unleash splits them.

use std::fmt;

use serde_json::Value;

use super::exposure::{self, Counters};
use super::{Murmur3, VARIANT_SEED, decimal, weighted_bucket};
use crate::decision::{Decision, Reason};
use crate::meta::FlagMeta;
use crate::value::{Bound, FlagValue, Kind, PerUser, ValueError};

/// Users split between named variants by weight, bucketed as Unleash's variants.
///
/// [`Variants::variant_for`] hashes the user into a [`variant_bucket`](super::variant_bucket)
/// from 1 to the sum of the weights, and gives the first variant whose cumulative weight is at
/// least the bucket, as every Unleash SDK does with the weights it is given. The same rollout
/// group always gives one user the same variant; a variant of weight 0 is never given. The
/// weights are per mille in code and percent in a variable: see
/// [below](#weights-per-mille-in-code-percent-in-a-variable).
///
/// The rollout group is the name users are hashed with (Unleash's toggle name). In a struct of
/// flags it is the flag's: its `rollout_group`, else its variable, for variants loaded from the
/// variable and a default built in code alike. ([`FlagValue::parse_env`] cannot know the flag:
/// variants parsed from text have an empty rollout group until their flag names them.)
///
/// ```
/// use flags_core::Variants;
///
/// let button = Variants::new("checkout-button", &[("control", 500), ("treatment", 500)]);
/// let variant = button.variant_for("user-42");
/// assert!(variant == "control" || variant == "treatment");
/// assert_eq!(button.variant_for("user-42"), variant);
/// ```
///
/// # Weights: per mille in code, percent in a variable
///
/// Unleash holds a variant's weight as a whole number in its API, its client specification and its
/// SDKs, out of 1000 (per mille) as its server fills them in, and shows it as a percentage with
/// one decimal in its UI. This crate takes each where Unleash has it:
///
/// - in code, [`Variants::new`], [`Variants::try_new`] and [`Variants::weights`] use Unleash's
///   per mille weights: `500` is half;
/// - in a variable, the weights are percentages with at most one decimal, as the UI shows them:
///   `control:50,treatment:50` is Unleash's 500 and 500, and `a:33.3,b:33.3,c:33.4` is 333, 333
///   and 334. [`FlagValue::to_env`] writes percentages back, so text and value round-trip.
///
/// ```
/// use flags_core::{FlagValue, Variants};
///
/// let in_code = Variants::new("", &[("a", 333), ("b", 333), ("c", 334)]);
/// let in_text = Variants::parse_env("a:33.3,b:33.3,c:33.4").unwrap();
/// assert_eq!(in_text, in_code);
/// assert_eq!(in_text.weights().collect::<Vec<_>>(), [("a", 333), ("b", 333), ("c", 334)]);
/// assert_eq!(in_code.to_env(), "a:33.3,b:33.3,c:33.4");
/// let halves = Variants::new("", &[("control", 500), ("treatment", 500)]);
/// assert_eq!(halves.to_env(), "control:50,treatment:50");
/// ```
///
/// Weights need not add up to 1000 (100%): they are used as they are, and users are bucketed
/// modulo their sum, as an Unleash SDK buckets the weights it is given. `a:1,b:3` is 10 and 30
/// per mille: a quarter of the users get `a`, bucketed modulo 40. Unleash's server itself only
/// hands out weights that add up to 1000, so variants meant to match an Unleash toggle user for
/// user should add up to 100%. With another sum the users are split in the same proportions, but
/// not the same users as by weights scaled to 1000: `33, 33, 33` gives the variants an Unleash
/// SDK gives for those weights, not those it gives for `334, 333, 333`.
///
/// # In an environment variable
///
/// The text is `name:weight` pairs separated by `,`, such as `control:50,treatment:50`:
/// - a name is any text without `,` or `:`, trimmed, not empty, and unique (compared exactly);
/// - a weight is a percentage with at most one decimal, written in decimal digits with `.` (no
///   `%`): `50`, `33.3`, `0.1`, up to 429496729.5;
/// - at least one weight is above 0, and they add up to at most 429496729.5; empty items (a
///   trailing `,`) are skipped.
///
/// [`FlagValue::to_env`] writes the pairs in their order, with the weights in percent:
///
/// ```
/// use flags_core::{FlagValue, Variants};
///
/// let variants = Variants::parse_env(" control : 10 , treatment:90.0 ").unwrap();
/// assert_eq!(variants.to_env(), "control:10,treatment:90");
/// assert_eq!(
///     Variants::parse_env("control:50,treatment").unwrap_err().to_string(),
///     "expected name:weight pairs separated by `,` such as control:50,treatment:50, with unique \
///      names and weights in percent with at most one decimal, not all 0 (item 2 has no `:weight`)"
/// );
/// assert!(Variants::parse_env("a:33.33,b:66.67").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Variants {
    rollout_group: String,
    /// The hash state after `"{rollout_group}:"`, so that a decision hashes only the user's key.
    rollout_group_hash: Murmur3,
    variants: Vec<Variant>,
    /// One exposure counter per variant, in order.
    counters: Counters,
    /// Why the pairs given to [`Variants::new`] are not valid variants (then there are none).
    invalid: Option<ValueError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Variant {
    name: String,
    weight: u32,
    /// The sum of the weights of this variant and those before it: the last bucket it is given.
    up_to: u32,
}

impl Variants {
    /// Variants whose users are hashed with `rollout_group` (in a struct of flags, the flag's
    /// replaces it), from `(name, weight)` pairs with Unleash's weights: per mille, so `500` is
    /// half (a variable writes it `50`).
    ///
    /// Pairs that are not valid variants (see [`Variants::try_new`], which returns the error)
    /// give no variants: as a flag's default they fail the load, which says why, and never panic;
    /// elsewhere [`Variants::variant_for`] gives every user [`Variants::DISABLED`].
    pub fn new(rollout_group: impl Into<String>, variants: &[(&str, u32)]) -> Self {
        let rollout_group = rollout_group.into();
        match check(variants) {
            Ok(()) => Self::valid(rollout_group, variants),
            Err(error) => Self {
                rollout_group_hash: Murmur3::keyed(VARIANT_SEED, &rollout_group),
                counters: counters(&rollout_group, &[]),
                rollout_group,
                variants: Vec::new(),
                invalid: Some(error),
            },
        }
    }

    /// What [`Variants::variant_for`] gives when there are no valid variants, as Unleash names
    /// the variant of a toggle without any.
    pub const DISABLED: &'static str = "disabled";

    /// Variants hashed with `rollout_group`, from `(name, weight)` pairs with Unleash's weights;
    /// an error when there are no variants, every weight is 0, the weights add up to more than
    /// 4294967295 (`u32::MAX`), or a name is empty, has surrounding spaces, contains `,` or `:`,
    /// or repeats another (the names must be writable in a variable).
    ///
    /// ```
    /// use flags_core::Variants;
    ///
    /// assert!(Variants::try_new("t", &[("a", 1), ("b", 2)]).is_ok());
    /// assert!(Variants::try_new("t", &[("a", 0)]).is_err());
    /// assert!(Variants::try_new("t", &[("a", u32::MAX), ("b", 1)]).is_err());
    /// assert!(Variants::try_new("t", &[("a", 1), ("a", 2)]).is_err());
    /// ```
    pub fn try_new(
        rollout_group: impl Into<String>,
        variants: &[(&str, u32)],
    ) -> Result<Self, ValueError> {
        check(variants)?;
        Ok(Self::valid(rollout_group.into(), variants))
    }

    /// Variants from pairs that `check` accepted.
    fn valid(rollout_group: String, variants: &[(&str, u32)]) -> Self {
        let mut up_to = 0;
        let variants: Vec<Variant> = variants
            .iter()
            .map(|&(name, weight)| {
                // `check` saw that the weights' sum fits.
                up_to += weight;
                Variant {
                    name: name.to_owned(),
                    weight,
                    up_to,
                }
            })
            .collect();
        Self {
            rollout_group_hash: Murmur3::keyed(VARIANT_SEED, &rollout_group),
            counters: counters(&rollout_group, &variants),
            rollout_group,
            variants,
            invalid: None,
        }
    }

    /// The name of the variant that `user` gets; always the same for one user.
    ///
    /// The decision is an [exposure](super#exposure): a DEBUG event, and a counter with the
    /// `metrics` feature.
    pub fn variant_for(&self, user: &str) -> &str {
        if self.variants.is_empty() {
            return Self::DISABLED;
        }
        let bucket = weighted_bucket(self.rollout_group_hash, user, self.total_weight());
        let (index, variant) = self
            .variants
            .iter()
            .enumerate()
            .find(|(_, variant)| variant.up_to >= bucket)
            .expect("the last variant reaches the total weight, the last bucket");
        exposure::variant(&self.rollout_group, &self.counters, index, &variant.name);
        &variant.name
    }

    /// The rollout group, the name hashed with each user key: in a struct of flags, the flag's
    /// `rollout_group`, else its variable; empty for variants parsed from text until their flag
    /// names them.
    ///
    /// ```
    /// use flags_core::Variants;
    ///
    /// let button = Variants::new("checkout-button", &[("control", 500), ("treatment", 500)]);
    /// assert_eq!(button.rollout_group(), "checkout-button");
    /// ```
    pub fn rollout_group(&self) -> &str {
        &self.rollout_group
    }

    /// The variants' names and weights, in order, with the weights per mille as Unleash holds them
    /// (`500` for a variable's `50`).
    pub fn weights(&self) -> impl ExactSizeIterator<Item = (&str, u32)> {
        self.variants
            .iter()
            .map(|variant| (variant.name.as_str(), variant.weight))
    }

    /// The sum of the weights, above 0 (a check of `try_new`): the number of buckets.
    fn total_weight(&self) -> u32 {
        self.variants.last().map_or(0, |variant| variant.up_to)
    }

    /// Hashes users with `rollout_group`: the flag's, once it is known.
    pub(crate) fn set_rollout_group(&mut self, rollout_group: &str) {
        if self.rollout_group == rollout_group {
            return;
        }
        rollout_group.clone_into(&mut self.rollout_group);
        self.rollout_group_hash = Murmur3::keyed(VARIANT_SEED, rollout_group);
        self.counters = counters(rollout_group, &self.variants);
    }
}

/// The rollout group's hash state is left out: it follows from the rollout group.
impl fmt::Debug for Variants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variants")
            .field("rollout_group", &self.rollout_group)
            .field("weights", &self.weights().collect::<Vec<_>>())
            .finish()
    }
}

/// The exposure counters of the variants of `rollout_group`, one per variant.
fn counters(rollout_group: &str, variants: &[Variant]) -> Counters {
    Counters::new(
        rollout_group,
        variants.iter().map(|variant| variant.name.as_str()),
    )
}

fn invalid(problem: &str) -> ValueError {
    ValueError::known(format!(
        "name:weight pairs separated by `,` such as control:50,treatment:50, with unique names \
         and weights in percent with at most one decimal, not all 0 ({problem})"
    ))
}

/// A weight written in percent with at most one decimal (`50`, `33.3`), per mille.
fn per_mille(percent: &str) -> Option<u32> {
    let (whole, tenths) = match percent.split_once('.') {
        Some((whole, tenth)) if tenth.len() == 1 => (whole, decimal::<u32>(tenth)?),
        Some(_) => return None,
        None => (percent, 0),
    };
    decimal::<u32>(whole)?.checked_mul(10)?.checked_add(tenths)
}

/// A weight per mille, written in percent: `500` as `50`, `333` as `33.3`.
fn percent(per_mille: u32) -> String {
    match per_mille % 10 {
        0 => format!("{}", per_mille / 10),
        tenths => format!("{}.{tenths}", per_mille / 10),
    }
}

fn check(variants: &[(&str, u32)]) -> Result<(), ValueError> {
    if variants.is_empty() {
        return Err(invalid("there are none"));
    }
    let mut names = std::collections::HashMap::with_capacity(variants.len());
    for (index, &(name, _)) in variants.iter().enumerate() {
        let item = index + 1;
        if name.is_empty() {
            return Err(invalid(&format!("item {item} has no name")));
        }
        if name.trim() != name || name.contains([',', ':']) {
            return Err(invalid(&format!(
                "the name of item {item} has surrounding spaces, `,` or `:`"
            )));
        }
        if let Some(earlier) = names.insert(name, item) {
            return Err(invalid(&format!(
                "item {item} has the name of item {earlier}"
            )));
        }
    }
    if variants.iter().all(|&(_, weight)| weight == 0) {
        return Err(invalid("every weight is 0"));
    }
    // A user's bucket is their 32-bit hash modulo the sum, so the sum must be a 32-bit number
    // too (as Unleash's weights are): past it, the first variants would take every user.
    let total = variants
        .iter()
        .try_fold(0u32, |total, &(_, weight)| total.checked_add(weight));
    if total.is_none() {
        return Err(invalid(
            "the weights add up to more than 429496729.5%, 4294967295 per mille",
        ));
    }
    Ok(())
}

impl FlagValue for Variants {
    /// See [`Variants`]: `control:50,treatment:50`.
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        let mut pairs = Vec::new();
        let items = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty());
        for (index, item) in items.enumerate() {
            let item_number = index + 1;
            let Some((name, weight)) = item.split_once(':') else {
                return Err(invalid(&format!("item {item_number} has no `:weight`")));
            };
            let weight = per_mille(weight.trim()).ok_or_else(|| {
                invalid(&format!(
                    "the weight of item {item_number} is not a percentage from 0 to 429496729.5 \
                     with at most one decimal, such as 50 or 33.3"
                ))
            })?;
            pairs.push((name.trim(), weight));
        }
        Self::try_new(String::new(), &pairs)
    }

    /// `name:weight` pairs separated by `,`, in order, with the weights in percent.
    fn to_env(&self) -> String {
        self.weights()
            .map(|(name, weight)| format!("{name}:{}", percent(weight)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Decides per user; variants are neither on nor off.
    const __KIND: &'static Kind<Self> =
        &Kind::plain().shape(crate::meta::Shape::Variants).per_user();

    /// Nothing: variants' value is their weights, and a frontend gets only a user's variant.
    fn to_public(&self) -> Value {
        Value::Null
    }
}

impl PerUser for Variants {
    /// Variants hash users with their flag's `rollout_group` (by default the variable), whether
    /// parsed from the variable or a default built in code with another rollout group. Invalid pairs
    /// given to `Variants::new` in a default fail the load.
    fn bind(&mut self, flag: &FlagMeta) -> Bound {
        self.set_rollout_group(flag.rollout_group());
        self.invalid.clone().map_or(Ok(None), Err)
    }

    /// Only the public variant for one user: a frontend gets the name, never the weights.
    fn decide_for(&self, user: &str) -> Value {
        Value::String(self.variant_for(user).to_owned())
    }

    /// A user's variant is a split, when more than one variant can be given; with none to give,
    /// every user gets [`Variants::DISABLED`], and with one, every user gets it: neither needs a
    /// user.
    fn decide(&self, user: Option<&str>) -> Option<Decision> {
        let mut given = self.variants.iter().filter(|variant| variant.weight > 0);
        let (variant, reason) = match (given.next(), given.next(), user) {
            (None, _, _) => (Self::DISABLED, Some(Reason::Disabled)),
            (Some(_), Some(_), Some(user)) => (self.variant_for(user), Some(Reason::Split)),
            (Some(_), Some(_), None) => return None,
            (Some(_), None, Some(user)) => (self.variant_for(user), None),
            (Some(only), None, None) => (only.name.as_str(), None),
        };
        Some(Decision {
            value: Value::String(variant.to_owned()),
            reason,
            variant: Some(variant.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Variants::parse_env(text)
            .unwrap_err()
            .what_was_expected()
            .to_owned()
    }

    #[test]
    fn each_variant_with_a_weight_has_buckets_however_many_there_are() {
        let names: Vec<String> = (0..1001).map(|index| format!("v{index}")).collect();
        let pairs: Vec<(&str, u32)> = names.iter().map(|name| (name.as_str(), 1)).collect();
        let variants = Variants::new("t", &pairs);
        assert_eq!(variants.total_weight(), 1001);
        let last = variants.variants.last().unwrap();
        assert_eq!((last.name.as_str(), last.up_to), ("v1000", 1001));
    }

    #[test]
    fn weights_adding_up_past_a_32_bit_number_are_an_error_not_a_lopsided_split() {
        let error = Variants::try_new("t", &[("a", u32::MAX), ("b", 1)]).unwrap_err();
        assert!(
            error
                .what_was_expected()
                .ends_with("(the weights add up to more than 429496729.5%, 4294967295 per mille)"),
            "{error}"
        );
        assert!(Variants::try_new("t", &[("a", u32::MAX - 1), ("b", 1)]).is_ok());
    }

    #[test]
    fn a_variant_of_weight_0_is_never_given() {
        let variants = Variants::new("t", &[("never", 0), ("always", 7), ("also_never", 0)]);
        for user in ["a", "b", "c", "d", "user-42", ""] {
            assert_eq!(variants.variant_for(user), "always");
        }
    }

    #[test]
    fn variant_is_the_first_whose_cumulative_weight_reaches_the_bucket() {
        let variants = Variants::new("toggle", &[("a", 200), ("b", 300), ("c", 500)]);
        for user in (0..200).map(|index| format!("user-{index}")) {
            let expected = match crate::rollout::variant_bucket("toggle", &user, 1000) {
                1..=200 => "a",
                201..=500 => "b",
                _ => "c",
            };
            assert_eq!(variants.variant_for(&user), expected, "{user}");
        }
    }

    /// Unleash's SDKs divide by the sum of the weights they are given, whatever it is, where this
    /// crate used to scale the weights to 1000 first: 33, 33, 33 were 334, 333, 333.
    #[test]
    fn weights_with_another_sum_bucket_modulo_that_sum() {
        let thirds = Variants::new("toggle", &[("a", 33), ("b", 33), ("c", 33)]);
        let scaled = Variants::new("toggle", &[("a", 334), ("b", 333), ("c", 333)]);
        let mut differ = 0;
        for user in (0..200).map(|index| format!("user-{index}")) {
            let expected = match crate::rollout::variant_bucket("toggle", &user, 99) {
                1..=33 => "a",
                34..=66 => "b",
                _ => "c",
            };
            assert_eq!(thirds.variant_for(&user), expected, "{user}");
            differ += usize::from(scaled.variant_for(&user) != expected);
        }
        assert!(differ > 0, "no user tells the two rules apart");
    }

    #[test]
    fn one_variant_with_a_weight_is_given_to_everyone() {
        for weights in [[1, 0], [0, 1000], [0, u32::MAX]] {
            let variants = Variants::new("t", &[("a", weights[0]), ("b", weights[1])]);
            let only = if weights[0] > 0 { "a" } else { "b" };
            for user in ["a", "b", "c", "user-42", ""] {
                assert_eq!(variants.variant_for(user), only, "{weights:?}");
            }
        }
    }

    #[test]
    fn set_rollout_group_changes_the_buckets_like_new_variants() {
        let mut variants = Variants::parse_env("a:50,b:50").unwrap();
        assert_eq!(variants.rollout_group(), "");
        variants.set_rollout_group("FEATURE_BUTTON");
        assert_eq!(
            variants,
            Variants::new("FEATURE_BUTTON", &[("a", 500), ("b", 500)])
        );
    }

    #[test]
    fn percent_in_text_is_unleash_per_mille_in_code() {
        let cases: [(&str, &[u32]); 6] = [
            ("control:50,treatment:50", &[500, 500]),
            ("a:33.3,b:33.3,c:33.4", &[333, 333, 334]),
            ("a:0.1,b:99.9", &[1, 999]),
            ("a:0,b:100", &[0, 1000]),
            ("a:050.0,b:0.0,c:7", &[500, 0, 70]),
            ("a:429496729.5", &[u32::MAX]),
        ];
        for (text, per_mille) in cases {
            let weights: Vec<u32> = Variants::parse_env(text)
                .unwrap()
                .weights()
                .map(|(_, weight)| weight)
                .collect();
            assert_eq!(weights, per_mille, "{text:?}");
        }
        assert_eq!(
            Variants::new(
                "",
                &[("a", 1), ("b", 999), ("c", 0), ("d", u32::MAX - 1000)]
            )
            .to_env(),
            "a:0.1,b:99.9,c:0,d:429496629.5"
        );
    }

    /// A variable's percents are Unleash's weights whatever they add up to: users are split in
    /// proportion, bucketed modulo the sum, as an Unleash SDK buckets those weights.
    #[test]
    fn percents_that_do_not_add_up_to_100_bucket_modulo_their_sum() {
        let mut quarter = Variants::parse_env("a:1,b:3").unwrap();
        quarter.set_rollout_group("toggle");
        assert_eq!(quarter, Variants::new("toggle", &[("a", 10), ("b", 30)]));
        for user in (0..200).map(|index| format!("user-{index}")) {
            let bucket = crate::rollout::variant_bucket("toggle", &user, 40);
            let expected = if bucket <= 10 { "a" } else { "b" };
            assert_eq!(quarter.variant_for(&user), expected, "{user}");
        }
    }

    #[test]
    fn text_is_trimmed_and_written_back_in_order() {
        let variants = Variants::parse_env(" b : 2 ,a:1.5,, ").unwrap();
        assert_eq!(
            variants.weights().collect::<Vec<_>>(),
            [("b", 20), ("a", 15)]
        );
        assert_eq!(variants.to_env(), "b:2,a:1.5");
        assert_eq!(
            Variants::parse_env("big button:1").unwrap().to_env(),
            "big button:1"
        );
    }

    #[test]
    fn malformed_text_says_what_is_accepted_and_which_item_is_wrong() {
        let not_a_percentage = |item: usize| {
            format!(
                "the weight of item {item} is not a percentage from 0 to 429496729.5 \
                 with at most one decimal, such as 50 or 33.3"
            )
        };
        let cases = [
            (",", String::from("there are none")),
            ("a", String::from("item 1 has no `:weight`")),
            ("a:1,b:", not_a_percentage(2)),
            ("a:-1", not_a_percentage(1)),
            ("a:+1", not_a_percentage(1)),
            ("a:33.33", not_a_percentage(1)),
            ("a:50.", not_a_percentage(1)),
            ("a:.5", not_a_percentage(1)),
            ("a:5.+", not_a_percentage(1)),
            ("a:1.2.3", not_a_percentage(1)),
            ("a:50%", not_a_percentage(1)),
            ("a:1e2", not_a_percentage(1)),
            ("a:429496729.6", not_a_percentage(1)),
            ("a:429496730", not_a_percentage(1)),
            ("a:1:2", not_a_percentage(1)),
            (":1", String::from("item 1 has no name")),
            ("a:1,b:1,a:2", String::from("item 3 has the name of item 1")),
            ("a:0,b:0.0", String::from("every weight is 0")),
            (
                "a:429496729.5,b:0.1",
                String::from("the weights add up to more than 429496729.5%, 4294967295 per mille"),
            ),
        ];
        for (text, problem) in cases {
            assert_eq!(
                error(text),
                format!(
                    "name:weight pairs separated by `,` such as control:50,treatment:50, with \
                     unique names and weights in percent with at most one decimal, not all 0 \
                     ({problem})"
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn names_that_cannot_be_written_in_a_variable_are_rejected() {
        for name in [" a", "a,b", "a:b", ""] {
            assert!(Variants::try_new("t", &[(name, 1)]).is_err(), "{name:?}");
        }
    }

    #[test]
    fn invalid_pairs_give_no_variants_and_an_error_when_bound_never_a_panic() {
        let mut variants = Variants::new("t", &[]);
        assert_eq!(variants.variant_for("user-42"), Variants::DISABLED);
        let flag = crate::meta::FlagMeta::for_tests("FEATURE_BUTTON");
        assert!(
            variants
                .bind(&flag)
                .unwrap_err()
                .to_string()
                .ends_with("(there are none)")
        );
        let mut valid = Variants::new("t", &[("a", 1)]);
        assert_eq!(valid.bind(&flag), Ok(None));
    }
}
