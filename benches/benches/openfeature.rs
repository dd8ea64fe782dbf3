//! One flag resolved by the OpenFeature provider against what an application without it does:
//! `Live::get` and the decision, in one run. The goal: the provider costs no more than
//! 1.5x that, with no allocation for a boolean.
//!
//! - a rollout for a user: `flags.get().new_ui.is_enabled_for(user)` against
//!   `provider.resolve_bool("FEATURE_NEW_UI", &context)`;
//! - a plain boolean: `flags.get().session_affinity_enabled` against
//!   `provider.resolve_bool("FEATURE_SESSION_AFFINITY_ENABLED", &context)`, and against
//!   flags-core's own `flags.get().evaluate("FEATURE_SESSION_AFFINITY_ENABLED", None)`, the
//!   provider without the SDK's types.
//!
//! The inherent `resolve_*` methods are timed: the SDK's trait boxes each call's future, a cost of
//! the SDK's. That a resolution allocates nothing is flags-openfeature's test
//! (`tests/no_allocation.rs`).
//!
//! `cargo bench -p flags-benches --bench openfeature -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::Loader;
use flags_core::live::Live;
use flags_examples::Settings;
use flags_openfeature::Provider;
use open_feature::EvaluationContext;

fn resolve(c: &mut Criterion) {
    let loader = Loader::new().map([("FEATURE_NEW_UI", "40%; allow=vip")]);
    let flags = Arc::new(Live::<Settings>::load(loader).expect("the seed's flags load"));
    let provider = Provider::new(Arc::clone(&flags));
    let context = EvaluationContext::default().with_targeting_key("user-42");
    let user = "user-42";

    let rollout_plain = || flags.get().new_ui.is_enabled_for(black_box(user));
    let rollout_provider = || {
        let details = provider.resolve_bool(black_box("FEATURE_NEW_UI"), &context);
        details.expect("a boolean").value
    };
    let bool_plain = || flags.get().session_affinity_enabled;
    let bool_provider = || {
        let details =
            provider.resolve_bool(black_box("FEATURE_SESSION_AFFINITY_ENABLED"), &context);
        details.expect("a boolean").value
    };
    assert_eq!(rollout_plain(), rollout_provider());
    assert_eq!(bool_plain(), bool_provider());
    let mut group = c.benchmark_group("one flag");
    group.bench_function("rollout: Live::get + is_enabled_for", |b| {
        b.iter(rollout_plain)
    });
    group.bench_function("rollout: provider.resolve_bool", |b| {
        b.iter(rollout_provider)
    });
    group.bench_function("bool: Live::get + field", |b| b.iter(bool_plain));
    group.bench_function("bool: provider.resolve_bool", |b| b.iter(bool_provider));
    group.bench_function("bool: Live::get + evaluate", |b| {
        b.iter(|| {
            flags
                .get()
                .evaluate(black_box("FEATURE_SESSION_AFFINITY_ENABLED"), None)
                .is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
