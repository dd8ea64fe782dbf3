//! The rate limit of the public routes while `RATE_LIMIT_ENABLED` is on: a quota of requests per
//! client address (governor's GCRA: a burst of the quota, then one request per its share of the
//! minute), 429 with `Retry-After` past it. The flag is read for each request; the admin API, the
//! docs and the metrics are not limited by it (the admin API has flags-http's own limit on
//! failed authentications).

use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi, Ref, ResponseBuilder};

use super::Flags;
use super::error::{Error, ErrorBody};

/// The routes the limit applies to: those a frontend calls, without credentials.
pub(crate) const PUBLIC_ROUTES: [&str; 2] = ["/api/feature-flags", "/api/health"];

/// The quota unless `--rate-limit-per-minute` says otherwise: two requests a second from one
/// address, sustained, is more than a frontend that reads its flags once a page needs.
pub(crate) const DEFAULT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(120).unwrap();

/// How many addresses the limiter remembers before it forgets those whose quota is whole again,
/// without waiting for the housekeeping round.
const ADDRESSES: usize = 100_000;

/// The quota of each client address on the public routes.
pub(crate) struct PublicLimit {
    flags: Flags,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl PublicLimit {
    pub(crate) fn new(flags: Flags, per_minute: NonZeroU32) -> Self {
        Self {
            flags,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Forgets each address whose quota is whole again, as a new address's is: run periodically,
    /// it keeps only the recent clients in memory.
    pub(crate) fn forget_idle_clients(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The answer to a request to a public route from an address that has used its quota, while the
/// flag is on; `None` for every other request, which goes through untouched and uncounted.
pub(crate) fn refusal(limit: &PublicLimit, request: &Request) -> Option<Response> {
    // A method the public routes do not take (PUT /api/health) is 405 whatever the quota, and
    // asks for nothing the quota guards: not counted.
    let public = matches!(*request.method(), Method::GET | Method::HEAD)
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|route| PUBLIC_ROUTES.contains(&route.as_str()));
    if public && limit.flags.get().rate_limit_enabled {
        // Counted as flags-http counts clients for its limit on wrong tokens.
        let client = flags_http::client_address(request.extensions());
        if let Err(refused) = limit.limiter.check_key(&client) {
            let retry_after = refused.wait_time_from(DefaultClock::default().now());
            return Some(Error::TooManyRequests { retry_after }.into_response());
        }
        // A flood of addresses between two housekeeping rounds: forget the idle ones now.
        if limit.limiter.len() > ADDRESSES {
            limit.limiter.retain_recent();
        }
    }
    None
}

/// Adds the limit's answer to the public routes of `document`.
pub(crate) fn document(document: &mut OpenApi) {
    let retry_after = HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before the address is let in again"))
        .build();
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    let too_many = ResponseBuilder::new()
        .description(
            "Too many requests from this address while RATE_LIMIT_ENABLED is on: `Retry-After` \
             says when to retry",
        )
        .header("Retry-After", retry_after)
        .content("application/json", body)
        .build();
    for route in PUBLIC_ROUTES {
        let get = document
            .paths
            .paths
            .get_mut(route)
            .and_then(|item| item.get.as_mut());
        if let Some(get) = get {
            get.responses
                .responses
                .insert("429".to_owned(), too_many.clone().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use axum::extract::{ConnectInfo, Request};

    /// The key the limit counts a request from `peer` under.
    fn address_of(peer: &str) -> IpAddr {
        let peer: SocketAddr = peer.parse().unwrap();
        let mut request = Request::new(axum::body::Body::empty());
        request.extensions_mut().insert(ConnectInfo(peer));
        flags_http::client_address(request.extensions())
    }

    #[test]
    fn ipv6_addresses_of_one_network_share_a_quota_and_ipv4_ones_do_not() {
        assert_eq!(
            address_of("[2001:db8::1]:4000"),
            address_of("[2001:db8::ff]:4001")
        );
        assert_ne!(
            address_of("[2001:db8::1]:4000"),
            address_of("[2001:db8:0:1::1]:4000")
        );
        assert_ne!(address_of("127.0.0.1:4000"), address_of("127.0.0.2:4000"));
        assert_eq!(
            address_of("[::ffff:127.0.0.1]:4000"),
            address_of("127.0.0.1:1")
        );
    }
}
