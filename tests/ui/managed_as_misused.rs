use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = 4, restart, managed_as = "workers")]
    workers: u32,
    #[flag(env = "API_KEY", secret, managed_as)]
    api_key: Option<String>,
    #[flag(env = "WEBHOOK_SECRET", secret, managed_as = "webhook-secret")]
    webhook_secret: Option<String>,
}

fn main() {}
