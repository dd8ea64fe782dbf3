//! The shared store under faults (issue 23): changes retried through a network that fails at
//! random points of their commits, then restores of the database to an older version.
//!
//! ```text
//! faults [CHANGES] [RESTORES]
//!
//!   CHANGES    changes made through a failing network, each retried until answered (default 1000)
//!   RESTORES   restores of the database to an older version (default 10)
//! ```
//!
//! It starts a throwaway PostgreSQL cluster (`flags_tests::postgres::Cluster`). **Changes:** one
//! instance reaches the database through a loopback proxy (`flags_tests::proxy::Proxy`) and
//! waits 300 ms for an answer; each change carries an idempotency key and, before its first
//! attempt, meets one fault drawn at random: none, the connection closed after a random number
//! of the bytes the store sends (anywhere in the commit), the database's replies dropped once its
//! `COMMIT` passed (it lands, its answer is lost), or the network silent. Each change is retried
//! with its key until it is answered. The program prints how each first attempt was answered
//! and how long it took (a silent network's among them), and checks in the database that every
//! change was applied exactly once: one applied row per key, no key twice.
//!
//! **Restores:** three instances follow the database, reading it every 3 s (the default); the
//! program changes a flag through one, then writes back the rows of an earlier version without
//! a notification, as a restore from a backup does, and times until every instance serves that
//! version.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flags_core::Loader;
use flags_core::live::{Change, ChangeError, Live, StoreError};
use flags_examples::Settings;
use flags_postgres::{Following, PostgresStore};
use flags_tests::postgres::Cluster;
use flags_tests::proxy::Proxy;
use tokio::runtime::Runtime;
use tokio_postgres::{NoTls, SimpleQueryMessage};

const APP: &str = "rose";
const FLAG: &str = "FEATURE_IMAGE_GENERATION_ENABLED";

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| match arguments.get(index) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("usage: faults [CHANGES] [RESTORES]");
            std::process::exit(2)
        }),
    };
    let (changes, restores) = (number(0, 1000), number(1, 10));
    let cluster = Cluster::start();
    retried_changes(&cluster, changes);
    println!();
    fleet_after_restores(&cluster, restores);
}

/// One instance of the seed application over the store at `url`, following it, with the
/// runtime that drives its store.
struct Instance {
    flags: Arc<Live<Settings>>,
    _following: Following,
    runtime: Runtime,
}

impl Instance {
    fn start(builder: flags_postgres::Builder) -> Instance {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let (store, driver) = runtime.block_on(builder.connect()).expect("a store");
        runtime.spawn(driver);
        let loader = Loader::new().map([("TOGETHER_API_KEY", "key")]);
        let flags = Live::<Settings>::builder()
            .store(store.clone())
            .without_tracing_audit()
            .load(loader)
            .expect("the seed's defaults load over the store");
        let flags = Arc::new(flags);
        let following = store.follow(&flags);
        Instance {
            flags,
            _following: following,
            runtime,
        }
    }

    fn commit(&self, change: Change) -> Result<u64, ChangeError> {
        self.runtime.block_on(self.flags.commit(change))
    }
}

/// A fault a change meets on its first attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// The connection closed after this many more bytes from the store.
    ClosedAfter(u64),
    /// The database's replies lost once `COMMIT` passed.
    AnswerLost,
    /// Nothing passes either way.
    Silent,
}

