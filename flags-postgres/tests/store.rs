//! The PostgreSQL store against a real server that each test starts for itself: instances that
//! follow each other, races, the database away and back, rows written by hand, migrations.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use flags_core::live::{
    AuditEvent, AuditKind, AuditPage, Change, ChangeError, Live, Outcome, StoreError,
};
use flags_core::{FeatureFlags, Loader};
use flags_postgres::{Following, PostgresStore};
use flags_tests::capture_logs;
use flags_tests::postgres::Cluster;
use flags_tests::proxy::Proxy;
use tokio::runtime::Runtime;

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

/// One instance of the application: its live flags over the shared store, following it, with
/// the runtime its store's driver runs on, as an application's own.
struct Instance {
    flags: Arc<Live<Settings>>,
    _following: Following,
    runtime: Runtime,
}

impl Instance {
    fn start(url: &str) -> Instance {
        Self::with(PostgresStore::builder(url, "rose").answer_within(Duration::from_secs(5)))
    }

    /// An instance over `builder`, with no periodic read: what reaches it reaches it by
    /// notification or reconnection.
    fn with(builder: flags_postgres::Builder) -> Instance {
        Self::reading_every(builder, Duration::from_secs(3600))
    }

    /// An instance over `builder` that reads the flags again every `period`.
    fn reading_every(builder: flags_postgres::Builder, period: Duration) -> Instance {
        let runtime = runtime();
        let connecting = builder.reread_every(period).connect();
        let (store, driver) = runtime.block_on(connecting).unwrap();
        runtime.spawn(driver);
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
            runtime,
        }
    }

    fn workers(&self) -> u8 {
        self.flags.get().workers
    }

    /// Makes `change` as a request handler of the application would: awaited on its runtime.
    fn commit(&self, change: Change) -> Result<u64, ChangeError> {
        self.runtime.block_on(self.flags.commit(change))
    }

    fn apply(&self, workers: &str, actor: &str) -> Result<u64, ChangeError> {
        self.commit(Change::set(actor, [("FEATURE_WORKERS", workers)]))
    }

    fn audit(&self) -> Vec<AuditEvent> {
        self.runtime
            .block_on(self.flags.audit_events(AuditPage::newest(1000)))
    }
}

/// A runtime as an application's: one worker.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
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

/// Whether the change was refused because the store could not be used now: retrying can help.
fn store_problem(error: &ChangeError) -> bool {
    matches!(error, ChangeError::Store(error) if error.is_retryable())
}

#[test]
fn a_change_through_one_instance_is_served_by_the_others() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let instances: Vec<Instance> = (0..3).map(|_| Instance::start(&cluster.url())).collect();
    let version = instances[0].apply("8", "alice").unwrap();
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
    let beta = Change::set("bob", [("FEATURE_BETA_ENABLED", "on")]).comment("beta for the demo");
    instances[2].commit(beta).unwrap();
    wait_until("served by the first", || {
        instances[0].flags.get().beta_enabled
    });
    // One audit, whichever instance is asked, with each change's kind and reason.
    let audit: Vec<(u64, String, AuditKind, Option<String>)> = instances[1]
        .audit()
        .into_iter()
        .map(|event| (event.version, event.actor, event.kind, event.comment))
        .collect();
    let beta = Some(String::from("beta for the demo"));
    assert_eq!(
        audit,
        [
            (1, "alice".to_owned(), AuditKind::Set, None),
            (2, "bob".to_owned(), AuditKind::Set, beta),
        ]
    );
    // A page at a time, backwards: before the newest event, the one before it.
    let newest = instances[1].audit().pop().unwrap();
    let page = AuditPage {
        limit: 10,
        before: Some(newest.at),
    };
    let before = instances[1]
        .runtime
        .block_on(instances[1].flags.audit_events(page));
    let versions: Vec<u64> = before.iter().map(|event| event.version).collect();
    assert_eq!(versions, [1]);
    // A new instance starts from the store.
    let late = Instance::start(&cluster.url());
    assert_eq!((late.flags.version(), late.workers()), (2, 8));
}

