//! `rose serve` over real loopback HTTP: the binary started for each test on a free port, with
//! only the variables the test gives it, in a directory of its own, and stopped by SIGTERM.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use flags_core::FeatureFlags;
use flags_examples::Settings;
use flags_tests::postgres::Cluster;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod rose;

use rose::{Server, WAIT};

/// The admin API's token in these tests.
const TOKEN: &str = "admin-token-4f1d9a7c";

/// Every route the server serves, as the OpenAPI document names it, with its method.
const ROUTES: [(&str, &str); 13] = [
    ("/api/feature-flags", "get"),
    ("/api/feature-flags/events", "get"),
    ("/ofrep/v1/evaluate/flags", "post"),
    ("/ofrep/v1/evaluate/flags/{key}", "post"),
    ("/api/health", "get"),
    ("/api/admin/feature-flags", "get"),
    ("/api/admin/feature-flags", "patch"),
    ("/api/admin/feature-flags/{variable}", "delete"),
    ("/api/admin/feature-flags/rollback", "post"),
    ("/api/admin/audit", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
    ("/docs", "get"),
];

/// The security headers, with the value of each but the policy, which depends on the route.
const SECURITY_HEADERS: [(&str, Option<&str>); 5] = [
    ("x-content-type-options", Some("nosniff")),
    ("x-frame-options", Some("DENY")),
    ("referrer-policy", Some("no-referrer")),
    (
        "strict-transport-security",
        Some("max-age=31536000; includeSubDomains"),
    ),
    ("content-security-policy", None),
];

fn client() -> Client {
    Client::builder().no_proxy().timeout(WAIT).build().unwrap()
}

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {self:?}"))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

async fn get(client: &Client, server: &Server, path: &str) -> Reply {
    send(client.get(server.url(path))).await
}

/// A request of the admin API, with the token.
async fn admin(client: &Client, server: &Server, method: Method, path: &str) -> Reply {
    send(client.request(method, server.url(path)).bearer_auth(TOKEN)).await
}

async fn patch(client: &Client, server: &Server, changes: Value) -> Reply {
    let request = client
        .patch(server.url("/api/admin/feature-flags"))
        .bearer_auth(TOKEN)
        .body(changes.to_string());
    send(request).await
}

/// One request for each kind of response: public, admin, refused, unknown, each of the
/// server's own routes; named by what they are, and checked to be that. The admin API needs
/// [`TOKEN`], the docs `ENABLE_API_DOCS` (on by default).
async fn every_kind_of_response(client: &Client, server: &Server) -> Vec<(&'static str, Reply)> {
    let replies = [
        (
            "public flags",
            200,
            get(client, server, "/api/feature-flags").await,
        ),
        ("health", 200, get(client, server, "/api/health").await),
        (
            "admin flags",
            200,
            admin(client, server, Method::GET, "/api/admin/feature-flags").await,
        ),
        (
            "admin audit",
            200,
            admin(client, server, Method::GET, "/api/admin/audit").await,
        ),
        (
            "admin without a token",
            401,
            get(client, server, "/api/admin/feature-flags").await,
        ),
        (
            "refused change",
            422,
            patch(client, server, json!({"FEATURE_NO_SUCH_FLAG": true})).await,
        ),
        (
            "unknown path",
            404,
            get(client, server, "/no/such/path").await,
        ),
        (
            "method not allowed",
            405,
            send(client.delete(server.url("/api/health"))).await,
        ),
        ("openapi", 200, get(client, server, "/openapi.json").await),
        ("docs", 200, get(client, server, "/docs").await),
        (
            "metrics",
            200,
            admin(client, server, Method::GET, "/metrics").await,
        ),
    ];
    replies
        .into_iter()
        .map(|(what, status, reply)| {
            assert_eq!(reply.status, status, "{what}: {reply:?}");
            (what, reply)
        })
        .collect()
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_off_from_the_change_that_turns_them_off() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("ENABLE_SECURITY_HEADERS", "true"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();
    for (what, reply) in every_kind_of_response(&client, &server).await {
        for (name, value) in SECURITY_HEADERS {
            let sent = reply.header(name);
            assert!(sent.is_some(), "{what}: no {name}: {reply:?}");
            if let Some(value) = value {
                assert_eq!(sent, Some(value), "{what}: {reply:?}");
            }
        }
        let policy = reply.header("content-security-policy").unwrap();
        assert!(
            policy.starts_with("default-src 'none';"),
            "{what}: {policy}"
        );
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{what}: {policy}"
        );
        if what != "docs" {
            assert_eq!(
                policy, "default-src 'none'; frame-ancestors 'none'",
                "{what}"
            );
        }
    }

    let turned_off = patch(&client, &server, json!({"ENABLE_SECURITY_HEADERS": false})).await;
    assert_eq!(turned_off.status, 200, "{turned_off:?}");
    for (what, reply) in every_kind_of_response(&client, &server).await {
        for (name, _) in SECURITY_HEADERS {
            assert_eq!(reply.header(name), None, "{what}: {reply:?}");
        }
    }
}

#[tokio::test]
async fn security_headers_are_on_no_response_while_the_flag_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("ENABLE_SECURITY_HEADERS", "false"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    for (what, reply) in every_kind_of_response(&client(), &server).await {
        for (name, _) in SECURITY_HEADERS {
            assert_eq!(reply.header(name), None, "{what}: {reply:?}");
        }
    }
}

/// Every `$ref` of `value`, wherever it is.
fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                found.push(reference);
            }
            object.values().for_each(|value| references(value, found));
        }
        Value::Array(values) => values.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_1_and_documents_every_route_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("ENABLE_API_DOCS", "true"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();
    let reply = get(&client, &server, "/openapi.json").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));

    let spec = oas3::from_json(&reply.body).unwrap();
    spec.validate_version().unwrap();
    let document = reply.json();
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");

    let mut documented = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((path.as_str(), method.as_str()));
            let id = operation["operationId"].as_str();
            let id = id.unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id), "operationId {id} twice");
            assert!(operation["summary"].is_string(), "{method} {path}");
            assert!(operation["responses"].is_object(), "{method} {path}");
        }
    }
    assert_eq!(documented, BTreeSet::from(ROUTES));

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.strip_prefix('#');
        let pointer = pointer.unwrap_or_else(|| panic!("{reference} is not in the document"));
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} names nothing"
        );
    }

    // The schemas are the types the routes serialize, not copies of them.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    assert!(
        schemas.keys().all(|name| !name.ends_with("Schema")),
        "{:?}",
        schemas.keys()
    );
    let event = &schemas["AuditEvent"]["properties"];
    assert_eq!(event["at"]["format"], "date-time", "{event}");
    assert_eq!(event["outcome"]["$ref"], "#/components/schemas/Outcome");
    assert!(schemas["Source"]["properties"]["kind"].is_object());
    assert!(schemas["Source"]["properties"]["service"].is_object());
    let change = &document["paths"]["/api/admin/feature-flags"]["patch"]["responses"];
    for status in ["401", "403", "409", "412", "422", "429", "503"] {
        assert!(change[status]["description"].is_string(), "PATCH {status}");
    }

    for public in ["/api/feature-flags", "/api/health"] {
        let refused = &document["paths"][public]["get"]["responses"]["429"];
        assert!(
            refused["headers"]["Retry-After"].is_object(),
            "{public}: {refused}"
        );
    }

    // And the server serves each route it documents.
    for (path, method) in ROUTES {
        let path = path.replace("{variable}", "FEATURE_TTS_CACHE_ENABLED");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let request = client
            .request(method.clone(), server.url(&path))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body("{}");
        // The status alone: the event stream's body does not end.
        let status = request.send().await.unwrap().status().as_u16();
        assert!(![404, 405].contains(&status), "{method} {path}: {status}");
    }
}

