//! One flag evaluated for one context, as OpenFeature's providers and the OFREP server answer:
//! the same value `is_enabled_for` and `variant_for` give, with a reason that says what decided
//! it; secrets never evaluated.

use flags_core::evaluate::{Reason, Unevaluated};
use flags_core::secrecy::SecretString;
use flags_core::serde_json::{Value, json};
use flags_core::{FeatureFlags, Loader, Rollout, Snapshot, Variants};

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = Rollout::new("", 0), public = "new_ui")]
    new_ui: Rollout,
    #[flag(default = Variants::new("", &[("classic", 1000)]), public = "greeting_style")]
    greeting_style: Variants,
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
    #[flag(default = 3)]
    retries: u32,
    #[flag(env = "SUPPORT_EMAIL")]
    support_email: Option<String>,
    #[flag(env = "API_TOKEN", secret)]
    api_token: Option<SecretString>,
}

fn load(vars: &[(&str, &str)]) -> Snapshot<Settings> {
    Loader::new()
        .map(vars.iter().copied())
        .snapshot::<Settings>()
        .unwrap()
}

fn users() -> impl Iterator<Item = String> {
    (0..500).map(|n| format!("user-{n}"))
}

#[test]
fn a_split_rollout_answers_each_user_as_is_enabled_for_does() {
    let flags = load(&[("FEATURE_NEW_UI", "30%; allow=vip; deny=mallory")]);
    let mut split = 0;
    for user in users() {
        let evaluation = flags.evaluate("FEATURE_NEW_UI", Some(&user)).unwrap();
        assert_eq!(
            evaluation.value,
            flags.new_ui.is_enabled_for(&user),
            "{user}"
        );
        assert_eq!(evaluation.reason, Reason::Split, "{user}");
        assert_eq!(evaluation.variant, None);
        split += usize::from(evaluation.value == true);
    }
    assert!((100..200).contains(&split), "{split} of 500 users at 30%");
    let vip = flags.evaluate("FEATURE_NEW_UI", Some("vip")).unwrap();
    assert_eq!(
        (vip.value, vip.reason),
        (json!(true), Reason::TargetingMatch)
    );
    let mallory = flags.evaluate("FEATURE_NEW_UI", Some("mallory")).unwrap();
    assert_eq!(
        (mallory.value, mallory.reason),
        (json!(false), Reason::TargetingMatch)
    );
    assert_eq!(
        flags.evaluate("FEATURE_NEW_UI", None).unwrap_err(),
        Unevaluated::TargetingKeyMissing
    );
}

#[test]
fn a_rollout_the_same_for_everyone_needs_no_user() {
    let off = load(&[]);
    let evaluation = off.evaluate("FEATURE_NEW_UI", None).unwrap();
    assert_eq!(
        (evaluation.value, evaluation.reason),
        (json!(false), Reason::Disabled)
    );
    let evaluation = off.evaluate("FEATURE_NEW_UI", Some("alice")).unwrap();
    assert_eq!(
        (evaluation.value, evaluation.reason),
        (json!(false), Reason::Disabled)
    );

    let on = load(&[("FEATURE_NEW_UI", "100%")]);
    let evaluation = on.evaluate("FEATURE_NEW_UI", None).unwrap();
    assert_eq!(
        (evaluation.value, evaluation.reason),
        (json!(true), Reason::Static)
    );

    // Off for all but the allowed: a user who is not allowed gets the rule's answer for all.
    let allowed = load(&[("FEATURE_NEW_UI", "0%; allow=vip")]);
    let evaluation = allowed.evaluate("FEATURE_NEW_UI", Some("bob")).unwrap();
    assert_eq!(
        (evaluation.value, evaluation.reason),
        (json!(false), Reason::Static)
    );
    assert_eq!(
        allowed.evaluate("FEATURE_NEW_UI", None).unwrap_err(),
        Unevaluated::TargetingKeyMissing
    );
}

#[test]
fn variants_answer_each_users_variant_as_variant_for_does() {
    let flags = load(&[("FEATURE_GREETING_STYLE", "classic:50,playful:30,formal:20")]);
    for user in users() {
        let evaluation = flags
            .evaluate("FEATURE_GREETING_STYLE", Some(&user))
            .unwrap();
        let expected = flags.greeting_style.variant_for(&user);
        assert_eq!(evaluation.value, expected, "{user}");
        assert_eq!(evaluation.variant.as_deref(), Some(expected), "{user}");
        assert_eq!(evaluation.reason, Reason::Split);
    }
    assert_eq!(
        flags.evaluate("FEATURE_GREETING_STYLE", None).unwrap_err(),
        Unevaluated::TargetingKeyMissing
    );

    // One variant to give: every user gets it, from the default.
    let one = load(&[]).evaluate("FEATURE_GREETING_STYLE", None).unwrap();
    assert_eq!(one.value, "classic");
    assert_eq!(one.variant.as_deref(), Some("classic"));
    assert_eq!(one.reason, Reason::Default);
}

#[test]
fn a_value_the_same_for_everyone_is_default_or_static_by_where_it_came_from() {
    let flags = load(&[("FEATURE_BETA_ENABLED", "true")]);
    let beta = flags
        .evaluate("FEATURE_BETA_ENABLED", Some("alice"))
        .unwrap();
    assert_eq!((beta.value, beta.reason), (json!(true), Reason::Static));
    let retries = flags.evaluate("FEATURE_RETRIES", None).unwrap();
    assert_eq!((retries.value, retries.reason), (json!(3), Reason::Default));
    assert_eq!(retries.flag.env(), "FEATURE_RETRIES");
    // No value at all: the caller's own default applies.
    let email = flags.evaluate("SUPPORT_EMAIL", None).unwrap();
    assert_eq!((email.value, email.reason), (Value::Null, Reason::Default));
}

#[test]
fn a_secret_or_a_near_name_is_no_flag() {
    let flags = load(&[("API_TOKEN", "t0ken")]);
    for name in [
        "API_TOKEN",
        "feature_beta_enabled",
        "FEATURE_BETA",
        "BETA_ENABLED",
        "",
    ] {
        assert_eq!(
            flags.evaluate(name, None).unwrap_err(),
            Unevaluated::NotFound,
            "{name}"
        );
    }
    let mut seen = Vec::new();
    flags.evaluate_all(Some("alice"), |flag, result| {
        assert!(result.is_ok(), "{}", flag.env());
        seen.push(flag.env());
    });
    assert_eq!(
        seen,
        [
            "FEATURE_NEW_UI",
            "FEATURE_GREETING_STYLE",
            "FEATURE_BETA_ENABLED",
            "FEATURE_RETRIES",
            "SUPPORT_EMAIL"
        ]
    );
}

#[test]
fn evaluating_all_for_a_user_agrees_with_evaluating_each() {
    let flags = load(&[
        ("FEATURE_NEW_UI", "40%"),
        ("FEATURE_GREETING_STYLE", "classic:50,playful:50"),
    ]);
    for user in users().take(50) {
        flags.evaluate_all(Some(&user), |flag, all| {
            let one = flags.evaluate(flag.env(), Some(&user)).unwrap();
            let all = all.unwrap();
            assert_eq!((all.value, all.reason), (one.value, one.reason));
        });
    }
    let mut missing = Vec::new();
    flags.evaluate_all(None, |flag, result| {
        if result.is_err() {
            missing.push(flag.env());
        }
    });
    assert_eq!(missing, ["FEATURE_NEW_UI", "FEATURE_GREETING_STYLE"]);
}
