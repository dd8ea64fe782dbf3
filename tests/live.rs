//! Live flags: changes validated as a load is, applied whole or not at all, audited, rolled back,
//! kept in a store across restarts, and seen by readers old or new, never mixed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use flags_core::live::{
    AuditEvent, AuditKind, AuditPage, Change, ChangeError, CommitOutcome, FileStore,
    JsonLinesAudit, Live, LoadError, Outcome, Store, StoreError, StoreFuture, Stored,
    StoredOverride,
};
use flags_core::secrecy::{ExposeSecret, SecretString};
use flags_core::{FeatureFlags, FlagValue, Loader, Problem, Source, Unmanageable};
use flags_tests::capture_logs;

const CANARY: &str = "canary-live-4e1d";

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Region {
    Us,
    Eu,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_")]
struct Settings {
    /// On only with a token.
    #[flag(default = false, requires = "APP_TOKEN")]
    beta_enabled: bool,
    #[flag(env = "APP_TOKEN")]
    token: Option<String>,
    #[flag(default = 3)]
    workers: u8,
    #[flag(default = Region::Us)]
    region: Region,
    /// Where the server listens: read once, at start.
    #[flag(default = 8080, restart)]
    port: u16,
    /// A secret that cannot change live.
    #[flag(env = "API_KEY", secret)]
    api_key: Option<SecretString>,
    /// A secret that may change live.
    #[flag(env = "WEBHOOK_SECRET", secret, live)]
    webhook_secret: Option<SecretString>,
}

fn loader() -> Loader {
    Loader::new().map([("APP_WORKERS", "4"), ("API_KEY", CANARY)])
}

/// An error's lines: one per problem of a refused change or load.
fn lines(error: &impl std::fmt::Display) -> Vec<String> {
    error.to_string().lines().map(str::to_owned).collect()
}

#[test]
fn a_change_is_a_new_version_seen_at_once_with_its_source() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    assert_eq!(flags.version(), 0);
    assert_eq!(flags.get().workers, 4);

    let version = flags
        .apply([("APP_WORKERS", "8"), ("APP_REGION", "eu")], "alice")
        .unwrap();
    assert_eq!(version, 1);
    assert_eq!(flags.version(), 1);
    let now = flags.get();
    assert_eq!((now.workers, now.region), (8, Region::Eu));
    assert_eq!(
        now.source("APP_WORKERS").unwrap().to_string(),
        "override by alice (version 1)"
    );
    assert_eq!(now.source("API_KEY"), Some(&Source::Map));

    let logs = capture_logs(|| now.log_state());
    assert!(
        logs.contains("flag APP_WORKERS=8 (override by alice (version 1))"),
        "{logs}"
    );
}

/// One bad value among several changes nothing; so does an unmet requirement, an unknown name,
/// a flag that needs a restart, and a secret that does not opt in. Each is audited.
#[test]
fn a_change_with_any_problem_is_rejected_whole_and_audited() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 6] = [
        (
            &[("APP_WORKERS", "16"), ("APP_REGION", "mars")],
            &[
                "APP_REGION: invalid value \"mars\", expected one of: us, eu (from a change by carol)",
            ],
        ),
        (
            &[("APP_BETA_ENABLED", "true")],
            &[
                "APP_BETA_ENABLED: \"true\" requires APP_TOKEN, which is not set (from a change by carol)",
            ],
        ),
        (
            &[("APP_WORKRS", "16")],
            &["APP_WORKRS: no such flag; did you mean APP_WORKERS? (from a change by carol)"],
        ),
        (
            &[("APP_PORT", "9090")],
            &[
                "APP_PORT: read only at start (#[flag(restart)]), so it cannot change live: set it in the environment and restart",
            ],
        ),
        (
            &[("API_KEY", CANARY)],
            &[
                "API_KEY: a secret changes live only if its flag says #[flag(secret, live)]: set it in the environment and restart",
            ],
        ),
        // Every problem at once: the name that is no flag's does not hide the value that fails.
        (
            &[
                ("APP_WORKRS", "16"),
                ("APP_REGION", "mars"),
                ("APP_PORT", "1"),
            ],
            &[
                "APP_WORKRS: no such flag; did you mean APP_WORKERS? (from a change by carol)",
                "APP_PORT: read only at start (#[flag(restart)]), so it cannot change live: set it in the environment and restart",
                "APP_REGION: invalid value \"mars\", expected one of: us, eu (from a change by carol)",
            ],
        ),
    ];
    for (attempt, (pairs, expected)) in cases.iter().enumerate() {
        let error = flags.apply(pairs.iter().copied(), "carol").unwrap_err();
        assert_eq!(lines(&error), *expected, "{pairs:?}");
        assert_eq!(flags.version(), 0, "{pairs:?}");
        assert_eq!(flags.get().workers, 4, "{pairs:?}");
        let audit = flags.audit();
        assert_eq!(audit.len(), attempt + 1);
        let event = audit.last().unwrap();
        assert_eq!(event.outcome, Outcome::Rejected);
        assert_eq!(event.version, 0);
        assert_eq!(event.actor, "carol");
        assert_eq!(event.reason.as_deref(), Some(expected.join("\n").as_str()));
    }
    let text = format!("{:?}", flags.audit());
    assert!(!text.contains(CANARY), "{text}");
}

#[test]
fn a_change_that_keeps_requirements_together_is_applied_and_reset_goes_back_to_the_sources() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    flags
        .apply(
            [("APP_BETA_ENABLED", "yes"), ("APP_TOKEN", "t0ken")],
            "alice",
        )
        .unwrap();
    assert!(flags.get().beta_enabled);
    // The token cannot go while the flag that requires it is on...
    let error = flags.reset(["APP_TOKEN"], "bob").unwrap_err();
    assert_eq!(
        lines(&error),
        [
            "APP_BETA_ENABLED: \"yes\" requires APP_TOKEN, which is not set (from override by alice (version 1))"
        ]
    );
    // ...but both can, together, back to what the loader's sources say.
    let version = flags
        .reset(["APP_BETA_ENABLED", "APP_TOKEN"], "bob")
        .unwrap();
    assert_eq!(version, 2);
    assert!(!flags.get().beta_enabled);
    assert_eq!(
        flags.get().source("APP_BETA_ENABLED"),
        Some(&Source::Default)
    );
}