#[tokio::test]
async fn the_docs_page_shows_every_operation_and_allows_only_its_own_style() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ENABLE_API_DOCS", "true")], &[]);
    let client = client();
    let document = get(&client, &server, "/openapi.json").await.json();
    let page = get(&client, &server, "/docs").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    for (path, method) in ROUTES {
        let operation = &document["paths"][path][method];
        let heading = format!(
            "<span class=\"method\">{}</span> <code>{path}</code>",
            method.to_uppercase()
        );
        assert!(page.body.contains(&heading), "{heading}");
        let summary = operation["summary"].as_str().unwrap();
        let summary = summary.replace('&', "&amp;").replace('\'', "&#39;");
        assert!(page.body.contains(&summary), "{summary}");
    }
    assert!(page.body.contains("<h4>Parameters</h4>"));
    assert!(page.body.contains("<code>If-Match</code>"));
    assert!(page.body.contains("<h4>Responses</h4>"));
    assert!(!page.body.contains("<script"));

    // The policy allows the page's one inline style by its hash, and nothing else.
    let (_, style) = page.body.split_once("<style>").unwrap();
    let (style, rest) = style.split_once("</style>").unwrap();
    assert!(!rest.contains("<style") && !rest.contains("style="));
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    let policy = page.header("content-security-policy").unwrap();
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'"
        )
    );
}

#[tokio::test]
async fn the_docs_are_not_found_while_the_flag_is_off_and_follow_it_live() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("ENABLE_API_DOCS", "false"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();
    for path in ["/openapi.json", "/docs"] {
        let reply = get(&client, &server, path).await;
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert_eq!(reply.json(), json!({"message": "no such route"}), "{path}");
    }

    let turned_on = patch(&client, &server, json!({"ENABLE_API_DOCS": true})).await;
    assert_eq!(turned_on.status, 200, "{turned_on:?}");
    for path in ["/openapi.json", "/docs"] {
        assert_eq!(get(&client, &server, path).await.status, 200, "{path}");
    }
    let turned_off = patch(&client, &server, json!({"ENABLE_API_DOCS": false})).await;
    assert_eq!(turned_off.status, 200, "{turned_off:?}");
    for path in ["/openapi.json", "/docs"] {
        assert_eq!(get(&client, &server, path).await.status, 404, "{path}");
    }
}

