use flags_core::{FeatureFlags, FlagValue};

#[derive(FlagValue)]
enum DatabaseType {
    Sqlite,
    Postgresql,
}

#[derive(serde_derive::Deserialize, serde_derive::Serialize)]
enum Colour {
    Red,
    Green,
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = DatabaseType::Sqlite, requires = "DATABASE_URL")]
    database_type: DatabaseType,
    #[flag(env = "DATABASE_URL")]
    database_url: Option<String>,
    #[flag(serde, default = Colour::Red, requires = "PALETTE")]
    accent: Colour,
    #[flag(env = "PALETTE")]
    palette: Option<String>,
}

fn main() {}
