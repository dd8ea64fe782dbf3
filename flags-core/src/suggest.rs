//! "Did you mean": the flag variable nearest to a name that matches none.
//!
//! The rule is the same as flags-derive's for attribute keys and `requires` targets, so a name
//! gets the same suggestion at compile time and at run time: strsim's optimal string alignment
//! distance (an insertion, deletion, substitution or swap of two neighbouring characters each
//! counts one), ignoring ASCII case, of at most a third of the candidate's length less the struct's
//! prefix (at least one),
//! the share rustc's own "did you mean" allows. The function is written twice, here and in
//! `flags-derive/src/suggest.rs`, because a proc-macro crate can export nothing but macros and
//! cannot depend on this crate, which depends on it: change both together.

use strsim::osa_distance;

/// The candidate nearest to `name` (ignoring ASCII case), if it is near enough to be a typo of it:
/// within a third of the candidate's length without `prefix` (the struct's, which every variable
/// shares and no typo is in), so that `APP_LOG_FILE` is not taken for `APP_LOG_LEVEL`.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    prefix: &str,
) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                osa_distance(&name, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| {
            let own = candidate.strip_prefix(prefix).unwrap_or(candidate);
            *distance <= (own.len() / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_each_kind_of_typo_as_one() {
        assert_eq!(osa_distance("whatsapp", "whatsapp"), 0);
        assert_eq!(osa_distance("whatsap", "whatsapp"), 1);
        assert_eq!(osa_distance("whatsaap", "whatsapp"), 1);
        assert_eq!(osa_distance("whatsapq", "whatsapp"), 1);
        assert_eq!(osa_distance("whastapp", "whatsapp"), 1);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_finds_typos_and_case_slips_but_not_strangers() {
        let flags = ["FEATURE_WHATSAPP_ENABLED", "FEATURE_DATABASE_TYPE"];
        assert_eq!(
            nearest("FEATURE_WHATSAP_ENABLED", flags, "FEATURE_"),
            Some("FEATURE_WHATSAPP_ENABLED")
        );
        assert_eq!(
            nearest("feature_database_type", flags, "FEATURE_"),
            Some("FEATURE_DATABASE_TYPE")
        );
        assert_eq!(nearest("FEATURE_NEW_CHECKOUT", flags, "FEATURE_"), None);
    }

    #[test]
    fn a_name_within_a_third_of_the_candidates_length_is_near_enough() {
        // The same cases in flags-core and flags-derive: the rule is one.
        assert_eq!(nearest("deflt", ["default"], ""), Some("default"));
        assert_eq!(nearest("dflt", ["default"], ""), None);
        assert_eq!(nearest("emv", ["env"], ""), Some("env"));
        assert_eq!(
            nearest("APP_WRKRS", ["APP_WORKERS"], "APP_"),
            Some("APP_WORKERS")
        );
        // The prefix is no part of the length a typo may take.
        let logs = ["APP_LOG_LEVEL", "APP_CACHE_SIZE"];
        assert_eq!(nearest("APP_LOG_FILE", logs, "APP_"), None);
        assert_eq!(nearest("APP_CACHE_TTL", logs, "APP_"), None);
        assert_eq!(nearest("APP_LOG_LEVL", logs, "APP_"), Some("APP_LOG_LEVEL"));
    }
}
