//! The maps the loaders read, built from `hundred_flags!`: every one of the 100 variables is set.

use std::collections::HashMap;

macro_rules! names {
    (
        bools { default: $bool_default:tt, text: $bool_text:tt } [$($bool:ident = $bool_env:tt,)*]
        strings { default: $string_default:tt, text: $string_text:tt } [$($string:ident = $string_env:tt,)*]
        counts { default: $count_default:tt, text: $count_text:tt } [$($count:ident = $count_env:tt,)*]
        modes { default: $mode_default:ident, text: $mode_text:tt } [$($mode:ident = $mode_env:tt,)*]
    ) => {
        /// Each bool flag's field and variable.
        pub const BOOLS: &[(&str, &str)] = &[$((stringify!($bool), $bool_env)),*];
        /// Each `String` flag's field and variable.
        pub const STRINGS: &[(&str, &str)] = &[$((stringify!($string), $string_env)),*];
        /// Each `u32` flag's field and variable.
        pub const COUNTS: &[(&str, &str)] = &[$((stringify!($count), $count_env)),*];
        /// Each `Mode` flag's field and variable.
        pub const MODES: &[(&str, &str)] = &[$((stringify!($mode), $mode_env)),*];
    };
}

hundred_flags!(names);

/// The prefix of every variable, for the crates that strip it to find the field.
pub const PREFIX: &str = "APP_";

/// Every variable set to a valid value that each crate parses alike: bools alternate `true` and
/// `false` (the only spellings `str::parse` accepts), strings look like no number or bool (figment
/// would parse those), counts are 1000 and up, and modes cycle through `beta`, `gamma`, `alpha`.
pub fn valid() -> HashMap<String, String> {
    let modes = ["beta", "gamma", "alpha"];
    let bools = BOOLS.iter().enumerate().map(|(index, (_, env))| {
        let value = if index % 2 == 0 { "true" } else { "false" };
        (env, value.to_owned())
    });
    let strings = STRINGS
        .iter()
        .enumerate()
        .map(|(index, (_, env))| (env, format!("value-{index:03}")));
    let counts = COUNTS
        .iter()
        .enumerate()
        .map(|(index, (_, env))| (env, (1000 + index).to_string()));
    let modes = MODES
        .iter()
        .enumerate()
        .map(|(index, (_, env))| (env, modes[index % modes.len()].to_owned()));
    bools
        .chain(strings)
        .chain(counts)
        .chain(modes)
        .map(|(env, value)| (env.to_string(), value))
        .collect()
}

/// The ten variables that [`with_ten_bad_values`] spoils, in declaration order, with the value
/// each gets: bad for every crate.
pub const BAD_VALUES: [(&str, &str); 10] = [
    ("APP_FLAG_010", "maybe"),
    ("APP_FLAG_020", "maybe"),
    ("APP_FLAG_030", "maybe"),
    ("APP_FLAG_040", "maybe"),
    ("APP_COUNT_002", "lots"),
    ("APP_COUNT_005", "lots"),
    ("APP_COUNT_008", "lots"),
    ("APP_MODE_001", "delta"),
    ("APP_MODE_004", "delta"),
    ("APP_MODE_007", "delta"),
];

/// [`valid`] with the ten values of [`BAD_VALUES`].
pub fn with_ten_bad_values() -> HashMap<String, String> {
    let mut vars = valid();
    for (env, value) in BAD_VALUES {
        let previous = vars.insert(env.to_owned(), value.to_owned());
        assert!(previous.is_some(), "{env} is not one of the flags");
    }
    vars
}
