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

/// How many addresses are remembered at most. At that many, a new address takes the place of
/// the one least likely to matter: one whose window has ended, else the one not blocked that
/// failed first; when every one is blocked, the new address's failure is not counted. An
/// address is never blocked for what other addresses did, and a flood of addresses can neither
/// grow the map nor push out an address that is blocked.
const ADDRESSES: usize = 4096;

/// The address every request whose address is unknown counts as: stricter, never looser. No
/// client's address is counted as it ([`client_address`] keeps the whole of an address in
/// `::/64`, loopback `::1` among them).
const UNKNOWN: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

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

    /// Counts a failure of `client`: not counted when [`ADDRESSES`] addresses are remembered and
    /// every one is blocked.
    pub(crate) fn record(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if !clients.contains_key(&client) && clients.len() >= ADDRESSES {
            clients.retain(|_, failures| now < failures.since + self.window);
            if clients.len() >= ADDRESSES {
                let unblocked = clients
                    .iter()
                    .filter(|(_, failures)| failures.count < self.max);
                let first = unblocked.min_by_key(|(_, failures)| failures.since);
                match first.map(|(address, _)| *address) {
                    Some(address) => {
                        clients.remove(&address);
                    }
                    None => return,
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
            None => return UNKNOWN,
        },
    };
    match peer.to_canonical() {
        IpAddr::V6(address) => {
            let network = u128::from(address) & !u128::from(u64::MAX);
            match network {
                // `::/64` (loopback `::1`, the old IPv4-compatible addresses) is no one host's
                // network, and its /64 is the unknown address's key: each address counts alone.
                0 => IpAddr::V6(address),
                network => IpAddr::V6(Ipv6Addr::from(network)),
            }
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

    /// The attack issue 22 found: 4,096 addresses fill the map with blocked entries, ten more
    /// failures fill what was a shared bucket, and every address, the admin's among them, was
    /// refused for the window, each minute again.
    #[test]
    fn a_flood_of_addresses_keeps_the_map_bounded_and_never_blocks_another_address() {
        let limit = FailureLimit::new(10, Duration::from_secs(60));
        let start = Instant::now();
        let attacker = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        for n in 0..(ADDRESSES as u32 + 10) {
            for _ in 0..10 {
                limit.record(attacker(n), start + Duration::from_millis(u64::from(n)));
            }
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(limit.clients.lock().unwrap().len(), ADDRESSES);
        // The admin's address failed nothing: it is not blocked.
        assert_eq!(limit.blocked(CLIENT, later), None);
        // Every attacker remembered stays blocked; those beyond the map were not counted.
        assert!(limit.blocked(attacker(0), later).is_some());
        assert!(
            limit
                .blocked(attacker(ADDRESSES as u32 - 1), later)
                .is_some()
        );
        assert_eq!(limit.blocked(attacker(ADDRESSES as u32 + 5), later), None);
        // Once their windows end, new addresses are remembered again.
        let fresh = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
        limit.record(fresh, start + Duration::from_secs(120));
        assert!(limit.clients.lock().unwrap().contains_key(&fresh));
    }

    #[test]
    fn at_capacity_an_address_not_blocked_makes_room_and_a_blocked_one_stays() {
        let limit = FailureLimit::new(2, Duration::from_secs(60));
        let start = Instant::now();
        let address = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        // One blocked address, then addresses that failed once, the first of them earliest.
        limit.record(address(0), start);
        limit.record(address(0), start);
        for n in 1..ADDRESSES as u32 {
            limit.record(address(n), start + Duration::from_millis(u64::from(n)));
        }
        // Room for a new one: the unblocked address that failed first is forgotten.
        limit.record(CLIENT, start + Duration::from_secs(5));
        let clients = limit.clients.lock().unwrap();
        assert!(clients.contains_key(&CLIENT));
        assert!(!clients.contains_key(&address(1)));
        assert!(clients.contains_key(&address(0)));
        drop(clients);
        assert!(
            limit
                .blocked(address(0), start + Duration::from_secs(6))
                .is_some()
        );
    }

    /// The attack issue 22 found: wrong tokens from `[::1]` counted as `::`, the key of the
    /// shared bucket, and 127.0.0.1 with the right token got 429.
    #[test]
    fn failures_from_ipv6_loopback_block_it_alone() {
        let from = |peer: &str| {
            let mut extensions = Extensions::new();
            extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            client_address(&extensions)
        };
        let loopback = from("[::1]:4000");
        assert_eq!(loopback, "::1".parse::<IpAddr>().unwrap());
        assert_ne!(loopback, UNKNOWN);
        let limit = FailureLimit::new(10, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..10 {
            limit.record(loopback, now);
        }
        assert!(limit.blocked(loopback, now).is_some());
        assert_eq!(limit.blocked(from("127.0.0.1:4000"), now), None);
        assert_eq!(limit.blocked(from("[::2]:4000"), now), None);
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
        assert_eq!(client_address(&Extensions::new()), UNKNOWN);
    }
}
