use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = Some(3))]
    replicas: Option<u8>,
}

fn main() {}
