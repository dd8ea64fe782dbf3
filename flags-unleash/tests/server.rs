//! The source against a real Unleash server (npm's `unleash-server` 8.2.0, which `.ci/peers`
//! installs, on the tests' throwaway PostgreSQL cluster): toggles made through its admin API with
//! strategies, constraints, a segment and strategy variants are decided for thousands of users
//! exactly as Unleash's own frontend API decides them; a flip reaches the flags; Unleash stopped
//! and started again. Without the installation this test fails under CI, and elsewhere prints a
//! notice and passes.
#![cfg(unix)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use flags_core::live::Live;
use flags_core::serde_json::{self, Value, json};
use flags_core::{FeatureFlags, Loader, Variants};
use flags_tests::postgres::Cluster;
use flags_tests::unleash::{Unleash as Server, constraint, flexible_rollout, variant};
use flags_unleash::{Link, Unleash};

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, managed_as = "beta")]
    beta: bool,
    #[flag(default = Variants::new("", &[("classic", 1)]), managed_as = "greeting")]
    greeting: Variants,
    #[flag(default = false, managed_as = "maintenance")]
    maintenance: bool,
}

/// How many users are compared with Unleash's own answers.
const USERS: usize = 2000;

/// Waits, at most 30 s, for `done`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still not {what} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// Unleash's own answer for `user` from its frontend API: each enabled toggle with its variant.
async fn frontend(client: &reqwest::Client, server: &Server, user: &str) -> Value {
    let url = format!("{}/frontend?userId={user}", server.api_url());
    let answer = client
        .get(url)
        .header("authorization", server.frontend_token())
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flags_follow_a_real_unleash_and_decide_every_user_as_it_does() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let Some(server) = Server::start(&cluster) else {
        return;
    };
    let segment = server
        .segment_without("not-blocked", &["user-7", "user-70"])
        .await;
    let vips = constraint("userId", "IN", &["vip-1", "vip-2"]);
    let nines = constraint("userId", "STR_ENDS_WITH", &["99"]);
    let variants = json!([variant("formal"), variant("casual")]);
    let everyone = json!({"name": "default", "parameters": {}, "constraints": [], "segments": [],
                          "variants": []});
    server
        .toggle(
            "beta",
            &[
                flexible_rollout("beta", 30, json!([]), json!([segment]), json!([])),
                flexible_rollout("beta-vips", 100, json!([vips]), json!([]), json!([])),
                flexible_rollout("beta-nines", 100, json!([nines]), json!([]), json!([])),
            ],
        )
        .await;
    server
        .toggle(
            "greeting",
            &[flexible_rollout(
                "greeting",
                80,
                json!([]),
                json!([]),
                variants,
            )],
        )
        .await;
    server.toggle("maintenance", &[everyone]).await;

    // Unleash serves a change within about a second: start once its client API has them all.
    let flags = Arc::new(
        Live::<Settings>::builder()
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap(),
    );
    let (unleash, driver) = Unleash::builder(server.api_url(), server.client_token())
        .app_name("rose-healer")
        .refresh_interval(Duration::from_millis(100))
        .start(&flags)
        .await
        .unwrap();
    tokio::spawn(driver);
    wait_until("the three toggles read", || flags.get().maintenance).await;

    // Every user, as Unleash's frontend API decides: the toggle on or off, and the variant.
    let client = reqwest::Client::new();
    // The frontend API follows changes on its own: compare once it has the last toggle made.
    let started = Instant::now();
    loop {
        let answer = frontend(&client, &server, "user-0").await;
        let toggles = answer["toggles"].as_array().unwrap();
        if toggles.iter().any(|toggle| toggle["name"] == "maintenance") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the frontend API: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = flags.get();
    let mut differ = Vec::new();
    let mut seen = (0, 0);
    let users: Vec<String> = (0..USERS)
        .map(|n| format!("user-{n}"))
        .chain(["vip-1".into()])
        .collect();
    for user in &users {
        let answer = frontend(&client, &server, user).await;
        let toggles = answer["toggles"].as_array().unwrap();
        let listed = |name: &str| toggles.iter().find(|toggle| toggle["name"] == name);
        let theirs_beta = listed("beta").is_some_and(|toggle| toggle["enabled"] == true);
        let theirs_greeting = listed("greeting").map_or("disabled", |toggle| {
            toggle["variant"]["name"].as_str().unwrap()
        });
        let ours_beta = now.evaluate("FEATURE_BETA", Some(user)).unwrap().value;
        let ours_greeting = now.evaluate("FEATURE_GREETING", Some(user)).unwrap().value;
        seen.0 += usize::from(theirs_beta);
        seen.1 += usize::from(theirs_greeting != "disabled");
        if ours_beta != Value::Bool(theirs_beta) {
            differ.push(format!(
                "{user}: beta: Unleash {theirs_beta}, ours {ours_beta}"
            ));
        }
        if ours_greeting != theirs_greeting {
            differ.push(format!(
                "{user}: greeting: Unleash {theirs_greeting}, ours {ours_greeting}"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differences over {} users:\n{}",
        differ.len(),
        users.len(),
        differ.join("\n")
    );
    // The strategies split the users, as their percentages say.
    assert!(
        (450..750).contains(&seen.0),
        "beta on for {} of {USERS}",
        seen.0
    );
    assert!(
        (1450..1750).contains(&seen.1),
        "greeting on for {} of {USERS}",
        seen.1
    );
    drop(now);

    // A flip: how long from the admin's change to the flags serving it (Unleash's own second of
    // propagation included), printed for the benchmarks.
    let started = Instant::now();
    server
        .admin(
            "POST",
            "/projects/default/features/maintenance/environments/development/off",
            None,
        )
        .await;
    wait_until("the flip served", || !flags.get().maintenance).await;
    eprintln!(
        "a toggle flipped in Unleash was served after {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(flags.audit().last().unwrap().actor, "unleash");

    // Unleash stopped: the last values stay, the link says why; started again: followed again.
    server.stop();
    wait_until("the link down", || {
        matches!(unleash.link(), Link::Down { .. })
    })
    .await;
    assert!(!flags.get().maintenance);
    assert!(
        flags
            .get()
            .evaluate("FEATURE_BETA", Some("vip-1"))
            .unwrap()
            .value
            == Value::Bool(true)
    );
    tokio::task::block_in_place(|| server.start_again());
    server
        .admin(
            "POST",
            "/projects/default/features/maintenance/environments/development/on",
            None,
        )
        .await;
    wait_until("the link up and the flip served", || {
        unleash.link() == Link::Up && flags.get().maintenance
    })
    .await;
}
