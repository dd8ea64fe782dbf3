//! What reading one bool flag of live flags costs, against the floors of each way to share a
//! struct that changes: a plain `&S` field read, `RwLock<Arc<S>>`, arc-swap's `load` and arc-swap's
//! per-thread `Cache`; then `Live::get` and `Live::reader` while another thread applies about 1000
//! changes a second.
//!
//! Each measurement reads `beta_enabled` of the same small struct once; the floors hold the
//! struct itself, `Live` a `Snapshot` of it.
//!
//! `cargo bench -p flags-core --bench live`

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, Cache};
use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::live::Live;
use flags_core::{FeatureFlags, FlagValue, Loader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Region {
    Us,
    Eu,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_")]
struct Settings {
    #[flag(default = false)]
    beta_enabled: bool,
    #[flag(default = 3)]
    workers: u8,
    #[flag(default = Region::Us)]
    region: Region,
    #[flag(default = "https://api.example.com")]
    endpoint: String,
}

/// How often the writer of the contended measurements applies a change.
const WRITE_EVERY: Duration = Duration::from_millis(1);

fn loader() -> Loader {
    Loader::new().map([("APP_BETA_ENABLED", "true"), ("APP_WORKERS", "4")])
}

fn settings() -> Settings {
    loader().load().expect("the benchmark's flags load")
}

fn live() -> Live<Settings> {
    Live::builder()
        .without_tracing_audit()
        .load(loader())
        .expect("the benchmark's flags load")
}

fn uncontended(c: &mut Criterion) {
    let plain = settings();
    let locked = RwLock::new(Arc::new(settings()));
    let swapped = ArcSwap::from_pointee(settings());
    let live = live();
    assert!(plain.beta_enabled && live.get().beta_enabled);

    let mut group = c.benchmark_group("read one bool flag");
    group.bench_function("floor: plain &S field read", |b| {
        let plain = &plain;
        b.iter(|| black_box(plain).beta_enabled)
    });
    group.bench_function("RwLock<Arc<S>> read", |b| {
        b.iter(|| {
            black_box(&locked)
                .read()
                .expect("not poisoned")
                .beta_enabled
        })
    });
    group.bench_function("floor: arc-swap load", |b| {
        b.iter(|| black_box(&swapped).load().beta_enabled)
    });
    group.bench_function("arc-swap Cache", |b| {
        let mut cache = Cache::new(&swapped);
        b.iter(|| black_box(&mut cache).load().beta_enabled)
    });
    group.bench_function("Live::get", |b| {
        b.iter(|| black_box(&live).get().beta_enabled)
    });
    group.bench_function("Live::reader().get()", |b| {
        let mut reader = live.reader();
        b.iter(|| black_box(&mut reader).get().beta_enabled)
    });
    group.finish();
}

/// The same reads while another thread applies a change every [`WRITE_EVERY`] (alternately
/// turning `workers` to 5 and 6, so every apply is a real change); the writer stops when the
/// measurements end, and its achieved rate is printed.
fn with_a_writer(c: &mut Criterion) {
    let live = live();
    let stop = AtomicBool::new(false);
    let applied = AtomicU64::new(0);
    thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let started = Instant::now();
            let mut next = started;
            while !stop.load(Ordering::Relaxed) {
                let workers = if applied.load(Ordering::Relaxed).is_multiple_of(2) {
                    "5"
                } else {
                    "6"
                };
                live.apply([("APP_WORKERS", workers)], "bench")
                    .expect("the change is valid");
                applied.fetch_add(1, Ordering::Relaxed);
                // A deadline per change rather than a sleep after it: oversleeping once does not
                // lower the rate.
                next += WRITE_EVERY;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    thread::sleep(wait);
                }
            }
            started.elapsed()
        });

        let mut group = c.benchmark_group("read one bool flag, 1000 applies a second");
        group.bench_function("Live::get", |b| {
            b.iter(|| black_box(&live).get().beta_enabled)
        });
        group.bench_function("Live::reader().get()", |b| {
            let mut reader = live.reader();
            b.iter(|| black_box(&mut reader).get().beta_enabled)
        });
        group.finish();

        stop.store(true, Ordering::Relaxed);
        let elapsed = writer.join().expect("the writer does not panic");
        let applied = applied.load(Ordering::Relaxed);
        eprintln!(
            "writer: {applied} applies in {:.1} s, {:.0} a second; version {}",
            elapsed.as_secs_f64(),
            applied as f64 / elapsed.as_secs_f64(),
            live.version()
        );
    });
}

criterion_group!(benches, uncontended, with_a_writer);
criterion_main!(benches);
