//! Loads the 100 flags from the map many times with one map loader, or applies as many live
//! changes to them (`flags_apply`), for a profiler to see where the time goes (`BENCHMARKS.md`
//! says how to run it under callgrind).
//!
//! `cargo run --release -p flags-benches --example profile -- flags 100000`

use std::hint::black_box;

use flags_benches::loaders::{envconfig, envy, flags, hand_written};
use flags_benches::vars;
use flags_core::Loader;
use flags_core::live::Live;

fn main() {
    let mut args = std::env::args().skip(1);
    let loader = args.next().unwrap_or_else(|| "flags".to_owned());
    let count: usize = args.next().map_or(10_000, |count| count.parse().unwrap());
    let vars = vars::valid();
    if loader == "flags_apply" {
        return apply(&vars, count);
    }
    for _ in 0..count {
        let loaded = match loader.as_str() {
            "flags" => flags::load(black_box(&vars)).is_ok(),
            "hand_written" => hand_written::load(black_box(&vars)).is_ok(),
            "envy" => envy::load(black_box(vars.clone())).is_ok(),
            "envconfig" => envconfig::load(black_box(&vars)).is_ok(),
            other => panic!(
                "no map loader {other:?}: flags, hand_written, envy, envconfig or flags_apply"
            ),
        };
        assert!(loaded);
    }
}

/// `count` changes of one bool flag, alternately `false` and `true`, as `benches/apply.rs` times
/// them.
fn apply(vars: &std::collections::HashMap<String, String>, count: usize) {
    let live = Live::<flags::Settings>::builder()
        .without_tracing_audit()
        .load(Loader::new().map(vars))
        .unwrap();
    for index in 0..count {
        let value = if index.is_multiple_of(2) {
            "false"
        } else {
            "true"
        };
        live.apply([("APP_FLAG_000", black_box(value))], "bench")
            .unwrap();
    }
}
