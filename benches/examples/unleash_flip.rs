//! Unleash (issue 20): how long a toggle flipped in Unleash takes to be served by the flags.
//!
//! ```text
//! unleash_flip [FLIPS] [REFRESH_MS]
//!
//!   FLIPS        timed flips (default 40, after 3 to warm up)
//!   REFRESH_MS   the source's refresh interval (default 100)
//! ```
//!
//! It starts a throwaway PostgreSQL cluster and a real Unleash server on it (npm's
//! `unleash-server`, which `.ci/peers` installs: `flags_tests::unleash`), makes a toggle, and
//! follows it with `flags-unleash` in this process. Each flip turns the toggle on or off through
//! Unleash's admin API; the clock starts as the request is sent and stops twice: when Unleash's
//! own client API serves the new state (polled without pause with the client token: Unleash's
//! propagation, which this project does not control) and when `Live::get` serves it (polled
//! every 0.2 ms); the third row is the second less the first, flip by flip: what the source
//! adds. The issue's goal: served within the refresh interval + 100 ms at p99.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flags_core::live::Live;
use flags_core::{FeatureFlags, Loader};
use flags_tests::postgres::Cluster;
use flags_tests::unleash::Unleash as Server;
use flags_unleash::Unleash;
use serde_json::{Value, json};

#[derive(FeatureFlags)]
struct Settings {
    #[flag(default = false, managed_as = "flip")]
    flip: bool,
}

/// Milliseconds, to two decimals.
fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// The `q` quantile of `sorted`.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Whether Unleash's client API serves the toggle `flip` as `on`.
async fn unleash_serves(client: &reqwest::Client, server: &Server, on: bool) -> bool {
    let answer = client
        .get(format!("{}/client/features", server.api_url()))
        .header("authorization", server.client_token())
        .send()
        .await;
    let Ok(answer) = answer else { return false };
    let Ok(features) = answer.json::<Value>().await else {
        return false;
    };
    features["features"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|feature| feature["name"] == "flip" && feature["enabled"] == on)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let flips: usize = args
        .next()
        .map_or(40, |n| n.parse().expect("FLIPS: a number"));
    let refresh: u64 = args
        .next()
        .map_or(100, |n| n.parse().expect("REFRESH_MS: a number"));
    let cluster = Cluster::start();
    let Some(server) = Server::start(&cluster) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let features = "/projects/default/features";
        server.admin("POST", features, Some(json!({"name": "flip", "type": "release"}))).await;
        let strategies = format!("{features}/flip/environments/development/strategies");
        let everyone = json!({"name": "default", "parameters": {}, "constraints": [], "segments": [], "variants": []});
        server.admin("POST", &strategies, Some(everyone)).await;

        let flags = Arc::new(Live::<Settings>::builder().without_tracing_audit().load(Loader::new()).expect("flags"));
        let (_unleash, driver) = Unleash::builder(server.api_url(), server.client_token())
            .refresh_interval(Duration::from_millis(refresh))
            .start(&flags)
            .await
            .expect("the source starts");
        tokio::spawn(driver);
        let client = reqwest::Client::new();
        let (mut theirs, mut ours, mut after) = (Vec::new(), Vec::new(), Vec::new());
        for flip in 0..flips + 3 {
            let on = !flags.get().flip;
            let path = format!("{features}/flip/environments/development/{}", if on { "on" } else { "off" });
            let started = Instant::now();
            server.admin("POST", &path, None).await;
            let (mut unleash_at, mut flags_at) = (None, None);
            while unleash_at.is_none() || flags_at.is_none() {
                assert!(started.elapsed() < Duration::from_secs(30), "flip {flip} not served in 30 s");
                if flags_at.is_none() && flags.get().flip == on {
                    flags_at = Some(started.elapsed());
                }
                if unleash_at.is_none() && unleash_serves(&client, &server, on).await {
                    unleash_at = Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            if let (true, Some(unleash_at), Some(flags_at)) = (flip >= 3, unleash_at, flags_at) {
                theirs.push(unleash_at);
                ours.push(flags_at);
                after.push(flags_at.saturating_sub(unleash_at));
            }
        }
        theirs.sort();
        ours.sort();
        after.sort();
        println!("{flips} flips, refresh {refresh} ms (ms: p50, p90, p99, max)");
        let rows = [
            ("Unleash's client API serves it", &theirs),
            ("the flags serve it", &ours),
            ("the flags, after Unleash serves it", &after),
        ];
        for (what, times) in rows {
            let row: Vec<String> = [0.5, 0.9, 0.99, 1.0].iter().map(|q| ms(quantile(times, *q))).collect();
            println!("| {what} | {} |", row.join(" | "));
        }
    });
}
