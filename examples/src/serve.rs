//! `rose serve`: the seed application's HTTP surface on live flags. flags-http's routes (the public
//! flags, health, the admin API), and what the application's own flags switch on, each read again
//! for every request so that a change through the admin API takes effect on the next one:
//! security headers (`ENABLE_SECURITY_HEADERS`), the API's docs (`ENABLE_API_DOCS`) and a rate
//! limit on the public routes (`RATE_LIMIT_ENABLED`). Metrics in Prometheus text at `/metrics`.

mod connections;
mod docs;
mod error;
mod headers;
mod limit;
mod prometheus;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Router, middleware};
use flags_core::live::{FileStore, Live};
use flags_core::secrecy::{ExposeSecret, SecretString};
use flags_core::{FlagValue, Snapshot};
use flags_examples::{DatabaseType, Settings};
use flags_http::Tokens;
use flags_launchdarkly::LaunchDarkly;
use flags_postgres::{Following, PostgresStore};
use flags_unleash::Unleash;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The live flags, which every part of the server reads.
type Flags = Arc<Live<Settings>>;

/// The actor the audit names for a change made with `ADMIN_TOKEN`.
const ADMIN: &str = "admin";

/// The options of `rose serve`.
#[derive(clap::Args)]
pub(crate) struct Options {
    /// The address to listen on; with port 0, any free port. Once listening, prints `listening
    /// on http://ADDRESS` on stdout
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Keep the changes made through the admin API in FILE (JSON), so that they survive a restart.
    /// With FEATURE_DATABASE_TYPE=postgresql and DATABASE_URL, the changes are kept in the
    /// database, shared by every instance, and FILE keeps the last of them read, to start from
    /// when the database cannot be reached
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Keep the audit of changes in FILE (JSON lines), so that it survives a restart as --store's
    /// changes do; by default, beside --store's file (flags.json: flags.audit.jsonl). With the
    /// flags kept in PostgreSQL, the audit is kept in the database instead
    #[arg(long, value_name = "FILE", requires = "store")]
    audit: Option<PathBuf>,
    /// With the flags kept in PostgreSQL, refuse to start when the database cannot be used,
    /// rather than start from --store's copy (or the environment alone) and connect later
    #[arg(long)]
    require_database: bool,
    /// Requests one client address may make to the public routes per minute while
    /// RATE_LIMIT_ENABLED is on
    #[arg(long, value_name = "N", default_value_t = limit::DEFAULT_PER_MINUTE)]
    rate_limit_per_minute: NonZeroU32,
    /// OFREP requests that cannot be read (or carry a wrong token) one client address may make
    /// per minute before it gets 429 on the OFREP routes for the rest of the minute
    #[arg(long, value_name = "N", default_value_t = 100)]
    ofrep_bad_requests_per_minute: u32,
    /// Let pages served from ORIGIN (`https://app.example.com`) read the flags: the public flags,
    /// OFREP and the event stream answer its cross-origin requests (without cookies). Repeat for
    /// each origin
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = cors_origin)]
    cors_origins: Vec<HeaderValue>,
    /// The most connections open at once; past it, a new connection takes the place of the one
    /// that has waited longest without a request under way. By default, the process's limit on
    /// open files less 128 (for the store, the database and the logs)
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// How long a request's head may take to arrive (`10s`): a connection that sends it slower,
    /// or sits idle that long between requests, is closed
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    header_timeout: std::time::Duration,
    /// With UNLEASH_URL and UNLEASH_API_KEY, keep the last toggles read from Unleash in FILE,
    /// and start from it when Unleash cannot be reached
    #[arg(long, value_name = "FILE")]
    unleash_backup: Option<PathBuf>,
}

/// An origin as a header value: a scheme and a host, without a path. clap's error names the
/// option and the value; this says what an origin is.
fn cors_origin(text: &str) -> Result<HeaderValue, String> {
    const EXPECTED: &str = "expected an origin such as https://app.example.com: http or https, \
        `://` and a host (with a port if any), without a path";
    let host = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match host {
        Some(host)
            if !host.is_empty() && !host.contains(|c: char| c == '/' || c.is_whitespace()) =>
        {
            HeaderValue::from_str(text).map_err(|_| EXPECTED.to_owned())
        }
        _ => Err(EXPECTED.to_owned()),
    }
}

