//! The committed reference (`examples/FLAGS.md`) and `examples/.env.example` are what the
//! renderers make of `Settings` today. Regenerate both with `FLAGS_BLESS=1 cargo test --workspace`.

use std::path::Path;

use flags_core::{FeatureFlags, docs};
use flags_examples::Settings;
use flags_tests::assert_golden;

fn file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn the_committed_reference_is_up_to_date() {
    assert_golden(&file("FLAGS.md"), &docs::markdown(Settings::FLAGS));
}

#[test]
fn the_committed_env_example_is_up_to_date() {
    assert_golden(&file(".env.example"), &docs::env_example(Settings::FLAGS));
}
