//! A hub on `127.0.0.1:0` with the demo catalog, a web store key, and kiosks enrolled
//! with one-time codes: the world the sync tests run in. Everything is real: SQLite files
//! in a temp dir, HTTP on loopback, the same code paths as production.
//!
//! With `VITRINE_TEST_DATABASE=postgres` every hub the tests start keeps its state in a
//! database of its own on a PostgreSQL cluster the tests start (`db::cluster`): `.ci/test`
//! runs the hub's tests that way too, so both backends pass the same suite.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use vitrine::hub::{self, auth::Scope, store};
use vitrine::protocol::{Action, Owner, WishlistLine, WishlistPage};
use vitrine::sync::driver::Syncer;
use vitrine::sync::engine::Policy;
use vitrine::sync::outbox;

pub struct World {
    pub dir: tempfile::TempDir,
    pub hub: hub::Running,
    pub key: String,
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
}

/// A policy that retries in milliseconds, so fault tests do not wait.
pub fn quick_policy() -> Policy {
    Policy {
        base: SignedDuration::from_millis(5),
        cap: SignedDuration::from_millis(40),
        retry_after_cap: SignedDuration::from_millis(40),
        batch: 50,
        timeout: SignedDuration::from_millis(800),
    }
}

/// Waits until `done` holds, checking every 10 ms, and fails the test with `what` if it
/// does not within `within`. For what another thread or process does in its own time.
pub fn wait_until(what: &str, within: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "waited {within:?} for {what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Whether the tests' hubs run on PostgreSQL (`VITRINE_TEST_DATABASE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("VITRINE_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Where the test hub whose data directory is `data` keeps its state: its SQLite file, or
/// a fresh PostgreSQL database given to that directory on first use (and kept, so a hub
/// started again on it finds what it had).
pub fn hub_place(data: &Path) -> hub::Place {
    match database_url(data) {
        Some(url) => hub::Place::postgres(&url).unwrap(),
        None => hub::Place::File(hub::db_path(data)),
    }
}

/// Each test hub's database, by data directory: a PostgreSQL database, or `None` for a
/// hub kept in its SQLite file whatever the tests' backend.
static URLS: std::sync::Mutex<std::collections::BTreeMap<PathBuf, Option<String>>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Keeps the test hub whose data directory is `data` in the PostgreSQL database `url`,
/// or with `None` in its SQLite file, whatever the tests' backend.
pub fn keep_hub_in(data: &Path, url: Option<String>) {
    URLS.lock().unwrap().insert(data.to_owned(), url);
}

/// The PostgreSQL database of the test hub whose data directory is `data`, when the
/// tests run on PostgreSQL (made on first use) or it was given one.
pub fn database_url(data: &Path) -> Option<String> {
    let mut urls = URLS.lock().unwrap();
    if let Some(url) = urls.get(data) {
        return url.clone();
    }
    if !on_postgres() {
        return None;
    }
    let cluster = vitrine::db::cluster::shared()
        .unwrap_or_else(|e| panic!("VITRINE_TEST_DATABASE=postgres, but no cluster: {e}"));
    let url = cluster.hub_database().unwrap();
    urls.insert(data.to_owned(), Some(url.clone()));
    Some(url)
}

/// A command line as the tests' backend needs it: on PostgreSQL, a hub admin command's
/// (or `token mint`'s) `--data DIR` of a hub the tests started becomes `--database` with
/// its database. (Commands on a directory no hub was started on stay on SQLite.)
pub fn cli_args(args: &[&str]) -> Vec<String> {
    let admin = match args {
        ["hub", command, ..] => !command.starts_with("--"),
        ["token", ..] => true,
        _ => false,
    };
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        if admin
            && args[i] == "--data"
            && let Some(url) = args
                .get(i + 1)
                .and_then(|dir| URLS.lock().unwrap().get(Path::new(dir)).cloned().flatten())
        {
            out.extend(["--database".to_owned(), url]);
            i += 2;
            continue;
        }
        out.push(args[i].to_owned());
        i += 1;
    }
    out
}

