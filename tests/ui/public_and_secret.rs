use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "ADMIN_TOKEN", secret, public = "admin_token")]
    admin_token: Option<String>,
    #[flag(env = "API_TOKEN", public)]
    api_token: Option<SecretString>,
    #[flag(default = false, public = "beta")]
    beta: bool,
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
}

fn main() {}
