use flags_core::FlagValue;

#[derive(FlagValue)]
enum Backend {
    Sqlite,
    Postgresql { url: String },
    Custom(String),
}

fn main() {}
