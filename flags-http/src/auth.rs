//! Who may use the admin routes: the [`Authorize`] trait, bearer [`Tokens`], and the middleware
//! that runs them before every admin handler.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderName, Method};
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

/// Bearer tokens, each naming the actor it stands for: `Authorization: Bearer <token>`. A token
/// may change the flags, or only read them ([`Tokens::read_only`]: a metrics scraper, an OFREP
/// client), which every request but a `GET` or `HEAD` finds refused ([`Denied::ReadOnly`]).
///
/// Tokens are kept as their SHA-256 digests only, and compared in constant time, every
/// configured token each time, so that how long a refusal takes says nothing of how near a guess
/// came. A file of digests ([`Tokens::tokens_file`]) names each person's token without keeping any
/// token in clear. With no token, the admin routes refuse every request ([`Denied::Disabled`]).
///
/// ```
/// use flags_core::secrecy::SecretString;
/// use flags_http::Tokens;
///
/// let tokens = Tokens::new()
///     .token(SecretString::from("a-long-random-token"), "alice")
///     .read_only(SecretString::from("the-scrapers-token"), "metrics");
/// assert_eq!(format!("{tokens:?}"), r#"Tokens { actors: ["alice", "metrics (read only)"] }"#);
/// ```
#[derive(Default)]
pub struct Tokens {
    /// Each token's SHA-256 digest (the token itself is not kept), with its actor and whether
    /// it may change the flags.
    tokens: Vec<Named>,
}

/// One token, as [`Tokens`] keeps it.
struct Named {
    digest: [u8; 32],
    actor: String,
    writes: bool,
}

/// Why a file of tokens ([`Tokens::tokens_file`]) cannot be used: the file, the line, and what is
/// wrong with it, never the line itself (it may be a token pasted in clear by mistake).
#[derive(Debug)]
pub struct TokensFileError {
    message: String,
}

impl fmt::Display for TokensFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokensFileError {}

impl Tokens {
    /// No token: the admin routes are off until one is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `actor`, without the spaces around it, as a request's token is read
    /// (`ADMIN_TOKEN=" x "` and `Authorization: Bearer x` match). An empty token is never
    /// accepted, so it is not added: an unset variable cannot open the admin routes.
    pub fn token(self, token: SecretString, actor: impl Into<String>) -> Self {
        self.add(token, actor.into(), true)
    }

    /// Accepts `token` as `actor` for reading only: the admin routes' `GET`s (and, for OFREP
    /// routes, every flag but the secrets); a change is refused ([`Denied::ReadOnly`]).
    pub fn read_only(self, token: SecretString, actor: impl Into<String>) -> Self {
        self.add(token, actor.into(), false)
    }

    fn add(mut self, token: SecretString, actor: String, writes: bool) -> Self {
        let token = token.expose_secret().as_bytes().trim_ascii();
        if !token.is_empty() {
            let digest = digest(token);
            self.tokens.push(Named {
                digest,
                actor,
                writes,
            });
        }
        self
    }

    /// Adds the tokens a file names, one per line as `name:sha256-hex-of-token`, or
    /// `name:sha256-hex-of-token:read` for a token that only reads; blank lines and lines that
    /// start with `#` are left out. The name is the actor the audit records; the digest is what
    /// `sha256sum` prints of the token (`printf %s "$TOKEN" | sha256sum`), so that the file
    /// keeps no token in clear.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or a line is not of that form (a name that is empty or
    /// holds a control character, a digest that is not 64 hexadecimal digits, an access other
    /// than `read` or `write`, a token already named on another line): the error names the
    /// file and the line, and never quotes it.
    pub fn tokens_file(self, path: impl AsRef<std::path::Path>) -> Result<Self, TokensFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| TokensFileError {
            message: format!("cannot read the tokens file {}: {error}", path.display()),
        })?;
        self.add_lines(&text)
            .map_err(|(line, problem)| TokensFileError {
                message: format!("{} line {line}: {problem}", path.display()),
            })
    }

    /// [`Tokens::tokens_file`]'s lines; an error is the line's number and what is wrong with it.
    fn add_lines(mut self, text: &str) -> Result<Self, (usize, String)> {
        const FORM: &str = "expected name:sha256-hex-of-token, or name:sha256-hex-of-token:read";
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split(':');
            let (Some(name), Some(hex)) = (fields.next(), fields.next()) else {
                return Err((number, FORM.to_owned()));
            };
            let writes = match fields.next() {
                None | Some("write") => true,
                Some("read") => false,
                Some(_) => {
                    let problem = format!("{FORM}: the access after the digest is read or write");
                    return Err((number, problem));
                }
            };
            if fields.next().is_some() {
                return Err((number, FORM.to_owned()));
            }
            let (name, hex) = (name.trim(), hex.trim());
            if name.is_empty() || name.chars().any(char::is_control) {
                let problem = format!("{FORM}: the name is empty or holds a control character");
                return Err((number, problem));
            }
            let Some(digest) = digest_from_hex(hex) else {
                let problem = format!(
                    "{FORM}: the digest is {} characters, not 64 hexadecimal digits (what \
                     sha256sum prints of the token)",
                    hex.chars().count()
                );
                return Err((number, problem));
            };
            if let Some(other) = self.tokens.iter().find(|named| named.digest == digest) {
                let problem = format!(
                    "this token is {}'s already: each token names one actor",
                    other.actor
                );
                return Err((number, problem));
            }
            let actor = name.to_owned();
            self.tokens.push(Named {
                digest,
                actor,
                writes,
            });
        }
        Ok(self)
    }

    /// Whether no token is accepted (the admin routes are off).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token `token` is, compared in constant time with every token.
    fn named(&self, token: &[u8]) -> Option<&Named> {
        // Digests, so that tokens of any length compare in the same time (comparing the tokens
        // themselves would end early on a length that differs).
        let presented = digest(token);
        let mut found = None;
        for named in &self.tokens {
            if bool::from(named.digest.ct_eq(&presented)) {
                found = Some(named);
            }
        }
        found
    }

    /// Whether `token` is one of these.
    pub(crate) fn accepts(&self, token: &[u8]) -> bool {
        self.named(token).is_some()
    }
}

/// The actors, never the tokens.
impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actors: Vec<String> = self
            .tokens
            .iter()
            .map(|named| match named.writes {
                true => named.actor.clone(),
                false => format!("{} (read only)", named.actor),
            })
            .collect();
        f.debug_struct("Tokens").field("actors", &actors).finish()
    }
}

impl Authorize for Tokens {
    fn authorize(&self, request: &Parts) -> Result<String, Denied> {
        if self.tokens.is_empty() {
            return Err(Denied::Disabled);
        }
        let named = self.named(bearer(request)?).ok_or(Denied::Invalid)?;
        let reads = matches!(request.method, Method::GET | Method::HEAD);
        if !named.writes && !reads {
            return Err(Denied::ReadOnly);
        }
        Ok(named.actor.clone())
    }
}

/// The 32 bytes that 64 hexadecimal digits (in either case) write; `None` for any other text.
fn digest_from_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(digest)
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
