use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, live)]
    beta_enabled: bool,
    #[flag(env = "API_TOKEN", secret, live, restart)]
    api_token: Option<SecretString>,
}

fn main() {}