/// Requests `path` until the server refuses one, or `attempts` are made: the refusal, if any.
async fn until_refused(
    client: &Client,
    server: &Server,
    path: &str,
    attempts: usize,
) -> Option<Reply> {
    for _ in 0..attempts {
        let reply = get(client, server, path).await;
        if reply.status == 429 {
            return Some(reply);
        }
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    None
}

#[tokio::test]
async fn past_its_quota_an_address_gets_429_on_the_public_routes_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("RATE_LIMIT_ENABLED", "true"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &["--rate-limit-per-minute", "1"]);
    let client = client();
    // A quota of one a minute: the second request within the minute is refused. A few tries,
    // in case the machine is slow enough for a minute to pass between two of them.
    // A method the route does not take is 405, and is not counted.
    for _ in 0..3 {
        let put = send(client.put(server.url("/api/health"))).await;
        assert_eq!(put.status, 405, "{put:?}");
    }
    assert_eq!(get(&client, &server, "/api/health").await.status, 200);
    let refused = until_refused(&client, &server, "/api/health", 5).await;
    let refused = refused.expect("no 429 past the quota");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{refused:?}");
    let message = refused.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("too many requests"), "{message}");
    // One quota for the address, over both public routes.
    assert_eq!(
        get(&client, &server, "/api/feature-flags").await.status,
        429
    );

    for _ in 0..5 {
        let reply = admin(&client, &server, Method::GET, "/api/admin/feature-flags").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let metrics = admin(&client, &server, Method::GET, "/metrics").await;
        assert_eq!(metrics.status, 200);
        for path in ["/openapi.json", "/docs"] {
            assert_eq!(get(&client, &server, path).await.status, 200, "{path}");
        }
    }
}

#[tokio::test]
async fn without_the_rate_limit_nothing_is_refused_until_it_is_turned_on() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("RATE_LIMIT_ENABLED", "false"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &["--rate-limit-per-minute", "1"]);
    let client = client();
    assert!(
        until_refused(&client, &server, "/api/feature-flags", 10)
            .await
            .is_none()
    );

    let turned_on = patch(&client, &server, json!({"RATE_LIMIT_ENABLED": true})).await;
    assert_eq!(turned_on.status, 200, "{turned_on:?}");
    let refused = until_refused(&client, &server, "/api/feature-flags", 5).await;
    assert!(refused.is_some(), "no 429 once turned on");
}

/// The line of `metric` in `metrics`, by its name and labels as Prometheus text writes them.
fn sample<'a>(metrics: &'a str, series: &str) -> Option<&'a str> {
    metrics.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then_some(value)
    })
}

#[tokio::test]
async fn metrics_show_the_flags_their_changes_and_the_requests_by_route() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ADMIN_TOKEN", TOKEN)], &[]);
    let client = client();
    // The metrics name flags that are not public: they are the admin's.
    assert_eq!(get(&client, &server, "/metrics").await.status, 401);
    let metrics = admin(&client, &server, Method::GET, "/metrics").await;
    assert_eq!(metrics.status, 200);
    let content_type = metrics.header("content-type").unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let tts_cache = "flags_value{flag=\"FEATURE_TTS_CACHE_ENABLED\"}";
    assert_eq!(
        sample(&metrics.body, "flags_version"),
        Some("0"),
        "{}",
        metrics.body
    );
    assert_eq!(
        sample(&metrics.body, tts_cache),
        Some("1"),
        "{}",
        metrics.body
    );

    let changed = patch(
        &client,
        &server,
        json!({"FEATURE_TTS_CACHE_ENABLED": false}),
    )
    .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    let variable = "/api/admin/feature-flags/FEATURE_TTS_CACHE_ENABLED";
    let reset = admin(&client, &server, Method::DELETE, variable).await;
    assert_eq!(reset.status, 200, "{reset:?}");
    assert_eq!(get(&client, &server, "/no/such/path").await.status, 404);

    let metrics = admin(&client, &server, Method::GET, "/metrics").await.body;
    for (series, value) in [
        ("flags_version", "2"),
        ("flags_changes_total{outcome=\"applied\"}", "2"),
        (tts_cache, "1"),
        (
            "http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}",
            "1",
        ),
        (
            "http_requests_total{method=\"PATCH\",route=\"/api/admin/feature-flags\",status=\"200\"}",
            "1",
        ),
        (
            "http_requests_total{method=\"DELETE\",route=\"/api/admin/feature-flags/{variable}\",status=\"200\"}",
            "1",
        ),
        (
            "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
            "1",
        ),
    ] {
        assert_eq!(
            sample(&metrics, series),
            Some(value),
            "{series}:\n{metrics}"
        );
    }
    // A route's pattern, never a request's path.
    assert!(!metrics.contains(variable), "{metrics}");
    assert!(!metrics.contains("/no/such/path"), "{metrics}");
}

#[tokio::test]
async fn sigterm_or_ctrl_c_stops_the_server_with_exit_status_0() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path(), &[], &[]);
        assert_eq!(get(&client(), &server, "/api/health").await.status, 200);
        let stopped = server.signal(signal);
        let stderr = &stopped.stderr;
        assert!(
            stopped.status.success(),
            "{signal}: {:?}\n{stderr}",
            stopped.status
        );
        assert_eq!(stopped.stdout, "", "{signal}");
        let stopping = format!("SIG{signal}: stopping once the requests under way are answered");
        assert!(stderr.contains(&stopping), "{stderr}");
        assert!(stderr.ends_with(" INFO rose::serve: stopped\n"), "{stderr}");
        let disabled = "WARN rose::serve: neither ADMIN_TOKEN nor ADMIN_TOKENS_FILE gives a token: the admin API is disabled";
        assert!(stderr.contains(disabled), "{stderr}");
    }
}

