//! What the tests' stub servers on loopback read of a request: its head, and its body as long as
//! its `Content-Length` says.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads one request from `socket`: its head (request line and headers, at most 64 KiB) and its
/// body; `None` when the peer closes the connection first.
pub async fn read_request<R: AsyncRead + Unpin>(socket: &mut R) -> Option<(String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        if socket.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|n| n.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    socket.read_exact(&mut body).await.ok()?;
    Some((head, body))
}
