//! OpenFeature's remote evaluation protocol (OFREP 0.3): one flag or every flag evaluated for a
//! context, for any OpenFeature SDK's OFREP provider.
//!
//! Errors are the protocol's bodies (`{key, errorCode, errorDetails}`), never the admin API's
//! `message`; no input gets a 5xx. A request that cannot be read (and a wrong token) counts
//! against its address, which gets 429 once it failed too often.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flags_core::evaluate::{Evaluation, Unevaluated};
use flags_core::serde_json::Value;
use flags_core::{FeatureFlags, FlagMeta, Snapshot};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_derive::Serialize;
use sha2::{Digest, Sha256};

use crate::Shared;
use crate::auth::{Tokens, presented};
use crate::error::retry_after_seconds;
use crate::limit::{FailureLimit, client_address};

/// The largest body an evaluation request may have.
const BODY_LIMIT: usize = 64 * 1024;
/// The longest flag key: no variable or public name is longer.
const KEY_LIMIT: usize = 256;
/// The most fields a context may have: the flags decide on `targetingKey` alone, and a context
/// with more fields than any real one is a request meant to cost.
const CONTEXT_FIELDS: usize = 1000;

/// What the OFREP routes share beside the flags.
pub(crate) struct Ofrep {
    /// The public flags' positions, by public name.
    public: HashMap<&'static str, usize>,
    /// The public flags' positions and public names, in declaration order: what a bulk
    /// evaluation without a token evaluates, and nothing else.
    public_in_order: Vec<(usize, &'static str)>,
    /// The client tokens: they read every flag but the secrets, by variable, and change nothing.
    readers: Tokens,
    /// Requests that cannot be read, and wrong tokens, per address.
    failures: FailureLimit,
}

impl Ofrep {
    pub(crate) fn new(flags: &'static [FlagMeta], readers: Tokens, failures: FailureLimit) -> Self {
        let public_in_order: Vec<(usize, &'static str)> = flags
            .iter()
            .enumerate()
            .filter(|(_, flag)| !flag.is_secret())
            .filter_map(|(index, flag)| Some((index, flag.public_name()?)))
            .collect();
        Self {
            public: public_in_order
                .iter()
                .map(|&(index, name)| (name, index))
                .collect(),
            public_in_order,
            readers,
            failures,
        }
    }
}

/// Which flags a caller sees, and by which keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum View {
    /// No credentials: the public flags, by public name.
    Public,
    /// A client token (or an admin's): every flag but the secrets, by variable.
    Reader,
}

/// A request the protocol answers with an error.
struct Failure {
    status: StatusCode,
    /// The flag asked for, on the single flag's route.
    key: Option<String>,
    code: &'static str,
    details: String,
    retry_after: Option<Duration>,
}

impl Failure {
    fn bad(code: &'static str, details: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            key: None,
            code,
            details: details.into(),
            retry_after: None,
        }
    }

    fn for_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailureBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    error_code: &'static str,
    error_details: &'a str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = FailureBody {
            key: self.key.as_deref(),
            error_code: self.code,
            error_details: &self.details,
        };
        let mut response = json(self.status, &body);
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds(wait)));
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A JSON response; serializing the protocol's bodies cannot fail (their maps have text keys).
fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The context of an evaluation request: its targeting key, if any.
struct Context {
    targeting_key: Option<String>,
}

/// A request read, and who sent it.
struct Asked {
    view: View,
    context: Context,
}

/// Reads an evaluation request: who sends it (a wrong token is 401), and its context. Every
/// failure but the limit's own counts against the address.
async fn read<S>(shared: &Shared<S>, request: Request) -> Result<Asked, Failure> {
    let (parts, body) = request.into_parts();
    let client = client_address(&parts.extensions);
    let failures = &shared.ofrep.failures;
    if let Some(wait) = failures.blocked(client, Instant::now()) {
        return Err(Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            key: None,
            code: "GENERAL",
            details: String::from(
                "too many requests that could not be read, or with a wrong token, from this address",
            ),
            retry_after: Some(wait),
        });
    }
    let result = match view(shared, &parts) {
        Ok(view) => context_of(&parts.headers, body)
            .await
            .map(|context| Asked { view, context }),
        Err(failure) => Err(failure),
    };
    if result.is_err() {
        failures.record(client, Instant::now());
    }
    result
}

