//! The PostgreSQL store against a real server that each test starts for itself: instances that
//! follow each other, races, the database away and back, rows written by hand, migrations.

mod common;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use flags_core::live::{Live, Outcome};
use flags_core::{FeatureFlags, Loader, Problem};
use flags_postgres::{Following, PostgresStore};
use flags_tests::capture_logs;
use flags_tests::postgres::Cluster;

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
    #[flag(default = 3)]
    workers: u8,
    /// Read at start only.
    #[flag(default = 8080, restart)]
    port: u16,
}

/// One instance of the application: its live flags over the shared store, following it.
struct Instance {
    flags: Arc<Live<Settings>>,
    _following: Following,
}

impl Instance {
    fn start(url: &str) -> Instance {
        Self::with(PostgresStore::builder(url, "rose").answer_within(Duration::from_secs(5)))
    }

    fn with(builder: flags_postgres::Builder) -> Instance {
        // No periodic read: what reaches an instance here reaches it by notification or
        // reconnection.
        let store = builder
            .reread_every(Duration::from_secs(3600))
            .start()
            .unwrap();
        let flags = Live::<Settings>::builder()
            .store(store.clone())
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap();
        let flags = Arc::new(flags);
        let following = store.follow(&flags);
        Instance {
            flags,
            _following: following,
        }
    }

    fn workers(&self) -> u8 {
        self.flags.get().workers
    }
}

/// Waits, at most 10 s, for `done`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "still not {what} after 10 s");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `work` with a connection to the database at `url`, as an operator with psql would.
fn with_client<T>(url: &str, work: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        work(&client).await
    })
}

/// Runs `statements` on the database at `url`.
fn sql(url: &str, statements: &str) {
    with_client(url, async |client| {
        client.batch_execute(statements).await.unwrap()
    });
}

/// The first column of each row of `query`, as text.
fn column(url: &str, query: &str) -> Vec<String> {
    with_client(url, async |client| {
        let rows = client.simple_query(query).await.unwrap();
        rows.iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some(row.get(0).unwrap_or("NULL").to_owned())
                }
                _ => None,
            })
            .collect()
    })
}

fn store_problem(error: &flags_core::FlagsError) -> bool {
    matches!(error.problems(), [Problem::Store { .. }])
}

#[test]
fn a_change_through_one_instance_is_served_by_the_others() {
    let cluster = Cluster::start();
    let instances: Vec<Instance> = (0..3).map(|_| Instance::start(&cluster.url())).collect();
    let version = instances[0]
        .flags
        .apply([("FEATURE_WORKERS", "8")], "alice")
        .unwrap();
    assert_eq!(version, 1);
    for instance in &instances[1..] {
        wait_until("served by every instance", || instance.workers() == 8);
        assert_eq!(instance.flags.version(), 1);
        assert_eq!(
            instance
                .flags
                .get()
                .source("FEATURE_WORKERS")
                .unwrap()
                .to_string(),
            "override by alice (version 1)"
        );
    }
    // The next change comes from another instance, on the version all share.
    instances[2]
        .flags
        .apply([("FEATURE_BETA_ENABLED", "on")], "bob")
        .unwrap();
    wait_until("served by the first", || {
        instances[0].flags.get().beta_enabled
    });
    // One audit, whichever instance is asked.
    let audit: Vec<(u64, String)> = instances[1]
        .flags
        .audit()
        .into_iter()
        .map(|event| (event.version, event.actor))
        .collect();
    assert_eq!(audit, [(1, "alice".to_owned()), (2, "bob".to_owned())]);
    // A new instance starts from the store.
    let late = Instance::start(&cluster.url());
    assert_eq!((late.flags.version(), late.workers()), (2, 8));
}

