use flags_core::{FeatureFlags, FlagValue};

#[derive(Debug, FlagValue)]
enum DatabaseType {
    Sqlite,
    #[flag_value(renam = "postgres")]
    Postgresql,
}

#[derive(Debug, FeatureFlags)]
struct Database {
    #[flag(default = DatabaseType::Sqlite)]
    database_type: DatabaseType,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(defualt = false)]
    whatsapp_enabled: bool,
}

fn main() {
    let settings = Settings::from_env().unwrap();
    let database = Database::from_iter([("DATABASE_TYPE", "sqlite")]).unwrap();
    println!("{settings:?} {database:?} {}", Settings::FLAGS.len());
    println!("{:?}", DatabaseType::parse_env("sqlite"));
    settings.log_state();
}