/// Two changes made on one version (an HTTP `If-Match`) race: one wins, the other is refused.
/// Changes made on no version in particular both go through, one after the other.
#[test]
fn of_two_changes_on_one_version_one_wins_and_the_other_is_refused() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    // Not following: both stay on version 0 whatever the other does.
    let runtime = Arc::new(runtime());
    let open = || {
        let connecting = PostgresStore::builder(&url, "rose").connect();
        let (store, driver) = runtime.block_on(connecting).unwrap();
        runtime.spawn(driver);
        Live::<Settings>::builder()
            .store(store)
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap()
    };
    let (one, two) = (Arc::new(open()), Arc::new(open()));
    let start = Arc::new(Barrier::new(2));
    let race = |if_version: Option<u64>, workers: [&'static str; 2]| {
        let racers: Vec<_> = [
            (Arc::clone(&one), workers[0]),
            (Arc::clone(&two), workers[1]),
        ]
        .into_iter()
        .map(|(flags, workers)| {
            let (start, runtime) = (Arc::clone(&start), Arc::clone(&runtime));
            thread::spawn(move || {
                let change = Change::set("racer", [("FEATURE_WORKERS", workers)]);
                let change = match if_version {
                    Some(version) => change.if_version(version),
                    None => change,
                };
                start.wait();
                runtime.block_on(flags.commit(change))
            })
        })
        .collect();
        racers
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .collect::<Vec<_>>()
    };
    let results = race(Some(0), ["5", "6"]);
    let won: Vec<_> = results.iter().filter(|result| result.is_ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let lost = results
        .iter()
        .find_map(|result| result.as_ref().err())
        .unwrap();
    assert!(
        matches!(
            lost,
            ChangeError::Stale {
                expected: 0,
                found: 1
            }
        ),
        "{lost}"
    );
    assert_eq!(column(&url, "SELECT version FROM flags_state"), ["1"]);

    let mut versions: Vec<u64> = race(None, ["7", "8"])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [2, 3]);
    assert_eq!(column(&url, "SELECT version FROM flags_state"), ["3"]);
}

#[test]
fn instances_keep_serving_while_the_database_is_away_and_converge_when_it_is_back() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let direct = Instance::start(&cluster.url());
    // The third instance reaches the database through a network the test can cut.
    let proxy = Proxy::start(format!("127.0.0.1:{}", cluster.port()).parse().unwrap());
    let proxied_url = cluster.url().replace(
        &format!(":{}/", cluster.port()),
        &format!(":{}/", proxy.port()),
    );
    let other = Instance::start(&cluster.url());
    let partitioned = Instance::start(&proxied_url);
    direct.apply("5", "alice").unwrap();
    wait_until("at version 1 everywhere", || {
        partitioned.flags.version() == 1 && other.flags.version() == 1
    });

    // One instance's connection is gone: a change committed meanwhile, whose notification it
    // never gets, reaches it when it reconnects.
    proxy.cut();
    let error = partitioned.apply("9", "carol").unwrap_err();
    assert!(store_problem(&error), "{error}");
    direct.apply("6", "alice").unwrap();
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
        let error = instance.apply("7", "dave").unwrap_err();
        assert!(store_problem(&error), "{error}");
        assert_eq!((instance.flags.version(), instance.workers()), (2, 6));
    }
    cluster.start_again();
    // Back: changes go through again, once the instance has reconnected.
    wait_until("a change accepted again", || {
        other.apply("7", "erin").is_ok()
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
    // And the changes refused while the database was away are in the shared audit, each
    // instance's written when it was back.
    // (erin's attempts while the store reconnected were refused too, as many as they were.)
    let refused = "SELECT actor || ':' || count(*) FROM flags_audit WHERE outcome = 'rejected' \
                   AND actor IN ('carol', 'dave') GROUP BY actor ORDER BY actor";
    wait_until("the refusals audited", || {
        column(&cluster.url(), refused) == ["carol:1", "dave:3"]
    });
}

#[test]
fn a_row_written_by_hand_that_does_not_load_is_refused_audited_and_never_served() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let instances: Vec<Instance> = (0..2).map(|_| Instance::start(&url)).collect();
    instances[0].apply("5", "alice").unwrap();
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
    // Each instance refuses it; the shared audit keeps the refusal once.
    wait_until("the refusal audited", || {
        column(
            &url,
            "SELECT count(*) FROM flags_audit WHERE outcome = 'rejected' AND version = 2",
        ) == ["1"]
    });
    for instance in &instances {
        wait_until("refused", || {
            instance.flags.store_health()
                == Some(flags_core::live::StoreHealth::Behind { store: 2 })
        });
        assert_eq!((instance.flags.version(), instance.workers()), (1, 5));
    }
    let events = instances[0].audit();
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
    // A change that leaves the bad rows as they are cannot go on top of them, and says why.
    let error = instances[0]
        .commit(Change::set("alice", [("FEATURE_BETA_ENABLED", "on")]))
        .unwrap_err();
    let ChangeError::Rejected(problems) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(problems.problems().len(), 2, "{error}");
    // One that repairs them goes on top of the store's version, and every instance follows.
    let repair = Change::edit(
        "alice",
        [("FEATURE_WORKERS", Some("6")), ("FEATURE_PORT", None)],
    );
    assert_eq!(instances[0].commit(repair).unwrap(), 3);
    for instance in &instances {
        wait_until("repaired", || instance.flags.version() == 3);
        assert_eq!(instance.workers(), 6);
        assert_eq!(
            instance.flags.store_health(),
            Some(flags_core::live::StoreHealth::Ready)
        );
    }
    assert_eq!(
        column(
            &url,
            "SELECT variable || '=' || value FROM flags_overrides ORDER BY 1"
        ),
        ["FEATURE_WORKERS=6"]
    );
}

