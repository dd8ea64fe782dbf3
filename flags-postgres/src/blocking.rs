//! The PostgreSQL store for a synchronous program: a command that changes a flag and exits, a
//! script, a test without a runtime.
//!
//! [`PostgresStore`] runs the async store on a runtime of its own, a current-thread tokio
//! runtime that runs only on the calling thread, while a call waits (as the `postgres` crate
//! does for tokio-postgres): no thread of its own. Other instances' changes are not followed
//! between calls; a change made on a version another instance replaced catches up when it is
//! made, as with the async store.
//!
//! ```no_run
//! use flags_core::live::Live;
//! use flags_core::{FeatureFlags, Loader};
//! use flags_postgres::blocking::PostgresStore;
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     #[flag(default = false)]
//!     whatsapp_enabled: bool,
//! }
//!
//! let store = PostgresStore::connect(
//!     flags_postgres::PostgresStore::builder("postgres://flags@db.internal/app", "rose"),
//! )?;
//! let flags = Live::<Settings>::builder().store(store).load(Loader::new().env())?;
//! flags.apply([("FEATURE_WHATSAPP_ENABLED", "false")], "ops-cli")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use flags_core::live::{
    AuditEvent, AuditPage, CommitOutcome, Store, StoreError, StoreFuture, StoreState, Stored,
};
use tokio::runtime::Runtime;

use crate::Builder;

/// A [`PostgresStore`](crate::PostgresStore) for a synchronous program: see the
/// [module documentation](self).
///
/// Its methods must not be called where a tokio runtime is entered (async code): they answer
/// [`StoreError::Misconfigured`] there, saying to use the async store.
pub struct PostgresStore {
    store: crate::PostgresStore,
    runtime: Runtime,
}

impl PostgresStore {
    /// Connects as [`Builder::connect`] does, on a runtime of its own, and keeps the driver on it:
    /// it runs whenever a call of the store waits.
    pub fn connect(builder: Builder) -> Result<Self, StoreError> {
        in_a_runtime()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| StoreError::unavailable("cannot start the store's runtime", error))?;
        let (store, driver) = runtime.block_on(builder.connect())?;
        runtime.spawn(driver);
        Ok(Self { store, runtime })
    }

    /// Runs `work` on the store's runtime, on this thread, until it is done.
    fn wait<T>(&self, work: StoreFuture<'_, T>) -> Result<T, StoreError> {
        in_a_runtime()?;
        self.runtime.block_on(work)
    }
}

/// The error of a call made where a tokio runtime is entered: blocking there would stall it.
fn in_a_runtime() -> Result<(), StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Err(StoreError::misconfigured(
            "flags_postgres::blocking::PostgresStore is for programs without an async runtime: \
             in async code, use flags_postgres::PostgresStore and spawn its driver",
        )),
        Err(_) => Ok(()),
    }
}

impl Store for PostgresStore {
    fn read(&self) -> Result<Option<Stored>, StoreError> {
        self.store.read()
    }

    fn commit<'a>(
        &'a self,
        previous: u64,
        next: &'a Stored,
        event: &'a AuditEvent,
    ) -> StoreFuture<'a, CommitOutcome> {
        let done = self.wait(self.store.commit(previous, next, event));
        Box::pin(std::future::ready(done))
    }

    fn record<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        let done = self.wait(self.store.record(event));
        Box::pin(std::future::ready(done))
    }

    fn record_refused_version<'a>(&'a self, event: &'a AuditEvent) -> StoreFuture<'a, ()> {
        let done = self.wait(self.store.record_refused_version(event));
        Box::pin(std::future::ready(done))
    }

    fn state(&self) -> StoreState {
        self.store.state()
    }

    fn audit(&self, page: AuditPage) -> Option<StoreFuture<'_, Vec<AuditEvent>>> {
        let reading = self.store.audit(page)?;
        Some(Box::pin(std::future::ready(self.wait(reading))))
    }
}
