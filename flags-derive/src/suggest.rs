//! "Did you mean" for names a user can misspell.
//!
//! Nearness is strsim's optimal string alignment distance, as in flags-core's suggestions for
//! variables: an insertion, deletion, substitution or swap of two neighbouring characters each
//! counts one.

use strsim::osa_distance;

/// The candidate nearest to `name`, if it is near enough to be a typo of it.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                osa_distance(&name, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `; did you mean `x`?` or `; expected one of: a, b, c`.
pub fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match nearest(name, candidates.iter().copied()) {
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
}
