//! Where live overrides are kept between restarts: the [`Store`] trait, and [`FileStore`], the
//! embedded default, which keeps them in one JSON file.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;

use super::AuditEvent;
use crate::error::Problem;

/// The overrides of one version, as a store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// The version these overrides make.
    pub version: u64,
    /// Each override, by variable.
    pub overrides: Vec<StoredOverride>,
}

/// One override: a flag's variable set to a value by an actor in a version.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredOverride {
    /// The flag's variable.
    pub env: String,
    /// The text it is set to, as a variable would hold it.
    pub value: String,
    /// Who set it.
    pub actor: String,
    /// The version that set it.
    pub version: u64,
}

/// The value is left out: it may be a secret's.
impl fmt::Debug for StoredOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredOverride")
            .field("env", &self.env)
            .field("actor", &self.actor)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Why a store could not read or commit the overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer committed since: the store is at `found`, not the version the change was
    /// made on.
    Conflict {
        /// The version the change was made on.
        expected: u64,
        /// The version the store is at.
        found: u64,
    },
    /// The store holds something that is not overrides; the message says where, never a value.
    Corrupt(String),
    /// The store could not be reached, read or written.
    Unavailable(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Conflict { expected, found } => write!(
                f,
                "the flags changed since version {expected}: the store is at version {found}"
            ),
            Self::Corrupt(what) | Self::Unavailable(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for StoreError {}

/// A store's error as a load or a change reports it: a conflict as [`Problem::Conflict`], any
/// other as [`Problem::Store`] with its message (which names no value).
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { expected, found } => Problem::Conflict { expected, found },
            error => Problem::Store {
                reason: error.to_string(),
            },
        }
    }
}

/// Keeps the overrides of live flags, so that a change survives a restart (and, in a store that
/// many instances share, reaches them all).
pub trait Store: Send + Sync {
    /// The overrides as last committed; `None` when none were ever committed.
    fn read(&self) -> Result<Option<Stored>, StoreError>;

    /// Commits `next`, made on version `previous`, with `event`, the audit event of the change
    /// that made it: whole, or not at all. A store that others write too refuses a commit on a
    /// version that is no longer its latest ([`StoreError::Conflict`]). A store that keeps an
    /// audit keeps `event` in the same commit; others ignore it (the audit sinks have it).
    fn commit(&self, previous: u64, next: &Stored, event: &AuditEvent) -> Result<(), StoreError>;

    /// Keeps the audit event of a change that was rejected, in a store that keeps an audit.
    /// Nothing by default.
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let _ = event;
        Ok(())
    }

    /// The newest `limit` audit events, oldest first, of a store that keeps an audit that
    /// instances share; `None` (the default) for one that keeps none, whose [`Live::audit`]
    /// is its process's own.
    ///
    /// [`Live::audit`]: super::Live::audit
    fn audit(&self, limit: usize) -> Option<Result<Vec<AuditEvent>, StoreError>> {
        let _ = limit;
        None
    }
}

/// A store shared with whoever else holds it (a test that looks at what it was handed).
impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        (**self).read()
    }

    fn commit(&self, previous: u64, next: &Stored, event: &AuditEvent) -> Result<(), StoreError> {
        (**self).commit(previous, next, event)
    }

    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        (**self).record(event)
    }

    fn audit(&self, limit: usize) -> Option<Result<Vec<AuditEvent>, StoreError>> {
        (**self).audit(limit)
    }
}

/// Keeps the overrides in one JSON file, replaced whole on each commit: written beside it, made
/// durable, then renamed over it, so a crash leaves the old file or the new one, never half of
/// one. The file can hold a secret's override: it is created readable by its owner only.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store in the file at `path` (created by the first commit).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces what the file holds with `stored`, whatever it held: durably, and whole or not
    /// at all, as a commit does, but without a commit's check of the version. For a file that
    /// keeps a copy of another store's overrides (a snapshot to start from when that store
    /// cannot be reached).
    pub fn replace(&self, stored: &Stored) -> Result<(), StoreError> {
        let mut json = serde_json::to_vec_pretty(stored)
            .map_err(|error| self.unavailable("write", &io::Error::other(error)))?;
        json.push(b'\n');
        let temporary = self.path.with_extension("tmp");
        write_durably(&temporary, &json).map_err(|error| self.unavailable("write", &error))?;
        fs::rename(&temporary, &self.path).map_err(|error| self.unavailable("replace", &error))?;
        // The rename itself is durable once the directory is.
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(directory)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| self.unavailable("replace", &error))
    }

    fn corrupt(&self, what: impl fmt::Display) -> StoreError {
        StoreError::Corrupt(format!(
            "the store file {} is not a store of flags: {what}; fix or remove it",
            self.path.display()
        ))
    }

    fn unavailable(&self, doing: &str, error: &io::Error) -> StoreError {
        StoreError::Unavailable(format!(
            "cannot {doing} the store file {}: {error}",
            self.path.display()
        ))
    }

    /// The overrides in `text`, the file's content.
    fn parse(&self, text: &str) -> Result<Stored, StoreError> {
        // serde_json's messages quote what they reject, which may be a secret: only where.
        let value: Value = serde_json::from_str(text).map_err(|error| {
            self.corrupt(format_args!(
                "it is not JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        let number = |value: &Value, what: &str| {
            value
                .as_u64()
                .ok_or_else(|| self.corrupt(format_args!("{what} is not a version number")))
        };
        let text = |value: &Value, what: &str| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| self.corrupt(format_args!("{what} is not text")))
        };
        let version = number(&value["version"], "`version`")?;
        let Some(entries) = value["overrides"].as_array() else {
            return Err(self.corrupt("`overrides` is not a list"));
        };
        let mut overrides = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let what = |key: &str| format!("`{key}` of override {}", index + 1);
            overrides.push(StoredOverride {
                env: text(&entry["env"], &what("env"))?,
                value: text(&entry["value"], &what("value"))?,
                actor: text(&entry["actor"], &what("actor"))?,
                version: number(&entry["version"], &what("version"))?,
            });
        }
        Ok(Stored { version, overrides })
    }
}

impl Store for FileStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => self.parse(&text).map(Some),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.unavailable("read", &error)),
        }
    }

    fn commit(&self, previous: u64, next: &Stored, _: &AuditEvent) -> Result<(), StoreError> {
        let found = self.read()?.map_or(0, |stored| stored.version);
        if found != previous {
            return Err(StoreError::Conflict {
                expected: previous,
                found,
            });
        }
        self.replace(next)
    }
}

/// Writes `bytes` to a new file at `path`, readable by its owner only, and makes them durable.
fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl Serialize for Stored {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut stored = serializer.serialize_struct("Stored", 2)?;
        stored.serialize_field("version", &self.version)?;
        stored.serialize_field("overrides", &self.overrides)?;
        stored.end()
    }
}

impl Serialize for StoredOverride {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entry = serializer.serialize_struct("StoredOverride", 4)?;
        entry.serialize_field("env", &self.env)?;
        entry.serialize_field("value", &self.value)?;
        entry.serialize_field("actor", &self.actor)?;
        entry.serialize_field("version", &self.version)?;
        entry.end()
    }
}
