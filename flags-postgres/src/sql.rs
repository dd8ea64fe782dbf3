//! Everything said to the database: the migrations, and the store's reads and writes, each a
//! prepared statement with parameters.

use std::sync::atomic::{AtomicBool, Ordering};

use flags_core::live::{
    AuditChange, AuditEvent, AuditKind, AuditPage, CommitOutcome, Outcome, StoreError, Stored,
    StoredOverride,
};
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{Client, GenericClient, IsolationLevel, Row, Statement};

/// The migrations, in order: each runs once per database, recorded in `flags_migrations`.
const MIGRATIONS: [(i32, &str, &str); 4] = [
    (
        1,
        "create flags",
        include_str!("../migrations/0001_create_flags.sql"),
    ),
    (
        2,
        "audit by time",
        include_str!("../migrations/0002_audit_by_time.sql"),
    ),
    (
        3,
        "idempotency keys",
        include_str!("../migrations/0003_idempotency_keys.sql"),
    ),
    (
        4,
        "audit kind and comment",
        include_str!("../migrations/0004_audit_kind_and_comment.sql"),
    ),
];

/// The key of the advisory lock that lets one instance at a time migrate.
const MIGRATION_LOCK: i64 = 0x666c_6167_735f_6d67; // "flags_mg"

/// Runs the migrations this database has not run yet, one instance at a time. Touches no table
/// but its own.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    transaction
        .batch_execute(include_str!("../migrations/0000_migrations.sql"))
        .await?;
    let applied: Vec<i32> = transaction
        .query("SELECT version FROM flags_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let known: Vec<i32> = MIGRATIONS.iter().map(|(version, _, _)| *version).collect();
    let newer: Vec<&i32> = applied
        .iter()
        .filter(|version| !known.contains(version))
        .collect();
    if !newer.is_empty() {
        tracing::warn!(
            target: "flags_postgres",
            "the database has migrations {newer:?} this build of flags-postgres does not know (a \
             newer build ran them): this build keeps working; deploy the newer build everywhere"
        );
    }
    for (version, name, sql) in MIGRATIONS {
        if !applied.contains(&version) {
            transaction.batch_execute(sql).await?;
            transaction
                .execute(
                    "INSERT INTO flags_migrations (version, name) VALUES ($1, $2)",
                    &[&version, &name],
                )
                .await?;
        }
    }
    transaction.commit().await
}

/// The store's statements, prepared once per connection: each later use is one round trip, and
/// a commit's statements go together in one.
pub(crate) struct Statements {
    read: Statement,
    ensure_state: Statement,
    lock_state: Statement,
    delete_overrides: Statement,
    insert_overrides: Statement,
    update_state: Statement,
    insert_event: Statement,
    notify: Statement,
    audit: Statement,
    same_refusal: Statement,
    keyed: Statement,
}

impl Statements {
    /// Prepares every statement at once: tokio-postgres pipelines them, so a connection is ready
    /// in one round trip rather than one for each.
    pub(crate) async fn prepare(client: &Client) -> Result<Self, tokio_postgres::Error> {
        let (
            read,
            ensure_state,
            lock_state,
            delete_overrides,
            insert_overrides,
            update_state,
            insert_event,
            notify,
            keyed,
            same_refusal,
            audit,
        ) = tokio::try_join!(
            client.prepare(
                "SELECT s.version, o.variable, o.value, o.actor, o.version
                 FROM flags_state s LEFT JOIN flags_overrides o ON o.app = s.app
                 WHERE s.app = $1
                 ORDER BY o.variable",
            ),
            client.prepare(
                "INSERT INTO flags_state (app, version) VALUES ($1, 0)
                 ON CONFLICT (app) DO NOTHING",
            ),
            client.prepare("SELECT version FROM flags_state WHERE app = $1 FOR UPDATE"),
            client.prepare("DELETE FROM flags_overrides WHERE app = $1"),
            client.prepare(
                "INSERT INTO flags_overrides (app, variable, value, actor, version)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])",
            ),
            client
                .prepare("UPDATE flags_state SET version = $2, changed_at = now() WHERE app = $1"),
            client.prepare(
                "INSERT INTO flags_audit
                     (app, version, actor, at, outcome, reason, changes, idempotency_key, kind,
                      comment)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            ),
            client.prepare("SELECT pg_notify($1, $2)"),
            client.prepare(
                "SELECT version, changes FROM flags_audit
                 WHERE app = $1 AND idempotency_key = $2 AND outcome = 'applied'",
            ),
            client.prepare(
                "SELECT 1 FROM flags_audit WHERE app = $1 AND version = $2 AND actor = $3
                 AND outcome = 'rejected' AND reason IS NOT DISTINCT FROM $4 LIMIT 1",
            ),
            client.prepare(
                "SELECT version, actor, at, outcome, reason, changes, idempotency_key, kind,
                        comment
                 FROM flags_audit
                 WHERE app = $1 AND ($3::timestamptz IS NULL OR at < $3)
                 ORDER BY at DESC, id DESC LIMIT $2",
            ),
        )?;
        Ok(Self {
            read,
            ensure_state,
            lock_state,
            delete_overrides,
            insert_overrides,
            update_state,
            insert_event,
            notify,
            audit,
            same_refusal,
            keyed,
        })
    }
}

