//! A throwaway PostgreSQL cluster for tests: its own data directory, socket directory and loopback
//! port in a temporary directory, started by the test and stopped when dropped.
//!
//! The server programs come from PostgreSQL itself (`initdb`, `pg_ctl`): found on `PATH`, else in
//! the newest `/usr/lib/postgresql/*/bin`, where Debian's `postgresql` package puts them. Without
//! them, [`Cluster::start`] panics, and [`Cluster::start_if_installed`], which tests use, fails
//! under CI and elsewhere prints a notice and returns `None` (see [`crate::missing`]).
//!
//! ```no_run
//! let Some(cluster) = flags_tests::postgres::Cluster::start_if_installed() else {
//!     return; // PostgreSQL is not installed here, and this is not CI: a notice said so.
//! };
//! // tokio_postgres::connect(&cluster.url(), NoTls)…
//! cluster.stop(); // the database goes away mid-test…
//! cluster.start_again(); // …and comes back, same port, same data.
//! ```

use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The cluster's superuser, which every connection uses (`--auth=trust`: no password).
pub const SUPERUSER: &str = "flags";

/// The operating system user that runs the server when the tests run as root, which `initdb` and
/// `pg_ctl` refuse to be.
const SERVER_USER: &str = "postgres";

/// Where Debian installs each major version's server programs, one directory per version.
const DEBIAN_VERSIONS: &str = "/usr/lib/postgresql";

/// How long `pg_ctl` waits for the server to start or stop (its `-t`).
const PG_CTL_WAIT: Duration = Duration::from_secs(30);

/// How long any program the harness runs may take before it is killed: `pg_ctl`'s own wait and
/// some room, or `initdb`'s work.
const PROGRAM_LIMIT: Duration = Duration::from_secs(60);

/// How long dropping a cluster waits for the server to stop before killing it.
const DROP_WAIT: Duration = Duration::from_secs(10);

/// How often a wait for a process looks again.
const POLL: Duration = Duration::from_millis(20);

/// How many ports a start tries: the free port chosen may be taken by another process before the
/// server binds it.
const START_ATTEMPTS: u32 = 5;

/// A PostgreSQL server of its own for one test, on `127.0.0.1` and a port no other cluster uses.
///
/// Dropping it stops the server (immediately: nothing it holds is meant to last) and removes its
/// directory. Clusters share nothing, so tests that run in parallel may each start one.
pub struct Cluster {
    /// The data directory, the socket directory and the server's log; removed after the server is
    /// stopped, when the cluster is dropped.
    directory: TempDir,
    programs: Programs,
    /// The user and group ids the server programs run as, when the tests run as root.
    server_user: Option<UserIds>,
    /// Zero until the server first started.
    port: u16,
}

impl Cluster {
    /// Creates a cluster with `initdb` and starts its server on a free loopback port.
    ///
    /// # Panics
    ///
    /// When PostgreSQL's programs cannot be found, or the cluster cannot be created or started;
    /// the message names what is missing or which program failed, with its output and the server's
    /// log.
    pub fn start() -> Cluster {
        Self::start_serving(None)
    }

