//! Generated code names everything by absolute path: it compiles with no prelude and no `use`,
//! next to items that shadow the usual names.
#![no_implicit_prelude]

#[allow(dead_code)]
type Result = ();
#[allow(dead_code)]
type Option = ();
#[allow(dead_code)]
struct String;
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod std {}

#[derive(::flags_core::FlagValue)]
enum Backend {
    Sqlite,
    #[flag_value(alias = "postgres")]
    Postgresql,
}

#[derive(::flags_core::FeatureFlags)]
#[flags(prefix = "APP_", deny_unknown)]
struct Settings {
    /// Enable the thing.
    #[flag(default = false, public, status = "experimental", requires = "TOKEN")]
    enabled: bool,
    #[flag(env = "TOKEN", secret)]
    token: ::core::option::Option<::flags_core::secrecy::SecretString>,
    #[flag(default = Backend::Sqlite)]
    #[flag(when = Backend::Postgresql, requires = "name")]
    backend: Backend,
    #[flag(default = "rose")]
    name: ::std::string::String,
    port: u16,
}

#[test]
fn the_derives_compile_without_a_prelude() {
    let settings = <Settings as ::flags_core::FeatureFlags>::from_iter([
        ("APP_ENABLED", "true"),
        ("APP_BACKEND", "postgres"),
        ("APP_PORT", "80"),
        ("TOKEN", "t"),
    ]);
    let ::core::result::Result::Ok(settings) = settings else {
        ::core::panic!("the settings should load");
    };
    ::core::assert!(settings.enabled);
    ::core::assert!(::core::matches!(settings.backend, Backend::Postgresql));
    ::core::assert_eq!(settings.port, 80);
    ::core::assert_eq!(settings.name, "rose");
    ::core::assert!(settings.token.is_some());
    ::core::assert!(<Settings as ::flags_core::FeatureFlags>::validate(&settings).is_ok());
    let public = <Settings as ::flags_core::FeatureFlags>::public_flags(&settings);
    ::core::assert_eq!(public.len(), 1);
    <Settings as ::flags_core::FeatureFlags>::log_state(&settings);
}
