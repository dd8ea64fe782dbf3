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
//! the SDK's. Allocations are counted by a counting global allocator, and printed.
//!
//! `cargo bench -p flags-benches --bench openfeature -- --warm-up-time 1 --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::Loader;
use flags_core::live::Live;
use flags_examples::Settings;
use flags_openfeature::Provider;
use open_feature::EvaluationContext;

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is the system allocator's, with the same arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `body` makes, per call, over 1000 calls.
fn allocations(mut body: impl FnMut()) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        body();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 1000.0
}

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
    for (name, per_call) in [
        (
            "rollout, Live::get + is_enabled_for",
            allocations(|| {
                black_box(rollout_plain());
            }),
        ),
        (
            "rollout, provider",
            allocations(|| {
                black_box(rollout_provider());
            }),
        ),
        (
            "bool, Live::get",
            allocations(|| {
                black_box(bool_plain());
            }),
        ),
        (
            "bool, provider",
            allocations(|| {
                black_box(bool_provider());
            }),
        ),
    ] {
        println!("allocations per call, {name}: {per_call}");
    }

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
