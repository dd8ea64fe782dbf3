//! Lifecycle: `expires = "YYYY-MM-DD"`, reported when past, and a check for CI.

use flags_core::{FeatureFlags, lifecycle};
use flags_tests::capture_logs;

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = true, expires = "2026-01-31", status = "rolled out")]
    new_checkout_enabled: bool,
    #[flag(default = false, expires = "2099-06-30")]
    new_search_enabled: bool,
    #[flag(default = false)]
    dark_mode_enabled: bool,
}

#[test]
fn a_flag_past_its_date_is_expired_and_one_before_it_is_not() {
    let expired: Vec<&str> = lifecycle::expired(Settings::FLAGS, "2026-11-25")
        .iter()
        .map(|flag| flag.env())
        .collect();
    assert_eq!(expired, ["FEATURE_NEW_CHECKOUT_ENABLED"]);
    assert!(lifecycle::expired(Settings::FLAGS, "2026-01-31").is_empty());
    assert_eq!(lifecycle::expired(Settings::FLAGS, "2099-07-01").len(), 2);
}

// The check's message as of a fixed date is tested beside it, in flags-core's lifecycle module.

/// Reads today's date: the flag that expired in January 2026 is past it, and the one that expires
/// in 2099 is not, whenever the test runs.
#[test]
fn the_check_fails_today_naming_the_flags_expired_by_now() {
    let error = lifecycle::check(Settings::FLAGS).unwrap_err();
    let expired: Vec<&str> = error.flags().iter().map(|flag| flag.env).collect();
    assert_eq!(expired, ["FEATURE_NEW_CHECKOUT_ENABLED"]);
    assert!(
        error.to_string().starts_with("1 flag expired before 20"),
        "{error}"
    );
}

/// Reads today's date: the flag that expired in January 2026 is past it, and the one that expires
/// in 2099 is not, whenever the test runs.
#[test]
fn an_expired_flag_is_a_warning_at_startup() {
    let settings = Settings::from_iter([("FEATURE_DARK_MODE_ENABLED", "1")]).unwrap();
    let logs = capture_logs(|| settings.log_state());
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.starts_with("WARN"))
        .collect();
    assert_eq!(
        warnings,
        [
            "WARN flags: flag FEATURE_NEW_CHECKOUT_ENABLED expired on 2026-01-31: remove it from the \
          code flag=\"new_checkout_enabled\" env=\"FEATURE_NEW_CHECKOUT_ENABLED\" \
          expires=\"2026-01-31\""
        ]
    );
}
