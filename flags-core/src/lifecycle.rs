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
use std::time::SystemTime;

use crate::meta::FlagMeta;

/// Today's date in UTC, as `YYYY-MM-DD`: what [`expired`] compares a flag's expiry with.
///
/// ```
/// let today = flags_core::lifecycle::today();
/// assert_eq!(today.len(), 10);
/// assert!(today.as_str() > "2026-01-01");
/// ```
pub fn today() -> String {
    let seconds = match SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let (year, month, day) = civil_date(seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
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
    fn civil_dates_match_known_days() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_782), (2026, 11, 25));
        assert_eq!(civil_date(47_541), (2100, 3, 1));
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