/// A patch sets some flags and resets others in one version; with one bad value it changes
/// nothing, the resets included.
#[test]
fn a_patch_sets_and_resets_in_one_change_or_none() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    flags
        .apply([("APP_REGION", "eu"), ("APP_WORKERS", "9")], "alice")
        .unwrap();

    let patch =
        |edits: [(&str, Option<&str>); 2]| flags.commit_blocking(Change::edit("bob", edits));
    let error = patch([("APP_WORKERS", None), ("APP_REGION", Some("mars"))]).unwrap_err();
    assert_eq!(
        lines(&error),
        ["APP_REGION: invalid value \"mars\", expected one of: us, eu (from a change by bob)"]
    );
    assert_eq!((flags.get().workers, flags.version()), (9, 1));

    let version = patch([("APP_WORKERS", None), ("APP_REGION", Some("us"))]).unwrap();
    assert_eq!(version, 2);
    let now = flags.get();
    assert_eq!((now.workers, now.region), (4, Region::Us));
    assert_eq!(now.source("APP_WORKERS"), Some(&Source::Map));
    let event = flags.audit().pop().unwrap();
    let changes: Vec<_> = event
        .changes
        .iter()
        .map(|change| {
            (
                change.flag.as_str(),
                change.old.as_deref(),
                change.new.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("APP_WORKERS", Some("9"), Some("4")),
            ("APP_REGION", Some("eu"), Some("us"))
        ]
    );
}

#[test]
fn rollback_restores_the_previous_versions_values_as_a_new_audited_version() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    assert_eq!(
        lines(&flags.rollback("alice").unwrap_err()),
        ["nothing to roll back: version 0 has no earlier version in this process"]
    );
    flags.apply([("APP_WORKERS", "5")], "alice").unwrap();
    flags
        .apply([("APP_WORKERS", "6"), ("APP_REGION", "eu")], "alice")
        .unwrap();
    flags.apply([("APP_WORKERS", "7")], "alice").unwrap();
    let version = flags.rollback("bob").unwrap();
    assert_eq!(version, 4);
    assert_eq!((flags.get().workers, flags.get().region), (6, Region::Eu));
    // Rolling back again returns to where the first rollback began.
    flags.rollback("bob").unwrap();
    assert_eq!(flags.get().workers, 7);

    let audit = flags.audit();
    let rollback = &audit[audit.len() - 2];
    assert_eq!((rollback.version, rollback.actor.as_str()), (4, "bob"));
    assert_eq!(rollback.outcome, Outcome::Applied);
    let change = &rollback.changes[0];
    assert_eq!(
        (
            change.flag.as_str(),
            change.old.as_deref(),
            change.new.as_deref()
        ),
        ("APP_WORKERS", Some("7"), Some("6"))
    );
}

#[test]
fn an_audit_event_serializes_with_exactly_the_keys_of_the_contract() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    flags.apply([("WEBHOOK_SECRET", CANARY)], "alice").unwrap();
    flags.apply([("APP_WORKERS", "x")], "alice").unwrap_err();
    let events = serde_json::to_value(flags.audit()).unwrap();
    let applied = &events[0];
    let mut keys: Vec<&String> = applied.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "actor", "at", "changes", "comment", "kind", "outcome", "reason", "version"
        ]
    );
    assert_eq!(applied["outcome"], "applied");
    assert_eq!(applied["kind"], "set");
    assert_eq!(applied["comment"], serde_json::Value::Null);
    assert_eq!(applied["version"], 1);
    assert_eq!(applied["reason"], serde_json::Value::Null);
    assert_eq!(
        applied["changes"],
        serde_json::json!([{"flag": "WEBHOOK_SECRET", "old": null, "new": "<redacted>"}])
    );
    let at = applied["at"].as_str().unwrap();
    let parsed = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339);
    assert!(at.ends_with('Z') && parsed.is_ok(), "{at}");
    // It reads back as it was written.
    let read: Vec<AuditEvent> = serde_json::from_value(events.clone()).unwrap();
    assert_eq!(read, flags.audit());
    assert_eq!(events[1]["outcome"], "rejected");
    assert!(!events.to_string().contains(CANARY), "{events}");
    // The secret changed live, as its flag allows.
    assert_eq!(
        flags.get().webhook_secret.as_ref().unwrap().expose_secret(),
        CANARY
    );
}

/// Readers see the old flags or the new, never a mix: `beta_enabled` requires `APP_TOKEN`, and
/// the writer switches both together 10 000 times while eight threads read.
#[test]
fn readers_never_see_a_half_applied_change() {
    let flags = Live::<Settings>::builder()
        .without_tracing_audit()
        .audit_len(16)
        .load(loader())
        .unwrap();
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for reader in 0..8 {
            let (flags, done, reads) = (&flags, &done, &reads);
            scope.spawn(move || {
                let mut handle = flags.reader();
                let mut count = 0;
                while !done.load(Ordering::Relaxed) {
                    // Half the readers take a snapshot each time, half use a per-thread handle.
                    let (beta, token) = if reader % 2 == 0 {
                        let now = flags.get();
                        (now.beta_enabled, now.token.is_some())
                    } else {
                        let now = handle.get();
                        (now.beta_enabled, now.token.is_some())
                    };
                    assert!(!beta || token, "a reader saw the flag on without its token");
                    count += 1;
                }
                reads.fetch_add(count, Ordering::Relaxed);
            });
        }
        for round in 0..10_000 {
            let on = round % 2 == 0;
            let pairs = if on {
                [("APP_BETA_ENABLED", "true"), ("APP_TOKEN", "t0ken")]
            } else {
                [("APP_BETA_ENABLED", "false"), ("APP_TOKEN", "")]
            };
            flags.apply(pairs, "writer").unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    assert_eq!(flags.version(), 10_000);
    assert!(reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn the_audit_counts_every_attempt_and_keeps_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let flags = Live::<Settings>::builder()
        .audit_sink(JsonLinesAudit::open(&file).unwrap())
        .load(loader())
        .unwrap();
    let mut attempts = 0;
    let logs = capture_logs(|| {
        for (value, secret) in [("1", CANARY), ("2", ""), ("x", CANARY)] {
            let _ = flags.apply([("APP_WORKERS", value)], "alice");
            let _ = flags.apply([("WEBHOOK_SECRET", secret)], "alice");
            let _ = flags.apply([("API_KEY", secret)], "alice");
            // A secret's name misspelt, or in another case: its value is no flag's to show.
            let _ = flags.apply([("WEBHOOK_SECRT", secret)], "alice");
            let _ = flags.apply([("webhook_secret", secret)], "alice");
            let _ = flags.reset(["WEBHOOK_SECRET"], "alice");
            let _ = flags.rollback("alice");
            attempts += 7;
        }
    });
    assert_eq!(flags.audit().len(), attempts);
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), attempts);
    for line in written.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    for (what, text) in [
        ("the audit", format!("{:?}", flags.audit())),
        ("the audit file", written),
        ("the logs", logs),
    ] {
        assert!(
            !text.contains(CANARY),
            "the canary leaked through {what}: {text}"
        );
    }
}

#[test]
fn a_crash_that_cut_the_audit_files_last_line_leaves_only_whole_events() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    {
        let flags = Live::<Settings>::builder()
            .audit_sink(JsonLinesAudit::open(&file).unwrap())
            .load(loader())
            .unwrap();
        flags.apply([("APP_WORKERS", "5")], "alice").unwrap();
    }
    // A write cut short by a crash.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"version\": 2, \"act");
    std::fs::write(&file, &text).unwrap();
    let flags = Live::<Settings>::builder()
        .audit_sink(JsonLinesAudit::open(&file).unwrap())
        .load(loader())
        .unwrap();
    flags.apply([("APP_WORKERS", "6")], "bob").unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    let events: Vec<serde_json::Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{written}");
    assert_eq!(events[1]["actor"], "bob");
}

