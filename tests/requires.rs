//! `requires` and `when`: a flag that is on needs the flags it names, checked at load and by
//! `validate`, every unmet requirement reported with the parse errors in one error.

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, FlagValue, Problem, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum DatabaseType {
    Sqlite,
    Postgresql,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    /// Enable WhatsApp integration.
    #[flag(default = false)]
    #[flag(requires = ["WHATSAPP_PHONE_NUMBER_ID", "whatsapp_token", "WHATSAPP_VERIFY_TOKEN"])]
    whatsapp_enabled: bool,
    #[flag(env = "WHATSAPP_PHONE_NUMBER_ID")]
    whatsapp_phone_number_id: Option<String>,
    #[flag(env = "WHATSAPP_TOKEN", secret)]
    whatsapp_token: Option<SecretString>,
    #[flag(env = "WHATSAPP_VERIFY_TOKEN", secret)]
    whatsapp_verify_token: Option<SecretString>,

    #[flag(default = DatabaseType::Sqlite)]
    #[flag(when = DatabaseType::Postgresql, requires = "DATABASE_URL")]
    database_type: DatabaseType,
    #[flag(env = "DATABASE_URL", secret)]
    database_url: Option<SecretString>,

    #[flag(default = false)]
    #[flag(requires = ["DATABASE_URL_US", "DATABASE_URL_EU", "DATABASE_URL_ASIA"])]
    multi_region_enabled: bool,
    #[flag(env = "DATABASE_URL_US", secret)]
    database_url_us: Option<SecretString>,
    #[flag(env = "DATABASE_URL_EU", secret)]
    database_url_eu: Option<SecretString>,
    #[flag(env = "DATABASE_URL_ASIA", secret)]
    database_url_asia: Option<SecretString>,

    /// A proxy that is on when set, and then needs credentials.
    #[flag(env = "PROXY_URL", requires = "PROXY_TOKEN")]
    proxy_url: Option<String>,
    #[flag(env = "PROXY_TOKEN", secret)]
    proxy_token: Option<SecretString>,

    #[flag(env = "PORT", default = 8080)]
    port: u16,
}

