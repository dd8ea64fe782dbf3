use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(FeatureFlags)]
struct Settings {
    // A secret by its type: `live` lets it change live.
    #[flag(env = "API_TOKEN", live)]
    api_token: Option<SecretString>,
    #[flag(default = false, live)]
    beta_enabled: bool,
}

fn main() {}