/// A change made at 3 am is still there after the process restarts.
/// A build that lost a flag, or accepts less, meets the store's overrides of it at start: the
/// load fails naming each, and says what to do with them.
#[test]
fn overrides_a_build_does_not_load_fail_its_start_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    std::fs::write(
        &path,
        r#"{"version": 3, "overrides": [
            {"env": "APP_OLD_BANNER", "value": "on", "actor": "alice", "version": 2},
            {"env": "APP_REGION", "value": "mars", "actor": "alice", "version": 3}
        ]}"#,
    )
    .unwrap();
    let error = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .err()
        .unwrap();
    assert_eq!(
        lines(&error),
        [
            "APP_OLD_BANNER: no such flag (from override by alice (version 2))",
            "the store keeps overrides this build does not load: reset them (DELETE \
             /api/admin/feature-flags/VARIABLE, or Live::reset) with the build that set them, or \
             remove them from the store",
        ]
    );
    std::fs::write(
        &path,
        r#"{"version": 3, "overrides": [
            {"env": "APP_REGION", "value": "mars", "actor": "alice", "version": 3}
        ]}"#,
    )
    .unwrap();
    let error = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .err()
        .unwrap();
    assert_eq!(lines(&error).len(), 2, "{error}");
    assert!(
        lines(&error)[0].starts_with("APP_REGION: invalid value \"mars\""),
        "{error}"
    );
}

/// A file store that keeps the audit: what was applied and what was refused, with who, why
/// and the reason given, is there after a restart, a page at a time; secrets never.
#[test]
fn the_audit_survives_a_restart_with_a_file_store_that_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, audit) = (
        dir.path().join("flags.json"),
        dir.path().join("audit.jsonl"),
    );
    let store = || FileStore::new(&path).with_audit(&audit).unwrap();
    {
        let flags = Live::<Settings>::builder()
            .without_tracing_audit()
            .store(store())
            .load(loader())
            .unwrap();
        let set = Change::set("alice", [("APP_WORKERS", "9")]).comment("more for the sale");
        flags.commit_blocking(set).unwrap();
        flags.apply([("WEBHOOK_SECRET", CANARY)], "alice").unwrap();
        flags.apply([("APP_REGION", "mars")], "bob").unwrap_err();
    }
    let restarted = Live::<Settings>::builder()
        .without_tracing_audit()
        .store(store())
        .load(loader())
        .unwrap();
    let events = pollster::block_on(restarted.audit_events(AuditPage::newest(10)));
    let summary: Vec<(u64, &str, Outcome, Option<&str>)> = events
        .iter()
        .map(|event| {
            let comment = event.comment.as_deref();
            (event.version, event.actor.as_str(), event.outcome, comment)
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "alice", Outcome::Applied, Some("more for the sale")),
            (2, "alice", Outcome::Applied, None),
            (2, "bob", Outcome::Rejected, None),
        ]
    );
    let older = AuditPage {
        limit: 1,
        before: Some(events[1].at),
    };
    let page = pollster::block_on(restarted.audit_events(older));
    assert_eq!(page, events[..1]);
    restarted.apply([("APP_WORKERS", "10")], "carol").unwrap();
    let events = pollster::block_on(restarted.audit_events(AuditPage::newest(1)));
    assert_eq!((events[0].version, events[0].actor.as_str()), (3, "carol"));
    let text = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(!text.contains(CANARY), "{text}");
}

#[test]
fn a_change_survives_a_restart_over_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    {
        let flags = Live::<Settings>::builder()
            .store(FileStore::new(&path))
            .load(loader())
            .unwrap();
        flags.apply([("APP_WORKERS", "9")], "alice").unwrap();
        flags.apply([("WEBHOOK_SECRET", CANARY)], "alice").unwrap();
    }
    let restarted = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .unwrap();
    assert_eq!(restarted.version(), 2);
    assert_eq!(restarted.get().workers, 9);
    assert_eq!(
        restarted.get().source("APP_WORKERS").unwrap().to_string(),
        "override by alice (version 1)"
    );
    // The environment says 4: the store's override wins, and the snapshot says so.
    let warnings: Vec<String> = restarted
        .get()
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "APP_WORKERS: the store's override replaces the value from the map (from override by alice (version 1))"
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the store holds secrets: {mode:o}");
    }
}

#[test]
fn a_store_file_cut_mid_write_leaves_the_previous_state_and_a_corrupt_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let flags = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .unwrap();
    flags.apply([("APP_WORKERS", "9")], "alice").unwrap();
    drop(flags);
    // A crash while the next version was written: the temporary file is half there.
    let complete = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path.with_extension("tmp"), &complete[..complete.len() / 2]).unwrap();
    let restarted = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .unwrap();
    assert_eq!(restarted.get().workers, 9);
    drop(restarted);

    // The store file itself cut short: a clear error, never an empty set of flags.
    std::fs::write(&path, &complete[..complete.len() / 2]).unwrap();
    let error = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .err()
        .unwrap();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "the store file {} is not a store of flags: it is not JSON (line",
            path.display()
        )),
        "{text}"
    );
    assert!(text.ends_with("; fix or remove it"), "{text}");
    assert!(matches!(
        error,
        LoadError::Store(StoreError::Corrupt { .. })
    ));
}

#[test]
fn subscribers_learn_each_new_version_until_they_unsubscribe() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let subscription = {
        let seen = Arc::clone(&seen);
        flags.subscribe(move |snapshot| {
            seen.lock()
                .unwrap()
                .push((snapshot.version(), snapshot.workers));
        })
    };
    flags.apply([("APP_WORKERS", "5")], "alice").unwrap();
    flags.apply([("APP_WORKERS", "bad")], "alice").unwrap_err();
    flags.apply([("APP_WORKERS", "6")], "alice").unwrap();
    drop(subscription);
    flags.apply([("APP_WORKERS", "7")], "alice").unwrap();
    assert_eq!(*seen.lock().unwrap(), [(1, 5), (2, 6)]);
}

/// The seed's tests patch a flag for one test: a scope sets it, validated, and puts it back.
#[test]
fn flags_set_for_a_scope_are_put_back_when_it_ends() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    flags.apply([("APP_REGION", "eu")], "alice").unwrap();
    {
        let _scope = flags
            .scoped([("APP_WORKERS", "1"), ("APP_REGION", "us")])
            .unwrap();
        assert_eq!((flags.get().workers, flags.get().region), (1, Region::Us));
    }
    assert_eq!((flags.get().workers, flags.get().region), (4, Region::Eu));
    assert_eq!(
        flags.get().source("APP_REGION").unwrap().to_string(),
        "override by alice (version 1)"
    );
    assert!(flags.scoped([("APP_WORKERS", "many")]).is_err());
    assert_eq!(flags.get().workers, 4);
}

