//! `rose serve` as a child process of a test: started on a free loopback port with only the
//! variables the test gives it, in a directory of its own, and stopped by a signal or when
//! dropped.
// Each test binary that includes this module uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The longest any wait of these tests lasts before it fails: a start, a request, a stop.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often a wait for the server to exit looks.
const POLL: Duration = Duration::from_millis(50);

/// `rose serve`, running; killed and waited for when dropped, whatever the test did.
pub struct Server {
    child: Child,
    base: String,
    stdout: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

/// What a server printed, once it stopped.
pub struct Stopped {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Server {
    /// Starts `rose serve --addr 127.0.0.1:0 ARGS` in `dir` with only `vars` for environment, and
    /// waits for the line that says where it listens.
    pub fn start(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Server {
        let command = Command::new(env!("CARGO_BIN_EXE_rose"));
        Server::start_command(command, dir, vars, args)
    }

    /// [`Server::start`], the process allowed `files` open files at most (util-linux's
    /// `prlimit`, which Debian always has): what a server run with a low `ulimit -n` meets.
    pub fn start_with_open_files(
        dir: &Path,
        vars: &[(&str, &str)],
        args: &[&str],
        files: u32,
    ) -> Server {
        let limit = format!("--nofile={files}:{files}");
        let mut command = Command::new("prlimit");
        command.args([&limit, "--", env!("CARGO_BIN_EXE_rose")]);
        Server::start_command(command, dir, vars, args)
    }

    /// Runs `rose serve --addr 127.0.0.1:0 ARGS` in `dir` with only `vars` for environment.
    pub fn spawn(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Server {
        Server::spawn_command(Command::new(env!("CARGO_BIN_EXE_rose")), dir, vars, args)
    }

    fn start_command(command: Command, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Server {
        let mut server = Server::spawn_command(command, dir, vars, args);
        match server.stdout.recv_timeout(WAIT) {
            Ok(line) => {
                let address = line.strip_prefix("listening on http://");
                let address = address.unwrap_or_else(|| panic!("not where it listens: {line}"));
                server.base = format!("http://{address}");
            }
            Err(error) => {
                let _ = server.child.kill();
                let stopped = server.wait();
                panic!(
                    "rose serve did not say where it listens ({error}): {:?}\n{}",
                    stopped.status, stopped.stderr
                );
            }
        }
        server
    }

    fn spawn_command(
        mut command: Command,
        dir: &Path,
        vars: &[(&str, &str)],
        args: &[&str],
    ) -> Server {
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_clear()
            .envs(vars.iter().copied())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        let (lines, stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            stderr.read_to_string(&mut text).unwrap();
            text
        });
        Server {
            child,
            base: String::new(),
            stdout,
            stderr: Some(stderr),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM, and waits for the server to exit.
    pub fn stop(self) -> Stopped {
        self.signal("TERM")
    }

    /// Sends the signal `name` (`TERM`, `INT`), and waits for the server to exit.
    pub fn signal(mut self, name: &str) -> Stopped {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(kill.success(), "kill -{name} {pid}: {kill:?}");
        self.wait()
    }

    /// Waits for the server to exit, then for the rest of what it printed.
    pub fn wait(&mut self) -> Stopped {
        let mut status = None;
        for _ in 0..WAIT.as_millis() / POLL.as_millis() {
            status = self.child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            thread::sleep(POLL);
        }
        let status = status.unwrap_or_else(|| panic!("rose serve still runs after {WAIT:?}"));
        let mut stdout = String::new();
        loop {
            match self.stdout.recv_timeout(WAIT) {
                Ok(line) => stdout.push_str(&(line + "\n")),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout still open after the exit"),
            }
        }
        let stderr = self.stderr.take().map(|stderr| stderr.join().unwrap());
        Stopped {
            status,
            stdout,
            stderr: stderr.unwrap_or_default(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already exited when the test stopped it: then both only say so.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON `url` answers a GET with (with `token` as its `Authorization` header), which must be a
/// success.
pub async fn get_json(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
) -> serde_json::Value {
    let mut request = client.get(&url);
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let answer = request.send().await.unwrap();
    assert!(answer.status().is_success(), "{url}: {answer:?}");
    serde_json::from_str(&answer.text().await.unwrap()).unwrap()
}

/// Waits, at most 30 s, for `done` to hold of what `ask` answers; how long it took.
pub async fn eventually<F: std::future::Future<Output = serde_json::Value>>(
    what: &str,
    mut ask: impl FnMut() -> F,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Duration {
    let started = std::time::Instant::now();
    loop {
        let answer = ask().await;
        if done(&answer) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still not {what}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

impl Stopped {
    /// The lines of its log at WARN from `target`.
    pub fn warnings(&self, target: &str) -> Vec<&str> {
        let marker = format!("WARN {target}");
        self.stderr
            .lines()
            .filter(|line| line.contains(&marker))
            .collect()
    }
}
