//! The OFREP routes over real loopback HTTP: what a caller sees with and without a token, the
//! reasons and variants, the bulk answer's tag and 304, the protocol's errors for bad input, the
//! limit on bad requests, and the event stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use flags_core::live::{Change, Live};
use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader, Rollout, Variants};
use flags_http::{Api, Tokens};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-3f9c1b7e";
const CLIENT: &str = "client-token-5a1d9e02";
const CANARY: &str = "canary-ofrep-7d2e";

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
    #[flag(env = "API_KEY", secret)]
    api_key: Option<SecretString>,
    #[flag(default = Rollout::new("", 0), public = "new_ui", status = "experimental")]
    new_ui: Rollout,
    #[flag(default = Variants::new("", &[("classic", 1000)]), public = "greeting_style")]
    greeting_style: Variants,
    #[flag(default = 3)]
    max_images: u8,
    #[flag(env = "SUPPORT_EMAIL")]
    support_email: Option<String>,
}

fn live(vars: &[(&str, &str)]) -> Arc<Live<Settings>> {
    let loader = Loader::new()
        .map([("API_KEY", CANARY)])
        .map(vars.iter().copied());
    Arc::new(Live::load(loader).unwrap())
}

struct Server {
    base: String,
    client: reqwest::Client,
}

async fn serve(api: Api<Settings>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = api
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap();
    Server {
        base: format!("http://{address}"),
        client,
    }
}

fn api(flags: &Arc<Live<Settings>>) -> Api<Settings> {
    Api::new(
        Arc::clone(flags),
        Tokens::new().token(SecretString::from(ADMIN), "alice"),
    )
    .client_tokens(Tokens::new().token(SecretString::from(CLIENT), "web"))
}

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

impl Server {
    async fn post(&self, path: &str, token: Option<&str>, body: &str) -> Answer {
        self.send(
            path,
            token,
            "application/json",
            body.as_bytes().to_vec(),
            None,
        )
        .await
    }

    async fn send(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
        if_none_match: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        let (etag, retry_after) = (header("etag"), header("retry-after"));
        let text = response.text().await.unwrap();
        assert!(!text.contains(CANARY), "{path}: {text}");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"))
        };
        Answer {
            status,
            etag,
            retry_after,
            body,
        }
    }

    async fn evaluate(&self, key: &str, token: Option<&str>, user: Option<&str>) -> Answer {
        let context = match user {
            Some(user) => json!({ "context": { "targetingKey": user, "plan": "pro" } }),
            None => json!({ "context": {} }),
        };
        let path = format!("/ofrep/v1/evaluate/flags/{key}");
        self.post(&path, token, &context.to_string()).await
    }
}

