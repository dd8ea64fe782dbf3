//! Shared flags in PostgreSQL (issue 14): how long a change made through one instance takes to
//! be served by the others, and how many changes a second one database takes with several
//! instances following it.
//!
//! ```text
//! propagation [--durable] [--instances N] [CHANGES] [SECONDS]
//!
//!   CHANGES       timed changes per row (default 200, after a tenth as many to warm up)
//!   SECONDS       per throughput row (default 10)
//!   --instances   how many instances share the database (default 3, at most 10)
//!   --durable     with the server's fsync, synchronous_commit and full_page_writes on, as in
//!                 production (the test cluster turns them off)
//! ```
//!
//! It starts a throwaway PostgreSQL cluster (`flags_tests::postgres::Cluster`) and N instances
//! A, B, C… of the seed application in this process, each its own `Live<Settings>` over its own
//! `PostgresStore` (same database, same application), following the store, and served by
//! `flags_http::router` on its own loopback port from a thread with a one-thread tokio runtime,
//! which also runs its store's driver, as N processes would each run one. The client runs on the
//! main thread, on a runtime of its own.
//!
//! Propagation: each change sets `FEATURE_IMAGE_GENERATION_ENABLED` to the opposite of its
//! current value with a `PATCH` to A; the clock starts as the `PATCH` is sent, and stops when the
//! last of the other instances serves the new value, measured four ways: `GET
//! /api/feature-flags` on every other instance polled concurrently without pause, then with a
//! 1 ms pause between polls; then `Live::subscribe` timestamps on the others (no polling), after
//! a `PATCH` to A, then after `Live::commit` on A (no HTTP at all).
//!
//! Throughput: `PATCH`es for SECONDS, each setting the flag to the opposite of what its instance
//! serves: one at a time through A; one at a time through every instance in turn, without
//! waiting for an instance to catch up; and one client per instance at once. A change through an
//! instance behind the store's version catches up and is made again on top; one that other
//! instances keep overtaking is refused (409) and counted apart. After each row, every instance
//! must reach the last version committed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use flags_core::Loader;
use flags_core::live::{Change, Live, Subscription};
use flags_core::secrecy::SecretString;
use flags_examples::Settings;
use flags_http::Tokens;
use flags_postgres::{Following, PostgresStore};
use flags_tests::postgres::Cluster;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;
use tokio_postgres::{NoTls, SimpleQueryMessage};

const TOKEN: &str = "benchmark-admin-token";
const APP: &str = "rose";
const FLAG: &str = "FEATURE_IMAGE_GENERATION_ENABLED";
const PUBLIC_NAME: &str = "image_generation";
/// The instances' names, in the order they start; A takes the timed changes.
const NAMES: [&str; 10] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"];
/// How long a change may take to reach every instance before the benchmark gives up.
const PROPAGATION_LIMIT: Duration = Duration::from_secs(5);

fn main() {
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    let durable = arguments.first().is_some_and(|first| first == "--durable");
    if durable {
        arguments.remove(0);
    }
    let mut count = 3;
    if arguments
        .first()
        .is_some_and(|first| first == "--instances")
        && arguments.len() > 1
    {
        count = number(&arguments[1], "--instances");
        arguments.drain(..2);
    }
    let (changes, seconds) = match arguments.as_slice() {
        [] => (200, 10),
        [changes] => (number(changes, "CHANGES"), 10),
        [changes, seconds] => (number(changes, "CHANGES"), number(seconds, "SECONDS")),
        _ => usage(),
    };
    if !(2..=NAMES.len() as u64).contains(&count) {
        usage();
    }
    let cluster = Cluster::start();
    if durable {
        make_durable(&cluster);
    }
    println!(
        "commits {}",
        if durable {
            "durable: fsync, synchronous_commit and full_page_writes on"
        } else {
            "as the test cluster makes them: fsync, synchronous_commit and full_page_writes off"
        }
    );
    let instances: Vec<Instance> = NAMES[..count as usize]
        .iter()
        .map(|name| Instance::start(name, &cluster.url()))
        .collect();
    println!("{count} instances on one database");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client's runtime");
    runtime.block_on(run(&instances, changes, Duration::from_secs(seconds)));
    drop(runtime);
    // The servers, followers and stores stop before the database does.
    for instance in instances {
        instance.stop();
    }
    drop(cluster);
}