    /// [`Cluster::start`] when PostgreSQL's programs are installed. When they are not, this fails
    /// under CI and elsewhere prints a notice naming the package and returns `None`: the caller
    /// (a test) returns and passes. See [`crate::missing`].
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`] does, and under CI when PostgreSQL is not installed.
    pub fn start_if_installed() -> Option<Cluster> {
        Self::installed().then(Cluster::start)
    }

    /// Whether PostgreSQL's programs are installed; when they are not, [`crate::missing`] says so
    /// (a failure under CI, a notice elsewhere).
    pub fn installed() -> bool {
        match Programs::find() {
            Ok(_) => true,
            Err(notice) => {
                crate::missing(&notice);
                false
            }
        }
    }

    /// [`Cluster::start`], with TLS on (`ssl = on`): the server presents `certificate` (PEM) and
    /// proves it with `key` (PEM), and takes both plain and TLS connections, as a server whose
    /// clients choose (libpq's `sslmode`) does.
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`] does, and when the files cannot be written.
    pub fn start_with_tls(certificate: &str, key: &str) -> Cluster {
        Self::start_serving(Some((certificate.to_owned(), key.to_owned())))
    }

    fn start_serving(tls: Option<(String, String)>) -> Cluster {
        let programs = Programs::find().unwrap_or_else(|missing| panic!("{missing}"));
        let server_user = server_user();
        let directory = tempfile::Builder::new()
            .prefix("flags-postgres-")
            .tempdir()
            .unwrap_or_else(|error| {
                panic!("flags_tests::postgres: cannot create a temporary directory: {error}")
            });
        // From here on, a panic drops the cluster, which stops whatever was started.
        let mut cluster = Cluster {
            directory,
            programs,
            server_user,
            port: 0,
        };
        cluster.create();
        if let Some((certificate, key)) = tls {
            cluster.serve_tls(&certificate, &key);
        }
        cluster.start_on_a_free_port();
        cluster
    }

    /// Puts the server's certificate and key in its data directory, readable by the server's user
    /// alone (the server refuses a key others can read), and turns TLS on.
    fn serve_tls(&self, certificate: &str, key: &str) {
        let data = self.data_directory();
        for (name, contents) in [("server.crt", certificate), ("server.key", key)] {
            let path = data.join(name);
            let written = fs::write(&path, contents)
                .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(0o600)))
                .and_then(|()| match self.server_user {
                    Some(user) => std::os::unix::fs::chown(&path, Some(user.uid), Some(user.gid)),
                    None => Ok(()),
                });
            if let Err(error) = written {
                panic!(
                    "flags_tests::postgres: cannot write {}: {error}",
                    path.display()
                );
            }
        }
        self.configure(
            "\n# flags_tests::postgres: TLS, for clients that ask for it.\n\
             ssl = on\n\
             ssl_cert_file = 'server.crt'\n\
             ssl_key_file = 'server.key'\n",
        );
    }

    /// Appends `settings` to the server's configuration file.
    fn configure(&self, settings: &str) {
        let configuration = self.data_directory().join("postgresql.conf");
        let appended = fs::OpenOptions::new()
            .append(true)
            .open(&configuration)
            .and_then(|mut file| std::io::Write::write_all(&mut file, settings.as_bytes()));
        if let Err(error) = appended {
            panic!(
                "flags_tests::postgres: cannot write {}: {error}",
                configuration.display()
            );
        }
    }

    /// A connection string for the `postgres` database as the superuser, such as
    /// `postgres://flags@127.0.0.1:54321/postgres`, which tokio-postgres and libpq accept.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The loopback port the server listens on, the same after [`Cluster::start_again`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates the database `name` (with `createdb`, next to `pg_ctl`) and returns its connection
    /// string: a fresh database on the same server, for a test that wants several.
    ///
    /// # Panics
    ///
    /// When `name` is not a plain name (lower-case ASCII letters, digits and `_`, which need no
    /// quoting in SQL nor in a URL), or `createdb` is missing or fails (the name is taken, or the
    /// server is stopped).
    pub fn create_database(&self, name: &str) -> String {
        let plain = |character: char| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
        };
        if name.is_empty() || !name.chars().all(plain) {
            panic!(
                "flags_tests::postgres: the database name {name:?} would need quoting; use \
                 lower-case ASCII letters, digits and `_`"
            );
        }
        let createdb = self.programs.directory.join("createdb");
        if !is_executable(&createdb) {
            panic!(
                "flags_tests::postgres: {} is missing; it comes with PostgreSQL's client programs \
                 (Debian: apt-get install postgresql)",
                createdb.display()
            );
        }
        let mut command = Command::new(&createdb);
        command
            .args(["--host=127.0.0.1", &format!("--port={}", self.port)])
            .arg(format!("--username={SUPERUSER}"))
            .arg(name)
            .current_dir(self.directory.path());
        if let Err(failure) = run(command, PROGRAM_LIMIT) {
            panic!("flags_tests::postgres: cannot create the database {name:?}: {failure}");
        }
        self.url_of(name)
    }

    /// Stops the server (`pg_ctl stop -m fast`): sessions are ended and new connections refused
    /// until [`Cluster::start_again`]. The data stays.
    ///
    /// # Panics
    ///
    /// When the server is not running or does not stop in time, with the server's log.
    pub fn stop(&self) {
        let mut command = self.pg_ctl("stop");
        command.args(["-m", "fast"]);
        if let Err(failure) = run(command, PROGRAM_LIMIT) {
            panic!(
                "flags_tests::postgres: cannot stop the server on port {}: {failure}{}",
                self.port,
                self.log_section()
            );
        }
    }

    /// Starts the server again after [`Cluster::stop`], on the same port with the same data.
    ///
    /// # Panics
    ///
    /// When the server does not start in time (another process took the port, or it is already
    /// running), with the server's log.
    pub fn start_again(&self) {
        if let Err(failure) = self.pg_ctl_start(self.port) {
            panic!(
                "flags_tests::postgres: cannot start the server again on port {}: {failure}{}",
                self.port,
                self.log_section()
            );
        }
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The temporary directory given to the server's user, its socket directory, and the data
    /// directory that `initdb` fills and the settings of a throwaway server on loopback.
    fn create(&self) {
        let sockets = self.sockets_directory();
        fs::create_dir(&sockets).unwrap_or_else(|error| {
            panic!(
                "flags_tests::postgres: cannot create {}: {error}",
                sockets.display()
            )
        });
        if let Some(user) = self.server_user {
            // The temporary directory is 0700 and root's; the server's user must own it to write
            // its data, socket and log there.
            let mut chown = Command::new("chown");
            chown
                .arg("-R")
                .arg(format!("{}:{}", user.uid, user.gid))
                .arg(self.directory.path());
            if let Err(failure) = run(chown, PROGRAM_LIMIT) {
                panic!(
                    "flags_tests::postgres: cannot give the cluster's directory to the {SERVER_USER} \
                     user: {failure}"
                );
            }
        }

        let mut initdb = self.as_server_user(&self.programs.initdb);
        initdb
            .arg("--pgdata")
            .arg(self.data_directory())
            .args(["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"])
            .arg(format!("--username={SUPERUSER}"));
        if let Err(failure) = run(initdb, PROGRAM_LIMIT) {
            panic!("flags_tests::postgres: initdb failed: {failure}");
        }

        // In the configuration file rather than on pg_ctl's command line, which a shell splits:
        // the socket directory's path is the temporary directory's, whatever characters it holds.
        let settings = format!(
            "\n# flags_tests::postgres: a throwaway server, reached over loopback only.\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n",
            sockets.display().to_string().replace('\'', "''")
        );
        self.configure(&settings);
    }

    /// Starts the server on a port that was free a moment ago, and on another if it was taken
    /// since.
    fn start_on_a_free_port(&mut self) {
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port();
            let log_before = self.log().len();
            let Err(failure) = self.pg_ctl_start(port) else {
                self.port = port;
                return;
            };
            let taken = self
                .log()
                .get(log_before..)
                .is_some_and(|new| new.contains("Address already in use"));
            if !(taken && attempt < START_ATTEMPTS) {
                panic!(
                    "flags_tests::postgres: cannot start the server on port {port} \
                     (attempt {attempt} of {START_ATTEMPTS}): {failure}{}",
                    self.log_section()
                );
            }
        }
    }

    fn pg_ctl_start(&self, port: u16) -> Result<(), Failure> {
        let mut command = self.pg_ctl("start");
        command
            .arg("--log")
            .arg(self.log_path())
            .arg("-o")
            .arg(format!("-p {port}"));
        run(command, PROGRAM_LIMIT).map(drop)
    }

    /// `pg_ctl ACTION` on this cluster's data directory, waiting up to [`PG_CTL_WAIT`].
    fn pg_ctl(&self, action: &str) -> Command {
        let mut command = self.as_server_user(&self.programs.pg_ctl);
        command
            .arg(action)
            .arg("--pgdata")
            .arg(self.data_directory())
            .args(["--wait", "--timeout"])
            .arg(PG_CTL_WAIT.as_secs().to_string());
        command
    }

    /// A command that runs `program` as the server's user (with `setpriv`, which becomes the
    /// program, so that killing it kills the program), in the cluster's directory.
    fn as_server_user(&self, program: &Path) -> Command {
        let mut command = match self.server_user {
            Some(user) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={}", user.uid))
                    .arg(format!("--regid={}", user.gid))
                    .args(["--init-groups", "--"])
                    .arg(program);
                command
            }
            None => Command::new(program),
        };
        command.current_dir(self.directory.path());
        command
    }

    fn data_directory(&self) -> PathBuf {
        self.directory.path().join("data")
    }

    fn sockets_directory(&self) -> PathBuf {
        self.directory.path().join("sockets")
    }

    fn log_path(&self) -> PathBuf {
        self.directory.path().join("server.log")
    }

    fn log(&self) -> String {
        fs::read(self.log_path())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// The server's log, as a section of a panic message.
    fn log_section(&self) -> String {
        format!(
            "\n--- server log ({}) ---\n{}",
            self.log_path().display(),
            self.log()
        )
    }

    /// Kills the server's postmaster when `pg_ctl` could not stop it, and waits for it to end.
    fn kill_postmaster(&self) {
        let lock_file = self.data_directory().join("postmaster.pid");
        let Some(pid) = fs::read_to_string(&lock_file)
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
        else {
            return;
        };
        // The id of a server that died may have been given to another process since.
        if !self.is_postmaster(pid) {
            return;
        }
        let mut kill = Command::new("kill");
        kill.args(["-KILL", &pid.to_string()]);
        if let Err(failure) = run(kill, DROP_WAIT) {
            eprintln!("flags_tests::postgres: cannot kill the server (process {pid}): {failure}");
            return;
        }
        let deadline = Instant::now() + DROP_WAIT;
        while self.is_postmaster(pid) && Instant::now() < deadline {
            thread::sleep(POLL);
        }
    }

    /// Whether process `pid` is this cluster's server: its command line names the data directory
    /// (a process that ended and was not yet reaped has none).
    fn is_postmaster(&self, pid: u32) -> bool {
        let command_line = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let data_directory = self.data_directory();
        command_line
            .split(|byte| *byte == 0)
            .any(|argument| argument == data_directory.as_os_str().as_encoded_bytes())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The lock file is there while a server runs on the data directory (or one died without
        // removing it, which `pg_ctl stop` reports).
        if !self.data_directory().join("postmaster.pid").exists() {
            return;
        }
        let mut command = self.pg_ctl("stop");
        command.args(["-m", "immediate"]);
        // `pg_ctl stop` waits up to PG_CTL_WAIT; a dropped cluster is given less.
        let stopped = run(command, DROP_WAIT);
        if let Err(failure) = stopped {
            eprintln!(
                "flags_tests::postgres: cannot stop the server on port {}; killing it: {failure}{}",
                self.port,
                self.log_section()
            );
            self.kill_postmaster();
        }
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Cluster")
            .field("directory", &self.directory.path())
            .field("port", &self.port)
            .finish()
    }
}

/// The server programs, from one directory so that their versions agree.
struct Programs {
    directory: PathBuf,
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl Programs {
    /// The first directory on `PATH` with both `initdb` and `pg_ctl`, else the newest version's in
    /// Debian's layout; a symbolic link is followed to the directory of the installation.
    fn find() -> Result<Programs, String> {
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        on_path
            .into_iter()
            .chain(debian_versions_newest_first())
            .find_map(|directory| {
                let initdb = fs::canonicalize(directory.join("initdb")).ok()?;
                let pg_ctl = fs::canonicalize(directory.join("pg_ctl")).ok()?;
                (is_executable(&initdb) && is_executable(&pg_ctl)).then(|| Programs {
                    directory: pg_ctl.parent().unwrap_or(&directory).to_path_buf(),
                    initdb,
                    pg_ctl,
                })
            })
            .ok_or_else(|| {
                format!(
                    "flags_tests::postgres: PostgreSQL's server programs initdb and pg_ctl are \
                     neither on PATH nor in {DEBIAN_VERSIONS}/*/bin; this test needs them \
                     (Debian: apt-get install postgresql)"
                )
            })
    }
}

/// `/usr/lib/postgresql/VERSION/bin`, newest version first (`17` before `9.6`).
fn debian_versions_newest_first() -> Vec<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(DEBIAN_VERSIONS)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|(newer, _), (older, _)| older.cmp(newer));
    versions
        .into_iter()
        .map(|(_, directory)| directory)
        .collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[derive(Clone, Copy)]
struct UserIds {
    uid: u32,
    gid: u32,
}

/// The user to run the server programs as: [`SERVER_USER`] when this process runs as root,
/// which they refuse; none (this process's own) otherwise.
fn server_user() -> Option<UserIds> {
    if effective_uid() != Some(0) {
        return None;
    }
    let id = |option: &str| -> Result<u32, Failure> {
        let mut command = Command::new("id");
        command.args([option, SERVER_USER]);
        let output = run(command, PROGRAM_LIMIT)?;
        output.trim().parse().map_err(|_| Failure {
            command: format!("id {option} {SERVER_USER}"),
            outcome: "printed no number".to_owned(),
            output,
        })
    };
    match id("-u").and_then(|uid| {
        Ok(UserIds {
            uid,
            gid: id("-g")?,
        })
    }) {
        Ok(user) => Some(user),
        Err(failure) => panic!(
            "flags_tests::postgres: the tests run as root, which initdb and pg_ctl refuse, and \
             the {SERVER_USER} user to run them as is missing (Debian's postgresql package creates \
             it): {failure}"
        ),
    }
}

/// This process's effective user id, from `/proc/self/status` (no libc), else from `id -u`.
fn effective_uid() -> Option<u32> {
    let from_proc = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            // Real, effective, saved and file system ids.
            line.split_whitespace().nth(2)?.parse().ok()
        });
    from_proc.or_else(|| {
        let mut command = Command::new("id");
        command.arg("-u");
        run(command, PROGRAM_LIMIT).ok()?.trim().parse().ok()
    })
}

