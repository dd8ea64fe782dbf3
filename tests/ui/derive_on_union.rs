use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
union Settings {
    enabled: bool,
    port: u16,
}

fn main() {}
