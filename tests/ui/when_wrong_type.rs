use flags_core::{FeatureFlags, FlagValue};

#[derive(FlagValue)]
enum DatabaseType {
    Sqlite,
    Postgresql,
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = DatabaseType::Sqlite)]
    #[flag(when = "postgresql", requires = "DATABASE_URL")]
    database_type: DatabaseType,
    #[flag(default = 1)]
    #[flag(when = true, requires = "DATABASE_URL")]
    replicas: u8,
    #[flag(env = "DATABASE_URL")]
    database_url: Option<String>,
}

fn main() {}