/// `ADMIN_TOKENS_FILE`, written as the README says (`printf %s "$TOKEN" | sha256sum`): each
/// person's change is audited under their name, beside `ADMIN_TOKEN` as `admin`; a read-only
/// token reads and is refused a change; a malformed file stops the start, naming its line.
#[tokio::test]
async fn admin_tokens_file_names_each_persons_changes_and_a_malformed_one_stops_the_start() {
    let digest = |token: &str| {
        let output = std::process::Command::new("sh")
            .args(["-c", "printf %s \"$TOKEN\" | sha256sum"])
            .env("TOKEN", token)
            .output()
            .unwrap();
        let printed = String::from_utf8(output.stdout).unwrap();
        printed.split_whitespace().next().unwrap().to_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admins");
    let lines = format!(
        "alice:{}\nscraper:{}:read\n",
        digest("alices-token"),
        digest("scrapers-token")
    );
    std::fs::write(&file, lines).unwrap();
    let file = file.to_str().unwrap();
    let vars = [("ADMIN_TOKENS_FILE", file), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();
    let change = |token: &str, value: bool| {
        client
            .patch(server.url("/api/admin/feature-flags"))
            .bearer_auth(token)
            .body(json!({ "FEATURE_TTS_CACHE_ENABLED": value }).to_string())
    };
    assert_eq!(send(change("alices-token", false)).await.status, 200);
    assert_eq!(send(change(TOKEN, true)).await.status, 200);
    let refused = send(change("scrapers-token", false)).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    let audit = client
        .get(server.url("/api/admin/audit"))
        .bearer_auth("scrapers-token");
    let audit = send(audit).await;
    assert_eq!(audit.status, 200, "{audit:?}");
    let events = audit.json()["events"].clone();
    let actors: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| &event["actor"])
        .collect();
    assert_eq!(actors, [&json!("alice"), &json!("admin")]);
    let stderr = server.stop().stderr;
    assert!(
        stderr.contains(&format!(
            "INFO rose::serve: the admin API takes the tokens of {file}"
        )),
        "{stderr}"
    );

    std::fs::write(dir.path().join("admins"), "alice:alices-token\n").unwrap();
    let refused = Server::spawn(dir.path(), &vars, &[]).wait();
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "ERROR rose::serve: ADMIN_TOKENS_FILE: {file} line 1: expected"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("alices-token"),
        "{}",
        refused.stderr
    );
}

/// With `--store`, the audit is kept beside the store's file, and a restarted server shows it;
/// `--audit FILE` puts it elsewhere.
#[tokio::test]
async fn the_audit_survives_a_restart_beside_the_store_or_in_audit_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("flags.json");
    let store = store.to_str().unwrap();
    let vars = [("ADMIN_TOKEN", TOKEN)];
    let client = client();
    let audit_actors = async |server: &Server| {
        let request = client
            .get(server.url("/api/admin/audit"))
            .bearer_auth(TOKEN);
        let events = send(request).await.json()["events"].clone();
        let events = events.as_array().unwrap().clone();
        events
            .iter()
            .map(|event| (event["version"].clone(), event["kind"].clone()))
            .collect::<Vec<_>>()
    };
    let server = Server::start(dir.path(), &vars, &["--store", store]);
    let change = json!({"FEATURE_TTS_CACHE_ENABLED": false});
    assert_eq!(patch(&client, &server, change).await.status, 200);
    server.stop();
    let server = Server::start(dir.path(), &vars, &["--store", store]);
    assert_eq!(audit_actors(&server).await, [(json!(1), json!("set"))]);
    let stderr = server.stop().stderr;
    let beside = dir.path().join("flags.audit.jsonl");
    assert!(
        stderr.contains(&format!("the audit is kept in {}", beside.display())),
        "{stderr}"
    );

    let elsewhere = dir.path().join("elsewhere.jsonl");
    let arguments = ["--store", store, "--audit", elsewhere.to_str().unwrap()];
    let server = Server::start(dir.path(), &vars, &arguments);
    assert_eq!(audit_actors(&server).await, []);
    let change = json!({"FEATURE_TTS_CACHE_ENABLED": true});
    assert_eq!(patch(&client, &server, change).await.status, 200);
    assert_eq!(audit_actors(&server).await, [(json!(2), json!("set"))]);
    server.stop();
    assert_eq!(std::fs::read_to_string(&beside).unwrap().lines().count(), 1);
}