#[tokio::test]
async fn without_a_token_the_public_flags_answer_by_public_name() {
    let flags = live(&[("FEATURE_BETA_ENABLED", "true")]);
    let server = serve(api(&flags)).await;
    let beta = server.evaluate("beta", None, None).await;
    assert_eq!(beta.status, StatusCode::OK);
    assert_eq!(
        beta.body,
        json!({"key": "beta", "value": true, "reason": "STATIC", "variant": "on", "metadata": {"version": 0}})
    );
    for hidden in [
        "FEATURE_BETA_ENABLED",
        "FEATURE_MAX_IMAGES",
        "API_KEY",
        "Beta",
        "bet",
    ] {
        let answer = server.evaluate(hidden, None, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{hidden}");
        assert_eq!(
            answer.body,
            json!({"key": hidden, "errorCode": "FLAG_NOT_FOUND", "errorDetails": format!("no flag {hidden}")})
        );
    }
}

#[tokio::test]
async fn a_client_token_reads_every_flag_but_the_secrets_by_variable() {
    let flags = live(&[]);
    let server = serve(api(&flags)).await;
    for token in [CLIENT, ADMIN] {
        let images = server
            .evaluate("FEATURE_MAX_IMAGES", Some(token), None)
            .await;
        assert_eq!(images.status, StatusCode::OK);
        assert_eq!(images.body["value"], 3);
        assert_eq!(images.body["reason"], "DEFAULT");
        assert_eq!(images.body["variant"], "3");
        let secret = server.evaluate("API_KEY", Some(token), None).await;
        assert_eq!(secret.status, StatusCode::NOT_FOUND);
        assert_eq!(secret.body["errorCode"], "FLAG_NOT_FOUND");
        let by_public_name = server.evaluate("beta", Some(token), None).await;
        assert_eq!(by_public_name.status, StatusCode::NOT_FOUND);
    }
    // A flag with no value answers no value: the caller's default applies.
    let email = server.evaluate("SUPPORT_EMAIL", Some(CLIENT), None).await;
    assert_eq!(
        email.body,
        json!({"key": "SUPPORT_EMAIL", "reason": "DEFAULT", "variant": "default", "metadata": {"version": 0}})
    );
    // A wrong token is refused, never read as no token.
    let wrong = server.evaluate("beta", Some("guess"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["errorCode"], "GENERAL");
}

#[tokio::test]
async fn rollouts_and_variants_answer_each_user_as_the_flags_decide() {
    let flags = live(&[
        ("FEATURE_NEW_UI", "50%; allow=vip"),
        ("FEATURE_GREETING_STYLE", "classic:50,playful:30,formal:20"),
    ]);
    let server = serve(api(&flags)).await;
    let snapshot = flags.snapshot();
    for n in 0..40 {
        let user = format!("user-{n}");
        let new_ui = server.evaluate("new_ui", None, Some(&user)).await;
        assert_eq!(new_ui.body["value"], snapshot.new_ui.is_enabled_for(&user));
        assert_eq!(new_ui.body["reason"], "SPLIT");
        assert_eq!(new_ui.body["metadata"]["status"], "experimental");
        let style = server.evaluate("greeting_style", None, Some(&user)).await;
        let expected = snapshot.greeting_style.variant_for(&user);
        assert_eq!(style.body["value"], expected);
        assert_eq!(style.body["variant"], expected);
        assert_eq!(style.body["reason"], "SPLIT");
    }
    let vip = server.evaluate("new_ui", None, Some("vip")).await;
    assert_eq!(
        (&vip.body["value"], &vip.body["reason"]),
        (&json!(true), &json!("TARGETING_MATCH"))
    );
    let nobody = server.evaluate("new_ui", None, None).await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    assert_eq!(nobody.body["errorCode"], "TARGETING_KEY_MISSING");
    assert_eq!(nobody.body["key"], "new_ui");
}

#[tokio::test]
async fn bad_input_gets_the_protocols_400_and_counts_against_the_address() {
    let flags = live(&[]);
    let server = serve(api(&flags).bad_request_limit(12, Duration::from_secs(60))).await;
    let path = "/ofrep/v1/evaluate/flags/beta";
    let fields = |count: usize| {
        let fields: Vec<String> = (0..count).map(|n| format!("\"f{n}\":{n}")).collect();
        format!("{{\"context\":{{{}}}}}", fields.join(",")).into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("application/json", b"{".to_vec(), "PARSE_ERROR"),
        ("application/json", b"{}".to_vec(), "INVALID_CONTEXT"),
        (
            "application/json",
            b"{\"context\": 7}".to_vec(),
            "INVALID_CONTEXT",
        ),
        ("application/json", b"[]".to_vec(), "INVALID_CONTEXT"),
        (
            "application/json",
            b"{\"context\": {\"targetingKey\": 42}}".to_vec(),
            "INVALID_CONTEXT",
        ),
        (
            "application/json",
            b"{\"context\": {\"targetingKey\": null}}".to_vec(),
            "INVALID_CONTEXT",
        ),
        // Over the limit of 1000 fields; 10,000 are over the limit of 64 KiB too.
        ("application/json", fields(2_000), "INVALID_CONTEXT"),
        ("application/json", fields(10_000), "PARSE_ERROR"),
        (
            "application/json",
            b"{\"context\": {\"targetingKey\": \"\xff\"}}".to_vec(),
            "PARSE_ERROR",
        ),
        ("text/plain", b"{\"context\": {}}".to_vec(), "PARSE_ERROR"),
        (
            "application/xml+jsonx",
            b"{\"context\": {}}".to_vec(),
            "PARSE_ERROR",
        ),
    ];
    // A JSON type with a suffix and parameters is JSON.
    let suffixed = "application/vnd.flags+json; charset=utf-8";
    let answer = server
        .send(path, None, suffixed, b"{\"context\": {}}".to_vec(), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    for (content_type, body, code) in cases {
        let answer = server.send(path, None, content_type, body, None).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{code}: {:?}",
            answer.body
        );
        assert_eq!(answer.body["errorCode"], code, "{:?}", answer.body);
        assert_eq!(answer.body["key"], "beta");
        assert!(
            answer.body["errorDetails"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
    // Near 64 KiB: the longest path the client sends.
    let long_key = "k".repeat(60_000);
    let answer = server.evaluate(&long_key, None, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["errorCode"], "GENERAL");
    // Twelve failures: the next request, good or not, waits.
    let limited = server.evaluate("beta", None, None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.retry_after.unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
}

#[tokio::test]
async fn the_bulk_answer_is_tagged_by_version_and_caller_and_304_until_either_changes() {
    let flags = live(&[("FEATURE_NEW_UI", "50%")]);
    let server = serve(api(&flags)).await;
    let path = "/ofrep/v1/evaluate/flags";
    let alice = r#"{"context": {"targetingKey": "alice"}}"#;
    let first = server.post(path, None, alice).await;
    assert_eq!(first.status, StatusCode::OK);
    let keys: Vec<&str> = first.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| flag["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["beta", "new_ui", "greeting_style"]);
    assert_eq!(first.body["metadata"], json!({"version": 0}));
    assert_eq!(
        first.body["eventStreams"],
        json!([{"type": "sse", "endpoint": {"requestUri": "/api/feature-flags/events"}, "inactivityDelaySec": 120}])
    );
    let tag = first.etag.unwrap();
    let json_type = "application/json";
    let again = server
        .send(path, None, json_type, alice.into(), Some(&tag))
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let bob = r#"{"context": {"targetingKey": "bob"}}"#;
    let other_user = server
        .send(path, None, json_type, bob.into(), Some(&tag))
        .await;
    assert_eq!(other_user.status, StatusCode::OK);
    let reader = server
        .send(path, Some(CLIENT), json_type, alice.into(), Some(&tag))
        .await;
    assert_eq!(reader.status, StatusCode::OK);
    assert!(
        reader.body["flags"].as_array().unwrap().len() == 5,
        "{}",
        reader.body
    );

    flags
        .commit(Change::set("test", [("FEATURE_BETA_ENABLED", "true")]))
        .await
        .unwrap();
    let changed = server
        .send(path, None, json_type, alice.into(), Some(&tag))
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.etag.unwrap(), tag);

    // What an event names for the fetch it makes: read, and refused when it cannot be.
    let after_event = format!("{path}?flagConfigEtag=%221%22&flagConfigLastModified=1771622898");
    assert_eq!(
        server.post(&after_event, None, alice).await.status,
        StatusCode::OK
    );
    let iso = format!("{path}?flagConfigLastModified=2026-02-20T21:28:18Z");
    assert_eq!(server.post(&iso, None, alice).await.status, StatusCode::OK);
    let garbled = server
        .post(
            &format!("{path}?flagConfigLastModified=yesterday"),
            None,
            alice,
        )
        .await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbled.body["errorCode"], "PARSE_ERROR");

    // Without a targeting key, the flags that decide per user say so; the rest answer.
    let anyone = server.post(path, None, r#"{"context": {}}"#).await;
    assert_eq!(
        anyone.body["flags"][1],
        json!({"key": "new_ui", "errorCode": "TARGETING_KEY_MISSING", "errorDetails": "this flag decides per user: the context needs a targetingKey"})
    );
    assert_eq!(anyone.body["flags"][0]["value"], true);
}

#[tokio::test]
async fn the_event_stream_sends_each_new_tag_and_is_bounded() {
    let flags = live(&[]);
    let server = serve(api(&flags).event_streams(1, Duration::from_secs(30))).await;
    let url = format!("{}/api/feature-flags/events", server.base);
    let mut stream = server.client.get(&url).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let mut read_until = async |stream: &mut reqwest::Response, text: &str| {
        while !seen.contains(text) {
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    read_until(&mut stream, "id: 0\n").await;
    // One stream at most: a second waits.
    let second = server.client.get(&url).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    flags
        .commit(Change::set("test", [("FEATURE_BETA_ENABLED", "true")]))
        .await
        .unwrap();
    read_until(&mut stream, "id: 1\n").await;
    assert!(
        seen.contains(r#"data: {"etag":"\"1\"","type":"refetchEvaluation"}"#),
        "{seen}"
    );
    drop(stream);
    // The closed stream no longer counts.
    let mut third = None;
    for _ in 0..50 {
        let response = server.client.get(&url).send().await.unwrap();
        if response.status() == StatusCode::OK {
            third = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(third.is_some(), "the dropped stream was never released");
}

mod bad_input {
    //! Whatever bytes a client sends as the body, the routes answer the protocol's 200, 400 or
    //! 404, never a 5xx, and never show a secret.

    use proptest::prelude::*;

    use super::*;

    /// Bodies near the protocol's, and bytes that are nothing like it.
    fn bodies() -> impl Strategy<Value = Vec<u8>> {
        let key = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
        ];
        let context = prop::collection::btree_map(
            prop_oneof![Just("targetingKey".to_owned()), "[a-zA-Z]{0,8}"],
            key,
            0..6,
        );
        prop_oneof![
            context.prop_map(|context| {
                let context: serde_json::Map<String, Value> = context.into_iter().collect();
                serde_json::to_vec(&json!({ "context": context })).unwrap()
            }),
            prop::collection::vec(any::<u8>(), 0..200),
            "[\\[\\]{}\",:0-9a-zA-Z ]{0,60}".prop_map(String::into_bytes),
        ]
    }

    #[test]
    fn any_body_gets_an_answer_of_the_protocol() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let flags = live(&[("FEATURE_NEW_UI", "50%")]);
        let api = api(&flags).bad_request_limit(u32::MAX, Duration::from_secs(1));
        let server = runtime.block_on(serve(api));
        let config = ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        };
        proptest!(config, |(body in bodies(), bulk in any::<bool>(), token in any::<bool>())| {
            let path = match bulk {
                true => "/ofrep/v1/evaluate/flags",
                false => "/ofrep/v1/evaluate/flags/new_ui",
            };
            let token = token.then_some(CLIENT);
            let answer = runtime.block_on(server.send(path, token, "application/json", body, None));
            prop_assert!(
                [200, 400, 404].contains(&answer.status.as_u16()),
                "{}: {}", answer.status, answer.body
            );
            if answer.status != StatusCode::OK {
                prop_assert!(answer.body["errorCode"].is_string(), "{}", answer.body);
            }
        });
    }
}
