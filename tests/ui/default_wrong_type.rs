use std::time::Duration;

use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = 8080)]
    enabled: bool,
    #[flag(default = "30s")]
    timeout: Duration,
}

fn main() {}