/// Two changes made on one version (an HTTP `If-Match`) race: one wins, the other is refused.
/// Changes made on no version in particular both go through, one after the other.
#[test]
fn of_two_changes_on_one_version_one_wins_and_the_other_is_refused() {
    let cluster = Cluster::start();
    let url = cluster.url();
    // Not following: both stay on version 0 whatever the other does.
    let open = || {
        let store = PostgresStore::builder(&url, "rose").start().unwrap();
        Live::<Settings>::builder()
            .store(store)
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap()
    };
    let (one, two) = (Arc::new(open()), Arc::new(open()));
    let start = Arc::new(Barrier::new(2));
    let racers: Vec<_> = [(Arc::clone(&one), "5"), (Arc::clone(&two), "6")]
        .into_iter()
        .map(|(flags, workers)| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                flags.at(0).apply([("FEATURE_WORKERS", workers)], "racer")
            })
        })
        .collect();
    let results: Vec<_> = racers
        .into_iter()
        .map(|racer| racer.join().unwrap())
        .collect();
    let won: Vec<_> = results.iter().filter(|result| result.is_ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let lost = results
        .iter()
        .find_map(|result| result.as_ref().err())
        .unwrap();
    assert!(
        matches!(
            lost.problems(),
            [Problem::Conflict {
                expected: 0,
                found: 1,
                ..
            }]
        ),
        "{lost}"
    );
    assert_eq!(column(&url, "SELECT version FROM flags_state"), ["1"]);

    let racers: Vec<_> = [(Arc::clone(&one), "7"), (Arc::clone(&two), "8")]
        .into_iter()
        .map(|(flags, workers)| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                flags.apply([("FEATURE_WORKERS", workers)], "racer")
            })
        })
        .collect();
    let mut versions: Vec<u64> = racers
        .into_iter()
        .map(|racer| racer.join().unwrap().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [2, 3]);
    assert_eq!(column(&url, "SELECT version FROM flags_state"), ["3"]);
}

#[test]
fn instances_keep_serving_while_the_database_is_away_and_converge_when_it_is_back() {
    let cluster = Cluster::start();
    let direct = Instance::start(&cluster.url());
    // The third instance reaches the database through a network the test can cut.
    let proxy = Proxy::start(format!("127.0.0.1:{}", cluster.port()).parse().unwrap());
    let proxied_url = cluster.url().replace(
        &format!(":{}/", cluster.port()),
        &format!(":{}/", proxy.port()),
    );
    let other = Instance::start(&cluster.url());
    let partitioned = Instance::start(&proxied_url);
    direct
        .flags
        .apply([("FEATURE_WORKERS", "5")], "alice")
        .unwrap();
    wait_until("at version 1 everywhere", || {
        partitioned.flags.version() == 1 && other.flags.version() == 1
    });

    // One instance's connection is gone: a change committed meanwhile, whose notification it
    // never gets, reaches it when it reconnects.
    proxy.cut();
    let error = partitioned
        .flags
        .apply([("FEATURE_WORKERS", "9")], "carol")
        .unwrap_err();
    assert!(store_problem(&error), "{error}");
    direct
        .flags
        .apply([("FEATURE_WORKERS", "6")], "alice")
        .unwrap();
    wait_until("the other at version 2", || other.flags.version() == 2);
    assert_eq!(partitioned.workers(), 5);
    proxy.restore();
    wait_until("the partitioned one at version 2", || {
        partitioned.flags.version() == 2
    });
    assert_eq!(partitioned.workers(), 6);

    // The database stops: every instance serves the flags it has, and refuses changes.
    cluster.stop();
    for instance in [&direct, &other, &partitioned] {
        assert_eq!(instance.workers(), 6);
        let error = instance
            .flags
            .apply([("FEATURE_WORKERS", "7")], "dave")
            .unwrap_err();
        assert!(store_problem(&error), "{error}");
        assert_eq!((instance.flags.version(), instance.workers()), (2, 6));
    }
    cluster.start_again();
    // Back: changes go through again, once the instance has reconnected.
    wait_until("a change accepted again", || {
        other
            .flags
            .apply([("FEATURE_WORKERS", "7")], "erin")
            .is_ok()
    });
    for instance in [&direct, &other, &partitioned] {
        wait_until("converged", || instance.flags.version() == 3);
        assert_eq!(instance.workers(), 7);
    }
    // Nothing committed was lost.
    assert_eq!(
        column(
            &cluster.url(),
            "SELECT value FROM flags_overrides WHERE variable = 'FEATURE_WORKERS'"
        ),
        ["7"]
    );
}

