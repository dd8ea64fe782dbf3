use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
#[flags(prefx = "FEATURE_")]
struct Settings {
    #[flag(defualt = false)]
    enabled: bool,
    #[flag(default = 1, colour = "red")]
    retries: u8,
}

fn main() {}