/// Turns back on what the test cluster turns off for speed, so that each commit waits for its
/// WAL to reach the disk, as a production server's does; restarts the server to take `fsync`.
fn make_durable(cluster: &Cluster) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let sql = |statements: &'static [&'static str]| {
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&cluster.url(), NoTls)
                .await
                .expect("a connection to the cluster");
            tokio::spawn(connection);
            let mut answers = Vec::new();
            for statement in statements {
                // One statement per query: ALTER SYSTEM cannot run in a transaction block.
                for message in client.simple_query(statement).await.expect(statement) {
                    if let SimpleQueryMessage::Row(row) = message {
                        answers.push(row.get(0).unwrap_or_default().to_owned());
                    }
                }
            }
            answers
        })
    };
    sql(&[
        "ALTER SYSTEM SET fsync = on",
        "ALTER SYSTEM SET synchronous_commit = on",
        "ALTER SYSTEM SET full_page_writes = on",
    ]);
    cluster.stop();
    cluster.start_again();
    let settings = sql(&[
        "SHOW fsync",
        "SHOW synchronous_commit",
        "SHOW full_page_writes",
    ]);
    assert_eq!(
        settings,
        ["on", "on", "on"],
        "the server's settings after a restart"
    );
}

fn usage() -> ! {
    eprintln!("usage: propagation [--durable] [--instances N] [CHANGES] [SECONDS]");
    eprintln!("  N: 2 to {}", NAMES.len());
    std::process::exit(2);
}

fn number(text: &str, what: &str) -> u64 {
    match text.parse() {
        Ok(number) if number > 0 => number,
        _ => panic!("{what} is a whole number above zero, not {text:?}"),
    }
}

/// One instance of the application: live flags over the shared store, following it, served over
/// HTTP from a thread of its own.
struct Instance {
    name: &'static str,
    flags: Arc<Live<Settings>>,
    address: SocketAddr,
    following: Following,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Instance {
    /// Starts the instance's thread, which runs its runtime: the store's driver and the server,
    /// as a process of the application would.
    fn start(name: &'static str, url: &str) -> Instance {
        let url = url.to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let (started, ready) = std::sync::mpsc::channel();
        let server = std::thread::Builder::new()
            .name(format!("server-{name}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a server's runtime");
                runtime.block_on(async move {
                    let (store, driver) = PostgresStore::builder(url, APP)
                        .require_database()
                        .connect()
                        .await
                        .expect("a store");
                    tokio::spawn(driver);
                    let loader = Loader::new().map([("TOGETHER_API_KEY", "key")]);
                    let flags = Live::<Settings>::builder()
                        .store(store.clone())
                        .without_tracing_audit()
                        .load(loader)
                        .expect("the seed's defaults load over the store");
                    let flags = Arc::new(flags);
                    let following = store.follow(&flags);
                    let tokens = Tokens::new().token(SecretString::from(TOKEN), "bench");
                    let router = flags_http::router(Arc::clone(&flags), tokens);
                    started
                        .send((flags, following))
                        .expect("the benchmark waits for its instances");
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let service = router.into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(listener, service)
                        .with_graceful_shutdown(async move {
                            let _ = stop.await;
                        })
                        .await
                        .expect("the server runs");
                });
            })
            .expect("a server thread");
        let (flags, following) = ready.recv().expect("the instance starts");
        Instance {
            name,
            flags,
            address,
            following,
            shutdown,
            server,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn stop(self) {
        drop(self.following);
        let flags = self.flags;
        let _ = self.shutdown.send(());
        self.server.join().expect("the server thread ends");
        drop(flags);
    }
}

async fn run(instances: &[Instance], changes: u64, seconds: Duration) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let bench = Bench { client, instances };
    let changes = usize::try_from(changes).expect("a count that fits in memory");
    println!(
        "{changes} changes per row, after {} to warm up; each from its PATCH (or commit) on A to \
         the last of the {} others serving it",
        changes / 10,
        instances.len() - 1
    );
    println!();
    println!(
        "| served by the others, as seen by | p50 | p99 | max | in the others' `Live`, p50 | p99 | \
         A answered, p50 | p99 |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    // The others' new versions, from the moment each reaches their `Live`.
    let (sender, mut arrivals) = unbounded_channel();
    let subscriptions: Vec<Subscription> = instances[1..]
        .iter()
        .map(|instance| subscribe(instance, &sender))
        .collect();
    let mut slowest = Vec::new();
    for way in [
        Way::Polling { pause: None },
        Way::Polling {
            pause: Some(Duration::from_millis(1)),
        },
        Way::Subscribed { over_http: true },
        Way::Subscribed { over_http: false },
    ] {
        let mut rounds = Vec::with_capacity(changes);
        for round in 0..changes + changes / 10 {
            let timed = bench.change(way, &mut arrivals).await;
            if round >= changes / 10 {
                rounds.push(timed);
            }
        }
        let served = Percentiles::of(rounds.iter().map(|round| round.served));
        let reached = Percentiles::of(rounds.iter().map(|round| round.reached));
        let answered = Percentiles::of(rounds.iter().map(|round| round.answered));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            way.describe(),
            millis(served.p50),
            millis(served.p99),
            millis(served.max),
            millis(reached.p50),
            millis(reached.p99),
            millis(answered.p50),
            millis(answered.p99),
        );
        let worst = rounds.iter().max_by_key(|round| round.served);
        slowest.extend(worst.map(|round| (way, round.served, round.reached, round.answered)));
    }
    drop(subscriptions);
    println!();
    println!("The slowest change of each row (where its time went):");
    for (way, served, reached, answered) in slowest {
        println!(
            "- {}: served {}, in every other `Live` {}, A answered {}",
            way.describe(),
            millis(served),
            millis(reached),
            millis(answered)
        );
    }
    println!();
    println!("PATCHes for {} s per row:", seconds.as_secs());
    println!();
    println!(
        "| through | committed | committed/s | refused, overtaken (409) | all at the last version after |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for writers in [Writers::A, Writers::InTurn, Writers::AllAtOnce] {
        let through = bench.throughput(writers, seconds).await;
        println!(
            "| {} | {} | {:.0} | {} | {} (version {}) |",
            writers.describe(),
            through.committed,
            through.committed as f64 / through.elapsed.as_secs_f64(),
            through.stale,
            millis(through.converged),
            through.version,
        );
    }
}

/// How a change is made, and its arrival on the other instances seen.
#[derive(Clone, Copy)]
enum Way {
    /// A `PATCH` to A; `GET /api/feature-flags` on every other instance, concurrently, with
    /// `pause` between the polls of each.
    Polling { pause: Option<Duration> },
    /// A `PATCH` to A, or `Live::commit` on A; the time the others' `Live::subscribe` callbacks
    /// run.
    Subscribed { over_http: bool },
}

impl Way {
    fn describe(self) -> String {
        match self {
            Way::Polling { pause: None } => String::from("PATCH to A; GET on the others, no pause"),
            Way::Polling { pause: Some(pause) } => format!(
                "PATCH to A; GET on the others, a {} ms pause",
                pause.as_millis()
            ),
            Way::Subscribed { over_http: true } => {
                String::from("PATCH to A; `Live::subscribe` on the others")
            }
            Way::Subscribed { over_http: false } => {
                String::from("`Live::commit` on A; `Live::subscribe` on the others")
            }
        }
    }
}

struct Bench<'a> {
    client: reqwest::Client,
    instances: &'a [Instance],
}