#[test]
fn a_row_written_by_hand_that_does_not_load_is_refused_audited_and_never_served() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let instances: Vec<Instance> = (0..2).map(|_| Instance::start(&url)).collect();
    instances[0]
        .flags
        .apply([("FEATURE_WORKERS", "5")], "alice")
        .unwrap();
    wait_until("version 1", || instances[1].flags.version() == 1);

    sql(
        &url,
        "BEGIN;
         UPDATE flags_overrides SET value = 'lots', version = 2 WHERE app = 'rose';
         INSERT INTO flags_overrides (app, variable, value, actor, version)
             VALUES ('rose', 'FEATURE_PORT', '9090', 'dba', 2);
         UPDATE flags_state SET version = 2 WHERE app = 'rose';
         SELECT pg_notify('flags:rose', '2');
         COMMIT;",
    );
    // Each instance refuses it, and audits that in the shared audit.
    wait_until("both refusals audited", || {
        column(
            &url,
            "SELECT count(*) FROM flags_audit WHERE outcome = 'rejected' AND version = 2",
        ) == ["2"]
    });
    for instance in &instances {
        assert_eq!((instance.flags.version(), instance.workers()), (1, 5));
    }
    let events = instances[0].flags.audit();
    let refused = events.last().unwrap();
    assert_eq!(refused.outcome, Outcome::Rejected);
    let reason = refused.reason.as_deref().unwrap();
    assert!(
        reason
            .contains("FEATURE_WORKERS: invalid value \"lots\", expected an integer from 0 to 255"),
        "{reason}"
    );
    assert!(
        reason.contains("FEATURE_PORT: read only at start"),
        "{reason}"
    );
    // A change made on the version the instances keep conflicts with the store's.
    let error = instances[0]
        .flags
        .apply([("FEATURE_WORKERS", "6")], "alice")
        .unwrap_err();
    assert!(
        matches!(
            error.problems(),
            [Problem::Conflict {
                expected: 1,
                found: 2,
                ..
            }]
        ),
        "{error}"
    );
}

#[test]
fn migrations_run_twice_and_touch_no_other_applications_rows_or_tables() {
    let cluster = Cluster::start();
    let url = cluster.url();
    sql(
        &url,
        "CREATE TABLE users (name text PRIMARY KEY); INSERT INTO users VALUES ('ada');",
    );
    let other = {
        let store = PostgresStore::builder(&url, "billing").start().unwrap();
        let flags = Live::<Settings>::builder()
            .store(store)
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap();
        flags.apply([("FEATURE_WORKERS", "2")], "bob").unwrap();
        flags
    };
    let snapshot = |url: &str| {
        (
            column(
                url,
                "SELECT app || ':' || version FROM flags_state ORDER BY app",
            ),
            column(
                url,
                "SELECT app || ':' || variable || '=' || value FROM flags_overrides ORDER BY 1",
            ),
            column(url, "SELECT name FROM users"),
        )
    };
    for round in 0..2 {
        let rose = Instance::start(&url);
        rose.flags
            .apply([("FEATURE_WORKERS", (4 + round).to_string())], "alice")
            .unwrap();
    }
    let (states, overrides, users) = snapshot(&url);
    assert_eq!(states, ["billing:1", "rose:2"]);
    assert_eq!(
        overrides,
        ["billing:FEATURE_WORKERS=2", "rose:FEATURE_WORKERS=5"]
    );
    assert_eq!(users, ["ada"]);
    assert_eq!(
        column(&url, "SELECT version || ' ' || name FROM flags_migrations"),
        ["1 create flags"]
    );
    assert_eq!(other.get().workers, 2);
    // Each application's audit is its own.
    assert_eq!(other.audit().len(), 1);
}

