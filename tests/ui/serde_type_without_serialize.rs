use flags_core::FeatureFlags;

#[derive(Debug, serde_derive::Deserialize)]
enum Colour {
    Red,
    Green,
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(serde)]
    accent: Option<Colour>,
}

fn main() {}
