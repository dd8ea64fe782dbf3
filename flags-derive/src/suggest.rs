//! "Did you mean" for names a user can misspell.
//!
//! flags-core has the same few lines for variable names: a proc-macro crate cannot share code
//! with the runtime it expands to, and a third crate for twenty lines is not worth its build.

/// The candidate nearest to `name`, if it is near enough to be a typo of it.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                edit_distance(&name, &candidate.to_ascii_lowercase()),
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
        assert_eq!(edit_distance("defualt", "default"), 1);
        assert_eq!(edit_distance("deflt", "default"), 2);
        assert_eq!(edit_distance("colour", "status"), 5);
    }
}
