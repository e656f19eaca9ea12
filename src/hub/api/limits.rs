//! Rate limits, counted before any handler runs: a client over its limit gets 429 with
//! `Retry-After` and a `rate_limited` Problem, and costs the hub no database read and no
//! turn of the writer.
//!
//! Routes that take no credential (enrollment, the demo's pages, the console's sign-in form
//! posts) count per address, tightly:
//! they are where codes get guessed. Every other route counts per credential, generously,
//! keyed by a hash of the bearer token read from the header alone (whether it is valid is
//! the handler's business), so a kiosk is never held back by its neighbours behind the
//! same shop router; and per address at sixteen credentials' worth, so made-up tokens do
//! not buy fresh counts without end. `/healthz` is never counted. GCRA through `governor`'s keyed limiters;
//! clients whose count is back to full are forgotten as requests go by, so memory holds
//! only the clients of the last burst's worth of time.
//!
//! The address is the TCP peer. Behind a reverse proxy every client is the proxy: trusting
//! `X-Forwarded-For` needs a list of trusted proxies, which the config does not have yet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::hub::auth::{DEVICE_PREFIX, KEY_PREFIX};
use crate::hub::config::RateLimits;

/// Requests between two sweeps of the clients whose count is back to full.
const SWEEP_EVERY: u64 = 1024;

/// Who a request counts against on the routes that take a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Caller {
    /// A bearer token of ours, by its SHA-256: one device or key, from wherever it comes.
    Credential([u8; 32]),
    /// No token, or not one of ours: the address it comes from.
    Address(IpAddr),
}

/// How a route counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Never: liveness, which load balancers and kiosks' health screens poll.
    Exempt,
    /// Takes no credential: per address, tightly.
    Anonymous,
    /// Takes a credential: per credential, generously.
    Credentialed,
}

fn class(method: &Method, path: &str) -> Class {
    match path {
        "/healthz" => Class::Exempt,
        // Passwords are tried here: the lockout holds per account, this per address.
        "/console/sign-in" if *method == Method::POST => Class::Anonymous,
        "/v1/kiosk/enroll" | "/pass" | "/pair" | "/list" => Class::Anonymous,
        _ if path.starts_with("/pass/") => Class::Anonymous,
        _ => Class::Credentialed,
    }
}

/// How many credentials' worth of requests one address may send to the routes that take
/// a credential: a shop's kiosks behind one router share it, and a client that makes up
/// a new token for each request (each would get a fresh count) is held to it.
const CREDENTIALS_PER_ADDRESS: u32 = 16;

/// The requests counted so far, per client.
pub struct Limits {
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    credential: DefaultKeyedRateLimiter<Caller>,
    /// Per address, on the routes that take a credential.
    address: DefaultKeyedRateLimiter<IpAddr>,
    requests: AtomicU64,
}

/// A request refused: when to come back, and what was counted.
#[derive(Debug)]
struct Refusal {
    wait: Duration,
    counted: &'static str,
}

impl Limits {
    /// The limits of `config`; a zero (which `Config::load` refuses) counts as one.
    pub fn new(config: &RateLimits) -> Limits {
        let positive = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let anonymous =
            Quota::per_minute(positive(config.anonymous_per_minute)).allow_burst(positive(config.anonymous_burst));
        let credential =
            Quota::per_second(positive(config.credential_per_second)).allow_burst(positive(config.credential_burst));
        let times = |n: u32| positive(n.saturating_mul(CREDENTIALS_PER_ADDRESS));
        let address =
            Quota::per_second(times(config.credential_per_second)).allow_burst(times(config.credential_burst));
        Limits {
            anonymous: RateLimiter::keyed(anonymous),
            credential: RateLimiter::keyed(credential),
            address: RateLimiter::keyed(address),
            requests: AtomicU64::new(0),
        }
    }

