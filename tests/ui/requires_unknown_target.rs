use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, requires = ["WHATSAPP_TOKEN", "WHATSAP_PHONE_NUMBER_ID", "SMTP_HOST"])]
    whatsapp_enabled: bool,
    #[flag(env = "WHATSAPP_TOKEN")]
    whatsapp_token: Option<String>,
    #[flag(env = "WHATSAPP_PHONE_NUMBER_ID")]
    whatsapp_phone_number_id: Option<String>,
    #[flag(default = false, requires = ["whatsap_token", "WHATSAP_TOKEN"])]
    other_enabled: bool,
    #[flag(default = false, requires = "loop_enabled")]
    loop_enabled: bool,
}

fn main() {}
