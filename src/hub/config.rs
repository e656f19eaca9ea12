//! The hub's configuration (`--config FILE`, TOML): every field optional, checked once
//! into typed values with precise errors.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;

use super::{images, pairing, pass};
use crate::catalog::feed::MAX_FEED_BYTES;
use crate::protocol::params::FeedKind;

/// `--config FILE`, TOML. Everything is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Largest feed accepted, by upload or fetch, in MiB (default 1024).
    #[serde(default = "default_feed_mib")]
    pub max_feed_mib: usize,
    /// Feeds the hub fetches itself, on a schedule.
    #[serde(default, rename = "feed")]
    pub feeds: Vec<FeedSource>,
    /// The audience customer tokens for this brand's kiosks name (default `vitrine`).
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Customers whose demo pass (a page with their rotating QR code) the hub serves at
    /// `/pass/CUSTOMER`. For demos only: anyone who can reach the hub can open it.
    #[serde(default)]
    pub demo_passes: Vec<String>,
    /// The web store's pages kiosks send shoppers to.
    #[serde(default)]
    pub webstore: WebStorePages,
    /// How long a shopper has to confirm a sign-in with the phone (default 300 s).
    #[serde(default = "default_pairing_seconds")]
    pub pairing_seconds: u32,
    /// The chain's shops: `[[shop]] code = "PARIS-MARAIS", name = "Paris Marais",
    /// latitude = 48.857, longitude = 2.361`. Kiosks show the names, and other shops
    /// nearest first.
    #[serde(default, rename = "shop")]
    pub shops: Vec<ShopConfig>,
    /// How far ahead of the hub's clock a pushed op's clock may be, in seconds (default
    /// 300). An op further ahead is refused (`clock_ahead`), so one kiosk with a wrong
    /// clock cannot win every later edit or push the hub's clock out of reach.
    #[serde(default = "default_clock_skew")]
    pub max_clock_skew_seconds: u32,
    /// How long after a customer's token expired a kiosk's sign-in with it may still
    /// reach the hub (a kiosk that was offline), in hours (default 72). The grant to
    /// write that customer's list in that visit lasts as long.
    #[serde(default = "default_offline_grace")]
    pub offline_grace_hours: u32,
    /// Where catalog pictures may be fetched from beyond the public internet, such as the
    /// web store's picture server on the shop's network: networks (`192.168.1.0/24`,
    /// `fd00::/8`), addresses, or host names (`pictures.lan`, whatever they resolve to).
    /// Loopback, private, link-local and other special addresses are refused otherwise,
    /// so a picture URL in a feed cannot make the hub probe the network it stands in.
    #[serde(default)]
    pub picture_hosts_allowed: Vec<images::AllowedHost>,
    /// `[limits]`: requests a client may send before the hub answers 429.
    #[serde(default)]
    pub limits: RateLimits,
    /// `[measurement]`: how orders are credited to kiosks, and how long figures are kept.
    #[serde(default)]
    pub measurement: Measurement,
    /// `[webhooks]`: how the hub posts to the web store's endpoints.
    #[serde(default)]
    pub webhooks: Webhooks,
    /// `[export.ga4]`, `[export.posthog]`: kiosk events forwarded to the web store's
    /// analytics.
    #[serde(default)]
    pub export: Export,
    /// The address kiosks and browsers reach this hub at (`https://hub.example.com`):
    /// enrollment QR codes carry it, and over https the console's cookies are `Secure`.
    /// Without it, the console uses the address its page was asked at.
    #[serde(default)]
    pub public_url: Option<String>,
    /// `[brand]`: the chain's brand, fixed here rather than set in the console.
    #[serde(default, rename = "brand")]
    pub brand_file: Option<BrandFile>,
    /// `[brand]` read and checked (its logo loaded): what kiosks show, and what the
    /// console shows without letting anyone change it.
    #[serde(skip)]
    pub brand: Option<super::brand::Branding>,
    /// Pictures the hub serves without fetching them (the demo's); not in the file.
    #[serde(skip)]
    pub local_pictures: Option<Arc<dyn images::LocalPictures>>,
}

