use flags_core::{FeatureFlags, Rollout};

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, public = "", status = "")]
    whatsapp_enabled: bool,
    #[flag(default = false, group = " ")]
    rate_limit_enabled: bool,
    #[flag(rollout_group = "")]
    new_checkout: Option<Rollout>,
}

fn main() {}
