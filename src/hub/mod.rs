//! The hub (feature `hub`): the server the web store and the kiosks talk to.
//!
//! - [`api`]: the HTTP routes and their OpenAPI document;
//! - [`store`]: the SQLite file, its writer thread and reader pool;
//! - [`config`]: the configuration file, checked;
//! - [`feeds`]: feeds fetched on a schedule;
//! - [`auth`]: tokens, enrollment codes, scopes;
//! - [`customers`], [`staff`], [`pairing`]: who the shopper is, the shops' assistants,
//!   sign-in with the phone;
//! - [`measure`]: kiosks' events, the web store's consent and orders, the reports;
//! - [`export`]: kiosks' events forwarded to GA4 or PostHog;
//! - [`images`]: catalog pictures passed on to kiosks;
//! - [`pass`]: the demo's stand-in for the web store's pages;
//! - [`webhooks`]: announcing changes to the web store, signed, at least once;
//! - [`console`]: the hub in a browser, for store ops and marketing; [`accounts`] its
//!   people, [`admin`] the changes they (and the CLI) make, [`audit`] the log of them;
//! - [`fleet`]: the kiosks' heartbeats and alerts; [`kiosk_settings`] what store ops set
//!   for the chain, a shop or a kiosk;
//! - this module: serving with graceful shutdown, and a hub on its own thread.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod brand;
pub mod config;
pub mod console;
pub mod customers;
pub mod export;
pub mod feeds;
pub mod fleet;
pub mod grants;
pub mod images;
pub mod imports;
pub mod kiosk_settings;
pub mod measure;
pub mod pairing;
pub mod pass;
pub mod spool;
pub mod staff;
pub mod store;
pub mod webhooks;

pub use config::{Config, FeedSource, WebStorePages};
pub use store::feeds::{ImportError, import_feed};

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use api::{AppState, Failpoints};
pub use store::Place;
use store::Store;

/// The hub's database file inside its data directory.
pub const DB_FILE: &str = "hub.sqlite";

/// A hub ready to serve: its store, configuration and test failpoints.
#[derive(Clone)]
pub struct Hub {
    pub store: Store,
    pub failpoints: Arc<Failpoints>,
    pub config: Config,
    /// Where feed bodies are spooled (`DATA/spool`).
    pub spool: spool::Spool,
    /// The attribution rule, retention and the shops' time zones, checked.
    pub measure: Arc<measure::Settings>,
    /// The console's cookie keys, from the database.
    pub console: console::Keys,
}

impl Hub {
    /// A hub keeping its state in a SQLite file in `data`.
    pub fn open(data: &Path, config: Config) -> anyhow::Result<Hub> {
        Hub::open_at(data, &Place::File(db_path(data)), config)
    }

    /// A hub keeping its state at `place`; `data` holds what stays local (feeds being
    /// imported).
    pub fn open_at(data: &Path, place: &Place, config: Config) -> anyhow::Result<Hub> {
        std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
        let measure = Arc::new(measure::Settings::from_config(&config)?);
        let rules = store::Rules {
            max_skew: jiff::SignedDuration::from_secs(i64::from(config.max_clock_skew_seconds)),
            audience: config.audience.clone(),
            offline_grace: jiff::SignedDuration::from_hours(i64::from(config.offline_grace_hours)),
        };
        let store = Store::open(place, rules)
            .with_context(|| format!("cannot open the hub's database {}", place.describe()))?;
        let secure = config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let console = console::Keys::load(place.connect()?.sql(), secure)?;
        let spool = spool::Spool::new(&data.join("spool"), config.max_feed_mib * 1024 * 1024)
            .with_context(|| format!("cannot create {}", data.join("spool").display()))?;
        Ok(Hub {
            store,
            failpoints: Arc::default(),
            config,
            spool,
            measure,
            console,
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
            tokio::spawn(feeds::fetch_on_schedule(self.store.clone(), source, self.spool.clone()));
        }
        tokio::spawn(prune_on_schedule(self.store.clone(), self.measure.clone()));
        tokio::spawn(watch_fleet(self.store.clone()));
        let hooks = &self.config.webhooks;
        let webhook_targets = Arc::new(images::Targets::new(&hooks.hosts_allowed, "[webhooks] hosts_allowed"));
        tokio::spawn(webhooks::deliver::run(
            self.store.clone(),
            webhook_targets.clone(),
            Arc::new(webhooks::deliver::Schedule {
                retries: hooks.retry_schedule_seconds.clone(),
                disable_after: jiff::SignedDuration::from_hours(i64::from(hooks.disable_after_hours)),
            }),
            self.store.committed(),
        ));
        let export = &self.config.export;
        let export_targets = Arc::new(images::Targets::new(&export.hosts_allowed, "[export] hosts_allowed"));
        let exporters: [Option<Arc<dyn export::Exporter>>; 2] = [
            export
                .ga4
                .clone()
                .map(|config| Arc::new(export::ga4::Ga4 { config }) as _),
            export
                .posthog
                .clone()
                .map(|config| Arc::new(export::posthog::PostHog { config }) as _),
        ];
        for exporter in exporters.into_iter().flatten() {
            tokio::spawn(export::run(self.store.clone(), export_targets.clone(), exporter));
        }
        let state = AppState {
            store: self.store.clone(),
            failpoints: self.failpoints.clone(),
            spool: self.spool.clone(),
            pictures: images::Pictures::new(self.config.local_pictures.clone(), &self.config.picture_hosts_allowed),
            audience: self.config.audience.as_str().into(),
            demo_passes: self.config.demo_passes.clone().into(),
            pages: Arc::new(self.config.webstore.clone()),
            shops: self.config.shops.iter().map(config::ShopConfig::shop).collect(),
            pairing_lifetime: jiff::SignedDuration::from_secs(i64::from(self.config.pairing_seconds)),
            limits: Arc::new(api::limits::Limits::new(&self.config.limits)),
            measure: self.measure.clone(),
            webhook_targets,
            console: self.console.clone(),
            public_url: self.config.public_url.as_deref().map(Arc::from),
            feeds: self.config.feeds.clone().into(),
            brand: self.config.brand.clone().map(Arc::new),
        };
        let (router, _) = api::router(state);
        let router = router
            .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
            .layer(TraceLayer::new_for_http());
        // The TCP peer is who routes without a credential are counted by (`api::limits`).
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).with_graceful_shutdown(shutdown).await
    }
}

