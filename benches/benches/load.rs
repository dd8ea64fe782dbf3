//! Loading one struct of 100 flags (60 bool, 20 String, 10 u32, 10 enum) with flags and with the
//! crates a service could use instead, from the same variables; then the same variables with ten
//! bad values, where flags reports all ten and every other crate one (see `src/tests.rs`).
//!
//! `cargo bench -p flags-benches -- --warm-up-time 1 --measurement-time 3`; BENCHMARKS.md at the
//! repository root has the figures and what they mean.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, BenchmarkGroup, Criterion, measurement::WallTime};
use flags_benches::loaders::{confique, envconfig, envy, figment, flags, hand_written};
use flags_benches::vars::{self, PREFIX};

/// The prefix of the ten-bad-values copy of the variables in the process environment, for figment.
const BAD_PREFIX: &str = "BAD_";

/// Set in the child process that runs the benchmarks.
const CHILD: &str = "FLAGS_BENCH_CHILD";

fn main() {
    if std::env::var_os(CHILD).is_none() {
        run_with_variables_in_the_environment();
    }
    check_environment_loaders_read_what_flags_reads();
    let mut criterion = Criterion::default().configure_from_args();
    load_100_flags(&mut criterion);
    load_100_flags_with_10_bad_values(&mut criterion);
    criterion.final_summary();
}

/// confique and figment read only the process environment, so the benchmarks run in a child
/// process started with the variables in its environment (by `Command`: no process changes its
/// own environment), with this process's arguments; its exit status is this one's.
fn run_with_variables_in_the_environment() -> ! {
    let bad = vars::with_ten_bad_values()
        .into_iter()
        .map(|(name, value)| (name.replacen(PREFIX, BAD_PREFIX, 1), value));
    let status = std::env::current_exe()
        .and_then(|benchmarks| {
            std::process::Command::new(benchmarks)
                .args(std::env::args_os().skip(1))
                .envs(vars::valid().into_iter().chain(bad))
                .env(CHILD, "1")
                .status()
        })
        .unwrap_or_else(|error| panic!("cannot start the benchmarks' child process: {error}"));
    std::process::exit(status.code().unwrap_or(1));
}

/// The tests compare the map loaders; this compares the two that need the environment.
fn check_environment_loaders_read_what_flags_reads() {
    let expected = format!("{:?}", flags::load(&vars::valid()).unwrap());
    let confique = format!("{:?}", confique::load_from_env().unwrap());
    let figment = format!("{:?}", figment::load_from_env(PREFIX).unwrap());
    assert_eq!(confique, expected, "confique reads other values than flags");
    assert_eq!(figment, expected, "figment reads other values than flags");
    assert!(figment::load_from_env(BAD_PREFIX).is_err());
}

fn load_100_flags(criterion: &mut Criterion) {
    let vars = vars::valid();
    let mut group = criterion.benchmark_group("load_100_flags");
    map_loaders(&mut group, &vars);
    bench(
        &mut group,
        "confique_env",
        || (),
        |()| confique::load_from_env(),
    );
    bench(
        &mut group,
        "figment_env",
        || (),
        |()| figment::load_from_env(PREFIX),
    );
    group.finish();
}

fn load_100_flags_with_10_bad_values(criterion: &mut Criterion) {
    let vars = vars::with_ten_bad_values();
    let mut group = criterion.benchmark_group("load_100_flags_10_bad");
    map_loaders(&mut group, &vars);
    // confique is left out: its variables' names are fixed in its struct, and the environment
    // holds their valid values. Like envconfig it reports the first bad flag in declaration order
    // (its generated `Layer::from_env` returns at the first error).
    bench(
        &mut group,
        "figment_env",
        || (),
        |()| figment::load_from_env(BAD_PREFIX),
    );
    group.finish();
}

/// The four loaders that read a map, each from `vars`.
fn map_loaders(group: &mut BenchmarkGroup<'_, WallTime>, vars: &HashMap<String, String>) {
    bench(group, "flags", || (), |()| flags::load(vars));
    bench(group, "hand_written", || (), |()| hand_written::load(vars));
    bench(group, "envy", || vars.clone(), envy::load);
    bench(group, "envconfig", || (), |()| envconfig::load(vars));
}

/// Times `load` alone: the input (envy's owned copy of the map) is made, and the result dropped,
/// outside the timed section, the same way for every crate.
fn bench<I, O>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut input: impl FnMut() -> I,
    mut load: impl FnMut(I) -> O,
) {
    group.bench_function(name, |bencher| {
        bencher.iter_batched(
            &mut input,
            |input| load(black_box(input)),
            BatchSize::SmallInput,
        )
    });
}