/// LOG_LEVEL changes live: the change that raises it is logged at the old level (not at all),
/// the next one at the new.
#[tokio::test]
async fn the_log_level_follows_log_level_live() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("LOG_LEVEL", "error"), ("ADMIN_TOKEN", TOKEN)];
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();
    let louder = patch(&client, &server, json!({"LOG_LEVEL": "info"})).await;
    assert_eq!(louder.status, 200, "{louder:?}");
    let change = json!({"FEATURE_TTS_CACHE_ENABLED": false});
    assert_eq!(patch(&client, &server, change).await.status, 200);
    let quieter = patch(&client, &server, json!({"LOG_LEVEL": "warn"})).await;
    assert_eq!(quieter.status, 200, "{quieter:?}");
    let change = json!({"FEATURE_TTS_CACHE_ENABLED": true});
    assert_eq!(patch(&client, &server, change).await.status, 200);
    let stderr = server.stop().stderr;
    let audited: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("flags::audit"))
        .collect();
    assert_eq!(audited.len(), 2, "{stderr}");
    assert!(audited[0].contains("version=2"), "{stderr}");
    assert!(audited[1].contains("version=3"), "{stderr}");
    assert!(!stderr.contains(" INFO rose::serve: stopped"), "{stderr}");
}

#[test]
fn flags_that_do_not_load_stop_the_server_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("LOG_LEVEL", "loud"), ("ENABLE_API_DOCS", "maybe")];
    let stopped = Server::spawn(dir.path(), &vars, &[]).wait();
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.stderr);
    assert_eq!(stopped.stdout, "");
    assert_eq!(
        stopped.stderr.lines().collect::<Vec<_>>(),
        [
            "ENABLE_API_DOCS: invalid value \"maybe\", expected a boolean: true/false, 1/0, yes/no or on/off (from process environment)",
            "LOG_LEVEL: invalid value \"loud\", expected one of: trace, debug, info, warn, error (from process environment)",
        ]
    );
}

#[tokio::test]
async fn with_a_store_a_change_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The token from a local .env, as `rose show` reads one.
    std::fs::write(dir.path().join(".env"), format!("ADMIN_TOKEN={TOKEN}\n")).unwrap();
    let args = ["--store", "flags.json"];
    let client = client();

    let server = Server::start(dir.path(), &[], &args);
    let changed = patch(
        &client,
        &server,
        json!({"FEATURE_TTS_CACHE_ENABLED": false}),
    )
    .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert!(server.stop().status.success());
    assert!(dir.path().join("flags.json").exists());

    let server = Server::start(dir.path(), &[], &args);
    let flags = admin(&client, &server, Method::GET, "/api/admin/feature-flags").await;
    assert_eq!(flags.status, 200, "{flags:?}");
    let flags = flags.json();
    assert_eq!(flags["version"], 1);
    let tts_cache = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flag| flag["variable"] == "FEATURE_TTS_CACHE_ENABLED")
        .unwrap();
    assert_eq!(tts_cache["value"], false);
    assert_eq!(tts_cache["text"], "false");
    assert_eq!(tts_cache["source"]["text"], "override by admin (version 1)");
}

/// With `FEATURE_DATABASE_TYPE=postgresql`, instances share their flags: a change through one is
/// served by the others, the audit is one, and a change on a stale version is refused by any.
#[tokio::test]
async fn servers_on_one_database_serve_a_change_made_through_any_of_them() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let vars = [
        ("FEATURE_DATABASE_TYPE", "postgresql"),
        ("DATABASE_URL", url.as_str()),
        ("ADMIN_TOKEN", TOKEN),
        ("TOGETHER_API_KEY", "together-key"),
    ];
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<Server> = dirs
        .iter()
        .map(|dir| Server::start(dir.path(), &vars, &[]))
        .collect();
    let client = client();
    let change = json!({"FEATURE_IMAGE_GENERATION_ENABLED": true});
    let changed = patch(&client, &servers[0], change).await;
    assert_eq!(changed.status, 200, "{changed:?}");
    for server in &servers[1..] {
        let mut version = Value::Null;
        for _ in 0..1000 {
            version = get(&client, server, "/api/health").await.json()["version"].clone();
            if version == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(version, 1, "not served after 10 s");
        let public = get(&client, server, "/api/feature-flags").await.json();
        assert_eq!(public["image_generation"], true, "{public}");
    }
    let audit = admin(&client, &servers[2], Method::GET, "/api/admin/audit").await;
    let events = audit.json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["actor"], "admin");

    let stale = client
        .patch(servers[1].url("/api/admin/feature-flags"))
        .bearer_auth(TOKEN)
        .header("If-Match", "\"0\"")
        .body(json!({"FEATURE_TTS_CACHE_ENABLED": false}).to_string());
    assert_eq!(send(stale).await.status, 412);
}

