use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefix = FEATURE_, deny_unknown = true)]
struct Settings {
    #[flag(env = 5, secret = true)]
    token: Option<String>,
    #[flag(requires = 1, status)]
    enabled: bool,
    #[flag(default, env = "")]
    port: u16,
    #[flag(requires = [], public = whatsapp)]
    whatsapp: bool,
}

fn main() {}