/// What the store holds for `app`; `None` before its first change.
pub(crate) async fn read(
    client: &impl GenericClient,
    statements: &Statements,
    app: &str,
) -> Result<Option<Stored>, Failure> {
    let rows = client.query(&statements.read, &[&app]).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let version = unsigned(first.get(0))?;
    let mut overrides = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(env) = row.get::<_, Option<String>>(1) else {
            continue; // No override: the state's row alone.
        };
        overrides.push(StoredOverride {
            env,
            value: row.get(2),
            actor: row.get(3),
            version: unsigned(row.get(4))?,
        });
    }
    Ok(Some(Stored { version, overrides }))
}

/// Commits `next` for `app` with its audit `event`, if the store is still at `previous`; then
/// tells every instance listening on `channel` the new version. One transaction, in four round
/// trips: the statements of each step are sent together (tokio-postgres pipelines them), and the
/// server runs them in order. When the store is at another version, nothing is written, and what
/// it holds comes back, read once the transaction is rolled back.
///
/// A failure once `COMMIT` is sent is [`Failure::AfterCommit`]: the change may have landed.
/// `sent` is set just before it is sent, for a caller that gives up waiting to tell the two apart.
pub(crate) async fn commit(
    client: &mut Client,
    statements: &Statements,
    app: &str,
    channel: &str,
    commit: Commit<'_>,
) -> Result<CommitOutcome, Failure> {
    let Commit {
        previous,
        next,
        event,
        sent,
    } = commit;
    let version = signed(next.version)?;
    let mut variables = Vec::with_capacity(next.overrides.len());
    let mut values = Vec::with_capacity(next.overrides.len());
    let mut actors = Vec::with_capacity(next.overrides.len());
    let mut versions = Vec::with_capacity(next.overrides.len());
    for entry in &next.overrides {
        variables.push(entry.env.as_str());
        values.push(entry.value.as_str());
        actors.push(entry.actor.as_str());
        versions.push(signed(entry.version)?);
    }
    let event = EventRow::new(event)?;
    let notified = next.version.to_string();

    let transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    let by_app: [&(dyn ToSql + Sync); 1] = [&app];
    let (_, locked) = tokio::try_join!(
        transaction.execute(&statements.ensure_state, &by_app),
        transaction.query_one(&statements.lock_state, &by_app),
    )?;
    // A key the store has: the change was made already (its answer lost), or the key is
    // another change's. Looked up once the state's row is held, so that two retries of one
    // change cannot both make it.
    if let Some(key) = &event.idempotency_key {
        let keyed: [&(dyn ToSql + Sync); 2] = [&app, key];
        if let Some(made) = transaction.query_opt(&statements.keyed, &keyed).await? {
            let version = unsigned(made.get(0))?;
            let changes = changes(&made, 1)?;
            let first = AuditEvent {
                changes,
                ..event.event.clone()
            };
            return Ok(match first.asks_as(event.event) {
                true => CommitOutcome::AlreadyCommitted { version },
                false => CommitOutcome::KeyInUse { version },
            });
        }
    }
    let found = unsigned(locked.get(0))?;
    if found != previous {
        // Nothing was written: rolled back as it is dropped, which frees the state's row for the
        // other instances at once; what the store holds is read after.
        drop(transaction);
        let held = read(client, statements, app).await?;
        return Ok(CommitOutcome::Behind(held.unwrap_or_default()));
    }
    let overrides: [&(dyn ToSql + Sync); 5] = [&app, &variables, &values, &actors, &versions];
    let state: [&(dyn ToSql + Sync); 2] = [&app, &version];
    let audited = event.parameters(&app);
    let notification: [&(dyn ToSql + Sync); 2] = [&channel, &notified];
    tokio::try_join!(
        transaction.execute(&statements.delete_overrides, &by_app),
        transaction.execute(&statements.insert_overrides, &overrides),
        transaction.execute(&statements.update_state, &state),
        transaction.execute(&statements.insert_event, &audited),
        // Delivered when the transaction commits, and only then.
        transaction.execute(&statements.notify, &notification),
    )?;
    sent.store(true, Ordering::Release);
    transaction.commit().await.map_err(Failure::AfterCommit)?;
    Ok(CommitOutcome::Committed)
}

