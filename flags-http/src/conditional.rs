//! The conditional headers: `If-None-Match` on the routes that read the flags, the version
//! `If-Match` names on the routes that change them, `Idempotency-Key`, and the change's
//! `comment`.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::{IF_MATCH, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

use crate::error::{Error, Refused};
use crate::tag::Tag;

/// `If-Match` on a change: the tags it lists, which make the change conditional on the flags'
/// version; read once, when the request is. A struct around the [`Condition`] so that utoipa
/// derives the header's description from its field.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Header))]
pub(crate) struct IfMatch {
    /// Make the change only if the flags are still at this version, quoted (`"3"`): 412
    /// otherwise.
    #[cfg_attr(
        feature = "openapi",
        param(rename = "If-Match", value_type = Option<String>)
    )]
    if_match: Condition,
}

/// What `If-Match` asks of the flags' version.
enum Condition {
    /// No `If-Match`, or `*`: any version.
    Any,
    /// One of the versions its strong tags name, in the order listed; none when it lists only
    /// weak tags or text that is no tag.
    Versions(Vec<u64>),
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::read(&parts.headers))
    }
}

impl IfMatch {
    /// The `If-Match` of `headers`, every line of it.
    fn read(headers: &HeaderMap) -> Self {
        let mut tags = listed(headers, IF_MATCH).peekable();
        if tags.peek().is_none() {
            return Self {
                if_match: Condition::Any,
            };
        }
        let mut versions = Vec::new();
        for tag in tags {
            if tag == "*" {
                return Self {
                    if_match: Condition::Any,
                };
            }
            versions.extend(Tag::parse(tag).map(|tag| tag.version));
        }
        Self {
            if_match: Condition::Versions(versions),
        }
    }

    /// The version the change is conditional on, the flags being at `current`: `None` without
    /// the header or with `*`; `current`'s version when the header lists it, so that the change
    /// goes ahead unless another comes first; otherwise one it lists, which the change will find
    /// stale (412); and 412 at once, with `current` as its `ETag`, when it lists no version.
    pub(crate) fn version(&self, current: Tag) -> Result<Option<u64>, Error> {
        let Condition::Versions(listed) = &self.if_match else {
            return Ok(None);
        };
        let version = current.version;
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
                tag: Some(current),
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

/// The longest reason a change may carry, in characters: a line in the page, not a document.
pub(crate) const COMMENT_LIMIT: usize = 500;

/// `?comment=` on a change: the operator's reason for it, which the audit keeps with the change.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[derive(serde_derive::Deserialize)]
pub(crate) struct Comment {
    /// Why the change is made (`WhatsApp is down for everyone, INC-231`): one line of at most
    /// 500 characters, kept in the audit with the change, applied or refused.
    comment: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Comment {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let axum::extract::Query(Comment { comment }) =
            axum::extract::Query::<Comment>::from_request_parts(parts, state)
                .await
                .map_err(Error::query)?;
        // An empty comment is none: what a page's empty field sends.
        let comment = comment.filter(|comment| !comment.trim().is_empty());
        if let Some(comment) = &comment {
            let characters = comment.chars().count();
            if characters > COMMENT_LIMIT {
                return Err(Error::BadRequest(format!(
                    "comment: {characters} characters; a change's comment is at most \
                     {COMMENT_LIMIT}"
                )));
            }
            if let Some(control) = comment.chars().find(|c| c.is_control()) {
                return Err(Error::BadRequest(format!(
                    "comment: holds the control character {:?}; a change's comment is one line \
                     of text",
                    control.escape_unicode().to_string()
                )));
            }
        }
        Ok(Self { comment })
    }
}

impl Comment {
    /// `change`, with the comment if the request gave one.
    pub(crate) fn on(self, change: flags_core::live::Change) -> flags_core::live::Change {
        match self.comment {
            Some(comment) => change.comment(comment.trim()),
            None => change,
        }
    }
}

/// Whether the request's `If-None-Match` names `tag` (weakly: `W/"3"` does) or is `*`: the
/// client has those flags already.
pub(crate) fn has_tag(headers: &HeaderMap, tag: Tag) -> bool {
    listed(headers, IF_NONE_MATCH).any(|listed| {
        let listed = listed.strip_prefix("W/").unwrap_or(listed);
        listed == "*" || Tag::parse(listed) == Some(tag)
    })
}

/// Each element of the lists that the `name` headers hold (`"3"`, `W/"3"`, `*`), trimmed; a
/// header that is not text holds one element that is no tag.
fn listed(headers: &HeaderMap, name: HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .flat_map(|value| value.to_str().unwrap_or_default().split(','))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn if_none_match_names_the_version_strongly_weakly_in_a_list_or_as_any() {
        let tag = Tag::parse("\"12\"").unwrap();
        let matches = |header: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(IF_NONE_MATCH, HeaderValue::from_static(header));
            has_tag(&headers, tag)
        };
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
    fn if_match_reads_every_line_and_names_versions_by_strong_tags_only() {
        let current = Tag::parse("\"3-0000000000c0ffee\"").unwrap();
        let version = |lines: &[&'static str]| {
            let mut headers = HeaderMap::new();
            for line in lines {
                headers.append(IF_MATCH, HeaderValue::from_static(line));
            }
            match IfMatch::read(&headers).version(current) {
                Ok(version) => Ok(version),
                Err(Error::Refused(Refused::PreconditionFailed { tag, .. })) => Err(tag),
                Err(error) => panic!("{error:?}"),
            }
        };
        assert_eq!(version(&[]), Ok(None));
        assert_eq!(version(&["\"1\"", "*"]), Ok(None));
        assert_eq!(
            version(&["\"1\", \"2\"", "\"3-0000000000c0ffee\""]),
            Ok(Some(3))
        );
        assert_eq!(version(&["\"2\"", "\"1\""]), Ok(Some(2)));
        assert_eq!(version(&["W/\"2\", \"1\""]), Ok(Some(1)));
        for none in [&["W/\"3\""][..], &["3"], &["\"x\", "], &[""]] {
            assert_eq!(version(none), Err(Some(current)), "{none:?}");
        }
    }
}
