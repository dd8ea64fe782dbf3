//! Benchmarks of flags against the crates a service could use instead: one struct of 100 flags,
//! generated for each crate from one list (`fields.rs`) and loaded from one map (`vars.rs`).
//!
//! `cargo bench -p flags-benches` times the loaders (`benches/load.rs`) and a live change against a
//! load (`benches/apply.rs`); `benches/compile.sh` measures what each costs to build. `BENCHMARKS.md` at the repository root has the figures.

#[macro_use]
mod fields;
pub mod loaders;
pub mod vars;

#[cfg(test)]
mod tests;
