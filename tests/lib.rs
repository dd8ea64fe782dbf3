//! Helpers shared by the integration tests of flags; the tests are this package's test targets.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[cfg(unix)]
pub mod counting;
#[cfg(feature = "launchdarkly")]
pub mod launchdarkly;
pub mod postgres;
pub mod proxy;
pub mod stub;
pub mod unleash;

/// What a test does when a program it needs is not installed. Under CI (`CI` set) it fails with
/// `notice`, so that CI never passes without the real thing; elsewhere it prints `notice` (once
/// per test binary) and the test passes, so that a newcomer's `cargo test --workspace` passes
/// before installing.
///
/// `notice` names what is missing and the package that brings it.
///
/// # Panics
///
/// Under CI.
pub fn missing(notice: &str) {
    assert!(std::env::var_os("CI").is_none(), "{notice}");
    // Once per test binary, however many of its tests skip for it; written to stderr itself,
    // which the test harness does not capture (it captures eprintln!), so that it is seen.
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut said = SAID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !said.iter().any(|said| said == notice) {
        said.push(notice.to_owned());
        let _ = writeln!(std::io::stderr(), "notice: skipped: {notice}");
    }
}

/// The README's examples, compiled and run as doctests so that they stay true. They are this
/// package's, not flags-core's, since some mount flags-http on axum.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Runs `body` with a subscriber that records every event of this thread as text, one line per
/// event (`LEVEL target: message fields`), without timestamps, colours or padding.
pub fn capture_logs(body: impl FnOnce()) -> String {
    // A global subscriber that wants every event (and writes them nowhere): without one, a
    // callsite first hit on a thread with no subscriber can be cached as uninteresting while this
    // thread's scoped subscriber is in place, and the event is lost (tokio-rs/tracing#3611).
    static INTERESTED: std::sync::Once = std::sync::Once::new();
    INTERESTED.call_once(|| {
        let everything = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish();
        let _ = tracing::subscriber::set_global_default(everything);
    });

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .without_time()
        .finish();
    tracing::subscriber::with_default(subscriber, body);
    let bytes = buffer.0.lock().unwrap().clone();
    let text = String::from_utf8(bytes).unwrap();
    text.lines()
        .map(|line| format!("{}\n", line.trim_start()))
        .collect()
}

/// Compares `actual` with the golden file at `path` (relative to the calling package), or rewrites
/// the file when `FLAGS_BLESS=1` is set: `FLAGS_BLESS=1 cargo test --workspace` refreshes every
/// golden and generated file at once.
pub fn assert_golden(path: &std::path::Path, actual: &str) {
    if std::env::var_os("FLAGS_BLESS").is_some_and(|bless| bless == "1") {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(expected, actual)| expected != actual)
            .map_or_else(
                || expected.lines().count().min(actual.lines().count()) + 1,
                |index| index + 1,
            );
        panic!(
            "{} is stale (first difference at line {line}); regenerate it with \
             `FLAGS_BLESS=1 cargo test --workspace` and review the diff.\n--- actual ---\n{actual}",
            path.display()
        );
    }
}
