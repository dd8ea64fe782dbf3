use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false)]
    whatsapp_enabled: bool,
    #[flag(env = "FEATURE_WHATSAPP_ENABLED", default = true)]
    whatsapp: bool,
    #[flag(env = "PORT")]
    port: u16,
    #[flag(env = "PORT")]
    admin_port: u16,
}

fn main() {}
