//! The audit of live changes: an [`AuditEvent`] for every attempt, applied or rejected, and the
//! [`AuditSink`]s that record them (tracing by default; an append-only JSON-lines file).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One attempt to change live flags, as the audit keeps it. It never holds a secret's value.
///
/// It serializes (serde) to JSON with the keys `version`, `actor`, `at`, `outcome`, `kind`,
/// `reason`, `comment` and `changes` (and `idempotency_key` when the change had one), and reads
/// back from the same; an event written before `kind` and `comment` existed reads as a `set`
/// without a comment:
///
/// ```json
/// {"version": 7, "actor": "alice", "at": "2026-11-29T03:12:45.123456Z", "outcome": "applied",
///  "kind": "set", "reason": null, "comment": "WhatsApp is down for everyone (INC-231)",
///  "changes": [{"flag": "FEATURE_WHATSAPP_ENABLED", "old": "true", "new": "false"}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// The version the change made, or, for a rejected change, the version it was tried on.
    pub version: u64,
    /// Who asked for it.
    pub actor: String,
    /// When, in UTC, to the microsecond; RFC 3339 in JSON (`2026-11-29T03:12:45.123456Z`).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    /// Whether it was applied.
    pub outcome: Outcome,
    /// What kind of change it was: set, reset, rolled back, or taken from a store or a service.
    #[serde(default)]
    pub kind: AuditKind,
    /// Why it was rejected: the problems, one per line, as a load reports them.
    pub reason: Option<String>,
    /// The reason its author gave for it ([`Change::comment`](super::Change::comment)), if any.
    #[serde(default)]
    pub comment: Option<String>,
    /// Each flag the change touched, by variable.
    pub changes: Vec<AuditChange>,
    /// The key its author gave the change, so that a retry of it is answered as it was
    /// ([`Change::idempotency_key`](super::Change::idempotency_key), an HTTP
    /// `Idempotency-Key`); in JSON only when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl AuditEvent {
    /// Whether `other` asks for what this event's change asked for: each flag it touched, set to
    /// the same value (as the audit shows values: secrets are alike). A retry of a change made
    /// already touches the same flags with the same values, whatever the flags were since.
    pub fn asks_as(&self, other: &AuditEvent) -> bool {
        let asked = |event: &AuditEvent| {
            let mut asked: Vec<(String, Option<String>)> = event
                .changes
                .iter()
                .map(|change| (change.flag.clone(), change.new.clone()))
                .collect();
            asked.sort();
            asked
        };
        asked(self) == asked(other)
    }
}

/// Whether a change was applied: `applied` or `rejected` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It is the new version.
    Applied,
    /// Nothing changed.
    Rejected,
}

impl Outcome {
    /// `applied` or `rejected`, as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Rejected => "rejected",
        }
    }
}

/// What kind of change an audit event records: `set`, `reset`, `rollback` or `sync` in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// Flags set to values (a change that also resets some is a set).
    #[default]
    Set,
    /// Flags put back to what the loaded sources say.
    Reset,
    /// The previous version's values, as a new version.
    Rollback,
    /// Values taken from elsewhere: a version of a store another instance committed, or values a
    /// flag service pushed.
    Sync,
}

impl AuditKind {
    /// `set`, `reset`, `rollback` or `sync`, as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Reset => "reset",
            Self::Rollback => "rollback",
            Self::Sync => "sync",
        }
    }
}

/// One flag's change: its variable, and its value before and after as logs show values
/// (`<redacted>` for a secret; `None` when unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditChange {
    /// The flag's variable.
    pub flag: String,
    /// The value before.
    pub old: Option<String>,
    /// The value after (for a rejected change, the value asked for).
    pub new: Option<String>,
}

/// The time now, in UTC, to the microsecond: what a database's timestamp keeps, so that an event
/// read back from one equals the event written.
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// Where audit events go, beside the recent ones a [`Live`](super::Live) keeps.
pub trait AuditSink: Send + Sync {
    /// Records one event. An error is logged (target `flags::audit`): the change stands, as the
    /// store already holds it.
    fn record(&self, event: &AuditEvent) -> io::Result<()>;
}

/// Logs each event with `tracing`, target `flags::audit`: INFO for an applied change, WARN for a
/// rejected one, with the event's fields and the changes as JSON. The default sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAudit;

impl AuditSink for TracingAudit {
    fn record(&self, event: &AuditEvent) -> io::Result<()> {
        // The changes are rendered only for a subscriber that wants the event (or, with no
        // subscriber, for the `log` crate's logger, which tracing's `log` feature feeds).
        let wanted = match event.outcome {
            Outcome::Applied => tracing::enabled!(target: "flags::audit", tracing::Level::INFO),
            Outcome::Rejected => tracing::enabled!(target: "flags::audit", tracing::Level::WARN),
        };
        if !wanted && tracing::dispatcher::has_been_set() {
            return Ok(());
        }
        let changes = serde_json::to_string(&event.changes).map_err(io::Error::other)?;
        match event.outcome {
            Outcome::Applied => tracing::info!(
                target: "flags::audit",
                version = event.version,
                actor = %event.actor,
                at = %Rfc3339(event.at),
                outcome = "applied",
                kind = event.kind.as_str(),
                comment = event.comment.as_deref(),
                changes = %changes,
                "flags changed by {} (version {})",
                event.actor,
                event.version,
            ),
            Outcome::Rejected => tracing::warn!(
                target: "flags::audit",
                version = event.version,
                actor = %event.actor,
                at = %Rfc3339(event.at),
                outcome = "rejected",
                kind = event.kind.as_str(),
                comment = event.comment.as_deref(),
                reason = event.reason.as_deref().unwrap_or_default(),
                changes = %changes,
                "a change of flags by {} was rejected",
                event.actor,
            ),
        }
        Ok(())
    }
}