#[test]
fn migrations_run_twice_and_touch_no_other_applications_rows_or_tables() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    sql(
        &url,
        "CREATE TABLE users (name text PRIMARY KEY); INSERT INTO users VALUES ('ada');",
    );
    let other = Instance::with(PostgresStore::builder(&url, "billing"));
    other.apply("2", "bob").unwrap();
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
        rose.apply(&(4 + round).to_string(), "alice").unwrap();
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
        [
            "1 create flags",
            "2 audit by time",
            "3 idempotency keys",
            "4 audit kind and comment"
        ]
    );
    assert_eq!(other.workers(), 2);
    // Each application's audit is its own.
    assert_eq!(other.audit().len(), 1);

    // A newer build migrated the database further: this one says so, and works on.
    sql(
        &url,
        "INSERT INTO flags_migrations (version, name) VALUES (99, 'from a newer build')",
    );
    let logs = capture_logs(|| {
        let rose = Instance::start(&url);
        assert_eq!(rose.workers(), 5);
    });
    assert!(
        logs.contains(
            "the database has migrations [99] this build of flags-postgres does not know"
        ),
        "{logs}"
    );
}

#[test]
fn without_the_database_at_start_an_instance_starts_from_its_cache_and_catches_up() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("flags.json");
    {
        let first = Instance::with(PostgresStore::builder(&url, "rose").cache(&cache));
        first.apply("5", "alice").unwrap();
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
        let error = started.apply("6", "alice").unwrap_err();
        assert!(store_problem(&error), "{error}");

        cluster.start_again();
        let elsewhere = Instance::start(&url);
        wait_until("a change accepted by another instance", || {
            elsewhere.apply("7", "bob").is_ok()
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
    let connecting = PostgresStore::builder(&url, "rose")
        .cache(&cache)
        .require_database()
        .connect_within(Duration::from_secs(1))
        .connect();
    let error = runtime().block_on(connecting).err().unwrap();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("the database is required at start, and cannot be used: "),
        "{error}"
    );
    assert!(Path::new(&cache).exists());
}

/// A database that refuses the store's settings (here, a database that does not exist; a wrong
/// password is the same kind): a start that requires the database fails as misconfigured, which
/// retrying cannot help; one that does not starts, and its state and its log say what to fix.
#[test]
fn settings_the_database_refuses_are_misconfigured_not_unavailable() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let missing = cluster.url().replace("/postgres", "/no_such_database");
    let connecting = PostgresStore::builder(&missing, "rose")
        .require_database()
        .connect();
    let error = runtime().block_on(connecting).err().unwrap();
    assert!(matches!(error, StoreError::Misconfigured { .. }), "{error}");
    assert!(!error.is_retryable());
    assert!(
        error.to_string().starts_with(
            "the database is required at start, and cannot be used: the database refused: \
             database \"no_such_database\" does not exist (3D000)"
        ),
        "{error}"
    );

    let logs = capture_logs(|| {
        let started = Instance::with(PostgresStore::builder(&missing, "rose"));
        let Some(flags_core::live::StoreHealth::Unreachable { reason }) =
            started.flags.store_health()
        else {
            panic!("{:?}", started.flags.store_health())
        };
        assert!(
            reason.starts_with("the database refuses the store's settings, which must be fixed"),
            "{reason}"
        );
        assert!(reason.contains("(3D000)"), "{reason}");
    });
    assert!(
        logs.contains(&format!(
            "WARN flags_postgres: cannot use the database at 127.0.0.1:{}/no_such_database for \
             the flags of rose, starting from the environment alone, with no override, until it \
             is back: the database refuses the store's settings, which must be fixed",
            cluster.port()
        )),
        "{logs}"
    );
}

