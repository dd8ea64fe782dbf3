//! The source against a server that answers as Unleash's client API does, and misbehaves on
//! demand: what the flags take, what they refuse, and how a start without Unleash goes. (The
//! tests against a real Unleash server are in examples/tests/unleash.rs.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flags_core::evaluate::Reason;
use flags_core::live::{ChangeError, Live};
use flags_core::serde_json::{self, Value, json};
use flags_core::{FeatureFlags, Loader, Source, Variants};
use flags_unleash::{Link, StartError, Unleash};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const KEY: &str = "default:development.0123456789abcdef";

#[global_allocator]
static ALLOCATOR: flags_tests::counting::Counting = flags_tests::counting::Counting;

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
    #[flag(default = false, managed_as = "image-generation")]
    image_generation: bool,
    #[flag(default = 3)]
    max_images: u32,
    #[flag(default = Variants::new("", &[("classic", 1)]), public = "greeting")]
    greeting_style: Variants,
    #[flag(default = 8080, restart)]
    port: u16,
}

/// What the stub answers to `GET /api/client/features`.
#[derive(Clone)]
enum Reply {
    Features {
        etag: String,
        body: Vec<u8>,
    },
    Status(u16),
    /// A 200 whose `Content-Length` says this many bytes, sent in full.
    Huge(usize),
}

/// A server on loopback that answers as Unleash's client API, with what a test sets.
struct Stub {
    url: String,
    reply: Arc<Mutex<Reply>>,
    /// Each request's first line and headers, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    async fn start(reply: Reply) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        let reply = Arc::new(Mutex::new(reply));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (answering, seen) = (Arc::clone(&reply), Arc::clone(&requests));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (reply, seen) = (Arc::clone(&answering), Arc::clone(&seen));
                tokio::spawn(async move {
                    let Some((head, _)) = flags_tests::stub::read_request(&mut socket).await else {
                        return;
                    };
                    seen.lock().unwrap().push(head.clone());
                    let reply = reply.lock().unwrap().clone();
                    let answer = |status: &str, headers: &str, body: &[u8]| {
                        let mut answer = format!(
                            "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n",
                            body.len()
                        )
                        .into_bytes();
                        answer.extend_from_slice(body);
                        answer
                    };
                    let answer = if !head.starts_with("GET /api/client/features ") {
                        answer("202 Accepted", "", b"")
                    } else {
                        match reply {
                            Reply::Features { etag, .. }
                                if head
                                    .to_ascii_lowercase()
                                    .contains(&format!("if-none-match: {etag}")) =>
                            {
                                answer("304 Not Modified", &format!("etag: {etag}\r\n"), b"")
                            }
                            Reply::Features { etag, body } => answer(
                                "200 OK",
                                &format!("etag: {etag}\r\ncontent-type: application/json\r\n"),
                                &body,
                            ),
                            Reply::Status(status) => {
                                answer(&format!("{status} Refused"), "", b"{}")
                            }
                            Reply::Huge(size) => {
                                let head =
                                    format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
                                let _ = socket.write_all(head.as_bytes()).await;
                                let chunk = vec![b' '; 1 << 20];
                                let mut sent = 0;
                                while sent < size && socket.write_all(&chunk).await.is_ok() {
                                    sent += chunk.len();
                                }
                                return;
                            }
                        }
                    };
                    let _ = socket.write_all(&answer).await;
                });
            }
        });
        Stub {
            url,
            reply,
            requests,
        }
    }

    fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A feature set with `toggles`, as the client API sends it.
fn features(toggles: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"version": 2, "features": toggles})).unwrap()
}

/// A toggle on in the environment with one strategy.
fn toggle(name: &str, enabled: bool, strategy: Value) -> Value {
    json!({"name": name, "enabled": enabled, "strategies": [strategy], "variants": []})
}

fn on_for(users: &str) -> Value {
    json!({"name": "userWithId", "parameters": {"userIds": users}})
}

fn everyone() -> Value {
    json!({"name": "default", "parameters": {}})
}

fn flags() -> Arc<Live<Settings>> {
    Arc::new(
        Live::<Settings>::builder()
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap(),
    )
}

async fn start(stub: &Stub, flags: &Arc<Live<Settings>>) -> Unleash {
    let (unleash, driver) = Unleash::builder(&stub.url, KEY)
        .app_name("rose-healer")
        .refresh_interval(Duration::from_millis(50))
        .start(flags)
        .await
        .unwrap();
    tokio::spawn(driver);
    unleash
}

