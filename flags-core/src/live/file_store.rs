//! [`FileStore`]: the embedded store, which keeps the overrides in one JSON file.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::store::{AuditPage, CommitOutcome, Store, StoreError, StoreFuture, Stored};
use super::{AuditEvent, AuditSink, JsonLinesAudit, lock};

/// Keeps the overrides in one JSON file, replaced whole on each commit: written to a new file of
/// its own beside it (created by the write, so no link planted there can redirect it), made
/// durable, then renamed over it, so a crash leaves the old file or the new one, never half of
/// one. The file can hold a secret's override: it is created readable by its owner only.
///
/// With [`FileStore::with_audit`], it keeps the audit too, in a JSON-lines file
/// ([`JsonLinesAudit`]): each change appended once the overrides are durable, so that the audit
/// survives a restart as the overrides do, and [`Live::audit_events`](super::Live::audit_events)
/// reads it.
///
/// It is for one process. Its work is a few file operations, done on the thread that commits
/// (an fsync: about a millisecond on a local disk), so that a synchronous application needs no
/// runtime; an async one awaits a future that is already done.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    /// Held from reading the file's version to renaming the new file over it: two commits in
    /// one process cannot both write the same version.
    writing: Mutex<()>,
    audit: Option<JsonLinesAudit>,
}

impl FileStore {
    /// A store in the file at `path` (created by the first commit).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writing: Mutex::new(()),
            audit: None,
        }
    }

    /// Keeps the audit in the JSON-lines file at `path` too (opened, or created readable by its
    /// owner only): every change, applied or refused, appended and made durable.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or created.
    pub fn with_audit(mut self, path: impl AsRef<Path>) -> io::Result<Self> {
        self.audit = Some(JsonLinesAudit::open(path)?);
        Ok(self)
    }

    /// Appends `event` to the audit file, if the store keeps one.
    fn audit_now(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let Some(audit) = &self.audit else {
            return Ok(());
        };
        audit.record(event).map_err(|error| {
            let doing = format!("append to the audit file {}", audit.path().display());
            StoreError::unavailable(format!("cannot {doing}"), error)
        })
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
        let _writing = lock(&self.writing);
        self.write(stored)
    }

    fn write(&self, stored: &Stored) -> Result<(), StoreError> {
        let mut json = serde_json::to_vec_pretty(stored)
            .map_err(|error| self.unavailable("write", io::Error::other(error)))?;
        json.push(b'\n');
        let temporary =
            write_beside(&self.path, &json).map_err(|error| self.unavailable("write", error))?;
        if let Err(error) = fs::rename(&temporary, &self.path) {
            let _ = fs::remove_file(&temporary);
            return Err(self.unavailable("replace", error));
        }
        // The rename itself is durable once the directory is.
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(directory)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| self.unavailable("replace", error))
    }

    fn unavailable(&self, doing: &str, error: io::Error) -> StoreError {
        StoreError::unavailable(
            format!("cannot {doing} the store file {}", self.path.display()),
            error,
        )
    }

    /// The overrides in `text`, the file's content.
    fn parse(&self, text: &str) -> Result<Stored, StoreError> {
        // serde_json's messages quote what they reject, which may be a secret: only where.
        serde_json::from_str(text).map_err(|error| {
            let what = match error.classify() {
                serde_json::error::Category::Data => "a value is missing or of the wrong type",
                _ => "it is not JSON",
            };
            StoreError::corrupt(format!(
                "the store file {} is not a store of flags: {what} (line {}, column {}); fix or \
                 remove it",
                self.path.display(),
                error.line(),
                error.column()
            ))
        })
    }

    fn read_file(&self) -> Result<Option<Stored>, StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => self.parse(&text).map(Some),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.unavailable("read", error)),
        }
    }

    fn commit_now(&self, previous: u64, next: &Stored) -> Result<CommitOutcome, StoreError> {
        let _writing = lock(&self.writing);
        let found = self.read_file()?;
        let found_version = found.as_ref().map_or(0, |stored| stored.version);
        if found_version != previous {
            return Ok(CommitOutcome::Behind(found.unwrap_or_default()));
        }
        self.write(next).map(|()| CommitOutcome::Committed)
    }
}

impl Store for FileStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        self.read_file()
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let outcome = self.commit_now(previous, next);
        // The change stands once the overrides are durable: an audit file that cannot take its
        // event is logged, and the change is not refused for it.
        if let Ok(CommitOutcome::Committed) = outcome
            && let Err(error) = self.audit_now(event)
        {
            tracing::error!(target: "flags::audit", "{error}");
        }
        Box::pin(std::future::ready(outcome))
    }

    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(self.audit_now(event)))
    }

    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        let audit = self.audit.as_ref()?;
        let events = audit.events(page).map_err(|error| {
            let doing = format!("read the audit file {}", audit.path().display());
            StoreError::unavailable(format!("cannot {doing}"), error)
        });
        Some(Box::pin(std::future::ready(events)))
    }
}

/// Writes `bytes` to a file of its own beside `path`, readable by its owner only, makes them
/// durable, and returns the file's path, for the caller to rename over `path`.
///
/// The file is created by this call (`O_CREAT | O_EXCL`), under a name no other write uses: never
/// a file or a link that was there, so that a link planted beside the store cannot make a commit
/// write elsewhere. A failed write leaves nothing behind.
fn write_beside(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let mut tries = 0;
    let (temporary, mut file) = loop {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |now| now.subsec_nanos());
        let write = WRITES.fetch_add(1, Ordering::Relaxed);
        let unique = format!(".{name}.{}-{write}-{nanos:x}.tmp", std::process::id());
        let temporary = path.with_file_name(unique);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temporary) {
            Ok(file) => break (temporary, file),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            Err(error) => return Err(error),
        }
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    match written {
        Ok(()) => Ok(temporary),
        Err(error) => {
            drop(file);
            let _ = fs::remove_file(&temporary);
            Err(error)
        }
    }
}
