//! `public_flags()`: exactly the `public` flags, under their public names, with typed values.

use std::time::Duration;

use flags_core::secrecy::SecretString;
use flags_core::serde_json::Value;
use flags_core::{FeatureFlags, FlagValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Theme {
    Light,
    Dark,
}

#[derive(Debug, PartialEq, serde_derive::Deserialize, serde_derive::Serialize)]
#[serde(rename_all = "lowercase")]
enum Layout {
    Grid,
    List,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, public = "whatsapp")]
    whatsapp_enabled: bool,
    #[flag(default = true, public = "image_generation")]
    image_generation_enabled: bool,
    #[flag(default = 3, public)]
    max_images: u8,
    #[flag(default = -1, public)]
    offset: i32,
    #[flag(default = 0.25, public)]
    sample_rate: f64,
    #[flag(default = Theme::Dark, public)]
    theme: Theme,
    #[flag(public)]
    banner: Option<String>,
    #[flag(default = vec![1, 2], public)]
    steps: Vec<u16>,
    #[flag(default = Duration::from_secs(90), public)]
    poll_interval: Duration,
    #[flag(serde, default = Layout::Grid, public)]
    layout: Layout,

    // Everything below stays out of the projection.
    #[flag(default = true)]
    rate_limit_enabled: bool,
    #[flag(env = "DATABASE_URL", secret)]
    database_url: Option<SecretString>,
    #[flag(env = "ADMIN_TOKEN", secret)]
    admin_token: Option<SecretString>,
}

#[test]
fn the_projection_holds_exactly_the_public_flags_with_typed_json_values() {
    let settings = Settings::from_iter([
        ("FEATURE_IMAGE_GENERATION_ENABLED", "false"),
        ("DATABASE_URL", "postgresql://user:pass@db/rose"),
        ("ADMIN_TOKEN", "admin"),
        ("FEATURE_LAYOUT", "list"),
    ])
    .unwrap();
    let json = serde_json::to_value(settings.public_flags()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "whatsapp": false,
            "image_generation": false,
            "max_images": 3,
            "offset": -1,
            "sample_rate": 0.25,
            "theme": "dark",
            "banner": null,
            "steps": [1, 2],
            "poll_interval": "1m30s",
            "layout": "list",
        })
    );
}

#[test]
fn nothing_but_public_flags_appears_whatever_the_struct_holds() {
    let settings = Settings::from_iter([
        ("DATABASE_URL", "postgresql://canary-77@db/rose"),
        ("ADMIN_TOKEN", "canary-77"),
        ("FEATURE_RATE_LIMIT_ENABLED", "false"),
    ])
    .unwrap();
    let public = settings.public_flags();
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains("canary-77"), "{text}");
    assert!(!text.contains("rate_limit"), "{text}");
    let names: Vec<&str> = public.iter().map(|(name, _)| name).collect();
    let declared: Vec<&str> = Settings::FLAGS
        .iter()
        .filter_map(|flag| flag.public_name())
        .collect();
    assert_eq!(names, declared);
    assert_eq!(public.get("whatsapp"), Some(&Value::Bool(false)));
    assert_eq!(public.get("rate_limit_enabled"), None);
}

#[derive(Debug, FeatureFlags)]
struct Private {
    #[flag(default = true)]
    enabled: bool,
}

#[test]
fn a_struct_without_public_flags_projects_an_empty_object() {
    let public = Private::from_iter([("ENABLED", "0")])
        .unwrap()
        .public_flags();
    assert!(public.is_empty());
    assert_eq!(serde_json::to_string(&public).unwrap(), "{}");
}

#[derive(Debug, PartialEq, serde_derive::Deserialize, serde_derive::Serialize)]
struct Limits {
    burst: u32,
    per_second: u32,
}

#[derive(Debug, FeatureFlags)]
struct WithLimits {
    #[flag(serde, default = Limits { burst: 20, per_second: 5 }, public)]
    limits: Limits,
}

#[test]
fn a_serde_struct_flag_is_a_json_object_in_the_projection() {
    let public = WithLimits::from_iter(std::iter::empty::<(&str, &str)>())
        .unwrap()
        .public_flags();
    assert_eq!(
        public.get("limits"),
        Some(&serde_json::json!({ "burst": 20, "per_second": 5 }))
    );
}
