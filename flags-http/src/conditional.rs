//! The flags' state as an entity tag: `ETag`, `If-None-Match` on the routes that read the flags,
//! and the version `If-Match` names on the routes that change them.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::{IF_MATCH, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use flags_core::Snapshot;

use crate::error::{Error, Refused};

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

/// `If-Match` on a change: the tags it lists, which make the change conditional on the flags'
/// version.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Header))]
pub(crate) struct IfMatch {
    /// Make the change only if the flags are still at this version, quoted (`"3"`): 412
    /// otherwise.
    #[cfg_attr(feature = "openapi", param(rename = "If-Match"))]
    if_match: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let headers = parts.headers.get_all(IF_MATCH);
        let mut values = headers.iter().peekable();
        if values.peek().is_none() {
            return Ok(Self { if_match: None });
        }
        // A value that is not text names no tag.
        let values: Vec<&str> = values
            .map(|value| value.to_str().unwrap_or_default())
            .collect();
        Ok(Self {
            if_match: Some(values.join(", ")),
        })
    }
}

impl IfMatch {
    /// The version the change is conditional on, the flags being at `current`: `None` without
    /// the header or with `*`; `current`'s version when the header lists it, so that the change
    /// goes ahead unless another comes first; otherwise one it lists, which the change will find
    /// stale (412); and 412 at once, with `current` as its `ETag`, when it lists no version.
    pub(crate) fn version(&self, current: Tag) -> Result<Option<u64>, Error> {
        let version = current.version;
        let Some(header) = &self.if_match else {
            return Ok(None);
        };
        let mut listed = Vec::new();
        for tag in header.split(',').map(str::trim) {
            if tag == "*" {
                return Ok(None);
            }
            listed.extend(Tag::parse(tag).map(|tag| tag.version));
        }
        if listed.contains(&version) {
            return Ok(Some(version));
        }
        match listed.first() {
            Some(version) => Ok(Some(*version)),
            // Weak tags, unquoted or malformed ones: none of them can name a version.
            None => Err(Error::Refused(Refused::PreconditionFailed {
                message: format!(
                    "If-Match: a change needs a strong tag such as \"{version}\" (weak W/ tags \
                     never match); the flags are at version {version}"
                ),
                tag: Some(current.header()),
            })),
        }
    }
}

/// `Idempotency-Key` on a change (the IETF draft's header): a key the client chose for it, so
/// that a retry is answered as the first attempt was, and the change made once.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Header))]
pub(crate) struct IdempotencyKey {
    /// A key unique to this change (a UUID, say; 1 to 255 visible ASCII characters): sent again
    /// with a retry, the change is made once, and the retry answered as the first was.
    #[cfg_attr(feature = "openapi", param(rename = "Idempotency-Key"))]
    idempotency_key: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self {
                idempotency_key: None,
            });
        };
        let key = value.to_str().ok().filter(|key| {
            (1..=255).contains(&key.len()) && key.bytes().all(|byte| byte.is_ascii_graphic())
        });
        match key {
            Some(key) => Ok(Self {
                idempotency_key: Some(key.to_owned()),
            }),
            None => Err(Error::BadRequest(String::from(
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say)",
            ))),
        }
    }
}

impl IdempotencyKey {
    /// `change`, with the key if the request gave one.
    pub(crate) fn on(self, change: flags_core::live::Change) -> flags_core::live::Change {
        match self.idempotency_key {
            Some(key) => change.idempotency_key(key),
            None => change,
        }
    }
}

/// Whether the request's `If-None-Match` names `tag` (weakly: `W/"3"` does) or is `*`: the
/// client has those flags already.
pub(crate) fn has_tag(headers: &HeaderMap, tag: Tag) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .any(|header| none_match(header, tag))
}

fn none_match(header: &HeaderValue, tag: Tag) -> bool {
    let Ok(header) = header.to_str() else {
        return false;
    };
    header.split(',').map(str::trim).any(|listed| {
        let listed = listed.strip_prefix("W/").unwrap_or(listed);
        listed == "*" || Tag::parse(listed) == Some(tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_version_strongly_weakly_in_a_list_or_as_any() {
        let tag = Tag {
            version: 12,
            revision: 0,
        };
        let matches = |header: &'static str| none_match(&HeaderValue::from_static(header), tag);
        assert!(matches("\"12\""));
        assert!(matches("W/\"12\""));
        assert!(matches("\"3\", \"12\""));
        assert!(matches("*"));
        assert!(!matches("\"1\""));
        assert!(!matches("12"));
        assert!(!matches("\"123\""));
        assert!(!matches("\"12-00000000000000ff\""));
    }

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
