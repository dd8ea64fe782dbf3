//! What rollout and variant decisions cost for 36-byte user keys, against the floor: one
//! MurmurHash3 x86_32 of the same bytes (`"{rollout_group}:{user}"`, already joined).
//!
//! Each measurement decides for the same 64 users in turn (time per 64 decisions), so that no
//! figure rests on one key's luck: how many slots of a list's table it probes, which variant it
//! falls in.
//!
//! `cargo bench -p flags-core --bench rollout`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::rollout::{bucket, variant_bucket};
use flags_core::{Rollout, Variants};

const ROLLOUT_GROUP: &str = "FEATURE_NEW_CHECKOUT";
const VARIANT_SEED: u32 = 86_028_157;

/// 64 keys shaped like UUIDs, 36 bytes each, and the same keys joined to the rollout group.
fn users() -> (Vec<String>, Vec<String>) {
    let users: Vec<String> = (0..64u64)
        .map(|index| {
            let bits = index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                bits >> 32,
                (bits >> 16) & 0xffff,
                bits & 0xfff,
                (bits >> 4) & 0xfff,
                bits & 0xffff_ffff_ffff
            )
        })
        .collect();
    assert!(users.iter().all(|user| user.len() == 36));
    let joined = users
        .iter()
        .map(|user| format!("{ROLLOUT_GROUP}:{user}"))
        .collect();
    (users, joined)
}

fn rollout(c: &mut Criterion) {
    let (users, joined) = users();
    let half = Rollout::new(ROLLOUT_GROUP, 50);
    let few = Rollout::new(ROLLOUT_GROUP, 50)
        .allow(["alice@example.com", "bob@example.com"])
        .deny(["mallory@example.com"]);
    let listed = Rollout::new(ROLLOUT_GROUP, 50)
        .allow((0..1000).map(|index| format!("allowed-{index:04}")))
        .deny((0..1000).map(|index| format!("denied-{index:04}")));

    let mut group = c.benchmark_group("rollout, 64 users");
    group.bench_function("floor: murmur3 of rollout_group:user", |b| {
        b.iter(|| {
            for key in &joined {
                black_box(mur3::murmurhash3_x86_32(black_box(key.as_bytes()), 0));
            }
        })
    });
    group.bench_function("bucket", |b| {
        b.iter(|| {
            for user in &users {
                black_box(bucket(black_box(ROLLOUT_GROUP), black_box(user)));
            }
        })
    });
    for (name, rollout) in [
        ("is_enabled_for", &half),
        ("is_enabled_for, 2 allowed and 1 denied", &few),
        ("is_enabled_for, 1000 allowed and 1000 denied", &listed),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for user in &users {
                    black_box(rollout.is_enabled_for(black_box(user)));
                }
            })
        });
    }
    group.finish();
}

fn variants(c: &mut Criterion) {
    let (users, joined) = users();
    let two = Variants::new(ROLLOUT_GROUP, &[("control", 500), ("treatment", 500)]);
    let five = Variants::new(
        ROLLOUT_GROUP,
        &[("a", 200), ("b", 200), ("c", 200), ("d", 200), ("e", 200)],
    );

    let mut group = c.benchmark_group("variants, 64 users");
    group.bench_function("floor: murmur3 of rollout_group:user, variant seed", |b| {
        b.iter(|| {
            for key in &joined {
                black_box(mur3::murmurhash3_x86_32(
                    black_box(key.as_bytes()),
                    VARIANT_SEED,
                ));
            }
        })
    });
    group.bench_function("variant_bucket", |b| {
        b.iter(|| {
            for user in &users {
                black_box(variant_bucket(
                    black_box(ROLLOUT_GROUP),
                    black_box(user),
                    1000,
                ));
            }
        })
    });
    for (name, variants) in [
        ("variant_for, 2 variants", &two),
        ("variant_for, 5 variants", &five),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for user in &users {
                    black_box(variants.variant_for(black_box(user)));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rollout, variants);
criterion_main!(benches);
