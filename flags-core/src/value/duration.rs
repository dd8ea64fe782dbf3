//! Durations in a variable's text: `30s`, `5m`, `1h30m`, `250ms`, read with humantime and written
//! back compactly.

use std::time::Duration;

use super::{FlagValue, ValueError};

const DURATION_EXPECTED: &str = "a duration such as 30s, 5m, 1h30m or 250ms";

/// What a duration in months or years is told.
const NO_CALENDAR: &str = "a duration such as 30s, 5m, 1h30m or 250ms (months and years have no \
                           fixed length; m is minutes)";

impl FlagValue for Duration {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        parse_duration(text)
    }

    /// The shortest text in hours, minutes, seconds and sub-second units: `1h30m`, `250ms`.
    fn to_env(&self) -> String {
        if self.is_zero() {
            return "0s".to_owned();
        }
        let seconds = self.as_secs();
        let nanos = self.subsec_nanos();
        let parts = [
            (seconds / 3600, "h"),
            (seconds / 60 % 60, "m"),
            (seconds % 60, "s"),
            (u64::from(nanos / 1_000_000), "ms"),
            (u64::from(nanos / 1_000 % 1_000), "us"),
            (u64::from(nanos % 1_000), "ns"),
        ];
        parts
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, unit)| format!("{count}{unit}"))
            .collect()
    }
}

/// `1h30m`, `250ms`, `1.5s`, `.25ms`, `2d 4h`: humantime's durations, numbers (whole, or decimals
/// that come to whole nanoseconds) each followed by a unit (`ns`, `us` or `µs`, `ms`, `s`, `m`,
/// `h`, `d`, `w`; also `sec`, `min`, `hours`, `days` and other spellings), with optional spaces.
/// An error for anything else, or for more than `u64` seconds.
///
/// Months and years are refused: humantime gives them lengths (30.44 and 365.25 days) no
/// calendar has, and its month, `M`, is one shift key away from a minute: `5M` is an error
/// rather than five months.
///
/// Each part (a number and its unit) is parsed alone and the parts are added here, because
/// humantime 2.4 panics instead of failing when a sum reaches `u64::MAX` seconds with exactly a
/// second of nanoseconds to carry (chronotope/humantime#66); a part alone cannot reach it.
fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let invalid = || ValueError::known(DURATION_EXPECTED);
    let text = text.trim();
    let is_unit = |c: char| c.is_ascii_alphabetic() || c == 'µ';
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        // A part ends where its unit does; text after the last unit is a number without one,
        // which humantime refuses (except a lone `0`).
        let unit_start = rest.find(is_unit).unwrap_or(rest.len());
        let part_end = rest[unit_start..]
            .find(|c: char| !is_unit(c))
            .map_or(rest.len(), |unit_length| unit_start + unit_length);
        let (part, after) = rest.split_at(part_end);
        let unit = &part[unit_start..];
        if matches!(unit, "M" | "month" | "months" | "y" | "year" | "years") {
            return Err(ValueError::known(NO_CALENDAR));
        }
        // humantime wants a digit before the point; `.25ms` has always been a quarter of one.
        let part = match part.trim_start().starts_with('.') {
            true => humantime::parse_duration(&format!("0{}", part.trim_start())),
            false => humantime::parse_duration(part),
        };
        let part = part.map_err(|_| invalid())?;
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = after;
    }
    match text.is_empty() {
        true => Err(invalid()),
        false => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_the_documented_forms() {
        assert_eq!(Duration::parse_env("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(Duration::parse_env("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(Duration::parse_env("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(Duration::parse_env("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(
            Duration::parse_env("soon").unwrap_err().what_was_expected(),
            DURATION_EXPECTED
        );
    }

    #[test]
    fn durations_take_decimals_spaces_and_long_unit_names() {
        assert_eq!(Duration::parse_env("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(
            Duration::parse_env("2d 4h"),
            Ok(Duration::from_secs(187_200))
        );
        assert_eq!(
            Duration::parse_env(" 10 min "),
            Ok(Duration::from_secs(600))
        );
        assert_eq!(Duration::parse_env("3µs"), Ok(Duration::from_micros(3)));
        assert_eq!(Duration::parse_env(".25ms"), Ok(Duration::from_micros(250)));
        assert_eq!(
            Duration::parse_env("1m .5s"),
            Ok(Duration::from_millis(60_500))
        );
        assert_eq!(
            Duration::parse_env("2w"),
            Ok(Duration::from_secs(1_209_600))
        );
        for text in [
            "30",
            "1h 30",
            "s",
            // A fraction finer than a nanosecond.
            "1.0000000001s",
            ".",
            ".ms",
            "1.2.3s",
            "5 parsecs",
            // Calendar units, whose length depends on the date; `5M` is a slip for `5m`.
            "5M",
            "1y",
            "2 months",
            "1h-30m",
            "99999999999999999999999d",
            // Fractions of a huge whole, which overflow.
            "340282366920938463463374607431768211.999us",
            "3938453320844195178974243.9d",
            // humantime 2.4 panics on this one when given it whole (chronotope/humantime#66).
            "18446744073709551615s 500ms 500ms",
            "18446744073709551615s500ms500ms",
        ] {
            assert!(Duration::parse_env(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn months_and_years_are_refused_saying_m_is_minutes() {
        for text in ["5M", "1y", "2 months"] {
            let error = Duration::parse_env(text).unwrap_err();
            assert_eq!(error.what_was_expected(), NO_CALENDAR, "{text:?}");
        }
        assert!(NO_CALENDAR.ends_with("(months and years have no fixed length; m is minutes)"));
    }

    #[test]
    fn durations_render_compactly() {
        assert_eq!(Duration::ZERO.to_env(), "0s");
        assert_eq!(Duration::from_secs(5400).to_env(), "1h30m");
        assert_eq!(Duration::from_millis(1250).to_env(), "1s250ms");
        assert_eq!(Duration::from_secs(90000).to_env(), "25h");
    }
}
