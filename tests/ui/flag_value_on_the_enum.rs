use flags_core::FlagValue;

#[derive(FlagValue)]
#[flag_value(rename = "database")]
enum DatabaseType {
    Sqlite,
    Postgresql,
}

fn main() {}
