//! One live change to the struct of 100 flags against a full load of it, in one run.
//!
//! - the full load: `Settings::from_iter(&map)` from the 100 valid variables, as
//!   `benches/load.rs` times it (the struct dropped outside the timed section);
//! - the change: `Live::apply` of one bool flag, on a `Live` loaded from the same map without
//!   the tracing audit and without a store, alternately setting it to `false` and `true` so every
//!   apply is a real change. Everything an apply does is timed: the overrides copied, the struct
//!   rebuilt and validated, the audit event, the history, and dropping the snapshot it replaces.
//!
//! `cargo bench -p flags-benches --bench apply -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use flags_benches::loaders::flags::Settings;
use flags_benches::vars;
use flags_core::live::Live;
use flags_core::{FeatureFlags, Loader};

/// The flag each change sets, and the two values it alternates between; the map sets it `true`.
const FLAG: &str = "APP_FLAG_000";
const VALUES: [&str; 2] = ["false", "true"];

fn apply_one_change(c: &mut Criterion) {
    let map = vars::valid();
    assert_eq!(map[FLAG], VALUES[1]);
    let live = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(Loader::new().map(&map))
        .expect("the 100 flags load");

    let mut group = c.benchmark_group("live apply, 100 flags");
    group.bench_function("floor: full load, Settings::from_iter(&map)", |b| {
        b.iter_batched(
            || (),
            |()| Settings::from_iter(black_box(&map)),
            BatchSize::SmallInput,
        )
    });
    let mut applied = 0u64;
    group.bench_function("Live::apply, one bool flag", |b| {
        b.iter(|| {
            let value = VALUES[(applied % 2) as usize];
            applied += 1;
            live.apply([(FLAG, black_box(value))], "bench")
        })
    });
    group.finish();

    // Every apply was accepted (a new version each), the last one's value is the flag's.
    let now = live.get();
    assert_eq!(now.version(), applied);
    assert_eq!(now.flag_000, applied.is_multiple_of(2));
}

criterion_group!(benches, apply_one_change);
criterion_main!(benches);
