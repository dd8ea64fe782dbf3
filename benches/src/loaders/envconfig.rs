//! envconfig: `#[derive(Envconfig)]` with each variable and default (as text) written out, loaded
//! with `init_from_hashmap`; `str::parse` per field, stopping at the first bad value.

use std::collections::HashMap;
use std::str::FromStr;

use envconfig::Envconfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Alpha,
    Beta,
    Gamma,
}

impl FromStr for Mode {
    type Err = UnknownMode;

    /// Ignores case, as flags' `#[derive(FlagValue)]` does.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            ("alpha", Self::Alpha),
            ("beta", Self::Beta),
            ("gamma", Self::Gamma),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, mode)| mode)
        .ok_or(UnknownMode)
    }
}

#[derive(Debug)]
pub struct UnknownMode;

macro_rules! settings {
    (
        bools { default: $bool_default:tt, text: $bool_text:tt } [$($bool:ident = $bool_env:tt,)*]
        strings { default: $string_default:tt, text: $string_text:tt } [$($string:ident = $string_env:tt,)*]
        counts { default: $count_default:tt, text: $count_text:tt } [$($count:ident = $count_env:tt,)*]
        modes { default: $mode_default:ident, text: $mode_text:tt } [$($mode:ident = $mode_env:tt,)*]
    ) => {
        #[derive(Debug, Envconfig)]
        pub struct Settings {
            $(#[envconfig(from = $bool_env, default = $bool_text)] pub $bool: bool,)*
            $(#[envconfig(from = $string_env, default = $string_text)] pub $string: String,)*
            $(#[envconfig(from = $count_env, default = $count_text)] pub $count: u32,)*
            $(#[envconfig(from = $mode_env, default = $mode_text)] pub $mode: Mode,)*
        }
    };
}

hundred_flags!(settings);

pub fn load(vars: &HashMap<String, String>) -> Result<Settings, envconfig::Error> {
    Settings::init_from_hashmap(vars)
}