/// `vitrine hub --data DIR | --database URL --listen ADDR [--config FILE]`: serves until
/// Ctrl-C or SIGTERM.
pub fn run(data: &Path, place: &Place, listen: SocketAddr, config: Config) -> anyhow::Result<()> {
    let hub = Hub::open_at(data, place, config)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!(addr = %listener.local_addr()?, database = %place.describe(), "hub listening");
        hub.serve(listener, shutdown_signal()).await?;
        tracing::info!("hub stopped");
        Ok(())
    })
}

/// Deletes measurement past its retention, and webhook messages past theirs, now and
/// every six hours.
async fn prune_on_schedule(store: Store, settings: Arc<measure::Settings>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
    loop {
        every.tick().await;
        // One hub of several sweeps.
        if !store.lease("prune", jiff::SignedDuration::from_hours(5)).await {
            continue;
        }
        let settings = settings.clone();
        match store
            .write(move |w| {
                let now = jiff::Timestamp::now();
                let conn = w.db();
                Ok::<_, crate::db::Error>(
                    measure::prune(conn, &settings, now)?
                        + webhooks::prune(conn, now)?
                        + fleet::prune(conn, now)?
                        + imports::prune(conn, now)?
                        + console::session::prune(conn, now)?
                        + store::pairings::prune(conn, now)?,
                )
            })
            .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(deleted)) => tracing::info!(deleted, "measurement past its retention deleted"),
            Ok(Err(e)) => tracing::error!(error = %e, "cannot delete measurement past its retention"),
            Err(_) => return,
        }
    }
}

/// Judges every kiosk's alerts each minute: a kiosk that went quiet sends nothing that
/// would open its `offline` alert.
async fn watch_fleet(store: Store) {
    let started = jiff::Timestamp::now();
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        // One hub of several judges the alerts (each would open the same ones).
        if !store.lease("fleet", jiff::SignedDuration::from_secs(150)).await {
            continue;
        }
        match store
            .write(move |w| fleet::evaluate_all(w.db(), jiff::Timestamp::now(), started))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot judge the kiosks' alerts"),
            Err(_) => return,
        }
    }
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
    spawn_at(data, &Place::File(db_path(data)), config)
}

/// [`spawn_with`], its state at `place`.
pub fn spawn_at(data: &Path, place: &Place, config: Config) -> anyhow::Result<Running> {
    let hub = Hub::open_at(data, place, config)?;
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

/// The data directory's database path, for the CLI's offline commands.
pub fn db_path(data: &Path) -> PathBuf {
    data.join(DB_FILE)
}

/// A connection to the hub's database in `data` (created and migrated if needed), for
/// the admin commands, the demo and the benchmarks, beside or without a running hub.
pub fn open_db(data: &Path) -> anyhow::Result<rusqlite::Connection> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    Ok(crate::db::open(&db_path(data), crate::db::Schema::Hub)?)
}
