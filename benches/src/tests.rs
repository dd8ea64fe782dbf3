//! The comparison is honest only if every loader reads the same variables into the same values.

use std::collections::HashMap;

use crate::loaders::{envconfig, envy, flags, hand_written};
use crate::vars::{self, BAD_VALUES, BOOLS, COUNTS, MODES, PREFIX, STRINGS};

/// Every struct is named `Settings` with the same fields, and every `Mode` has the same variants,
/// so equal `Debug` text means equal values.
fn shown(settings: impl std::fmt::Debug) -> String {
    format!("{settings:?}")
}

#[test]
fn each_variable_is_the_prefix_and_its_field_in_upper_case() {
    let flags = BOOLS.iter().chain(STRINGS).chain(COUNTS).chain(MODES);
    let mut count = 0;
    for (field, env) in flags {
        assert_eq!(*env, format!("{PREFIX}{}", field.to_uppercase()));
        count += 1;
    }
    assert_eq!(
        [BOOLS.len(), STRINGS.len(), COUNTS.len(), MODES.len(), count],
        [60, 20, 10, 10, 100]
    );
}

#[test]
fn the_map_sets_every_flag_and_nothing_else() {
    let vars = vars::valid();
    assert_eq!(vars.len(), 100);
    let loaded = flags::load(&vars).unwrap();
    assert!(loaded.flag_000 && !loaded.flag_001);
    assert_eq!(loaded.name_019, "value-019");
    assert_eq!(loaded.count_009, 1009);
    assert_eq!(loaded.mode_000, flags::Mode::Beta);
}

#[test]
fn every_map_loader_reads_the_same_values_from_the_map() {
    let vars = vars::valid();
    let expected = shown(flags::load(&vars).unwrap());
    assert_eq!(shown(hand_written::load(&vars).unwrap()), expected);
    assert_eq!(shown(envy::load(vars.clone()).unwrap()), expected);
    assert_eq!(shown(envconfig::load(&vars).unwrap()), expected);
}

#[test]
fn every_map_loader_gives_the_same_defaults_for_an_empty_map() {
    let vars = HashMap::new();
    let expected = shown(flags::load(&vars).unwrap());
    assert!(
        expected.contains("flag_059: false, name_000: \"x\""),
        "{expected}"
    );
    assert!(
        expected.contains("count_000: 0, count_001: 0"),
        "{expected}"
    );
    assert!(expected.contains("mode_009: Alpha }"), "{expected}");
    assert_eq!(shown(hand_written::load(&vars).unwrap()), expected);
    assert_eq!(shown(envy::load(vars.clone()).unwrap()), expected);
    assert_eq!(shown(envconfig::load(&vars).unwrap()), expected);
}

/// What each loader tells a user about the ten bad values; BENCHMARKS.md quotes these.
#[test]
fn flags_reports_all_ten_bad_values_and_every_other_map_loader_one() {
    let vars = vars::with_ten_bad_values();
    let error = flags::load(&vars).unwrap_err();
    let reported: Vec<_> = error
        .problems()
        .iter()
        .map(|problem| problem.env())
        .collect();
    let bad: Vec<_> = BAD_VALUES.iter().map(|(env, _)| Some(*env)).collect();
    assert_eq!(reported, bad);
    assert_eq!(
        error.to_string().lines().next(),
        Some(
            "APP_FLAG_010: invalid value \"maybe\", expected a boolean: true/false, 1/0, yes/no or on/off (from map)"
        )
    );

    // The first in declaration order, by name only.
    let error = hand_written::load(&vars).unwrap_err();
    assert_eq!(error.to_string(), "APP_FLAG_010: invalid value");

    // The first in declaration order, by name only.
    let error = envconfig::load(&vars).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Failed to parse environment variable APP_FLAG_010"
    );

    // The first that serde meets in the map's order, which changes from one map to another: a bool
    // or a count named without its prefix ("invalid digit found in string while parsing value
    // 'lots' provided by COUNT_002"), or a mode not named at all.
    let error = envy::load(vars.clone()).unwrap_err().to_string();
    let mode = "unknown variant `delta`, expected one of `alpha`, `beta`, `gamma`";
    let named = BAD_VALUES.iter().filter(|(env, value)| {
        let env = env.strip_prefix(PREFIX).unwrap();
        error.ends_with(&format!("while parsing value '{value}' provided by {env}"))
    });
    assert!(named.count() == 1 || error == mode, "{error}");
}
