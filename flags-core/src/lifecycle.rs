//! Flag lifecycle: a flag is temporary, and `#[flag(expires = "YYYY-MM-DD")]` says until when.
//!
//! Once a flag has rolled out everywhere, the code it guards should become the only code and the
//! flag should go (the seed's "Phase 5: Cleanup"). An expired flag is a WARN in
//! [`FeatureFlags::log_state`](crate::FeatureFlags::log_state), and [`check`] fails a test, so CI
//! says when it is time:
//!
//! ```
//! use flags_core::{FeatureFlags, lifecycle};
//!
//! #[derive(FeatureFlags)]
//! struct Settings {
//!     #[flag(default = false, expires = "2999-12-31")]
//!     new_checkout_enabled: bool,
//! }
//!
//! // In the application's tests:
//! lifecycle::check(Settings::FLAGS).unwrap();
//! ```

use std::fmt;
use std::time::SystemTime;

use crate::meta::FlagMeta;

/// Today's date in UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    let timestamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    timestamp[..10].to_owned()
}

/// The flags whose expiry date is before `date` (`YYYY-MM-DD`).
pub fn expired_on<'a>(flags: &'a [FlagMeta], date: &str) -> Vec<&'a FlagMeta> {
    // ISO dates compare as text.
    flags
        .iter()
        .filter(|flag| flag.expires().is_some_and(|expires| expires < date))
        .collect()
}

/// The flags that have expired: their expiry date is before today (UTC).
pub fn expired(flags: &[FlagMeta]) -> Vec<&FlagMeta> {
    expired_on(flags, &today())
}

/// `Err` naming every expired flag, for a test that fails CI until they are removed.
pub fn check(flags: &[FlagMeta]) -> Result<(), ExpiredFlags> {
    check_on(flags, &today())
}

/// [`check`] as of `date` (`YYYY-MM-DD`).
pub fn check_on(flags: &[FlagMeta], date: &str) -> Result<(), ExpiredFlags> {
    let expired: Vec<ExpiredFlag> = expired_on(flags, date)
        .into_iter()
        .map(|flag| ExpiredFlag {
            env: flag.env(),
            expires: flag.expires().unwrap_or_default(),
            status: flag.status(),
        })
        .collect();
    if expired.is_empty() {
        Ok(())
    } else {
        Err(ExpiredFlags {
            date: date.to_owned(),
            expired,
        })
    }
}

/// Flags past their expiry date. `Display` (and `Debug`, for `unwrap`) says what to do.
#[derive(Clone, PartialEq, Eq)]
pub struct ExpiredFlags {
    date: String,
    expired: Vec<ExpiredFlag>,
}

/// One expired flag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpiredFlag {
    /// The flag's variable.
    pub env: &'static str,
    /// Its expiry date.
    pub expires: &'static str,
    /// Its status, if it has one.
    pub status: Option<&'static str>,
}

impl ExpiredFlags {
    /// The expired flags, in declaration order.
    pub fn flags(&self) -> &[ExpiredFlag] {
        &self.expired
    }
}

impl fmt::Display for ExpiredFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.expired.len();
        write!(
            f,
            "{count} flag{} expired before {}: remove {} from the code, keeping the behaviour \
             production runs, and regenerate the docs",
            if count == 1 { "" } else { "s" },
            self.date,
            if count == 1 { "it" } else { "them" },
        )?;
        for flag in &self.expired {
            write!(f, "\n  {} expired on {}", flag.env, flag.expires)?;
            if let Some(status) = flag.status {
                write!(f, " (status: {status})")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ExpiredFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ExpiredFlags {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_an_iso_date() {
        let today = today();
        assert_eq!(today.len(), 10);
        assert!(today.starts_with("20"), "{today}");
        assert_eq!(&today[4..5], "-");
    }
}
