//! Catalog pictures for kiosks. The hub passes on only the pictures its catalog names,
//! fetched from wherever the web store keeps them, unless a [`LocalPictures`] source
//! given in the configuration holds them (the demo's, built into the binary). Kiosks keep
//! what they get in their own disk cache, so the hub keeps none.
//!
//! A catalog may name any URL, so the hub fetches from the public internet only: else a
//! picture URL, a redirect or a host name resolving there would make the hub knock on its
//! own loopback, the shop's network or a cloud's metadata address for whoever wrote the
//! feed. Every address is checked where it is used: an address in a URL before sending
//! and at each redirect (reqwest connects to those without resolving), a host name on
//! the addresses it resolves to, which are the ones connected to (a name answering one
//! way to a check and another to the fetch gains nothing). A web store's server on the
//! shop's network is allowed by network or name in the config (`picture_hosts_allowed`).
//! Whatever failed, a kiosk is told the same; the cause goes to the hub's log. Webhook
//! deliveries go through the same checks ([`Targets`], [`client`]), with their own list.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Deserialize;

use crate::net::{BodyError, read_body};
use crate::protocol::MAX_IMAGE_BYTES;

/// Redirects followed from a picture's URL, each checked like the URL itself.
pub const MAX_REDIRECTS: usize = 3;
/// Entries `picture_hosts_allowed` may list.
pub const MAX_ALLOWED_HOSTS: usize = 1_000;

pub struct Picture {
    pub bytes: Bytes,
    pub content_type: String,
}

/// Pictures the hub has without fetching them.
pub trait LocalPictures: std::fmt::Debug + Send + Sync + 'static {
    /// The picture at `url`, if this source holds it.
    fn get(&self, url: &str) -> Option<Picture>;
}

/// Where the hub gets the pictures it passes on.
#[derive(Clone)]
pub struct Pictures {
    http: reqwest::Client,
    targets: Arc<Targets>,
    local: Option<Arc<dyn LocalPictures>>,
}

impl Pictures {
    /// Fetched from the web store's host, on the public internet or `allowed`; `local`
    /// first when given.
    pub fn new(local: Option<Arc<dyn LocalPictures>>, allowed: &[AllowedHost]) -> Pictures {
        let targets = Arc::new(Targets::new(allowed, "picture_hosts_allowed"));
        Pictures {
            http: client(&targets, Duration::from_secs(20), true),
            targets,
            local,
        }
    }