#[test]
fn a_store_that_cannot_keep_a_change_refuses_it_saying_whether_to_retry() {
    /// A store whose every commit fails with the error it makes.
    struct Failing(fn() -> StoreError);

    impl Store for Failing {
        fn read(&self) -> Result<Option<Stored>, StoreError> {
            Ok(None)
        }

        fn commit<'a>(
            &'a self,
            _: u64,
            _: &'a Stored,
            _: &'a AuditEvent,
        ) -> StoreFuture<'a, CommitOutcome> {
            Box::pin(std::future::ready(Err((self.0)())))
        }
    }

    let full = || {
        let full = std::io::Error::other("no space left on device");
        StoreError::unavailable("cannot write the store", full)
    };
    let flags = Live::<Settings>::builder()
        .store(Failing(full))
        .load(loader())
        .unwrap();
    let error = flags.apply([("APP_WORKERS", "5")], "alice").unwrap_err();
    assert_eq!(
        lines(&error),
        ["the store could not keep the change: cannot write the store: no space left on device"]
    );
    let ChangeError::Store(cause) = &error else {
        panic!("{error:?}")
    };
    assert!(cause.is_retryable());
    assert_eq!((flags.version(), flags.get().workers), (0, 4));
    let event = flags.audit().pop().unwrap();
    assert_eq!(
        (event.outcome, event.reason),
        (Outcome::Rejected, Some(error.to_string()))
    );

    // A commit whose answer was lost: the change may have been kept, and the error says so.
    let lost = || {
        let reset = std::io::Error::other("connection reset");
        StoreError::outcome_unknown("COMMIT was sent", reset)
    };
    let flags = Live::<Settings>::builder()
        .store(Failing(lost))
        .load(loader())
        .unwrap();
    let error = flags.apply([("APP_WORKERS", "5")], "alice").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the store may or may not have kept the change (read the flags again before retrying it, \
         or retry it with the same idempotency key): COMMIT was sent: connection reset"
    );
}

/// A store that other instances write: what it holds, the events it keeps, and what it was
/// handed, for the tests of a shared store.
#[derive(Default)]
struct SharedStore {
    stored: Mutex<Option<Stored>>,
    events: Mutex<Vec<AuditEvent>>,
}

impl Store for SharedStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        Ok(self.stored.lock().unwrap().clone())
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let mut stored = self.stored.lock().unwrap();
        let found = stored.as_ref().map_or(0, |stored| stored.version);
        let outcome = if found == previous {
            *stored = Some(next.clone());
            self.events.lock().unwrap().push(event.clone());
            CommitOutcome::Committed
        } else {
            CommitOutcome::Behind(stored.clone().unwrap_or_default())
        };
        Box::pin(std::future::ready(Ok(outcome)))
    }

    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        self.events.lock().unwrap().push(event.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        let events = self.events.lock().unwrap();
        let newest = events[events.len().saturating_sub(page.limit)..].to_vec();
        Some(Box::pin(std::future::ready(Ok(newest))))
    }
}

/// Two instances share a store: a change through one reaches the other by `sync`, which takes
/// only newer versions; a change on a version the other has replaced conflicts.
#[test]
fn instances_sharing_a_store_follow_each_others_changes() {
    let shared = Arc::new(SharedStore::default());
    let open = || {
        Live::<Settings>::builder()
            .store(Arc::clone(&shared))
            .without_tracing_audit()
            .load(loader())
            .unwrap()
    };
    let (one, two) = (open(), open());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let _subscription = two.subscribe({
        let seen = Arc::clone(&seen);
        move |flags| seen.lock().unwrap().push((flags.version(), flags.workers))
    });

    one.apply([("APP_WORKERS", "7")], "alice").unwrap();
    // Not seen until synced; a change made on the old version conflicts meanwhile.
    assert_eq!(two.get().workers, 4);
    let change = Change::set("bob", [("APP_REGION", "eu")]).if_version(0);
    let error = two.commit_blocking(change).unwrap_err();
    assert_eq!(
        lines(&error),
        [
            "the flags changed since version 0: they are at version 1; read them again and redo the change"
        ]
    );
    // Refused, it caught up with the store: the change can be made again on what it shows.
    assert_eq!((two.version(), two.get().workers), (1, 7));
    let stored = shared.read().unwrap().unwrap();
    assert_eq!(
        two.get().source("APP_WORKERS").unwrap().to_string(),
        "override by alice (version 1)"
    );
    assert_eq!(*seen.lock().unwrap(), [(1, 7)]);
    // The same version again, or an older one, changes nothing.
    assert_eq!(two.sync(stored).unwrap(), None);
    assert_eq!(one.sync(shared.read().unwrap().unwrap()).unwrap(), None);

    // Now on the same version, the other way round; and a rollback on the follower.
    let change = Change::set("bob", [("APP_REGION", "eu")]).if_version(1);
    two.commit_blocking(change).unwrap();
    one.sync(shared.read().unwrap().unwrap()).unwrap();
    assert_eq!((one.version(), one.get().region), (2, Region::Eu));
    one.rollback("alice").unwrap();
    two.sync(shared.read().unwrap().unwrap()).unwrap();
    assert_eq!(
        (two.version(), two.get().region, two.get().workers),
        (3, Region::Us, 7)
    );

    // The audit is the store's: both instances' events, and a rejected change's too.
    let actors: Vec<(u64, String, Outcome)> = one
        .audit()
        .iter()
        .map(|event| (event.version, event.actor.clone(), event.outcome))
        .collect();
    assert_eq!(
        actors,
        [
            (1, "alice".to_owned(), Outcome::Applied),
            (0, "bob".to_owned(), Outcome::Rejected),
            (2, "bob".to_owned(), Outcome::Applied),
            (3, "alice".to_owned(), Outcome::Applied),
        ]
    );
    assert_eq!(two.audit(), one.audit());

    // A change made on no version in particular catches up with the store and goes on top.
    one.apply([("APP_WORKERS", "9")], "alice").unwrap();
    assert_eq!(two.version(), 3);
    let version = two.apply([("APP_REGION", "eu")], "bob").unwrap();
    assert_eq!(version, 5);
    let now = two.get();
    assert_eq!((now.workers, now.region), (9, Region::Eu));
    let last = two.audit().pop().unwrap();
    assert_eq!((last.version, last.outcome), (5, Outcome::Applied));
}

