//! One module per way of loading the 100 flags: its `Mode` enum, its `Settings` struct and a
//! `load` function. Each needs nothing from this crate but `hundred_flags!`, so that
//! `compile.sh` can build it alone.

pub mod confique;
pub mod envconfig;
pub mod envy;
pub mod figment;
pub mod flags;
pub mod hand_written;
