//! The source driven by LaunchDarkly's own test double, `TestData` (LaunchDarkly's service cannot
//! be reached from here): what the flags take for everyone, what each user is answered (the SDK's
//! own `variation` for the same context, for thousands of users), what is refused and audited,
//! and how a start without LaunchDarkly goes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flags_core::evaluate::Reason;
use flags_core::live::{ChangeError, Live, Outcome};
use flags_core::secrecy::SecretString;
use flags_core::serde_json::{self, Value, json};
use flags_core::{FeatureFlags, Loader, Rollout, Source, Variants};
use flags_launchdarkly::{LaunchDarkly, StartError, TestData};
use flags_tests::launchdarkly::{self, parse, reference, rollout};
use launchdarkly_server_sdk::{AttributeValue, ContextBuilder, Flag, FlagValue, Kind, Segment};
use serde::{Deserialize, Serialize};

const USERS: usize = 3000;

/// A value LaunchDarkly gives as a JSON object: a type that reads JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Limits {
    uploads: u32,
    label: String,
}

impl std::str::FromStr for Limits {
    type Err = serde_json::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str(text)
    }
}

impl std::fmt::Display for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, public = "new_feature", managed_as = "new-feature")]
    new_feature: bool,
    #[flag(default = Rollout::new("", 0), public = "new_ui")]
    new_ui: Rollout,
    #[flag(default = Variants::new("", &[("classic", 1)]), public = "greeting")]
    greeting_style: Variants,
    #[flag(default = 3)]
    max_images: u32,
    #[flag(default = 0.5)]
    temperature: f64,
    #[flag(default = "Welcome")]
    banner: String,
    #[flag(default = 20)]
    max_uploads: u32,
    #[flag(from_str, default = Limits { uploads: 1, label: String::from("free") })]
    limits: Limits,
    #[flag(default = false, requires = "WHATSAPP_TOKEN")]
    whatsapp_enabled: bool,
    #[flag(env = "WHATSAPP_TOKEN", secret)]
    whatsapp_token: Option<SecretString>,
    #[flag(default = 8080, restart)]
    port: u16,
}

/// A flag in LaunchDarkly's own JSON, as the SDK reads it.
fn flag(key: &str, variations: Value, fallthrough: Value, rules: Value) -> Flag {
    parse(&launchdarkly::flag(
        key,
        1,
        variations,
        fallthrough,
        rules,
        &[],
    ))
}

fn value_for_all(key: &str, value: Value) -> Flag {
    parse(&launchdarkly::value_for_all(key, 1, value))
}

/// Every flag of `Settings` set in `data`, as a product team would: targets, a rule on a
/// segment, a percentage rollout, variations of every JSON type.
fn populate(data: &TestData) {
    data.update(
        data.flag("new-feature")
            .boolean_flag()
            .on(true)
            .fallthrough_variation(false)
            .variation_for_user("alice", true)
            .variation_for_user("user-7", true)
            .if_match("email", [AttributeValue::from("x")])
            .then_return(true),
    );
    let segment: Segment = serde_json::from_value(json!({
        "key": "beta-testers",
        "version": 1,
        "included": ["user-1", "user-2", "user-3"],
        "excluded": [],
        "rules": [],
        "salt": "segment-salt",
        "deleted": false,
    }))
    .unwrap();
    data.use_preconfigured_segment(segment);
    let in_segment = json!([{
        "id": "beta",
        "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["beta-testers"], "negate": false}],
        "variation": 1,
        "trackEvents": false,
    }]);
    data.use_preconfigured_flag(flag(
        "FEATURE_NEW_UI",
        json!([false, true]),
        rollout(&[70_000, 30_000]),
        in_segment,
    ));
    data.use_preconfigured_flag(flag(
        "FEATURE_GREETING_STYLE",
        json!(["formal", "casual", "pirate"]),
        rollout(&[50_000, 40_000, 10_000]),
        json!([]),
    ));
    data.use_preconfigured_flag(value_for_all("FEATURE_MAX_IMAGES", json!(12)));
    data.use_preconfigured_flag(value_for_all("FEATURE_TEMPERATURE", json!(0.75)));
    data.use_preconfigured_flag(value_for_all("FEATURE_BANNER", json!("Hello from LD")));
    data.use_preconfigured_flag(uploads());
    data.use_preconfigured_flag(value_for_all(
        "FEATURE_LIMITS",
        json!({"uploads": 40, "label": "pro"}),
    ));
}

fn loader() -> Loader {
    Loader::new().map([("FEATURE_MAX_IMAGES", "5")])
}

