//! The kiosk's client for the hub API: enrollment, pushing ops, pulling the catalog and
//! what comes with it (keys, pages, staff, the shop's popular products), staff and
//! measurement events, pictures, live stock, the health probe, the heartbeat.
//! Every request carries the device credential; every refusal is the hub's `Problem`.

use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use sha2::Digest as _;

use crate::net::{BodyError, describe, read_answer, read_body};
use crate::protocol::fleet::{Heartbeat, HeartbeatAck};
use crate::protocol::measure::{EventsAck, KioskEvents, Popular};
use crate::protocol::params::{ImageQuery, PageQuery, segment};
use crate::protocol::{
    CUSTOMER_TOKEN_HEADER, CatalogPage, CustomerWishlist, EnrollRequest, EnrollResponse, ErasurePage, KioskSettings,
    PairingStarted, PairingStatus, Problem, PushRequest, StaffEvents, StaffEventsAck, StaffList, StockAnswer,
    StockQuery, TokenKeys,
};

/// How long a question an assistant waits on (live stock) may take before the kiosk
/// shows what it has.
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a heartbeat may take: the next one comes a minute later anyway, so a slow
/// hub is not waited on.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client for one hub.
#[derive(Clone)]
pub struct KioskClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl KioskClient {
    pub fn new(hub_url: &str, token: &str) -> anyhow::Result<KioskClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("vitrine/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(KioskClient {
            http,
            base: hub_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// Exchanges an enrollment code for a device credential.
    pub async fn enroll(
        hub_url: &str,
        code: &str,
        name: Option<&str>,
        store: Option<&str>,
    ) -> anyhow::Result<EnrollResponse> {
        let client = KioskClient::new(hub_url, "")?;
        let response = client
            .http
            .post(format!("{}/v1/kiosk/enroll", client.base))
            .json(&EnrollRequest {
                code: code.to_owned(),
                name: name.map(str::to_owned),
                store: store.map(str::to_owned),
            })
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {hub_url}"))?;
        read_answer(response).await
    }

    /// Sends one batch of ops; the sync driver reads the answer (`sync::driver`).
    pub async fn send_ops(&self, request: &PushRequest, timeout: Duration) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}/v1/kiosk/ops", self.base))
            .bearer_auth(&self.token)
            .timeout(timeout)
            .json(request)
            .send()
            .await
    }

    /// Sends `request` with the device credential and reads the hub's answer.
    pub(crate) async fn call<T: serde::de::DeserializeOwned>(
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
    pub async fn customer_wishlist(&self, alias: &str, token: &str) -> anyhow::Result<CustomerWishlist> {
        let url = format!("{}/v1/kiosk/customers/{}/wishlist", self.base, segment(alias));
        let request = self
            .http
            .get(url)
            .header(CUSTOMER_TOKEN_HEADER, token)
            .timeout(Duration::from_secs(5));
        self.call(request).await
    }

    /// Aliases of customers erased since `cursor`.
    pub async fn erasures(&self, cursor: &str) -> anyhow::Result<ErasurePage> {
        let query = PageQuery {
            cursor: Some(cursor.to_owned()).filter(|c| !c.is_empty()),
            limit: None,
        };
        self.call(self.http.get(format!("{}/v1/kiosk/erasures", self.base)).query(&query))
            .await
    }

    /// The web store's pages this kiosk links to.
    pub async fn settings(&self) -> anyhow::Result<KioskSettings> {
        self.call(self.http.get(format!("{}/v1/kiosk/settings", self.base)))
            .await
    }

    /// The chain's brand's logo, checked against the digest the settings named.
    pub async fn brand_logo(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/v1/kiosk/brand/logo", self.base);
        self.brand_file(url, sha256, crate::protocol::brand::MAX_LOGO_BYTES)
            .await
    }

    /// One of the brand's own fonts, checked against its digest.
    pub async fn brand_font(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/v1/kiosk/brand/fonts/{}", self.base, segment(sha256));
        self.brand_file(url, sha256, crate::protocol::brand::MAX_FONT_BYTES)
            .await
    }

    async fn brand_file(&self, url: String, sha256: &str, max: usize) -> anyhow::Result<Vec<u8>> {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the hub: {}", describe(&e)))?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "the hub answered {}",
            response.status()
        );
        let bytes = read_body(response, max)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read it: {e}"))?;
        // Changed between the settings and now: the next pull gets the new one.
        anyhow::ensure!(
            hex::encode(sha2::Sha256::digest(&bytes)) == sha256,
            "it changed on the hub since the settings were read"
        );
        Ok(bytes)
    }

    /// The shop's assistants with their PIN hashes.
    pub async fn staff(&self) -> anyhow::Result<StaffList> {
        self.call(self.http.get(format!("{}/v1/kiosk/staff", self.base))).await
    }

    /// What is popular in the kiosk's shop: its product groups by views and adds.
    pub async fn popular(&self) -> anyhow::Result<Popular> {
        self.call(self.http.get(format!("{}/v1/kiosk/popular", self.base)))
            .await
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

    /// Hands measurement events (visits, views, scans, searches) to the hub.
    pub async fn send_events(&self, events: &KioskEvents) -> anyhow::Result<EventsAck> {
        self.call(self.http.post(format!("{}/v1/kiosk/events", self.base)).json(events))
            .await
    }

    /// Tells the hub how the kiosk is doing (`sync::heartbeat` builds it). Never retried
    /// here: a failed one is replaced by the next, a minute later.
    pub async fn heartbeat(&self, beat: &Heartbeat) -> anyhow::Result<HeartbeatAck> {
        let request = self
            .http
            .post(format!("{}/v1/kiosk/heartbeat", self.base))
            .json(beat)
            .timeout(HEARTBEAT_TIMEOUT);
        self.call(request).await
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
            .query(&PageQuery {
                cursor: Some(cursor.to_owned()),
                limit: Some(limit),
            })
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

impl KioskClient {
    /// A catalog picture through the hub.
    pub async fn picture(&self, url: &str) -> Result<Vec<u8>, PictureError> {
        let unreachable = |e: reqwest::Error| PictureError::Unreachable(describe(&e));
        let response = self
            .http
            .get(format!("{}/v1/kiosk/images", self.base))
            .bearer_auth(&self.token)
            .query(&ImageQuery { url: url.to_owned() })
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

/// How a pairing stands, as a poll found it.
pub enum Polled {
    Status(PairingStatus),
    SlowDown,
    Gone,
}

impl KioskClient {
    /// Starts a sign-in with the phone.
    pub async fn start_pairing(&self) -> anyhow::Result<PairingStarted> {
        let url = format!("{}/v1/kiosk/pairings", self.base);
        self.call(self.http.post(url).timeout(Duration::from_secs(10))).await
    }

    /// How a pairing stands; `Gone` once the hub no longer knows it.
    pub async fn poll_pairing(&self, device_code: &str) -> anyhow::Result<Polled> {
        let response = self
            .http
            .get(format!("{}/v1/kiosk/pairings/{}", self.base, segment(device_code)))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the hub: {}", describe(&e)))?;
        match response.status() {
            StatusCode::TOO_MANY_REQUESTS => Ok(Polled::SlowDown),
            StatusCode::NOT_FOUND => match response.json::<Problem>().await {
                // The hub restarted, or dropped it: as good as expired.
                Ok(p) if p.code == "unknown_pairing" => Ok(Polled::Gone),
                _ => anyhow::bail!("the hub does not know pairings"),
            },
            _ => Ok(Polled::Status(read_answer(response).await?)),
        }
    }

    /// Tells the hub the code is no longer shown (best effort).
    pub async fn cancel_pairing(&self, device_code: &str) {
        let sent = self
            .http
            .delete(format!("{}/v1/kiosk/pairings/{}", self.base, segment(device_code)))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if let Err(e) = sent {
            tracing::debug!("could not tell the hub a pairing was cancelled: {}", describe(&e));
        }
    }
}
