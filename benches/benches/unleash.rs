//! A per-user decision of a flag Unleash manages, through flags-unleash, against Unleash's engine
//! deciding the same toggle as its SDKs call it, in one run. The issue's goal: no more than 1.2x.
//!
//! - yggdrasil: a context with the user's id and the app's name built per call (as an SDK's
//!   `isEnabled(name, context)` does), `EngineState::is_enabled`, and the decision counted for
//!   the usage metrics (`count_toggle`), as the SDKs count it;
//! - flags: `flags.get().evaluate("FEATURE_NEW_UI", Some(user))`, which does the same through the
//!   snapshot's decider, and answers an OpenFeature evaluation;
//! - and reading a managed flag's value for everyone, against one Unleash does not manage (read
//!   only at start): both a field of `Live::get`.
//!
//! `cargo bench -p flags-benches --bench unleash -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::Loader;
use flags_core::live::Live;
use flags_examples::Settings;
use flags_unleash::Unleash;
use unleash_yggdrasil::{Context, EngineState, UpdateMessage};

const FEATURES: &str = r#"{"version": 2, "features": [
    {"name": "FEATURE_NEW_UI", "enabled": true, "variants": [],
     "strategies": [{"name": "flexibleRollout", "constraints": [],
        "parameters": {"rollout": "40", "stickiness": "default", "groupId": "FEATURE_NEW_UI"}}]},
    {"name": "FEATURE_SESSION_AFFINITY_ENABLED", "enabled": true, "variants": [],
     "strategies": [{"name": "default", "parameters": {}}]}
]}"#;

fn decide(c: &mut Criterion) {
    let flags = Arc::new(Live::<Settings>::load(Loader::new()).expect("the seed's flags load"));
    // The source as an application starts it, from its backup file (nothing listens at the URL):
    // the features taken as a poll takes them.
    let directory = tempfile::tempdir().expect("a temporary directory");
    let backup = directory.path().join("unleash.json");
    std::fs::write(&backup, FEATURES).expect("the backup file");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/api", nowhere.local_addr().expect("its address"));
    drop(nowhere);
    let starting = Unleash::builder(url, "default:development.bench")
        .backup_file(&backup)
        .start(&flags);
    let (_unleash, _driver) = runtime.block_on(starting).expect("the source starts");

    let engine = EngineState::default();
    let message: UpdateMessage = serde_json::from_str(FEATURES).expect("the features");
    engine.take_state(message);
    let user = "user-42";

    let yggdrasil = || {
        let context = Context {
            user_id: Some(black_box(user).to_owned()),
            app_name: Some(String::from("bench")),
            ..Context::default()
        };
        let enabled = engine.is_enabled("FEATURE_NEW_UI", &context, &None);
        engine.count_toggle("FEATURE_NEW_UI", enabled);
        enabled
    };
    let flags_unleash = || {
        let evaluation = flags
            .get()
            .evaluate(black_box("FEATURE_NEW_UI"), Some(black_box(user)));
        evaluation.expect("a managed flag").value.as_bool() == Some(true)
    };
    assert_eq!(yggdrasil(), flags_unleash());
    let mut group = c.benchmark_group("unleash");
    group.bench_function("per user: yggdrasil is_enabled + count_toggle", |b| {
        b.iter(yggdrasil)
    });
    group.bench_function("per user: Live::get + evaluate", |b| b.iter(flags_unleash));
    group.bench_function("for everyone: Live::get + managed field", |b| {
        b.iter(|| flags.get().session_affinity_enabled)
    });
    group.bench_function(
        "for everyone: Live::get + a field Unleash does not manage",
        |b| b.iter(|| flags.get().read_replica_enabled),
    );
    group.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
