//! A TCP proxy on loopback that a test can cut, as a network between one instance and the
//! database fails, and restore: closed at once, after some more bytes, silent, or losing the
//! server's replies once a `COMMIT` passed.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// Forwards connections to `target` while open; cut, it ends the connections it carries and
/// closes each new one at once; silenced, it keeps them open and passes nothing, as a network
/// that loses every packet.
pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    cut: AtomicBool,
    silent: AtomicBool,
    /// Set: once a client sends `COMMIT`, nothing the server sends reaches it.
    drop_after_commit: AtomicBool,
    /// Set when such a `COMMIT` passed: replies are dropped from then on.
    committed: AtomicBool,
    /// The client's bytes still passed before every connection is closed (`u64::MAX`: never).
    cut_after: AtomicU64,
    stopping: AtomicBool,
    carried: Mutex<Vec<TcpStream>>,
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            cut_after: AtomicU64::new(u64::MAX),
            ..Shared::default()
        });
        let acceptor = thread::spawn({
            let shared = Arc::clone(&shared);
            move || {
                for client in listener.incoming() {
                    if shared.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    if shared.cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    if let Err(error) = carry(&shared, client, target) {
                        eprintln!("proxy: cannot reach {target}: {error}");
                    }
                }
            }
        });
        Proxy {
            address,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Ends every connection it carries, and closes new ones until restored.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        for stream in self.shared.carried.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Passes `bytes` more of what clients send, then cuts (as [`Proxy::cut`]): a network that
    /// fails in the middle of whatever is being said.
    pub fn cut_after(&self, bytes: u64) {
        self.shared.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// Lets the next `COMMIT` reach the server, then drops every reply: the change lands, and
    /// its answer is lost, as when a network fails at that moment.
    pub fn drop_replies_after_commit(&self) {
        self.shared.drop_after_commit.store(true, Ordering::SeqCst);
    }

    /// Passes nothing either way from now on, and closes nothing: a silent cut.
    pub fn silence(&self) {
        self.shared.silent.store(true, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
        self.shared.silent.store(false, Ordering::SeqCst);
        self.shared.drop_after_commit.store(false, Ordering::SeqCst);
        self.shared.committed.store(false, Ordering::SeqCst);
        self.shared.cut_after.store(u64::MAX, Ordering::SeqCst);
    }
}

/// Copies bytes both ways between `client` and a new connection to `target`, dropping them while
/// silenced.
fn carry(shared: &Arc<Shared>, client: TcpStream, target: SocketAddr) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    let mut carried = shared.carried.lock().unwrap();
    carried.push(client.try_clone()?);
    carried.push(server.try_clone()?);
    // `to_server`: the client's bytes, in which a `COMMIT` is seen; else the server's replies.
    let pipe = |mut from: TcpStream, mut to: TcpStream, to_server: bool| {
        let shared = Arc::clone(shared);
        thread::spawn(move || {
            let mut buffer = [0; 16 * 1024];
            loop {
                let read = match io::Read::read(&mut from, &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                if shared.silent.load(Ordering::SeqCst) {
                    continue;
                }
                let mut bytes = &buffer[..read];
                if to_server {
                    let left = shared.cut_after.load(Ordering::SeqCst);
                    if left != u64::MAX {
                        let passed = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                        shared
                            .cut_after
                            .store(left - passed as u64, Ordering::SeqCst);
                        if passed < bytes.len() || left == passed as u64 {
                            bytes = &bytes[..passed];
                            let _ = io::Write::write_all(&mut to, bytes);
                            shared.cut.store(true, Ordering::SeqCst);
                            for stream in shared.carried.lock().unwrap().drain(..) {
                                let _ = stream.shutdown(Shutdown::Both);
                            }
                            break;
                        }
                    }
                }
                if to_server
                    && shared.drop_after_commit.load(Ordering::SeqCst)
                    // The query `COMMIT`, ended by its NUL (not `READ COMMITTED`).
                    && bytes.windows(7).any(|window| window == b"COMMIT\0")
                {
                    shared.committed.store(true, Ordering::SeqCst);
                }
                if !to_server && shared.committed.load(Ordering::SeqCst) {
                    continue;
                }
                if io::Write::write_all(&mut to, bytes).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        })
    };
    pipe(client.try_clone()?, server.try_clone()?, true);
    pipe(server, client, false);
    Ok(())
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which sees it is stopping.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}
