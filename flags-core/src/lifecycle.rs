//! Flag lifecycle: a flag is temporary, and `#[flag(expires = "YYYY-MM-DD")]` says until when.
//!
//! Once a flag has rolled out everywhere, the code it guards should become the only code and the
//! flag should go (the seed's "Phase 5: Cleanup"). An expired flag is a WARN in
//! [`FeatureFlags::log_state`](crate::FeatureFlags::log_state), and [`check`] fails a test, so CI
//! says when it is time; [`expired`] lists the flags expired by a given date, for tooling:
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

use time::OffsetDateTime;

use crate::meta::FlagMeta;

/// Today's date in UTC, as `YYYY-MM-DD`: what [`expired`] compares a flag's expiry with.
///
/// ```
/// let today = flags_core::lifecycle::today();
/// assert_eq!(today.len(), 10);
/// assert!(today.as_str() > "2026-01-01");
/// ```
pub fn today() -> String {
    // time writes a date as `YYYY-MM-DD`, the form of `expires`.
    OffsetDateTime::now_utc().date().to_string()
}

/// The flags whose expiry date is before `on` (`YYYY-MM-DD`), in declaration order: the flags
/// that have expired by that day.
///
/// ```
/// use flags_core::{FeatureFlags, lifecycle};
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = false, expires = "2026-03-31")]
///     new_checkout_enabled: bool,
///     #[flag(default = false)]
///     dark_mode_enabled: bool,
/// }
///
/// assert!(lifecycle::expired(Settings::FLAGS, "2026-03-31").is_empty());
/// let expired = lifecycle::expired(Settings::FLAGS, "2026-04-01");
/// assert_eq!(expired[0].env(), "NEW_CHECKOUT_ENABLED");
/// ```
pub fn expired<'a>(flags: &'a [FlagMeta], on: &str) -> Vec<&'a FlagMeta> {
    // ISO dates compare as text.
    flags
        .iter()
        .filter(|flag| flag.expires().is_some_and(|expires| expires < on))
        .collect()
}

/// `Err` naming every flag that has expired (its expiry date is before today, in UTC), for a test
/// that fails CI until they are removed.
///
/// ```
/// use flags_core::{FeatureFlags, lifecycle};
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = false, expires = "2000-01-31")]
///     new_checkout_enabled: bool,
/// }
///
/// let error = lifecycle::check(Settings::FLAGS).unwrap_err();
/// assert_eq!(error.flags()[0].env, "NEW_CHECKOUT_ENABLED");
/// assert!(error.to_string().contains("NEW_CHECKOUT_ENABLED expired on 2000-01-31"));
/// ```
pub fn check(flags: &[FlagMeta]) -> Result<(), ExpiredFlags> {
    check_on(flags, &today())
}

/// [`check`] as of `date` (`YYYY-MM-DD`).
fn check_on(flags: &[FlagMeta], date: &str) -> Result<(), ExpiredFlags> {
    let expired: Vec<ExpiredFlag> = expired(flags, date)
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
    fn dates_are_written_as_iso_dates() {
        // `today` relies on time's form of a date being that of `expires`, which text compares.
        let day = |days| (OffsetDateTime::UNIX_EPOCH + time::Duration::days(days)).date();
        let day = |days| day(days).to_string();
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(-1), "1969-12-31");
        assert_eq!(day(11_016), "2000-02-29");
        assert_eq!(day(20_782), "2026-11-25");
        assert_eq!(day(47_541), "2100-03-01");
    }

    #[cfg(feature = "derive")]
    #[test]
    fn the_check_fails_naming_every_expired_flag_and_what_to_do() {
        #[derive(crate::FeatureFlags)]
        #[flags(prefix = "FEATURE_")]
        struct Settings {
            #[flag(default = true, expires = "2026-01-31", status = "rolled out")]
            new_checkout_enabled: bool,
            #[flag(default = false, expires = "2099-06-30")]
            new_search_enabled: bool,
            #[flag(default = false)]
            dark_mode_enabled: bool,
        }

        let flags = <Settings as crate::FeatureFlags>::FLAGS;
        let error = check_on(flags, "2099-07-01").unwrap_err();
        assert_eq!(
            error.to_string(),
            "2 flags expired before 2099-07-01: remove them from the code, keeping the behaviour \
             production runs, and regenerate the docs\n  \
             FEATURE_NEW_CHECKOUT_ENABLED expired on 2026-01-31 (status: rolled out)\n  \
             FEATURE_NEW_SEARCH_ENABLED expired on 2099-06-30"
        );
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(check_on(flags, "2025-01-01").is_ok());
    }

    #[test]
    fn today_is_an_iso_date() {
        let today = today();
        assert_eq!(today.len(), 10);
        assert!(today.starts_with("20"), "{today}");
        assert_eq!(&today[4..5], "-");
    }
}
