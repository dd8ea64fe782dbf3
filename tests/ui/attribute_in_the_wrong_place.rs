use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flag(prefix = "FEATURE_")]
struct Settings {
    #[flags(default = false)]
    enabled: bool,
    #[flag]
    port: u16,
}

fn main() {}
