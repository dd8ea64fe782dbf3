//! Rollout and Variants flags in a derived struct: the variable (or `rollout_group`) is the
//! rollout group, decisions reach the public projection only per user, logs show no users.

use flags_core::rollout::{bucket, variant_bucket};
use flags_core::serde_json::Value;
use flags_core::{FeatureFlags, Loader, Rollout, Variants};
use flags_tests::capture_logs;

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    /// The new UI, rolled out gradually.
    #[flag(default = Rollout::new("", 0), public = "new_ui")]
    new_ui: Rollout,
    /// Kept in step with an existing Unleash toggle.
    #[flag(default = Rollout::new("", 0), rollout_group = "checkout-v2")]
    new_checkout: Rollout,
    /// Built in code with a rollout group of its own, which the flag's replaces.
    #[flag(default = Rollout::new("search-2026", 10).allow(["qa-1"]))]
    new_search: Rollout,
    #[flag(default = Variants::new("", &[("control", 500), ("treatment", 500)]), public)]
    button_color: Variants,
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
}

const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

#[test]
fn a_rollout_from_a_variable_is_bucketed_with_that_variable() {
    let settings = Settings::from_iter([("FEATURE_NEW_UI", "30%")]).unwrap();
    assert_eq!(settings.new_ui.rollout_group(), "FEATURE_NEW_UI");
    for user in USERS {
        assert_eq!(
            settings.new_ui.is_enabled_for(user),
            bucket("FEATURE_NEW_UI", user) <= 30,
            "{user}"
        );
    }
}

#[test]
fn rollout_group_names_the_unleash_group_instead() {
    let settings = Settings::from_iter([("FEATURE_NEW_CHECKOUT", "50%")]).unwrap();
    assert_eq!(settings.new_checkout.rollout_group(), "checkout-v2");
    assert_eq!(Settings::FLAGS[1].rollout_group(), "checkout-v2");
    for user in USERS {
        assert_eq!(
            settings.new_checkout.is_enabled_for(user),
            bucket("checkout-v2", user) <= 50
        );
    }
}

/// Copying a default into the variable (as a `.env.example` does) must not move one user.
#[test]
fn a_default_and_the_same_text_in_the_variable_decide_alike() {
    let by_default = Settings::from_iter([("FEATURE_BETA_ENABLED", "1")]).unwrap();
    let by_variable = Settings::from_iter([
        ("FEATURE_NEW_SEARCH", "10%; allow=qa-1"),
        ("FEATURE_BUTTON_COLOR", "control:50,treatment:50"),
    ])
    .unwrap();
    assert_eq!(by_default.new_search, by_variable.new_search);
    assert_eq!(by_default.button_color, by_variable.button_color);
    for index in 0..1000 {
        let user = format!("user-{index}");
        assert_eq!(
            by_default.new_search.is_enabled_for(&user),
            by_variable.new_search.is_enabled_for(&user),
            "{user}"
        );
    }
    assert!(by_default.new_search.is_enabled_for("qa-1"));
}

#[test]
fn defaults_take_the_flags_rollout_group_even_when_built_with_another() {
    let settings = Settings::from_iter([("FEATURE_BETA_ENABLED", "1")]).unwrap();
    assert_eq!(settings.new_ui.rollout_group(), "FEATURE_NEW_UI");
    assert_eq!(settings.new_search.rollout_group(), "FEATURE_NEW_SEARCH");
    assert_eq!(
        settings.button_color.rollout_group(),
        "FEATURE_BUTTON_COLOR"
    );
    for user in USERS {
        let expected = if variant_bucket("FEATURE_BUTTON_COLOR", user, 1000) <= 500 {
            "control"
        } else {
            "treatment"
        };
        assert_eq!(settings.button_color.variant_for(user), expected);
    }
}

#[test]
fn deny_then_allow_then_percentage() {
    let settings =
        Settings::from_iter([("FEATURE_NEW_UI", "100%; allow=alice; deny=bob")]).unwrap();
    assert!(settings.new_ui.is_enabled_for("alice"));
    assert!(!settings.new_ui.is_enabled_for("bob"));
    assert!(settings.new_ui.is_enabled_for("carol"));
    let settings = Settings::from_iter([("FEATURE_NEW_UI", "off; allow=alice")]).unwrap();
    assert!(settings.new_ui.is_enabled_for("alice"));
    assert!(!settings.new_ui.is_enabled_for("carol"));
}