/// The cache file follows what the store holds, whether this instance committed it or read it.
#[test]
fn the_cache_file_holds_the_last_version_committed_or_read() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("flags.json");
    let cached = || {
        let file = flags_core::live::FileStore::new(&cache);
        flags_core::live::Store::read(&file).unwrap().unwrap()
    };
    let cached_instance = Instance::with(PostgresStore::builder(&url, "rose").cache(&cache));
    for workers in ["4", "5"] {
        cached_instance.apply(workers, "alice").unwrap();
    }
    assert_eq!(cached().version, 2);
    let other = Instance::start(&url);
    other.apply("6", "bob").unwrap();
    wait_until("read by the cached instance", || {
        cached_instance.flags.version() == 3
    });
    let stored = cached();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.overrides[0].value, "6");
}

/// Rows that cannot be read as flags (a negative version, written by hand) are said once, however
/// often the flags are read again meanwhile, and their repair once too.
#[test]
fn rows_that_cannot_be_read_are_logged_once_until_they_can_be() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    Instance::start(&url).apply("5", "alice").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let logs = capture_logs(|| {
        runtime.block_on(async {
            let (store, driver) = PostgresStore::builder(&url, "rose")
                .reread_every(Duration::from_millis(50))
                .connect()
                .await
                .unwrap();
            let driving = tokio::spawn(driver);
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client
                .batch_execute(
                    "ALTER TABLE flags_state DROP CONSTRAINT flags_state_version_check;
                     UPDATE flags_state SET version = -1 WHERE app = 'rose';",
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
            client
                .batch_execute("UPDATE flags_state SET version = 1 WHERE app = 'rose';")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(store);
            driving.await.unwrap();
        });
    });
    let errors: Vec<&str> = logs
        .lines()
        .filter(|line| line.starts_with("ERROR"))
        .collect();
    assert_eq!(errors.len(), 1, "{logs}");
    assert!(
        errors[0].contains("a version in the database is negative (-1)"),
        "{logs}"
    );
    assert!(
        logs.contains("INFO flags_postgres: the rows of the flags of rose can be read again"),
        "{logs}"
    );
}