/// `[brand]`: `name = "Bijouterie Delvaux"`, `logo = "delvaux.svg"` (SVG or PNG, relative
/// to the config file), `background = "#fbfaf7"`, `accent = "#1f4e5f"`, `type_pair =
/// "classic"` or `"modern"`, and `[brand.welcome]` `fr = "…"`, `en = "…"` for the attract
/// screen. Colours must keep text readable: the hub refuses to start otherwise, saying
/// which contrast fell short.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandFile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub logo: Option<std::path::PathBuf>,
    #[serde(default)]
    pub background: Option<String>,
    #[serde(default)]
    pub accent: Option<String>,
    #[serde(default)]
    pub type_pair: Option<String>,
    /// The brand's own fonts (TrueType or OpenType under the SIL Open Font License),
    /// relative to the config file: titles and the wordmark, and everything else.
    #[serde(default)]
    pub titles_font: Option<std::path::PathBuf>,
    #[serde(default)]
    pub text_font: Option<std::path::PathBuf>,
    #[serde(default)]
    pub welcome: std::collections::BTreeMap<String, String>,
}

/// A file beside the config file, read up to `max` bytes: a device or a pipe named
/// there ends too.
fn read_beside(dir: &Path, path: &Path, what: &str, max: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let path = dir.join(path);
    let cannot = || format!("[brand] cannot read the {what} {}", path.display());
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .with_context(cannot)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    anyhow::ensure!(
        bytes.len() <= max,
        "[brand] the {what} {} is larger than the {max} bytes accepted",
        path.display()
    );
    Ok(bytes)
}

impl BrandFile {
    /// The brand this describes, its logo read from beside the config file (`dir`).
    pub fn load(&self, dir: &Path) -> anyhow::Result<super::brand::Branding> {
        use super::brand::FontRole;
        use crate::protocol::brand::{Brand, MAX_FONT_BYTES, MAX_LOGO_BYTES, TypePair};
        let type_pair = match self.type_pair.as_deref() {
            None => TypePair::default(),
            Some(key) => TypePair::from_key(key).with_context(|| {
                let known: Vec<&str> = TypePair::ALL.iter().map(|p| p.key()).collect();
                format!("[brand] type_pair is one of {}, not {key:?}", known.join(", "))
            })?,
        };
        let logo = self
            .logo
            .as_deref()
            .map(|path| read_beside(dir, path, "logo", MAX_LOGO_BYTES))
            .transpose()?;
        let brand = Brand {
            name: self.name.clone(),
            logo: None,
            background: self.background.clone(),
            accent: self.accent.clone(),
            type_pair,
            titles_font: None,
            text_font: None,
            welcome: self.welcome.clone(),
        };
        let mut branding = super::brand::Branding::new(brand, logo).map_err(|e| anyhow::anyhow!("[brand] {e}"))?;
        for (role, key, path) in [
            (FontRole::Titles, "titles_font", &self.titles_font),
            (FontRole::Text, "text_font", &self.text_font),
        ] {
            if let Some(path) = path {
                let bytes = read_beside(dir, path, key, MAX_FONT_BYTES)?;
                branding
                    .set_font(role, Some(bytes))
                    .map_err(|e| anyhow::anyhow!("[brand] {key} {}: {e}", path.display()))?;
            }
        }
        Ok(branding)
    }
}

