use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, requires = ["TOKEN", "token", "PHONE_NUMBER_ID", "TOKEN"])]
    whatsapp_enabled: bool,
    #[flag(env = "TOKEN", secret)]
    token: Option<String>,
    #[flag(env = "PHONE_NUMBER_ID")]
    phone_number_id: Option<String>,
}

fn main() {}
