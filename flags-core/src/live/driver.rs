//! [`Driver`]: the future a shared store or a flag service's source hands the application, to
//! spawn on its own runtime.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future that keeps a shared store (flags-postgres) or a flag service's source
/// (flags-unleash, flags-launchdarkly) going: spawn it on the application's runtime
/// (`tokio::spawn(driver)`), as tokio-postgres's own connection is. No crate runs a runtime or a
/// thread of its own for it. It ends when the last handle of what returned it is dropped.
#[must_use = "a store or a flag service's source does nothing until its driver is spawned"]
pub struct Driver {
    inner: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Driver {
    /// The driver that runs `work`.
    pub fn new(work: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            inner: Box::pin(work),
        }
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(context)
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}