/// Which flags the request's credentials show: none, the public flags; a client token (as a
/// bearer token or `X-API-Key`) or an admin's, every flag but the secrets; any other, 401.
fn view<S>(shared: &Shared<S>, parts: &Parts) -> Result<View, Failure> {
    let Some(token) = presented(parts) else {
        return Ok(View::Public);
    };
    if shared.ofrep.readers.accepts(token) {
        return Ok(View::Reader);
    }
    match shared.authorize.authorize(parts) {
        Ok(_) => Ok(View::Reader),
        Err(_) => Err(Failure {
            status: StatusCode::UNAUTHORIZED,
            key: None,
            code: "GENERAL",
            details: String::from(
                "the token is not a client token or an admin token of this server",
            ),
            retry_after: None,
        }),
    }
}

/// The context of a JSON body `{"context": {...}}`.
async fn context_of(headers: &HeaderMap, body: Body) -> Result<Context, Failure> {
    if !is_json(headers) {
        return Err(Failure::bad(
            "PARSE_ERROR",
            "the body must be JSON, with Content-Type: application/json",
        ));
    }
    // A body declared larger than the limit is refused before it is read: a client that asks
    // first (`Expect: 100-continue`) is never told to send it.
    let too_large = crate::declared_over(headers, BODY_LIMIT);
    let read = match too_large {
        true => Err(()),
        false => axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| ()),
    };
    let bytes: Bytes = read.map_err(|()| {
        Failure::bad(
            "PARSE_ERROR",
            format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
        )
    })?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let parsed = deserializer
        .deserialize_map(RequestVisitor)
        .and_then(|context| deserializer.end().map(|()| context));
    match parsed {
        Ok(Some(context)) => Ok(context),
        Ok(None) => Err(Failure::bad(
            "INVALID_CONTEXT",
            "the body has no context: send {\"context\": {\"targetingKey\": \"...\"}}",
        )),
        Err(error) if error.is_data() => Err(Failure::bad("INVALID_CONTEXT", error.to_string())),
        Err(error) => Err(Failure::bad(
            "PARSE_ERROR",
            format!("the body is not JSON: {error}"),
        )),
    }
}

/// `application/json`, or a JSON type (`application/…+json`), with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let media = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, sub)) = media.split_once('/') else {
        return false;
    };
    let suffix = sub.as_bytes().rsplit(|byte| *byte == b'+').next();
    kind.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.contains('+')
                && suffix.is_some_and(|suffix| suffix.eq_ignore_ascii_case(b"json")))
}

/// The request's object: its `context`, other members ignored.
struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Option<Context>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a context")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut context = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "context" {
                context = Some(map.next_value_seed(ContextSeed)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(context)
    }
}

/// A context: an object whose `targetingKey`, if it has one, is text.
struct ContextSeed;

impl<'de> de::DeserializeSeed<'de> for ContextSeed {
    type Value = Context;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Context, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ContextSeed {
    type Value = Context;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the context to be an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Context, A::Error> {
        let mut targeting_key = None;
        let mut fields = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            fields += 1;
            if fields > CONTEXT_FIELDS {
                return Err(de::Error::custom(format_args!(
                    "the context has more than {CONTEXT_FIELDS} fields"
                )));
            }
            if key == "targetingKey" {
                match map.next_value::<Value>()? {
                    Value::String(key) => targeting_key = Some(key),
                    other => {
                        return Err(de::Error::custom(format_args!(
                            "the context's targetingKey must be a string, not {}",
                            kind(&other)
                        )));
                    }
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Context { targeting_key })
    }
}

/// What a JSON value is, for an error.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One flag evaluated, as the protocol answers it; without `value` when the flag has none, so
/// that the caller's default applies.
struct Success<'a> {
    key: &'a str,
    value: Value,
    reason: &'static str,
    /// A [`Variants`](flags_core::Variants) flag's arm.
    variant: Option<String>,
    metadata: Metadata,
}

/// A flag's metadata: the flags' version, and the flag's status if it has one.
#[derive(Serialize)]
struct Metadata {
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl<'a> Success<'a> {
    fn new(key: &'a str, evaluation: Evaluation, version: u64) -> Self {
        Self {
            key,
            metadata: Metadata {
                version,
                status: evaluation.flag.status(),
            },
            variant: evaluation.variant,
            value: evaluation.value,
            reason: evaluation.reason.as_str(),
        }
    }
}

/// `{key, value, reason, variant, metadata}`. The `variant` is a [`Variants`](flags_core::Variants)
/// flag's arm; `on` or `off` for a boolean; the text of a string or a number; `default` when there
/// is no value (the caller's default applies); `value` for an object. OFREP makes it optional,
/// but clients read it (the Python provider fails an answer without one), and it names the value
/// in their telemetry. It is written from the value, without a copy of it.
impl serde::Serialize for Success<'_> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeStruct;

