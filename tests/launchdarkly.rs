//! LaunchDarkly's flags for tests, in LaunchDarkly's own JSON (what its streaming protocol
//! sends, and what `TestData::use_preconfigured_flag` takes for what its builder cannot say:
//! percentage rollouts, segments, variations of any JSON type), and the SDK's own client over its
//! test double, `TestData`, whose `variation` calls are what a test expects.

use std::time::Duration;

use launchdarkly_server_sdk::{Client, ConfigBuilder, Flag, NullEventProcessorBuilder, TestData};
use serde_json::{Value, json};

/// A flag that is on: `variations`, the default rule `fallthrough` (`{"variation": 0}`, or a
/// [`rollout`]), `rules` in LaunchDarkly's JSON, and `targeted` users given variation 1.
pub fn flag(
    key: &str,
    version: u64,
    variations: Value,
    fallthrough: Value,
    rules: Value,
    targeted: &[&str],
) -> Value {
    json!({
        "key": key,
        "version": version,
        "on": true,
        "targets": [{"values": targeted, "variation": 1}],
        "contextTargets": [],
        "rules": rules,
        "prerequisites": [],
        "fallthrough": fallthrough,
        "offVariation": 0,
        "variations": variations,
        "salt": format!("{key}-salt"),
        "trackEvents": false,
        "trackEventsFallthrough": false,
        "clientSide": false,
    })
}

/// A flag whose one variation, `value`, everyone gets.
pub fn value_for_all(key: &str, version: u64, value: Value) -> Value {
    flag(
        key,
        version,
        json!([value]),
        json!({"variation": 0}),
        json!([]),
        &[],
    )
}

/// A percentage rollout over the variations, `weights` in thousandths of a percent, bucketed by
/// the context's key.
pub fn rollout(weights: &[u32]) -> Value {
    let variations: Vec<Value> = weights
        .iter()
        .enumerate()
        .map(|(variation, weight)| json!({"variation": variation, "weight": weight}))
        .collect();
    json!({"rollout": {"variations": variations}})
}

/// The flag `json` as the SDK reads it.
pub fn parse(json: &Value) -> Flag {
    serde_json::from_value(json.clone()).expect("LaunchDarkly's JSON for a flag")
}

/// The SDK's own client, without analytics events, over `data`, once it has the data.
pub async fn reference(data: &TestData) -> Client {
    let config = ConfigBuilder::new("sdk-test")
        .data_source(data)
        .event_processor(&NullEventProcessorBuilder::new())
        .build()
        .expect("the SDK's config");
    let client = Client::build(config).expect("the SDK's client");
    client.start_with_default_executor();
    let started = client.wait_for_initialization(Duration::from_secs(5)).await;
    assert_eq!(started, Some(true), "the SDK's client has TestData's flags");
    client
}