/// What one commit writes: `next`, made on `previous`, with its audit `event`; `sent` is set just
/// before `COMMIT` is sent.
pub(crate) struct Commit<'a> {
    pub(crate) previous: u64,
    pub(crate) next: &'a Stored,
    pub(crate) event: &'a AuditEvent,
    pub(crate) sent: &'a AtomicBool,
}

/// Keeps the audit event of a rejected change.
pub(crate) async fn record(
    client: &Client,
    statements: &Statements,
    app: &str,
    event: &AuditEvent,
) -> Result<(), Failure> {
    let event = EventRow::new(event)?;
    let audited = event.parameters(&app);
    client.execute(&statements.insert_event, &audited).await?;
    Ok(())
}

/// Keeps the audit event of a version that an instance refused, unless another instance kept the
/// same already (same version, actor, outcome and reason): one transaction, which holds the
/// application's state row while it looks, so that instances refusing together keep one.
pub(crate) async fn record_once(
    client: &mut Client,
    statements: &Statements,
    app: &str,
    event: &AuditEvent,
) -> Result<(), Failure> {
    let row = EventRow::new(event)?;
    let transaction = client.transaction().await?;
    let by_app: [&(dyn ToSql + Sync); 1] = [&app];
    transaction
        .query_opt(&statements.lock_state, &by_app)
        .await?;
    let same: [&(dyn ToSql + Sync); 4] = [&app, &row.version, &row.actor, &row.reason];
    let kept = transaction
        .query_opt(&statements.same_refusal, &same)
        .await?;
    if kept.is_none() {
        transaction
            .execute(&statements.insert_event, &row.parameters(&app))
            .await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// An audit event as `flags_audit` keeps it.
struct EventRow<'a> {
    event: &'a AuditEvent,
    version: i64,
    actor: &'a str,
    at: OffsetDateTime,
    outcome: &'static str,
    reason: Option<&'a str>,
    changes: Json<&'a [AuditChange]>,
    idempotency_key: Option<&'a str>,
    kind: &'static str,
    comment: Option<&'a str>,
}

impl<'a> EventRow<'a> {
    fn new(event: &'a AuditEvent) -> Result<Self, Failure> {
        Ok(Self {
            event,
            version: signed(event.version)?,
            actor: &event.actor,
            at: event.at,
            outcome: event.outcome.as_str(),
            reason: event.reason.as_deref(),
            changes: Json(&event.changes),
            idempotency_key: event.idempotency_key.as_deref(),
            kind: event.kind.as_str(),
            comment: event.comment.as_deref(),
        })
    }

    fn parameters<'p>(&'p self, app: &'p &str) -> [&'p (dyn ToSql + Sync); 10] {
        [
            app,
            &self.version,
            &self.actor,
            &self.at,
            &self.outcome,
            &self.reason,
            &self.changes,
            &self.idempotency_key,
            &self.kind,
            &self.comment,
        ]
    }
}

/// The audit events of `app` that `page` asks for, oldest first.
pub(crate) async fn audit(
    client: &Client,
    statements: &Statements,
    app: &str,
    page: AuditPage,
) -> Result<Vec<AuditEvent>, Failure> {
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    let rows = client
        .query(&statements.audit, &[&app, &limit, &page.before])
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        let outcome = match row.get::<_, &str>(3) {
            "applied" => Outcome::Applied,
            // The table's check allows no other.
            _ => Outcome::Rejected,
        };
        let changes = changes(row, 5)?;
        events.push(AuditEvent {
            version: unsigned(row.get(0))?,
            actor: row.get(1),
            at: row.get(2),
            outcome,
            reason: row.get(4),
            changes,
            idempotency_key: row.get(6),
            kind: match row.get::<_, &str>(7) {
                "reset" => AuditKind::Reset,
                "rollback" => AuditKind::Rollback,
                "sync" => AuditKind::Sync,
                // The table's check allows no other.
                _ => AuditKind::Set,
            },
            comment: row.get(8),
        });
    }
    Ok(events)
}

