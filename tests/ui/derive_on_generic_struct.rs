use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings<T> {
    value: T,
}

fn main() {}