        let mut answer = serializer.serialize_struct("Success", 5)?;
        answer.serialize_field("key", self.key)?;
        match self.value.is_null() {
            true => answer.skip_field("value")?,
            false => answer.serialize_field("value", &self.value)?,
        }
        answer.serialize_field("reason", self.reason)?;
        match (&self.variant, &self.value) {
            (Some(variant), _) => answer.serialize_field("variant", variant)?,
            (None, Value::Bool(true)) => answer.serialize_field("variant", "on")?,
            (None, Value::Bool(false)) => answer.serialize_field("variant", "off")?,
            (None, Value::String(text)) => answer.serialize_field("variant", text)?,
            (None, Value::Number(number)) => answer.serialize_field("variant", &Text(number))?,
            (None, Value::Null) => answer.serialize_field("variant", "default")?,
            (None, Value::Array(_) | Value::Object(_)) => {
                answer.serialize_field("variant", "value")?;
            }
        }
        answer.serialize_field("metadata", &self.metadata)?;
        answer.end()
    }
}

/// A value serialized as its text.
struct Text<'a, T>(&'a T);

impl<T: std::fmt::Display> serde::Serialize for Text<'_, T> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_str(self.0)
    }
}

/// Evaluate one flag (OFREP)
///
/// OpenFeature's remote evaluation of one flag for a context,
/// `{"context": {"targetingKey": "alice"}}`. Without a token the key is a public flag's public
/// name; with a client token (bearer or `X-API-Key`) or an admin's, any flag's variable but a
/// secret's.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags/{key}",
    operation_id = "ofrep_evaluate_flag",
    tag = "openfeature",
    params(("key" = String, Path, description = "The flag: its public name, or with a token its variable")),
    request_body(
        content = Object, content_type = "application/json",
        description = "`{\"context\": {\"targetingKey\": \"...\", ...}}`: the targeting key decides \
            rollouts and variants; other fields are read and not used",
    ),
    responses(
        (status = 200, description = "`{key, value, reason, variant, metadata: {version, status}}`; \
            without `value` when the flag has none (the caller's default applies)", body = Object),
        (status = 400, description = "`{key, errorCode, errorDetails}`: PARSE_ERROR, \
            INVALID_CONTEXT, TARGETING_KEY_MISSING or GENERAL", body = Object),
        (status = 401, description = "A token that is neither a client's nor an admin's", body = Object),
        (status = 404, description = "`{key, errorCode: FLAG_NOT_FOUND, errorDetails}`: no such \
            flag in the caller's view, or a secret", body = Object),
        (status = 429, description = "Too many bad requests from this address",
            headers(("Retry-After" = u64, description = "Seconds until the address may ask again"))),
    ),
))]
pub(crate) async fn evaluate<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    Path(key): Path<String>,
    request: Request,
) -> Response {
    match evaluate_one(&shared, &key, request).await {
        Ok(response) => response,
        Err(failure) => failure.for_key(&key).into_response(),
    }
}