/// The changes of an audit row, in column `column`. A row whose changes are not a list of changes
/// (written by hand) is an error, not an event with none.
fn changes(row: &Row, column: usize) -> Result<Vec<AuditChange>, Failure> {
    match row.try_get::<_, Json<Vec<AuditChange>>>(column) {
        Ok(Json(changes)) => Ok(changes),
        Err(_) => Err(Failure::Store(StoreError::corrupt(
            "an audit row's changes are not a list of {flag, old, new} objects",
        ))),
    }
}

/// Why a request to the database failed: the store's own answer (a row it cannot read), or the
/// database's error, before or after a transaction's `COMMIT` was sent.
#[derive(Debug)]
pub(crate) enum Failure {
    Store(StoreError),
    Database(tokio_postgres::Error),
    /// `COMMIT` was sent and failed or was cut off: it may have landed.
    AfterCommit(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Database(error)
    }
}

impl Failure {
    /// The failure as the store reports it, `doing` what: the database's words go to the log of
    /// whoever handles the error (flags-http logs them, and tells the client only that the
    /// store is unavailable).
    pub(crate) fn into_store_error(self, doing: &str) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Database(error) => database_error(doing, &error),
            Self::AfterCommit(error) => outcome_unknown(describe(&error)),
        }
    }

    /// Whether the connection is gone, rather than one statement failed.
    pub(crate) fn lost_connection(&self, client: &Client) -> bool {
        match self {
            Self::Store(_) => false,
            Self::Database(error) | Self::AfterCommit(error) => {
                client.is_closed() || error.is_closed()
            }
        }
    }
}

/// The error of a commit whose `COMMIT` was sent and whose answer never came, because of `cause`:
/// the change may have been made.
pub(crate) fn outcome_unknown(cause: impl Into<String>) -> StoreError {
    StoreError::outcome_unknown(
        "cannot tell whether the change of flags was committed (COMMIT was sent; the flags show \
         it once read again)",
        cause.into(),
    )
}

/// A database error as a store error: unavailable when the database cannot be reached or
/// answered with a transient error; misconfigured when it refused who or what was asked for (a
/// password, a database that does not exist, a permission).
pub(crate) fn database_error(doing: &str, error: &tokio_postgres::Error) -> StoreError {
    let configuration = error.as_db_error().is_some_and(|db| {
        let code = db.code().code();
        // 28: invalid authorization; 3D: no such database; 42501: insufficient privilege.
        code.starts_with("28") || code.starts_with("3D") || code == "42501"
    });
    let what = describe(error);
    match configuration {
        // The description as its cause, as an unavailable database's: a caller that wraps the
        // error (a start that requires the database) keeps it.
        true => StoreError::Misconfigured {
            what: doing.to_owned(),
            cause: Some(what.into()),
        },
        false => StoreError::unavailable(doing.to_owned(), what),
    }
}

/// A database error in one line: the server's message and code when it sent one, else the
/// error and its causes (`error connecting to server: Connection refused (os error 111)`).
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if *db.code() == SqlState::UNDEFINED_TABLE => format!(
            "the database has no table of flags ({}): the migrations did not run",
            db.message()
        ),
        Some(db) => format!(
            "the database refused: {} ({})",
            db.message(),
            db.code().code()
        ),
        None => {
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(error);
            while let Some(error) = cause {
                text = format!("{text}: {error}");
                cause = error.source();
            }
            text
        }
    }
}

fn unsigned(value: i64) -> Result<u64, Failure> {
    u64::try_from(value).map_err(|_| {
        Failure::Store(StoreError::corrupt(format!(
            "a version in the database is negative ({value})"
        )))
    })
}

fn signed(value: u64) -> Result<i64, Failure> {
    i64::try_from(value).map_err(|_| {
        Failure::Store(StoreError::corrupt(format!(
            "version {value} is too large for the database"
        )))
    })
}
