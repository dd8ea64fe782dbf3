//! Resolving a boolean allocates nothing, whether it is a plain flag or a rollout decided for
//! the context's user: a service resolves flags on every request.

use std::hint::black_box;
use std::sync::Arc;

use flags_core::live::Live;
use flags_core::{FeatureFlags, Loader, Rollout};
use flags_openfeature::Provider;
use flags_tests::counting::{Counting, allocations};
use open_feature::EvaluationContext;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false)]
    beta: bool,
    #[flag(default = Rollout::new("", 0))]
    new_ui: Rollout,
}

#[test]
fn resolving_a_boolean_or_a_rollout_allocates_nothing() {
    let loader = Loader::new().map([("FEATURE_NEW_UI", "40%; allow=vip")]);
    let flags = Arc::new(Live::<Settings>::load(loader).unwrap());
    let provider = Provider::new(Arc::clone(&flags));
    let users: Vec<EvaluationContext> = ["vip", "user-1", "user-2", "user-3"]
        .into_iter()
        .map(|user| EvaluationContext::default().with_targeting_key(user))
        .collect();
    let resolve = |key: &str, context: &EvaluationContext| {
        black_box(
            provider
                .resolve_bool(black_box(key), context)
                .unwrap()
                .value,
        )
    };
    // What is built once: the variables' table, the snapshot's evaluations.
    resolve("FEATURE_BETA", &users[0]);
    resolve("FEATURE_NEW_UI", &users[0]);
    let mut enabled = 0;
    let counted = allocations(|| {
        for context in users.iter().cycle().take(1000) {
            enabled += usize::from(resolve("FEATURE_NEW_UI", context));
            enabled += usize::from(resolve("FEATURE_BETA", context));
        }
    });
    assert_eq!(counted, 0);
    assert!(enabled >= 250, "vip is on, every time: {enabled}");
}