/// `[limits]`: how many requests one client may send before the hub answers 429 with
/// `Retry-After`. Routes that take no credential (enrollment, the demo's pages) count per
/// address (the TCP peer; a proxy in front makes every client one), the rest per
/// credential. The defaults are far above what a shop's kiosks or a chain's web store
/// send, and far below what guessing enrollment codes needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per minute from one address to the routes without a credential (default 10).
    pub anonymous_per_minute: u32,
    /// How many of those may come at once (default 10).
    pub anonymous_burst: u32,
    /// Requests per second with one device credential or API key (default 500).
    pub credential_per_second: u32,
    /// How many of those may come at once (default 5000): a kiosk's first start fetches
    /// hundreds of pictures, a web store catching up pages the changes feed.
    pub credential_burst: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            anonymous_per_minute: 10,
            anonymous_burst: 10,
            credential_per_second: 500,
            credential_burst: 5_000,
        }
    }
}

/// A shop of the chain: `[[shop]] code = "PARIS-MARAIS", name = "Paris Marais",
/// latitude = 48.857, longitude = 2.361, time_zone = "Europe/Paris"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// The store code the local inventory feed uses.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Where the shop's days begin and end in reports (an IANA name; default
    /// `[measurement] time_zone`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl ShopConfig {
    /// The shop as kiosks are told of it.
    pub fn shop(&self) -> crate::protocol::Shop {
        crate::protocol::Shop {
            code: self.code.clone(),
            name: self.name.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
        }
    }
}

impl From<crate::protocol::Shop> for ShopConfig {
    fn from(shop: crate::protocol::Shop) -> ShopConfig {
        ShopConfig {
            code: shop.code,
            name: shop.name,
            latitude: shop.latitude,
            longitude: shop.longitude,
            time_zone: None,
        }
    }
}

/// `[measurement]`: the attribution rule's window, retention, and the chain's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measurement {
    /// An order is credited to a kiosk touch at most this many days before it (default 30).
    pub attribution_window_days: u32,
    /// Events, visits, orders and figures older than this are deleted (default 25).
    pub retention_months: u32,
    /// The shops' time zone where `[[shop]]` names none (an IANA name; default: the hub
    /// machine's).
    pub time_zone: Option<String>,
}

impl Default for Measurement {
    fn default() -> Measurement {
        Measurement {
            attribution_window_days: 30,
            retention_months: 25,
            time_zone: None,
        }
    }
}

/// `[webhooks]`: retries and where endpoints may be.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Webhooks {
    /// Seconds to wait before each retry of a failed delivery (default Standard Webhooks':
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the last, the delivery is given
    /// up. An endpoint's `Retry-After` lengthens a wait.
    pub retry_schedule_seconds: Vec<u32>,
    /// An endpoint failing every delivery for this long is disabled (default 72).
    pub disable_after_hours: u32,
    /// Where endpoints may be beyond the public internet, as `picture_hosts_allowed`.
    pub hosts_allowed: Vec<images::AllowedHost>,
}

impl Default for Webhooks {
    fn default() -> Webhooks {
        Webhooks {
            retry_schedule_seconds: vec![5, 300, 1_800, 7_200, 18_000, 36_000, 36_000],
            disable_after_hours: 72,
            hosts_allowed: Vec::new(),
        }
    }
}

/// `[export]`: where kiosk events are forwarded, as they arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    pub ga4: Option<Ga4>,
    pub posthog: Option<PostHog>,
    /// Where a self-hosted tool may be beyond the public internet, as
    /// `picture_hosts_allowed`.
    pub hosts_allowed: Vec<images::AllowedHost>,
}

/// `[export.ga4]`: Google Analytics 4's Measurement Protocol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ga4 {
    /// The web stream's measurement id, `G-…`.
    pub measurement_id: String,
    /// A Measurement Protocol API secret of that stream.
    pub api_secret: String,
    #[serde(default = "default_ga4_url")]
    pub url: String,
}

fn default_ga4_url() -> String {
    "https://www.google-analytics.com/mp/collect".to_owned()
}

/// `[export.posthog]`: PostHog's capture API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostHog {
    /// The project's API key, `phc_…`.
    pub api_key: String,
    /// The instance, e.g. `https://eu.i.posthog.com` (the default) or a self-hosted one.
    #[serde(default = "default_posthog_host")]
    pub host: String,
}