async fn follow(data: &TestData) -> (Arc<Live<Settings>>, LaunchDarkly) {
    follow_sending_events(data, false).await
}

/// The flags following `data`; with `events`, the SDK's client decides, to record analytics
/// events (sent to a closed port on loopback), else its engine does, on the data the flags took.
async fn follow_sending_events(
    data: &TestData,
    events: bool,
) -> (Arc<Live<Settings>>, LaunchDarkly) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let live = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let (launchdarkly, driver) = LaunchDarkly::builder("sdk-test")
        .app_name("rose-healer")
        .relay_proxy(nowhere)
        .send_events(events)
        .test_data(data)
        .start(&live)
        .await
        .unwrap();
    tokio::spawn(driver);
    (live, launchdarkly)
}

/// Waits, at most 10 s, for `done` to hold of the flags.
async fn eventually(live: &Live<Settings>, what: &str, done: impl Fn(&Settings) -> bool) {
    let started = Instant::now();
    while !done(&live.get()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still not {what}: {:?}",
            *live.get()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flag_takes_its_launchdarkly_flag_for_the_application_of_every_json_type() {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow(&data).await;
    let flags = live.get();
    assert!(!flags.new_feature, "off for the application's own context");
    assert_eq!(
        flags_core::FlagValue::to_env(&flags.new_ui),
        "on",
        "100%: on"
    );
    assert_eq!(flags.max_images, 12);
    assert_eq!(flags.temperature, 0.75);
    assert_eq!(flags.banner, "Hello from LD");
    let pro = Limits {
        uploads: 40,
        label: String::from("pro"),
    };
    assert_eq!(flags.limits, pro);
    // No LaunchDarkly flag: the environment's value, its source kept.
    assert!(!flags.whatsapp_enabled);
    assert_eq!(flags.port, 8080);
    assert_eq!(
        flags.provenance().source("FEATURE_PORT"),
        Some(&Source::Default)
    );

    // The application's own context decides: a rule on its kind and key.
    data.update(
        data.flag("new-feature")
            .if_match_context(
                Kind::try_from("service").unwrap(),
                "key",
                [AttributeValue::from("rose-healer")],
            )
            .then_return(true),
    );
    eventually(&live, "on for the application", |flags| flags.new_feature).await;

    // Every change is audited with LaunchDarkly as its actor.
    let audit = live.audit();
    let last = audit.last().unwrap();
    assert_eq!(last.actor, "launchdarkly");
    assert!(
        last.changes
            .iter()
            .any(|change| change.flag == "FEATURE_NEW_FEATURE"),
        "{last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_is_answered_as_the_sdks_own_variation_answers_the_same_context() {
    each_user_is_answered_as_the_sdk_answers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_events_each_user_is_answered_by_the_sdks_client() {
    each_user_is_answered_as_the_sdk_answers(true).await;
}

async fn each_user_is_answered_as_the_sdk_answers(events: bool) {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow_sending_events(&data, events).await;
    let sdk = reference(&data).await;
    let snapshot = live.snapshot();
    let mut counts = [0usize; 2];
    let mut variants = std::collections::BTreeMap::<String, usize>::new();
    for n in 0..USERS {
        let user = format!("user-{n}");
        let context = ContextBuilder::new(&user).build().unwrap();

        let served = snapshot
            .evaluate("FEATURE_NEW_FEATURE", Some(&user))
            .unwrap();
        let expected = sdk.bool_variation(&context, "new-feature", false);
        assert_eq!(served.value, Value::Bool(expected), "{user}: new-feature");

        let served = snapshot.evaluate("FEATURE_NEW_UI", Some(&user)).unwrap();
        let new_ui = sdk.bool_variation(&context, "FEATURE_NEW_UI", false);
        assert_eq!(served.value, Value::Bool(new_ui), "{user}: new_ui");
        counts[usize::from(new_ui)] += 1;

        let served = snapshot
            .evaluate("FEATURE_GREETING_STYLE", Some(&user))
            .unwrap();
        let expected = sdk.str_variation(&context, "FEATURE_GREETING_STYLE", "classic".into());
        assert_eq!(served.value, Value::String(expected.clone()), "{user}");
        assert_eq!(served.variant.as_deref(), Some(expected.as_str()));
        *variants.entry(expected).or_default() += 1;

        // The frontend's view of the public flags is the same decisions.
        let public = snapshot.public_flags_for(&user);
        let public = serde_json::to_value(&public).unwrap();
        assert_eq!(public["new_ui"], Value::Bool(new_ui), "{user}: {public}");
    }
    // The rollout and the split are LaunchDarkly's: about 30% (plus the segment), and 50/40/10.
    let share = counts[1] as f64 / USERS as f64;
    assert!((0.25..0.35).contains(&share), "{counts:?}");
    assert_eq!(variants.len(), 3, "{variants:?}");

    // Targets and the segment rule, with their reasons.
    let alice = snapshot
        .evaluate("FEATURE_NEW_FEATURE", Some("alice"))
        .unwrap();
    assert_eq!(
        (alice.value, alice.reason),
        (Value::Bool(true), Reason::TargetingMatch)
    );
    let bob = snapshot
        .evaluate("FEATURE_NEW_FEATURE", Some("bob"))
        .unwrap();
    assert_eq!(
        (bob.value, bob.reason),
        (Value::Bool(false), Reason::Default)
    );
    for member in ["user-1", "user-2", "user-3"] {
        let served = snapshot.evaluate("FEATURE_NEW_UI", Some(member)).unwrap();
        assert_eq!(
            (served.value, served.reason),
            (Value::Bool(true), Reason::TargetingMatch)
        );
    }
    // A value for everyone is the same for every user.
    let images = snapshot
        .evaluate("FEATURE_MAX_IMAGES", Some("alice"))
        .unwrap();
    assert_eq!(images.value, json!(12));

    sdk.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_context_is_evaluated_through_the_handle() {
    let data = TestData::new();
    populate(&data);
    let (live, launchdarkly) = follow(&data).await;
    let snapshot = live.snapshot();
    let context = ContextBuilder::new("carol")
        .set_value("email", AttributeValue::from("x"))
        .build()
        .unwrap();
    let detail = launchdarkly
        .variation_detail(&snapshot, "FEATURE_NEW_FEATURE", &context)
        .unwrap();
    assert_eq!(detail.value, Some(FlagValue::Bool(true)));
    // A number for everyone is one for carol too.
    let images = launchdarkly
        .variation_detail(&snapshot, "FEATURE_MAX_IMAGES", &context)
        .unwrap();
    assert_eq!(images.value, Some(FlagValue::Number(12.0)));
    // A variation the flag cannot hold is no value, with the SDK's "wrong type".
    let broken = ContextBuilder::new("broken").build().unwrap();
    let refused = launchdarkly
        .variation_detail(&snapshot, "FEATURE_MAX_UPLOADS", &broken)
        .unwrap();
    assert_eq!(refused.value, None);
    // Not managed (read at start): nothing to ask.
    assert!(
        launchdarkly
            .variation_detail(&snapshot, "FEATURE_PORT", &context)
            .is_none()
    );
}

/// Uploads by user: 50 for `vip`, -1 (which a u32 cannot hold) for `broken`, and 20 or 50 for
/// everyone else, half and half.
fn uploads() -> Flag {
    let mut json = launchdarkly::flag(
        "FEATURE_MAX_UPLOADS",
        1,
        json!([20, 50, -1]),
        rollout(&[50_000, 50_000, 0]),
        json!([]),
        &["vip"],
    );
    json["targets"] = json!([
        {"values": ["vip"], "variation": 1},
        {"values": ["broken"], "variation": 2},
    ]);
    parse(&json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_is_decided_per_user_when_the_flag_holds_the_users_variation() {
    for events in [false, true] {
        let data = TestData::new();
        populate(&data);
        let (live, _launchdarkly) = follow_sending_events(&data, events).await;
        let sdk = reference(&data).await;
        let snapshot = live.snapshot();
        let everyone = json!(snapshot.max_uploads);
        let mut fifty = 0;
        for n in 0..USERS {
            let user = format!("user-{n}");
            let context = ContextBuilder::new(&user).build().unwrap();
            let served = snapshot
                .evaluate("FEATURE_MAX_UPLOADS", Some(&user))
                .unwrap();
            let expected = sdk.int_variation(&context, "FEATURE_MAX_UPLOADS", 20);
            assert_eq!(served.value, json!(expected), "{user}");
            fifty += usize::from(expected == 50);
        }
        let share = fifty as f64 / USERS as f64;
        assert!((0.45..0.55).contains(&share), "{fifty}");
        let vip = snapshot
            .evaluate("FEATURE_MAX_UPLOADS", Some("vip"))
            .unwrap();
        assert_eq!((vip.value, vip.reason), (json!(50), Reason::TargetingMatch));
        // The SDK would answer -1: the flag cannot hold it, so broken gets everyone's value.
        let broken = ContextBuilder::new("broken").build().unwrap();
        assert_eq!(sdk.int_variation(&broken, "FEATURE_MAX_UPLOADS", 20), -1);
        let served = snapshot
            .evaluate("FEATURE_MAX_UPLOADS", Some("broken"))
            .unwrap();
        assert_eq!(served.value, everyone);
        sdk.close();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_served_as_soon_as_the_sdk_stores_it() {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow(&data).await;
    for round in 0..20u32 {
        let images = 100 + round;
        let started = Instant::now();
        data.use_preconfigured_flag(value_for_all("FEATURE_MAX_IMAGES", json!(images)));
        eventually(&live, "the new number", |flags| flags.max_images == images).await;
        // Not a timing goal (BENCHMARKS.md measures the delay): a bound that a polling
        // interval would break.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    // Per user too: bob is targeted, and is answered so.
    data.update(data.flag("new-feature").variation_for_user("bob", true));
    let started = Instant::now();
    loop {
        let bob = live
            .get()
            .evaluate("FEATURE_NEW_FEATURE", Some("bob"))
            .unwrap();
        if bob.value == Value::Bool(true) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "bob is not targeted"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_the_flags_cannot_hold_is_refused_audited_and_never_reaches_a_user() {
    a_refused_value_never_reaches_a_user(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_events_a_refused_value_never_reaches_a_user_either() {
    a_refused_value_never_reaches_a_user(true).await;
}

async fn a_refused_value_never_reaches_a_user(events: bool) {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow_sending_events(&data, events).await;
    let sdk = reference(&data).await;
    let before = live.snapshot();
    let events = live.audit().len();

    // A negative number for a u32.
    data.use_preconfigured_flag(value_for_all("FEATURE_MAX_IMAGES", json!(-4)));
    let started = Instant::now();
    while live.audit().len() == events {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing audited"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let refused = live.audit().last().cloned().unwrap();
    assert_eq!(refused.actor, "launchdarkly");
    assert_eq!(refused.outcome, Outcome::Rejected);
    let reason = refused.reason.clone().unwrap_or_default();
    assert!(reason.contains("FEATURE_MAX_IMAGES"), "{reason}");
    assert!(reason.contains("-4"), "{reason}");
    assert_eq!(live.get().max_images, 12, "the last good value stays");

    // A later change in the same data (bob targeted) is not taken either: the data is refused
    // whole, and bob is answered from the last good data, though the SDK's client says yes.
    data.update(data.flag("new-feature").variation_for_user("bob", true));
    let bob = ContextBuilder::new("bob").build().unwrap();
    assert!(sdk.bool_variation(&bob, "new-feature", false));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served = live
        .get()
        .evaluate("FEATURE_NEW_FEATURE", Some("bob"))
        .unwrap();
    assert_eq!(served.value, Value::Bool(false));
    assert_eq!(live.get().revision(), before.revision());
    // Refused once, not once per change.
    let rejected = live
        .audit()
        .iter()
        .filter(|e| e.outcome == Outcome::Rejected)
        .count();
    assert!(rejected <= 2, "{rejected}");

    // Mended: both changes are taken.
    data.use_preconfigured_flag(value_for_all("FEATURE_MAX_IMAGES", json!(7)));
    eventually(&live, "mended", |flags| flags.max_images == 7).await;
    let served = live
        .get()
        .evaluate("FEATURE_NEW_FEATURE", Some("bob"))
        .unwrap();
    assert_eq!(served.value, Value::Bool(true));
    sdk.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_breaks_a_requirement_is_refused() {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow(&data).await;
    data.update(
        data.flag("FEATURE_WHATSAPP_ENABLED")
            .variation_for_all(true),
    );
    let started = Instant::now();
    loop {
        let audit = live.audit();
        let refused = audit.iter().rev().find(|e| e.outcome == Outcome::Rejected);
        if let Some(refused) = refused {
            let reason = refused.reason.clone().unwrap_or_default();
            assert!(reason.contains("WHATSAPP_TOKEN"), "{reason}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not refused");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(!live.get().whatsapp_enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_flag_refuses_local_changes_and_restart_flags_are_not_managed() {
    let data = TestData::new();
    populate(&data);
    let (live, _launchdarkly) = follow(&data).await;
    let refused = live
        .apply([("FEATURE_MAX_IMAGES", "9")], "alice")
        .unwrap_err();
    assert!(matches!(refused, ChangeError::Managed { .. }), "{refused}");
    assert_eq!(
        refused.to_string(),
        "FEATURE_MAX_IMAGES is managed by launchdarkly: change it in launchdarkly"
    );
    assert_eq!(live.manager("FEATURE_PORT"), None);
    assert_eq!(live.manager("WHATSAPP_TOKEN"), None);
    assert_eq!(
        live.manager("FEATURE_BANNER").as_deref(),
        Some("launchdarkly")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_launchdarkly_the_start_waits_a_bounded_time_and_keeps_the_environment() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let live = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let started = Instant::now();
    let (_launchdarkly, driver) = LaunchDarkly::builder("sdk-test")
        .relay_proxy(&url)
        .send_events(false)
        .start_within(Duration::from_millis(300))
        .start(&live)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::spawn(driver);
    assert_eq!(live.get().max_images, 5, "the environment's value");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_is_an_error_naming_the_variable_never_the_key() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let live = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let refused = LaunchDarkly::builder("sdk-0123-secret-key")
        .relay_proxy(&url)
        .send_events(false)
        .start(&live)
        .await
        .unwrap_err();
    assert!(matches!(refused, StartError::Refused(_)), "{refused}");
    let message = refused.to_string();
    assert!(message.contains("LAUNCHDARKLY_SDK_KEY"), "{message}");
    assert!(!message.contains("secret-key"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_settings_name_their_variable() {
    let live = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let start = |builder: flags_launchdarkly::Builder| {
        let live = Arc::clone(&live);
        async move { builder.start(&live).await.unwrap_err().to_string() }
    };
    let message = start(LaunchDarkly::builder("sdk-a b")).await;
    assert!(
        message.starts_with("LAUNCHDARKLY_SDK_KEY has a space"),
        "{message}"
    );
    assert!(!message.contains("sdk-a"), "{message}");
    let message = start(LaunchDarkly::builder("mob-123")).await;
    assert!(message.contains("mobile key"), "{message}");
    let message = start(LaunchDarkly::builder("sdk-1").relay_proxy("relay:8030")).await;
    assert!(
        message.starts_with("LAUNCHDARKLY_RELAY_PROXY_URL: `relay:8030`"),
        "{message}"
    );
    let message = start(LaunchDarkly::builder("sdk-1").service_endpoints(
        "http://stream",
        "ftp://poll",
        "http://events",
    ))
    .await;
    assert!(message.starts_with("LAUNCHDARKLY_POLLING_URL"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_flags_keep_the_environment() {
    let live = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let (launchdarkly, driver) = LaunchDarkly::builder("sdk-test")
        .offline(true)
        .start(&live)
        .await
        .unwrap();
    tokio::spawn(driver);
    assert!(launchdarkly.initialized());
    assert_eq!(live.get().max_images, 5);
    let alice = live
        .get()
        .evaluate("FEATURE_NEW_FEATURE", Some("alice"))
        .unwrap();
    assert_eq!(alice.value, Value::Bool(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_never_served_a_value_that_breaks_a_requirement() {
    let data = TestData::new();
    populate(&data);
    data.update(
        data.flag("FEATURE_WHATSAPP_ENABLED")
            .boolean_flag()
            .on(true)
            .fallthrough_variation(false)
            .variation_for_user("wa-user", true),
    );
    let sdk = reference(&data).await;
    let wa_user = ContextBuilder::new("wa-user").build().unwrap();
    assert!(sdk.bool_variation(&wa_user, "FEATURE_WHATSAPP_ENABLED", false));

    // Without WHATSAPP_TOKEN, on for wa-user would break the requirement: off, as for everyone.
    let (live, _launchdarkly) = follow(&data).await;
    let served = live
        .get()
        .evaluate("FEATURE_WHATSAPP_ENABLED", Some("wa-user"))
        .unwrap();
    assert_eq!(served.value, Value::Bool(false));
    assert!(!live.get().whatsapp_enabled);

    // With it, wa-user is answered as LaunchDarkly says.
    let live =
        Arc::new(Live::<Settings>::load(loader().map([("WHATSAPP_TOKEN", "t0ken")])).unwrap());
    let (_launchdarkly, driver) = LaunchDarkly::builder("sdk-test")
        .send_events(false)
        .test_data(&data)
        .start(&live)
        .await
        .unwrap();
    tokio::spawn(driver);
    let served = live
        .get()
        .evaluate("FEATURE_WHATSAPP_ENABLED", Some("wa-user"))
        .unwrap();
    assert_eq!(
        (served.value, served.reason),
        (Value::Bool(true), Reason::TargetingMatch)
    );
    let other = live
        .get()
        .evaluate("FEATURE_WHATSAPP_ENABLED", Some("other"))
        .unwrap();
    assert_eq!(other.value, Value::Bool(false));
    sdk.close();
}