async fn evaluate_one<S: FeatureFlags + Send + Sync + 'static>(
    shared: &Shared<S>,
    key: &str,
    request: Request,
) -> Result<Response, Failure> {
    let client = client_address(request.extensions());
    let asked = read(shared, request).await?;
    if key.len() > KEY_LIMIT {
        shared.ofrep.failures.record(client, Instant::now());
        return Err(Failure::bad(
            "GENERAL",
            format!(
                "the flag key is {} bytes long; keys are at most {KEY_LIMIT}",
                key.len()
            ),
        ));
    }
    let snapshot = shared.flags.get();
    let user = asked.context.targeting_key.as_deref();
    let evaluated = match asked.view {
        View::Public => match shared.ofrep.public.get(key) {
            Some(&index) => snapshot.evaluate_at(index, user),
            None => Err(Unevaluated::NotFound),
        },
        View::Reader => snapshot.evaluate(key, user),
    };
    match evaluated {
        Ok(evaluation) => {
            let success = Success::new(key, evaluation, snapshot.version());
            let mut response = json(StatusCode::OK, &success);
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(Unevaluated::TargetingKeyMissing) => {
            shared.ofrep.failures.record(client, Instant::now());
            Err(Failure::bad(
                "TARGETING_KEY_MISSING",
                format!("{key} decides per user: the context needs a targetingKey"),
            ))
        }
        Err(_) => Err(Failure {
            status: StatusCode::NOT_FOUND,
            key: None,
            code: "FLAG_NOT_FOUND",
            details: format!("no flag {key}"),
            retry_after: None,
        }),
    }
}

#[derive(Serialize)]
struct BulkMetadata {
    version: u64,
}

/// Where the stream of the flags' versions is ([`crate::events`]).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventStream {
    r#type: &'static str,
    endpoint: Endpoint,
    inactivity_delay_sec: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    request_uri: Cow<'static, str>,
}

/// Evaluate every flag (OFREP)
///
/// OpenFeature's remote bulk evaluation: every flag the caller may see (the public flags
/// without a token; every flag but the secrets with a client or admin token), for a context.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags",
    operation_id = "ofrep_evaluate_flags",
    tag = "openfeature",
    params(
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an earlier answer: 304 while it still holds"),
        ("flagConfigEtag" = Option<String>, Query, description = "The tag an event named, when the event caused this request"),
        ("flagConfigLastModified" = Option<String>, Query, description = "Unix seconds or an RFC 3339 time an event named"),
    ),
    request_body(
        content = Object, content_type = "application/json",
        description = "`{\"context\": {\"targetingKey\": \"...\", ...}}`",
    ),
    responses(
        (status = 200, description = "`{flags: [...], metadata: {version}, eventStreams}`: each \
            flag an evaluation, or `{key, errorCode: TARGETING_KEY_MISSING}` for one that splits \
            users when the context has no key", body = Object,
            headers(("ETag" = String, description = "The flags' version, and what of the caller decides what it sees (its view, its targeting key)"))),
        (status = 304, description = "Nothing the caller sees changed since the `If-None-Match` tag"),
        (status = 400, description = "`{errorCode, errorDetails}`", body = Object),
        (status = 401, description = "A token that is neither a client's nor an admin's", body = Object),
        (status = 429, description = "Too many bad requests from this address",
            headers(("Retry-After" = u64, description = "Seconds until the address may ask again"))),
    ),
))]
pub(crate) async fn evaluate_all<S: FeatureFlags + Send + Sync + 'static>(
    State(shared): State<Arc<Shared<S>>>,
    request: Request,
) -> Response {
    let events = events_uri(&request);
    let if_none_match = request.headers().get(IF_NONE_MATCH).cloned();
    if let Err(failure) = event_metadata(request.uri().query()) {
        let client = client_address(request.extensions());
        shared.ofrep.failures.record(client, Instant::now());
        return failure.into_response();
    }
    let asked = match read(&shared, request).await {
        Ok(asked) => asked,
        Err(failure) => return failure.into_response(),
    };
    let snapshot = shared.flags.get();
    let user = asked.context.targeting_key.as_deref();
    let etag = bulk_tag(&snapshot, asked.view, user);
    if if_none_match.is_some_and(|listed| lists(&listed, &etag)) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        let headers = response.headers_mut();
        headers.insert(ETAG, etag);
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        return response;
    }
    let version = snapshot.version();
    // Written as each flag is evaluated: `{"flags": [...], "metadata": ..., "eventStreams": ...}`.
    // Serializing these types into a `Vec` cannot fail (their maps have text keys).
    let mut body = Vec::with_capacity(128 * S::FLAGS.len() + 256);
    body.extend_from_slice(b"{\"flags\":[");
    let mut first = true;
    let mut write = |key: &str, result: Result<Evaluation, Unevaluated>| {
        if !std::mem::take(&mut first) {
            body.push(b',');
        }
        let _ = match result {
            Ok(evaluation) => {
                serde_json::to_writer(&mut body, &Success::new(key, evaluation, version))
            }
            Err(_) => serde_json::to_writer(
                &mut body,
                &FailureBody {
                    key: Some(key),
                    error_code: "TARGETING_KEY_MISSING",
                    error_details: "this flag decides per user: the context needs a targetingKey",
                },
            ),
        };
    };
    match asked.view {
        // The public flags alone: the others are not evaluated only to be left out.
        View::Public => {
            for &(index, name) in &shared.ofrep.public_in_order {
                write(name, snapshot.evaluate_at(index, user));
            }
        }
        View::Reader => snapshot.evaluate_all(user, |flag, result| write(flag.env(), result)),
    }
    body.extend_from_slice(b"],\"metadata\":");
    let _ = serde_json::to_writer(&mut body, &BulkMetadata { version });
    body.extend_from_slice(b",\"eventStreams\":");
    let streams = [EventStream {
        r#type: "sse",
        endpoint: Endpoint {
            request_uri: events,
        },
        inactivity_delay_sec: 120,
    }];
    let _ = serde_json::to_writer(&mut body, &streams);
    body.push(b'}');
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(ETAG, etag);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    response
}