fn retried_changes(cluster: &Cluster, changes: u64) {
    let proxy = Proxy::start(format!("127.0.0.1:{}", cluster.port()).parse().unwrap());
    let url = cluster.url().replace(
        &format!(":{}/", cluster.port()),
        &format!(":{}/", proxy.port()),
    );
    let instance = Instance::start(
        PostgresStore::builder(url, APP)
            .answer_within(Duration::from_millis(300))
            .connect_within(Duration::from_secs(1)),
    );
    let mut random = Random(0x5eed_f1a9);
    let mut first_answers: Vec<(Fault, &'static str, Duration)> = Vec::new();
    let mut attempts = 0_u64;
    let started = Instant::now();
    for index in 0..changes {
        let key = format!("change-{index}");
        let enabled = index % 2 == 0;
        let change = || Change::set("faults", [(FLAG, enabled.to_string())]).idempotency_key(&*key);
        let fault = match random.below(4) {
            0 => Fault::None,
            1 => Fault::ClosedAfter(random.below(600)),
            2 => Fault::AnswerLost,
            _ => Fault::Silent,
        };
        match fault {
            Fault::None => {}
            Fault::ClosedAfter(bytes) => proxy.cut_after(bytes),
            Fault::AnswerLost => proxy.drop_replies_after_commit(),
            Fault::Silent => proxy.silence(),
        }
        let asked = Instant::now();
        let mut answer = instance.commit(change());
        attempts += 1;
        first_answers.push((fault, answer_kind(&answer), asked.elapsed()));
        proxy.restore();
        let mut tries = 1;
        while let Err(error) = &answer {
            assert!(
                tries < 200,
                "change {index} still refused after 200 tries: {error}"
            );
            std::thread::sleep(Duration::from_millis(20));
            answer = instance.commit(change());
            attempts += 1;
            tries += 1;
        }
    }
    let elapsed = started.elapsed();

    println!(
        "{changes} changes with an idempotency key, each meeting a random fault on its first \
         attempt and retried until answered: {attempts} attempts in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!();
    println!("| first attempt's fault | changes | answered | p50 | p99 | max |");
    println!("| --- | ---: | --- | ---: | ---: | ---: |");
    for (name, matches) in [
        (
            "none",
            (|fault: Fault| fault == Fault::None) as fn(Fault) -> bool,
        ),
        ("connection closed mid-way", |fault| {
            matches!(fault, Fault::ClosedAfter(_))
        }),
        ("answer lost after COMMIT", |fault| {
            fault == Fault::AnswerLost
        }),
        ("network silent", |fault| fault == Fault::Silent),
    ] {
        let rows: Vec<&(Fault, &str, Duration)> = first_answers
            .iter()
            .filter(|(fault, _, _)| matches(*fault))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut kinds: Vec<&str> = rows.iter().map(|(_, kind, _)| *kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut times: Vec<Duration> = rows.iter().map(|(_, _, took)| *took).collect();
        times.sort_unstable();
        let at = |percent: usize| times[(times.len() * percent / 100).min(times.len() - 1)];
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            rows.len(),
            kinds.join(", "),
            millis(at(50)),
            millis(at(99)),
            millis(times[times.len() - 1]),
        );
    }
    let rows = query(
        cluster,
        "SELECT count(*), count(DISTINCT idempotency_key), \
         (SELECT count(*) FROM (SELECT idempotency_key FROM flags_audit \
           WHERE outcome = 'applied' AND idempotency_key IS NOT NULL \
           GROUP BY idempotency_key HAVING count(*) > 1) twice) \
         FROM flags_audit WHERE outcome = 'applied' AND idempotency_key LIKE 'change-%'",
    );
    let (applied, keys, twice) = (&rows[0], &rows[1], &rows[2]);
    println!();
    println!(
        "In the database: {applied} applied rows for {changes} changes, {keys} distinct keys, \
         {twice} keys applied more than once."
    );
    assert_eq!(
        (applied.as_str(), keys.as_str(), twice.as_str()),
        (
            changes.to_string().as_str(),
            changes.to_string().as_str(),
            "0"
        ),
        "every change applied exactly once"
    );
}

/// How an attempt was answered, in a word.
fn answer_kind(answer: &Result<u64, ChangeError>) -> &'static str {
    match answer {
        Ok(_) => "applied",
        Err(ChangeError::Store(StoreError::OutcomeUnknown { .. })) => "outcome unknown",
        Err(ChangeError::Store(StoreError::Unavailable { .. })) => "unavailable",
        Err(ChangeError::Overtaken { .. }) => "overtaken",
        Err(_) => "refused otherwise",
    }
}

fn fleet_after_restores(cluster: &Cluster, restores: u64) {
    let instances: Vec<Instance> = (0..3)
        .map(|_| Instance::start(PostgresStore::builder(cluster.url(), APP)))
        .collect();
    let mut times = Vec::new();
    for _ in 0..restores {
        let backup = instances[0].flags.version();
        let value = instances[0].flags.get().image_generation_enabled;
        let change = Change::set("restores", [(FLAG, (!value).to_string())]);
        instances[0].commit(change).expect("a change");
        // The restore: the rows as they were at `backup`, and no notification.
        let restored = Instant::now();
        execute(
            cluster,
            &format!(
                "BEGIN;
                 UPDATE flags_state SET version = {backup} WHERE app = '{APP}';
                 UPDATE flags_overrides SET value = '{value}', version = {backup}
                     WHERE app = '{APP}' AND variable = '{FLAG}';
                 COMMIT;"
            ),
        );
        let deadline = restored + Duration::from_secs(30);
        while instances
            .iter()
            .any(|instance| instance.flags.version() != backup)
        {
            assert!(
                Instant::now() < deadline,
                "the fleet still disagrees after 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        times.push(restored.elapsed());
    }
    times.sort_unstable();
    println!(
        "{restores} restores of the database to the version before the last change, with three \
         instances reading it every 3 s (the default): every instance served the restored \
         version {} after the restore at p50, {} at worst.",
        millis(times[times.len() / 2]),
        millis(times[times.len() - 1])
    );
}

/// The first row of `sql`'s answer, each column as text.
fn query(cluster: &Cluster, sql: &str) -> Vec<String> {
    with_client(cluster, |client, runtime| {
        let messages = runtime.block_on(client.simple_query(sql)).expect(sql);
        messages
            .into_iter()
            .find_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|index| row.get(index).unwrap_or("NULL").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default()
    })
}

fn execute(cluster: &Cluster, sql: &str) {
    with_client(cluster, |client, runtime| {
        runtime.block_on(client.batch_execute(sql)).expect(sql)
    });
}

fn with_client<T>(
    cluster: &Cluster,
    work: impl FnOnce(&tokio_postgres::Client, &Runtime) -> T,
) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (client, connection) = runtime
        .block_on(tokio_postgres::connect(&cluster.url(), NoTls))
        .expect("a connection to the cluster");
    runtime.spawn(connection);
    work(&client, &runtime)
}

/// A small generator of the faults' draw: the same each run (xorshift64).
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn millis(time: Duration) -> String {
    format!("{:.0} ms", time.as_secs_f64() * 1e3)
}
