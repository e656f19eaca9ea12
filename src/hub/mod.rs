//! The hub (feature `hub`): the server the web store and the kiosks talk to.
//!
//! - [`api`]: the HTTP routes and their OpenAPI document;
//! - [`store`]: the SQLite file, its writer thread and reader pool;
//! - [`auth`]: tokens, enrollment codes, scopes;
//! - this module: configuration, serving with graceful shutdown, scheduled feed fetches.

pub mod api;
pub mod auth;
pub mod customers;
pub mod images;
pub mod pairing;
pub mod pass;
pub mod staff;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::catalog::feed::MAX_FEED_BYTES;
use crate::catalog::{InventoryFeed, ProductFeed};
use api::{AppState, Failpoints};
use store::Store;

/// The hub's database file inside its data directory.
pub const DB_FILE: &str = "hub.sqlite";

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
    pub shops: Vec<crate::protocol::Shop>,
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Products,
    Inventory,
}

/// A feed the hub fetches: `[[feed]] kind = "products", url = "…", lang = "fr", every_minutes = 60`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSource {
    pub kind: FeedKind,
    pub url: String,
    #[serde(default)]
    pub lang: Option<String>,
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
        let config: Config =
            toml::from_str(&text).with_context(|| format!("{} is not a valid hub config", path.display()))?;
        anyhow::ensure!(
            (1..=MAX_FEED_BYTES / (1024 * 1024)).contains(&config.max_feed_mib),
            "max_feed_mib must be between 1 and {}",
            MAX_FEED_BYTES / (1024 * 1024)
        );
        for feed in &config.feeds {
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
            ("pair_url", &config.webstore.pair_url),
            ("list_url", &config.webstore.list_url),
        ] {
            if let Some(url) = url {
                anyhow::ensure!(
                    url.len() <= 512 && reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                    "webstore.{name} must be an absolute http(s) URL of at most 512 characters"
                );
            }
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
        anyhow::ensure!(config.shops.len() <= 10_000, "at most 10,000 shops");
        for name in &config.demo_passes {
            anyhow::ensure!(
                pass::valid_pass_name(name),
                "demo pass '{name}' must be 1 to 64 letters, digits, '-' or '_'"
            );
        }
        Ok(config)
    }
}

/// A hub ready to serve: its store, configuration and test failpoints.
#[derive(Clone)]
pub struct Hub {
    pub store: Store,
    pub failpoints: Arc<Failpoints>,
    pub config: Config,
}

impl Hub {
    pub fn open(data: &Path, config: Config) -> anyhow::Result<Hub> {
        std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
        let store = Store::open(&data.join(DB_FILE))?;
        Ok(Hub {
            store,
            failpoints: Arc::default(),
            config,
        })
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if !self.config.demo_passes.is_empty() {
            tracing::info!("demo customer passes: http://{}/pass", listener.local_addr()?);
        }
        for source in self.config.feeds.clone() {
            tokio::spawn(fetch_on_schedule(
                self.store.clone(),
                source,
                self.config.max_feed_mib * 1024 * 1024,
            ));
        }
        let state = AppState {
            store: self.store.clone(),
            failpoints: self.failpoints.clone(),
            max_feed_bytes: self.config.max_feed_mib * 1024 * 1024,
            http: images::client(),
            audience: self.config.audience.as_str().into(),
            demo_passes: self.config.demo_passes.clone().into(),
            pages: Arc::new(self.config.webstore.clone()),
            shops: self.config.shops.clone().into(),
            pairings: Arc::new(std::sync::Mutex::new(pairing::Pairings::new(
                jiff::SignedDuration::from_secs(i64::from(self.config.pairing_seconds)),
            ))),
        };
        let (router, _) = api::router(state);
        let router = router
            .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
            .layer(TraceLayer::new_for_http());
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await
    }
}