/// A newer build wrote what this one cannot load: refused, logged once, audited; the flags stay.
#[test]
fn a_version_from_the_store_that_does_not_load_here_is_refused_and_the_flags_stay() {
    let shared = Arc::new(SharedStore::default());
    let flags = Live::<Settings>::builder()
        .store(Arc::clone(&shared))
        .without_tracing_audit()
        .load(loader())
        .unwrap();
    flags.apply([("APP_WORKERS", "7")], "alice").unwrap();
    let entry = |env: &str, value: &str| StoredOverride {
        env: env.to_owned(),
        value: value.to_owned(),
        actor: "newer-build".to_owned(),
        version: 2,
    };
    let written = Stored {
        version: 2,
        overrides: vec![
            entry("APP_REGION", "mars"),
            entry("APP_SHINY_NEW_FLAG", "on"),
            entry("API_KEY", CANARY),
        ],
    };
    let logs = capture_logs(|| {
        for attempt in 0..3 {
            let error = flags.sync(written.clone()).unwrap_err();
            // Its audit event comes the first time only, for the store's audit: what a store's
            // follower does with it.
            assert_eq!(error.event.is_some(), attempt == 0);
            if let Some(event) = &error.event {
                pollster::block_on(shared.record(event)).unwrap();
            }
            assert_eq!(
                lines(&error.error),
                [
                    "APP_SHINY_NEW_FLAG: no such flag (from override by newer-build (version 2))",
                    "API_KEY: a secret changes live only if its flag says #[flag(secret, live)]: set it in the environment and restart",
                    "APP_REGION: invalid value \"mars\", expected one of: us, eu (from override by newer-build (version 2))",
                ]
            );
        }
    });
    assert_eq!(logs.matches("does not load here").count(), 1, "{logs}");
    assert!(logs.contains(
        "ERROR flags::live: version 2 from the store does not load here, so this instance keeps version 1"
    ), "{logs}");
    assert!(!logs.contains(CANARY), "{logs}");
    assert_eq!((flags.version(), flags.get().workers), (1, 7));
    assert_eq!(flags.get().region, Region::Us);

    let event = flags.audit().pop().unwrap();
    assert_eq!(
        (event.version, event.actor.as_str(), event.outcome),
        (2, "newer-build", Outcome::Rejected)
    );
    let changes: Vec<_> = event
        .changes
        .iter()
        .map(|change| {
            (
                change.flag.as_str(),
                change.old.as_deref(),
                change.new.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("APP_REGION", Some("us"), Some("mars")),
            // A flag this build lacks may be a secret: its value is not shown.
            ("APP_SHINY_NEW_FLAG", None, Some("<redacted>")),
            ("API_KEY", Some("<redacted>"), Some("<redacted>")),
            ("APP_WORKERS", Some("7"), None),
        ]
    );
}

/// An HTTP `If-Match`: a change made on a version that another change replaced is refused.
#[test]
fn a_change_conditional_on_a_version_is_refused_once_another_came_first() {
    let flags = Live::<Settings>::load(loader()).unwrap();
    let seen = flags.version();
    flags.apply([("APP_WORKERS", "5")], "alice").unwrap();
    let on = |version, change: Change| flags.commit_blocking(change.if_version(version));
    let error = on(seen, Change::set("bob", [("APP_WORKERS", "6")])).unwrap_err();
    assert!(matches!(
        error,
        ChangeError::Stale {
            expected: 0,
            found: 1
        }
    ));
    assert_eq!(flags.get().workers, 5);
    assert_eq!(
        on(1, Change::set("bob", [("APP_WORKERS", "6")])).unwrap(),
        2
    );
    assert!(on(1, Change::reset("bob", ["APP_WORKERS"])).is_err());
    assert!(on(1, Change::rollback("bob")).is_err());
    assert_eq!(on(2, Change::rollback("bob")).unwrap(), 3);
    assert_eq!(flags.get().workers, 5);
    // Each refusal is audited with why, on the version it was tried on.
    let stale = flags
        .audit()
        .into_iter()
        .filter(|event| event.outcome == Outcome::Rejected);
    let reasons: Vec<(u64, Option<String>)> =
        stale.map(|event| (event.version, event.reason)).collect();
    assert_eq!(reasons.len(), 3);
    assert_eq!(
        reasons[0],
        (
            1,
            Some(String::from(
                "the flags changed since version 0: they are at version 1; read them again and \
                 redo the change"
            ))
        )
    );
}

mod model {
    //! Any sequence of changes leaves the flags equal to a fresh load of the same sources with
    //! the overrides that survive, whatever was rejected on the way.

    use std::collections::BTreeMap;

    use flags_core::live::Live;
    use flags_core::{FeatureFlags, FlagValue, Loader};
    use proptest::prelude::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
    enum Mode {
        Slow,
        Fast,
    }

    #[derive(Debug, PartialEq, FeatureFlags)]
    #[flags(prefix = "M_")]
    struct Model {
        #[flag(default = false, requires = "M_NAME")]
        on: bool,
        #[flag(env = "M_NAME")]
        name: Option<String>,
        #[flag(default = 1)]
        count: u8,
        #[flag(default = Mode::Slow)]
        mode: Mode,
    }

    #[derive(Debug, Clone)]
    enum Op {
        Apply(Vec<(&'static str, &'static str)>),
        Reset(Vec<&'static str>),
        Rollback,
    }

    fn op() -> impl Strategy<Value = Op> {
        let env = prop::sample::select(vec!["M_ON", "M_NAME", "M_COUNT", "M_MODE", "M_NOPE"]);
        let value = prop::sample::select(vec!["", "true", "false", "7", "300", "fast", "rose"]);
        prop_oneof![
            4 => prop::collection::vec((env.clone(), value), 1..3).prop_map(Op::Apply),
            2 => prop::collection::vec(env, 1..3).prop_map(Op::Reset),
            1 => Just(Op::Rollback),
        ]
    }

    fn base() -> Loader {
        Loader::new().map([("M_COUNT", "2"), ("M_NAME", "base")])
    }

    proptest! {
        #[test]
        fn live_flags_equal_a_fresh_load_with_the_surviving_overrides(
            ops in prop::collection::vec(op(), 1..25),
        ) {
            let flags = Live::<Model>::builder().without_tracing_audit().load(base()).unwrap();
            let mut overrides: BTreeMap<&str, &str> = BTreeMap::new();
            let mut history: Vec<BTreeMap<&str, &str>> = Vec::new();
            for op in ops {
                let before = flags.version();
                let mut next = overrides.clone();
                let result = match &op {
                    Op::Apply(pairs) => {
                        next.extend(pairs.iter().copied());
                        flags.apply(pairs.iter().copied(), "model")
                    }
                    Op::Reset(envs) => {
                        envs.iter().for_each(|env| { next.remove(env); });
                        flags.reset(envs.iter().copied(), "model")
                    }
                    Op::Rollback => {
                        next = history.last().cloned().unwrap_or_default();
                        flags.rollback("model")
                    }
                };
                match result {
                    // A change that leaves every override as it was makes no version.
                    Ok(version) if next == overrides => prop_assert_eq!(version, before),
                    Ok(version) => {
                        prop_assert_eq!(version, before + 1);
                        history.push(std::mem::replace(&mut overrides, next));
                    }
                    Err(_) => prop_assert_eq!(flags.version(), before),
                }
                let fresh = base().map(overrides.iter().map(|(k, v)| (*k, *v))).load::<Model>();
                prop_assert_eq!(Some(&**flags.get()), fresh.as_ref().ok(), "{:?}", op);
            }
        }
    }
}

/// A refused change is audited for its reason, not kept whole: a request naming 500 variables
/// that are no flag's gets every problem in its error, and its audit event keeps the first 50,
/// each text cut short, saying how many more there were.
#[test]
fn what_a_refused_change_keeps_in_the_audit_is_bounded_whatever_it_asked() {
    let flags = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(loader())
        .unwrap();
    let long = "X".repeat(300);
    let pairs: Vec<(String, String)> = (0..500)
        .map(|n| (format!("APP_NOPE_{n}_{long}"), long.clone()))
        .collect();
    let error = flags.apply(pairs, "mallory").unwrap_err();
    assert_eq!(lines(&error).len(), 500);
    let event = flags.audit().pop().unwrap();
    assert_eq!(event.outcome, Outcome::Rejected);
    assert_eq!(event.changes.len(), 50);
    assert!(event.changes[0].flag.starts_with("APP_NOPE_0_XXX"));
    assert!(event.changes[0].flag.ends_with('…'));
    assert_eq!(event.changes[0].flag.chars().count(), 257);
    // A name that is no flag's may be a secret's, misspelt: its value is never shown.
    assert_eq!(event.changes[0].new.as_deref(), Some("<redacted>"));
    let reason = event.reason.unwrap();
    let reason: Vec<&str> = reason.lines().collect();
    assert_eq!(reason.len(), 52);
    assert_eq!(reason[50], "… and 450 more problems");
    assert_eq!(
        reason[51],
        "(the change named 500 variables: the audit keeps the first 50)"
    );
    assert!(reason.iter().all(|line| line.chars().count() <= 257));
}

/// Saving what the flags hold already makes no version and no audit event, and says so; a
/// change that does change something is a version, with its kind and its author's reason.
#[test]
fn a_change_that_changes_nothing_makes_no_version_and_each_event_has_its_kind_and_reason() {
    let flags = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(loader())
        .unwrap();
    let set = Change::set("alice", [("APP_WORKERS", "8")]).comment("load test at 14:00");
    assert_eq!(flags.commit_blocking(set).unwrap(), 1);

    // The same value again, by someone else: nothing to make, nothing audited.
    let again = Change::set("bob", [("APP_WORKERS", "8")]);
    let committed = pollster::block_on(flags.commit_detailed(again)).unwrap();
    assert!(!committed.changed);
    assert_eq!((committed.version, flags.version()), (1, 1));
    assert_eq!(flags.audit().len(), 1);
    // Resetting a flag no override holds changes nothing either.
    assert_eq!(flags.reset(["APP_REGION"], "bob").unwrap(), 1);

    flags.reset(["APP_WORKERS"], "bob").unwrap();
    let back = Change::rollback("carol").comment("the reset broke the load test");
    assert_eq!(flags.commit_blocking(back).unwrap(), 3);
    let refused = Change::set("dave", [("APP_REGION", "mars")]).comment("try mars");
    flags.commit_blocking(refused).unwrap_err();

    let audit = flags.audit();
    let events: Vec<(u64, &str, AuditKind, Option<&str>, Outcome)> = audit
        .iter()
        .map(|event| {
            let comment = event.comment.as_deref();
            (
                event.version,
                event.actor.as_str(),
                event.kind,
                comment,
                event.outcome,
            )
        })
        .collect();
    let reset_broke = Some("the reset broke the load test");
    assert_eq!(
        events,
        [
            (
                1,
                "alice",
                AuditKind::Set,
                Some("load test at 14:00"),
                Outcome::Applied
            ),
            (2, "bob", AuditKind::Reset, None, Outcome::Applied),
            (
                3,
                "carol",
                AuditKind::Rollback,
                reset_broke,
                Outcome::Applied
            ),
            (
                3,
                "dave",
                AuditKind::Set,
                Some("try mars"),
                Outcome::Rejected
            ),
        ]
    );
    assert_eq!(flags.get().workers, 8);
}

/// A dashboard lines errors up with flag changes: the version, the changes by outcome, and each
/// boolean or numeric flag's value are metrics.
#[test]
fn the_version_the_changes_and_the_flags_values_are_metrics() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let flags = Live::<Settings>::load(loader()).unwrap();
        flags.apply([("APP_WORKERS", "5")], "alice").unwrap();
        flags.apply([("APP_WORKERS", "x")], "alice").unwrap_err();
    });
    let mut seen: Vec<String> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let value = match value {
                DebugValue::Gauge(value) => value.into_inner().to_string(),
                DebugValue::Counter(value) => value.to_string(),
                DebugValue::Histogram(_) => String::from("histogram"),
            };
            format!("{}{{{}}} {value}", key.name(), labels.join(","))
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "flags_changes_total{outcome=applied} 1",
            "flags_changes_total{outcome=rejected} 1",
            "flags_value{flag=APP_BETA_ENABLED} 0",
            "flags_value{flag=APP_PORT} 8080",
            "flags_value{flag=APP_WORKERS} 5",
            "flags_version{} 1",
        ]
    );
}