/// Loads the flags, sets logging up from them, and serves until SIGTERM or Ctrl-C.
pub(crate) fn run(options: Options) -> ExitCode {
    // Before the flags load, which sets their gauges.
    let metrics = match prometheus::install() {
        Ok(metrics) => metrics,
        Err(error) => {
            eprintln!("cannot record metrics: {error}");
            return ExitCode::FAILURE;
        }
    };
    // A first load says how to log, and where the live flags are kept.
    let first = match crate::sources().snapshot::<Settings>() {
        Ok(first) => first,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // The live load logs its warnings, now that logging is set up.
    let level = crate::start_logging(first.log_level, &[]);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the server's runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let loading = load(
        &first,
        options.store,
        options.audit,
        options.require_database,
    );
    let (flags, shared) = match runtime.block_on(loading) {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let admin = {
        let loaded = flags.get();
        // The level the live flags say: a store may keep one set by an earlier change.
        level.set(loaded.log_level);
        loaded.log_state();
        let clients = client_tokens(loaded.client_token.as_ref());
        let admins = admin_tokens(
            loaded.admin_token.as_ref(),
            loaded.admin_tokens_file.as_deref(),
        );
        match admins {
            Ok(admins) => (admins, clients),
            Err(error) => {
                tracing::error!("ADMIN_TOKENS_FILE: {error}");
                return ExitCode::FAILURE;
            }
        }
    };
    // LOG_LEVEL changes live: each new version sets the level it says, for as long as this lives.
    let _level = flags.subscribe(move |flags| level.set(flags.log_level));
    // Other instances' changes, for as long as the server runs (after the subscription, which
    // must see them too).
    let _following: Option<Following> = shared.map(|store| store.follow(&flags));
    // The flag service, for as long as the server runs: Unleash's toggles with UNLEASH_URL and
    // UNLEASH_API_KEY, or LaunchDarkly's flags with LAUNCHDARKLY_SDK_KEY.
    let _service = match runtime.block_on(follow_service(&flags, options.unleash_backup)) {
        Ok(service) => service,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };

    let limit = Arc::new(limit::PublicLimit::new(
        Arc::clone(&flags),
        options.rate_limit_per_minute,
    ));
    let docs = match docs::Docs::new(Arc::clone(&flags)) {
        Ok(docs) => Arc::new(docs),
        Err(error) => {
            tracing::error!("cannot render the API's documentation: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bad_requests = options.ofrep_bad_requests_per_minute;
    let app = app(
        &flags,
        admin,
        bad_requests,
        Arc::clone(&limit),
        metrics.clone(),
        docs,
    );
    let app = match options.cors_origins.is_empty() {
        true => app,
        false => app.layer(cors(options.cors_origins)),
    };
    let connections = connections::Limits {
        connections: options
            .max_connections
            .unwrap_or_else(connections::by_default),
        header_timeout: options.header_timeout,
    };
    let served = runtime.block_on(serve(options.addr, app, connections, limit, metrics));
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// The live flags, from the sources `show` reads, with the overrides kept where the seed's own
/// flags say: in PostgreSQL, shared with every instance, with `FEATURE_DATABASE_TYPE=postgresql`
/// and `DATABASE_URL` (`--store FILE` then keeps the cache to start from without the database);
/// else in `--store FILE`, if given. The PostgreSQL store comes back too, for the server to
/// follow; its driver runs on the server's runtime, until the store is dropped.
async fn load(
    first: &Snapshot<Settings>,
    store: Option<PathBuf>,
    audit: Option<PathBuf>,
    require_database: bool,
) -> Result<(Flags, Option<PostgresStore>), String> {
    let builder = Live::<Settings>::builder();
    let shared = match (first.database_type, &first.database_url) {
        (DatabaseType::Postgresql, Some(url)) => {
            let shared = PostgresStore::builder(url.expose_secret(), "rose");
            let shared = match &store {
                Some(cache) => shared.cache(cache),
                None => shared,
            };
            let shared = match require_database {
                true => shared.require_database(),
                false => shared,
            };
            let (shared, driver) = shared
                .connect()
                .await
                .map_err(|error| format!("DATABASE_URL: {error}"))?;
            tokio::spawn(driver);
            tracing::info!("the live flags are kept in PostgreSQL, as application rose");
            Some(shared)
        }
        (database_type, _) if require_database => {
            let unset = match database_type {
                DatabaseType::Postgresql => String::from("DATABASE_URL is not set"),
                other => format!("FEATURE_DATABASE_TYPE is {}", other.to_env()),
            };
            return Err(format!(
                "--require-database: the flags are kept in PostgreSQL only with \
                 FEATURE_DATABASE_TYPE=postgresql and DATABASE_URL set, and {unset}"
            ));
        }
        _ => None,
    };
    let builder = match (&shared, store) {
        (Some(shared), _) => builder.store(shared.clone()),
        (None, Some(path)) => {
            let audit = audit.unwrap_or_else(|| path.with_extension("audit.jsonl"));
            let store = FileStore::new(path)
                .with_audit(&audit)
                .map_err(|error| format!("--audit {}: {error}", audit.display()))?;
            tracing::info!("the audit is kept in {}", audit.display());
            builder.store(store)
        }
        (None, None) => builder,
    };
    let flags = builder
        .load(crate::sources())
        .map_err(|error| error.to_string())?;
    Ok((Arc::new(flags), shared))
}

/// Follows the flag service the settings name: Unleash, LaunchDarkly, or none; the handle of the
/// one followed comes back, to hold for as long as the server runs. Both named is an error: a
/// flag is managed by one service.
async fn follow_service(
    flags: &Flags,
    backup: Option<PathBuf>,
) -> Result<(Option<Unleash>, Option<LaunchDarkly>), String> {
    let (unleash, launchdarkly) = {
        let loaded = flags.get();
        (
            loaded.unleash_url.is_some(),
            loaded.launchdarkly_sdk_key.is_some(),
        )
    };
    match (unleash, launchdarkly) {
        (true, true) => Err(String::from(
            "UNLEASH_URL and LAUNCHDARKLY_SDK_KEY are both set: rose serve follows one flag \
             service, which manages every live flag; unset one of them",
        )),
        (true, false) => Ok((follow_unleash(flags, backup).await?, None)),
        (false, true) => Ok((None, follow_launchdarkly(flags).await?)),
        (false, false) => Ok((None, None)),
    }
}

/// Follows LaunchDarkly with LAUNCHDARKLY_SDK_KEY (the seed's name), the application's context
/// being of kind `service` and key `rose-healer`, through the relay proxy or the service
/// endpoints the settings name; its driver runs on the server's runtime until the handle
/// returned is dropped. `None` without LAUNCHDARKLY_SDK_KEY.
async fn follow_launchdarkly(flags: &Flags) -> Result<Option<LaunchDarkly>, String> {
    let builder = {
        let loaded = flags.get();
        let Some(key) = &loaded.launchdarkly_sdk_key else {
            return Ok(None);
        };
        let builder = LaunchDarkly::builder(key.expose_secret())
            .app_name("rose-healer")
            .offline(loaded.launchdarkly_offline)
            .send_events(loaded.launchdarkly_send_events);
        let relay = &loaded.launchdarkly_relay_proxy_url;
        let endpoints = (
            &loaded.launchdarkly_stream_url,
            &loaded.launchdarkly_polling_url,
            &loaded.launchdarkly_events_url,
        );
        match (relay, endpoints) {
            (Some(_), (Some(_), _, _)) => {
                return Err(String::from(
                    "LAUNCHDARKLY_RELAY_PROXY_URL and LAUNCHDARKLY_STREAM_URL are both set: the \
                     SDK connects through a relay proxy or to its own service endpoints; unset \
                     one of them",
                ));
            }
            (Some(relay), _) => builder.relay_proxy(relay),
            (None, (Some(stream), Some(polling), Some(events))) => {
                builder.service_endpoints(stream, polling, events)
            }
            // The flags' `requires` see to it that the three come together.
            (None, _) => builder,
        }
    };
    let (launchdarkly, driver) = builder
        .start(flags)
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(driver);
    tracing::info!("the live flags follow LaunchDarkly, as application rose-healer");
    Ok(Some(launchdarkly))
}

/// Follows Unleash with UNLEASH_URL and UNLEASH_API_KEY (the seed's names), as application
/// `rose-healer`, reading its toggles every UNLEASH_REFRESH_INTERVAL; its driver runs on the
/// server's runtime until the handle returned is dropped. `None` without UNLEASH_URL.
async fn follow_unleash(flags: &Flags, backup: Option<PathBuf>) -> Result<Option<Unleash>, String> {
    let (url, key, every) = {
        let loaded = flags.get();
        let (Some(url), Some(key)) = (&loaded.unleash_url, &loaded.unleash_api_key) else {
            return Ok(None);
        };
        let key = key.expose_secret().to_owned();
        (url.clone(), key, loaded.unleash_refresh_interval)
    };
    let builder = Unleash::builder(&url, key)
        .app_name("rose-healer")
        .refresh_interval(every);
    let builder = match backup {
        Some(path) => builder.backup_file(path),
        None => builder,
    };
    let (unleash, driver) = builder
        .start(flags)
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(driver);
    tracing::info!(
        "the live flags follow Unleash at {url} as application rose-healer, read every {}",
        flags_core::FlagValue::to_env(&every)
    );
    Ok(Some(unleash))
}

/// The admin API's credentials: the tokens `ADMIN_TOKENS_FILE` names, and `ADMIN_TOKEN` as
/// actor `admin`; without either, the admin API refuses everything.
fn admin_tokens(
    token: Option<&SecretString>,
    file: Option<&std::path::Path>,
) -> Result<Tokens, flags_http::TokensFileError> {
    let mut tokens = Tokens::new();
    if let Some(file) = file {
        tokens = tokens.tokens_file(file)?;
        tracing::info!("the admin API takes the tokens of {}", file.display());
    }
    if let Some(token) = token {
        tracing::info!("the admin API takes ADMIN_TOKEN, as actor {ADMIN}");
        tokens = tokens.token(token.clone(), ADMIN);
    }
    if tokens.is_empty() {
        tracing::warn!(
            "neither ADMIN_TOKEN nor ADMIN_TOKENS_FILE gives a token: the admin API is disabled"
        );
    }
    Ok(tokens)
}

/// `CLIENT_TOKEN` as the one client token of the OFREP routes: with it, a service reads every
/// flag but the secrets; without it, the public flags alone.
fn client_tokens(token: Option<&SecretString>) -> Tokens {
    match token {
        Some(token) => Tokens::new().token(token.clone(), "client"),
        None => Tokens::new(),
    }
}

/// Cross-origin reads from `origins`: what a front end's OFREP provider sends (JSON, its
/// conditional header, a client token), and the tags it reads back.
fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_NONE_MATCH,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Every route, under the layers every response goes through.
fn app(
    flags: &Flags,
    (admin, clients): (Tokens, Tokens),
    bad_requests_per_minute: u32,
    limit: Arc<limit::PublicLimit>,
    metrics: PrometheusHandle,
    docs: Arc<docs::Docs>,
) -> Router {
    // The metrics name every flag's value, public or not: for the admin's token alone, under
    // the admin API's limit on wrong tokens.
    let environment = flags.get().environment.clone();
    let api = flags_http::Api::new(Arc::clone(flags), admin)
        .deployment("rose", environment, connections::host_name())
        .client_tokens(clients)
        .bad_request_limit(bad_requests_per_minute, Duration::from_secs(60))
        .admin_route("/metrics", prometheus::route(metrics))
        .router();
    let own = docs::router(docs).method_not_allowed_fallback(error::method_not_allowed);
    own.merge(api)
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            Arc::new(Around {
                limit,
                flags: Arc::clone(flags),
            }),
            around,
        ))
}

/// What every request goes through, in one middleware (one boxed future a request, where a
/// layer each took three).
struct Around {
    limit: Arc<limit::PublicLimit>,
    flags: Flags,
}

/// The public routes' rate limit, then the handler; every answer, a refusal included, counted
/// and given the security headers.
async fn around(State(around): State<Arc<Around>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = match limit::refusal(&around.limit, &request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    };
    prometheus::count(&method, route.as_ref(), response.status());
    headers::add(&around.flags, &mut response);
    response
}

/// Listens on `address` and serves `app` until a signal to stop, and the requests under way
/// have been answered.
async fn serve(
    address: SocketAddr,
    app: Router,
    connections: connections::Limits,
    limit: Arc<limit::PublicLimit>,
    metrics: PrometheusHandle,
) -> io::Result<()> {
    let listener = TcpListener::bind(address).await.map_err(|error| {
        io::Error::new(error.kind(), format!("cannot listen on {address}: {error}"))
    })?;
    let address = listener.local_addr()?;
    let stop = StopSignals::listen()?;
    // On stdout, in this form, for whoever started the server on port 0 to find the port.
    println!("listening on http://{address}");
    io::stdout().flush()?;
    tracing::info!("listening on http://{address}");

    tracing::info!(
        "at most {} connections at once, each request head within {}",
        connections.connections,
        humantime::format_duration(connections.header_timeout)
    );
    let housekeeping = Housekeeping::start(limit, metrics);
    let served = connections::serve(listener, app, connections, stop.received()).await;
    housekeeping.stop().await;
    served
}

/// SIGTERM and SIGINT (Ctrl-C), listened for from before the server says where it listens: a
/// signal from whoever read that line always stops it gracefully, never kills it.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl StopSignals {
    fn listen() -> io::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves on the first of them.
    async fn received(mut self) {
        let signal = tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        };
        tracing::info!("{signal}: stopping once the requests under way are answered");
    }
}

/// The server's periodic work, which it stops when it stops: forgetting the addresses whose quota
/// is whole again (so that the limiter's map holds only recent clients), and the metrics
/// recorder's upkeep.
struct Housekeeping {
    task: JoinHandle<()>,
}

impl Housekeeping {
    /// How often the work is done.
    const PERIOD: Duration = Duration::from_secs(60);

    fn start(limit: Arc<limit::PublicLimit>, metrics: PrometheusHandle) -> Self {
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Self::PERIOD);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                limit.forget_idle_clients();
                metrics.run_upkeep();
            }
        });
        Self { task }
    }

    async fn stop(self) {
        self.task.abort();
        // The task only ever ends by being aborted: its result says nothing.
        let _ = self.task.await;
    }
}
