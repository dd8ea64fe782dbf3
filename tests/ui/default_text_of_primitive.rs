use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = "true")]
    enabled: bool,
    #[flag(default = "8080")]
    port: u16,
    #[flag(default = "yes")]
    cache_enabled: bool,
    #[flag(default = "Off")]
    docs_enabled: bool,
    #[flag(default = "maybe")]
    beta_enabled: bool,
    #[flag(default = "lots")]
    workers: u32,
}

fn main() {}
