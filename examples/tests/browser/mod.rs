//! Headless Chromium, driven through chromedriver (WebDriver) on a free loopback port, for the
//! tests that open a page: both from Debian's packages. Without them a test fails under CI and
//! elsewhere prints a notice and passes (`flags_tests::missing`).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// What to install when the browser is missing.
pub const INSTALL: &str = "install Debian's chromium and chromium-driver \
                           (apt-get install chromium chromium-driver)";

/// How often a wait for chromedriver looks again.
const POLL: Duration = Duration::from_millis(100);

/// A new browser session in a window of `(width, height)`, each wait bounded by `wait`, and the
/// driver that runs it (drop it after the session); `None` when Chromium is not installed and
/// this is not CI (a notice said so: the caller returns and passes).
pub async fn open(
    http: &reqwest::Client,
    (width, height): (u32, u32),
    wait: Duration,
) -> Option<(Client, Driver)> {
    let (Some(chromium), Some(chromedriver)) = (program("chromium"), program("chromedriver"))
    else {
        flags_tests::missing(&format!(
            "chromium and chromedriver are not both on PATH: this test opens a page; {INSTALL}"
        ));
        return None;
    };
    let driver = Driver::start(&chromedriver);
    driver.ready(http, wait).await;
    let capabilities = json!({
        "browserName": "chrome",
        // Bounded as every wait here: a page load, a script.
        "timeouts": {"pageLoad": wait.as_millis(), "script": wait.as_millis(), "implicit": 0},
        "goog:chromeOptions": {
            "binary": chromium,
            // Root in a container: no sandbox. No GPU, and /tmp for shared memory.
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--hide-scrollbars", format!("--window-size={width},{height}"),
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let browser = tokio::time::timeout(
        wait,
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url),
    )
    .await
    .unwrap_or_else(|_| panic!("Chromium did not start in {wait:?}; {INSTALL}"))
    .unwrap_or_else(|error| panic!("cannot start Chromium ({error}); {INSTALL}"));
    Some((browser, driver))
}

/// A program on `PATH`.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

/// chromedriver on a free loopback port, in a process group of its own: dropping it kills the
/// group, the browser it started included.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        // A port the system had free a moment ago: chromedriver takes no port 0.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start chromedriver ({error}); {INSTALL}"));
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until chromedriver answers its status route.
    async fn ready(&self, http: &reqwest::Client, wait: Duration) {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            let status = http.get(format!("{}/status", self.url)).send().await;
            if status.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("chromedriver did not answer on {} in {wait:?}", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