/// A hub on `127.0.0.1:0` with its data in `data`, on the tests' backend.
pub fn spawn_hub(data: &Path, config: hub::Config) -> hub::Running {
    hub::spawn_at(data, &hub_place(data), config).unwrap()
}

/// A connection to the test hub's database, beside the running hub.
pub fn hub_conn(data: &Path) -> vitrine::db::Conn {
    std::fs::create_dir_all(data).unwrap();
    hub_place(data).connect().unwrap()
}

impl World {
    /// A hub with the demo catalog uploaded through its API.
    pub fn new() -> World {
        World::with_config(hub::Config::default())
    }

    /// A hub with no catalog.
    pub fn empty() -> World {
        World::empty_with(hub::Config::default())
    }

    /// A hub with the demo catalog (and its pictures) and this configuration.
    pub fn with_config(config: hub::Config) -> World {
        World::demo_in(tempfile::tempdir().unwrap(), config)
    }

    /// A hub with the demo catalog kept in its SQLite file whatever the tests' backend:
    /// an embedded hub, as `vitrine hub migrate` moves one.
    pub fn embedded(config: hub::Config) -> World {
        let dir = tempfile::tempdir().unwrap();
        keep_hub_in(&dir.path().join("hub"), None);
        World::demo_in(dir, config)
    }

    /// A hub with no catalog and this configuration.
    pub fn empty_with(config: hub::Config) -> World {
        World::empty_in(tempfile::tempdir().unwrap(), config)
    }

    /// A hub with the demo catalog that keeps its state in PostgreSQL whatever the tests'
    /// backend: for what only several hubs on one database show ([`World::second_hub`]).
    pub fn shared(config: hub::Config) -> World {
        let cluster = vitrine::db::cluster::shared().expect("a PostgreSQL cluster for the tests");
        World::shared_on(cluster.hub_database().unwrap(), config)
    }

    /// [`World::shared`], on the PostgreSQL database at `url`.
    pub fn shared_on(url: String, config: hub::Config) -> World {
        let dir = tempfile::tempdir().unwrap();
        keep_hub_in(&dir.path().join("hub"), Some(url));
        World::demo_in(dir, config)
    }

    fn demo_in(dir: tempfile::TempDir, mut config: hub::Config) -> World {
        config.local_pictures = Some(vitrine::demo::hub_pictures());
        let world = World::empty_in(dir, config);
        world.upload("products", vitrine::demo::products_fr().into_bytes(), Some("fr"));
        world.upload("inventory", vitrine::demo::inventory().into_bytes(), None);
        world
    }

    /// Another hub process on this world's database, as a chain runs several behind a
    /// load balancer (its own data directory for what stays local).
    pub fn second_hub(&self, config: hub::Config) -> hub::Running {
        let place = hub_place(&self.hub_data());
        assert!(
            matches!(place, hub::Place::Postgres(_)),
            "several hubs share PostgreSQL only"
        );
        let data = self.dir.path().join(format!("hub-{}", vitrine::protocol::new_id()));
        hub::spawn_at(&data, &place, config).unwrap()
    }