#[test]
fn whatsapp_without_its_variables_is_one_line_naming_all_three() {
    let error = Settings::from_iter([("FEATURE_WHATSAPP_ENABLED", "true")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_WHATSAPP_ENABLED: \"true\" requires WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TOKEN and \
         WHATSAPP_VERIFY_TOKEN, which are not set (from map)"
    );
    match &error.problems()[0] {
        Problem::Unmet {
            flag,
            env,
            missing,
            source,
            ..
        } => {
            assert_eq!(*flag, "whatsapp_enabled");
            assert_eq!(*env, "FEATURE_WHATSAPP_ENABLED");
            assert_eq!(
                *missing,
                [
                    "WHATSAPP_PHONE_NUMBER_ID",
                    "WHATSAPP_TOKEN",
                    "WHATSAPP_VERIFY_TOKEN"
                ]
            );
            assert_eq!(*source, Some(Source::Map));
        }
        other => panic!("expected an unmet requirement, got {other:?}"),
    }
}

/// The value is quoted as the operator wrote it (`yes`, not `true`), so a search of the
/// deployment's files finds it.
#[test]
fn only_the_variables_still_missing_are_named() {
    let error = Settings::from_iter([
        ("FEATURE_WHATSAPP_ENABLED", "yes"),
        ("WHATSAPP_TOKEN", "t"),
        ("WHATSAPP_VERIFY_TOKEN", "  "),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_WHATSAPP_ENABLED: \"yes\" requires WHATSAPP_PHONE_NUMBER_ID and \
         WHATSAPP_VERIFY_TOKEN, which are not set (from map)"
    );
}

#[test]
fn a_flag_that_is_off_requires_nothing() {
    let settings = Settings::from_iter([("FEATURE_WHATSAPP_ENABLED", "false")]).unwrap();
    assert!(!settings.whatsapp_enabled);
    assert!(settings.validate().is_ok());
}

#[test]
fn requirements_met_load_cleanly() {
    let settings = Settings::from_iter([
        ("FEATURE_WHATSAPP_ENABLED", "on"),
        ("WHATSAPP_PHONE_NUMBER_ID", "123"),
        ("WHATSAPP_TOKEN", "token"),
        ("WHATSAPP_VERIFY_TOKEN", "verify"),
        ("FEATURE_DATABASE_TYPE", "postgresql"),
        ("DATABASE_URL", "postgresql://db/rose"),
    ])
    .unwrap();
    assert!(settings.whatsapp_enabled);
    assert_eq!(settings.database_type, DatabaseType::Postgresql);
}

#[test]
fn when_applies_the_requirement_only_to_its_value() {
    assert!(Settings::from_iter([("FEATURE_DATABASE_TYPE", "sqlite")]).is_ok());
    let error = Settings::from_iter([("FEATURE_DATABASE_TYPE", "postgresql")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_DATABASE_TYPE: \"postgresql\" requires DATABASE_URL, which is not set (from map)"
    );
}

#[test]
fn an_option_is_on_when_set() {
    let error = Settings::from_iter([("PROXY_URL", "http://proxy")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "PROXY_URL: \"http://proxy\" requires PROXY_TOKEN, which is not set (from map)"
    );
    assert!(Settings::from_iter([("PROXY_URL", "")]).is_ok());
}

#[test]
fn unmet_requirements_and_parse_errors_are_reported_together() {
    let error = Settings::from_iter([
        ("FEATURE_WHATSAPP_ENABLED", "1"),
        ("FEATURE_MULTI_REGION_ENABLED", "true"),
        ("DATABASE_URL_EU", "postgresql://eu/rose"),
        ("FEATURE_DATABASE_TYPE", "postgresql"),
        ("PORT", "eighty"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        [
            "PORT: invalid value \"eighty\", expected an integer from 0 to 65535 (from map)",
            "FEATURE_WHATSAPP_ENABLED: \"1\" requires WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TOKEN \
             and WHATSAPP_VERIFY_TOKEN, which are not set (from map)",
            "FEATURE_DATABASE_TYPE: \"postgresql\" requires DATABASE_URL, which is not set (from map)",
            "FEATURE_MULTI_REGION_ENABLED: \"true\" requires DATABASE_URL_US and DATABASE_URL_ASIA, \
             which are not set (from map)",
        ]
        .join("\n")
    );
}

#[test]
fn a_flag_whose_value_is_invalid_is_not_also_reported_as_unmet() {
    let error = Settings::from_iter([("FEATURE_WHATSAPP_ENABLED", "perhaps")]).unwrap_err();
    assert_eq!(error.problems().len(), 1, "{error}");
}

#[test]
fn validate_rechecks_a_struct_changed_after_loading() {
    let mut settings = Settings::from_iter([("FEATURE_WHATSAPP_ENABLED", "false")]).unwrap();
    settings.whatsapp_enabled = true;
    settings.whatsapp_phone_number_id = Some(String::from("123"));
    let error = settings.validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_WHATSAPP_ENABLED: \"true\" requires WHATSAPP_TOKEN and WHATSAPP_VERIFY_TOKEN, \
         which are not set"
    );
    settings.whatsapp_token = Some(SecretString::from("t"));
    settings.whatsapp_verify_token = Some(SecretString::from("v"));
    assert!(settings.validate().is_ok());
}

#[derive(Debug, FeatureFlags)]
struct SecretSwitch {
    #[flag(env = "API_KEY", secret, requires = "API_SECRET")]
    api_key: Option<SecretString>,
    #[flag(env = "API_SECRET")]
    api_secret: Option<String>,
}

#[test]
fn the_value_of_a_secret_flag_with_requirements_is_redacted() {
    let error = SecretSwitch::from_iter([("API_KEY", "canary-0b1e")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "API_KEY: <redacted> requires API_SECRET, which is not set (from map)"
    );
    assert!(!format!("{error:?}").contains("canary-0b1e"));
}

#[derive(Debug, PartialEq, serde_derive::Deserialize, serde_derive::Serialize)]
#[serde(rename_all = "lowercase")]
enum Colour {
    Red,
    Green,
}

/// `requires` without `when` on `#[flag(serde)]` fields: on when `Some` (even `Some(false)`), or
/// when `true`.
#[derive(Debug, FeatureFlags)]
struct Theme {
    #[flag(env = "ACCENT", serde, requires = "PALETTE")]
    accent: Option<Colour>,
    #[flag(env = "HIGH_CONTRAST", serde, default = false, requires = "palette")]
    high_contrast: bool,
    #[flag(env = "DIM", serde, requires = "PALETTE")]
    dim: Option<bool>,
    #[flag(env = "PALETTE")]
    palette: Option<String>,
}

#[test]
fn a_serde_option_that_is_set_requires_what_it_names() {
    let error = Theme::from_iter([("ACCENT", "green")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "ACCENT: \"green\" requires PALETTE, which is not set (from map)"
    );
    let theme = Theme::from_iter([("ACCENT", "green"), ("PALETTE", "pastel")]).unwrap();
    assert_eq!(theme.accent, Some(Colour::Green));
}

#[test]
fn a_serde_option_that_is_unset_requires_nothing() {
    let theme = Theme::from_iter([("PALETTE", "")]).unwrap();
    assert_eq!(theme.accent, None);
    assert_eq!(theme.palette, None);
}

#[test]
fn a_serde_bool_requires_what_it_names_only_when_true() {
    let error = Theme::from_iter([("HIGH_CONTRAST", "true")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "HIGH_CONTRAST: \"true\" requires PALETTE, which is not set (from map)"
    );
    assert!(Theme::from_iter([("HIGH_CONTRAST", "false")]).is_ok());
    let theme = Theme {
        accent: Some(Colour::Red),
        high_contrast: false,
        dim: None,
        palette: None,
    };
    assert!(theme.validate().is_err());
}

#[test]
fn a_serde_option_of_false_is_set_and_requires_what_it_names() {
    let error = Theme::from_iter([("DIM", "false")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "DIM: \"false\" requires PALETTE, which is not set (from map)"
    );
    let theme = Theme::from_iter([("DIM", "false"), ("PALETTE", "pastel")]).unwrap();
    assert_eq!(theme.dim, Some(false));
}
