//! "Did you mean" for names a user can misspell.
//!
//! The rule is the same as flags-core's for variables that match no flag, so a name gets the same
//! suggestion at compile time and at run time: strsim's optimal string alignment distance (an
//! insertion, deletion, substitution or swap of two neighbouring characters each counts one),
//! ignoring ASCII case, of at most a third of the candidate's length less the struct's prefix (at
//! least one), as rustc's
//! own "did you mean" allows. `nearest` is written twice, here and in `flags-core/src/suggest.rs`,
//! because a proc-macro crate can export nothing but macros, and flags-core, which depends on
//! this crate, cannot be a dependency of it: change both together.

use strsim::osa_distance;

/// The candidate nearest to `name` (ignoring ASCII case), if it is near enough to be a typo of it:
/// within a third of the candidate's length without `prefix` (the struct's, which every variable
/// shares and no typo is in), so that `APP_LOG_FILE` is not taken for `APP_LOG_LEVEL`.
pub fn nearest<'a>(
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

/// `; did you mean `x`?` or `; expected one of: a, b, c`.
pub fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match nearest(name, candidates.iter().copied(), "") {
        Some(candidate) => format!("; did you mean `{candidate}`?"),
        None => format!("; expected one of: {}", candidates.join(", ")),
    }
}

/// `UsEast` as `us_east`, `HTTPServer` as `http_server`, `Http2` as `http2`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (index, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let before = index.checked_sub(1).map(|before| chars[before]);
            let after = chars.get(index + 1);
            let starts_word = before.is_some_and(|before| {
                before.is_lowercase()
                    || before.is_ascii_digit()
                    || (before.is_uppercase() && after.is_some_and(|after| after.is_lowercase()))
            });
            if starts_word && !snake.ends_with('_') {
                snake.push('_');
            }
            snake.extend(c.to_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("Postgresql"), "postgresql");
        assert_eq!(snake_case("UsEast"), "us_east");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("Http2Server"), "http2_server");
        assert_eq!(snake_case("A"), "a");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn edit_distance_counts_each_kind_of_typo_as_one() {
        assert_eq!(osa_distance("defualt", "default"), 1);
        assert_eq!(osa_distance("deflt", "default"), 2);
        assert_eq!(osa_distance("colour", "status"), 5);
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
