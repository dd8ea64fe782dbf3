//! Unleash's client API over HTTP, as its SDKs call it: the features (with `If-None-Match`), the
//! registration of the client, and its usage metrics.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};

/// What the client sends each request with, and where.
pub(crate) struct Client {
    http: reqwest::Client,
    features: Url,
    register: Url,
    metrics: Url,
    max_body: usize,
}

/// What a read of the features found.
pub(crate) enum Fetched {
    /// Nothing changed since the features of the tag sent (304).
    NotModified,
    /// The features, with their tag.
    Features { body: Vec<u8>, etag: Option<String> },
}

/// Why the features could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// Unleash refused the API key (401 or 403).
    Refused(StatusCode),
    /// Any other failure, in one line.
    Failed(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Refused(status) => write!(
                f,
                "Unleash refused the API key (UNLEASH_API_KEY) with {status}: it takes a client \
                 (backend) token of the environment to follow, as `project:environment.secret`"
            ),
            FetchError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl Client {
    /// A client of the API at `api` (`http://host:4242/api`) for the application `app_name`,
    /// instance `instance_id`, with the key `api_key`; a response over `max_body` bytes is
    /// refused. The key is checked already (printable, no spaces).
    pub(crate) fn new(
        api: &Url,
        api_key: &str,
        app_name: &str,
        instance_id: &str,
        max_body: usize,
    ) -> Result<Client, String> {
        let header = |name: &str, value: &str| {
            HeaderValue::from_str(value)
                .map_err(|_| format!("{name} cannot be sent as an HTTP header"))
        };
        let mut key = header("UNLEASH_API_KEY", api_key)?;
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, key);
        headers.insert("unleash-appname", header("the app name", app_name)?);
        headers.insert(
            "unleash-instanceid",
            header("the instance id", instance_id)?,
        );
        let sdk = concat!("flags-unleash:", env!("CARGO_PKG_VERSION"));
        headers.insert("unleash-sdk", HeaderValue::from_static(sdk));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(sdk)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| format!("cannot make an HTTP client: {error}"))?;
        let join = |path: &str| {
            let base = api.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}/{path}"))
                .map_err(|error| format!("UNLEASH_URL cannot take /{path}: {error}"))
        };
        Ok(Client {
            http,
            features: join("client/features")?,
            register: join("client/register")?,
            metrics: join("client/metrics")?,
            max_body,
        })
    }

    /// The features, unless they are still those of `etag`.
    pub(crate) async fn fetch(&self, etag: Option<&str>) -> Result<Fetched, FetchError> {
        let mut request = self.http.get(self.features.clone());
        if let Some(etag) = etag.and_then(|etag| HeaderValue::from_str(etag).ok()) {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request
            .send()
            .await
            .map_err(|error| FetchError::Failed(describe(&self.features, &error)))?;
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(Fetched::NotModified),
            StatusCode::OK => {}
            status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                return Err(FetchError::Refused(status));
            }
            status => {
                return Err(FetchError::Failed(format!(
                    "Unleash answered {status} to GET {}",
                    self.features
                )));
            }
        }
        let too_large = || {
            FetchError::Failed(format!(
                "the features Unleash sent are over {} bytes, so they are refused unread \
                 (a limit the source's max_response_bytes sets)",
                self.max_body
            ))
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large());
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|etag| etag.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| FetchError::Failed(describe(&self.features, &error)))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Features { body, etag })
    }

    /// Registers the client, as Unleash's SDKs do when they start: what it is, and the
    /// strategies it knows.
    pub(crate) async fn register(&self, body: &serde_json::Value) -> Result<(), String> {
        self.post(&self.register, body).await
    }

    /// Sends one bucket of usage metrics.
    pub(crate) async fn send_metrics(&self, body: &serde_json::Value) -> Result<(), String> {
        self.post(&self.metrics, body).await
    }

    async fn post(&self, url: &Url, body: &serde_json::Value) -> Result<(), String> {
        let body = serde_json::to_vec(body).map_err(|error| error.to_string())?;
        let response = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| describe(url, &error))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("Unleash answered {status} to POST {url}")),
        }
    }
}

/// A request's failure in one line, with what it failed to reach.
fn describe(url: &Url, error: &reqwest::Error) -> String {
    let mut reason = format!("cannot reach Unleash at {url}");
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        reason.push_str(": ");
        reason.push_str(&error.to_string());
        source = error.source();
    }
    reason
}
