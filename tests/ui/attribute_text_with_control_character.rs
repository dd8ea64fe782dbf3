use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, status = "frozen
until Q3")]
    whatsapp_enabled: bool,
    #[flag(default = false, group = "Core\tflags")]
    image_generation_enabled: bool,
}

fn main() {}