/// One instance's public flags, polled by a task of its own.
struct Poll {
    client: reqwest::Client,
    name: &'static str,
    url: String,
}

impl Poll {
    /// Polls until the flags serve `enabled`: when they first did, or why not by `deadline`.
    async fn served(
        self,
        enabled: bool,
        pause: Option<Duration>,
        deadline: Instant,
    ) -> Result<Instant, String> {
        loop {
            let body = self
                .client
                .get(&self.url)
                .send()
                .await
                .expect("the instance answers")
                .bytes()
                .await
                .expect("the answer's body");
            let now = Instant::now();
            let served: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            if served[PUBLIC_NAME] == enabled {
                return Ok(now);
            }
            if now > deadline {
                return Err(format!(
                    "{} still serves {} {} s after the change to {enabled} was sent",
                    self.name,
                    served[PUBLIC_NAME],
                    PROPAGATION_LIMIT.as_secs()
                ));
            }
            if let Some(pause) = pause {
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// One change, from its start: when A answered, when the last of the others' `Live` had it, and
/// when the last of the others served it (as the row measures it).
struct Timed {
    answered: Duration,
    reached: Duration,
    served: Duration,
}

/// What a throughput row counts.
struct Throughput {
    committed: u64,
    stale: u64,
    elapsed: Duration,
    /// From the last change's answer to every instance at its version.
    converged: Duration,
    version: u64,
}

impl Bench<'_> {
    /// Makes one change through A and times it `way`; `arrivals` has the others' new versions.
    async fn change(&self, way: Way, arrivals: &mut UnboundedReceiver<Arrival>) -> Timed {
        let a = &self.instances[0];
        let enabled = !a.flags.get().image_generation_enabled;
        let start = Instant::now();
        let deadline = start + PROPAGATION_LIMIT;
        let refused = |status| format!("A answered the PATCH with {status}");
        let (answered, served) = match way {
            Way::Polling { pause } => {
                // Each other instance polled by a task of its own, all at once.
                let polls: Vec<_> = self.instances[1..]
                    .iter()
                    .map(|instance| {
                        let poll = Poll {
                            client: self.client.clone(),
                            name: instance.name,
                            url: instance.url("/api/feature-flags"),
                        };
                        tokio::spawn(poll.served(enabled, pause, deadline))
                    })
                    .collect();
                let answered = self.patch(a, enabled).await.map_err(refused);
                let answered = answered.unwrap_or_else(|failure| panic!("{failure}"));
                let mut last = answered;
                for poll in polls {
                    let served = poll.await.expect("a poll ends");
                    last = last.max(served.unwrap_or_else(|failure| panic!("{failure}")));
                }
                (answered, Some(last))
            }
            Way::Subscribed { over_http: true } => {
                let answered = self.patch(a, enabled).await.map_err(refused);
                (answered.unwrap_or_else(|failure| panic!("{failure}")), None)
            }
            Way::Subscribed { over_http: false } => {
                a.flags
                    .commit(Change::set("bench", [(FLAG, enabled.to_string())]))
                    .await
                    .expect("A makes the change");
                (Instant::now(), None)
            }
        };
        let others: Vec<&'static str> =
            self.instances[1..].iter().map(|other| other.name).collect();
        let reached = arrived(arrivals, &others, enabled, deadline).await;
        Timed {
            answered: answered - start,
            reached: reached - start,
            served: served.unwrap_or(reached) - start,
        }
    }

    /// Sends the PATCH that sets the flag to `enabled` through `instance`: when it was answered,
    /// or the status it was answered with if not 200.
    async fn patch(&self, instance: &Instance, enabled: bool) -> Result<Instant, StatusCode> {
        let url = instance.url("/api/admin/feature-flags");
        let status = patch(&self.client, &url, enabled).await;
        if status == StatusCode::OK {
            Ok(Instant::now())
        } else {
            Err(status)
        }
    }

    /// PATCHes for `seconds` as `writers` says, then waits for every instance to reach the last
    /// version committed.
    async fn throughput(&self, writers: Writers, seconds: Duration) -> Throughput {
        let start = Instant::now();
        let every: Vec<usize> = (0..self.instances.len()).collect();
        let counts = match writers {
            Writers::A => self.write(&[0], start, seconds).await,
            Writers::InTurn => self.write(&every, start, seconds).await,
            Writers::AllAtOnce => {
                // One writer per instance, each a task of its own, all at once.
                let tasks: Vec<_> = self
                    .instances
                    .iter()
                    .map(|instance| {
                        let writer = Writer {
                            client: self.client.clone(),
                            targets: vec![instance.target()],
                        };
                        tokio::spawn(writer.write(start, seconds))
                    })
                    .collect();
                let mut total = Counts {
                    committed: 0,
                    stale: 0,
                    last: start,
                };
                for task in tasks {
                    let counts = task.await.expect("a writer ends");
                    total.committed += counts.committed;
                    total.stale += counts.stale;
                    total.last = total.last.max(counts.last);
                }
                total
            }
        };
        let version = self
            .instances
            .iter()
            .map(|instance| instance.flags.version())
            .max()
            .unwrap_or_default();
        let deadline = Instant::now() + PROPAGATION_LIMIT;
        for instance in self.instances {
            loop {
                let health: serde_json::Value = self
                    .client
                    .get(instance.url("/api/health"))
                    .send()
                    .await
                    .expect("the instance answers")
                    .json()
                    .await
                    .expect("JSON");
                if health["version"] == version {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} is at version {} {} s after the last change, version {version}",
                    instance.name,
                    health["version"],
                    PROPAGATION_LIMIT.as_secs()
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        Throughput {
            committed: counts.committed,
            stale: counts.stale,
            elapsed: counts.last - start,
            converged: counts.last.elapsed(),
            version,
        }
    }

    /// PATCHes one after the other until `seconds` after `start`, through the instances at
    /// `turns` in turn, each setting the flag to the opposite of what its instance serves.
    async fn write(&self, turns: &[usize], start: Instant, seconds: Duration) -> Counts {
        let targets = turns
            .iter()
            .map(|turn| self.instances[*turn].target())
            .collect();
        let writer = Writer {
            client: self.client.clone(),
            targets,
        };
        writer.write(start, seconds).await
    }
}

/// An instance as a writer sends it changes.
struct Target {
    name: &'static str,
    flags: Arc<Live<Settings>>,
    url: String,
}

impl Instance {
    fn target(&self) -> Target {
        Target {
            name: self.name,
            flags: Arc::clone(&self.flags),
            url: self.url("/api/admin/feature-flags"),
        }
    }
}

/// One client that sends changes through its targets in turn.
struct Writer {
    client: reqwest::Client,
    targets: Vec<Target>,
}

impl Writer {
    async fn write(self, start: Instant, seconds: Duration) -> Counts {
        let mut counts = Counts {
            committed: 0,
            stale: 0,
            last: start,
        };
        for target in self.targets.iter().cycle() {
            if start.elapsed() >= seconds {
                break;
            }
            let enabled = !target.flags.get().image_generation_enabled;
            match patch(&self.client, &target.url, enabled).await {
                StatusCode::OK => {
                    counts.committed += 1;
                    counts.last = Instant::now();
                }
                StatusCode::CONFLICT => counts.stale += 1,
                status => panic!("{} answered a PATCH with {status}", target.name),
            }
        }
        counts
    }
}

/// Sends the PATCH that sets the flag to `enabled` to `url`, and reads the answer whole: its
/// status.
async fn patch(client: &reqwest::Client, url: &str, enabled: bool) -> StatusCode {
    let response = client
        .patch(url)
        .bearer_auth(TOKEN)
        .body(format!(r#"{{"{FLAG}": {enabled}}}"#))
        .send()
        .await
        .expect("the instance answers");
    let status = response.status();
    response.bytes().await.expect("the answer's body");
    status
}

/// Who sends the changes of a throughput row.
#[derive(Clone, Copy)]
enum Writers {
    /// One client, through A.
    A,
    /// One client, through every instance in turn.
    InTurn,
    /// One client per instance, all at once.
    AllAtOnce,
}

impl Writers {
    fn describe(self) -> &'static str {
        match self {
            Writers::A => "A, one PATCH at a time",
            Writers::InTurn => "every instance in turn, one PATCH at a time",
            Writers::AllAtOnce => "every instance at once, one PATCH at a time each",
        }
    }
}

/// What one writer counted.
struct Counts {
    committed: u64,
    stale: u64,
    /// When its last committed change was answered.
    last: Instant,
}

/// A new version reaching an instance: which, its value of the flag, and when.
type Arrival = (&'static str, bool, Instant);

/// Sends the instant each new version reaches `instance`.
fn subscribe(instance: &Instance, arrivals: &UnboundedSender<Arrival>) -> Subscription {
    let (name, arrivals) = (instance.name, arrivals.clone());
    instance.flags.subscribe(move |snapshot| {
        let _ = arrivals.send((name, snapshot.image_generation_enabled, Instant::now()));
    })
}

/// When the last of the others' arrivals with the flag at `enabled` came.
async fn arrived(
    arrivals: &mut UnboundedReceiver<Arrival>,
    others: &[&'static str],
    enabled: bool,
    deadline: Instant,
) -> Instant {
    let mut on: Vec<Option<Instant>> = vec![None; others.len()];
    while on.iter().any(Option::is_none) {
        let arrival = tokio::time::timeout_at(deadline.into(), arrivals.recv()).await;
        match arrival {
            Ok(Some((name, value, at))) if value == enabled => {
                if let Some(index) = others.iter().position(|other| *other == name) {
                    on[index].get_or_insert(at);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => unreachable!("the sender is held"),
            Err(_) => {
                let missing: Vec<&str> = others
                    .iter()
                    .zip(&on)
                    .filter(|(_, at)| at.is_none())
                    .map(|(name, _)| *name)
                    .collect();
                panic!(
                    "the change to {enabled} did not reach {} within {} s",
                    missing.join(", "),
                    PROPAGATION_LIMIT.as_secs()
                )
            }
        }
    }
    on.into_iter().flatten().max().expect("every other arrived")
}

struct Percentiles {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Percentiles {
    fn of(times: impl Iterator<Item = Duration>) -> Percentiles {
        let mut times: Vec<Duration> = times.collect();
        times.sort_unstable();
        let at = |percentile: usize| times[(times.len() * percentile / 100).min(times.len() - 1)];
        Percentiles {
            p50: at(50),
            p99: at(99),
            max: times[times.len() - 1],
        }
    }
}

fn millis(time: Duration) -> String {
    format!("{:.2} ms", time.as_secs_f64() * 1e3)
}
