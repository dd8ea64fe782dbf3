//! Reading one bool flag that can change while the application runs: flags' `Live::get` and
//! `Live::reader`, feattle's getter, and `unleash-api-client`'s `is_enabled_str`, in one run with
//! two floors: a plain `&S` field read and arc-swap's `load` (what `Live::get` is built on).
//!
//! - flags: `beta_enabled` of a `Live<Settings>` loaded from a map (`Live::get` takes an arc-swap
//!   guard; `Live::reader` is a per-thread handle over arc-swap's `Cache`);
//! - feattle (feattle-core 3.0.0, which the `feattle` crate re-exports): `is_cool()` of a
//!   `feattles!` struct, which takes a parking_lot `RwLock` read guard per read;
//! - Unleash: `is_enabled_str` on a toggle that is on with the `default` strategy, alone in a
//!   client handed it with `memoize`, with no context.
//!
//! Each reads `true`; the benchmark asserts it before measuring. A second group measures the same
//! reads while another thread reads the same flags in a loop: a lock's reader count is one cache
//! line that both threads write, where arc-swap gives each thread a slot of its own.
//!
//! ```sh
//! cargo bench --manifest-path benches/unleash-peer/Cargo.toml --bench live -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use feattle_core::persist::NoPersistence;
use feattle_core::{Feattles, feattles};
use flags_core::live::Live;
use flags_core::{FeatureFlags, Loader};
use unleash_api_client::client::{Client, ClientBuilder, FeatureKey};
use unleash_api_client::http::{Request, Response, Transport};
use unleash_types::client_features::{ClientFeature, ClientFeatures, Strategy};

const TOGGLE: &str = "beta_enabled";

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_")]
struct Settings {
    #[flag(default = false)]
    beta_enabled: bool,
    #[flag(default = 3)]
    workers: u8,
    #[flag(default = "https://api.example.com")]
    endpoint: String,
}

feattles! {
    struct PeerFeattles {
        is_cool: bool = true,
        workers: i32 = 3,
        endpoint: String = "https://api.example.com".to_owned(),
    }
}

/// The benchmark names toggles by string (`*_str`), so the client's feature enum is empty.
#[derive(Clone, Copy, Debug)]
enum ByName {}

impl FeatureKey for ByName {
    fn name(self) -> &'static str {
        match self {}
    }
}

/// The client is given its toggle with `memoize`, and never polls or sends metrics.
struct NoRequests;

#[async_trait::async_trait]
impl Transport for NoRequests {
    async fn execute(&self, request: Request) -> anyhow::Result<Response> {
        anyhow::bail!("the benchmark makes no requests: {}", request.url)
    }
}

/// An Unleash client holding one toggle, on for everyone, as if it had fetched it from a server.
fn unleash_client() -> Client<ByName> {
    let client = ClientBuilder::default()
        .enable_string_features()
        .into_client_with_transport(
            "http://unleash.invalid/api/",
            "flags-bench",
            "bench",
            None,
            Arc::new(NoRequests),
        )
        .expect("building a client connects to nothing");
    let toggle = ClientFeature {
        name: TOGGLE.to_owned(),
        enabled: true,
        strategies: Some(vec![Strategy {
            name: "default".to_owned(),
            sort_order: None,
            segments: None,
            constraints: None,
            parameters: None,
            variants: None,
        }]),
        ..ClientFeature::default()
    };
    let features = ClientFeatures {
        version: 2,
        features: vec![toggle],
        segments: None,
        query: None,
        meta: None,
    };
    client
        .memoize(features)
        .expect("the toggle is valid for Unleash");
    client
}

fn read_one_bool_flag(c: &mut Criterion) {
    let loader = Loader::new().map([("APP_BETA_ENABLED", "true")]);
    let plain: Settings = loader.load().expect("the flags load");
    let swapped = ArcSwap::from_pointee(loader.load::<Settings>().expect("the flags load"));
    let live = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(loader)
        .expect("the flags load");
    let feattles = PeerFeattles::new(Arc::new(NoPersistence));
    let unleash = unleash_client();

    // A comparison of reads that differ would compare nothing.
    assert!(plain.beta_enabled && swapped.load().beta_enabled && live.get().beta_enabled);
    assert!(*feattles.is_cool());
    assert!(unleash.is_enabled_str(TOGGLE, None, false));

    let mut group = c.benchmark_group("live read");
    group.bench_function("floor: plain &S field read", |b| {
        let plain = &plain;
        b.iter(|| black_box(plain).beta_enabled)
    });
    group.bench_function("floor: arc-swap load", |b| {
        b.iter(|| black_box(&swapped).load().beta_enabled)
    });
    group.bench_function("flags Live::get", |b| {
        b.iter(|| black_box(&live).get().beta_enabled)
    });
    group.bench_function("flags Live::reader().get()", |b| {
        let mut reader = live.reader();
        b.iter(|| black_box(&mut reader).get().beta_enabled)
    });
    group.bench_function("feattle is_cool()", |b| {
        b.iter(|| *black_box(&feattles).is_cool())
    });
    group.bench_function("unleash is_enabled_str", |b| {
        b.iter(|| unleash.is_enabled_str(black_box(TOGGLE), None, false))
    });
    group.finish();

    // Each measurement runs while another thread makes the same read of the same flags.
    let mut group = c.benchmark_group("live read, another thread reading");
    while_another_thread_reads(
        || black_box(&plain).beta_enabled,
        || {
            group.bench_function("floor: plain &S field read", |b| {
                let plain = &plain;
                b.iter(|| black_box(plain).beta_enabled)
            });
        },
    );
    while_another_thread_reads(
        || black_box(&swapped).load().beta_enabled,
        || {
            group.bench_function("floor: arc-swap load", |b| {
                b.iter(|| black_box(&swapped).load().beta_enabled)
            });
        },
    );
    while_another_thread_reads(
        || black_box(&live).get().beta_enabled,
        || {
            group.bench_function("flags Live::get", |b| {
                b.iter(|| black_box(&live).get().beta_enabled)
            });
        },
    );
    while_another_thread_reads(
        || *black_box(&feattles).is_cool(),
        || {
            group.bench_function("feattle is_cool()", |b| {
                b.iter(|| *black_box(&feattles).is_cool())
            });
        },
    );
    while_another_thread_reads(
        || unleash.is_enabled_str(black_box(TOGGLE), None, false),
        || {
            group.bench_function("unleash is_enabled_str", |b| {
                b.iter(|| unleash.is_enabled_str(black_box(TOGGLE), None, false))
            });
        },
    );
    group.finish();
}

/// Runs `measure` while another thread calls `read` in a loop; stops that thread after it, and
/// prints how many reads it made, to show that it ran.
fn while_another_thread_reads(read: impl Fn() -> bool + Sync, measure: impl FnOnce()) {
    let stop = AtomicBool::new(false);
    let reads = thread::scope(|scope| {
        let other = scope.spawn(|| {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                black_box(read());
                reads += 1;
            }
            reads
        });
        measure();
        stop.store(true, Ordering::Relaxed);
        other.join().expect("the other reader does not panic")
    });
    eprintln!("the other thread read {reads} times");
}

criterion_group!(benches, read_one_bool_flag);
criterion_main!(benches);