    /// Counts a request to `path` from `peer`; `Err` when its client is over its limit.
    fn check(&self, method: &Method, path: &str, headers: &HeaderMap, peer: IpAddr) -> Result<(), Refusal> {
        let class = class(method, path);
        if class == Class::Exempt {
            return Ok(());
        }
        self.sweep();
        let address = client_address(peer);
        if class == Class::Anonymous {
            return self.anonymous.check_key(&address).map_err(|not_until| Refusal {
                wait: not_until.wait_time_from(self.anonymous.clock().now()),
                counted: "from this address to routes without a credential",
            });
        }
        self.address.check_key(&address).map_err(|not_until| Refusal {
            wait: not_until.wait_time_from(self.address.clock().now()),
            counted: "from this address",
        })?;
        let caller = credential(headers).map_or(Caller::Address(address), Caller::Credential);
        self.credential.check_key(&caller).map_err(|not_until| Refusal {
            wait: not_until.wait_time_from(self.credential.clock().now()),
            counted: match caller {
                Caller::Credential(_) => "with this credential",
                Caller::Address(_) => "from this address without a credential",
            },
        })
    }

    /// Every [`SWEEP_EVERY`] requests, forgets the clients whose count is back to full:
    /// they are no different from clients never seen.
    fn sweep(&self) {
        if self.requests.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        self.anonymous.retain_recent();
        self.anonymous.shrink_to_fit();
        self.credential.retain_recent();
        self.credential.shrink_to_fit();
        self.address.retain_recent();
        self.address.shrink_to_fit();
    }
}

/// The layer: counts the request, and answers 429 in place of the route when its client is
/// over its limit. Clients are told apart by the TCP peer, which `Hub::serve` gives
/// (`ConnectInfo`); served without it, every client would count as one.
pub async fn limit(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let verdict = limits.check(request.method(), request.uri().path(), request.headers(), peer);
    match verdict {
        Ok(()) => next.run(request).await,
        Err(refusal) => refused(refusal),
    }
}

/// 429 with `Retry-After` in whole seconds.
fn refused(refusal: Refusal) -> Response {
    let seconds = retry_seconds(refusal.wait);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests {}; retry in {seconds} s", refusal.counted),
    )
    .retry_after(seconds)
    .into_response()
}

/// `wait` rounded up to whole seconds, at least one.
fn retry_seconds(wait: Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(seconds).unwrap_or(u32::MAX).max(1)
}

/// The bearer token of a request, by its SHA-256, if it has the shape of one of ours
/// (`vtk_…`, `vws_…`): read from the header alone, no database lookup before the count.
fn credential(headers: &HeaderMap) -> Option<[u8; 32]> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    let ours = token.starts_with(DEVICE_PREFIX) || token.starts_with(KEY_PREFIX);
    (ours && token.len() <= 128).then(|| Sha256::digest(token.as_bytes()).into())
}

