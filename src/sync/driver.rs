//! The thin I/O around the sync engine: reqwest for the hub, SQLite for the outbox.
//!
//! One [`Syncer`] per kiosk database, so one push is in flight at a time and ops go out
//! in order. The engine decides; this file only sends, reads the answer, and records.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::engine::{self, Next, Outcome, Policy};
use super::outbox::{self, Device};
use super::pairing::{self, Pairing};
use super::{staff, trust};
use crate::catalog::Catalog;
use crate::protocol::{
    CatalogPage, CustomerWishlist, EnrollRequest, EnrollResponse, KioskSettings, MAX_STAFF_EVENTS, Owner, Problem,
    PushRequest, StaffEvents, StaffEventsAck, StaffList, StockAnswer, StockQuery, TokenKeys,
};

/// Catalog changes asked for per page.
pub const CATALOG_PAGE: usize = 2_000;
/// How often a running kiosk asks the hub for catalog changes.
pub const PULL_EVERY: Duration = Duration::from_secs(300);
/// How long a question an assistant waits on (live stock) may take before the kiosk
/// shows what it has.
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(3);

/// An HTTP client for one hub.
#[derive(Clone)]
pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) token: String,
}

impl Client {
    pub fn new(hub_url: &str, token: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("vitrine/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: hub_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// Exchanges an enrollment code for a device credential.
    pub async fn enroll(hub_url: &str, code: &str, name: Option<&str>) -> anyhow::Result<EnrollResponse> {
        let client = Client::new(hub_url, "")?;
        let response = client
            .http
            .post(format!("{}/v1/kiosk/enroll", client.base))
            .json(&EnrollRequest {
                code: code.to_owned(),
                name: name.map(str::to_owned),
            })
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {hub_url}"))?;
        read_answer(response).await
    }

    /// Sends one batch and says how it went. Never fails: every failure is an outcome.
    pub async fn push(&self, request: &PushRequest, now: Timestamp, timeout: Duration) -> Outcome {
        let sent = self
            .http
            .post(format!("{}/v1/kiosk/ops", self.base))
            .bearer_auth(&self.token)
            .timeout(timeout)
            .json(request)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Failed { reason: describe(&e) };
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers(), now);
        match status {
            StatusCode::OK => match response.json().await {
                Ok(body) => Outcome::Accepted(body),
                Err(e) => Outcome::Failed {
                    reason: format!("the hub's answer was cut or unreadable: {}", describe(&e)),
                },
            },
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Outcome::Busy { retry_after },
            StatusCode::CONFLICT => match response.json::<Problem>().await {
                Ok(p) if p.code == "seq_gap" => Outcome::Gap {
                    expected: p.expected_seq.unwrap_or(1),
                },
                Ok(p) if p.code == "seq_diverged" => Outcome::Diverged {
                    seq: p.seq.unwrap_or(0),
                },
                Ok(p) if p.code == "stream_taken" => Outcome::Diverged { seq: 0 },
                Ok(p) => Outcome::Failed {
                    reason: format!("409 {}: {}", p.code, p.message),
                },
                Err(e) => Outcome::Failed {
                    reason: format!("409 with an unreadable body: {}", describe(&e)),
                },
            },
            other => {
                let message = response
                    .json::<Problem>()
                    .await
                    .map_or_else(|_| String::new(), |p| format!(": {}", p.message));
                Outcome::Failed {
                    reason: format!("the hub answered {other}{message}"),
                }
            }
        }
    }

    /// Sends `request` with the device credential and reads the hub's answer.
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the hub: {}", describe(&e)))?;
        read_answer(response).await
    }

    /// The keys customer tokens may be signed with.
    pub async fn token_keys(&self) -> anyhow::Result<TokenKeys> {
        self.call(self.http.get(format!("{}/v1/kiosk/token-keys", self.base)))
            .await
    }

    /// A signed-in customer's wishlist, by the alias their token carried.
    pub async fn customer_wishlist(&self, alias: &str) -> anyhow::Result<CustomerWishlist> {
        let url = format!("{}/v1/kiosk/customers/{alias}/wishlist", self.base);
        self.call(self.http.get(url).timeout(Duration::from_secs(5))).await
    }

    /// The web store's pages this kiosk links to.
    pub async fn settings(&self) -> anyhow::Result<KioskSettings> {
        self.call(self.http.get(format!("{}/v1/kiosk/settings", self.base)))
            .await
    }

