use flags_core::FlagValue;

#[derive(FlagValue)]
enum Backend {
    #[flag_value(alias = "pg")]
    Postgresql,
    #[flag_value(rename = "PG")]
    Postgres,
    #[flag_value(alias = "a,b", renam = "c")]
    Other,
    #[flag_value(alias = "sqlite3")]
    Sqlite,
    #[flag_value(alias = "PostgreSQL")]
    Cockroach,
    Sqlite3,
}

fn main() {}