/// `vitrine hub --data DIR --listen ADDR [--config FILE]`: serves until Ctrl-C or SIGTERM.
pub fn run(data: &Path, listen: SocketAddr, config: Config) -> anyhow::Result<()> {
    let hub = Hub::open(data, config)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!(addr = %listener.local_addr()?, data = %data.display(), "hub listening");
        hub.serve(listener, shutdown_signal()).await?;
        tracing::info!("hub stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// A hub on its own thread and runtime, for the demo and the tests.
pub struct Running {
    pub addr: SocketAddr,
    pub hub: Hub,
    /// The data directory it serves.
    pub data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a hub on `127.0.0.1:0` with its data in `data`.
pub fn spawn(data: &Path) -> anyhow::Result<Running> {
    spawn_with(data, Config::default())
}

/// [`spawn`], with a configuration.
pub fn spawn_with(data: &Path, config: Config) -> anyhow::Result<Running> {
    let hub = Hub::open(data, config)?;
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = hub.clone();
    let thread = std::thread::Builder::new().name("hub".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
            let _ = serving
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await;
        });
    })?;
    Ok(Running {
        addr,
        hub,
        data: data.to_owned(),
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Fetches a feed every `every_minutes` and imports it when it changed (ETag).
async fn fetch_on_schedule(store: Store, source: FeedSource, max_bytes: usize) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut etag: Option<String> = None;
    let mut every = tokio::time::interval(Duration::from_secs(source.every_minutes * 60));
    loop {
        every.tick().await;
        match fetch_once(&client, &store, &source, max_bytes, &mut etag).await {
            Ok(Some(line)) => tracing::info!(url = source.url, "{line}"),
            Ok(None) => tracing::debug!(url = source.url, "feed unchanged"),
            Err(e) => {
                tracing::warn!(url = source.url, error = %format!("{e:#}"), "feed fetch failed; the catalog is as it was")
            }
        }
    }
}

async fn fetch_once(
    client: &reqwest::Client,
    store: &Store,
    source: &FeedSource,
    max_bytes: usize,
    etag: &mut Option<String>,
) -> anyhow::Result<Option<String>> {
    let mut request = client.get(&source.url);
    if let Some(tag) = etag.as_deref() {
        request = request.header(reqwest::header::IF_NONE_MATCH, tag);
    }
    let response = request.send().await?.error_for_status()?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    let new_tag = response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = crate::sync::driver::read_body(response, max_bytes)
        .await
        .context("the feed was not read")?;
    let summary = import_feed(store, source.kind, body, source.lang.clone()).await?;
    *etag = new_tag;
    let line = match source.kind {
        FeedKind::Products => format!("products {summary}"),
        FeedKind::Inventory => format!("inventory {summary}"),
    };
    Ok(Some(line))
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Feed(#[from] crate::catalog::feed::FeedError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Parses a feed off the async threads and imports it on the writer thread: the one
/// path for uploads and scheduled fetches.
pub async fn import_feed(
    store: &Store,
    kind: FeedKind,
    body: impl AsRef<[u8]> + Send + 'static,
    lang: Option<String>,
) -> Result<crate::catalog::Summary, ImportError> {
    let parsed = tokio::task::spawn_blocking(move || {
        let body = body.as_ref();
        Ok::<_, crate::catalog::feed::FeedError>(match kind {
            FeedKind::Products => (Some(ProductFeed::parse(body, lang.as_deref())?), None),
            FeedKind::Inventory => (None, Some(InventoryFeed::parse(body)?)),
        })
    })
    .await
    .map_err(|_| store::StoreError::Closed)?;
    let (products, inventory) = parsed?;
    let report = store
        .write(move |w| {
            w.catalog
                .import(products.as_ref(), inventory.as_ref(), jiff::Timestamp::now())
        })
        .await?
        .map_err(store::StoreError::from)?;
    Ok(report.products.or(report.inventory).unwrap_or_default())
}

/// The data directory's database path, for the CLI's offline commands.
pub fn db_path(data: &Path) -> PathBuf {
    data.join(DB_FILE)
}
