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
use axum::http::Extensions;

/// How many addresses are remembered at most. Beyond that, failures from addresses not yet
/// remembered count together, as one address: a flood of addresses can neither grow the map nor
/// push out an address that is blocked.
const ADDRESSES: usize = 4096;

/// The key of the overflow: the failures counted together, those of addresses beyond
/// [`ADDRESSES`] and those of requests whose address is unknown.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

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

    /// How long `client` must wait, if it (or, when it is not remembered, the addresses counted
    /// together) has failed `max` times within the window.
    pub(crate) fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let failures = clients.get(&client).or_else(|| clients.get(&OVERFLOW))?;
        let ends = failures.since + self.window;
        (failures.count >= self.max && now < ends).then(|| ends - now)
    }

    /// Counts a failure of `client`.
    pub(crate) fn record(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut client = client;
        if !clients.contains_key(&client) && clients.len() >= ADDRESSES {
            clients.retain(|_, failures| now < failures.since + self.window);
            if clients.len() >= ADDRESSES {
                client = OVERFLOW;
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

/// The address of the client a request came from, for an application that knows it better than
/// the connection does: behind a reverse proxy, every connection comes from the proxy. The
/// application's own middleware, which knows which proxies to trust, puts it in the request's
/// extensions; [`client_address`] then takes it over the connection's peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The address a request came from, as flags-http's limit on failed authentications counts
/// clients (and as an application's own limits may count them): the [`ClientAddress`] in its
/// extensions, else the peer of its connection (`ConnectInfo`, which
/// `into_make_service_with_connect_info` provides), an IPv6 address by its /64 network since one
/// host commonly holds the whole of it. Without either, every request counts as one address:
/// stricter, never looser.
///
/// ```
/// use std::net::{IpAddr, Ipv6Addr, SocketAddr};
/// use axum::extract::ConnectInfo;
/// use axum::http::Request;
/// use flags_http::client_address;
///
/// let mut request = Request::new(());
/// let peer: SocketAddr = "[2001:db8::7]:4000".parse().unwrap();
/// request.extensions_mut().insert(ConnectInfo(peer));
/// assert_eq!(client_address(request.extensions()), "2001:db8::".parse::<IpAddr>().unwrap());
/// ```
pub fn client_address(extensions: &Extensions) -> IpAddr {
    let peer = match extensions.get::<ClientAddress>() {
        Some(ClientAddress(address)) => *address,
        None => match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => peer.ip(),
            None => return OVERFLOW,
        },
    };
    match peer.to_canonical() {
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
    fn a_flood_of_addresses_keeps_the_map_bounded_and_blocked_addresses_blocked() {
        let limit = FailureLimit::new(1, Duration::from_secs(60));
        let start = Instant::now();
        for n in 0..(ADDRESSES as u32 + 100) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(n));
            limit.record(address, start + Duration::from_millis(u64::from(n)));
        }
        let later = start + Duration::from_secs(10);
        {
            let clients = limit.clients.lock().unwrap();
            assert_eq!(clients.len(), ADDRESSES + 1);
        }
        // The first is still blocked; those beyond the map are blocked together.
        let first = IpAddr::V4(std::net::Ipv4Addr::from(0));
        assert!(limit.blocked(first, later).is_some());
        let beyond = IpAddr::V4(std::net::Ipv4Addr::from(ADDRESSES as u32 + 99));
        assert!(limit.blocked(beyond, later).is_some());
        // Once their windows end, new addresses are remembered again.
        let fresh = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
        limit.record(fresh, start + Duration::from_secs(120));
        assert!(limit.clients.lock().unwrap().contains_key(&fresh));
    }

    #[test]
    fn ipv6_addresses_of_one_network_count_as_one() {
        let parts = |address: &str| {
            let peer: SocketAddr = format!("[{address}]:4000").parse().unwrap();
            let mut extensions = Extensions::new();
            extensions.insert(ConnectInfo(peer));
            client_address(&extensions)
        };
        assert_eq!(parts("2001:db8::1"), parts("2001:db8::ffff:1"));
        assert_ne!(parts("2001:db8::1"), parts("2001:db8:0:1::1"));
        assert_eq!(parts("::ffff:127.0.0.1"), CLIENT);
    }

    #[test]
    fn the_applications_client_address_wins_over_the_connections_peer() {
        let mut extensions = Extensions::new();
        let proxy: SocketAddr = "10.0.0.2:4000".parse().unwrap();
        extensions.insert(ConnectInfo(proxy));
        assert_eq!(client_address(&extensions), proxy.ip());
        let client = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
        extensions.insert(ClientAddress(client));
        assert_eq!(client_address(&extensions), client);
        assert_eq!(client_address(&Extensions::new()), OVERFLOW);
    }
}
