//! The security headers every response gets while `ENABLE_SECURITY_HEADERS` is on: the flag is
//! read for each response, so that turning it off or on through the admin API changes the next.

use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::Response;

use super::Flags;

/// The policy of a response that is not a page (JSON, metrics): it may load nothing, and no page
/// may frame it.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// A response's own `Content-Security-Policy`, in place of the API's: a page's, allowing what the
/// page needs and nothing more. Set as a response extension by the handler; sent only while the
/// flag is on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentSecurityPolicy(pub(crate) &'static str);

/// Adds the security headers to `response` while the flag is on: read as the response leaves,
/// so that the response to the change that turns the flag off has none.
pub(crate) fn add(flags: &Flags, response: &mut Response) {
    let policy = response
        .extensions_mut()
        .remove::<ContentSecurityPolicy>()
        .map_or(API_POLICY, |ContentSecurityPolicy(policy)| policy);
    if flags.get().enable_security_headers {
        let headers = response.headers_mut();
        headers.reserve(5);
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        // Ignored by browsers over plain HTTP; effective through whatever terminates TLS in front.
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
        // A page that brings its own policy (flags-http's admin page) keeps it.
        if !headers.contains_key(CONTENT_SECURITY_POLICY) {
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
        }
    }
}
