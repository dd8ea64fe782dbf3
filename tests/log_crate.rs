//! An application that logs with the `log` crate and installs no tracing subscriber still gets
//! the start-up logging and the load's warnings. A test binary of its own: it installs the
//! process's one logger, and no test here may install a tracing subscriber.

use std::sync::Mutex;

use flags_core::FeatureFlags;
use flags_core::secrecy::SecretString;

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false)]
    whatsapp_enabled: bool,
    #[flag(env = "WHATSAPP_TOKEN")]
    whatsapp_token: Option<SecretString>,
}

/// Every record, as `LEVEL target: message`.
static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        RECORDS.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

#[test]
fn warnings_and_start_up_logging_reach_a_log_logger_without_a_tracing_subscriber() {
    log::set_logger(&Recorder).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let settings = Settings::from_iter([
        ("FEATURE_WHATSAPP_ENABLD", "true"),
        ("WHATSAPP_TOKEN", "canary-51c9"),
    ])
    .unwrap();
    settings.log_state();

    let records = RECORDS.lock().unwrap().clone();
    let flags: Vec<&String> = records
        .iter()
        .filter(|record| record.contains(" flags: "))
        .collect();
    assert_eq!(flags.len(), 3, "{records:#?}");
    assert!(
        flags[0].starts_with(
            "WARN flags: FEATURE_WHATSAPP_ENABLD: no such flag; did you mean \
             FEATURE_WHATSAPP_ENABLED? (from map)"
        ),
        "{records:#?}"
    );
    assert!(
        flags[1].starts_with("INFO flags: flag FEATURE_WHATSAPP_ENABLED=false (unknown)"),
        "{records:#?}"
    );
    assert!(
        flags[2].starts_with("INFO flags: flag WHATSAPP_TOKEN=<redacted> (unknown)"),
        "{records:#?}"
    );
    assert!(!records.concat().contains("canary"), "{records:#?}");
}
