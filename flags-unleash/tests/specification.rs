//! Every case of Unleash's client specification (tests/client-specification, 6.1.0: 22 files,
//! 279 cases), answered through [`Features`] as the source decides flags: strategies,
//! constraints and their operators, semver, regex, CIDR, segments, custom stickiness, strategy
//! variants, dependent features, UTF-8 names, and the delta API's events.

use std::path::Path;

use flags_core::serde_json::{self, Value};
use flags_unleash::{Context, Features};

/// One file's cases that `Features` answers differently from the specification, each as
/// `file: description (expected, answered)`.
fn failures_of(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let name = spec["name"].as_str().unwrap();
    let state = serde_json::to_vec(&spec["state"]).unwrap();
    let (features, _) = Features::from_json(&state, "spec")
        .unwrap_or_else(|error| panic!("{name}: the state is refused: {error}"));
    let context = |case: &Value| -> Context {
        serde_json::from_value(case["context"].clone())
            .unwrap_or_else(|error| panic!("{name}: a context that does not read: {error}"))
    };
    let mut cases = 0;
    let mut failures = Vec::new();
    for case in spec["tests"].as_array().into_iter().flatten() {
        cases += 1;
        let toggle = case["toggleName"].as_str().unwrap();
        let expected = case["expectedResult"].as_bool().unwrap();
        let answered = features.is_enabled(toggle, &context(case));
        if answered != expected {
            failures.push(format!(
                "{name}: {} (expected {expected}, answered {answered})",
                case["description"]
            ));
        }
    }
    for case in spec["variantTests"].as_array().into_iter().flatten() {
        cases += 1;
        let toggle = case["toggleName"].as_str().unwrap();
        let expected = &case["expectedResult"];
        let variant = features.variant(toggle, &context(case));
        let mut answered = serde_json::json!({
            "name": variant.name,
            "enabled": variant.enabled,
            "feature_enabled": variant.feature_enabled,
        });
        if let Some(payload) = &variant.payload {
            answered["payload"] =
                serde_json::json!({"type": payload.payload_type, "value": payload.value});
        }
        // `feature_enabled` is in every case of 6.1.0 but the oldest; compare what is given.
        let mut expected = expected.clone();
        if expected.get("feature_enabled").is_none() {
            answered.as_object_mut().unwrap().remove("feature_enabled");
        }
        if expected.get("payload").is_some_and(Value::is_null) {
            expected.as_object_mut().unwrap().remove("payload");
        }
        if answered != expected {
            failures.push(format!(
                "{name}: {} (expected {expected}, answered {answered})",
                case["description"]
            ));
        }
    }
    (cases, failures)
}

#[test]
fn every_case_of_unleashs_client_specification_is_answered_as_it_says() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client-specification");
    let index: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(directory.join("index.json")).unwrap())
            .unwrap();
    assert_eq!(index.len(), 22, "the specification's files");
    let mut cases = 0;
    let mut failures = Vec::new();
    for file in &index {
        let (count, failed) = failures_of(&directory.join(file));
        cases += count;
        failures.extend(failed);
    }
    assert_eq!(cases, 279, "the specification's cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
