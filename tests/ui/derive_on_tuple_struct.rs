use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings(bool, u16);

fn main() {}