/// A flag service (Unleash, LaunchDarkly) drives some flags: it pushes their values, each push
/// validated as a change is and audited with the service as actor, never half-applied; a local
/// change to a flag it manages is refused, naming it.
#[test]
fn a_flag_service_pushes_the_flags_it_manages_and_local_changes_to_them_are_refused() {
    let flags = Arc::new(
        Live::<Settings>::builder()
            .without_tracing_audit()
            .load(loader())
            .unwrap(),
    );
    // What it cannot manage is named, every one at once.
    let error = flags
        .managed_by("toy", ["APP_PORT", "WEBHOOK_SECRET", "APP_WORKRES"])
        .unwrap_err();
    assert_eq!(
        lines(&error),
        [
            "APP_PORT: the flag service toy cannot manage it: it is read only at start (#[flag(restart)])",
            "WEBHOOK_SECRET: the flag service toy cannot manage it: it is secret, and a service's values are not",
            "APP_WORKRES: no such flag; did you mean APP_WORKERS? (from flag service toy)",
        ]
    );

    let toy = flags
        .managed_by("toy", ["APP_BETA_ENABLED", "APP_REGION"])
        .unwrap();
    assert_eq!(toy.variables(), ["APP_BETA_ENABLED", "APP_REGION"]);
    let taken = flags.managed_by("other", ["APP_REGION"]).unwrap_err();
    assert_eq!(
        lines(&taken),
        ["APP_REGION: the flag service other cannot manage it: toy manages it already"]
    );
    assert!(matches!(
        &taken.problems()[0],
        Problem::NotManageable { reason: Unmanageable::ManagedBy(toy), .. } if &**toy == "toy"
    ));

    // A small service of its own: a thread that pushes each state it is told of, as a flag
    // service's client does when it polls or is told of a change.
    let (states, received) = std::sync::mpsc::channel::<Vec<(&str, Option<&str>)>>();
    let service = std::thread::spawn({
        let toy = toy.clone();
        move || {
            received
                .into_iter()
                .map(|state| toy.push(state).map_err(|error| error.to_string()))
                .collect::<Vec<_>>()
        }
    });
    let before = flags.get().revision();
    assert_eq!(before, 0);
    states.send(vec![("APP_REGION", Some("eu"))]).unwrap();
    // The same again: nothing changes, nothing is audited.
    states.send(vec![("APP_REGION", Some("eu"))]).unwrap();
    // Beta on without its token: refused whole, the region with it.
    states
        .send(vec![
            ("APP_BETA_ENABLED", Some("true")),
            ("APP_REGION", Some("us")),
        ])
        .unwrap();
    // The service drops the region's toggle: the loaded sources' value applies again.
    states.send(vec![("APP_REGION", None)]).unwrap();
    drop(states);
    let pushed = service.join().unwrap();
    assert_eq!(pushed[0], Ok(true));
    assert_eq!(pushed[1], Ok(false));
    assert_eq!(
        pushed[2],
        Err(String::from(
            "APP_BETA_ENABLED: \"true\" requires APP_TOKEN, which is not set (from flag service toy)"
        ))
    );
    assert_eq!(pushed[3], Ok(true));
    assert_eq!(flags.get().region, Region::Us);
    assert_eq!(flags.get().source("APP_REGION"), Some(&Source::Default));
    // The version counts the overrides, which instances share; the revision, what was pushed.
    assert_eq!(flags.version(), 0);

    // Pushed values are seen with their source, and tell snapshots apart.
    toy.push([("APP_REGION", Some("eu"))]).unwrap();
    let now = flags.get();
    assert_eq!(
        now.source("APP_REGION").unwrap().to_string(),
        "flag service toy"
    );
    assert_ne!(now.revision(), 0);
    let revision = now.revision();
    drop(now);

    // A local change that names a managed flag is refused, whole, and audited.
    let refused = flags
        .apply([("APP_WORKERS", "9"), ("APP_REGION", "us")], "alice")
        .unwrap_err();
    assert!(
        matches!(refused, ChangeError::Managed { .. }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "APP_REGION is managed by toy: change it in toy"
    );
    assert_eq!((flags.get().workers, flags.get().region), (4, Region::Eu));
    // A flag it does not manage changes as before, on top of the pushed values.
    flags.apply([("APP_WORKERS", "9")], "alice").unwrap();
    let now = flags.get();
    assert_eq!((now.version(), now.workers, now.region), (1, 9, Region::Eu));
    assert_eq!(now.revision(), revision);
    drop(now);

    let audit: Vec<(String, Outcome, Option<String>)> = flags
        .audit()
        .into_iter()
        .map(|event| (event.actor, event.outcome, event.reason))
        .collect();
    let actors: Vec<(&str, Outcome)> = audit
        .iter()
        .map(|(actor, outcome, _)| (actor.as_str(), *outcome))
        .collect();
    assert_eq!(
        actors,
        [
            ("toy", Outcome::Applied),
            ("toy", Outcome::Rejected),
            ("toy", Outcome::Applied),
            ("toy", Outcome::Applied),
            ("alice", Outcome::Rejected),
            ("alice", Outcome::Applied),
        ]
    );
    assert_eq!(
        audit[4].2.as_deref(),
        Some("APP_REGION is managed by toy: change it in toy")
    );

    // A flag it was never handed is not the service's to push.
    let unhanded = toy.push([("APP_WORKERS", Some("3"))]).unwrap_err();
    assert_eq!(
        unhanded.to_string(),
        "APP_WORKERS: the flag service toy cannot manage it: it was never handed to toy: name it \
         in Live::managed_by(\"toy\", ...)"
    );
    assert_eq!(flags.get().revision(), revision);
}

/// A store that went back (restored from a backup) is followed back, loudly: the store is the
/// truth every instance follows, and a rollback would lead to a version it no longer knows.
#[test]
fn a_store_that_went_back_is_adopted_with_an_error_logged_and_no_history() {
    let flags = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(loader())
        .unwrap();
    for workers in ["5", "6", "7"] {
        flags.apply([("APP_WORKERS", workers)], "alice").unwrap();
    }
    let older = Stored {
        version: 1,
        overrides: vec![StoredOverride {
            env: "APP_WORKERS".into(),
            value: "5".into(),
            actor: "alice".into(),
            version: 1,
        }],
    };
    // `sync` takes newer versions only.
    assert_eq!(flags.sync(older.clone()).unwrap(), None);
    let logs = capture_logs(|| assert_eq!(flags.adopt(older.clone()).unwrap(), Some(1)));
    assert!(
        logs.contains(
            "ERROR flags::live: the store went back from version 3 to version 1 (was its \
             database restored from a backup?): following it, as every instance does"
        ),
        "{logs}"
    );
    assert_eq!((flags.version(), flags.get().workers), (1, 5));
    assert_eq!(flags.adopt(older).unwrap(), None);
    assert!(matches!(
        flags.rollback("bob").unwrap_err(),
        ChangeError::NothingToRollBack { version: 1 }
    ));
    assert_eq!(flags.apply([("APP_WORKERS", "9")], "bob").unwrap(), 2);
}

/// A change given an idempotency key is made once: its retry is answered with the version it
/// made, and the same key on another change is refused.
#[test]
fn a_change_retried_with_its_idempotency_key_is_made_once() {
    let flags = Live::<Settings>::builder()
        .without_tracing_audit()
        .load(loader())
        .unwrap();
    let change = || Change::set("alice", [("APP_WORKERS", "8")]).idempotency_key("change-1");
    assert_eq!(flags.commit_blocking(change()).unwrap(), 1);
    flags.apply([("APP_WORKERS", "9")], "bob").unwrap();
    // The retry, after another change: answered as the first was, and nothing is made.
    assert_eq!(flags.commit_blocking(change()).unwrap(), 1);
    assert_eq!((flags.version(), flags.get().workers), (2, 9));
    let other = Change::set("alice", [("APP_WORKERS", "7")]).idempotency_key("change-1");
    let error = flags.commit_blocking(other).unwrap_err();
    assert!(
        matches!(&error, ChangeError::KeyInUse { key, version: 1 } if key == "change-1"),
        "{error:?}"
    );
    let audit = flags.audit();
    let applied: Vec<_> = audit
        .iter()
        .filter(|event| event.outcome == Outcome::Applied)
        .map(|event| (event.version, event.idempotency_key.as_deref()))
        .collect();
    assert_eq!(applied, [(1, Some("change-1")), (2, None)]);
    // The key is in the event's JSON when given, and only then.
    let json = serde_json::to_value(&audit[0]).unwrap();
    assert_eq!(json["idempotency_key"], "change-1");
    assert!(
        serde_json::to_value(&audit[1])
            .unwrap()
            .get("idempotency_key")
            .is_none()
    );
}

/// A service's decider, handed over with its values, decides per user the flags it manages:
/// through `evaluate`, `evaluate_all` and `public_flags_for`, only in the snapshots made from
/// its push; a push refused installs neither its values nor its decider; new rules with the same
/// values make a new revision and no audit event.
#[test]
fn a_services_decider_decides_its_flags_per_user_only_with_the_values_it_came_with() {
    use flags_core::evaluate::{Decide, Decided, Reason};
    use flags_core::serde_json::Value;

    #[derive(Debug, FeatureFlags)]
    #[flags(prefix = "APP_")]
    struct Settings {
        #[flag(default = false, public = "beta")]
        beta_enabled: bool,
        #[flag(default = 3, public)]
        workers: u8,
        #[flag(default = false, requires = "APP_TOKEN")]
        export_enabled: bool,
        #[flag(env = "APP_TOKEN")]
        token: Option<String>,
    }

    /// On for the users it lists; its rules are its list.
    #[derive(Debug)]
    struct Listed(&'static [&'static str]);

    impl Decide for Listed {
        fn decide(
            &self,
            _: usize,
            flag: &'static flags_core::FlagMeta,
            user: Option<&str>,
        ) -> Option<Decided> {
            let on = self.0.contains(&user?);
            (flag.env() == "APP_BETA_ENABLED")
                .then(|| Decided::new(Value::Bool(on), Reason::TargetingMatch))
        }
        fn revision(&self) -> u64 {
            self.0.len() as u64
        }
    }

    let flags = Arc::new(
        Live::<Settings>::builder()
            .without_tracing_audit()
            .load(Loader::new())
            .unwrap(),
    );
    let toy = flags
        .managed_by("toy", ["APP_BETA_ENABLED", "APP_EXPORT_ENABLED"])
        .unwrap();
    let alice = |flags: &Live<Settings>| {
        flags
            .get()
            .evaluate("APP_BETA_ENABLED", Some("alice"))
            .unwrap()
    };
    assert_eq!(alice(&flags).value, Value::Bool(false));
    assert_eq!(alice(&flags).reason, Reason::Default);

    assert!(
        toy.push_deciding(
            [("APP_BETA_ENABLED", Some("false"))],
            Arc::new(Listed(&["alice"]))
        )
        .unwrap()
    );
    let now = flags.get();
    assert_eq!(
        (alice(&flags).value, alice(&flags).reason),
        (Value::Bool(true), Reason::TargetingMatch)
    );
    assert_eq!(
        now.evaluate("APP_BETA_ENABLED", Some("bob")).unwrap().value,
        Value::Bool(false)
    );
    // No user: the value pushed for everyone.
    assert_eq!(
        now.evaluate("APP_BETA_ENABLED", None).unwrap().value,
        Value::Bool(false)
    );
    assert_eq!(
        now.public_flags_for("alice").get("beta"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        now.public_flags_for("alice").get("workers"),
        Some(&Value::from(3))
    );
    let mut all = Vec::new();
    now.evaluate_all(Some("alice"), |flag, evaluation| {
        all.push((flag.env(), evaluation.unwrap().value))
    });
    assert_eq!(all[0], ("APP_BETA_ENABLED", Value::Bool(true)));
    let events = flags.audit().len();
    let revision = now.revision();
    drop(now);

    // Refused (export needs a token): neither the values nor the new decider are taken.
    let refused = toy.push_deciding(
        [("APP_EXPORT_ENABLED", Some("true"))],
        Arc::new(Listed(&["bob", "carol"])),
    );
    assert!(
        matches!(refused, Err(ChangeError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(alice(&flags).value, Value::Bool(true));
    assert_eq!(flags.get().revision(), revision);

    // The same values with new rules: a new revision, no audit event; the same again: nothing.
    let events_after_refusal = flags.audit().len();
    assert_eq!(events_after_refusal, events + 1);
    assert!(
        toy.push_deciding(
            [("APP_BETA_ENABLED", Some("false"))],
            Arc::new(Listed(&["bob", "carol"]))
        )
        .unwrap()
    );
    assert_eq!(alice(&flags).value, Value::Bool(false));
    assert_ne!(flags.get().revision(), revision);
    assert_eq!(flags.audit().len(), events_after_refusal);
    assert!(
        !toy.push_deciding(
            [("APP_BETA_ENABLED", Some("false"))],
            Arc::new(Listed(&["dave", "erin"]))
        )
        .unwrap()
    );
    let decider = flags
        .get()
        .decider("APP_BETA_ENABLED")
        .map(|(_, decider)| format!("{decider:?}"));
    assert_eq!(decider.as_deref(), Some("Listed([\"bob\", \"carol\"])"));
}

/// A flag service asks whether a flag it manages can hold a value before it serves that value to
/// a user: the flag's type and its requirements decide, as for a push, and nothing changes.
#[test]
fn a_flag_service_learns_what_a_flag_would_hold_without_changing_anything() {
    let flags = Arc::new(Live::<Settings>::load(loader()).unwrap());
    let toy = flags
        .managed_by("toy", ["APP_BETA_ENABLED", "APP_WORKERS", "APP_REGION"])
        .unwrap();
    assert_eq!(
        toy.try_value("APP_WORKERS", "7").unwrap(),
        serde_json::json!(7)
    );
    assert_eq!(
        toy.try_value("APP_REGION", "eu").unwrap(),
        serde_json::json!("eu")
    );
    assert_eq!(
        lines(&toy.try_value("APP_WORKERS", "300").unwrap_err()),
        [
            "APP_WORKERS: invalid value \"300\", expected an integer from 0 to 255 (from flag service toy)"
        ]
    );
    // On without its token: the requirement refuses it, as it would refuse the push.
    let unmet = toy.try_value("APP_BETA_ENABLED", "true").unwrap_err();
    assert!(lines(&unmet)[0].contains("APP_TOKEN"), "{unmet}");
    // Not the service's flag.
    let other = toy.try_value("APP_TOKEN", "t").unwrap_err();
    assert!(matches!(
        &other.problems()[0],
        Problem::NotManageable {
            reason: Unmanageable::NotHanded,
            ..
        }
    ));
    // Nothing changed, nothing was audited.
    assert_eq!((flags.get().workers, flags.get().revision()), (4, 0));
    assert!(flags.audit().is_empty());
}

/// Issue 22: the file store wrote a fixed `FILE.tmp`, following a link planted there, so that a
/// change overwrote another file. Each write makes a file of its own, which no link can be.
#[cfg(unix)]
#[test]
fn a_link_planted_beside_the_file_store_is_never_written_through() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    for planted in ["flags.tmp", "flags.json.tmp", ".flags.json.tmp"] {
        std::os::unix::fs::symlink(&victim, dir.path().join(planted)).unwrap();
    }
    let flags = Live::<Settings>::builder()
        .store(FileStore::new(&path))
        .load(loader())
        .unwrap();
    flags.apply([("APP_WORKERS", "9")], "alice").unwrap();
    flags.apply([("WEBHOOK_SECRET", CANARY)], "alice").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // Nothing is left beside it but what was there.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".flags.json.tmp",
            "flags.json",
            "flags.json.tmp",
            "flags.tmp",
            "victim.txt"
        ]
    );
}
