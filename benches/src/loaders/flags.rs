//! flags: `#[derive(FeatureFlags)]`, loaded from the map with `from_iter`; every problem at once.

use std::collections::HashMap;

use flags_core::{FeatureFlags, FlagValue, FlagsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
pub enum Mode {
    Alpha,
    Beta,
    Gamma,
}

macro_rules! settings {
    (
        bools { default: $bool_default:tt, text: $bool_text:tt } [$($bool:ident = $bool_env:tt,)*]
        strings { default: $string_default:tt, text: $string_text:tt } [$($string:ident = $string_env:tt,)*]
        counts { default: $count_default:tt, text: $count_text:tt } [$($count:ident = $count_env:tt,)*]
        modes { default: $mode_default:ident, text: $mode_text:tt } [$($mode:ident = $mode_env:tt,)*]
    ) => {
        /// The 100 flags; each variable is `APP_` and the field's name in upper case.
        #[derive(Debug, FeatureFlags)]
        #[flags(prefix = "APP_")]
        pub struct Settings {
            $(#[flag(default = $bool_default)] pub $bool: bool,)*
            $(#[flag(default = $string_default)] pub $string: String,)*
            $(#[flag(default = $count_default)] pub $count: u32,)*
            $(#[flag(default = Mode::$mode_default)] pub $mode: Mode,)*
        }
    };
}

hundred_flags!(settings);

pub fn load(vars: &HashMap<String, String>) -> Result<Settings, FlagsError> {
    Settings::from_iter(vars)
}
