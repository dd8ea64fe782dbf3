use flags_core::{FeatureFlags, FlagValue};

#[derive(FlagValue)]
enum DatabaseType {
    Sqlite,
    Postgresql,
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = DatabaseType::Sqlite, requires = "DATABASE_URL")]
    database_type: DatabaseType,
    #[flag(env = "DATABASE_URL")]
    database_url: Option<String>,
}

fn main() {}
