use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "API_TOKEN", public)]
    api_token: Option<SecretString>,
}

fn main() {}