/// A database that holds a change up (another session locks the flags' row) past the store's
/// limit: the change is refused as not answered in time, and never lands later behind the
/// instance's back; the next change, once the row is free, goes through.
#[test]
fn a_change_the_database_holds_up_too_long_is_refused_and_never_lands_later() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let instance =
        Instance::with(PostgresStore::builder(&url, "rose").answer_within(Duration::from_secs(1)));
    instance.apply("5", "alice").unwrap();

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
    let error = instance.apply("6", "alice").unwrap_err();
    assert!(store_problem(&error), "{error}");
    assert!(
        error
            .to_string()
            .contains("no answer within 1 s (answer_within)"),
        "{error}"
    );
    runtime.block_on(async { holder.batch_execute("ROLLBACK").await.unwrap() });
    drop(holder);

    // The held-up change never lands: the next one goes on version 1, once reconnected.
    wait_until("a change accepted again", || {
        instance.apply("7", "alice").is_ok()
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

/// A database away at start is said once: the driver starts knowing why, waits its first backoff
/// before it tries again, and says nothing more while the reason stays the same.
#[test]
fn a_database_away_at_start_is_logged_once_and_retried_after_a_backoff() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    // A server that reads each connection's request for TLS (8 bytes), then closes it, counting
    // them: every attempt fails alike.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "postgres://flags@{}/postgres",
        listener.local_addr().unwrap()
    );
    let attempts = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let server = thread::spawn({
        let (attempts, done) = (Arc::clone(&attempts), Arc::clone(&done));
        move || {
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        stream.set_nonblocking(false).unwrap();
                        let _ = std::io::Read::read_exact(&mut stream, &mut [0; 8]);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        }
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let logs = capture_logs(|| {
        runtime.block_on(async {
            let (store, driver) = PostgresStore::builder(&url, "rose")
                .connect()
                .await
                .unwrap();
            let driving = tokio::spawn(driver);
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(
                attempts.load(Ordering::Relaxed),
                1,
                "retried with no backoff"
            );
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert!(attempts.load(Ordering::Relaxed) > 1, "never retried");
            drop(store);
            driving.await.unwrap();
        });
    });
    done.store(true, Ordering::Relaxed);
    server.join().unwrap();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.starts_with("WARN"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
}

/// A command that changes one flag and exits, with no runtime of its own: the blocking store
/// runs the same store on the calling thread while it waits, and the running instances see the
/// change. The async store, used where no runtime is entered, says what to use instead.
#[test]
fn a_program_without_a_runtime_changes_a_flag_through_the_blocking_store() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let running = Instance::start(&url);
    running.apply("5", "alice").unwrap();

    let store =
        flags_postgres::blocking::PostgresStore::connect(PostgresStore::builder(&url, "rose"))
            .unwrap();
    let cli = Live::<Settings>::builder()
        .store(store)
        .without_tracing_audit()
        .load(Loader::new())
        .unwrap();
    assert_eq!((cli.version(), cli.get().workers), (1, 5));
    assert_eq!(cli.apply([("FEATURE_WORKERS", "6")], "ops-cli").unwrap(), 2);
    wait_until("the running instance serves it", || running.workers() == 6);
    let audit = cli.audit();
    assert_eq!(audit.last().unwrap().actor, "ops-cli");
    drop(cli);

    // The async store's work on a thread where no runtime is entered: an error, not a panic.
    let (store, driver) = running
        .runtime
        .block_on(PostgresStore::builder(&url, "rose").connect())
        .unwrap();
    running.runtime.spawn(driver);
    let outside = Live::<Settings>::builder()
        .store(store)
        .without_tracing_audit()
        .load(Loader::new())
        .unwrap();
    let error = outside
        .apply([("FEATURE_WORKERS", "7")], "alice")
        .unwrap_err();
    assert!(
        matches!(&error, ChangeError::Store(StoreError::Misconfigured { .. })),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("use flags_postgres::blocking::PostgresStore"),
        "{error}"
    );
    // The blocking store where a runtime is entered: the same, the other way round.
    let _entered = running.runtime.enter();
    let error =
        flags_postgres::blocking::PostgresStore::connect(PostgresStore::builder(&url, "rose"))
            .err()
            .unwrap();
    assert!(
        error
            .to_string()
            .contains("use flags_postgres::PostgresStore"),
        "{error}"
    );
    assert_eq!(running.workers(), 6);
}

/// A network that goes silent between an instance and the database (packets lost, nothing
/// closed): a change is answered within the store's wait, the one queued behind it too, each
/// saying whether retrying can help; once the network is back, changes go through again, and
/// what was refused never landed.
#[test]
fn a_silent_network_is_answered_within_the_stores_wait_and_what_it_refused_never_lands() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let proxy = Proxy::start(format!("127.0.0.1:{}", cluster.port()).parse().unwrap());
    let proxied_url = cluster.url().replace(
        &format!(":{}/", cluster.port()),
        &format!(":{}/", proxy.port()),
    );
    let wait = Duration::from_secs(1);
    let instance = Instance::with(PostgresStore::builder(&proxied_url, "rose").answer_within(wait));
    instance.apply("5", "alice").unwrap();

    proxy.silence();
    let started = Instant::now();
    let answers: Vec<(Result<u64, ChangeError>, Duration)> = thread::scope(|scope| {
        let changes: Vec<_> = ["6", "7"]
            .into_iter()
            .map(|workers| {
                let instance = &instance;
                scope.spawn(move || {
                    let answer = instance.apply(workers, "alice");
                    (answer, started.elapsed())
                })
            })
            .collect();
        changes
            .into_iter()
            .map(|change| change.join().unwrap())
            .collect()
    });
    for (answer, took) in &answers {
        // What the fault test reports: how long a change waited for its answer.
        eprintln!(
            "a change during a silent cut was answered in {} ms",
            took.as_millis()
        );
        assert!(*took < Duration::from_secs(3), "answered after {took:?}");
        let error = answer.as_ref().unwrap_err();
        assert!(store_problem(error), "{error}");
    }
    assert_eq!((instance.flags.version(), instance.workers()), (1, 5));

    proxy.restore();
    wait_until("a change accepted again", || {
        instance.apply("8", "alice").is_ok()
    });
    assert_eq!(
        column(&cluster.url(), "SELECT version FROM flags_state"),
        ["2"]
    );
    assert_eq!(
        column(
            &cluster.url(),
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM flags_audit \
             WHERE outcome = 'applied'"
        ),
        ["1,2"]
    );
}

/// The database restored from an older backup while instances run: each notices the store went
/// back (a notification, or the periodic read, without any) and follows it, logging it; a change
/// through any of them then goes on top, and a new instance agrees with the rest.
#[test]
fn instances_follow_a_store_restored_to_an_older_version_and_never_drift() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.url();
    let open = || {
        let builder = PostgresStore::builder(&url, "rose").answer_within(Duration::from_secs(5));
        Instance::reading_every(builder, Duration::from_millis(500))
    };
    let instances: Vec<Instance> = (0..3).map(|_| open()).collect();
    instances[0].apply("5", "alice").unwrap();
    // What a backup taken now would hold.
    let backup = column(
        &url,
        "SELECT variable || '=' || value || '=' || actor || '=' || version FROM flags_overrides",
    );
    assert_eq!(backup, ["FEATURE_WORKERS=5=alice=1"]);
    for workers in ["6", "7", "8"] {
        instances[1].apply(workers, "bob").unwrap();
    }
    for instance in &instances {
        wait_until("at version 4", || instance.flags.version() == 4);
    }

    // The restore: the rows as the backup has them, and no notification. (Each instance's
    // driver logs it, on its runtime's thread: tests/live.rs checks what `Live::adopt` says.)
    {
        let restored = Instant::now();
        sql(
            &url,
            "BEGIN;
             DELETE FROM flags_overrides WHERE app = 'rose';
             UPDATE flags_state SET version = 1 WHERE app = 'rose';
             INSERT INTO flags_overrides (app, variable, value, actor, version)
                 VALUES ('rose', 'FEATURE_WORKERS', '5', 'alice', 1);
             COMMIT;",
        );
        for instance in &instances {
            wait_until("followed back", || instance.flags.version() == 1);
            assert_eq!(instance.workers(), 5);
        }
        // What the fault test reports: how long the fleet took to agree.
        eprintln!(
            "the fleet agreed on the restored version {} ms after the restore",
            restored.elapsed().as_millis()
        );
        assert!(restored.elapsed() < Duration::from_secs(5));
    }

    // A change through an instance, and through a new one, go on top of the restored version.
    assert_eq!(instances[2].apply("9", "carol").unwrap(), 2);
    let late = open();
    assert_eq!((late.flags.version(), late.workers()), (2, 9));
    assert_eq!(late.apply("10", "dave").unwrap(), 3);
    for instance in &instances {
        wait_until("at version 3", || instance.flags.version() == 3);
        assert_eq!(instance.workers(), 10);
    }
}

