use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "API_TOKEN", secret, live, restart)]
    api_token: Option<SecretString>,
    #[flag(env = "REGION", serde, live)]
    region: String,
}

fn main() {}
