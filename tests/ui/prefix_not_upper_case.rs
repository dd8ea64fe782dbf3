use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefix = "feature_")]
struct Settings {
    whatsapp_enabled: bool,
}

#[derive(FeatureFlags)]
#[flags(prefix = "my-app.")]
struct Other {
    enabled: bool,
}

#[derive(FeatureFlags)]
#[flags(prefix = "2FA_")]
struct Login {
    enabled: bool,
}

fn main() {}
