//! `rose serve` following a real Unleash server (npm's `unleash-server` 8.2.0, which `.ci/peers`
//! installs, on the tests' throwaway PostgreSQL cluster): its public route answers each user as
//! Unleash's own frontend API does, a toggle flipped in Unleash is served, and Unleash stopped and
//! started again changes nothing that was served. Without the installation this test fails under
//! CI, and elsewhere prints a notice and passes.

use std::time::{Duration, Instant};

use flags_tests::postgres::Cluster;
use flags_tests::unleash::{Unleash, constraint, flexible_rollout, variant};
use reqwest::Client;
use serde_json::{Value, json};

mod rose;

use rose::{Server, eventually, get_json};

const USERS: usize = 2000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rose_serve_answers_every_user_as_unleash_does_and_rides_out_unleash_going_away() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let Some(unleash) = Unleash::start(&cluster) else {
        return;
    };
    let segment = unleash
        .segment_without("not-blocked", &["user-7", "user-70"])
        .await;
    let testers = constraint("userId", "STR_STARTS_WITH", &["tester-"]);
    let variants = json!([variant("formal"), variant("casual")]);
    unleash
        .toggle(
            "FEATURE_NEW_UI",
            &[
                flexible_rollout("new-ui", 30, json!([]), json!([segment]), json!([])),
                flexible_rollout(
                    "new-ui-testers",
                    100,
                    json!([testers]),
                    json!([]),
                    json!([]),
                ),
            ],
        )
        .await;
    let greeting = flexible_rollout("greeting", 80, json!([]), json!([]), variants);
    unleash.toggle("FEATURE_GREETING_STYLE", &[greeting]).await;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("UNLEASH_URL", &unleash.api_url()),
            ("UNLEASH_API_KEY", unleash.client_token()),
            ("UNLEASH_REFRESH_INTERVAL", "100ms"),
            ("RATE_LIMIT_ENABLED", "false"),
        ],
        &[],
    );
    let client = Client::new();
    let rose = |user: &str| server.url(&format!("/api/feature-flags?user={user}"));
    let frontend = |user: &str| format!("{}/frontend?userId={user}", unleash.api_url());
    // Each side follows Unleash on its own: compare once both have every toggle.
    eventually(
        "rose serve following Unleash",
        || get_json(&client, rose("tester-1"), None),
        |answer| answer["new_ui"] == true && answer["greeting_style"] != "classic",
    )
    .await;
    // The frontend API has them all once it lists the greeting for someone.
    eventually(
        "the frontend API following",
        || async {
            let mut listed = Vec::new();
            for user in ["tester-1", "tester-2", "tester-3", "tester-4"] {
                let answer =
                    get_json(&client, frontend(user), Some(unleash.frontend_token())).await;
                listed.extend(
                    answer["toggles"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t["name"].clone()),
                );
            }
            Value::from(listed)
        },
        |listed| {
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|name| name == "FEATURE_GREETING_STYLE")
        },
    )
    .await;

    let mut differ = Vec::new();
    let mut on = 0;
    for user in (0..USERS).map(|n| format!("user-{n}")) {
        let ours = get_json(&client, rose(&user), None).await;
        let theirs = get_json(&client, frontend(&user), Some(unleash.frontend_token())).await;
        let listed = |name: &str| {
            theirs["toggles"]
                .as_array()
                .unwrap()
                .iter()
                .find(|toggle| toggle["name"] == name)
                .cloned()
        };
        let new_ui = listed("FEATURE_NEW_UI").is_some_and(|toggle| toggle["enabled"] == true);
        let greeting = listed("FEATURE_GREETING_STYLE").map_or(Value::from("disabled"), |toggle| {
            toggle["variant"]["name"].clone()
        });
        on += usize::from(new_ui);
        if ours["new_ui"] != new_ui || ours["greeting_style"] != greeting {
            differ.push(format!(
                "{user}: Unleash {new_ui}/{greeting}, rose serve {ours}"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {USERS} users differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert!((450..750).contains(&on), "new_ui on for {on} of {USERS}");

    // A flip in Unleash, served by rose serve (printed: Unleash's own propagation included).
    let started = Instant::now();
    let off = "/projects/default/features/FEATURE_NEW_UI/environments/development/off";
    unleash.admin("POST", off, None).await;
    eventually(
        "the flip served",
        || get_json(&client, rose("tester-1"), None),
        |answer| answer["new_ui"] == false,
    )
    .await;
    eprintln!(
        "a toggle flipped in Unleash was served by rose serve after {} ms",
        started.elapsed().as_millis()
    );

    // Unleash away: rose serve keeps serving what it had; back: it follows again.
    unleash.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        get_json(&client, rose("tester-1"), None).await["new_ui"],
        false
    );
    tokio::task::block_in_place(|| unleash.start_again());
    let on = "/projects/default/features/FEATURE_NEW_UI/environments/development/on";
    unleash.admin("POST", on, None).await;
    eventually(
        "followed again",
        || get_json(&client, rose("tester-1"), None),
        |answer| answer["new_ui"] == true,
    )
    .await;
    let stopped = server.stop();
    assert!(
        stopped.stderr.contains("lost Unleash"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("Unleash answers again"),
        "{}",
        stopped.stderr
    );
    assert!(!stopped.stderr.contains(unleash.client_token()));
}
