//! The floor: one `HashMap` look-up and one `str::parse` per field, as a person would write it
//! without a crate; it stops at the first bad value.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

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

/// The variable whose value could not be parsed.
#[derive(Debug)]
pub struct BadValue {
    pub env: &'static str,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: invalid value", self.env)
    }
}

fn var<T: FromStr>(
    vars: &HashMap<String, String>,
    env: &'static str,
    default: impl FnOnce() -> T,
) -> Result<T, BadValue> {
    match vars.get(env) {
        Some(text) => text.parse().map_err(|_| BadValue { env }),
        None => Ok(default()),
    }
}

macro_rules! settings {
    (
        bools { default: $bool_default:tt, text: $bool_text:tt } [$($bool:ident = $bool_env:tt,)*]
        strings { default: $string_default:tt, text: $string_text:tt } [$($string:ident = $string_env:tt,)*]
        counts { default: $count_default:tt, text: $count_text:tt } [$($count:ident = $count_env:tt,)*]
        modes { default: $mode_default:ident, text: $mode_text:tt } [$($mode:ident = $mode_env:tt,)*]
    ) => {
        #[derive(Debug)]
        pub struct Settings {
            $(pub $bool: bool,)*
            $(pub $string: String,)*
            $(pub $count: u32,)*
            $(pub $mode: Mode,)*
        }

        pub fn load(vars: &HashMap<String, String>) -> Result<Settings, BadValue> {
            Ok(Settings {
                $($bool: var(vars, $bool_env, || $bool_default)?,)*
                $($string: var(vars, $string_env, || $string_default.to_owned())?,)*
                $($count: var(vars, $count_env, || $count_default)?,)*
                $($mode: var(vars, $mode_env, || Mode::$mode_default)?,)*
            })
        }
    };
}

hundred_flags!(settings);