    /// The shop's assistants with their PIN hashes.
    pub async fn staff(&self) -> anyhow::Result<StaffList> {
        self.call(self.http.get(format!("{}/v1/kiosk/staff", self.base))).await
    }

    /// Hands audit events of the staff keypad to the hub.
    pub async fn send_staff_events(&self, events: &StaffEvents) -> anyhow::Result<StaffEventsAck> {
        self.call(
            self.http
                .post(format!("{}/v1/kiosk/staff/events", self.base))
                .json(events),
        )
        .await
    }

    /// Whether the hub answers its health check now, and how fast.
    pub async fn probe(&self) -> anyhow::Result<Duration> {
        let start = std::time::Instant::now();
        let response = self
            .http
            .get(format!("{}/healthz", self.base))
            .timeout(LIVE_TIMEOUT)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the hub: {}", describe(&e)))?;
        anyhow::ensure!(response.status().is_success(), "the hub answered {}", response.status());
        Ok(start.elapsed())
    }

    /// Every shop's stock of `skus`, as the hub has it now. Short: an assistant is waiting.
    pub async fn stock(&self, skus: Vec<String>) -> anyhow::Result<StockAnswer> {
        let request = self
            .http
            .post(format!("{}/v1/kiosk/stock", self.base))
            .json(&StockQuery { skus })
            .timeout(LIVE_TIMEOUT);
        self.call(request).await
    }

    pub async fn catalog_page(&self, cursor: &str, limit: usize) -> anyhow::Result<CatalogPage> {
        let response = self
            .http
            .get(format!("{}/v1/kiosk/catalog/changes", self.base))
            .bearer_auth(&self.token)
            .query(&[("cursor", cursor), ("limit", &limit.to_string())])
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        read_answer(response).await
    }
}

/// Why a picture did not come.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The hub could not be reached or did not answer in time: try again later.
    #[error("cannot reach the hub: {0}")]
    Unreachable(String),
    /// The hub answered, and not with the picture.
    #[error("the hub refused the picture ({0})")]
    Refused(StatusCode),
    #[error("the picture is larger than {} bytes", crate::protocol::MAX_IMAGE_BYTES)]
    TooLarge,
}

impl Client {
    /// A catalog picture through the hub.
    pub async fn picture(&self, url: &str) -> Result<Vec<u8>, PictureError> {
        let unreachable = |e: reqwest::Error| PictureError::Unreachable(describe(&e));
        let response = self
            .http
            .get(format!("{}/v1/kiosk/images", self.base))
            .bearer_auth(&self.token)
            .query(&[("url", url)])
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(unreachable)?;
        match response.status() {
            StatusCode::OK => {}
            // The hub is there but cannot get it now (origin down, database busy).
            s if s.is_server_error() => return Err(PictureError::Unreachable(format!("the hub answered {s}"))),
            s => return Err(PictureError::Refused(s)),
        }
        read_body(response, crate::protocol::MAX_IMAGE_BYTES)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge(_) => PictureError::TooLarge,
                BodyError::Http(e) => unreachable(e),
            })
    }
}

/// Why a response body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Reads a response body whole, refusing it as soon as it passes `limit` bytes: by its
/// announced length first, then as it arrives.
pub async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a hub answer: the body on success, the hub's `Problem` as the error otherwise.
pub async fn read_answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    if status.is_success() {
        return response.json().await.context("the hub's answer was cut or unreadable");
    }
    match response.json::<Problem>().await {
        Ok(p) => anyhow::bail!("the hub refused ({status}, {}): {}", p.code, p.message),
        Err(_) => anyhow::bail!("the hub answered {status}"),
    }
}

/// A short reason for a transport error, without the URL (it holds no secret, but it
/// is long and the same every time).
pub(super) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_decode() || e.is_body() {
        "the answer was cut"
    } else {
        "the request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = String::new();
    while let Some(s) = source {
        deepest = s.to_string();
        source = s.source();
    }
    if deepest.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {deepest}")
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap, now: Timestamp) -> Option<SignedDuration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(SignedDuration::from_secs(secs.max(0)));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?;
    Some(date.timestamp().duration_since(now).max(SignedDuration::ZERO))
}

/// The device a kiosk database is enrolled as, or how to enroll it.
pub fn enrolled(catalog: &mut Catalog) -> anyhow::Result<Device> {
    outbox::device(catalog.connection())?
        .context("this kiosk is not enrolled; run `vitrine enroll --data DIR --hub URL --code CODE` first")
}