/// Checks the metadata an event names for the fetch it makes (OFREP's `flagConfigEtag` and
/// `flagConfigLastModified`): the answer does not depend on them (the flags are read as they
/// are now), but a `flagConfigLastModified` that is neither Unix seconds nor an RFC 3339 time
/// is a request that cannot be read.
fn event_metadata(query: Option<&str>) -> Result<(), Failure> {
    let pairs = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='));
    for (name, value) in pairs {
        if name != "flagConfigLastModified" {
            continue;
        }
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        let seconds = !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit());
        let rfc3339 =
            time::OffsetDateTime::parse(&value, &time::format_description::well_known::Rfc3339)
                .is_ok();
        if !seconds && !rfc3339 {
            return Err(Failure::bad(
                "PARSE_ERROR",
                "flagConfigLastModified must be Unix seconds or an RFC 3339 time",
            ));
        }
    }
    Ok(())
}

/// The path of the event stream, beside this route wherever the application nested it.
fn events_uri(request: &Request) -> Cow<'static, str> {
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.path());
    match path.strip_suffix(BULK_PATH) {
        None | Some("") => Cow::Borrowed(crate::events::PATH),
        Some(prefix) => Cow::Owned(format!("{prefix}{}", crate::events::PATH)),
    }
}

/// The bulk evaluation's path.
pub(crate) const BULK_PATH: &str = "/ofrep/v1/evaluate/flags";

/// The bulk answer's tag: the flags' version and revision, and what of the caller decides what
/// it sees (its view, its targeting key), so that it changes when either does.
fn bulk_tag<S>(snapshot: &Snapshot<S>, view: View, user: Option<&str>) -> HeaderValue {
    let mut hash = Sha256::new();
    hash.update([view as u8, u8::from(user.is_some())]);
    hash.update(user.unwrap_or_default().as_bytes());
    let digest = hash.finalize();
    let mut text = String::with_capacity(64);
    let _ = write!(text, "\"{}-{:x}-", snapshot.version(), snapshot.revision());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in &digest[..8] {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text.push('"');
    HeaderValue::from_str(&text).expect("digits, letters and quotes are a header value")
}

/// Whether an `If-None-Match` lists `etag` (weakly compared) or `*`.
fn lists(listed: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(listed) = listed.to_str() else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    listed.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag == etag
    })
}
