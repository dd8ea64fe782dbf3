//! `log_state()`: one INFO event per flag with its variable, value, source and status; secrets
//! redacted; a WARN for a flag that is on before its release.

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader};
use flags_tests::capture_logs;

// The same struct in every test, declared in each: its derive is what is under test.
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
    let settings = Loader::new()
        .file(&file)
        .map([("LOG_LEVEL", "debug"), ("WHATSAPP_TOKEN", "t0ken")])
        .snapshot::<Settings>()
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
    let settings = Loader::new()
        .map([
            ("FEATURE_WHATSAPP_ENABLED", "true"),
            ("FEATURE_IMAGE_GENERATION_ENABLED", "true"),
        ])
        .snapshot::<Settings>()
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

/// Where a value came from travels with the load that gave it: two loads of one struct from
/// different sources each log their own, whatever order they were made in.
#[test]
fn two_loads_of_one_struct_each_log_their_own_sources() {
    settings!(Settings);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prod.env");
    std::fs::write(&file, "LOG_LEVEL=warn\nFEATURE_TTS_CACHE_ENABLED=no\n").unwrap();
    let first = Loader::new().file(&file).snapshot::<Settings>().unwrap();
    let second = Loader::new()
        .map([("LOG_LEVEL", "error"), ("FEATURE_TTS_CACHE_ENABLED", "0")])
        .snapshot::<Settings>()
        .unwrap();
    let sources = |settings: &flags_core::Snapshot<Settings>| -> Vec<String> {
        let logs = capture_logs(|| settings.log_state());
        logs.lines()
            .filter(|line| line.starts_with("INFO"))
            .map(|line| line.split(" source=").nth(1).unwrap().to_owned())
            .collect()
    };
    let file = file.display();
    assert_eq!(
        sources(&first),
        [
            "default status=\"frozen\"".to_owned(),
            "default status=\"experimental\"".to_owned(),
            format!(".env file {file} status=\"stable\""),
            "default".to_owned(),
            "default".to_owned(),
            format!(".env file {file}"),
        ]
    );
    assert_eq!(
        sources(&second),
        [
            "default status=\"frozen\"",
            "default status=\"experimental\"",
            "map status=\"stable\"",
            "default",
            "default",
            "map",
        ]
    );
    assert_eq!(first.log_level, "warn");
    assert_eq!(second.log_level, "error");
}

/// A struct on its own (loaded with `from_iter`, or built in code) does not know where its values
/// came from.
#[test]
fn a_struct_without_its_snapshot_logs_its_sources_as_unknown() {
    settings!(Settings);
    let settings = Settings::from_iter([("LOG_LEVEL", "warn")]).unwrap();
    let logs = capture_logs(|| settings.log_state());
    assert_eq!(logs.lines().count(), 6, "{logs}");
    assert!(
        logs.lines().all(|line| line.contains("source=unknown")),
        "{logs}"
    );
}

/// Issue 22: a value set through the admin API forged log lines at the next start, its line
/// breaks and ESC/BEL written raw into the start-up line.
#[test]
fn a_value_cannot_forge_a_log_line_or_drive_the_terminal() {
    settings!(Settings);
    let forged = "debug\n INFO flags: flag ADMIN=granted \u{1b}[2J\u{7}";
    let settings = Loader::new()
        .map([("LOG_LEVEL", forged)])
        .snapshot::<Settings>()
        .unwrap();
    let logs = capture_logs(|| settings.log_state());
    assert_eq!(logs.lines().count(), 6, "{logs}");
    assert!(
        !logs.contains('\u{1b}') && !logs.contains('\u{7}'),
        "{logs:?}"
    );
    let line = logs
        .lines()
        .find(|line| line.contains("flag LOG_LEVEL="))
        .unwrap();
    assert!(
        line.starts_with(
            "INFO flags: flag LOG_LEVEL=debug\\n INFO flags: flag ADMIN=granted \\u{1b}[2J\\u{7} (map)"
        ),
        "{line}"
    );
}
