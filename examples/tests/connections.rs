//! `rose serve` under sockets left open on purpose: half a request head, or nothing at all. Each
//! is closed once its head is late, and past the bound on connections a new one takes the place
//! of the one that waited longest, so that the public route keeps answering.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod rose;

use rose::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The server's open files in these tests, as `ulimit -n 256` would make them.
const FILES: u32 = 256;

/// How long a request head may take here.
const HEADER_TIMEOUT: &str = "2s";

/// The server's address, from its base URL.
fn address(server: &Server) -> SocketAddr {
    let base = server.url("");
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// A connection from `from` (a loopback address of its own) that sends half a request head.
async fn slow(server: SocketAddr, from: [u8; 4]) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::from((from, 0))).ok()?;
    let mut stream = socket.connect(server).await.ok()?;
    stream
        .write_all(b"GET /api/feature-flags HTTP/1.1\r\nHost: rose\r\n")
        .await
        .ok()?;
    Some(stream)
}

/// How long until the server closes `stream` (reads end), up to `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0; 1024];
    loop {
        let read = tokio::time::timeout_at((started + wait).into(), stream.read(&mut buffer));
        match read.await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// A request head sent too slowly, and a kept-alive connection left idle, are both closed once
/// the header timeout passes.
#[tokio::test]
async fn a_late_request_head_and_an_idle_connection_are_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &["--header-timeout", HEADER_TIMEOUT]);
    let address = address(&server);

    let mut half = slow(address, [127, 0, 0, 1]).await.unwrap();
    let closed = closed_within(&mut half, Duration::from_secs(10)).await;
    let closed = closed.expect("a connection with half a head is still open after 10 s");
    assert!(closed >= Duration::from_millis(1500), "{closed:?}");

    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: rose\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0; 4096];
    let read = idle.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{read}");
    let closed = closed_within(&mut idle, Duration::from_secs(10)).await;
    assert!(
        closed.is_some(),
        "an idle kept-alive connection is still open after 10 s"
    );
    let stderr = server.stop().stderr;
    assert!(
        stderr.contains(" connections at once, each request head within 2s"),
        "{stderr}"
    );
}

/// Twice as many slow sockets as the server may open files, from other addresses, opened again as
/// fast as they are closed: the public route answers every request of a client meanwhile, and
/// the server still stops cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_route_answers_while_twice_the_file_limit_of_slow_sockets_try() {
    let dir = tempfile::tempdir().unwrap();
    let arguments = ["--header-timeout", HEADER_TIMEOUT];
    let server = Server::start_with_open_files(dir.path(), &[], &arguments, FILES);
    let address = address(&server);
    let attack = tokio::spawn(async move {
        let mut held = std::collections::VecDeque::new();
        let until = Instant::now() + Duration::from_secs(6);
        let mut opened = 0u32;
        // Bounded: six seconds, and 20,000 sockets at most.
        while Instant::now() < until && opened < 20_000 {
            let from = [
                127,
                0,
                1 + (opened / 250 % 200) as u8,
                1 + (opened % 250) as u8,
            ];
            if let Some(stream) = slow(address, from).await {
                held.push_back(stream);
                opened += 1;
            }
            // Twice the server's files held at once: the oldest go as new ones come.
            while held.len() > 2 * FILES as usize {
                held.pop_front();
            }
        }
        (opened, held.len())
    });
    // The attack is under way before the client asks.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(3))
        // A new connection for every request, as a crowd of clients makes.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut slowest = Duration::ZERO;
    for attempt in 0..20 {
        let started = Instant::now();
        let reply = client.get(server.url("/api/feature-flags")).send().await;
        let reply = reply.unwrap_or_else(|error| panic!("request {attempt}: {error}"));
        assert_eq!(reply.status(), 200, "request {attempt}");
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (opened, held) = attack.await.unwrap();
    assert!(
        opened as usize > 2 * FILES as usize,
        "the attack opened {opened} sockets ({held} held)"
    );
    eprintln!("{opened} slow sockets; the slowest answer took {slowest:?}");
    let stopped = server.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    // The bound the file limit set; running out of files meanwhile (while closed connections
    // are let go) is one line a minute at most.
    let bound = format!("at most {} connections at once", FILES - 128);
    assert!(stopped.stderr.contains(&bound), "{}", stopped.stderr);
    let out_of_files = stopped.stderr.matches("cannot accept").count();
    assert!(out_of_files <= 1, "{}", stopped.stderr);
}
