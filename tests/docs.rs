//! Golden tests of the three renderers on a struct that uses every attribute.
//!
//! Refresh the goldens with `FLAGS_BLESS=1 cargo test --workspace`, then review the diff.

use std::path::Path;
use std::time::Duration;

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, FlagValue, Loader, Rollout, Variants, docs};
use flags_tests::assert_golden;

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum DatabaseType {
    Sqlite,
    #[flag_value(alias = "postgres")]
    Postgresql,
}

#[derive(Debug, PartialEq, serde_derive::Deserialize, serde_derive::Serialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Safe,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_", deny_unknown)]
struct Everything {
    /// Enable WhatsApp integration.
    ///
    /// Frozen until the Business account is approved.
    #[flag(
        default = false,
        public = "whatsapp",
        status = "frozen",
        group = "Core"
    )]
    #[flag(requires = ["WHATSAPP_TOKEN", "greeting"], expires = "2027-06-30")]
    whatsapp_enabled: bool,
    /// WhatsApp Cloud API access token.
    #[flag(env = "WHATSAPP_TOKEN", group = "Core")]
    whatsapp_token: Option<SecretString>,
    /// The first message of a conversation.
    #[flag(env = "GREETING", default = "Hello, I'm Rose", group = "Core")]
    greeting: String,
    /// Select database backend for checkpointer.
    #[flag(default = DatabaseType::Sqlite, public, group = "Infrastructure")]
    #[flag(when = DatabaseType::Postgresql, requires = "DATABASE_URL")]
    database_type: DatabaseType,
    /// The primary database.
    #[flag(
        env = "DATABASE_URL",
        secret,
        default = "sqlite://canary-default",
        group = "Infrastructure"
    )]
    database_url: SecretString,
    #[flag(env = "POOL_TIMEOUT", default = Duration::from_millis(1500), group = "Infrastructure")]
    pool_timeout: Duration,
    /// Ports to listen on.
    #[flag(env = "PORTS", default = vec![80, 443])]
    ports: Vec<u16>,
    /// Token of the admin API.
    #[flag(env = "ADMIN_TOKEN", secret)]
    admin_token: SecretString,
    #[flag(env = "MODE", serde, default = Mode::Safe, status = "experimental")]
    mode: Mode,
    /// The new checkout, rolled out to a quarter of users and the QA account.
    #[flag(default = Rollout::new("", 25).allow(["qa-canary-3b"]), rollout_group = "checkout")]
    new_checkout: Rollout,
    /// The checkout button's colour.
    #[flag(default = Variants::new("", &[("blue", 500), ("green", 500)]), public)]
    button_color: Variants,
}

fn golden(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name)
}

#[test]
fn markdown_reference_matches_its_golden_file() {
    assert_golden(&golden("reference.md"), &docs::markdown(Everything::FLAGS));
}

#[test]
fn env_example_matches_its_golden_file() {
    assert_golden(
        &golden("env.example"),
        &docs::env_example(Everything::FLAGS),
    );
}

#[test]
fn json_matches_its_golden_file() {
    assert_golden(&golden("flags.json"), &docs::json(Everything::FLAGS));
}

#[test]
fn every_renderer_shows_a_rollouts_list_sizes_but_no_user() {
    for rendered in [
        docs::markdown(Everything::FLAGS),
        docs::json(Everything::FLAGS),
        docs::env_example(Everything::FLAGS),
    ] {
        assert!(rendered.contains("25% (allow: 1 user)"), "{rendered}");
        assert!(!rendered.contains("qa-canary-3b"), "{rendered}");
    }
    // The .env.example leaves the variable empty, which keeps the default (the test below loads
    // it back).
    assert!(docs::env_example(Everything::FLAGS).contains("\nFEATURE_NEW_CHECKOUT=\n"));
}

#[test]
fn no_renderer_shows_a_secret_default() {
    for rendered in [
        docs::markdown(Everything::FLAGS),
        docs::env_example(Everything::FLAGS),
        docs::json(Everything::FLAGS),
    ] {
        assert!(!rendered.contains("canary-default"), "{rendered}");
    }
}

#[test]
fn the_env_example_loads_back_to_every_default_once_required_values_are_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env.example");
    std::fs::write(&file, docs::env_example(Everything::FLAGS)).unwrap();
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<Everything>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "ADMIN_TOKEN: required, but set to an empty value and has no default (from .env \
             file {})",
            file.display()
        )
    );
    let loaded: Everything = Loader::new()
        .file(&file)
        .map([("ADMIN_TOKEN", "admin")])
        .strict()
        .load()
        .unwrap();
    assert_eq!(loaded.greeting, "Hello, I'm Rose");
    assert_eq!(loaded.pool_timeout, Duration::from_millis(1500));
    assert_eq!(loaded.ports, [80, 443]);
    assert_eq!(loaded.database_type, DatabaseType::Sqlite);
    assert_eq!(loaded.mode, Mode::Safe);
    assert!(loaded.new_checkout.is_enabled_for("qa-canary-3b"));
    assert_eq!(loaded.new_checkout.rollout_group(), "checkout");
}