/// The database commits a change and its answer is lost on the way back: the change is answered
/// "outcome unknown", and its retry with the same idempotency key (through another instance, as
/// a load balancer may send it) is answered with the version it made, which it made once.
#[test]
fn a_change_whose_answer_is_lost_is_said_unknown_and_its_retry_made_once() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let proxy = Proxy::start(format!("127.0.0.1:{}", cluster.port()).parse().unwrap());
    let proxied_url = cluster.url().replace(
        &format!(":{}/", cluster.port()),
        &format!(":{}/", proxy.port()),
    );
    let cut = Instance::with(
        PostgresStore::builder(&proxied_url, "rose").answer_within(Duration::from_secs(1)),
    );
    let other = Instance::start(&cluster.url());
    let change = || Change::set("alice", [("FEATURE_WORKERS", "6")]).idempotency_key("k-41");

    proxy.drop_replies_after_commit();
    let error = cut.commit(change()).unwrap_err();
    assert!(
        matches!(
            &error,
            ChangeError::Store(StoreError::OutcomeUnknown { .. })
        ),
        "{error}"
    );
    // It landed: the other instance serves it.
    wait_until("served elsewhere", || other.workers() == 6);
    proxy.restore();

    assert_eq!(other.commit(change()).unwrap(), 1);
    wait_until("a retry answered", || cut.commit(change()).is_ok());
    assert_eq!(cut.commit(change()).unwrap(), 1);
    assert_eq!(
        column(
            &cluster.url(),
            "SELECT count(*) FROM flags_audit WHERE outcome = 'applied' AND idempotency_key = 'k-41'"
        ),
        ["1"]
    );
    wait_until("the cut instance caught up", || cut.workers() == 6);
    // The key on another change is refused, by any instance.
    let reused = Change::set("alice", [("FEATURE_WORKERS", "7")]).idempotency_key("k-41");
    assert!(matches!(
        other.commit(reused).unwrap_err(),
        ChangeError::KeyInUse { version: 1, .. }
    ));
}

