//! The routes over real loopback HTTP, a server on a random port per test: who may use the admin
//! side, what a change does and refuses, conditional requests, bad input, and secrets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use flags_core::live::{
    AuditEvent, CommitOutcome, Live, Store, StoreError, StoreFuture, StoreState, Stored,
};
use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader, Rollout};
use flags_http::{Api, Tokens};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "admin-token-3f9c1b7e";
const DEPLOY_TOKEN: &str = "deploy-token-81aa0c52";
const CANARY: &str = "canary-http-7d2e";

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    /// The beta: on only with its token.
    #[flag(default = false, public = "beta", requires = "BETA_TOKEN")]
    beta_enabled: bool,
    /// The beta's token: a secret that may change live.
    #[flag(env = "BETA_TOKEN", secret, live)]
    beta_token: Option<SecretString>,
    /// A secret that cannot change live.
    #[flag(env = "API_KEY", secret)]
    api_key: Option<SecretString>,
    /// Read once, at start.
    #[flag(default = 8080, restart)]
    port: u16,
    /// The new checkout, for some users.
    #[flag(default = Rollout::new("", 0), public = "new_checkout")]
    new_checkout: Rollout,
    #[flag(default = 3, public)]
    max_images: u8,
    /// A flag that should be gone by now.
    #[flag(default = false, expires = "2020-01-31")]
    old_banner: bool,
}

fn live() -> Arc<Live<Settings>> {
    let loader = Loader::new().map([("API_KEY", CANARY)]);
    Arc::new(Live::load(loader).unwrap())
}

fn tokens() -> Tokens {
    Tokens::new()
        .token(SecretString::from(TOKEN), "alice")
        .token(SecretString::from(DEPLOY_TOKEN), "deploy")
}

/// A server on a random loopback port, stopped with the test's runtime.
struct Server {
    address: SocketAddr,
    client: reqwest::Client,
}

async fn serve(router: axum::Router) -> Server {
    serve_on(router, "127.0.0.1:0").await
}

/// `router` served on `address` (loopback).
async fn serve_on(router: axum::Router, address: &str) -> Server {
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap();
    Server { address, client }
}

async fn server(flags: &Arc<Live<Settings>>) -> Server {
    let api = Api::new(Arc::clone(flags), tokens()).failure_limit(1000, Duration::from_secs(60));
    serve(api.router()).await
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            let body = String::from_utf8_lossy(&self.body);
            panic!("{} is not JSON ({error}): {body}", self.status)
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The message of an error body, which every error has.
    fn message(&self) -> String {
        let json = self.json();
        json["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {json}"))
            .to_owned()
    }

    /// Each problem of a refused change, as `kind variable`.
    fn problems(&self) -> Vec<String> {
        let json = self.json();
        let problems = json["problems"].as_array().cloned().unwrap_or_default();
        problems
            .iter()
            .map(|problem| format!("{} {}", problem["kind"], problem["variable"]))
            .collect()
    }
}

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let url = format!("http://{}{path}", self.address);
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_str(value).unwrap());
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], None).await
    }

    async fn patch(&self, body: Value, token: Option<&str>) -> Reply {
        let body = serde_json::to_vec(&body).unwrap();
        let path = "/api/admin/feature-flags";
        self.send(Method::PATCH, path, token, &[], Some(body)).await
    }

    /// A change made on the versions `tag` names (`If-Match`).
    async fn patch_if(&self, tag: &str, body: Value) -> Reply {
        let body = serde_json::to_vec(&body).unwrap();
        let path = "/api/admin/feature-flags";
        let headers = [("if-match", tag)];
        self.send(Method::PATCH, path, Some(TOKEN), &headers, Some(body))
            .await
    }

    async fn public(&self) -> Value {
        let reply = self.get("/api/feature-flags", None).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.json()
    }
}

/// Each admin route, as a request that succeeds with the right token (in this order).
fn admin_requests() -> Vec<(Method, &'static str, Option<Vec<u8>>)> {
    let change = br#"{"FEATURE_MAX_IMAGES": 5}"#.to_vec();
    vec![
        (Method::GET, "/api/admin/feature-flags", None),
        (Method::PATCH, "/api/admin/feature-flags", Some(change)),
        (
            Method::DELETE,
            "/api/admin/feature-flags/FEATURE_MAX_IMAGES",
            None,
        ),
        (Method::POST, "/api/admin/feature-flags/rollback", None),
        (Method::GET, "/api/admin/audit", None),
    ]
}

