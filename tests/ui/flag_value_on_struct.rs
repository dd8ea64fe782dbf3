use flags_core::FlagValue;

#[derive(FlagValue)]
struct Backend {
    name: String,
}

fn main() {}
