//! What one rollout or variant decision costs for a 36-byte user key, against the floor: one
//! MurmurHash3 x86_32 of the same bytes (`"{group}:{user}"`, already joined).
//!
//! `cargo bench -p flags-core --bench rollout`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::rollout::{bucket, variant_bucket};
use flags_core::{Rollout, Variants};

const GROUP: &str = "FEATURE_NEW_CHECKOUT";
const USER: &str = "9f1c2b3a-4d5e-4f60-8a7b-0c1d2e3f4a5b";
const VARIANT_SEED: u32 = 86_028_157;

fn rollout(c: &mut Criterion) {
    assert_eq!(USER.len(), 36);
    let joined = format!("{GROUP}:{USER}");
    let half = Rollout::new(GROUP, 50);
    let few = Rollout::new(GROUP, 50)
        .allow(["alice@example.com", "bob@example.com"])
        .deny(["mallory@example.com"]);
    let listed = Rollout::new(GROUP, 50)
        .allow((0..1000).map(|index| format!("allowed-{index:04}")))
        .deny((0..1000).map(|index| format!("denied-{index:04}")));

    let mut group = c.benchmark_group("rollout");
    group.bench_function("floor: murmur3 of group:user", |b| {
        b.iter(|| mur3::murmurhash3_x86_32(black_box(joined.as_bytes()), 0))
    });
    group.bench_function("bucket", |b| {
        b.iter(|| bucket(black_box(GROUP), black_box(USER)))
    });
    group.bench_function("is_enabled_for", |b| {
        b.iter(|| half.is_enabled_for(black_box(USER)))
    });
    group.bench_function("is_enabled_for, 2 allowed and 1 denied", |b| {
        b.iter(|| few.is_enabled_for(black_box(USER)))
    });
    group.bench_function("is_enabled_for, 1000 allowed and 1000 denied", |b| {
        b.iter(|| listed.is_enabled_for(black_box(USER)))
    });
    group.finish();
}

fn variants(c: &mut Criterion) {
    let joined = format!("{GROUP}:{USER}");
    let two = Variants::new(GROUP, &[("control", 500), ("treatment", 500)]);
    let five = Variants::new(GROUP, &[("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1)]);

    let mut group = c.benchmark_group("variants");
    group.bench_function("floor: murmur3 of toggle:user", |b| {
        b.iter(|| mur3::murmurhash3_x86_32(black_box(joined.as_bytes()), VARIANT_SEED))
    });
    group.bench_function("variant_bucket", |b| {
        b.iter(|| variant_bucket(black_box(GROUP), black_box(USER)))
    });
    group.bench_function("variant_for, 2 variants", |b| {
        b.iter(|| two.variant_for(black_box(USER)))
    });
    group.bench_function("variant_for, 5 variants", |b| {
        b.iter(|| five.variant_for(black_box(USER)))
    });
    group.finish();
}

criterion_group!(benches, rollout, variants);
criterion_main!(benches);