#[tokio::test]
async fn no_secret_reaches_a_response_or_the_servers_output() {
    const CANARY: &str = "canary-5e1f";
    let secrets: Vec<String> = Settings::FLAGS
        .iter()
        .filter(|flag| flag.is_secret() && flag.env() != "ADMIN_TOKEN")
        .map(|flag| format!("{CANARY}-{}", flag.env()))
        .collect();
    let mut vars: Vec<(&str, &str)> = Settings::FLAGS
        .iter()
        .filter(|flag| flag.is_secret() && flag.env() != "ADMIN_TOKEN")
        .map(|flag| flag.env())
        .zip(secrets.iter().map(String::as_str))
        .collect();
    assert!(vars.len() >= 8, "{vars:?}");
    vars.extend([
        ("ADMIN_TOKEN", TOKEN),
        ("LOG_LEVEL", "trace"),
        // Every flag that needs a secret, on, so that each secret is in use.
        ("FEATURE_WHATSAPP_ENABLED", "true"),
        ("WHATSAPP_PHONE_NUMBER_ID", "1234567890"),
        ("FEATURE_IMAGE_GENERATION_ENABLED", "true"),
        ("FEATURE_DATABASE_TYPE", "postgresql"),
        ("FEATURE_READ_REPLICA_ENABLED", "true"),
        ("FEATURE_MULTI_REGION_ENABLED", "true"),
    ]);
    // The flags are kept in a real database, whose URL holds a canary password (trust
    // authentication never asks for it).
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let database_url = cluster.url().replacen(
        "postgres://flags@",
        &format!("postgres://flags:{CANARY}-DATABASE_URL@"),
        1,
    );
    for (name, value) in &mut vars {
        if *name == "DATABASE_URL" {
            *value = &database_url;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &vars, &[]);
    let client = client();

    let mut replies = every_kind_of_response(&client, &server).await;
    let changes = [
        json!({"FEATURE_TTS_CACHE_ENABLED": false}),
        json!({"FEATURE_WHATSAPP_ENABLED": false}),
        json!({"WHATSAPP_TOKEN": null}),
        json!({"TOGETHER_API_KEY": "another-key"}),
        json!({"FEATURE_IMAGE_GENERATION_ENABLED": "maybe"}),
        json!({"DATABASE_URL": ""}),
    ];
    for change in changes {
        replies.push(("change", patch(&client, &server, change).await));
    }
    for method in [Method::GET, Method::DELETE] {
        for variable in ["WHATSAPP_TOKEN", "ADMIN_TOKEN", "DATABASE_URL_EU"] {
            let path = format!("/api/admin/feature-flags/{variable}");
            replies.push((
                "reset",
                admin(&client, &server, method.clone(), &path).await,
            ));
        }
    }
    for path in ["/api/admin/feature-flags/rollback"] {
        replies.push((
            "rollback",
            admin(&client, &server, Method::POST, path).await,
        ));
    }
    let wrong = client
        .get(server.url("/api/admin/feature-flags"))
        .bearer_auth(format!("{TOKEN}-wrong"));
    replies.push(("wrong token", send(wrong).await));
    replies.extend(every_kind_of_response(&client, &server).await);
    replies.push((
        "user flags",
        get(&client, &server, "/api/feature-flags?user=alice").await,
    ));

    let audit = admin(&client, &server, Method::GET, "/api/admin/audit")
        .await
        .json();
    assert!(audit["events"].as_array().unwrap().len() >= 4, "{audit}");
    for (what, reply) in &replies {
        let text = format!("{:?}\n{}", reply.headers, reply.body);
        assert!(!text.contains(CANARY), "{what}: {text}");
        assert!(!text.contains(TOKEN), "{what}: {text}");
    }

    let stopped = server.stop();
    assert!(stopped.status.success());
    assert!(stopped.stderr.contains("<redacted>"), "{}", stopped.stderr);
    let shared = "INFO flags_postgres: connected to the database: the flags of rose are shared";
    assert!(stopped.stderr.contains(shared), "{}", stopped.stderr);
    for output in [&stopped.stdout, &stopped.stderr] {
        assert!(!output.contains(CANARY), "{output}");
        assert!(!output.contains(TOKEN), "{output}");
    }
}

/// The README's rollback procedure: the command that starts the server, and the requests.
struct Procedure {
    /// The variables the command sets, and its arguments after `--`.
    variables: Vec<(String, String)>,
    arguments: Vec<String>,
    /// Each `curl`, with the JSON the README says it answers, if it says.
    requests: Vec<(Vec<String>, Option<Value>)>,
}

fn readme_procedure(variables: &HashMap<&str, &str>) -> Procedure {
    const MARKER: &str = "<!-- examples/tests/serve.rs starts rose serve with this command, sends \
                          these requests, and expects these answers. -->";
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let (_, procedure) = readme
        .split_once(MARKER)
        .expect("README.md has lost the marker before its rollback procedure");
    let (start, rest) = fenced_block(procedure).expect("a ```sh block after the marker");
    let (requests, _) = fenced_block(rest).expect("a ```sh block of requests after the command");

    let start = commands(start, variables);
    let [(start, _)] = &start[..] else {
        panic!("one command starts the server: {start:?}")
    };
    let run = start.iter().position(|word| word == "cargo").unwrap();
    let (assignments, command) = start.split_at(run);
    let arguments = command.iter().skip_while(|word| *word != "--").skip(1);
    let procedure = Procedure {
        variables: assignments
            .iter()
            .map(|word| {
                let (name, value) = word.split_once('=').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect(),
        arguments: arguments.cloned().collect(),
        requests: commands(requests, variables),
    };
    assert_eq!(
        command[..command.len() - procedure.arguments.len()],
        [
            "cargo",
            "run",
            "-p",
            "flags-examples",
            "--bin",
            "rose",
            "--"
        ]
    );
    procedure
}

/// The text of the fenced ```sh block at the start of `markdown`, and what follows it.
fn fenced_block(markdown: &str) -> Option<(&str, &str)> {
    let opened = markdown.trim_start().strip_prefix("```sh\n")?;
    opened.split_once("```\n")
}

/// The commands of a shell script, each as its words with `$NAME` taken from `variables`, and
/// the JSON of a comment line right after it (`# {"version":1}`): what the README says it
/// answers.
fn commands(script: &str, variables: &HashMap<&str, &str>) -> Vec<(Vec<String>, Option<Value>)> {
    let script = script.replace("\\\n", " ");
    let mut commands: Vec<(Vec<String>, Option<Value>)> = Vec::new();
    let mut after_command = false;
    for line in script.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if after_command && comment.starts_with(['{', '[']) {
                let expected = serde_json::from_str(comment).unwrap();
                commands.last_mut().unwrap().1 = Some(expected);
            }
            after_command = false;
        } else if line.is_empty() {
            after_command = false;
        } else {
            commands.push((words(line, variables), None));
            after_command = true;
        }
    }
    commands
}

/// The words of one line of shell, as a shell splits them: quotes, `\` escapes, `$NAME` and
/// `${NAME}` outside single quotes, a `#` comment; anything else (`$(…)`, globs) is not used.
fn words(line: &str, variables: &HashMap<&str, &str>) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut characters = line.chars().peekable();
    let mut quote = None;
    while let Some(character) = characters.next() {
        match (quote, character) {
            (None, ' ' | '\t') => words.extend(word.take()),
            (None, '#') if word.is_none() => break,
            (None, '\'' | '"') => {
                quote = Some(character);
                word.get_or_insert_default();
            }
            (Some(open), _) if character == open => quote = None,
            (Some('\''), _) => word.get_or_insert_default().push(character),
            (_, '\\') => {
                let escaped = characters.next().expect("a `\\` ends the line");
                word.get_or_insert_default().push(escaped);
            }
            (_, '$') => {
                let braced = characters.next_if_eq(&'{').is_some();
                let mut name = String::new();
                while let Some(next) =
                    characters.next_if(|next| next.is_ascii_alphanumeric() || *next == '_')
                {
                    name.push(next);
                }
                if braced {
                    assert_eq!(characters.next(), Some('}'), "an unclosed ${{ in {line}");
                }
                let value = variables
                    .get(name.as_str())
                    .unwrap_or_else(|| panic!("${name} in {line}: the test does not set it"));
                word.get_or_insert_default().push_str(value);
            }
            (_, character) => word.get_or_insert_default().push(character),
        }
    }
    assert_eq!(quote, None, "an unclosed quote in {line}");
    words.extend(word);
    words
}