/// A time as RFC 3339, for a log line.
struct Rfc3339(OffsetDateTime);

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self
            .0
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

/// Appends each event to a file as one line of JSON, and makes it durable before it returns.
///
/// A crash can cut the last line short; opening the file drops such a line, so the file holds
/// whole events only.
#[derive(Debug)]
pub struct JsonLinesAudit {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonLinesAudit {
    /// Opens (or creates) the file at `path` for appending, dropping a last line a crash left
    /// without its end.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        // Events can name who changed what: the file is its owner's, as the store's is.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        let whole = whole_lines(&mut file)?;
        if whole < file.metadata()?.len() {
            file.set_len(whole)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(Self {
            path,
            file: Mutex::new(file),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The events of `page` the file holds, oldest first: the newest `page.limit` of those
    /// before `page.before`. The file is read from its end, as far back as the page reaches (it
    /// only grows, in time order), so a page of a long audit costs what the page holds. A line
    /// that is not an event (written by hand, or by a newer build) is left out, and logged
    /// (target `flags::audit`).
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn events(&self, page: super::AuditPage) -> io::Result<Vec<AuditEvent>> {
        const CHUNK: u64 = 64 * 1024;
        let mut file = File::open(&self.path)?;
        // The whole lines when it was opened: an append under way is not read half.
        let mut end = whole_lines(&mut file)?;
        let mut newest_first = Vec::new();
        let mut unread = 0;
        // The start of the line a chunk ended in the middle of, read with the chunk after it.
        let mut carried: Vec<u8> = Vec::new();
        while end > 0 && newest_first.len() < page.limit {
            let start = end.saturating_sub(CHUNK);
            let mut chunk = vec![0; (end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut chunk)?;
            chunk.append(&mut carried);
            // Before the chunk's first newline, a line that begins in the chunk before it.
            let first = match start {
                0 => 0,
                _ => chunk
                    .iter()
                    .position(|byte| *byte == b'\n')
                    .map_or(chunk.len(), |at| at + 1),
            };
            carried = chunk[..first].to_vec();
            for line in chunk[first..].split(|byte| *byte == b'\n').rev() {
                if newest_first.len() == page.limit {
                    break;
                }
                if line.trim_ascii().is_empty() {
                    continue;
                }
                match serde_json::from_slice::<AuditEvent>(line) {
                    Ok(event) if page.before.is_none_or(|before| event.at < before) => {
                        newest_first.push(event);
                    }
                    Ok(_) => {}
                    Err(_) => unread += 1,
                }
            }
            end = start;
        }
        if unread > 0 {
            tracing::warn!(
                target: "flags::audit",
                "{unread} lines of the audit file {} are not audit events: left out",
                self.path.display()
            );
        }
        newest_first.reverse();
        Ok(newest_first)
    }
}

/// How many bytes of `file` are whole lines: all of it when it ends with a newline, else up to
/// its last one. Reads from the end, as little as it takes: the file only grows.
fn whole_lines(file: &mut File) -> io::Result<u64> {
    const CHUNK: u64 = 8 * 1024;
    let mut end = file.metadata()?.len();
    let mut chunk = vec![0; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let read = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(read)?;
        if let Some(newline) = read.iter().rposition(|byte| *byte == b'\n') {
            return Ok(start + newline as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

impl AuditSink for JsonLinesAudit {
    fn record(&self, event: &AuditEvent) -> io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = super::lock(&self.file);
        // One write of the whole line: appended as a unit, or cut short by a crash and dropped
        // when the file is next opened.
        file.write_all(&line)?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::AuditPage;

    fn event(version: u64, at: OffsetDateTime) -> AuditEvent {
        AuditEvent {
            version,
            actor: format!("actor-{version}"),
            at,
            outcome: Outcome::Applied,
            kind: AuditKind::Set,
            reason: None,
            comment: Some("x".repeat(200)),
            changes: Vec::new(),
            idempotency_key: None,
        }
    }

    /// Pages of an audit file longer than what one read takes: the newest of them, in order,
    /// across the reads' boundaries, a line that is not an event left out.
    #[test]
    fn pages_of_a_long_audit_file_are_read_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let audit = JsonLinesAudit::open(dir.path().join("audit.jsonl")).unwrap();
        let start = OffsetDateTime::UNIX_EPOCH;
        for version in 1..=2000 {
            let at = start + time::Duration::seconds(version as i64);
            audit.record(&event(version, at)).unwrap();
            if version == 1500 {
                let mut file = OpenOptions::new().append(true).open(audit.path()).unwrap();
                file.write_all(b"not an event\n").unwrap();
            }
        }
        let versions = |page: AuditPage| -> Vec<u64> {
            let events = audit.events(page).unwrap();
            events.iter().map(|event| event.version).collect()
        };
        assert_eq!(versions(AuditPage::newest(3)), [1998, 1999, 2000]);
        let newest = versions(AuditPage::newest(1000));
        assert_eq!(newest, (1001..=2000).collect::<Vec<_>>());
        let before = AuditPage {
            limit: 600,
            before: Some(start + time::Duration::seconds(1001)),
        };
        assert_eq!(versions(before), (401..=1000).collect::<Vec<_>>());
        assert_eq!(versions(AuditPage::newest(5000)).len(), 2000);
    }
}
