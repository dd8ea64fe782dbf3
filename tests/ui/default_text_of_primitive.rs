use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = "true")]
    enabled: bool,
    #[flag(default = "8080")]
    port: u16,
}

fn main() {}