    /// The picture at `url`, which the caller has checked the catalog names.
    pub async fn get(&self, url: &str) -> Result<Picture, FetchError> {
        if let Some(picture) = self.local.as_ref().and_then(|local| local.get(url)) {
            return Ok(picture);
        }
        let url = reqwest::Url::parse(url).map_err(|e| Refused(format!("'{url}' is not a URL: {e}")))?;
        self.targets.check(&url)?;
        fetch(&self.http, url).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the hub does not fetch pictures from there: {0}")]
    Refused(#[from] Refused),
    #[error("the picture's server could not be reached or refused: {}", causes(.0))]
    Http(#[from] reqwest::Error),
    #[error("the picture's server answered {0:?}, not a picture")]
    NotAPicture(String),
    #[error("the picture is larger than {MAX_IMAGE_BYTES} bytes")]
    TooLarge,
}

impl From<BodyError> for FetchError {
    fn from(e: BodyError) -> FetchError {
        match e {
            BodyError::TooLarge(_) => FetchError::TooLarge,
            BodyError::Http(e) => FetchError::Http(e),
        }
    }
}

/// A URL, a redirect or a host name's addresses lead where pictures are not fetched from.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

/// An error and its sources, for the log: reqwest's own sentence leaves out why.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An entry of `picture_hosts_allowed`: a network (`192.168.1.0/24`, `fd00::/8`), one
/// address, or a host name (`pictures.lan`) trusted whatever it resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AllowedHost {
    Network(IpNet),
    Name(String),
}

impl FromStr for AllowedHost {
    type Err = String;

    fn from_str(text: &str) -> Result<AllowedHost, String> {
        if text.contains("://") {
            return Err(format!("picture host '{text}' is a URL; give its host name alone"));
        }
        if text.contains('/') {
            let net: IpNet = text.parse().map_err(|_| {
                format!("picture host '{text}' is not a network; write it as 192.168.1.0/24 or fd00::/8")
            })?;
            if net != net.trunc() {
                return Err(format!(
                    "picture host '{text}' has bits set past its prefix length; write {}",
                    net.trunc()
                ));
            }
            return Ok(AllowedHost::Network(net));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(AllowedHost::Network(IpNet::from(ip)));
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        if !valid_host_name(&name) {
            return Err(format!(
                "picture host '{text}' is neither a network (192.168.1.0/24), an address nor a host name \
                 (letters, digits, '-', '_' and '.', at most 253 characters)"
            ));
        }
        // A name whose last label is a number is read as an IPv4 address by URLs.
        if name
            .rsplit('.')
            .next()
            .is_some_and(|label| label.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("picture host '{text}' is not a valid address"));
        }
        Ok(AllowedHost::Name(name))
    }
}

impl TryFrom<String> for AllowedHost {
    type Error = String;

    fn try_from(text: String) -> Result<AllowedHost, String> {
        text.parse()
    }
}

fn valid_host_name(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// IPv4 networks that are not the public internet (IANA's special-purpose registry).
const SPECIAL_V4: [Ipv4Net; 15] = [
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8), // "this network", the unspecified address
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8), // private (RFC 1918)
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10), // shared, carrier-grade NAT
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8), // loopback
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, cloud metadata
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12), // private
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 0), 24), // IETF protocol assignments
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 2, 0), 24), // documentation
    Ipv4Net::new_assert(Ipv4Addr::new(192, 88, 99, 0), 24), // 6to4 relays (deprecated)
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16), // private
    Ipv4Net::new_assert(Ipv4Addr::new(198, 18, 0, 0), 15), // benchmarking
    Ipv4Net::new_assert(Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    Ipv4Net::new_assert(Ipv4Addr::new(203, 0, 113, 0), 24), // documentation
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4), // multicast
    Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4), // reserved, and broadcast
];

/// Global unicast, the only IPv6 the internet routes: outside it lie the unspecified
/// address, loopback, IPv4-compatible addresses, unique-local (fc00::/7), link-local
/// (fe80::/10), multicast (ff00::/8) and what is reserved.
const GLOBAL_V6: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Networks inside global unicast that are not the public internet.
const SPECIAL_V6: [Ipv6Net; 3] = [
    // IETF protocol assignments: Teredo, benchmarking, ORCHID.
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    Ipv6Net::new_assert(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation
];

/// Whether `ip` is on the public internet: not loopback, private, unique-local,
/// link-local, shared (CGNAT), multicast, broadcast, unspecified, documentation or
/// otherwise reserved, nor an IPv6 form of such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !SPECIAL_V4.iter().any(|net| net.contains(&v4)),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => GLOBAL_V6.contains(&v6) && !SPECIAL_V6.iter().any(|net| net.contains(&v6)),
        },
    }
}

/// The IPv4 address an IPv6 address reaches: mapped (`::ffff:a.b.c.d`), NAT64's
/// well-known prefix (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [.., a, b, c, d] = ip.octets();
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(a, b, c, d)),
        [0x2002, high, low, ..] => {
            let ([a, b], [c, d]) = (high.to_be_bytes(), low.to_be_bytes());
            Some(Ipv4Addr::new(a, b, c, d))
        }
        _ => None,
    }
}

/// Where the hub may send a request whose URL someone else chose (a feed's picture, a web
/// store's webhook endpoint): the public internet, and the config's additions, named by
/// `setting` in refusals.
#[derive(Debug, Default)]
pub struct Targets {
    networks: Vec<IpNet>,
    names: Vec<String>,
    setting: &'static str,
}

impl Targets {
    pub fn new(allowed: &[AllowedHost], setting: &'static str) -> Targets {
        let mut targets = Targets {
            setting,
            ..Targets::default()
        };
        for host in allowed {
            match host {
                AllowedHost::Network(net) => targets.networks.push(*net),
                AllowedHost::Name(name) => targets.names.push(name.clone()),
            }
        }
        targets
    }

    fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        is_public(ip) || self.networks.iter().any(|net| net.contains(&ip))
    }

    fn allows_name(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.names.iter().any(|name| name.eq_ignore_ascii_case(host))
    }

    /// What can be known of `url` before connecting: its scheme, and its host when it is
    /// an address (the resolver never sees those). Host names are checked on their
    /// addresses, by [`Resolver`].
    pub fn check(&self, url: &reqwest::Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!("{url} is not http(s)")));
        }
        let host = url.host_str().ok_or_else(|| Refused(format!("{url} names no host")))?;
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) if !self.allows(ip) => Err(Refused(format!(
                "{url}: {ip} is not a public address, and {} does not list it",
                self.setting
            ))),
            _ => Ok(()),
        }
    }
}

/// Resolves host names as the system does (getaddrinfo, on tokio's blocking threads) and
/// keeps the addresses pictures may come from: reqwest connects to what this returns.
struct Resolver {
    targets: Arc<Targets>,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(resolve(self.targets.clone(), name.as_str().to_owned()))
    }
}

async fn resolve(
    targets: Arc<Targets>,
    host: String,
) -> Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0_u16)).await?.collect();
    let named = targets.allows_name(&host);
    let kept: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|addr| named || targets.allows(addr.ip()))
        .collect();
    if kept.is_empty() {
        let found: Vec<String> = found.iter().map(|addr| addr.ip().to_string()).collect();
        return Err(Refused(format!(
            "{host} resolves to no public address nor one {} lists (it resolves to [{}])",
            targets.setting,
            found.join(", ")
        ))
        .into());
    }
    Ok(Box::new(kept.into_iter()))
}

