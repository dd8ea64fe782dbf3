//! Who may use the admin routes: the [`Authorize`] trait, bearer [`Tokens`], and the middleware
//! that runs them before every admin handler.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderName;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flags_core::FeatureFlags;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Shared;
use crate::error::{Denied, Error, TurnedAway};
use crate::limit::client_address;

/// Decides whether a request may use the admin routes, and who makes it: the actor that
/// [`Live`](flags_core::live::Live) records in the audit of each change.
///
/// [`Tokens`] implements it with bearer tokens. To authenticate otherwise (a JWT, a session),
/// implement it, or pass a closure `Fn(&Parts) -> Result<String, Denied>`. Authentication that
/// must wait on something (a session store) belongs in the application's own middleware, in
/// front of these routes, which puts who it found into the request's extensions for `authorize`
/// to read:
///
/// ```
/// use axum::http::request::Parts;
/// use flags_http::Denied;
///
/// /// Set by the application's session middleware.
/// #[derive(Clone)]
/// struct Staff { name: String, may_change_flags: bool }
///
/// let authorize = |request: &Parts| match request.extensions.get::<Staff>() {
///     Some(staff) if staff.may_change_flags => Ok(staff.name.clone()),
///     Some(_) => Err(Denied::Invalid),
///     None => Err(Denied::Missing),
/// };
/// # fn check(_: impl flags_http::Authorize) {}
/// # check(authorize);
/// ```
pub trait Authorize: Send + Sync + 'static {
    /// The actor making `request`, or why it may not. Only the request's head is here: the body
    /// is read after, and only for an authorised request.
    fn authorize(&self, request: &Parts) -> Result<String, Denied>;
}

impl<F> Authorize for F
where
    F: Fn(&Parts) -> Result<String, Denied> + Send + Sync + 'static,
{
    fn authorize(&self, request: &Parts) -> Result<String, Denied> {
        self(request)
    }
}

/// Bearer tokens, each naming the actor it stands for: `Authorization: Bearer <token>`.
///
/// Tokens are compared in constant time, every configured token each time, so that how long a
/// refusal takes says nothing of how near a guess came. With no token, the admin routes refuse
/// every request ([`Denied::Disabled`]).
///
/// ```
/// use flags_core::secrecy::SecretString;
/// use flags_http::Tokens;
///
/// let tokens = Tokens::new()
///     .token(SecretString::from("a-long-random-token"), "alice")
///     .token(SecretString::from("the-deploy-pipelines-token"), "deploy");
/// assert_eq!(format!("{tokens:?}"), r#"Tokens { actors: ["alice", "deploy"] }"#);
/// ```
#[derive(Default)]
pub struct Tokens {
    /// Each token's SHA-256 digest (the token itself is not kept), with its actor.
    tokens: Vec<([u8; 32], String)>,
}

impl Tokens {
    /// No token: the admin routes are off until one is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `actor`, without the spaces around it, as a request's token is read
    /// (`ADMIN_TOKEN=" x "` and `Authorization: Bearer x` match). An empty token is never
    /// accepted, so it is not added: an unset variable cannot open the admin routes.
    pub fn token(mut self, token: SecretString, actor: impl Into<String>) -> Self {
        let token = token.expose_secret().as_bytes().trim_ascii();
        if !token.is_empty() {
            self.tokens.push((digest(token), actor.into()));
        }
        self
    }

    /// Whether no token is accepted (the admin routes are off).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The actor `token` stands for, compared in constant time with every token.
    fn actor_of(&self, token: &[u8]) -> Option<&str> {
        // Digests, so that tokens of any length compare in the same time (comparing the tokens
        // themselves would end early on a length that differs).
        let presented = digest(token);
        let mut actor = None;
        for (token, name) in &self.tokens {
            if bool::from(token.ct_eq(&presented)) {
                actor = Some(name.as_str());
            }
        }
        actor
    }

    /// Whether `token` is one of these.
    pub(crate) fn accepts(&self, token: &[u8]) -> bool {
        self.actor_of(token).is_some()
    }
}

/// The actors, never the tokens.
impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actors: Vec<&str> = self.tokens.iter().map(|(_, actor)| &**actor).collect();
        f.debug_struct("Tokens").field("actors", &actors).finish()
    }
}

impl Authorize for Tokens {
    fn authorize(&self, request: &Parts) -> Result<String, Denied> {
        if self.tokens.is_empty() {
            return Err(Denied::Disabled);
        }
        self.actor_of(bearer(request)?)
            .map(str::to_owned)
            .ok_or(Denied::Invalid)
    }
}

/// The SHA-256 digest of a token.
fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(request: &Parts) -> Result<&[u8], Denied> {
    let header = request.headers.get(AUTHORIZATION).ok_or(Denied::Missing)?;
    let value = header.as_bytes();
    let Some((scheme, token)) = value.split_first_chunk::<7>() else {
        return Err(Denied::Missing);
    };
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return Err(Denied::Missing);
    }
    match token.trim_ascii() {
        [] => Err(Denied::Missing),
        token => Ok(token),
    }
}

/// `X-API-Key`, OFREP's other way to send a token.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The token a request presents to read flags: a bearer token, else OFREP's `X-API-Key`.
pub(crate) fn presented(request: &Parts) -> Option<&[u8]> {
    bearer(request).ok().or_else(|| {
        let key = request.headers.get(X_API_KEY)?.as_bytes().trim_ascii();
        (!key.is_empty()).then_some(key)
    })
}

/// Who an authorised request is from, as [`Authorize`] named them: in the request's extensions
/// for the handlers of the admin routes (and of [`Api::admin_route`](crate::Api::admin_route)).
#[derive(Debug, Clone)]
pub struct Actor(pub Arc<str>);

/// Lets an admin request through to its handler only when it is authorised, and not while its
/// address has failed too often.
pub(crate) async fn require<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let client = client_address(&parts.extensions);
    if let Some(retry_after) = shared.failures.blocked(client, Instant::now()) {
        return Error::from(TurnedAway::TooManyFailures { retry_after }).into_response();
    }
    match shared.authorize.authorize(&parts) {
        Ok(actor) => {
            parts.extensions.insert(Actor(Arc::from(actor)));
            next.run(Request::from_parts(parts, body)).await
        }
        Err(denied) => {
            // A guess counts; a request with no credentials guesses nothing (a crawler, a page
            // before signing in), and counting it would let anyone lock the admins out.
            if denied == Denied::Invalid {
                shared.failures.record(client, Instant::now());
            }
            Error::from(denied).into_response()
        }
    }
}
