use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
enum Settings {
    Sqlite,
    Postgresql,
}

fn main() {}
