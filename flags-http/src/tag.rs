//! The flags' state as an entity tag ([`Tag`]): what `ETag` says, and what the conditional
//! headers name.

use axum::http::HeaderValue;
use flags_core::Snapshot;

/// What tells one state of the flags from another: the version (the overrides', which
/// instances sharing a store agree on), and the revision of the values flag services pushed
/// (0 when none did). `"7"`, or `"7-00c0ffee00c0ffee"` once a service pushed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) version: u64,
    revision: u64,
}

impl Tag {
    pub(crate) fn of<S>(snapshot: &Snapshot<S>) -> Self {
        Self {
            version: snapshot.version(),
            revision: snapshot.revision(),
        }
    }

    /// The tag of `version`, with the services' revision `snapshot` shows: what a change that
    /// made `version` answers, even when another change came since.
    pub(crate) fn with_version<S>(snapshot: &Snapshot<S>, version: u64) -> Self {
        Self {
            version,
            revision: snapshot.revision(),
        }
    }

    /// The tag as an `ETag` header's value.
    pub(crate) fn header(self) -> HeaderValue {
        let text = match self.revision {
            0 => format!("\"{}\"", self.version),
            revision => format!("\"{}-{revision:016x}\"", self.version),
        };
        HeaderValue::from_str(&text).expect("digits, letters and quotes are a header value")
    }

    /// The tag a strong entity tag is: `"3"` and `"3-00c0ffee00c0ffee"` are tags; `"03"`, `3`
    /// or `"x"` are not.
    pub(crate) fn parse(tag: &str) -> Option<Self> {
        let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
        let (digits, revision) = match inner.split_once('-') {
            Some((digits, hex)) if hex.len() == 16 => (
                digits,
                u64::from_str_radix(hex, 16).ok().filter(|r| *r != 0)?,
            ),
            Some(_) => return None,
            None => (inner, 0),
        };
        let canonical = digits == "0" || (!digits.starts_with('0') && !digits.is_empty());
        let version = digits.parse().ok().filter(|_| canonical)?;
        Some(Self { version, revision })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_the_version_and_the_services_revision() {
        let pushed = Tag {
            version: 7,
            revision: 0xc0ffee,
        };
        assert_eq!(pushed.header(), "\"7-0000000000c0ffee\"");
        assert_eq!(Tag::parse("\"7-0000000000c0ffee\""), Some(pushed));
        let plain = Tag {
            version: 7,
            revision: 0,
        };
        assert_eq!(plain.header(), "\"7\"");
        for text in [
            "\"07\"",
            "7",
            "\"7-\"",
            "\"7-c0ffee\"",
            "\"-1\"",
            "\"7-0000000000000000\"",
        ] {
            assert_eq!(Tag::parse(text), None, "{text}");
        }
    }
}
