//! The limit on failed authentications per client address: after `max` failures within a window,
//! the address gets 429 on the admin routes until the window ends, whatever token it sends.
//!
//! Hand-written rather than a rate limiter crate's: those count requests as they pass, and this
//! must refuse a request *before* its token is checked, without counting it, so that a guess
//! made while blocked learns nothing.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// How many addresses are remembered at most: the oldest window goes first beyond that, so that
/// a flood of addresses cannot grow the map without bound.
const ADDRESSES: usize = 4096;

/// Failures per client address, each address with its window.
pub(crate) struct FailureLimit {
    max: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

struct Failures {
    count: u32,
    since: Instant,
}

impl FailureLimit {
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// How long `client` must wait, if it has failed `max` times within the window.
    pub(crate) fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let failures = clients.get(&client)?;
        let ends = failures.since + self.window;
        (failures.count >= self.max && now < ends).then(|| ends - now)
    }

    /// Counts a failure of `client`.
    pub(crate) fn record(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if !clients.contains_key(&client) && clients.len() >= ADDRESSES {
            clients.retain(|_, failures| now < failures.since + self.window);
            if clients.len() >= ADDRESSES {
                let oldest = clients
                    .iter()
                    .min_by_key(|(_, failures)| failures.since)
                    .map(|(address, _)| *address);
                if let Some(oldest) = oldest {
                    clients.remove(&oldest);
                }
            }
        }
        let failures = clients.entry(client).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now >= failures.since + self.window {
            *failures = Failures {
                count: 0,
                since: now,
            };
        }
        failures.count = failures.count.saturating_add(1);
    }
}

/// The address a request came from, as the limit counts it: the peer of the connection
/// (`ConnectInfo`, which `into_make_service_with_connect_info` provides), an IPv6 address by its
/// /64 network since one host commonly holds the whole of it. Without `ConnectInfo`, every
/// request counts as one address: stricter, never looser.
pub(crate) fn client_address(request: &Parts) -> IpAddr {
    let Some(ConnectInfo(peer)) = request.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    };
    match peer.ip().to_canonical() {
        IpAddr::V6(address) => {
            let network = u128::from(address) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(network))
        }
        address => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn an_address_is_blocked_after_max_failures_until_its_window_ends() {
        let limit = FailureLimit::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for second in 0..3 {
            assert_eq!(limit.blocked(CLIENT, start), None);
            limit.record(CLIENT, start + Duration::from_secs(second));
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(limit.blocked(CLIENT, later), Some(Duration::from_secs(50)));
        let other = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(limit.blocked(other, later), None);
        assert_eq!(limit.blocked(CLIENT, start + Duration::from_secs(60)), None);
        limit.record(CLIENT, start + Duration::from_secs(61));
        assert_eq!(limit.blocked(CLIENT, start + Duration::from_secs(62)), None);
    }

    #[test]
    fn a_flood_of_addresses_keeps_the_map_bounded() {
        let limit = FailureLimit::new(1, Duration::from_secs(60));
        let start = Instant::now();
        for n in 0..(ADDRESSES as u32 + 100) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(n));
            limit.record(address, start + Duration::from_millis(u64::from(n)));
        }
        let clients = limit.clients.lock().unwrap();
        assert_eq!(clients.len(), ADDRESSES);
        // The oldest went first: the newest is still blocked.
        let newest = IpAddr::V4(std::net::Ipv4Addr::from(ADDRESSES as u32 + 99));
        assert!(clients.contains_key(&newest));
        assert!(!clients.contains_key(&IpAddr::V4(std::net::Ipv4Addr::from(0))));
    }

    #[test]
    fn ipv6_addresses_of_one_network_count_as_one() {
        let parts = |address: &str| {
            let peer: SocketAddr = format!("[{address}]:4000").parse().unwrap();
            let (mut parts, ()) = axum::http::Request::new(()).into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            client_address(&parts)
        };
        assert_eq!(parts("2001:db8::1"), parts("2001:db8::ffff:1"));
        assert_ne!(parts("2001:db8::1"), parts("2001:db8:0:1::1"));
        assert_eq!(parts("::ffff:127.0.0.1"), CLIENT);
    }
}
