//! Percentage rollouts and A/B variants, bucketed exactly as Unleash buckets them.
//!
//! The flag types are [`Rollout`](crate::Rollout) and [`Variants`](crate::Variants), at the crate
//! root; this module has the buckets they decide with, [`bucket`] and [`variant_bucket`], and
//! describes their exposure events.
//!
//! A decision depends only on the flag's name and the user's key, hashed with MurmurHash3 x86_32:
//! one user gets the same answer in every process and every version of this crate, and the same
//! answer an Unleash SDK gives for a gradual rollout (or variant) of the same name.
//!
//! # Exposure
//!
//! Every decision, [`Rollout::is_enabled_for`](crate::Rollout::is_enabled_for) or
//! [`Variants::variant_for`](crate::Variants::variant_for), can be observed, so an experiment's
//! analysis knows who saw what without the application logging it:
//!
//! - a DEBUG `tracing` event with target `flags::exposure`, and fields `flag` (the rollout
//!   group), then `enabled` and `reason` (`deny_list`, `allow_list` or `percentage`) for a
//!   rollout, or `variant` for variants;
//! - with the `metrics` feature of this crate, the counter `flags_exposures_total`, through the
//!   [`metrics`](https://docs.rs/metrics) facade, with labels `flag` and `outcome` (`enabled`,
//!   `disabled`, or the variant's name).
//!
//! Neither ever carries the user's key. Without a subscriber that wants DEBUG events and without
//! the `metrics` feature, exposure costs one check of tracing's level filter per decision. With
//! the feature, the counters' keys are built with the flag, so a decision allocates nothing
//! itself; what the installed recorder does with the key is its own cost.

mod exposure;
pub(crate) mod murmur3;
pub(crate) mod percentage;
pub(crate) mod variants;

use murmur3::Murmur3;

/// Unleash's seed for variant buckets, so that a user's variant does not follow their rollout
/// bucket.
const VARIANT_SEED: u32 = 86_028_157;

/// The bucket, from 1 to 100, that `user` falls in for a rollout hashed with `rollout_group`.
///
/// It is Unleash's gradual rollout bucket: MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes of
/// `"{rollout_group}:{user}"`, modulo 100, plus 1. A rollout of `p` percent is on for the users
/// whose bucket is at most `p`.
///
/// ```
/// use flags_core::rollout::bucket;
///
/// let bucket = bucket("new-checkout", "user-42");
/// assert!((1..=100).contains(&bucket));
/// assert_eq!(bucket, flags_core::rollout::bucket("new-checkout", "user-42"));
/// ```
pub fn bucket(rollout_group: &str, user: &str) -> u32 {
    percent_bucket(Murmur3::keyed(0, rollout_group), user)
}

/// The bucket, from 1 to `total_weight`, that `user` falls in for variants hashed with
/// `rollout_group` whose weights add up to `total_weight`.
///
/// It is Unleash's variant bucket: MurmurHash3 x86_32 with seed 86028157 of the UTF-8 bytes of
/// `"{rollout_group}:{user}"`, modulo the sum of the variants' weights, plus 1. The user gets the
/// first variant whose cumulative weight is at least the bucket, as
/// [`Variants::variant_for`](crate::Variants::variant_for) gives it. Unleash's server keeps weights
/// that add up to 1000, but its SDKs divide by the sum whatever it is, and so does this.
///
/// ```
/// use flags_core::Variants;
/// use flags_core::rollout::variant_bucket;
///
/// let bucket = variant_bucket("checkout-button", "user-42", 1000);
/// assert!((1..=1000).contains(&bucket));
///
/// let button = Variants::new("checkout-button", &[("control", 500), ("treatment", 500)]);
/// let expected = if bucket <= 500 { "control" } else { "treatment" };
/// assert_eq!(button.variant_for("user-42"), expected);
/// ```
///
/// # Panics
///
/// When `total_weight` is 0: no variant could be given.
pub fn variant_bucket(rollout_group: &str, user: &str, total_weight: u32) -> u32 {
    assert!(total_weight > 0, "variants' weights add up to 0");
    weighted_bucket(
        Murmur3::keyed(VARIANT_SEED, rollout_group),
        user,
        total_weight,
    )
}

/// [`bucket`], from the state after `"{rollout_group}:"`.
fn percent_bucket(rollout_group: Murmur3, user: &str) -> u32 {
    percent_of(rollout_group.hash_with(user.as_bytes()))
}

/// The gradual rollout bucket, from 1 to 100, of a user whose hash in the rollout group is `hash`.
fn percent_of(hash: u32) -> u32 {
    hash % 100 + 1
}

/// [`variant_bucket`], from the state after `"{rollout_group}:"`, for weights that add up to
/// `total` (above 0).
fn weighted_bucket(rollout_group: Murmur3, user: &str, total: u32) -> u32 {
    rollout_group.hash_with(user.as_bytes()) % total + 1
}

/// A number written in decimal digits only, as `to_env` writes it: no sign, no spaces.
fn decimal<T: std::str::FromStr>(digits: &str) -> Option<T> {
    if digits.bytes().all(|byte| byte.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hash_rollout_group_colon_user_as_one_text() {
        let one_text = |text: &str, seed| mur3::murmurhash3_x86_32(text.as_bytes(), seed);
        assert_eq!(bucket("a:b", "c"), one_text("a:b:c", 0) % 100 + 1);
        assert_eq!(
            variant_bucket("toggle", "jürgen", 1000),
            one_text("toggle:jürgen", VARIANT_SEED) % 1000 + 1
        );
        assert_eq!(
            variant_bucket("toggle", "jürgen", 99),
            one_text("toggle:jürgen", VARIANT_SEED) % 99 + 1
        );
    }
}
