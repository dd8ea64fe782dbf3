use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "DATABASE-URL")]
    database_url: Option<String>,
    #[flag(env = "3SCALE_TOKEN")]
    token: Option<String>,
    #[flag(env = "LOG LEVEL")]
    log_level: Option<String>,
    #[flag(env = "API\nKEY")]
    api_key: Option<String>,
    größe: Option<u32>,
}

fn main() {}