fn default_posthog_host() -> String {
    "https://eu.i.posthog.com".to_owned()
}

fn default_clock_skew() -> u32 {
    300
}

fn default_offline_grace() -> u32 {
    72
}

fn default_pairing_seconds() -> u32 {
    pairing::LIFETIME.as_secs() as u32
}

/// `[webstore]`: pages of the web store, as absolute http(s) URLs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebStorePages {
    /// Where a shopper confirms a kiosk sign-in on their phone; the hub adds `?code=`.
    /// Without it, sign-in with the phone is off (the demo hub serves a stand-in).
    pub pair_url: Option<String>,
    /// Where a kiosk's "take my list" code leads; the kiosk adds `skus` and attribution.
    pub list_url: Option<String>,
}

fn default_audience() -> String {
    "vitrine".to_owned()
}

fn default_feed_mib() -> usize {
    MAX_FEED_BYTES / (1024 * 1024)
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_feed_mib: default_feed_mib(),
            feeds: Vec::new(),
            audience: default_audience(),
            demo_passes: Vec::new(),
            webstore: WebStorePages::default(),
            pairing_seconds: default_pairing_seconds(),
            shops: Vec::new(),
            max_clock_skew_seconds: default_clock_skew(),
            offline_grace_hours: default_offline_grace(),
            picture_hosts_allowed: Vec::new(),
            limits: RateLimits::default(),
            measurement: Measurement::default(),
            webhooks: Webhooks::default(),
            export: Export::default(),
            public_url: None,
            brand_file: None,
            brand: None,
            local_pictures: None,
        }
    }
}

/// A feed the hub fetches: `[[feed]] kind = "products", url = "…", lang = "fr",
/// currency = "EUR", every_minutes = 60`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSource {
    pub kind: FeedKind,
    pub url: String,
    #[serde(default)]
    pub lang: Option<String>,
    /// The currency of prices the feed writes without one (`69.9`).
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default = "default_every")]
    pub every_minutes: u64,
}

