//! Versions as entity tags: `ETag`, and `If-None-Match` on the routes that read the flags.

use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::header::IF_NONE_MATCH;

/// A version as an entity tag: `"3"`.
pub(crate) fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are a header value")
}

/// Whether the request's `If-None-Match` names `version` (weakly: `W/"3"` does) or is `*`: the
/// client has that version already.
pub(crate) fn has_version(headers: &HeaderMap, version: u64) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .any(|header| none_match(header, version))
}

fn none_match(header: &HeaderValue, version: u64) -> bool {
    let Ok(header) = header.to_str() else {
        return false;
    };
    header.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || quoted_version(tag) == Some(version)
    })
}

/// The version a strong entity tag names: `"3"` names 3; `"03"`, `3` or `"x"` none.
pub(crate) fn quoted_version(tag: &str) -> Option<u64> {
    let digits = tag.strip_prefix('"')?.strip_suffix('"')?;
    let canonical = digits == "0" || (!digits.starts_with('0') && !digits.is_empty());
    digits.parse().ok().filter(|_| canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_version_strongly_weakly_in_a_list_or_as_any() {
        let matches = |header: &'static str| none_match(&HeaderValue::from_static(header), 12);
        assert!(matches("\"12\""));
        assert!(matches("W/\"12\""));
        assert!(matches("\"3\", \"12\""));
        assert!(matches("*"));
        assert!(!matches("\"1\""));
        assert!(!matches("12"));
        assert!(!matches("\"123\""));
    }
}
