//! The thin I/O around the sync engine: the kiosk's hub client for the network, SQLite
//! for the outbox.
//!
//! One [`Syncer`] per kiosk database, so one push is in flight at a time and ops go out
//! in order. The engine decides; this file only sends, reads the answer, and records.
//! Staff and measurement events go beside the ops, oldest first, until none wait.
//! [`Background`] runs it on the kiosk's network thread, which also answers the UI's
//! questions for the hub (a customer's list, a pairing, live stock, the health probe)
//! and sends the heartbeat every minute, with the camera's health the UI reports.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use reqwest::StatusCode;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::engine::{self, Next, Outcome, Policy};
use super::events;
use super::heartbeat::{self, CameraReport};
use super::outbox::{self, Device};
use crate::catalog::Catalog;
use crate::client::KioskClient;
use crate::net::describe;
use crate::pairing::{self, Pairing};
use crate::protocol::fleet::{CameraHealth, HEARTBEAT_SECONDS};
use crate::protocol::measure::MAX_EVENTS;
use crate::protocol::{MAX_STAFF_EVENTS, Owner, Problem, PushRequest, StaffEvents, StockAnswer, new_id};
use crate::staff::roster;
use crate::trust;

/// Catalog changes asked for per page.
pub const CATALOG_PAGE: usize = 2_000;
/// How often a running kiosk asks the hub for catalog changes.
pub const PULL_EVERY: Duration = Duration::from_secs(300);
/// How often a running kiosk tells the hub how it is doing.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(HEARTBEAT_SECONDS);

/// How a push went, for the engine. Never fails: every failure is an outcome.
async fn outcome(sent: reqwest::Result<reqwest::Response>, now: Timestamp) -> Outcome {
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Outcome::Failed { reason: describe(&e) },
    };
    let status = response.status();
    let retry_after = crate::net::retry_after(response.headers(), now);
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
    client: KioskClient,
    policy: Policy,
    /// The camera's health, as the UI last reported it (shared with [`SyncLink`]).
    camera: CameraReport,
    /// The directory holding the kiosk database, for the disk space free in heartbeats.
    data_dir: Option<PathBuf>,
}

impl Syncer {
    /// Opens the kiosk database; it must be enrolled.
    pub fn open(db: &Path, policy: Policy) -> anyhow::Result<Syncer> {
        let catalog = Catalog::open(db)?;
        Syncer::new(catalog, policy)
    }

    /// Drives an open kiosk database; it must be enrolled. Its directory, for the
    /// heartbeat's disk space, is where SQLite says the database file is.
    pub fn new(mut catalog: Catalog, policy: Policy) -> anyhow::Result<Syncer> {
        let device = enrolled(&mut catalog)?;
        let data_dir = data_dir_of(catalog.connection());
        Ok(Syncer {
            db: Arc::new(Mutex::new(catalog)),
            client: KioskClient::new(&device.hub_url, &device.token)?,
            policy,
            camera: CameraReport::default(),
            data_dir,
        })
    }