/// The address a client counts under: an IPv4-mapped peer as IPv4, an IPv6 peer by its
/// /64, the least a site is given, so one host cannot dodge its count by changing
/// addresses within it.
fn client_address(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn limits(anonymous_burst: u32, credential_burst: u32) -> Limits {
        Limits::new(&RateLimits {
            anonymous_per_minute: 1,
            anonymous_burst,
            credential_per_second: 1,
            credential_burst,
        })
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        headers
    }

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn routes_count_by_whether_they_take_a_credential() {
        assert_eq!(class(&Method::GET, "/healthz"), Class::Exempt);
        assert_eq!(
            class(&Method::POST, "/console/sign-in"),
            Class::Anonymous,
            "passwords tried"
        );
        assert_eq!(
            class(&Method::GET, "/console/sign-in"),
            Class::Credentialed,
            "the page itself"
        );
        for path in ["/v1/kiosk/enroll", "/pass", "/pass/camille", "/pair", "/list"] {
            assert_eq!(class(&Method::GET, path), Class::Anonymous, "{path}");
        }
        let credentialed = [
            "/v1/kiosk/ops",
            "/v1/kiosk/pairings",
            "/v1/webstore/pairings/BCDF-GHJK",
            "/openapi.json",
            "/passes",
        ];
        for path in credentialed {
            assert_eq!(class(&Method::GET, path), Class::Credentialed, "{path}");
        }
    }

    #[test]
    fn an_address_over_its_limit_is_refused_and_others_are_not() {
        let limits = limits(3, 100);
        let none = HeaderMap::new();
        for _ in 0..3 {
            assert!(limits.check(&Method::GET, "/v1/kiosk/enroll", &none, HOME).is_ok());
        }
        let refusal = limits.check(&Method::GET, "/v1/kiosk/enroll", &none, HOME).unwrap_err();
        assert!(
            refusal.wait > Duration::ZERO && refusal.wait <= Duration::from_secs(60),
            "{refusal:?}"
        );
        assert!(
            limits.check(&Method::GET, "/pair", &none, HOME).is_err(),
            "the demo's pages share the count"
        );
        assert!(limits.check(&Method::GET, "/v1/kiosk/enroll", &none, AWAY).is_ok());
        assert!(limits.check(&Method::GET, "/healthz", &none, HOME).is_ok());
        assert!(
            limits
                .check(&Method::GET, "/v1/kiosk/ops", &bearer("vtk_a"), HOME)
                .is_ok(),
            "credentials count apart"
        );
    }

    #[test]
    fn a_credential_over_its_limit_is_refused_wherever_it_comes_from() {
        let limits = limits(100, 2);
        let (a, b) = (bearer("vtk_a"), bearer("vws_b"));
        assert!(limits.check(&Method::GET, "/v1/kiosk/ops", &a, HOME).is_ok());
        assert!(limits.check(&Method::GET, "/v1/kiosk/settings", &a, AWAY).is_ok());
        assert!(limits.check(&Method::GET, "/v1/kiosk/ops", &a, HOME).is_err());
        assert!(limits.check(&Method::GET, "/v1/webstore/ops", &b, HOME).is_ok());
        assert!(limits.check(&Method::GET, "/healthz", &a, HOME).is_ok());
        // No token, or not one of ours: counted by address.
        let none = HeaderMap::new();
        assert!(limits.check(&Method::GET, "/v1/kiosk/ops", &none, HOME).is_ok());
        assert!(
            limits
                .check(&Method::GET, "/v1/kiosk/ops", &bearer("guess"), HOME)
                .is_ok()
        );
        assert!(
            limits
                .check(&Method::GET, "/v1/kiosk/ops", &bearer("guess-again"), HOME)
                .is_err()
        );
    }

    #[test]
    fn made_up_credentials_still_count_against_their_address() {
        let limits = limits(100, 1);
        // A fresh token each time gets a fresh count of its own, but not a fresh address.
        for n in 0..CREDENTIALS_PER_ADDRESS {
            assert!(
                limits
                    .check(
                        &Method::GET,
                        "/v1/kiosk/ops",
                        &bearer(&format!("vtk_made_up_{n}")),
                        HOME
                    )
                    .is_ok()
            );
        }
        assert!(
            limits
                .check(&Method::GET, "/v1/kiosk/ops", &bearer("vtk_made_up_again"), HOME)
                .is_err()
        );
        assert!(
            limits
                .check(&Method::GET, "/v1/kiosk/ops", &bearer("vtk_elsewhere"), AWAY)
                .is_ok()
        );
    }

    #[test]
    fn credentials_are_read_from_the_header_alone() {
        assert!(credential(&bearer("vtk_abc")).is_some());
        assert_eq!(credential(&bearer("vtk_abc")), credential(&bearer(" vtk_abc ")));
        assert_ne!(credential(&bearer("vtk_abc")), credential(&bearer("vtk_abd")));
        assert_eq!(credential(&bearer("something")), None);
        assert_eq!(credential(&bearer(&format!("vtk_{}", "a".repeat(200)))), None);
        assert_eq!(credential(&HeaderMap::new()), None);
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dnRrX2E6"));
        assert_eq!(credential(&basic), None);
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ones_as_ipv4() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(client_address(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_address(ip("2001:db8:1:2:bbbb::9")), ip("2001:db8:1:2::"));
        assert_eq!(client_address(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(client_address(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_seconds(Duration::ZERO), 1);
        assert_eq!(retry_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_seconds(Duration::from_millis(5_999)), 6);
        assert_eq!(retry_seconds(Duration::from_secs(6)), 6);
    }

    #[test]
    fn a_refusal_is_a_problem_with_retry_after() {
        let response = refused(Refusal {
            wait: Duration::from_millis(2_500),
            counted: "with this credential",
        });
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }
}