/// How one push step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Idle,
    Waiting(Timestamp),
    Sent { ops: usize, outcome: String },
}

/// Drives the outbox of one kiosk database against its hub.
#[derive(Clone)]
pub struct Syncer {
    db: Arc<Mutex<Catalog>>,
    client: Client,
    policy: Policy,
}

impl Syncer {
    /// Opens the kiosk database; it must be enrolled.
    pub fn open(db: &Path, policy: Policy) -> anyhow::Result<Syncer> {
        let catalog = Catalog::open(db)?;
        Syncer::new(catalog, policy)
    }

    pub fn new(mut catalog: Catalog, policy: Policy) -> anyhow::Result<Syncer> {
        let device = enrolled(&mut catalog)?;
        Ok(Syncer {
            db: Arc::new(Mutex::new(catalog)),
            client: Client::new(&device.hub_url, &device.token)?,
            policy,
        })
    }

    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Catalog) -> rusqlite::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = self.db.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut catalog = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut catalog)
        })
        .await?;
        Ok(result?)
    }

    /// One decision of the engine: send a batch, or say why not.
    pub async fn push_step(&self) -> anyhow::Result<Step> {
        let now = Timestamp::now();
        let batch = self.policy.batch;
        let (state, stream, ops) = self
            .with_db(move |c| {
                let state = outbox::sender_state(c.connection())?;
                let (stream, ops) = outbox::pending(c.connection(), batch)?;
                Ok((state, stream, ops))
            })
            .await?;
        match engine::next(&state, &self.policy, now, ops.len()) {
            Next::Idle => return Ok(Step::Idle),
            Next::WaitUntil(at) => return Ok(Step::Waiting(at)),
            Next::Send { .. } => {}
        }
        let count = ops.len();
        let request = PushRequest { stream, ops };
        let timeout = self.policy.timeout.unsigned_abs();
        let outcome = self.client.push(&request, Timestamp::now(), timeout).await;
        let shown = match &outcome {
            Outcome::Accepted(r) => format!("acked through {}", r.acked_seq),
            other => format!("{other:?}"),
        };
        let mut state = state;
        let effects = engine::on_outcome(&mut state, &self.policy, Timestamp::now(), outcome, rand::random());
        self.with_db(move |c| outbox::record(c.connection(), &state, &effects, random_id))
            .await?;
        tracing::debug!(ops = count, outcome = shown, "push");
        Ok(Step::Sent {
            ops: count,
            outcome: shown,
        })
    }

    /// Pushes until the outbox is empty or the engine says to wait.
    pub async fn drain(&self) -> anyhow::Result<Step> {
        loop {
            match self.push_step().await? {
                Step::Sent { .. } => continue,
                other => return Ok(other),
            }
        }
    }

    /// Pulls catalog pages until the kiosk is up to date, then the customer-token keys;
    /// returns the catalog changes applied.
    pub async fn pull_catalog(&self) -> anyhow::Result<usize> {
        let keys = self.client.token_keys().await?;
        let settings = self.client.settings().await?;
        let staff = self.client.staff().await?;
        self.with_db(move |c| {
            trust::save(c.connection(), &keys, Timestamp::now())?;
            trust::save_settings(c.connection(), &settings, Timestamp::now())?;
            staff::save_staff(c.connection(), &staff.staff)
        })
        .await?;
        let mut total = 0;
        let mut cursor = self.with_db(|c| c.cursor()).await?;
        loop {
            let page = self.client.catalog_page(&cursor, CATALOG_PAGE).await?;
            let count = page.changes.len();
            total += count;
            let has_more = page.has_more;
            let moved = page.next_cursor != cursor;
            cursor = page.next_cursor.clone();
            self.with_db(move |c| {
                let now = Timestamp::now();
                if count > 0 || moved {
                    c.apply_changes(&page.changes, &page.next_cursor, now)?;
                }
                if let Some(at) = page.inventory_as_of {
                    crate::catalog::set_inventory_as_of(c.connection(), at)?;
                }
                outbox::pulled(c.connection(), now)
            })
            .await?;
            // An empty page ends the pull even if the hub says more: never spin.
            if !has_more || count == 0 {
                return Ok(total);
            }
        }
    }

    /// Hands the staff keypad's audit events to the hub, oldest first, until none wait.
    pub async fn push_staff_events(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            let events = self
                .with_db(|c| staff::pending_events(c.connection(), MAX_STAFF_EVENTS))
                .await?;
            if events.is_empty() {
                return Ok(sent);
            }
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            self.client.send_staff_events(&StaffEvents { events }).await?;
            sent += ids.len();
            self.with_db(move |c| staff::sent_events(c.connection(), &ids)).await?;
        }
    }

    /// What an assistant's "sync now" does: the backoff is waived once, then the outbox
    /// and the keypad's events go, then the catalog comes.
    pub async fn sync_now(&self) -> anyhow::Result<SyncReport> {
        self.with_db(|c| {
            let mut state = outbox::sender_state(c.connection())?;
            state.retry_at = None;
            outbox::record(c.connection(), &state, &engine::Effects::default(), random_id)
        })
        .await?;
        self.drain().await?;
        let events = self.push_staff_events().await?;
        let changes = self.pull_catalog().await?;
        let status = self.with_db(|c| outbox::status(c.connection())).await?;
        if let Some(error) = status.last_error.filter(|_| status.pending > 0) {
            anyhow::bail!("{error}");
        }
        Ok(SyncReport {
            pending: status.pending,
            events,
            changes,
        })
    }

    /// Fetches a signed-in customer's list from the hub into the local view (lines this
    /// kiosk has not sent yet stay as they are); returns how many lines the hub has.
    pub async fn fetch_customer(&self, alias: &str) -> anyhow::Result<usize> {
        let list = self.client.customer_wishlist(alias).await?;
        let owner = Owner::Alias(alias.to_owned());
        let lines: Vec<(String, bool, u64)> = list.items.into_iter().map(|l| (l.sku, l.present, l.hlc)).collect();
        let count = lines.len();
        self.with_db(move |c| outbox::merge_remote(c.connection(), &owner, &lines))
            .await?;
        Ok(count)
    }

    /// Runs until `shutdown` turns true: pushes whenever there is something to send (or
    /// `wake` is notified after an edit), pulls the catalog every [`PULL_EVERY`], and
    /// answers the UI's requests.
    pub async fn run(
        self,
        wake: Arc<Notify>,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut next_pull = tokio::time::Instant::now();
        loop {
            if let Err(e) = self.push_staff_events().await {
                tracing::debug!(error = %format!("{e:#}"), "staff events wait for the hub");
            }
            let wait = match self.push_step().await {
                Ok(Step::Sent { .. }) => continue,
                Ok(Step::Idle) => PULL_EVERY,
                Ok(Step::Waiting(at)) => at.duration_since(Timestamp::now()).unsigned_abs(),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "the outbox cannot be read");
                    Duration::from_secs(30)
                }
            };
            if tokio::time::Instant::now() >= next_pull {
                match self.pull_catalog().await {
                    Ok(n) if n > 0 => tracing::info!(changes = n, "catalog updated"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "catalog pull failed"),
                }
                next_pull = tokio::time::Instant::now() + PULL_EVERY;
            }
            let until_pull = next_pull.saturating_duration_since(tokio::time::Instant::now());
            tokio::select! {
                _ = tokio::time::sleep(wait.min(until_pull)) => {}
                _ = wake.notified() => {}
                Some(request) = requests.recv() => match request {
                    Request::Customer { alias, reply } => {
                        let _ = reply.send(self.fetch_customer(&alias).await);
                    }
                    // It waits for the shopper for minutes: on its own task.
                    Request::Pair { reply } => {
                        tokio::spawn(pairing::pair(self.client.clone(), reply));
                    }
                    Request::Probe { reply } => {
                        let client = self.client.clone();
                        tokio::spawn(async move { let _ = reply.send(client.probe().await); });
                    }
                    Request::Stock { skus, reply } => {
                        let client = self.client.clone();
                        tokio::spawn(async move { let _ = reply.send(client.stock(skus).await); });
                    }
                    Request::Pull { reply } => {
                        let _ = reply.send(self.pull_catalog().await);
                        next_pull = tokio::time::Instant::now() + PULL_EVERY;
                    }
                    Request::SyncNow { reply } => {
                        let _ = reply.send(self.sync_now().await);
                        next_pull = tokio::time::Instant::now() + PULL_EVERY;
                    }
                },
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}