/// Waits, at most 10 s, for `done`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "still not {what} after 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_flags_follow_the_toggles_per_user_and_refuse_local_changes() {
    let stub = Stub::start(Reply::Features {
        etag: String::from("\"v1\""),
        body: features(json!([
            toggle("FEATURE_BETA_ENABLED", true, on_for("alice,bob")),
            toggle("image-generation", true, everyone()),
            {"name": "FEATURE_GREETING_STYLE", "enabled": true, "strategies": [everyone()],
             "variants": [{"name": "formal", "weight": 1000, "stickiness": "default",
                           "overrides": [{"contextName": "userId", "values": ["carol"]}]},
                          {"name": "casual", "weight": 0, "stickiness": "default",
                           "overrides": [{"contextName": "userId", "values": ["dave"]}]}]},
        ])),
    })
    .await;
    let flags = flags();
    let unleash = start(&stub, &flags).await;

    let now = flags.get();
    // For no user: a userWithId toggle is off, a default one on.
    assert!(!now.beta_enabled);
    assert!(now.image_generation);
    assert_eq!(
        now.source("FEATURE_IMAGE_GENERATION").unwrap().to_string(),
        "flag service unleash"
    );
    // Per user: the toggle's strategies, through evaluate and the public projection.
    let alice = now.evaluate("FEATURE_BETA_ENABLED", Some("alice")).unwrap();
    assert_eq!(
        (alice.value, alice.reason),
        (Value::Bool(true), Reason::TargetingMatch)
    );
    assert_eq!(
        now.evaluate("FEATURE_BETA_ENABLED", Some("zoe"))
            .unwrap()
            .value,
        Value::Bool(false)
    );
    assert_eq!(
        now.public_flags_for("bob").get("beta"),
        Some(&Value::Bool(true))
    );
    let dave = now
        .evaluate("FEATURE_GREETING_STYLE", Some("dave"))
        .unwrap();
    assert_eq!(
        (dave.value, dave.variant.as_deref()),
        (json!("casual"), Some("casual"))
    );
    assert_eq!(
        now.public_flags_for("erin").get("greeting"),
        Some(&json!("formal"))
    );
    // A whole Unleash context, through the handle.
    let context = flags_unleash::Context {
        user_id: Some(String::from("bob")),
        ..Default::default()
    };
    assert_eq!(
        unleash.is_enabled(&now, "FEATURE_BETA_ENABLED", &context),
        Some(true)
    );
    // No toggle: the flag keeps its value from the environment, and stays Unleash's.
    assert_eq!(now.max_images, 3);
    drop(now);

    let refused = flags
        .apply([("FEATURE_BETA_ENABLED", "true")], "alice")
        .unwrap_err();
    assert!(matches!(refused, ChangeError::Managed { .. }), "{refused}");
    assert_eq!(
        refused.to_string(),
        "FEATURE_BETA_ENABLED is managed by unleash: change it in unleash"
    );
    // A flag read at start is not Unleash's.
    assert!(flags.apply([("FEATURE_PORT", "9000")], "alice").is_err());

    // Polls with the tag get 304s; a new feature set is taken within the refresh interval.
    wait_until("polled again", || {
        stub.requests()
            .iter()
            .filter(|r| r.starts_with("GET"))
            .count()
            >= 3
    })
    .await;
    assert!(
        stub.requests()
            .iter()
            .any(|r| r.to_ascii_lowercase().contains("if-none-match: \"v1\""))
    );
    let first = stub.requests()[0].to_ascii_lowercase();
    for header in [
        "authorization: default:development.",
        "unleash-appname: rose-healer",
        "unleash-instanceid: ",
    ] {
        assert!(first.contains(header), "{first}");
    }
    stub.set(Reply::Features {
        etag: String::from("\"v2\""),
        body: features(json!([toggle("FEATURE_BETA_ENABLED", true, everyone())])),
    });
    wait_until("the flip served", || flags.get().beta_enabled).await;
    // The toggles gone: the flags go back to the environment's values.
    assert!(!flags.get().image_generation);
    assert_eq!(
        flags.get().source("FEATURE_IMAGE_GENERATION"),
        Some(&Source::Default)
    );
    let audit = flags.audit();
    let last = audit.last().unwrap();
    assert_eq!(last.actor, "unleash");
    assert_eq!(unleash.link(), Link::Up);
    // Registered, as Unleash's SDKs do.
    assert!(
        stub.requests()
            .iter()
            .any(|r| r.starts_with("POST /api/client/register "))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_feature_set_is_refused_whole_and_the_last_good_one_stays() {
    let good = features(json!([toggle("FEATURE_BETA_ENABLED", true, everyone())]));
    let stub = Stub::start(Reply::Features {
        etag: String::from("\"good\""),
        body: good,
    })
    .await;
    let flags = flags();
    let _unleash = start(&stub, &flags).await;
    assert!(flags.get().beta_enabled);
    let revision = flags.get().revision();

    let polls = || {
        stub.requests()
            .iter()
            .filter(|r| r.starts_with("GET"))
            .count()
    };
    let bad: Vec<(&str, Reply)> = vec![
        (
            "not JSON",
            Reply::Features {
                etag: String::from("\"a\""),
                body: b"<html>maintenance</html>".to_vec(),
            },
        ),
        (
            "a toggle twice",
            Reply::Features {
                etag: String::from("\"b\""),
                body: features(json!([
                    toggle("FEATURE_BETA_ENABLED", false, everyone()),
                    toggle("FEATURE_BETA_ENABLED", true, everyone())
                ])),
            },
        ),
        (
            "a payload a u32 cannot hold",
            Reply::Features {
                etag: String::from("\"c\""),
                body: features(json!([
                    toggle("FEATURE_BETA_ENABLED", false, everyone()),
                    {"name": "FEATURE_MAX_IMAGES", "enabled": true, "strategies": [everyone()],
                     "variants": [{"name": "many", "weight": 1000, "payload": {"type": "string", "value": "lots"}}]},
                ])),
            },
        ),
        ("100 MB", Reply::Huge(100 << 20)),
        ("a 500", Reply::Status(500)),
    ];
    for (what, reply) in bad {
        stub.set(reply);
        let seen = polls();
        wait_until(what, || polls() >= seen + 2).await;
        let now = flags.get();
        assert!(now.beta_enabled, "{what}");
        assert_eq!(now.max_images, 3, "{what}");
        assert_eq!(now.revision(), revision, "{what}");
    }
    // The refusal of values that do not load is audited with Unleash as actor.
    let audit = flags.audit();
    let refusal = audit
        .iter()
        .find(|event| {
            event
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("FEATURE_MAX_IMAGES"))
        })
        .unwrap();
    assert_eq!(refusal.actor, "unleash");
    assert!(
        refusal.reason.as_deref().unwrap().contains("\"lots\""),
        "{refusal:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_unleash_at_start_the_flags_start_from_the_backup_or_the_environment() {
    let directory = tempfile::tempdir().unwrap();
    let backup = directory.path().join("unleash.json");
    let stub = Stub::start(Reply::Features {
        etag: String::from("\"v1\""),
        body: features(json!([toggle("FEATURE_BETA_ENABLED", true, everyone())])),
    })
    .await;
    let flags_one = flags();
    let (unleash, driver) = Unleash::builder(&stub.url, KEY)
        .backup_file(&backup)
        .start(&flags_one)
        .await
        .unwrap();
    tokio::spawn(driver);
    assert!(flags_one.get().beta_enabled);
    assert!(backup.exists());
    drop(unleash);

    // Nothing listens there now.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let from_backup = flags();
    let (unleash, _driver) = Unleash::builder(&gone, KEY)
        .backup_file(&backup)
        .start(&from_backup)
        .await
        .unwrap();
    assert!(from_backup.get().beta_enabled);
    assert!(
        matches!(unleash.link(), Link::Down { reason } if reason.contains("cannot reach Unleash"))
    );

    let from_env = flags();
    let (_unleash, _driver) = Unleash::builder(&gone, KEY).start(&from_env).await.unwrap();
    assert!(!from_env.get().beta_enabled);
    assert!(
        from_env
            .apply([("FEATURE_BETA_ENABLED", "true")], "alice")
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_settings_and_a_refused_key_are_errors_that_never_show_the_key() {
    let stub = Stub::start(Reply::Status(401)).await;
    let secret = "default:development.s3cr3t-value";
    let refused = Unleash::builder(&stub.url, secret)
        .start(&flags())
        .await
        .unwrap_err();
    assert!(matches!(refused, StartError::Refused(_)));
    assert_eq!(
        refused.to_string(),
        "Unleash refused the API key (UNLEASH_API_KEY) with 401 Unauthorized: it takes a client \
         (backend) token of the environment to follow, as `project:environment.secret`"
    );

    let cases = [
        (
            "ftp://localhost:4242/api",
            KEY,
            "UNLEASH_URL: `ftp://localhost:4242/api` has the scheme `ftp`, not http or https; expected the URL of Unleash's API, such as http://localhost:4242/api",
        ),
        (
            "localhost:4242",
            KEY,
            "UNLEASH_URL: `localhost:4242` has the scheme `localhost`, not http or https; expected the URL of Unleash's API, such as http://localhost:4242/api",
        ),
        (
            "not a url",
            KEY,
            "UNLEASH_URL: `not a url` is not a URL (relative URL without a base); expected the URL of Unleash's API, such as http://localhost:4242/api",
        ),
        (
            &stub.url,
            "default:development.s3cr3t value",
            "UNLEASH_API_KEY has a space or a control character; a token has none (was it copied with a line break, or with `Authorization:`?)",
        ),
        (
            &stub.url,
            "*:*.s3cr3t",
            "UNLEASH_API_KEY is an admin token (`*:*.…`); the client API takes a client (backend) token, `project:environment.…`, which reads flags and cannot change them",
        ),
        (
            &stub.url,
            " ",
            "UNLEASH_API_KEY is empty; expected a client (backend) token",
        ),
    ];
    for (url, key, message) in cases {
        let error = Unleash::builder(url, key)
            .start(&flags())
            .await
            .unwrap_err();
        assert!(matches!(error, StartError::Settings(_)), "{error}");
        assert_eq!(error.to_string(), message);
        assert!(!error.to_string().contains("s3cr3t"));
    }
}

#[test]
fn a_strategy_unleash_does_not_know_is_off_and_named_with_its_toggle() {
    let body = features(json!([
        toggle(
            "FEATURE_BETA_ENABLED",
            true,
            json!({"name": "myCustomStrategy", "parameters": {}})
        ),
        toggle("image-generation", true, everyone()),
    ]));
    let (features, warnings) = flags_unleash::Features::from_json(&body, "rose-healer").unwrap();
    let alice = flags_unleash::Context {
        user_id: Some(String::from("alice")),
        ..Default::default()
    };
    assert!(!features.is_enabled("FEATURE_BETA_ENABLED", &alice));
    assert!(features.is_enabled("image-generation", &alice));
    assert_eq!(
        warnings,
        [
            "toggle `FEATURE_BETA_ENABLED`: the strategy `myCustomStrategy` is none of those Unleash's \
          SDKs know (a custom strategy), so it is off"
        ]
    );
}

/// Thirty flags, each managed by a toggle of its own.
macro_rules! wide {
    ($($field:ident),*) => {
        #[derive(FeatureFlags)]
        struct Wide {
            $(#[flag(default = false)] $field: bool,)*
        }
        const WIDE: &[&str] = &[$(stringify!($field)),*];
    };
}
wide!(
    f00, f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17, f18,
    f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29
);

#[derive(FeatureFlags)]
struct Narrow {
    #[flag(default = false)]
    f00: bool,
}

/// The allocations of one poll answered 304, for the flags `S` whose toggles are `names`, with
/// the driver, its HTTP client and the loopback server on this thread's runtime.
fn allocations_per_poll<S: FeatureFlags + Send + Sync + 'static>(names: &[&str]) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let toggles: Vec<Value> = names
        .iter()
        .map(|name| toggle(&name.to_uppercase(), true, everyone()))
        .collect();
    let (stub, _unleash) = runtime.block_on(async {
        let stub = Stub::start(Reply::Features {
            etag: String::from("\"v1\""),
            body: features(json!(toggles)),
        })
        .await;
        let flags = Arc::new(
            Live::<S>::builder()
                .without_tracing_audit()
                .load(Loader::new())
                .unwrap(),
        );
        let (unleash, driver) = Unleash::builder(&stub.url, KEY)
            .refresh_interval(Duration::from_millis(5))
            .metrics_interval(Duration::from_secs(3600))
            .start(&flags)
            .await
            .unwrap();
        assert!(
            flags
                .snapshot()
                .flag_states()
                .iter()
                .all(|state| state.value.as_deref() == Some("true"))
        );
        tokio::spawn(driver);
        tokio::time::sleep(Duration::from_millis(100)).await;
        (stub, unleash)
    });
    let polls = || {
        stub.requests()
            .iter()
            .filter(|r| r.starts_with("GET"))
            .count()
    };
    let before = polls();
    let counted = flags_tests::counting::allocations(|| {
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
    });
    let polled = polls() - before;
    assert!(polled >= 20, "{polled} polls");
    counted as f64 / polled as f64
}

/// A poll that finds nothing new (304) touches no flag: thirty managed flags cost a poll no
/// allocation more than one does (the client's request, the loopback server's answer: the same
/// for both).
#[test]
fn a_poll_that_finds_nothing_new_allocates_nothing_per_flag() {
    let narrow = allocations_per_poll::<Narrow>(&["f00"]);
    let wide = allocations_per_poll::<Wide>(WIDE);
    eprintln!("allocations per 304 poll: {narrow:.1} with one flag, {wide:.1} with thirty");
    assert!(
        wide < narrow + 3.0,
        "{wide:.1} per poll with thirty flags, {narrow:.1} with one"
    );
}
