//! confique: `#[derive(Config)]` with each variable written out, loaded with
//! `builder().env().load()`, which reads the process environment (it cannot read a map) and stops
//! at the first bad value.

use confique::Config;

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
        // confique's defaults are literals deserialized into the field: an enum's is its name.
        #[derive(Debug, Config)]
        pub struct Settings {
            $(#[config(env = $bool_env, default = $bool_default)] pub $bool: bool,)*
            $(#[config(env = $string_env, default = $string_default)] pub $string: String,)*
            $(#[config(env = $count_env, default = $count_default)] pub $count: u32,)*
            $(#[config(env = $mode_env, default = $mode_text)] pub $mode: Mode,)*
        }
    };
}

hundred_flags!(settings);

pub fn load_from_env() -> Result<Settings, confique::Error> {
    Settings::builder().env().load()
}