/// A fresh random id, 128 bits in hex: stream ids, visit ids.
pub fn random_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `vitrine enroll`: exchanges the code and records the credential in the kiosk database.
pub async fn enroll(db: &Path, hub_url: &str, code: &str, name: Option<&str>) -> anyhow::Result<Device> {
    let response = Client::enroll(hub_url, code, name).await?;
    let device = Device {
        hub_url: hub_url.trim_end_matches('/').to_owned(),
        device_id: response.device_id,
        store_code: response.store_code,
        token: response.token,
    };
    let mut catalog = Catalog::open(db)?;
    let conn = catalog.connection();
    let previous = outbox::device(conn)?;
    outbox::save_device(conn, &device, Timestamp::now())?;
    // A stream belongs to the device that first sent on it: a re-enrolled kiosk goes on
    // with a new stream, resending what it holds.
    if previous.is_some_and(|p| p.device_id != device.device_id || p.hub_url != device.hub_url) {
        let state = outbox::sender_state(conn)?;
        let effects = engine::Effects {
            restart_stream: true,
            ..engine::Effects::default()
        };
        outbox::record(conn, &state, &effects, random_id)?;
    }
    Ok(device)
}

/// What the UI asks the sync thread for.
pub enum Request {
    /// Fetch a customer's list into the local view.
    Customer {
        alias: String,
        reply: oneshot::Sender<anyhow::Result<usize>>,
    },
    /// Start a sign-in with the phone.
    Pair {
        reply: oneshot::Sender<anyhow::Result<Pairing>>,
    },
    /// Whether the hub answers now (the staff health screen).
    Probe {
        reply: oneshot::Sender<anyhow::Result<Duration>>,
    },
    /// Every shop's stock of some SKUs, live from the hub.
    Stock {
        skus: Vec<String>,
        reply: oneshot::Sender<anyhow::Result<StockAnswer>>,
    },
    /// Pull the catalog (and the keys, pages, shops and staff) now.
    Pull {
        reply: oneshot::Sender<anyhow::Result<usize>>,
    },
    /// Push and pull now, whatever the backoff says.
    SyncNow {
        reply: oneshot::Sender<anyhow::Result<SyncReport>>,
    },
}

