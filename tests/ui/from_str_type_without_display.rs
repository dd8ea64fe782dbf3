use flags_core::FeatureFlags;

/// Parses, but cannot be written back.
pub struct Version(u32);

impl std::str::FromStr for Version {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(Version)
    }
}

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "API_VERSION", from_str)]
    api_version: Version,
}

fn main() {}
