use flags_core::{FeatureFlags, FlagValue};

#[derive(FlagValue)]
enum Backend {
    Sqlite,
    Postgresql,
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = Backend::Sqlite, when = Backend::Postgresql)]
    backend: Backend,
}

fn main() {}