#[test]
fn a_bad_rollout_says_what_is_accepted() {
    let error = Settings::from_iter([("FEATURE_NEW_UI", "half")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_NEW_UI: invalid value \"half\", expected on, off (or true/false, 1/0, yes/no) or a \
         percentage from 0% to 100% such as 25%, optionally followed by clauses such as \
         `; allow=alice,bob` and `; deny=mallory` (from map)"
    );
}

#[test]
fn rollouts_reach_the_public_projection_only_as_one_users_decision() {
    let settings = Settings::from_iter([
        ("FEATURE_NEW_UI", "100%; deny=bob"),
        ("FEATURE_BUTTON_COLOR", "red:0,blue:1"),
    ])
    .unwrap();
    let shared = serde_json::to_value(settings.public_flags()).unwrap();
    assert_eq!(shared, serde_json::json!({ "beta": false }));

    let alice = settings.public_flags_for("alice");
    assert_eq!(alice.get("new_ui"), Some(&Value::Bool(true)));
    assert_eq!(
        alice.get("button_color"),
        Some(&Value::String(String::from("blue")))
    );
    assert_eq!(alice.get("beta"), Some(&Value::Bool(false)));
    let bob = serde_json::to_value(settings.public_flags_for("bob")).unwrap();
    assert_eq!(
        bob,
        serde_json::json!({ "new_ui": false, "button_color": "blue", "beta": false })
    );
}

#[test]
fn logs_show_a_rollouts_percentage_and_list_sizes_but_no_user() {
    #[derive(Debug, FeatureFlags)]
    #[flags(prefix = "FEATURE_")]
    struct Logged {
        #[flag(default = Rollout::new("", 0))]
        new_ui: Rollout,
        #[flag(default = Variants::new("", &[("control", 500), ("treatment", 500)]))]
        button_color: Variants,
    }

    let settings = Loader::new()
        .map([
            (
                "FEATURE_NEW_UI",
                "25%; allow=alice-7f3e,carol-7f3e; deny=bob-7f3e",
            ),
            ("FEATURE_BUTTON_COLOR", "control:90,treatment:10"),
        ])
        .snapshot::<Logged>()
        .unwrap();
    let logs = capture_logs(|| settings.log_state());
    assert!(
        logs.contains("FEATURE_NEW_UI=25% (allow: 2 users, deny: 1 user) (map)"),
        "{logs}"
    );
    assert!(
        logs.contains("FEATURE_BUTTON_COLOR=control:90,treatment:10 (map)"),
        "{logs}"
    );
    assert!(!logs.contains("7f3e"), "{logs}");
}

#[test]
fn a_decision_is_an_exposure_event_without_the_user() {
    let settings = Settings::from_iter([("FEATURE_NEW_UI", "on")]).unwrap();
    let logs = capture_logs(|| {
        settings.public_flags_for("user-8d21");
    });
    assert!(logs.contains("flags::exposure"), "{logs}");
    assert!(logs.contains("flag=\"FEATURE_NEW_UI\""), "{logs}");
    assert!(!logs.contains("user-8d21"), "{logs}");
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct BadDefaults {
    #[flag(default = Rollout::new("", 150))]
    new_ui: Rollout,
    #[flag(default = false)]
    beta_enabled: bool,
}

/// A default built in code that no variable could hold fails the load, as a bad value does; it
/// never panics inside `from_iter`.
#[test]
fn an_invalid_default_is_a_load_problem_not_a_panic() {
    let error = BadDefaults::from_iter([("FEATURE_BETA_ENABLED", "yes")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_NEW_UI: the default, set in the code, is invalid: expected a percentage from 0 to \
         100, not 150"
    );
    // A valid value in the variable replaces the default, which is then never built.
    let loaded = BadDefaults::from_iter([("FEATURE_NEW_UI", "15%")]).unwrap();
    assert_eq!(loaded.new_ui.percentage(), 15);
}

#[test]
fn a_user_both_allowed_and_denied_is_a_warning_at_load() {
    let mut loaded = None;
    let logs = capture_logs(|| {
        loaded = Some(Settings::from_iter([(
            "FEATURE_NEW_UI",
            "25%; allow=qa-1,qa-2; deny=qa-2",
        )]));
    });
    let settings = loaded.unwrap().unwrap();
    assert!(!settings.new_ui.is_enabled_for("qa-2"));
    assert_eq!(
        logs,
        "WARN flags: FEATURE_NEW_UI: 1 user is on both the allow and the deny list, and is off: \
         the deny list decides first (from map) env=\"FEATURE_NEW_UI\"\n"
    );
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct BadVariants {
    #[flag(default = Variants::new("", &[]))]
    button_color: Variants,
}

#[test]
fn invalid_variants_in_a_default_are_a_load_problem_not_a_panic() {
    let error = BadVariants::from_iter([("UNRELATED", "1")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_BUTTON_COLOR: the default, set in the code, is invalid: expected name:weight \
         pairs separated by `,` such as control:50,treatment:50, with unique names and weights in \
         percent with at most one decimal, not all 0 (there are none)"
    );
}
