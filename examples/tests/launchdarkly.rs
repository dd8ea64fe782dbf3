//! `rose serve` following LaunchDarkly. LaunchDarkly's service cannot be reached from here, so
//! the flags are LaunchDarkly's own JSON, fed two ways: to LaunchDarkly's test double, `TestData`,
//! behind the SDK's own client in this test, whose `variation` calls are the expected answers;
//! and to `rose serve`'s SDK over LaunchDarkly's streaming protocol (a `put`, then `patch`es), from
//! a relay on loopback that `LAUNCHDARKLY_RELAY_PROXY_URL` names, which also takes its events.
//! For thousands of users `rose serve`'s public route answers as the SDK's `variation` does; a
//! change is served as soon as it is streamed; a bad value is refused and audited; a local change
//! to a managed flag is refused; a rejected key stops the start, naming the variable.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flags_tests::launchdarkly::{flag, parse, reference, rollout, value_for_all};
use flags_tests::stub::read_request;
use launchdarkly_server_sdk::{ContextBuilder, TestData};
use reqwest::Client;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

mod rose;

use rose::{Server, eventually, get_json};

const USERS: usize = 2000;
const TOKEN: &str = "admin-token-for-tests";

/// What the relay holds and answers.
#[derive(Default)]
struct State {
    /// Each flag's JSON, by key.
    flags: BTreeMap<String, Value>,
    /// A status every request is answered with instead, when set.
    status: Option<u16>,
    /// How many event payloads the SDK posted.
    events: usize,
}

/// LaunchDarkly's streaming and events endpoints on loopback, as a relay proxy serves them.
struct Relay {
    url: String,
    state: Arc<Mutex<State>>,
    stream: broadcast::Sender<String>,
    /// Lets a relay started closed ([`Relay::start_closed`]) answer.
    open: Arc<tokio::sync::Notify>,
}

impl Relay {
    async fn start(status: Option<u16>) -> Relay {
        let relay = Relay::start_closed(status).await;
        relay.open();
        relay
    }

    /// A relay that takes connections but answers none until [`Relay::open`]: LaunchDarkly
    /// unreachable, then reached.
    async fn start_closed(status: Option<u16>) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            status,
            ..State::default()
        }));
        let (stream, _) = broadcast::channel(64);
        let (shared, sender) = (Arc::clone(&state), stream.clone());
        let open = Arc::new(tokio::sync::Notify::new());
        let opened = Arc::clone(&open);
        tokio::spawn(async move {
            opened.notified().await;
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, Arc::clone(&shared), sender.clone()));
            }
        });
        Relay {
            url,
            state,
            stream,
            open,
        }
    }

    fn open(&self) {
        self.open.notify_one();
    }

    /// Sets the flag `flag` (LaunchDarkly's JSON), streaming it as a `patch` to the SDKs that
    /// listen.
    fn patch(&self, flag: &Value) {
        let key = flag["key"].as_str().unwrap().to_owned();
        self.state
            .lock()
            .unwrap()
            .flags
            .insert(key.clone(), flag.clone());
        let data = json!({"path": format!("/flags/{key}"), "data": flag});
        let _ = self.stream.send(format!("event: patch\ndata: {data}\n\n"));
    }

    fn events(&self) -> usize {
        self.state.lock().unwrap().events
    }
}

