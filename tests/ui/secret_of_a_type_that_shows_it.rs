use flags_core::FeatureFlags;

#[derive(Debug, FeatureFlags)]
struct Settings {
    #[flag(env = "DATABASE_PASSWORD", secret)]
    database_password: Option<String>,
    #[flag(env = "PIN", secret)]
    pin: u32,
    #[flag(env = "PORTS", serde, secret)]
    ports: Vec<u16>,
}

fn main() {}
