//! Everything said to the database: the migrations, and the store's reads and writes, each a
//! prepared statement with parameters.

use std::time::{Duration, SystemTime};

use flags_core::live::{AuditChange, AuditEvent, Outcome, StoreError, Stored, StoredOverride};
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, IsolationLevel, Statement};

/// The migrations, in order: each runs once per database, recorded in `flags_migrations`.
const MIGRATIONS: [(i32, &str, &str); 1] = [(
    1,
    "create flags",
    include_str!("../migrations/0001_create_flags.sql"),
)];

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
}

impl Statements {
    pub(crate) async fn prepare(client: &Client) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            read: client
                .prepare(
                    "SELECT s.version, o.variable, o.value, o.actor, o.version
                     FROM flags_state s LEFT JOIN flags_overrides o ON o.app = s.app
                     WHERE s.app = $1
                     ORDER BY o.variable",
                )
                .await?,
            ensure_state: client
                .prepare(
                    "INSERT INTO flags_state (app, version) VALUES ($1, 0)
                     ON CONFLICT (app) DO NOTHING",
                )
                .await?,
            lock_state: client
                .prepare("SELECT version FROM flags_state WHERE app = $1 FOR UPDATE")
                .await?,
            delete_overrides: client
                .prepare("DELETE FROM flags_overrides WHERE app = $1")
                .await?,
            insert_overrides: client
                .prepare(
                    "INSERT INTO flags_overrides (app, variable, value, actor, version)
                     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])",
                )
                .await?,
            update_state: client
                .prepare("UPDATE flags_state SET version = $2, changed_at = now() WHERE app = $1")
                .await?,
            insert_event: client
                .prepare(
                    "INSERT INTO flags_audit (app, version, actor, at, outcome, reason, changes)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .await?,
            notify: client.prepare("SELECT pg_notify($1, $2)").await?,
            audit: client
                .prepare(
                    "SELECT version, actor, at, outcome, reason, changes FROM flags_audit
                     WHERE app = $1 ORDER BY id DESC LIMIT $2",
                )
                .await?,
        })
    }
}

/// What the store holds for `app`; `None` before its first change.
pub(crate) async fn read(
    client: &Client,
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
/// server runs them in order.
pub(crate) async fn commit(
    client: &mut Client,
    statements: &Statements,
    app: &str,
    channel: &str,
    previous: u64,
    next: &Stored,
    event: &AuditEvent,
) -> Result<(), Failure> {
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
    let found = unsigned(locked.get(0))?;
    if found != previous {
        return Err(Failure::Store(StoreError::Conflict {
            expected: previous,
            found,
        }));
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
    transaction.commit().await?;
    Ok(())
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

/// An audit event as `flags_audit` keeps it.
struct EventRow<'a> {
    version: i64,
    actor: &'a str,
    at: SystemTime,
    outcome: &'static str,
    reason: Option<&'a str>,
    changes: Value,
}

impl<'a> EventRow<'a> {
    fn new(event: &'a AuditEvent) -> Result<Self, Failure> {
        let changes = event
            .changes
            .iter()
            .map(|change| {
                serde_json::json!({"flag": change.flag, "old": change.old, "new": change.new})
            })
            .collect();
        Ok(Self {
            version: signed(event.version)?,
            actor: &event.actor,
            at: humantime::parse_rfc3339(&event.at).unwrap_or_else(|_| SystemTime::now()),
            outcome: event.outcome.as_str(),
            reason: event.reason.as_deref(),
            changes: Value::Array(changes),
        })
    }

    fn parameters<'p>(&'p self, app: &'p &str) -> [&'p (dyn ToSql + Sync); 7] {
        [
            app,
            &self.version,
            &self.actor,
            &self.at,
            &self.outcome,
            &self.reason,
            &self.changes,
        ]
    }
}

/// The newest `limit` audit events of `app`, oldest first.
pub(crate) async fn audit(
    client: &Client,
    statements: &Statements,
    app: &str,
    limit: usize,
) -> Result<Vec<AuditEvent>, Failure> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client.query(&statements.audit, &[&app, &limit]).await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        let at: SystemTime = row.get(2);
        let outcome = match row.get::<_, &str>(3) {
            "applied" => Outcome::Applied,
            _ => Outcome::Rejected,
        };
        let changes: Value = row.get(5);
        let changes = changes
            .as_array()
            .map(|changes| changes.iter().map(change).collect())
            .unwrap_or_default();
        events.push(AuditEvent {
            version: unsigned(row.get(0))?,
            actor: row.get(1),
            at: humantime::format_rfc3339_seconds(at).to_string(),
            outcome,
            reason: row.get(4),
            changes,
        });
    }
    Ok(events)
}

fn change(value: &Value) -> AuditChange {
    let text = |key: &str| value[key].as_str().map(str::to_owned);
    AuditChange {
        flag: text("flag").unwrap_or_default(),
        old: text("old"),
        new: text("new"),
    }
}

/// Why a request to the database failed: the store's own answer (a conflict, a row it cannot
/// read), or the database's error.
#[derive(Debug)]
pub(crate) enum Failure {
    Store(StoreError),
    Database(tokio_postgres::Error),
    /// The database did not answer in time: what was asked may have been done all the same.
    TimedOut(Duration),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Database(error)
    }
}

impl Failure {
    /// The failure as the store reports it: the database's words go to the log of whoever
    /// handles the error (flags-http logs them, and tells the client only that the store is
    /// unavailable).
    pub(crate) fn into_store_error(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Database(error) => StoreError::Unavailable(describe(&error)),
            Self::TimedOut(limit) => StoreError::Unavailable(format!(
                "the database did not answer within {} s; a change may have been made all the \
                 same, and the flags show it once they are read again",
                limit.as_secs_f32()
            )),
        }
    }

    /// Whether the connection is gone, rather than one statement failed.
    pub(crate) fn lost_connection(&self, client: &Client) -> bool {
        match self {
            Self::Store(_) => false,
            Self::Database(error) => client.is_closed() || error.is_closed(),
            // Dropped and made again: the new connection reads everything.
            Self::TimedOut(_) => true,
        }
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
        Failure::Store(StoreError::Corrupt(format!(
            "a version in the database is negative ({value})"
        )))
    })
}

fn signed(value: u64) -> Result<i64, Failure> {
    i64::try_from(value).map_err(|_| {
        Failure::Store(StoreError::Unavailable(format!(
            "version {value} is too large for the database"
        )))
    })
}