/// What PostgreSQL cannot store is the flag's problem, found before the database is asked: a
/// NUL character is refused with the flag's name, never as a store that is unavailable; its audit
/// event, refused by the database too, does not stop the instance following after a reconnect;
/// and the audit keeps each event's time to the microsecond.
#[test]
fn a_nul_character_is_the_flags_problem_and_the_audit_keeps_microseconds() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let instance = Instance::start(&cluster.url());
    let error = instance.apply("5\u{0}", "alice").unwrap_err();
    let ChangeError::Rejected(problems) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        problems.problems()[0].env(),
        Some("FEATURE_WORKERS"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("expected text without a NUL character"),
        "{error}"
    );
    // Its audit event, which the database cannot hold either, is not retried on every
    // connection: cut this one, and the instance still follows what another instance changes.
    sql(
        &cluster.url(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND datname = current_database()",
    );
    let other = Instance::start(&cluster.url());
    other.apply("4", "bob").unwrap();
    wait_until("the change of another instance followed", || {
        instance.workers() == 4
    });
    for workers in ["5", "6", "7"] {
        instance.apply(workers, "alice").unwrap();
    }
    // Three events written at whole seconds would be a coincidence of one in a million cubed.
    let fractions = column(
        &cluster.url(),
        "SELECT count(*) FROM flags_audit WHERE extract(microseconds FROM at)::bigint % 1000000 <> 0",
    );
    assert_ne!(fractions, ["0"]);
    let read = instance.audit();
    let stored = read.last().unwrap();
    assert_eq!(stored.at.nanosecond() % 1000, 0);
    assert_eq!(stored.version, 4);
}