/// Answers one connection: the stream (`GET /all`) with a `put` of every flag and the patches
/// after it, events (`POST /bulk`, `/diagnostic`) with 202.
async fn answer(
    mut socket: TcpStream,
    state: Arc<Mutex<State>>,
    stream: broadcast::Sender<String>,
) {
    let Some((head, _)) = read_request(&mut socket).await else {
        return;
    };
    let status = state.lock().unwrap().status;
    if let Some(status) = status {
        let reply =
            format!("HTTP/1.1 {status} Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let _ = socket.write_all(reply.as_bytes()).await;
        return;
    }
    let first = head.lines().next().unwrap_or_default().to_owned();
    if first.starts_with("POST ") {
        state.lock().unwrap().events += 1;
        let reply = "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let _ = socket.write_all(reply.as_bytes()).await;
        return;
    }
    if !first.starts_with("GET /all ") {
        let reply = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let _ = socket.write_all(reply.as_bytes()).await;
        return;
    }
    let mut patches = stream.subscribe();
    let put = {
        let state = state.lock().unwrap();
        let data = json!({"path": "/", "data": {"flags": state.flags, "segments": {}}});
        format!("event: put\ndata: {data}\n\n")
    };
    let headers = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
    if socket.write_all(headers.as_bytes()).await.is_err() {
        return;
    }
    let mut event = put;
    loop {
        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
        if socket.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
        event = match patches.recv().await {
            Ok(event) => event,
            Err(_) => return,
        };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rose_serve_answers_every_user_as_the_sdks_variation_and_takes_each_change() {
    let relay = Relay::start(None).await;
    let data = TestData::new();
    let new_ui = flag(
        "FEATURE_NEW_UI",
        1,
        json!([false, true]),
        rollout(&[70_000, 30_000]),
        json!([]),
        &["tester-1", "tester-2"],
    );
    let greeting = flag(
        "FEATURE_GREETING_STYLE",
        1,
        json!(["classic", "formal", "casual"]),
        rollout(&[20_000, 40_000, 40_000]),
        json!([]),
        &[],
    );
    for flag in [&new_ui, &greeting] {
        relay.patch(flag);
        data.use_preconfigured_flag(parse(flag));
    }
    let sdk = reference(&data).await;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("LAUNCHDARKLY_SDK_KEY", "sdk-0000-never-shown"),
            ("LAUNCHDARKLY_RELAY_PROXY_URL", &relay.url),
            ("ADMIN_TOKEN", TOKEN),
            ("RATE_LIMIT_ENABLED", "false"),
        ],
        &[],
    );
    let client = Client::new();
    let rose = |user: &str| server.url(&format!("/api/feature-flags?user={user}"));

    let mut differ = Vec::new();
    let mut on = 0;
    for user in (0..USERS).map(|n| format!("user-{n}")) {
        let ours = get_json(&client, rose(&user), None).await;
        let context = ContextBuilder::new(&user).build().unwrap();
        let new_ui = sdk.bool_variation(&context, "FEATURE_NEW_UI", false);
        let greeting = sdk.str_variation(&context, "FEATURE_GREETING_STYLE", "classic".into());
        on += usize::from(new_ui);
        if ours["new_ui"] != new_ui || ours["greeting_style"] != greeting.as_str() {
            differ.push(format!(
                "{user}: the SDK {new_ui}/{greeting}, rose serve {ours}"
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
    let tester = get_json(&client, rose("tester-1"), None).await;
    assert_eq!(tester["new_ui"], true, "a target");

    // A change streamed is served as soon as the SDK has it.
    let off = flag(
        "FEATURE_NEW_UI",
        2,
        json!([false, true]),
        json!({"variation": 0}),
        json!([]),
        &[],
    );
    let started = Instant::now();
    relay.patch(&off);
    eventually(
        "the change served",
        || get_json(&client, rose("tester-1"), None),
        |answer| answer["new_ui"] == false,
    )
    .await;
    eprintln!(
        "a change streamed by LaunchDarkly's protocol was served by rose serve after {} ms",
        started.elapsed().as_millis()
    );

    // A value a flag cannot hold is refused, audited with LaunchDarkly as actor, and the last
    // good values stay.
    let loud = value_for_all("LOG_LEVEL", 1, json!("loud"));
    relay.patch(&loud);
    let audit = || async {
        let answer = client
            .get(server.url("/api/admin/audit"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        serde_json::from_str::<Value>(&answer.text().await.unwrap()).unwrap()
    };
    let rejected = |audit: &Value| audit.to_string().contains("rejected");
    eventually("the bad value audited", audit, rejected).await;
    let audit = audit().await;
    let events = audit["events"].as_array().unwrap();
    let rejected = events
        .iter()
        .find(|event| event["outcome"] == "rejected")
        .unwrap();
    assert_eq!(rejected["actor"], "launchdarkly");
    assert!(
        rejected["reason"].as_str().unwrap().contains("LOG_LEVEL"),
        "{rejected}"
    );
    assert_eq!(
        get_json(&client, rose("tester-1"), None).await["new_ui"],
        false
    );

    // A local change to a flag LaunchDarkly manages is refused, naming it.
    let refused = client
        .patch(server.url("/api/admin/feature-flags"))
        .bearer_auth(TOKEN)
        .body(json!({"FEATURE_NEW_UI": "50%"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let body = refused.text().await.unwrap();
    assert!(body.contains("managed by launchdarkly"), "{body}");

    // Each decision reaches LaunchDarkly as analytics events (the SDK flushes every 5 s).
    let started = Instant::now();
    while relay.events() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no events were sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopped = server.stop();
    assert!(
        !stopped.stderr.contains("never-shown"),
        "{}",
        stopped.stderr
    );
    sdk.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_stops_the_start_naming_the_variable_never_the_key() {
    let relay = Relay::start(Some(401)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(
        dir.path(),
        &[
            ("LAUNCHDARKLY_SDK_KEY", "sdk-0000-never-shown"),
            ("LAUNCHDARKLY_RELAY_PROXY_URL", &relay.url),
        ],
        &[],
    );
    let stopped = tokio::task::block_in_place(|| server.wait());
    assert!(!stopped.status.success());
    assert!(
        stopped
            .stderr
            .contains("LaunchDarkly refused the SDK key in LAUNCHDARKLY_SDK_KEY"),
        "{}",
        stopped.stderr
    );
    assert!(
        !stopped.stderr.contains("never-shown"),
        "{}",
        stopped.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unleash_and_launchdarkly_together_are_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(
        dir.path(),
        &[
            ("UNLEASH_URL", "http://127.0.0.1:9/api"),
            ("UNLEASH_API_KEY", "default:development.k3y"),
            ("LAUNCHDARKLY_SDK_KEY", "sdk-0000"),
        ],
        &[],
    );
    let stopped = tokio::task::block_in_place(|| server.wait());
    assert!(!stopped.status.success());
    assert!(
        stopped
            .stderr
            .contains("UNLEASH_URL and LAUNCHDARKLY_SDK_KEY are both set"),
        "{}",
        stopped.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_launchdarkly_rose_serve_starts_from_the_environment_with_one_warning() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let server = Server::start(
        dir.path(),
        &[
            ("LAUNCHDARKLY_SDK_KEY", "sdk-0000-never-shown"),
            ("LAUNCHDARKLY_RELAY_PROXY_URL", &url),
            ("LAUNCHDARKLY_SEND_EVENTS", "false"),
            ("FEATURE_NEW_UI", "100%"),
        ],
        &[],
    );
    assert!(started.elapsed() < rose::WAIT);
    let client = Client::new();
    let answer = get_json(&client, server.url("/api/feature-flags?user=anyone"), None).await;
    assert_eq!(answer["new_ui"], true, "the environment's value");
    let stopped = server.stop();
    let warnings = stopped.warnings("flags_launchdarkly");
    assert_eq!(warnings.len(), 1, "{}", stopped.stderr);
    assert!(
        warnings[0].contains("the flags start from the environment alone"),
        "{}",
        warnings[0]
    );
    assert!(!stopped.stderr.contains("never-shown"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launchdarkly_reached_after_the_start_is_followed_from_then_on() {
    let relay = Relay::start_closed(None).await;
    relay.patch(&value_for_all("FEATURE_NEW_UI", 1, json!(true)));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("LAUNCHDARKLY_SDK_KEY", "sdk-0000-never-shown"),
            ("LAUNCHDARKLY_RELAY_PROXY_URL", &relay.url),
            ("LAUNCHDARKLY_SEND_EVENTS", "false"),
        ],
        &[],
    );
    let client = Client::new();
    let rose = || get_json(&client, server.url("/api/feature-flags?user=anyone"), None);
    assert_eq!(rose().await["new_ui"], false, "the environment's 0%");
    relay.open();
    eventually("following LaunchDarkly", rose, |answer| {
        answer["new_ui"] == true
    })
    .await;
    let stopped = server.stop();
    assert_eq!(
        stopped.warnings("flags_launchdarkly").len(),
        1,
        "{}",
        stopped.stderr
    );
    assert!(
        stopped
            .stderr
            .contains("INFO flags_launchdarkly: LaunchDarkly answered: the flags follow it"),
        "{}",
        stopped.stderr
    );
}