/// What a forced sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Wishlist ops still waiting (the hub refused or could not take them).
    pub pending: u64,
    /// Staff events handed over.
    pub events: usize,
    /// Catalog changes pulled.
    pub changes: usize,
}

/// The UI's end of the sync thread: wake it after an edit, ask it for things.
#[derive(Clone)]
pub struct SyncLink {
    wake: Arc<Notify>,
    requests: mpsc::UnboundedSender<Request>,
}

impl SyncLink {
    /// After a local edit: the sender goes at once instead of at its next wake-up.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Fetches a signed-in customer's list (saved online or at other kiosks) into the
    /// local view; any runtime may await it.
    pub async fn fetch_customer(&self, alias: &str) -> anyhow::Result<usize> {
        let alias = alias.to_owned();
        self.ask(|reply| Request::Customer { alias, reply }).await
    }

    /// Starts a sign-in with the phone: the code to show, and the shopper's answer to come.
    pub async fn pair(&self) -> anyhow::Result<Pairing> {
        self.ask(|reply| Request::Pair { reply }).await
    }

    /// Whether the hub answers now, and its round trip.
    pub async fn probe(&self) -> anyhow::Result<Duration> {
        self.ask(|reply| Request::Probe { reply }).await
    }

    /// Every shop's stock of `skus`, live from the hub.
    pub async fn stock(&self, skus: Vec<String>) -> anyhow::Result<StockAnswer> {
        self.ask(|reply| Request::Stock { skus, reply }).await
    }

    /// Pulls the catalog now (an assistant's "refresh the catalog").
    pub async fn pull(&self) -> anyhow::Result<usize> {
        self.ask(|reply| Request::Pull { reply }).await
    }

    /// Pushes and pulls now (an assistant's "sync now").
    pub async fn sync_now(&self) -> anyhow::Result<SyncReport> {
        self.ask(|reply| Request::SyncNow { reply }).await
    }

    /// Sends the sync thread a request and awaits its answer.
    async fn ask<T>(&self, request: impl FnOnce(oneshot::Sender<anyhow::Result<T>>) -> Request) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| anyhow::anyhow!("the sync thread has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the sync thread has stopped"))?
    }
}

/// A [`Syncer`] running on its own thread and runtime, beside the kiosk's UI.
pub struct Background {
    pub link: SyncLink,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(syncer: Syncer) -> anyhow::Result<Background> {
        let wake = Arc::new(Notify::new());
        let (requests, received) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let notified = wake.clone();
        let thread = std::thread::Builder::new().name("sync".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(syncer.run(notified, received, stopped));
        })?;
        Ok(Background {
            link: SyncLink { wake, requests },
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