/// A loopback port that no socket was bound to a moment ago, below the range the system takes
/// outgoing connections' ports from: a cluster stopped and started again gets its port back,
/// which a client's connection meanwhile could otherwise have taken. The Unleash server's harness
/// takes its port here too.
pub(crate) fn free_port() -> u16 {
    let lowest_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let below = 10_000..lowest_ephemeral.max(10_001);
    // A start that differs between processes and runs, so parallel tests rarely try the same.
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |now| now.subsec_nanos());
    let span = u32::from(below.end - below.start);
    for attempt in 0..span.min(2_000) {
        let port = below.start + ((seed.wrapping_add(attempt.wrapping_mul(7_919))) % span) as u16;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| {
            panic!("flags_tests: cannot find a free port on 127.0.0.1: {error}")
        })
}

/// A program that did not run to success: which, what happened, and what it printed.
struct Failure {
    command: String,
    outcome: String,
    output: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.command, self.outcome)?;
        if !self.output.trim().is_empty() {
            write!(
                formatter,
                "\n--- its output ---\n{}",
                self.output.trim_end()
            )?;
        }
        Ok(())
    }
}

/// Runs `command` to its end, killing it after `limit`, and returns what it printed (standard
/// output and error together).
///
/// The output goes to an unnamed file rather than a pipe: a server that `pg_ctl` starts in the
/// background could hold a pipe open, and reading it would wait for the server to end.
fn run(mut command: Command, limit: Duration) -> Result<String, Failure> {
    let description = format!("{command:?}");
    let failure = |outcome: String, output: String| Failure {
        command: description.clone(),
        outcome,
        output,
    };
    let mut output = tempfile::tempfile()
        .map_err(|error| failure(format!("has nowhere to write: {error}"), String::new()))?;
    let streams = output
        .try_clone()
        .and_then(|stdout| Ok((stdout, output.try_clone()?)));
    let (stdout, stderr) = streams
        .map_err(|error| failure(format!("has nowhere to write: {error}"), String::new()))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|error| failure(format!("cannot be run: {error}"), String::new()))?;
    drop(command);

    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "did not finish within {}s and was killed",
                    limit.as_secs()
                ));
            }
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("could not be waited for: {error}"));
            }
        }
    };

    let mut bytes = Vec::new();
    let _ = output
        .seek(SeekFrom::Start(0))
        .and_then(|_| output.read_to_end(&mut bytes));
    let printed = String::from_utf8_lossy(&bytes).into_owned();
    match status {
        Ok(status) if status.success() => Ok(printed),
        Ok(status) => Err(failure(format!("exited with {status}"), printed)),
        Err(outcome) => Err(failure(outcome, printed)),
    }
}