/// At most [`MAX_REDIRECTS`], each to http(s) and, when its host is an address, to one
/// pictures may come from (a host name goes through [`Resolver`]).
fn redirects(targets: Arc<Targets>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // The first URL of `previous` is the picture's own, not a redirect.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused(format!("more than {MAX_REDIRECTS} redirects")));
        }
        let verdict = targets.check(attempt.url());
        match verdict {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// A client bounded in time and in redirects (none followed unless `follow`), going only
/// where [`Targets`] allows.
pub fn client(targets: &Arc<Targets>, timeout: Duration, follow: bool) -> reqwest::Client {
    let redirect = if follow {
        redirects(targets.clone())
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .redirect(redirect)
        .dns_resolver(Arc::new(Resolver {
            targets: targets.clone(),
        }))
        // A proxy would resolve and connect on the hub's behalf, past every check.
        .no_proxy()
        .user_agent(concat!("vitrine-hub/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client")
}

async fn fetch(client: &reqwest::Client, url: reqwest::Url) -> Result<Picture, FetchError> {
    let response = client.get(url).send().await?.error_for_status()?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !content_type.starts_with("image/") {
        return Err(FetchError::NotAPicture(content_type));
    }
    let body = read_body(response, MAX_IMAGE_BYTES).await?;
    Ok(Picture {
        bytes: body.into(),
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_ipv4_addresses_are_not_public() {
        for text in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.168.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(text)), "{text} passed as public");
        }
    }

    #[test]
    fn public_ipv4_addresses_are_public_up_to_the_edges_of_the_special_ranges() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(is_public(ip(text)), "{text} refused as special");
        }
    }

    #[test]
    fn special_ipv6_addresses_and_ipv6_forms_of_special_ipv4_are_not_public() {
        for text in [
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "64:ff9b:1::1",
            "::ffff:0.0.0.0",
            "::ffff:10.0.0.1",
            "::ffff:100.64.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:172.16.0.1",
            "::ffff:192.168.1.1",
            "::ffff:224.0.0.1",
            "::ffff:255.255.255.255",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
        ] {
            assert!(!is_public(ip(text)), "{text} passed as public");
        }
    }

    #[test]
    fn public_ipv6_addresses_and_forms_of_public_ipv4_are_public() {
        for text in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2001:200::1",
            "2a00:1450:4007::1",
            "3000::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(text)), "{text} refused as special");
        }
    }

    #[test]
    fn allowed_hosts_parse_into_networks_and_names() {
        let parse = |text: &str| text.parse::<AllowedHost>();
        assert_eq!(
            parse("192.168.1.0/24"),
            Ok(AllowedHost::Network("192.168.1.0/24".parse().unwrap()))
        );
        assert_eq!(parse("fd00::/8"), Ok(AllowedHost::Network("fd00::/8".parse().unwrap())));
        assert_eq!(
            parse("10.0.0.5"),
            Ok(AllowedHost::Network("10.0.0.5/32".parse().unwrap()))
        );
        assert_eq!(parse("::1"), Ok(AllowedHost::Network("::1/128".parse().unwrap())));
        assert_eq!(parse("Pictures.LAN."), Ok(AllowedHost::Name("pictures.lan".into())));
        let refused = |text: &str, why: &str| {
            let message = parse(text).expect_err(text);
            assert!(message.contains(why), "{text}: {message}");
        };
        refused("192.168.1.5/24", "write 192.168.1.0/24");
        refused("192.168.1.0/33", "not a network");
        refused("pictures.lan/24", "not a network");
        refused("http://pictures.lan", "is a URL");
        refused("192.168.1.300", "not a valid address");
        refused("*.lan", "neither a network");
        refused("", "neither a network");
        refused("-pictures.lan", "neither a network");
        refused(&"a".repeat(254), "neither a network");
    }

    fn targets(allowed: &[&str]) -> Targets {
        let allowed: Vec<AllowedHost> = allowed.iter().map(|h| h.parse().unwrap()).collect();
        Targets::new(&allowed, "picture_hosts_allowed")
    }

    #[test]
    fn urls_naming_addresses_are_checked_before_sending() {
        let check = |targets: &Targets, url: &str| targets.check(&reqwest::Url::parse(url).unwrap()).is_ok();
        let public = targets(&[]);
        for url in [
            "http://127.0.0.1/a.png",
            "http://127.0.0.1:8080/a.png",
            "http://[::1]/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
            "http://[::ffff:7f00:1]/a.png",
            // Other spellings of 127.0.0.1, which URLs read as the same address.
            "http://2130706433/a.png",
            "http://0x7f.1/a.png",
            "http://0177.0.0.1/a.png",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/a.png",
            "ftp://pictures.example.com/a.png",
        ] {
            assert!(!check(&public, url), "{url} passed");
        }
        for url in [
            "https://pictures.example.com/a.png",
            "http://8.8.8.8/a.png",
            "https://[2606:4700::1]/a.png",
        ] {
            assert!(check(&public, url), "{url} refused");
        }
        let lan = targets(&["192.168.1.0/24", "127.0.0.0/8"]);
        for url in [
            "http://192.168.1.20/a.png",
            "http://127.0.0.1/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
        ] {
            assert!(check(&lan, url), "{url} refused though allowed");
        }
        for url in [
            "http://192.168.2.20/a.png",
            "http://10.0.0.1/a.png",
            "http://[::1]/a.png",
        ] {
            assert!(!check(&lan, url), "{url} passed beside the allowed networks");
        }
    }

    #[test]
    fn host_names_are_allowed_by_what_they_resolve_to_or_by_name() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let resolved = |allowed: &[&str], host: &str| {
            rt.block_on(resolve(Arc::new(targets(allowed)), host.to_owned()))
                .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>())
        };
        // `localhost` comes from /etc/hosts: no network needed.
        let refused = resolved(&[], "localhost").expect_err("localhost is loopback");
        assert!(
            refused.to_string().contains("resolves to no public address"),
            "{refused}"
        );
        assert!(resolved(&["localhost"], "localhost").is_ok_and(|ips| ips.iter().any(IpAddr::is_loopback)));
        assert!(resolved(&["LOCALHOST."], "localhost").is_ok());
        assert!(resolved(&["127.0.0.0/8"], "localhost").is_ok_and(|ips| ips.iter().all(|ip| ip.is_loopback())));
        assert!(resolved(&["10.0.0.0/8"], "localhost").is_err());
    }
}
