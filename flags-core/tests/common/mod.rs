//! Reading the JSON files of Unleash cases that the tests compare with.

use serde_json::Value;

/// The JSON of a data file, given its name and text.
pub fn parse(name: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{name} is not JSON: {error}"))
}

/// The cases of one kind (`rollout`, `variants`), which must not be empty.
pub fn cases<'a>(file: &'a Value, kind: &str) -> &'a [Value] {
    let cases = file[kind].as_array().expect("a list of cases");
    assert!(!cases.is_empty(), "no {kind} cases");
    cases
}

pub fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} of {case}"))
}

pub fn number(case: &Value, field: &str) -> u64 {
    case[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} of {case}"))
}
