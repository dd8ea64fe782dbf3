use std::collections::HashMap;

use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    limits: HashMap<String, u32>,
}

fn main() {}
