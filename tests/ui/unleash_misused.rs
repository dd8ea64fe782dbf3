use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = 4, restart, unleash = "workers")]
    workers: u32,
    #[flag(env = "API_KEY", secret, unleash)]
    api_key: Option<String>,
    #[flag(env = "WEBHOOK_SECRET", secret, unleash = "webhook-secret")]
    webhook_secret: Option<String>,
}

fn main() {}