    async fn with_db<T: Send + 'static, E: std::error::Error + Send + Sync + 'static>(
        &self,
        f: impl FnOnce(&mut Catalog) -> Result<T, E> + Send + 'static,
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
                Ok::<_, rusqlite::Error>((state, stream, ops))
            })
            .await?;
        match engine::next(&state, &self.policy, now, ops.len()) {
            Next::Idle => return Ok(Step::Idle),
            Next::WaitUntil(at) => return Ok(Step::Waiting(at)),
            Next::Send { .. } => {}
        }
        let count = ops.len();
        let sent_on = stream.clone();
        let request = PushRequest { stream, ops };
        let timeout = self.policy.timeout.unsigned_abs();
        let outcome = outcome(self.client.send_ops(&request, timeout).await, Timestamp::now()).await;
        let shown = match &outcome {
            Outcome::Accepted(r) => format!("acked through {}", r.acked_seq),
            other => format!("{other:?}"),
        };
        let mut state = state;
        let effects = engine::on_outcome(&mut state, &self.policy, Timestamp::now(), outcome, rand::random());
        self.with_db(move |c| outbox::record_for(c.connection(), Some(&sent_on), &state, &effects, new_id))
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

    /// The brand's logo and fonts this kiosk does not have yet, by their digests. One
    /// that cannot be had now holds up nothing: the kiosk shows the brand's name and the
    /// type pair's fonts until a later pull brings it.
    async fn pull_brand_files(&self, brand: &crate::protocol::brand::Brand) -> anyhow::Result<()> {
        if let Some(logo) = brand.logo.clone() {
            let sha = logo.sha256.clone();
            if self
                .with_db(move |c| trust::brand_logo(c.connection(), &sha))
                .await?
                .is_none()
            {
                match self.client.brand_logo(&logo.sha256).await {
                    Ok(bytes) => {
                        let sha = logo.sha256;
                        self.with_db(move |c| trust::save_brand_logo(c.connection(), &sha, &bytes))
                            .await?
                    }
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "the brand's logo is not available"),
                }
            }
        }
        let fonts: Vec<String> = brand
            .titles_font
            .iter()
            .chain(&brand.text_font)
            .map(|f| f.sha256.clone())
            .collect();
        for sha in &fonts {
            let wanted = sha.clone();
            if self
                .with_db(move |c| trust::has_brand_font(c.connection(), &wanted))
                .await?
            {
                continue;
            }
            match self.client.brand_font(sha).await {
                Ok(bytes) => {
                    let sha = sha.clone();
                    self.with_db(move |c| trust::save_brand_font(c.connection(), &sha, &bytes))
                        .await?
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "one of the brand's fonts is not available"),
            }
        }
        self.with_db(move |c| trust::keep_brand_fonts(c.connection(), &fonts))
            .await
    }

    /// Pulls the customer-token keys, the web store's pages, the staff and what is popular
    /// in the shop, then catalog pages until the kiosk is up to date; returns the catalog
    /// changes applied.
    pub async fn pull_catalog(&self) -> anyhow::Result<usize> {
        // Erasures first; a hub that cannot say (an older one, a fault) holds up nothing
        // else: the next pull asks again.
        match self.pull_erasures().await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "deleted what this kiosk held of erased customers"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "the list of erased customers is not available"),
        }
        let keys = self.client.token_keys().await?;
        let settings = self.client.settings().await?;
        let staff = self.client.staff().await?;
        self.pull_brand_files(&settings.brand).await?;
        self.with_db(move |c| {
            trust::save(c.connection(), &keys, Timestamp::now())?;
            trust::save_settings(c.connection(), &settings, Timestamp::now())?;
            // The hub checked the rules; one it did not (an older hub) is logged, not fatal.
            if let Err(e) = c.set_synonyms(&settings.remote.synonyms) {
                tracing::warn!("the shop's search synonyms were not applied: {e}");
            }
            roster::save_staff(c.connection(), &staff.staff)
        })
        .await?;
        // Popularity only orders what is shown: a hub that cannot say (an older one, a
        // fault) holds up nothing, and the kiosk keeps what it had.
        if let Err(e) = self.pull_popular().await {
            tracing::debug!(error = %format!("{e:#}"), "what is popular in the shop is not available");
        }
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
                Ok::<_, crate::db::Error>(outbox::pulled(c.connection(), now)?)
            })
            .await?;
            // An empty page ends the pull even if the hub says more: never spin.
            if !has_more || count == 0 {
                return Ok(total);
            }
        }
    }

    /// Replaces the kiosk's copy of what is popular in its shop with the hub's; returns
    /// how many product groups it names.
    pub async fn pull_popular(&self) -> anyhow::Result<usize> {
        let popular = self.client.popular().await?;
        let count = popular.groups.len();
        self.with_db(move |c| c.save_popular(&popular.groups)).await?;
        Ok(count)
    }

    /// Hands the staff keypad's audit events to the hub, oldest first, until none wait.
    pub async fn push_staff_events(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            let events = self
                .with_db(|c| roster::pending_events(c.connection(), MAX_STAFF_EVENTS))
                .await?;
            if events.is_empty() {
                return Ok(sent);
            }
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            self.client.send_staff_events(&StaffEvents { events }).await?;
            sent += ids.len();
            self.with_db(move |c| roster::sent_events(c.connection(), &ids)).await?;
        }
    }

    /// Hands the kiosk's measurement events to the hub, oldest first, until none wait;
    /// the count of events dropped unsent goes with them. Returns the events handed over.
    pub async fn push_events(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            let batch = self.with_db(|c| events::pending(c.connection(), MAX_EVENTS)).await?;
            if batch.events.is_empty() && batch.dropped == 0 {
                return Ok(sent);
            }
            let ids: Vec<String> = batch.events.iter().map(|e| e.id.clone()).collect();
            let dropped = batch.dropped;
            let ack = self.client.send_events(&batch).await?;
            tracing::debug!(
                events = ids.len(),
                stored = ack.stored,
                rejected = ack.rejected,
                dropped,
                "measurement events pushed"
            );
            sent += ids.len();
            let last = ids.is_empty();
            self.with_db(move |c| events::sent(c.connection(), &ids, dropped))
                .await?;
            // Only the count went: nothing is left to send.
            if last {
                return Ok(sent);
            }
        }
    }

    /// What an assistant's "sync now" does: the backoff is waived once, then the outbox,
    /// the keypad's events and the measurement events go, then the catalog comes.
    pub async fn sync_now(&self) -> anyhow::Result<SyncReport> {
        self.with_db(|c| {
            let mut state = outbox::sender_state(c.connection())?;
            state.retry_at = None;
            outbox::record(c.connection(), &state, &engine::Effects::default(), new_id)
        })
        .await?;
        self.drain().await?;
        let events = self.push_staff_events().await?;
        let measured = self.push_events().await?;
        let changes = self.pull_catalog().await?;
        let status = self.with_db(|c| outbox::status(c.connection())).await?;
        if let Some(error) = status.last_error.filter(|_| status.pending > 0) {
            anyhow::bail!("{error}");
        }
        Ok(SyncReport {
            pending: status.pending,
            events,
            measured,
            changes,
        })
    }

    /// Fetches a signed-in customer's list from the hub into the local view (lines this
    /// kiosk has not sent yet stay as they are), proving the sign-in with the token they
    /// showed; returns how many lines the hub has. If the visit ended meanwhile, nothing
    /// is asked or kept.
    pub async fn fetch_customer(&self, alias: &str) -> anyhow::Result<usize> {
        let owner = Owner::Alias(alias.to_owned());
        let asked = owner.clone();
        let Some((visit, token)) = self
            .with_db(move |c| outbox::sign_in_token(c.connection(), &asked))
            .await?
        else {
            return Ok(0);
        };
        let list = self.client.customer_wishlist(alias, &token).await?;
        let lines: Vec<(String, bool, u64)> = list.items.into_iter().map(|l| (l.sku, l.present, l.hlc)).collect();
        let count = lines.len();
        let kept = self
            .with_db(move |c| outbox::merge_remote(c.connection(), &visit, &owner, &lines))
            .await?;
        Ok(if kept { count } else { 0 })
    }

    /// Deletes what the kiosk holds of customers the web store erased, as the hub lists
    /// them; returns how many rows named them.
    pub async fn pull_erasures(&self) -> anyhow::Result<usize> {
        let mut deleted = 0;
        let mut cursor = self.with_db(|c| outbox::erasure_cursor(c.connection())).await?;
        loop {
            let page = self.client.erasures(&cursor).await?;
            let (count, has_more) = (page.aliases.len(), page.has_more);
            cursor = page.next_cursor.clone();
            deleted += self
                .with_db(move |c| outbox::erase_aliases(c.connection(), &page.aliases, &page.next_cursor, new_id))
                .await?;
            if !has_more || count == 0 {
                return Ok(deleted);
            }
        }
    }

    /// Tells the hub how the kiosk is doing: its database's facts, its disk, its camera.
    /// Nothing is kept: a heartbeat that fails is replaced by the next one.
    pub async fn send_heartbeat(&self) -> anyhow::Result<()> {
        let dir = self.data_dir.clone();
        let (facts, disk_free) = self
            .with_db(move |c| {
                let facts = heartbeat::read(c.connection())?;
                Ok::<_, crate::db::Error>((facts, dir.as_deref().and_then(heartbeat::disk_free)))
            })
            .await?;
        let beat = heartbeat::build(facts, Timestamp::now(), self.camera.latest(), disk_free);
        let ack = self.client.heartbeat(&beat).await?;
        tracing::trace!(received_at = %ack.received_at, "heartbeat");
        Ok(())
    }

    /// Sends a heartbeat on its own task, so a slow or absent hub never holds up pushes,
    /// pulls or the UI's requests; a failure is only logged.
    fn spawn_heartbeat(&self) {
        let syncer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = syncer.send_heartbeat().await {
                tracing::debug!(error = %format!("{e:#}"), "the heartbeat did not reach the hub");
            }
        });
    }

    /// Runs until `shutdown` turns true: pushes whenever there is something to send (or
    /// `wake` is notified after an edit), pulls the catalog every [`PULL_EVERY`], sends a
    /// heartbeat every [`HEARTBEAT_EVERY`], and answers the UI's requests.
    pub async fn run(
        self,
        wake: Arc<Notify>,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut next_pull = tokio::time::Instant::now();
        let mut next_heartbeat = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_heartbeat {
                self.spawn_heartbeat();
                next_heartbeat = tokio::time::Instant::now() + HEARTBEAT_EVERY;
            }
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
            // Measurement waits behind the shoppers' edits.
            if let Err(e) = self.push_events().await {
                tracing::debug!(error = %format!("{e:#}"), "measurement events wait for the hub");
            }
            if tokio::time::Instant::now() >= next_pull {
                match self.pull_catalog().await {
                    Ok(n) if n > 0 => tracing::info!(changes = n, "catalog updated"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "catalog pull failed"),
                }
                next_pull = tokio::time::Instant::now() + PULL_EVERY;
            }
            let now = tokio::time::Instant::now();
            let until_pull = next_pull.saturating_duration_since(now);
            let until_heartbeat = next_heartbeat.saturating_duration_since(now);
            tokio::select! {
                _ = tokio::time::sleep(wait.min(until_pull).min(until_heartbeat)) => {}
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

/// The directory of the database file `conn` has open; `None` for one in memory.
fn data_dir_of(conn: &rusqlite::Connection) -> Option<PathBuf> {
    let file = Path::new(conn.path().filter(|p| !p.is_empty())?);
    file.parent().map(Path::to_path_buf)
}

/// `vitrine enroll`: exchanges the code and records the credential in the kiosk database.
pub async fn enroll(db: &Path, hub_url: &str, code: &str, name: Option<&str>) -> anyhow::Result<Device> {
    enroll_in(db, hub_url, code, name, None).await
}

/// [`enroll`], for shop `store` only when given: a code for another shop is refused by
/// the hub and stays unused, and nothing is saved.
pub async fn enroll_in(
    db: &Path,
    hub_url: &str,
    code: &str,
    name: Option<&str>,
    store: Option<&str>,
) -> anyhow::Result<Device> {
    let response = KioskClient::enroll(hub_url, code, name, store).await?;
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
        outbox::record(conn, &state, &effects, new_id)?;
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
    /// Measurement events handed over.
    pub measured: usize,
    /// Catalog changes pulled.
    pub changes: usize,
}

/// The UI's end of the sync thread: wake it after an edit, ask it for things.
#[derive(Clone)]
pub struct SyncLink {
    wake: Arc<Notify>,
    requests: mpsc::UnboundedSender<Request>,
    camera: CameraReport,
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

    /// Tells the sync thread how the camera is doing, for the next heartbeat; never
    /// waits (the UI calls it every few seconds).
    pub fn report_camera(&self, camera: CameraHealth) {
        self.camera.set(camera);
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
    /// Starts `syncer` on a thread of its own; the UI talks to it through `link`.
    pub fn start(syncer: Syncer) -> anyhow::Result<Background> {
        let camera = syncer.camera.clone();
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
            link: SyncLink { wake, requests, camera },
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
