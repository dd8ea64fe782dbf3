//! A per-user decision of a flag LaunchDarkly manages, through flags-launchdarkly, against the
//! SDK's own `bool_variation` for the same context, in one run. The goal: no more than
//! 1.2x.
//!
//! - the SDK: a client in its default setup (its in-memory store) over LaunchDarkly's test double,
//!   `TestData`; the context `{"key": user}` built per call, as the seed's
//!   `ld_client.variation("new-feature", {"key": user_id}, False)` builds it, then
//!   `bool_variation`;
//! - flags: `flags.get().evaluate("FEATURE_NEW_UI", Some(user))`, which does the same through the
//!   snapshot's decider, and answers an OpenFeature evaluation;
//! - each with the SDK's analytics events off, and on (sent to a closed port on loopback: what is
//!   measured is the SDK recording them);
//! - and reading a managed flag's value for everyone, against one LaunchDarkly does not manage
//!   (read only at start): both a field of `Live::get`.
//!
//! `cargo bench -p flags-benches --bench launchdarkly -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::Loader;
use flags_core::live::Live;
use flags_examples::Settings;
use flags_launchdarkly::{LaunchDarkly, TestData};
use launchdarkly_server_sdk::{
    AttributeValue, Client, ConfigBuilder, ContextBuilder, Flag, NullEventProcessorBuilder,
    ServiceEndpointsBuilder,
};
use serde_json::json;

const KEY: &str = "FEATURE_NEW_UI";

/// A flag of targets, a rule and a 40% rollout, and one on for everyone.
fn populate(data: &TestData) {
    let new_ui: Flag = serde_json::from_value(json!({
        "key": KEY, "version": 1, "on": true,
        "targets": [{"values": ["alice", "bob"], "variation": 1}],
        "contextTargets": [],
        "rules": [{"id": "staff", "variation": 1, "trackEvents": false,
            "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"],
                "negate": false}]}],
        "prerequisites": [],
        "fallthrough": {"rollout": {"variations": [
            {"variation": 0, "weight": 60000}, {"variation": 1, "weight": 40000}]}},
        "offVariation": 0, "variations": [false, true], "salt": "new-ui",
        "trackEvents": false, "trackEventsFallthrough": false, "clientSide": false,
    }))
    .expect("LaunchDarkly's JSON for a flag");
    data.use_preconfigured_flag(new_ui);
    data.update(
        data.flag("FEATURE_SESSION_AFFINITY_ENABLED")
            .variation_for_all(true)
            .if_match("email", [AttributeValue::from("x")])
            .then_return(false),
    );
}

fn decide(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _entered = runtime.enter();
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let closed = format!("http://{}", nowhere.local_addr().expect("its address"));
    drop(nowhere);
    let user = "user-42";
    for events in [false, true] {
        let data = TestData::new();
        populate(&data);

        let flags = Arc::new(Live::<Settings>::load(Loader::new()).expect("the seed's flags load"));
        let starting = LaunchDarkly::builder("sdk-bench")
            .relay_proxy(&closed)
            .send_events(events)
            .test_data(&data)
            .start(&flags);
        let (_launchdarkly, driver) = runtime.block_on(starting).expect("the source starts");
        runtime.spawn(driver);

        let mut endpoints = ServiceEndpointsBuilder::new();
        endpoints.relay_proxy(&closed);
        let config = ConfigBuilder::new("sdk-bench")
            .service_endpoints(&endpoints)
            .data_source(&data);
        let config = match events {
            true => config,
            false => config.event_processor(&NullEventProcessorBuilder::new()),
        };
        let sdk = Client::build(config.build().expect("the SDK's config")).expect("the SDK");
        sdk.start_with_default_executor();
        let started = runtime.block_on(sdk.wait_for_initialization(Duration::from_secs(5)));
        assert_eq!(started, Some(true));

        let prebuilt = ContextBuilder::new(user).build().expect("a context");
        let variation = || {
            let context = ContextBuilder::new(black_box(user))
                .build()
                .expect("a context");
            sdk.bool_variation(&context, black_box(KEY), false)
        };
        let flags_launchdarkly = || {
            let evaluation = flags.get().evaluate(black_box(KEY), Some(black_box(user)));
            evaluation.expect("a managed flag").value.as_bool() == Some(true)
        };
        assert_eq!(variation(), flags_launchdarkly());
        let name = match events {
            true => "launchdarkly, events on",
            false => "launchdarkly, events off",
        };
        let mut group = c.benchmark_group(name);
        group.bench_function("per user: the SDK's context + bool_variation", |b| {
            b.iter(variation)
        });
        group.bench_function(
            "per user: the SDK's bool_variation, context made before",
            |b| b.iter(|| sdk.bool_variation(&prebuilt, black_box(KEY), false)),
        );
        group.bench_function("per user: Live::get + evaluate", |b| {
            b.iter(flags_launchdarkly)
        });
        if !events {
            group.bench_function("for everyone: Live::get + managed field", |b| {
                b.iter(|| flags.get().session_affinity_enabled)
            });
            group.bench_function(
                "for everyone: Live::get + a field LaunchDarkly does not manage",
                |b| b.iter(|| flags.get().read_replica_enabled),
            );
        }
        group.finish();
        sdk.close();
    }
}

criterion_group!(benches, decide);
criterion_main!(benches);
