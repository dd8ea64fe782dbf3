//! Loads the 100 flags from the map many times with one map loader, for a profiler to see where
//! the time goes (`BENCHMARKS.md` says how to run it under callgrind).
//!
//! `cargo run --release -p flags-benches --example profile -- flags 100000`

use std::hint::black_box;

use flags_benches::loaders::{envconfig, envy, flags, hand_written};
use flags_benches::vars;

fn main() {
    let mut args = std::env::args().skip(1);
    let loader = args.next().unwrap_or_else(|| "flags".to_owned());
    let count: usize = args.next().map_or(10_000, |count| count.parse().unwrap());
    let vars = vars::valid();
    for _ in 0..count {
        let loaded = match loader.as_str() {
            "flags" => flags::load(black_box(&vars)).is_ok(),
            "hand_written" => hand_written::load(black_box(&vars)).is_ok(),
            "envy" => envy::load(black_box(vars.clone())).is_ok(),
            "envconfig" => envconfig::load(black_box(&vars)).is_ok(),
            other => panic!("no map loader {other:?}: flags, hand_written, envy or envconfig"),
        };
        assert!(loaded);
    }
}