fn default_every() -> u64 {
    60
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        anyhow::ensure!(text.len() <= 64 * 1024, "{} is larger than 64 KiB", path.display());
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("{} is not a valid hub config", path.display()))?;
        if let Some(brand) = &config.brand_file {
            config.brand = Some(brand.load(path.parent().unwrap_or(Path::new(".")))?);
        }
        anyhow::ensure!(
            (1..=MAX_FEED_BYTES / (1024 * 1024)).contains(&config.max_feed_mib),
            "max_feed_mib must be between 1 and {}",
            MAX_FEED_BYTES / (1024 * 1024)
        );
        for feed in &mut config.feeds {
            if let Some(code) = &feed.currency {
                feed.currency =
                    Some(crate::domain::currency(code).map_err(|e| anyhow::anyhow!("feed {}: {e}", feed.url))?);
            }
            anyhow::ensure!(
                feed.url.starts_with("https://") || feed.url.starts_with("http://"),
                "feed url '{}' must be http(s)",
                feed.url
            );
            anyhow::ensure!(feed.every_minutes >= 1, "every_minutes must be at least 1");
        }
        anyhow::ensure!(
            crate::protocol::valid_ref(&config.audience),
            "audience must be 1 to 128 printable characters"
        );
        anyhow::ensure!(
            (30..=1800).contains(&config.pairing_seconds),
            "pairing_seconds must be between 30 and 1800"
        );
        for (name, url) in [
            ("webstore.pair_url", &config.webstore.pair_url),
            ("webstore.list_url", &config.webstore.list_url),
            ("public_url", &config.public_url),
        ] {
            if let Some(url) = url {
                anyhow::ensure!(
                    url.len() <= 512 && reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                    "{name} must be an absolute http(s) URL of at most 512 characters"
                );
            }
        }
        if let Some(url) = &config.public_url {
            let bare = reqwest::Url::parse(url).is_ok_and(|u| {
                u.path() == "/" && u.query().is_none() && u.fragment().is_none() && u.username().is_empty()
            });
            anyhow::ensure!(
                bare,
                "public_url is the hub's scheme, host and port only, like https://hub.example.com"
            );
        }
        for shop in &config.shops {
            anyhow::ensure!(
                crate::protocol::valid_ref(&shop.code) && crate::protocol::valid_ref(&shop.name),
                "a shop's code and name are 1 to 128 printable characters"
            );
            let lat_ok = shop.latitude.is_none_or(|l| (-90.0..=90.0).contains(&l));
            let lon_ok = shop.longitude.is_none_or(|l| (-180.0..=180.0).contains(&l));
            anyhow::ensure!(
                lat_ok && lon_ok && shop.latitude.is_some() == shop.longitude.is_some(),
                "shop {}: give both latitude (-90 to 90) and longitude (-180 to 180), or neither",
                shop.code
            );
        }
        anyhow::ensure!(
            (1..=86_400).contains(&config.max_clock_skew_seconds),
            "max_clock_skew_seconds must be between 1 and 86400"
        );
        anyhow::ensure!(
            (1..=24 * 30).contains(&config.offline_grace_hours),
            "offline_grace_hours must be between 1 and 720"
        );
        anyhow::ensure!(config.shops.len() <= 10_000, "at most 10,000 shops");
        anyhow::ensure!(
            config.picture_hosts_allowed.len() <= images::MAX_ALLOWED_HOSTS,
            "picture_hosts_allowed lists at most {} hosts",
            images::MAX_ALLOWED_HOSTS
        );
        let hooks = &config.webhooks;
        anyhow::ensure!(
            hooks.retry_schedule_seconds.len() <= 20 && hooks.retry_schedule_seconds.iter().all(|s| *s <= 86_400),
            "webhooks.retry_schedule_seconds lists at most 20 waits of at most 86400 seconds"
        );
        anyhow::ensure!(
            (1..=24 * 30).contains(&hooks.disable_after_hours),
            "webhooks.disable_after_hours must be between 1 and 720"
        );
        anyhow::ensure!(
            hooks.hosts_allowed.len() <= images::MAX_ALLOWED_HOSTS,
            "webhooks.hosts_allowed lists at most {} hosts",
            images::MAX_ALLOWED_HOSTS
        );
        let export = &config.export;
        if let Some(ga4) = &export.ga4 {
            anyhow::ensure!(
                crate::protocol::valid_ref(&ga4.measurement_id) && crate::protocol::valid_ref(&ga4.api_secret),
                "export.ga4: measurement_id and api_secret are 1 to 128 printable characters"
            );
        }
        if let Some(posthog) = &export.posthog {
            anyhow::ensure!(
                crate::protocol::valid_ref(&posthog.api_key),
                "export.posthog: api_key is 1 to 128 printable characters"
            );
        }
        for (name, url) in [
            ("export.ga4.url", export.ga4.as_ref().map(|g| &g.url)),
            ("export.posthog.host", export.posthog.as_ref().map(|p| &p.host)),
        ] {
            if let Some(url) = url {
                anyhow::ensure!(
                    url.len() <= 512 && reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                    "{name} must be an absolute http(s) URL of at most 512 characters"
                );
            }
        }
        let limits = &config.limits;
        for (name, value, max) in [
            ("anonymous_per_minute", limits.anonymous_per_minute, 60_000),
            ("anonymous_burst", limits.anonymous_burst, 100_000),
            ("credential_per_second", limits.credential_per_second, 1_000_000),
            ("credential_burst", limits.credential_burst, 1_000_000),
        ] {
            anyhow::ensure!((1..=max).contains(&value), "limits.{name} must be between 1 and {max}");
        }
        for name in &config.demo_passes {
            anyhow::ensure!(
                pass::valid_pass_name(name),
                "demo pass '{name}' must be 1 to 64 letters, digits, '-' or '_'"
            );
        }
        Ok(config)
    }
}