/// A `curl` command's request: its method, URL, headers and body, as curl sends them.
struct Curl {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn curl(words: &[String]) -> Curl {
    assert_eq!(words[0], "curl", "not a curl: {words:?}");
    let mut method = None;
    let mut url = None;
    let mut headers = Vec::new();
    let mut body = None;
    let mut words = words[1..].iter();
    while let Some(word) = words.next() {
        let mut value = || {
            words
                .next()
                .unwrap_or_else(|| panic!("{word} without a value"))
                .clone()
        };
        match word.as_str() {
            "-X" | "--request" => method = Some(value()),
            "-H" | "--header" => {
                let header = value();
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            "-d" | "--data" | "--data-raw" => body = Some(value()),
            "-s" | "--silent" => {}
            option if option.starts_with('-') => {
                panic!("the test does not send {option} as curl does: use -X, -H or -d")
            }
            _ => url = Some(word.clone()),
        }
    }
    // curl's defaults: POST for a body, sent as a form unless a header says otherwise.
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_owned());
    let typed = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if body.is_some() && !typed {
        headers.push((
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ));
    }
    Curl {
        method: Method::from_bytes(method.as_bytes()).unwrap(),
        url: url.expect("a curl without a URL"),
        headers,
        body,
    }
}

#[tokio::test]
async fn the_readmes_rollback_procedure_works_as_written() {
    let procedure = readme_procedure(&HashMap::from([("ADMIN_TOKEN", TOKEN)]));
    let dir = tempfile::tempdir().unwrap();
    let mut vars: Vec<(&str, &str)> = procedure
        .variables
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    vars.push(("ADMIN_TOKEN", TOKEN));
    let arguments: Vec<&str> = procedure.arguments.iter().map(String::as_str).collect();
    let (serve, arguments) = arguments.split_first().unwrap();
    assert_eq!(*serve, "serve");
    let server = Server::start(dir.path(), &vars, arguments);

    let client = client();
    let (mut changed, mut audited, mut rolled_back) = (false, false, false);
    for (words, expected) in &procedure.requests {
        let curl = curl(words);
        let path = curl
            .url
            .strip_prefix("http://127.0.0.1:8000")
            .unwrap_or_else(|| {
                panic!("the README's requests go to rose serve's default address: {words:?}")
            });
        let mut request = client.request(curl.method.clone(), server.url(path));
        for (name, value) in &curl.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &curl.body {
            request = request.body(body.clone());
        }
        let reply = send(request).await;
        assert_eq!(reply.status, 200, "{words:?}: {reply:?}");
        if let Some(expected) = expected {
            assert_eq!(&reply.json(), expected, "{words:?}");
        }
        changed |= curl.method == Method::PATCH && path == "/api/admin/feature-flags";
        rolled_back |= curl.method == Method::POST && path == "/api/admin/feature-flags/rollback";
        if path == "/api/admin/audit" {
            let event = &reply.json()["events"][0];
            assert_eq!(event["actor"], "admin", "{event}");
            assert_eq!(event["outcome"], "applied", "{event}");
            let change =
                json!({"flag": "FEATURE_IMAGE_GENERATION_ENABLED", "old": "true", "new": "false"});
            assert_eq!(event["changes"], json!([change]), "{event}");
            audited = true;
        }
    }
    assert!(
        changed && audited && rolled_back,
        "a change, the audit, a rollback"
    );
    // The README's start command keeps the changes in its store.
    assert!(dir.path().join("flags.json").exists());
    assert!(server.stop().status.success());
}

/// Health says how the instance stands with its database, so that a load balancer (or a person)
/// can tell a server that serves the last flags it had from one that follows the fleet; and a
/// server told to require its database refuses to start without it.
#[tokio::test]
async fn health_reports_the_store_and_require_database_refuses_a_start_without_it() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let client = client();
    let with = |url: &str| {
        [
            ("FEATURE_DATABASE_TYPE", "postgresql"),
            ("DATABASE_URL", url),
            ("TOGETHER_API_KEY", "together-key"),
        ]
        .map(|(name, value)| (name, value.to_owned()))
    };
    let vars = with(&cluster.url());
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let server = Server::start(dir.path(), &vars, &[]);
    let health = get(&client, &server, "/api/health?store=required").await;
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(
        health.json(),
        json!({"status": "ok", "version": 0, "store": "connected"})
    );
    server.stop();

