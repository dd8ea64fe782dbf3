//! `log_state()`: one INFO event per flag with its variable, value, source and status; secrets
//! redacted; a WARN for a flag that is on before its release.

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader};
use flags_tests::capture_logs;

// Each test loads its own struct: log_state reports the sources of the last load of a struct,
// and tests run in parallel.
macro_rules! settings {
    ($name:ident) => {
        #[derive(Debug, FeatureFlags)]
        #[flags(prefix = "FEATURE_")]
        struct $name {
            /// Enable WhatsApp integration.
            #[flag(default = false, status = "frozen")]
            whatsapp_enabled: bool,
            #[flag(default = false, status = "experimental")]
            image_generation_enabled: bool,
            #[flag(default = true, status = "stable")]
            tts_cache_enabled: bool,
            #[flag(env = "WHATSAPP_TOKEN", secret)]
            whatsapp_token: Option<SecretString>,
            #[flag(env = "DATABASE_URL")]
            database_url: Option<SecretString>,
            #[flag(env = "LOG_LEVEL", default = "info")]
            log_level: String,
        }
    };
}

#[test]
fn each_flag_is_one_info_event_with_its_source() {
    settings!(Settings);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prod.env");
    std::fs::write(&file, "FEATURE_TTS_CACHE_ENABLED=false\n").unwrap();
    let settings: Settings = Loader::new()
        .file(&file)
        .map([("LOG_LEVEL", "debug"), ("WHATSAPP_TOKEN", "t0ken")])
        .load()
        .unwrap();
    let logs = capture_logs(|| settings.log_state());
    let file = file.display();
    let expected = [
        "INFO flags: flag FEATURE_WHATSAPP_ENABLED=false (default) flag=\"whatsapp_enabled\" env=\"FEATURE_WHATSAPP_ENABLED\" value=false source=default status=\"frozen\"".to_owned(),
        "INFO flags: flag FEATURE_IMAGE_GENERATION_ENABLED=false (default) flag=\"image_generation_enabled\" env=\"FEATURE_IMAGE_GENERATION_ENABLED\" value=false source=default status=\"experimental\"".to_owned(),
        format!("INFO flags: flag FEATURE_TTS_CACHE_ENABLED=false (.env file {file}) flag=\"tts_cache_enabled\" env=\"FEATURE_TTS_CACHE_ENABLED\" value=false source=.env file {file} status=\"stable\""),
        "INFO flags: flag WHATSAPP_TOKEN=<redacted> (map) flag=\"whatsapp_token\" env=\"WHATSAPP_TOKEN\" value=<redacted> source=map".to_owned(),
        "INFO flags: flag DATABASE_URL=<unset> (default) flag=\"database_url\" env=\"DATABASE_URL\" value=<unset> source=default".to_owned(),
        "INFO flags: flag LOG_LEVEL=debug (map) flag=\"log_level\" env=\"LOG_LEVEL\" value=debug source=map".to_owned(),
    ];
    assert_eq!(logs.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn a_flag_that_is_on_before_its_release_gets_a_warning() {
    settings!(Settings);
    let settings = Settings::from_iter([
        ("FEATURE_WHATSAPP_ENABLED", "true"),
        ("FEATURE_IMAGE_GENERATION_ENABLED", "true"),
    ])
    .unwrap();
    let logs = capture_logs(|| settings.log_state());
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.starts_with("WARN"))
        .collect();
    assert_eq!(
        warnings,
        [
            "WARN flags: flag FEATURE_WHATSAPP_ENABLED is on, but its status is frozen: it is not released yet flag=\"whatsapp_enabled\" env=\"FEATURE_WHATSAPP_ENABLED\" value=true source=map status=\"frozen\"",
            "WARN flags: flag FEATURE_IMAGE_GENERATION_ENABLED is on, but its status is experimental: it is not released yet flag=\"image_generation_enabled\" env=\"FEATURE_IMAGE_GENERATION_ENABLED\" value=true source=map status=\"experimental\"",
        ]
    );
    assert_eq!(
        logs.lines().filter(|line| line.starts_with("INFO")).count(),
        6
    );
}

#[test]
fn a_struct_that_was_never_loaded_logs_its_sources_as_unknown() {
    settings!(Settings);
    let settings = Settings {
        whatsapp_enabled: false,
        image_generation_enabled: false,
        tts_cache_enabled: true,
        whatsapp_token: None,
        database_url: None,
        log_level: String::from("info"),
    };
    let logs = capture_logs(|| settings.log_state());
    assert!(
        logs.lines().all(|line| line.contains("source=unknown")),
        "{logs}"
    );
}

/// The record of sources belongs to the last load of the struct: a value that is not what that
/// load gave its flag (changed in code, or from an earlier load) is not credited to its source.
#[test]
fn a_value_that_is_not_the_last_loads_is_not_credited_to_its_source() {
    settings!(Settings);
    let mut first = Settings::from_iter([
        ("LOG_LEVEL", "warn"),
        ("FEATURE_TTS_CACHE_ENABLED", "no"),
        ("FEATURE_WHATSAPP_ENABLED", "off"),
    ])
    .unwrap();
    let _second =
        Settings::from_iter([("LOG_LEVEL", "error"), ("FEATURE_TTS_CACHE_ENABLED", "0")]).unwrap();
    first.image_generation_enabled = true;
    let logs = capture_logs(|| first.log_state());
    let sources: Vec<&str> = logs
        .lines()
        .filter(|line| line.starts_with("INFO"))
        .map(|line| line.split(" source=").nth(1).unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            // "off" in the first load, unset in the last: the same value as the default.
            "default status=\"frozen\"",
            "changed since the last load status=\"experimental\"",
            // "no" and "0" load the same value.
            "map status=\"stable\"",
            "default",
            "default",
            "changed since the last load",
        ]
    );
}
