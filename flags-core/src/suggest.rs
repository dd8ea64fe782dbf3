//! "Did you mean": the flag variable nearest to a name that matches none.
//!
//! flags-derive has the same few lines for attribute keys: a proc-macro crate cannot share code
//! with the runtime it expands to, and a third crate for twenty lines is not worth its build.

/// The candidate nearest to `name` (ignoring ASCII case), if it is near enough to be a typo of it.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .map(|candidate| {
            (
                edit_distance(&name, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters, each counting one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let substitution = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1).min(current[j - 1] + 1).min(substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_each_kind_of_typo_as_one() {
        assert_eq!(edit_distance("whatsapp", "whatsapp"), 0);
        assert_eq!(edit_distance("whatsap", "whatsapp"), 1);
        assert_eq!(edit_distance("whatsaap", "whatsapp"), 1);
        assert_eq!(edit_distance("whatsapq", "whatsapp"), 1);
        assert_eq!(edit_distance("whastapp", "whatsapp"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
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