#[test]
fn without_the_database_at_start_an_instance_starts_from_its_cache_and_catches_up() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("flags.json");
    {
        let first = Instance::with(PostgresStore::builder(&url, "rose").cache(&cache));
        first
            .flags
            .apply([("FEATURE_WORKERS", "5")], "alice")
            .unwrap();
    }
    assert!(cache.exists());
    cluster.stop();

    let logs = capture_logs(|| {
        let started = Instance::with(
            PostgresStore::builder(&url, "rose")
                .cache(&cache)
                .connect_within(Duration::from_secs(1)),
        );
        assert_eq!((started.flags.version(), started.workers()), (1, 5));
        let error = started
            .flags
            .apply([("FEATURE_WORKERS", "6")], "alice")
            .unwrap_err();
        assert!(store_problem(&error), "{error}");

        cluster.start_again();
        let elsewhere = Instance::start(&url);
        wait_until("a change accepted by another instance", || {
            elsewhere
                .flags
                .apply([("FEATURE_WORKERS", "7")], "bob")
                .is_ok()
        });
        wait_until("caught up", || started.flags.version() == 2);
        assert_eq!(started.workers(), 7);
    });
    assert!(
        logs.contains("starting from the overrides last read from it (version 1, kept in"),
        "{logs}"
    );

    // Required: no start without it.
    cluster.stop();
    let store = PostgresStore::builder(&url, "rose")
        .cache(&cache)
        .require_database()
        .connect_within(Duration::from_secs(1))
        .start()
        .unwrap();
    let error = Live::<Settings>::builder()
        .store(store)
        .load(Loader::new())
        .err()
        .unwrap();
    assert!(store_problem(&error), "{error}");
    assert!(Path::new(&cache).exists());
}

/// A database that holds a change up (another session locks the flags' row) past the store's
/// limit: the change is refused as not answered in time, and never lands later behind the
/// instance's back; the next change, once the row is free, goes through.
#[test]
fn a_change_the_database_holds_up_too_long_is_refused_and_never_lands_later() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let instance =
        Instance::with(PostgresStore::builder(&url, "rose").answer_within(Duration::from_secs(1)));
    instance
        .flags
        .apply([("FEATURE_WORKERS", "5")], "alice")
        .unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let holder = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute("BEGIN; SELECT version FROM flags_state WHERE app = 'rose' FOR UPDATE;")
            .await
            .unwrap();
        client
    });
    let error = instance
        .flags
        .apply([("FEATURE_WORKERS", "6")], "alice")
        .unwrap_err();
    assert!(store_problem(&error), "{error}");
    assert!(
        error.to_string().contains("did not answer within 1 s"),
        "{error}"
    );
    runtime.block_on(async { holder.batch_execute("ROLLBACK").await.unwrap() });
    drop(holder);

    // The held-up change never lands: the next one goes on version 1, once reconnected.
    wait_until("a change accepted again", || {
        instance
            .flags
            .apply([("FEATURE_WORKERS", "7")], "alice")
            .is_ok()
    });
    assert_eq!(column(&url, "SELECT version FROM flags_state"), ["2"]);
    assert_eq!(
        column(
            &url,
            "SELECT value FROM flags_overrides WHERE variable = 'FEATURE_WORKERS'"
        ),
        ["7"]
    );
    assert_eq!((instance.flags.version(), instance.workers()), (2, 7));
}

/// A server that accepts connections and never answers: the store starts without it, and
/// dropping the store does not wait on it.
#[test]
fn a_database_that_never_answers_neither_stops_a_start_nor_holds_up_a_drop() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://flags@{}/postgres", silent.local_addr().unwrap());
    let (done, finished) = std::sync::mpsc::channel();
    let started = thread::spawn(move || {
        let instance = Instance::with(
            PostgresStore::builder(&url, "rose")
                .connect_within(Duration::from_millis(500))
                .answer_within(Duration::from_millis(500)),
        );
        let loaded = (instance.flags.version(), instance.workers());
        drop(instance);
        done.send(loaded).unwrap();
    });
    let loaded = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the store is still starting or stopping after 20 s");
    assert_eq!(loaded, (0, 3));
    started.join().unwrap();
    drop(silent);
}
