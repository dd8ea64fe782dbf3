use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, expires = "2026-02-30")]
    new_checkout_enabled: bool,
    #[flag(default = false, expires = "next spring")]
    new_search_enabled: bool,
    #[flag(default = false, expires = "31/12/2026")]
    dark_mode_enabled: bool,
}

fn main() {}