    // A database that does not exist: the server starts from the environment, and says so.
    let missing = cluster.url().replace("/postgres", "/no_such_database");
    let vars = with(&missing);
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let server = Server::start(dir.path(), &vars, &[]);
    let health = get(&client, &server, "/api/health").await;
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(
        health.json(),
        json!({"status": "degraded", "version": 0, "store": "unreachable"})
    );
    let required = get(&client, &server, "/api/health?store=required").await;
    assert_eq!(required.status, 503, "{required:?}");
    server.stop();

    let refused = Server::spawn(dir.path(), &vars, &["--require-database"]).wait();
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stderr);
    assert_eq!(refused.stdout, "");
    assert!(
        refused.stderr.contains(
            "DATABASE_URL: the database is required at start, and cannot be used: the database \
             refused: database \"no_such_database\" does not exist"
        ),
        "{}",
        refused.stderr
    );

    // Flags not kept in PostgreSQL at all: what is not so is named.
    let sqlite = [("TOGETHER_API_KEY", "together-key")];
    let refused = Server::spawn(dir.path(), &sqlite, &["--require-database"]).wait();
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "--require-database: the flags are kept in PostgreSQL only with \
             FEATURE_DATABASE_TYPE=postgresql and DATABASE_URL set, and FEATURE_DATABASE_TYPE is \
             sqlite"
        ),
        "{}",
        refused.stderr
    );
}

/// With UNLEASH_URL and UNLEASH_API_KEY, `rose serve` hands its live flags to Unleash: with
/// Unleash unreachable it still starts, from the environment, saying so once and never showing
/// the key; the admin API refuses a change to a flag Unleash manages (409, naming it), and marks
/// which flags Unleash manages (not one read only at start).
#[tokio::test]
async fn with_unleash_set_the_flags_it_manages_refuse_local_changes() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unleash = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let server = Server::start(
        dir.path(),
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("UNLEASH_URL", &unleash),
            ("UNLEASH_API_KEY", "default:development.k3y-never-shown"),
            ("UNLEASH_REFRESH_INTERVAL", "1s"),
        ],
        &[],
    );
    let client = client();
    let refused = patch(
        &client,
        &server,
        json!({"FEATURE_TTS_CACHE_ENABLED": false}),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("managed by unleash"),
        "{}",
        refused.body
    );
    let flags = admin(&client, &server, Method::GET, "/api/admin/feature-flags").await;
    let flags: Value = serde_json::from_str(&flags.body).unwrap();
    let flag = |variable: &str| {
        flags["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|flag| flag["variable"] == variable)
            .unwrap()
            .clone()
    };
    assert_eq!(flag("FEATURE_TTS_CACHE_ENABLED")["managed_by"], "unleash");
    assert_eq!(flag("FEATURE_DATABASE_TYPE")["managed_by"], Value::Null);
    let stopped = server.stop();
    let warnings = stopped.warnings("flags_unleash");
    assert_eq!(warnings.len(), 1, "{}", stopped.stderr);
    assert!(
        warnings[0].contains("the flags start from the environment alone"),
        "{}",
        warnings[0]
    );
    assert!(!stopped.stderr.contains("k3y-never-shown"));
}
