//! The HTTP side of the benchmarks (issue 13), run by `benches/http.sh`.
//!
//! ```text
//! http serve floor|naive|flags   serve GET /api/feature-flags on a random loopback port, print
//!                                `listening on http://ADDR`, and run until killed
//! http patch N [--store]         serve flags-http in this process and time N changes, each from
//!                                sending its PATCH to a GET that serves the new value; print the
//!                                percentiles
//! ```
//!
//! The three servers answer the same JSON, the seed application's public flags:
//! - `floor`: a plain axum handler returning bytes rendered once: the least any server can do;
//! - `naive`: the handler an application would write, `Json(flags.get().public_flags())`;
//! - `flags`: `flags_http::router`, with its ETag and its projection rendered once per version.
//!
//! Every server runs on one tokio worker thread, so that the load generator has the other core.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use flags_core::live::{FileStore, Live};
use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader};
use flags_examples::Settings;
use flags_http::Tokens;

const TOKEN: &str = "benchmark-admin-token";

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match arguments.as_slice() {
        ["serve", server] => runtime.block_on(serve(server)),
        ["patch", count, rest @ ..] => {
            let count = count.parse().expect("a number of changes");
            runtime.block_on(patch(count, rest == ["--store"]));
        }
        _ => {
            eprintln!("usage: http serve floor|naive|flags | http patch N [--store]");
            std::process::exit(2);
        }
    }
}

fn flags(store: Option<FileStore>) -> Arc<Live<Settings>> {
    // The process environment last: the OFREP benchmark (benches/ofrep.sh) sets the rollout and
    // the variants it serves.
    let loader = Loader::new()
        .map([("ADMIN_TOKEN", TOKEN), ("TOGETHER_API_KEY", "key")])
        .env();
    let builder = Live::<Settings>::builder().without_tracing_audit();
    let builder = match store {
        Some(store) => builder.store(store),
        None => builder,
    };
    Arc::new(builder.load(loader).expect("the seed's defaults load"))
}

fn router(server: &str) -> axum::Router {
    let flags = flags(None);
    match server {
        "floor" => {
            let body = Bytes::from(serde_json::to_vec(&flags.get().public_flags()).unwrap());
            let handler = move || {
                let body = body.clone();
                async move { ([(CONTENT_TYPE, "application/json")], body) }
            };
            axum::Router::new().route("/api/feature-flags", get(handler))
        }
        "naive" => {
            let handler = move || {
                let flags = Arc::clone(&flags);
                async move { Json(flags.get().public_flags()) }
            };
            axum::Router::new().route("/api/feature-flags", get(handler))
        }
        "flags" => flags_http::router(flags, Tokens::new()),
        other => panic!("no server {other:?}: floor, naive or flags"),
    }
}

async fn listen(router: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    (address, task)
}

async fn serve(server: &str) {
    let (address, task) = listen(router(server)).await;
    println!("listening on http://{address}");
    task.await.unwrap();
}

/// Times `count` changes from the PATCH that makes each to the first GET that serves it.
async fn patch(count: usize, store: bool) {
    let directory = tempfile::tempdir().unwrap();
    let flags = flags(store.then(|| FileStore::new(directory.path().join("flags.json"))));
    let tokens = Tokens::new().token(SecretString::from(TOKEN), "bench");
    let (address, _task) = listen(flags_http::router(Arc::clone(&flags), tokens)).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let admin = format!("http://{address}/api/admin/feature-flags");
    let public = format!("http://{address}/api/feature-flags");
    let mut times = Vec::with_capacity(count);
    for round in 0..count + count / 10 {
        let enabled = round % 2 == 0;
        let body = format!(r#"{{"FEATURE_IMAGE_GENERATION_ENABLED": {enabled}}}"#);
        let start = Instant::now();
        let response = client
            .patch(&admin)
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.unwrap();
        // The change is served once it is applied: the first GET after the PATCH must see it.
        let served: serde_json::Value = client
            .get(&public)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let elapsed = start.elapsed();
        assert_eq!(served["image_generation"], enabled, "{served}");
        // The first tenth warms up the connection and the caches.
        if round >= count / 10 {
            times.push(elapsed);
        }
    }
    times.sort_unstable();
    let at = |percentile: usize| times[(times.len() * percentile / 100).min(times.len() - 1)];
    let micros = |time: Duration| time.as_secs_f64() * 1e6;
    println!(
        "{count} changes{}: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        if store { " with a file store" } else { "" },
        micros(at(50)),
        micros(at(99)),
        micros(times[times.len() - 1]),
    );
}