#[tokio::test]
async fn every_admin_route_answers_the_right_token_only() {
    let flags = live();
    let server = server(&flags).await;
    for (method, path, body) in admin_requests() {
        let none = server
            .send(method.clone(), path, None, &[], body.clone())
            .await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(
            none.header("www-authenticate"),
            Some("Bearer realm=\"flags admin\"")
        );
        assert_eq!(
            none.message(),
            "the admin API needs a token: send `Authorization: Bearer <token>`"
        );

        let wrong = Some("admin-token-3f9c1b7f");
        let wrong = server
            .send(method.clone(), path, wrong, &[], body.clone())
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(wrong.message(), "the token is not valid for the admin API");

        // Another scheme is no token.
        let basic = [("authorization", "Basic YWxpY2U6c2VjcmV0")];
        let basic = server
            .send(method.clone(), path, None, &basic, body.clone())
            .await;
        assert_eq!(basic.status, StatusCode::UNAUTHORIZED, "{method} {path}");

        let right = server
            .send(method.clone(), path, Some(TOKEN), &[], body)
            .await;
        assert_eq!(
            right.status,
            StatusCode::OK,
            "{method} {path}: {}",
            right.message()
        );
        assert_eq!(right.header("cache-control"), Some("no-store"));
    }
    // Nothing the refused requests asked for happened: one change, one reset, one rollback.
    assert_eq!(flags.version(), 3);
    let actors: Vec<String> = flags
        .audit()
        .iter()
        .map(|event| event.actor.clone())
        .collect();
    assert_eq!(actors, ["alice", "alice", "alice"]);

    // Each token is its actor, and the scheme's case does not matter.
    let deploy = [("authorization", format!("bearer {DEPLOY_TOKEN}"))];
    let deploy = [(deploy[0].0, deploy[0].1.as_str())];
    let body = br#"{"FEATURE_MAX_IMAGES": 7}"#.to_vec();
    let path = "/api/admin/feature-flags";
    let reply = server
        .send(Method::PATCH, path, None, &deploy, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(flags.audit().last().unwrap().actor, "deploy");
}

#[tokio::test]
async fn with_no_token_configured_the_admin_routes_never_answer_2xx() {
    let flags = live();
    let router = Api::new(
        Arc::clone(&flags),
        Tokens::new().token(SecretString::from(""), "x"),
    )
    .failure_limit(1000, Duration::from_secs(60))
    .router();
    let server = serve(router).await;
    for (method, path, body) in admin_requests() {
        for token in [None, Some(""), Some(TOKEN)] {
            let reply = server
                .send(method.clone(), path, token, &[], body.clone())
                .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} {path} {token:?}"
            );
            assert_eq!(
                reply.message(),
                "the admin API is disabled: no token is configured for it"
            );
        }
    }
    assert_eq!(flags.version(), 0);
    assert_eq!(server.get("/api/health", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429_until_the_window_ends_whatever_the_token() {
    let flags = live();
    let router = Api::new(Arc::clone(&flags), tokens())
        .failure_limit(3, Duration::from_secs(600))
        .router();
    let server = serve(router).await;
    let path = "/api/admin/feature-flags";
    // A request with no token guesses nothing, and does not count: else anyone could lock the
    // admins out.
    for _ in 0..5 {
        assert_eq!(
            server.get(path, None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..3 {
        assert_eq!(
            server.get(path, Some("guess")).await.status,
            StatusCode::FORBIDDEN
        );
    }
    // Blocked now: even the right token learns nothing until the window ends.
    for token in [Some("guess"), Some(TOKEN), None] {
        let reply = server.get(path, token).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=600).contains(&retry_after), "{retry_after}");
        assert!(
            reply
                .message()
                .starts_with("too many failed attempts to authenticate from this address"),
            "{}",
            reply.message()
        );
    }
    // The public routes are not the admin's to limit.
    assert_eq!(
        server.get("/api/feature-flags", None).await.status,
        StatusCode::OK
    );
}

/// The status of a GET of `path` with `token`, sent from the loopback address `from` over a
/// connection of its own.
async fn status_from(server: SocketAddr, from: std::net::Ipv4Addr, path: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {server}\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer[9..12].parse().unwrap()
}

/// Issue 22's attacks on the limit of failed authentications: wrong tokens from `[::1]` (once
/// counted with every address it did not know), and a flood of addresses filling its memory;
/// neither refuses the admin at another address, whose emergency rollback must work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_from_other_addresses_never_refuse_the_admin() {
    let flags = live();
    let router = Api::new(Arc::clone(&flags), tokens())
        .failure_limit(1, Duration::from_secs(600))
        .router();
    let path = "/api/admin/feature-flags";
    // One API, on IPv4 and IPv6 loopback.
    let v4 = serve(router.clone()).await;
    let v6 = serve_on(router, "[::1]:0").await;
    assert_eq!(
        v6.get(path, Some("guess")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        v6.get(path, Some(TOKEN)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(v4.get(path, Some(TOKEN)).await.status, StatusCode::OK);

    // 4,106 other loopback addresses each fail once, and are refused after.
    let attacker = |n: u32| std::net::Ipv4Addr::from(0x7f01_0000 + n);
    for n in 0..4106 {
        assert_eq!(
            status_from(v4.address, attacker(n), path, "guess").await,
            403
        );
    }
    assert_eq!(status_from(v4.address, attacker(7), path, TOKEN).await, 429);
    // The admin at 127.0.0.1 is not, nor the rollback.
    assert_eq!(v4.get(path, Some(TOKEN)).await.status, StatusCode::OK);
    let admin = std::net::Ipv4Addr::LOCALHOST;
    assert_eq!(status_from(v4.address, admin, path, TOKEN).await, 200);
}

/// Issue 22: `ADMIN_TOKEN=" x "` could never sign in, the token a request presents being read
/// without its spaces and the configured one kept with them.
#[tokio::test]
async fn a_token_configured_with_spaces_around_it_signs_in_as_a_request_presents_it() {
    let flags = live();
    let tokens = Tokens::new().token(SecretString::from(" sp4ced-token\n"), "alice");
    let server = serve(Api::new(Arc::clone(&flags), tokens).router()).await;
    let path = "/api/admin/feature-flags";
    assert_eq!(
        server.get(path, Some("sp4ced-token")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get(path, Some(" sp4ced-token ")).await.status,
        StatusCode::OK
    );
    // A token of spaces alone is none: it opens nothing.
    let blank = Tokens::new().token(SecretString::from(" \t "), "nobody");
    assert!(blank.is_empty());
}

/// The lowercase hex of a token's SHA-256: what `sha256sum` prints.
fn sha256_hex(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Each person's token, from a file of digests, signs their changes with their name; a token
/// that only reads reads and never changes; a malformed line is an error naming the line, never
/// quoting it.
#[tokio::test]
async fn named_tokens_from_a_file_tell_people_apart_and_a_read_only_token_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admins");
    let lines = format!(
        "# who may change the flags\n\nbob:{}\nmetrics:{}:read\ncarol : {} \n",
        sha256_hex("bobs-token"),
        sha256_hex("metrics-token"),
        sha256_hex("carols-token").to_uppercase(),
    );
    std::fs::write(&path, lines).unwrap();
    let tokens = Tokens::new()
        .tokens_file(&path)
        .unwrap()
        .token(SecretString::from(TOKEN), "admin");
    assert_eq!(
        format!("{tokens:?}"),
        r#"Tokens { actors: ["bob", "metrics (read only)", "carol", "admin"] }"#
    );
    let flags = live();
    let server = serve(Api::new(Arc::clone(&flags), tokens).router()).await;
    let change = |value: u8| Some(format!(r#"{{"FEATURE_MAX_IMAGES": {value}}}"#).into_bytes());
    let path = "/api/admin/feature-flags";
    for (token, value) in [("bobs-token", 4), ("carols-token", 5), (TOKEN, 6)] {
        let reply = server
            .send(Method::PATCH, path, Some(token), &[], change(value))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{token}");
    }
    let reply = server.get("/api/admin/audit", Some("metrics-token")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let actors: Vec<Value> = reply.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["actor"].clone())
        .collect();
    assert_eq!(actors, [json!("bob"), json!("carol"), json!("admin")]);
    // The read-only token: every change route is 403, saying why; nothing changed.
    let reset = "/api/admin/feature-flags/FEATURE_MAX_IMAGES";
    let rollback = "/api/admin/feature-flags/rollback";
    for (method, path, body) in [
        (Method::PATCH, path, change(7)),
        (Method::DELETE, reset, None),
        (Method::POST, rollback, None),
    ] {
        let reply = server
            .send(method.clone(), path, Some("metrics-token"), &[], body)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            reply.message(),
            "the token reads only: a change needs a token that may make one"
        );
    }
    assert_eq!((flags.version(), flags.get().max_images), (3, 6));

    // A token pasted in clear, a missing digest, a second name for one token: refused, naming
    // the file and the line, and quoting none of it.
    let malformed = [
        (
            "dave:a-token-pasted-in-clear",
            "line 1: expected name:sha256-hex-of-token, or name:sha256-hex-of-token:read: the digest is 23 characters, not 64 hexadecimal digits (what sha256sum prints of the token)",
        ),
        (
            "a-token-pasted-alone",
            "line 1: expected name:sha256-hex-of-token, or name:sha256-hex-of-token:read",
        ),
        (
            &format!(":{}", sha256_hex("x")),
            "line 1: expected name:sha256-hex-of-token, or name:sha256-hex-of-token:read: the name is empty or holds a control character",
        ),
        (
            &format!("eve:{}:admin", sha256_hex("x")),
            "line 1: expected name:sha256-hex-of-token, or name:sha256-hex-of-token:read: the access after the digest is read or write",
        ),
        (
            &format!("eve:{0}\nmallory:{0}", sha256_hex("x")),
            "line 2: this token is eve's already: each token names one actor",
        ),
    ];
    for (text, expected) in malformed {
        std::fs::write(dir.path().join("bad"), text).unwrap();
        let error = Tokens::new()
            .tokens_file(dir.path().join("bad"))
            .unwrap_err();
        let shown = error.to_string();
        assert_eq!(
            shown,
            format!("{} {expected}", dir.path().join("bad").display())
        );
        assert!(!shown.contains("pasted"), "{shown}");
    }
    let missing = Tokens::new()
        .tokens_file(dir.path().join("none"))
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("cannot read the tokens file "),
        "{missing}"
    );
}

/// A body declared larger than the limit, whose client asks first (`Expect: 100-continue`), is
/// refused at once: the client is never told to send it.
#[tokio::test]
async fn a_body_declared_too_large_is_413_before_the_client_is_told_to_send_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let flags = live();
    let server = server(&flags).await;
    let ask = |path: &str, token: &str| {
        format!(
            "PATCH {path} HTTP/1.1\r\nHost: flags\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 10485760\r\n\
             Expect: 100-continue\r\n\r\n"
        )
    };
    let ofrep = ask("/ofrep/v1/evaluate/flags", TOKEN).replacen("PATCH", "POST", 1);
    for (request, status) in [
        (ask("/api/admin/feature-flags", TOKEN), "413"),
        (ofrep, "400"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(server.address)
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = vec![0; 4096];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
            .await
            .expect("no answer before the body")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{request}: {answer}"
        );
        assert!(!answer.contains("100 Continue"), "{answer}");
    }
    assert_eq!(flags.version(), 0);
}

#[tokio::test]
async fn a_valid_change_is_on_the_public_route_at_once() {
    let flags = live();
    let server = server(&flags).await;
    assert_eq!(
        server.public().await,
        json!({"beta": false, "max_images": 3})
    );

    let reply = server
        .patch(
            json!({"FEATURE_BETA_ENABLED": true, "BETA_TOKEN": "t0ken", "FEATURE_MAX_IMAGES": "4"}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"version": 1, "changed": true}));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(
        server.public().await,
        json!({"beta": true, "max_images": 4})
    );

    // null resets, in the same change as a set.
    let reply = server
        .patch(
            json!({"FEATURE_MAX_IMAGES": null, "FEATURE_BETA_ENABLED": "false"}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(reply.json(), json!({"version": 2, "changed": true}));
    assert_eq!(
        server.public().await,
        json!({"beta": false, "max_images": 3})
    );

    let health = server.get("/api/health", None).await;
    assert_eq!(
        health.json(),
        json!({"status": "ok", "version": 2, "store": null})
    );
}

#[tokio::test]
async fn an_invalid_change_is_422_with_every_problem_and_changes_nothing() {
    let flags = live();
    let server = server(&flags).await;
    let reply = server
        .patch(
            json!({"FEATURE_MAX_IMAGES": "lots", "FEATURE_BETA_ENABLED": true, "FEATURE_BETA_ENABLD": 1}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.problems(),
        [
            r#""unknown" "FEATURE_BETA_ENABLD""#,
            r#""invalid" "FEATURE_MAX_IMAGES""#,
            r#""unmet" "FEATURE_BETA_ENABLED""#,
        ]
    );
    let message = reply.message();
    assert!(
        message.contains(
            "FEATURE_MAX_IMAGES: invalid value \"lots\", expected an integer from 0 to 255"
        ),
        "{message}"
    );
    assert!(
        message.contains("did you mean FEATURE_BETA_ENABLED?"),
        "{message}"
    );
    assert_eq!(flags.version(), 0);
    assert_eq!(
        server.public().await,
        json!({"beta": false, "max_images": 3})
    );

    // A requirement a change would break is a problem of the change too.
    let reply = server
        .patch(json!({"FEATURE_BETA_ENABLED": true}), Some(TOKEN))
        .await;
    assert_eq!(reply.problems(), [r#""unmet" "FEATURE_BETA_ENABLED""#]);

    let audit = server.get("/api/admin/audit", Some(TOKEN)).await.json();
    let outcomes: Vec<&Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| &event["outcome"])
        .collect();
    assert_eq!(outcomes, ["rejected", "rejected"]);
}

/// An operator's reason goes with the change into the audit, with the change's kind; saving a
/// value the flag holds already says it changed nothing, and makes no version.
#[tokio::test]
async fn a_comment_is_audited_with_the_change_and_saving_the_same_value_changes_nothing() {
    let flags = live();
    let server = server(&flags).await;
    let path = "/api/admin/feature-flags?comment=Images%20for%20the%20launch%2C%20INC-231";
    let body = || Some(br#"{"FEATURE_MAX_IMAGES": 4}"#.to_vec());
    let reply = server
        .send(Method::PATCH, path, Some(TOKEN), &[], body())
        .await;
    assert_eq!(reply.json(), json!({"version": 1, "changed": true}));
    let reply = server
        .send(Method::PATCH, path, Some(TOKEN), &[], body())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"version": 1, "changed": false}));
    assert_eq!(reply.header("etag"), Some("\"1\""));

    let rollback = "/api/admin/feature-flags/rollback?comment=back%20to%20five";
    let reply = server
        .send(Method::POST, rollback, Some(TOKEN), &[], None)
        .await;
    assert_eq!(reply.json(), json!({"version": 2, "changed": true}));
    let reset = "/api/admin/feature-flags/FEATURE_MAX_IMAGES?comment=";
    let reply = server
        .send(Method::DELETE, reset, Some(TOKEN), &[], None)
        .await;
    assert_eq!(reply.json(), json!({"version": 2, "changed": false}));

    let audit = server.get("/api/admin/audit", Some(TOKEN)).await.json();
    let events: Vec<(Value, Value, Value)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["version"].clone(),
                event["kind"].clone(),
                event["comment"].clone(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                json!(1),
                json!("set"),
                json!("Images for the launch, INC-231")
            ),
            (json!(2), json!("rollback"), json!("back to five")),
        ]
    );

    // A comment is one line of text, of 500 characters at most: anything else is 400, naming
    // what is wrong, and nothing is changed.
    let long = format!("/api/admin/feature-flags?comment={}", "a".repeat(501));
    let reply = server
        .send(Method::PATCH, &long, Some(TOKEN), &[], body())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.message(),
        "comment: 501 characters; a change's comment is at most 500"
    );
    let forged = "/api/admin/feature-flags?comment=ok%0A2026-12-05%20INFO%20forged";
    let reply = server
        .send(Method::PATCH, forged, Some(TOKEN), &[], body())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.message().contains("control character"),
        "{}",
        reply.message()
    );
    assert_eq!(flags.version(), 2);
}

#[tokio::test]
async fn a_restart_flag_and_a_secret_that_does_not_opt_in_are_refused() {
    let flags = live();
    let server = server(&flags).await;
    let reply = server
        .patch(
            json!({"FEATURE_PORT": 9090, "API_KEY": "new-key-5a1f"}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.problems(),
        [
            r#""secret_not_live" "API_KEY""#,
            r#""needs_restart" "FEATURE_PORT""#,
        ]
    );
    assert_eq!(
        reply.message(),
        "API_KEY: a secret changes live only if its flag says #[flag(secret, live)]: set it in the environment and restart\n\
         FEATURE_PORT: read only at start (#[flag(restart)]), so it cannot change live: set it in the environment and restart"
    );
    assert!(!String::from_utf8_lossy(&reply.body).contains("new-key-5a1f"));
    assert_eq!(flags.version(), 0);
}

#[tokio::test]
async fn a_change_on_a_stale_version_gets_412_and_a_current_one_goes_ahead() {
    let flags = live();
    let server = server(&flags).await;
    let reply = server
        .patch_if("\"0\"", json!({"FEATURE_MAX_IMAGES": 4}))
        .await;
    assert_eq!(reply.json(), json!({"version": 1, "changed": true}));

    // Version 0 is stale now: refused, with the current version to redo the change on.
    let reply = server
        .patch_if("\"0\"", json!({"FEATURE_MAX_IMAGES": 5}))
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    // Nothing is wrong with the values: the message says what is.
    assert!(reply.problems().is_empty());
    assert_eq!(
        reply.message(),
        "the flags changed since version 0: they are at version 1; read them again and redo the \
         change"
    );
    // A list that names the current version, or any version, goes ahead.
    let reply = server
        .patch_if("\"0\", \"1\"", json!({"FEATURE_MAX_IMAGES": 6}))
        .await;
    assert_eq!(reply.json(), json!({"version": 2, "changed": true}));
    let reply = server.patch_if("*", json!({"FEATURE_MAX_IMAGES": 7})).await;
    assert_eq!(reply.json(), json!({"version": 3, "changed": true}));
    // A weak or unreadable tag names no version: refused, with the tag to redo the change on.
    let reply = server
        .patch_if("W/\"3\"", json!({"FEATURE_MAX_IMAGES": 8}))
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(
        reply.message(),
        "If-Match: a change needs a strong tag such as \"3\" (weak W/ tags never match); the \
         flags are at version 3"
    );
    let reply = server.patch_if("3", json!({"FEATURE_MAX_IMAGES": 8})).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(flags.version(), 3);
    // DELETE and rollback take it too.
    let reset = "/api/admin/feature-flags/FEATURE_MAX_IMAGES";
    let reply = server
        .send(
            Method::DELETE,
            reset,
            Some(TOKEN),
            &[("if-match", "\"2\"")],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    let rollback = "/api/admin/feature-flags/rollback";
    let reply = server
        .send(
            Method::POST,
            rollback,
            Some(TOKEN),
            &[("if-match", "\"3\"")],
            None,
        )
        .await;
    assert_eq!(reply.json(), json!({"version": 4, "changed": true}));
    assert_eq!(flags.get().max_images, 6);
}

#[tokio::test]
async fn the_public_flags_etag_is_the_version_and_if_none_match_gets_304() {
    let flags = live();
    let server = server(&flags).await;
    let first = server.get("/api/feature-flags", None).await;
    assert_eq!(first.header("etag"), Some("\"0\""));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("cache-control"), Some("no-cache"));

    let path = "/api/feature-flags";
    let again = server
        .send(Method::GET, path, None, &[("if-none-match", "\"0\"")], None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), Some("\"0\""));
    assert!(again.body.is_empty());

    server
        .patch(json!({"FEATURE_MAX_IMAGES": 9}), Some(TOKEN))
        .await;
    let changed = server
        .send(Method::GET, path, None, &[("if-none-match", "\"0\"")], None)
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.header("etag"), Some("\"1\""));
    assert_eq!(changed.json()["max_images"], 9);
}

#[tokio::test]
async fn with_a_user_rollouts_are_decided_and_without_one_they_are_left_out() {
    let flags = live();
    let server = server(&flags).await;
    let reply = server
        .patch(json!({"FEATURE_NEW_CHECKOUT": "100%"}), Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let public = server.public().await;
    assert_eq!(public.get("new_checkout"), None);

    let reply = server.get("/api/feature-flags?user=alice", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("private, no-cache"));
    assert_eq!(
        reply.json(),
        json!({"beta": false, "new_checkout": true, "max_images": 3})
    );
    let reply = server.get("/api/feature-flags?user=a&user=b", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .message()
            .starts_with("the query string cannot be read: "),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn bad_bodies_get_clear_json_errors_and_the_server_stays_up() {
    let flags = live();
    let server = server(&flags).await;
    let path = "/api/admin/feature-flags";
    let send = |body: Vec<u8>| server.send(Method::PATCH, path, Some(TOKEN), &[], Some(body));

    let reply = send(b"{\"FEATURE_MAX_IMAGES\": 4".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.message(),
        "the body is not valid JSON: EOF while parsing an object at line 1 column 24"
    );

    let reply = send(vec![b' '; 1024 * 1024]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.message(),
        "the body is over 64 KiB, more than any change of flags needs"
    );

    let reply = send(b"{\"FEATURE_MAX_IMAGES\": \"\xff4\"}".to_vec()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.problems(), [r#""not_unicode" "FEATURE_MAX_IMAGES""#]);
    assert_eq!(
        reply.message(),
        "FEATURE_MAX_IMAGES: the value is not valid UTF-8"
    );

    let reply = send(b"{}".to_vec()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.message(),
        "the change names no variable: nothing to change"
    );

    let reply = send(b"[\"FEATURE_MAX_IMAGES\"]".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = send(Vec::new()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.message().starts_with("the body is empty"),
        "{}",
        reply.message()
    );

    // A variable in the path: unknown, or not UTF-8, named either way.
    let unknown = "/api/admin/feature-flags/FEATURE_MAX_IMAGE";
    let reply = server
        .send(Method::DELETE, unknown, Some(TOKEN), &[], None)
        .await;
    // Issue 22 and SPEC §6: not found, as the resource the path names is not there.
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.problems(), [r#""unknown" "FEATURE_MAX_IMAGE""#]);
    assert!(
        reply.message().contains("did you mean FEATURE_MAX_IMAGES?"),
        "{}",
        reply.message()
    );
    let garbled = "/api/admin/feature-flags/FEATURE_%FFX";
    let reply = server
        .send(Method::DELETE, garbled, Some(TOKEN), &[], None)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.message(),
        "FEATURE_\u{fffd}X: the variable's name is not valid UTF-8"
    );

    // A method the path does not take.
    let reply = server.send(Method::PUT, path, Some(TOKEN), &[], None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET,HEAD,PATCH"));
    reply.message();

    // A rollback with nothing to go back to.
    let rollback = "/api/admin/feature-flags/rollback";
    let reply = server
        .send(Method::POST, rollback, Some(TOKEN), &[], None)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.message(),
        "nothing to roll back: version 0 has no earlier version in this process"
    );

    assert_eq!(flags.version(), 0);
    assert_eq!(server.get("/api/health", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_audit_lists_events_newest_last_and_limit_keeps_the_newest() {
    let flags = live();
    let server = server(&flags).await;
    for images in [4, 5, 6] {
        server
            .patch(json!({"FEATURE_MAX_IMAGES": images}), Some(TOKEN))
            .await;
    }
    let audit = server
        .get("/api/admin/audit?limit=2", Some(TOKEN))
        .await
        .json();
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["version"], 2);
    assert_eq!(events[1]["version"], 3);
    assert_eq!(
        events[1]["changes"],
        json!([{"flag": "FEATURE_MAX_IMAGES", "old": "5", "new": "6"}])
    );
    let keys: Vec<&String> = events[1].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "actor", "at", "changes", "comment", "kind", "outcome", "reason", "version"
        ]
    );
    let reply = server.get("/api/admin/audit?limit=many", Some(TOKEN)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // The page before: the events before the oldest of this one.
    let oldest = events[0]["at"].as_str().unwrap();
    let before = server
        .get(
            &format!("/api/admin/audit?limit=2&before={oldest}"),
            Some(TOKEN),
        )
        .await
        .json();
    let versions: Vec<&Value> = before["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| &event["version"])
        .collect();
    assert_eq!(versions, [1]);
    let reply = server
        .get("/api/admin/audit?before=yesterday", Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .message()
            .starts_with("before=\"yesterday\" is not a time")
    );
}

#[tokio::test]
async fn the_admin_list_shows_every_flag_as_an_operator_needs_it() {
    let flags = live();
    let server = server(&flags).await;
    server
        .patch(json!({"FEATURE_MAX_IMAGES": 4}), Some(TOKEN))
        .await;
    let reply = server.get("/api/admin/feature-flags", Some(TOKEN)).await;
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let list = reply.json();
    assert_eq!(list["version"], 1);
    let flags = list["flags"].as_array().unwrap();
    let variables: Vec<&Value> = flags.iter().map(|flag| &flag["variable"]).collect();
    assert_eq!(
        variables,
        [
            "FEATURE_BETA_ENABLED",
            "BETA_TOKEN",
            "API_KEY",
            "FEATURE_PORT",
            "FEATURE_NEW_CHECKOUT",
            "FEATURE_MAX_IMAGES",
            "FEATURE_OLD_BANNER"
        ]
    );
    assert_eq!(
        flags[5],
        json!({
            "variable": "FEATURE_MAX_IMAGES", "field": "max_images", "type": "u8", "value": 4,
            "text": "4",
            "source": {"kind": "override", "actor": "alice", "version": 1,
                       "text": "override by alice (version 1)"},
            "default": "3", "description": "", "status": null, "expires": null, "expired": false,
            "group": null,
            "public": "max_images", "secret": false, "required": false, "needs_restart": false,
            "changes_live": true, "managed_by": null, "values": [], "requires": []
        })
    );
    assert_eq!(flags[0]["requires"], json!(["BETA_TOKEN"]));
    assert_eq!(flags[0]["description"], "The beta: on only with its token.");
    assert_eq!(flags[2]["value"], "<redacted>");
    assert_eq!(flags[2]["text"], "<redacted>");
    assert_eq!(flags[0]["value"], false);
    assert_eq!(flags[0]["text"], "false");
    assert_eq!(flags[3]["value"], 8080);
    // A rollout is decided per user: its value is its text.
    assert_eq!(flags[4]["value"], flags[4]["text"]);
    assert!(flags[4]["value"].is_string(), "{}", flags[4]);
    assert_eq!(flags[2]["source"]["kind"], "map");
    assert_eq!(flags[1]["value"], Value::Null);
    assert_eq!(flags[3]["needs_restart"], true);
    assert_eq!(flags[3]["changes_live"], false);
    assert_eq!(flags[2]["changes_live"], false);
    assert_eq!(flags[1]["changes_live"], true);
    assert_eq!(flags[6]["expires"], "2020-01-31");
    assert_eq!(flags[6]["expired"], true);

    // A page polling for changes gets 304 until there is one.
    let path = "/api/admin/feature-flags";
    let polled = [("if-none-match", "\"1\"")];
    let reply = server
        .send(Method::GET, path, Some(TOKEN), &polled, None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    server
        .patch(json!({"FEATURE_MAX_IMAGES": 5}), Some(TOKEN))
        .await;
    let reply = server
        .send(Method::GET, path, Some(TOKEN), &polled, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["version"], 2);
}

/// The canary is in a secret loaded at start and in one set live; every route is asked, every
/// way it can fail included, and none says it.
#[tokio::test]
async fn a_canary_secret_appears_in_no_response_of_any_route() {
    let flags = live();
    let server = server(&flags).await;
    let mut replies = Vec::new();
    replies.push(
        server
            .patch(json!({"BETA_TOKEN": CANARY}), Some(TOKEN))
            .await,
    );
    assert_eq!(replies[0].status, StatusCode::OK);
    let body = |value: Value| Some(serde_json::to_vec(&value).unwrap());
    let requests = [
        (Method::GET, "/api/feature-flags", None, None),
        (Method::GET, "/api/feature-flags?user=alice", None, None),
        (Method::GET, "/api/health", None, None),
        (Method::GET, "/api/admin/feature-flags", Some(TOKEN), None),
        (Method::GET, "/api/admin/audit", Some(TOKEN), None),
        // Refused: a secret that does not change live, given the canary; one with a bad value.
        (
            Method::PATCH,
            "/api/admin/feature-flags",
            Some(TOKEN),
            body(json!({"API_KEY": CANARY})),
        ),
        (
            Method::PATCH,
            "/api/admin/feature-flags",
            Some(TOKEN),
            body(json!({"FEATURE_MAX_IMAGES": "many", "BETA_TOKEN": CANARY})),
        ),
        // Unmet: the token goes while the flag that requires it is on.
        (
            Method::PATCH,
            "/api/admin/feature-flags",
            Some(TOKEN),
            body(json!({"FEATURE_BETA_ENABLED": true})),
        ),
        (
            Method::DELETE,
            "/api/admin/feature-flags/BETA_TOKEN",
            Some(TOKEN),
            None,
        ),
        (
            Method::POST,
            "/api/admin/feature-flags/rollback",
            Some(TOKEN),
            None,
        ),
        (
            Method::POST,
            "/api/admin/feature-flags/rollback",
            Some(TOKEN),
            None,
        ),
        (Method::GET, "/api/admin/feature-flags", Some(TOKEN), None),
        (Method::GET, "/api/admin/audit", Some(TOKEN), None),
        (Method::GET, "/api/admin/audit", Some(CANARY), None),
    ];
    for (method, path, token, body) in requests {
        replies.push(server.send(method, path, token, &[], body).await);
    }
    for reply in &replies {
        let body = String::from_utf8_lossy(&reply.body);
        assert!(!body.contains(CANARY), "{}: {body}", reply.status);
        for (name, value) in &reply.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(!value.contains(CANARY), "{name}: {value}");
        }
    }
    // The requests did reach the secrets: the audit redacts what they did.
    let audit = &replies[5].json()["events"];
    assert_eq!(
        audit[0]["changes"],
        json!([{"flag": "BETA_TOKEN", "old": null, "new": "<redacted>"}])
    );
}

/// A store that cannot commit: its reason names a path the client must not learn.
struct BrokenStore;

impl Store for BrokenStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        Ok(None)
    }

    fn commit<'a>(
        &'a self,
        _: u64,
        _: &'a Stored,
        _: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let full = std::io::Error::other("disk full");
        let error = StoreError::unavailable("cannot write /srv/private/flags.json", full);
        Box::pin(std::future::ready(Err(error)))
    }

    fn state(&self) -> StoreState {
        StoreState::Unreachable {
            reason: String::from("cannot write /srv/private/flags.json"),
        }
    }
}

/// Health says how the flags stand with their store; it answers 503 only when asked to
/// (`?store=required`) and degraded, and a `store` it cannot read is 400 naming it.
#[tokio::test]
async fn health_is_503_only_when_the_store_is_required_and_degraded() {
    let without = server(&live()).await;
    let health = without.get("/api/health?store=required", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.header("cache-control"), Some("no-store"));
    assert_eq!(
        health.json(),
        json!({"status": "ok", "version": 0, "store": null})
    );

    let flags = Live::<Settings>::builder()
        .store(BrokenStore)
        .load(Loader::new())
        .unwrap();
    let broken = server(&Arc::new(flags)).await;
    let degraded = json!({"status": "degraded", "version": 0, "store": "unreachable"});
    let health = broken.get("/api/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), degraded);
    let health = broken.get("/api/health?store=required", None).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json(), degraded);

    let typo = broken.get("/api/health?store=requried", None).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        typo.message(),
        "the query string cannot be read: store: unknown variant `requried`, expected `required`"
    );
}

#[tokio::test]
async fn a_store_that_fails_is_503_without_its_reason_and_nothing_changes() {
    let flags = Live::<Settings>::builder()
        .store(BrokenStore)
        .load(Loader::new())
        .unwrap();
    let flags = Arc::new(flags);
    let server = server(&flags).await;
    let reply = server
        .patch(json!({"FEATURE_MAX_IMAGES": 4}), Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.message(),
        "the flags' store is unavailable: nothing changed, retry later"
    );
    assert_eq!(flags.version(), 0);
    assert_eq!(server.public().await["max_images"], 3);
}

/// A store whose answer to a commit never comes: its reason names a host the client must not
/// learn.
struct SilentStore;

impl Store for SilentStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        Ok(None)
    }

    fn commit<'a>(
        &'a self,
        _: u64,
        _: &'a Stored,
        _: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let lost = std::io::Error::other("connection reset");
        let error = StoreError::outcome_unknown("commit to db.internal.example", lost);
        Box::pin(std::future::ready(Err(error)))
    }
}

#[tokio::test]
async fn a_store_whose_answer_never_came_is_504_saying_the_change_may_have_been_made() {
    let flags = Live::<Settings>::builder()
        .store(SilentStore)
        .load(Loader::new())
        .unwrap();
    let server = server(&Arc::new(flags)).await;
    let reply = server
        .patch(json!({"FEATURE_MAX_IMAGES": 4}), Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        reply.message(),
        "the flags' store did not answer in time: the change may or may not have been made; \
         read the flags before trying it again, or retry it with the same Idempotency-Key, which \
         makes it once"
    );
    assert!(!String::from_utf8_lossy(&reply.body).contains("db.internal"));
}

#[tokio::test]
async fn the_admin_page_is_served_under_its_own_policy_and_can_be_left_out() {
    let flags = live();
    let server = server(&flags).await;
    let page = server.get("/admin", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let policy = page.header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'; script-src 'self';"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = String::from_utf8_lossy(&page.body);
    for file in ["admin/app.js", "admin/app.css"] {
        assert!(html.contains(&format!("\"{file}\"")), "{html}");
        let reply = server.get(&format!("/{file}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{file}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
    // The page's paths are relative to /admin: /admin/ leads there.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client
        .get(format!("http://{}/admin/", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers()["location"], "../admin");

    let router = Api::new(Arc::clone(&flags), tokens())
        .without_admin_page()
        .router();
    let without = serve(router).await;
    assert_eq!(
        without.get("/admin", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        without.get("/api/health", None).await.status,
        StatusCode::OK
    );
}

/// What the page's policy forbids, and what would put server data into the page as HTML, is
/// nowhere in its files; every path in them is relative, so the router can be nested.
#[tokio::test]
async fn the_admin_pages_files_keep_to_its_policy_and_never_write_html() {
    let flags = live();
    let server = server(&flags).await;
    let text = |reply: Reply| String::from_utf8(reply.body).unwrap();
    let html = text(server.get("/admin", None).await);
    let script = text(server.get("/admin/app.js", None).await);
    let style = text(server.get("/admin/app.css", None).await);

    // No inline script, style or event handler.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains(r#"<script type="module" src="admin/app.js"></script>"#));
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "{html}"
    );
    let handlers: Vec<&str> = html
        .split(|c: char| c.is_whitespace() || c == '<')
        .filter(|word| word.starts_with("on") && word.contains('='))
        .collect();
    assert_eq!(handlers, Vec::<&str>::new());
    // Text through the DOM only; no eval; no style attribute; the token in session storage only.
    for forbidden in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
        "setTimeout(\"",
        ".style",
        "\"style\"",
        "localStorage",
        "document.cookie",
        "location",
    ] {
        assert!(!script.contains(forbidden), "app.js uses {forbidden}");
    }
    // Nothing from elsewhere, and relative paths only.
    for file in [&html, &script, &style] {
        assert!(!file.contains("http://") && !file.contains("https://"));
        assert!(!file.contains("url("), "a stylesheet that loads something");
    }
    for path in ["\"/api/", "\"/admin/", "`/api/"] {
        assert!(!script.contains(path), "app.js names {path}");
    }
    assert!(script.contains("\"api/admin/feature-flags\""));
}

/// A store another writer always beats: its version is always one ahead.
struct OvertakingStore;

impl Store for OvertakingStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        Ok(None)
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        _: &'a Stored,
        _: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let ahead = Stored {
            version: previous + 1,
            overrides: Vec::new(),
        };
        Box::pin(std::future::ready(Ok(CommitOutcome::Behind(ahead))))
    }
}

#[tokio::test]
async fn a_change_overtaken_by_other_instances_is_409_without_if_match_and_412_with_it() {
    let flags = Live::<Settings>::builder()
        .store(OvertakingStore)
        .load(Loader::new())
        .unwrap();
    let flags = Arc::new(flags);
    let server = server(&flags).await;
    let reply = server
        .patch(json!({"FEATURE_MAX_IMAGES": 4}), Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.message(),
        "other instances' changes came first each of the 10 times this change was tried (the \
         store is at version 10); try it again"
    );
    assert_eq!(reply.header("etag"), Some("\"10\""));
    let path = "/api/admin/feature-flags";
    let body = Some(br#"{"FEATURE_MAX_IMAGES": 4}"#.to_vec());
    let reply = server
        .send(
            Method::PATCH,
            path,
            Some(TOKEN),
            &[("if-match", "\"0\"")],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    // Each refused change is audited once, however many times it caught up.
    assert_eq!(flags.audit().len(), 2);
}

#[tokio::test]
async fn an_applications_own_admin_route_is_behind_the_same_tokens_and_limit() {
    let flags = live();
    let whoami = axum::routing::get(
        |axum::Extension(flags_http::Actor(actor)): axum::Extension<flags_http::Actor>| async move {
            format!("{actor}\n")
        },
    );
    let router = Api::new(Arc::clone(&flags), tokens())
        .failure_limit(2, Duration::from_secs(600))
        .admin_route("/whoami", whoami)
        .router();
    let server = serve(router).await;
    let reply = server.get("/whoami", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = server.get("/whoami", Some(DEPLOY_TOKEN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, b"deploy\n");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    for _ in 0..2 {
        let reply = server.get("/whoami", Some("guess")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let reply = server.get("/whoami", Some(TOKEN)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A flag a flag service manages changes there: a local change of it is 409 naming the
/// service, with nothing changed; what the service pushes is served at once, under a new tag,
/// and with `If-Match` on the version alone a change of another flag still goes ahead.
#[tokio::test]
async fn a_flag_a_service_manages_is_409_naming_it_and_its_pushes_change_the_etag() {
    let flags = live();
    let service = flags.managed_by("unleash", ["FEATURE_MAX_IMAGES"]).unwrap();
    let server = server(&flags).await;
    let reply = server
        .patch(json!({"FEATURE_MAX_IMAGES": 4}), Some(TOKEN))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.message(),
        "FEATURE_MAX_IMAGES is managed by unleash: change it in unleash"
    );
    assert_eq!(flags.version(), 0);
    let reset = "/api/admin/feature-flags/FEATURE_MAX_IMAGES";
    let reply = server
        .send(Method::DELETE, reset, Some(TOKEN), &[], None)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);

    let path = "/api/feature-flags";
    let before = server.get(path, None).await;
    assert_eq!(before.header("etag"), Some("\"0\""));
    service.push([("FEATURE_MAX_IMAGES", Some("7"))]).unwrap();
    let after = server
        .send(Method::GET, path, None, &[("if-none-match", "\"0\"")], None)
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json()["max_images"], 7);
    let tag = after.header("etag").unwrap().to_owned();
    assert!(tag.starts_with("\"0-") && tag.len() == 20, "{tag}");
    let again = server
        .send(Method::GET, path, None, &[("if-none-match", &tag)], None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // The admin list shows where the value came from; If-Match with the tag it gave goes ahead.
    let listed = server.get("/api/admin/feature-flags", Some(TOKEN)).await;
    assert_eq!(listed.header("etag"), Some(tag.as_str()));
    // The admin page polls with the tag as it came, and gets 304 while nothing changes.
    let admin = "/api/admin/feature-flags";
    let polled = [("if-none-match", tag.as_str())];
    let reply = server
        .send(Method::GET, admin, Some(TOKEN), &polled, None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    let max_images = listed.json()["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flag| flag["variable"] == "FEATURE_MAX_IMAGES")
        .cloned()
        .unwrap();
    assert_eq!(max_images["source"]["kind"], "service");
    assert_eq!(max_images["source"]["text"], "flag service unleash");
    // A weak tag is refused with the whole tag, the services' revision included.
    let reply = server
        .patch_if(&format!("W/{tag}"), json!({"BETA_TOKEN": "t0ken"}))
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.header("etag"), Some(tag.as_str()));
    let reply = server.patch_if(&tag, json!({"BETA_TOKEN": "t0ken"})).await;
    assert_eq!(reply.json(), json!({"version": 1, "changed": true}));
}

/// No variable can hold a NUL character, nor can PostgreSQL's text: such a value is the flag's
/// problem (422, naming it), never the store's, whatever the store.
#[tokio::test]
async fn a_value_with_a_nul_character_is_422_naming_the_flag_and_no_store_is_asked() {
    let flags = Arc::new(
        Live::<Settings>::builder()
            .store(BrokenStore)
            .load(Loader::new().map([("API_KEY", CANARY)]))
            .unwrap(),
    );
    let server = server(&flags).await;
    let reply = server
        .patch(
            json!({"FEATURE_MAX_IMAGES": "4\u{0}", "BETA_TOKEN": "t\u{0}ken"}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // In the body's order (json! sorts its keys).
    assert_eq!(
        reply.problems(),
        [
            r#""invalid" "BETA_TOKEN""#,
            r#""invalid" "FEATURE_MAX_IMAGES""#,
        ]
    );
    let message = reply.message();
    assert!(
        message.contains(
            "FEATURE_MAX_IMAGES: invalid value \"4\\0\", expected text without a NUL character"
        ),
        "{message}"
    );
    assert!(
        message.starts_with("BETA_TOKEN: invalid value <redacted>"),
        "{message}"
    );
    assert_eq!(flags.version(), 0);
}

/// A PATCH retried with its `Idempotency-Key` is answered as the first was, and made once; the
/// key on another change is 422; a key no header can carry is 400.
#[tokio::test]
async fn a_change_retried_with_its_idempotency_key_is_answered_as_the_first_and_made_once() {
    let flags = live();
    let server = server(&flags).await;
    let patch = |body: Value, key: &'static str| {
        let body = Some(body.to_string().into_bytes());
        let path = "/api/admin/feature-flags";
        let server = &server;
        async move {
            server
                .send(
                    Method::PATCH,
                    path,
                    Some(TOKEN),
                    &[("idempotency-key", key)],
                    body,
                )
                .await
        }
    };
    let first = patch(json!({"FEATURE_MAX_IMAGES": 4}), "3f1c-7a").await;
    assert_eq!(first.json(), json!({"version": 1, "changed": true}));
    let again = patch(json!({"FEATURE_MAX_IMAGES": 4}), "3f1c-7a").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), json!({"version": 1, "changed": true}));
    assert_eq!(flags.version(), 1);
    let other = patch(json!({"FEATURE_MAX_IMAGES": 5}), "3f1c-7a").await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        other
            .message()
            .starts_with("the idempotency key \"3f1c-7a\" was given to another change")
    );
    let bad = patch(json!({"FEATURE_MAX_IMAGES": 5}), "two words").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(flags.version(), 1);
}