    fn empty_in(dir: tempfile::TempDir, config: hub::Config) -> World {
        let hub = spawn_hub(&dir.path().join("hub"), config);
        let key = store::create_key(
            &hub_conn(&dir.path().join("hub")),
            "test",
            &Scope::ALL,
            Timestamp::now(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        World {
            dir,
            hub,
            key,
            rt,
            http: reqwest::Client::new(),
        }
    }

    /// Another web store key, with only these scopes.
    pub fn key_with(&self, name: &str, scopes: &[Scope]) -> String {
        store::create_key(&hub_conn(&self.hub_data()), name, scopes, Timestamp::now()).unwrap()
    }

    pub fn hub_data(&self) -> PathBuf {
        self.dir.path().join("hub")
    }

    pub fn upload(&self, kind: &str, body: Vec<u8>, lang: Option<&str>) -> serde_json::Value {
        let mut url = format!("{}/v1/webstore/feeds/{kind}", self.hub.url());
        if let Some(lang) = lang {
            url.push_str(&format!("?lang={lang}"));
        }
        let (status, body) = self.request(reqwest::Method::POST, &url, Some(&self.key), Some(body), None);
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Sends a request and returns the status and the JSON body (Null if none).
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> (u16, serde_json::Value) {
        self.rt.block_on(async {
            let mut req = self.http.request(method, url);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            if let Some(body) = body {
                req = req.body(body);
            }
            let response = req.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        })
    }

    pub fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.hub.url());
        self.request(
            method,
            &url,
            token,
            Some(serde_json::to_vec(body).unwrap()),
            Some("application/json"),
        )
    }

    /// SKUs of the catalog, for tests to put on wishlists.
    pub fn skus(&self, n: usize) -> Vec<String> {
        let conn = hub_conn(&self.hub_data());
        conn.query_map(
            "SELECT DISTINCT sku FROM variant ORDER BY sku LIMIT ?1",
            vitrine::db::params![n as i64],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// A kiosk enrolled in `store` with `hub_url` (the hub itself, or a proxy in front).
    pub fn kiosk_at(&self, name: &str, store: &str, hub_url: &str) -> Kiosk {
        let data = self.dir.path().join(name);
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join(vitrine::db::KIOSK_DB);
        let code = store::create_enroll_code(&hub_conn(&self.hub_data()), store, Timestamp::now()).unwrap();
        self.rt
            .block_on(vitrine::sync::driver::enroll(&db, hub_url, &code, Some(name)))
            .unwrap();
        Kiosk {
            db,
            hub_url: self.hub.url(),
            key: self.key.clone(),
        }
    }

    pub fn kiosk(&self, name: &str) -> Kiosk {
        self.kiosk_at(name, vitrine::demo::HOME_STORE, &self.hub.url())
    }

    /// Pulls the catalog (and the keys, pages, shops and staff) into `kiosk`.
    pub fn pull(&self, kiosk: &Kiosk) -> usize {
        self.rt.block_on(kiosk.syncer(quick_policy()).pull_catalog()).unwrap()
    }

    /// A kiosk of `store` that has pulled its catalog through `hub_url`.
    pub fn pulled_kiosk_at(&self, name: &str, store: &str, hub_url: &str) -> Kiosk {
        let kiosk = self.kiosk_at(name, store, hub_url);
        self.pull(&kiosk);
        kiosk
    }

    /// A kiosk of the demo's home shop that has pulled its catalog.
    pub fn pulled_kiosk(&self, name: &str) -> Kiosk {
        self.pulled_kiosk_at(name, vitrine::demo::HOME_STORE, &self.hub.url())
    }

    /// A pulled kiosk with its sync thread running, as a shop runs one.
    pub fn running_kiosk(&self, name: &str) -> (Kiosk, vitrine::sync::driver::Background) {
        let kiosk = self.pulled_kiosk(name);
        let background = vitrine::sync::driver::Background::start(kiosk.syncer(quick_policy())).unwrap();
        (kiosk, background)
    }

    /// Every line of the changes feed, paging with `limit`; also the number of pages.
    pub fn pull_all(&self, limit: usize) -> (Vec<WishlistLine>, usize) {
        let mut cursor = String::new();
        let mut lines = Vec::new();
        let mut pages = 0;
        loop {
            let path = format!("/v1/webstore/wishlist/changes?limit={limit}&cursor={cursor}");
            let (status, body) = self.request(
                reqwest::Method::GET,
                &format!("{}{path}", self.hub.url()),
                Some(&self.key),
                None,
                None,
            );
            assert_eq!(status, 200, "{body}");
            let page: WishlistPage = serde_json::from_value(body).unwrap();
            pages += 1;
            assert!(pages < 10_000, "the feed does not end");
            lines.extend(page.changes);
            cursor = page.next_cursor;
            if !page.has_more {
                return (lines, pages);
            }
        }
    }

    /// A customer token, as the web store's app gets one.
    pub fn mint(&self, customer: &str) -> vitrine::protocol::MintResponse {
        let body = serde_json::json!({ "customer": customer });
        let (status, body) = self.json(reqwest::Method::POST, "/v1/webstore/tokens", Some(&self.key), &body);
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// The web store's first page of visits.
    pub fn visits(&self) -> vitrine::protocol::VisitPage {
        let url = format!("{}/v1/webstore/visits", self.hub.url());
        let (status, body) = self.request(reqwest::Method::GET, &url, Some(&self.key), None, None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// Erases a customer, as the web store does.
    pub fn erase(&self, customer: &str) {
        let url = format!("{}/v1/webstore/customers/{customer}", self.hub.url());
        let (status, body) = self.request(reqwest::Method::DELETE, &url, Some(&self.key), None, None);
        assert_eq!(status, 200, "{body}");
    }

    /// The hub's present lines per (owner, sku).
    pub fn hub_state(&self) -> std::collections::BTreeMap<(Owner, String), bool> {
        self.pull_all(5_000)
            .0
            .into_iter()
            .map(|l| ((l.owner, l.sku), l.present))
            .collect()
    }
}

pub struct Kiosk {
    pub db: PathBuf,
    /// The hub and a web store key, to mint the tokens customers sign in with.
    pub hub_url: String,
    pub key: String,
}

impl Kiosk {
    pub fn syncer(&self, policy: Policy) -> Syncer {
        Syncer::open(&self.db, policy).unwrap()
    }

    /// Its device credential, for requests a test sends as the kiosk.
    pub fn token(&self) -> String {
        let mut catalog = vitrine::catalog::Catalog::open(&self.db).unwrap();
        outbox::device(catalog.connection()).unwrap().unwrap().token
    }

    /// An edit of `customer`'s list, as the kiosk makes it: the first one signs them in
    /// to the visit `visit-CUSTOMER` with a token the web store mints, as a scan does.
    pub fn edit(&self, customer: &str, sku: &str, action: Action) -> outbox::Edited {
        let mut catalog = vitrine::catalog::Catalog::open(&self.db).unwrap();
        let visit = format!("visit-{customer}");
        let alias = self.signed_in(customer).unwrap_or_else(|| {
            let minted = self.mint(customer);
            let alias = Owner::Alias(minted.customer_alias.clone());
            outbox::sign_in(catalog.connection(), Timestamp::now(), &visit, &alias, &minted.token).unwrap();
            minted.customer_alias
        });
        outbox::edit(
            catalog.connection(),
            Timestamp::now(),
            &Owner::Alias(alias),
            sku,
            action,
            Some(&visit),
        )
        .unwrap()
    }

    /// The alias `customer` signed in to this kiosk with, if they did.
    pub fn signed_in(&self, customer: &str) -> Option<String> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(
            "SELECT alias FROM signed_in WHERE visit = ?1",
            [format!("visit-{customer}")],
            |r| r.get(0),
        )
        .ok()
    }

    /// A token for `customer`, from the web store's mint endpoint.
    pub fn mint(&self, customer: &str) -> vitrine::protocol::MintResponse {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}/v1/webstore/tokens", self.hub_url))
                .bearer_auth(&self.key)
                .json(&serde_json::json!({ "customer": customer }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json().await.unwrap()
        })
    }

    pub fn status(&self) -> outbox::Status {
        let mut catalog = vitrine::catalog::Catalog::open(&self.db).unwrap();
        outbox::status(catalog.connection()).unwrap()
    }

    /// The kiosk's local view per (owner, sku), tombstones included.
    pub fn local_state(&self) -> std::collections::BTreeMap<(Owner, String), bool> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        // A signed-in customer's lines are under their alias; the hub files them under
        // their reference, which the test's visit name carries.
        let mut stmt = conn
            .prepare(
                "SELECT w.owner_kind, COALESCE(substr(s.visit, 7), w.owner), w.sku, w.present
                 FROM wishlist w LEFT JOIN signed_in s ON w.owner_kind = 'alias' AND s.alias = w.owner",
            )
            .unwrap();
        stmt.query_map([], |r| {
            let kind: String = r.get(0)?;
            let owner: String = r.get(1)?;
            let owner = if kind == "visit" {
                Owner::Visit(owner)
            } else {
                Owner::Customer(owner)
            };
            Ok(((owner, r.get::<_, String>(2)?), r.get::<_, bool>(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }
}
