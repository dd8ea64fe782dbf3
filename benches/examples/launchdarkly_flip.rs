//! LaunchDarkly (issue 21): how long a change LaunchDarkly's SDK receives takes to be served by
//! the flags.
//!
//! ```text
//! launchdarkly_flip [FLIPS]
//!
//!   FLIPS   timed changes (default 1000, after 20 to warm up)
//! ```
//!
//! The flags follow LaunchDarkly's test double, `TestData`, in this process. Each change turns a
//! flag on or off with `TestData::update`, which hands it to the SDK as a stream's `patch` does;
//! the clock starts before the call and stops when `Live::get` serves the new value (polled
//! without pause): the SDK storing the change, the source taking it (validated, audited,
//! swapped in), and the reader seeing it. The documented delay: as soon as the SDK has it, with
//! no interval of the source's own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flags_core::live::Live;
use flags_core::{FeatureFlags, Loader};
use flags_launchdarkly::{LaunchDarkly, TestData};

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, managed_as = "flip")]
    flip: bool,
}

/// Microseconds, to one decimal.
fn us(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e6)
}

/// The `q` quantile of `sorted`.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let flips: usize = std::env::args()
        .nth(1)
        .map_or(1000, |n| n.parse().expect("FLIPS is a number"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let data = TestData::new();
    data.update(data.flag("flip").variation_for_all(false));
    let flags = Arc::new(Live::<Settings>::load(Loader::new()).expect("the flags load"));
    let starting = LaunchDarkly::builder("sdk-bench")
        .send_events(false)
        .test_data(&data)
        .start(&flags);
    let (_launchdarkly, driver) = runtime.block_on(starting).expect("the source starts");
    runtime.spawn(driver);

    let mut times = Vec::with_capacity(flips);
    for flip in 0..flips + 20 {
        let on = flip % 2 == 0;
        let started = Instant::now();
        data.update(data.flag("flip").variation_for_all(on));
        while flags.get().flip != on {
            assert!(started.elapsed() < Duration::from_secs(10), "not served");
            std::hint::spin_loop();
        }
        if flip >= 20 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    println!(
        "{flips} changes through TestData, served by Live::get after (µs): p50 {} p90 {} p99 {} max {}",
        us(quantile(&times, 0.5)),
        us(quantile(&times, 0.9)),
        us(quantile(&times, 0.99)),
        us(times[times.len() - 1]),
    );
    println!("audit events kept: {}", flags.audit().len());
}
