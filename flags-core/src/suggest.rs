//! "Did you mean": the flag variable nearest to a name that matches none.
//!
//! Nearness is strsim's optimal string alignment distance, as in flags-derive's suggestions for
//! attribute keys: an insertion, deletion, substitution or swap of two neighbouring characters
//! each counts one.

use strsim::osa_distance;

/// The candidate nearest to `name` (ignoring ASCII case), if it is near enough to be a typo of it.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .map(|candidate| {
            (
                osa_distance(&name, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 4).max(1))
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
            nearest("FEATURE_WHATSAP_ENABLED", flags.into_iter()),
            Some("FEATURE_WHATSAPP_ENABLED")
        );
        assert_eq!(
            nearest("feature_database_type", flags.into_iter()),
            Some("FEATURE_DATABASE_TYPE")
        );
        assert_eq!(nearest("FEATURE_NEW_CHECKOUT", flags.into_iter()), None);
    }
}
