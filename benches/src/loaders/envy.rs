//! serde's derive and envy: `envy::prefixed("APP_").from_iter`, which strips the prefix and
//! lowercases each name to find the field; serde stops at the first bad value.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde_derive::Deserialize)]
#[serde(rename_all = "lowercase")]
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
        // A default function per field, called only for a missing field: a container-level
        // `#[serde(default)]` would build a whole default `Settings` on every load.
        #[derive(Debug, serde_derive::Deserialize)]
        pub struct Settings {
            $(#[serde(default = "default_bool")] pub $bool: bool,)*
            $(#[serde(default = "default_string")] pub $string: String,)*
            $(#[serde(default = "default_count")] pub $count: u32,)*
            $(#[serde(default = "default_mode")] pub $mode: Mode,)*
        }

        fn default_bool() -> bool {
            $bool_default
        }

        fn default_string() -> String {
            $string_default.to_owned()
        }

        fn default_count() -> u32 {
            $count_default
        }

        fn default_mode() -> Mode {
            Mode::$mode_default
        }
    };
}

hundred_flags!(settings);

/// Takes the map by value: envy reads owned pairs.
pub fn load(vars: HashMap<String, String>) -> Result<Settings, envy::Error> {
    envy::prefixed("APP_").from_iter(vars)
}
