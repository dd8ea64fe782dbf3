use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false)]
    #[flag(default = true, secret, secret)]
    enabled: bool,
}

fn main() {}
