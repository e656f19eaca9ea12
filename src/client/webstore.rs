//! The web store's reference client for the hub API (`vitrine webstore`): upload feeds,
//! page through the wishlist changes, post consent, orders and refunds, read reports. A web store's developers can read it as the
//! shortest correct integration.

use std::time::Duration;

use anyhow::Context;

use crate::net::read_answer;
use crate::protocol::measure::{
    Consent, ConsentRequest, OrderReceipt, OrderRequest, RefundReceipt, RefundRequest, ShopsReport,
};
pub use crate::protocol::params::FeedKind;
use crate::protocol::params::{FeedQuery, PageQuery, ReportQuery, segment};
use crate::protocol::{ImportSummary, PushRequest, PushResponse, WishlistPage};

/// Which wishlist feed to page through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WishlistFeed {
    /// Lines changed since the cursor, removals included.
    Changes,
    /// Every present line, to start over; its last cursor continues with `Changes`.
    Snapshot,
}

/// A hub, seen by a web store with one API key.
pub struct WebStoreClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl WebStoreClient {
    /// Sends `request` with the key, and reads the hub's answer (its `Problem` as the error).
    async fn call<T: serde::de::DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        read_answer(response).await
    }

    pub fn new(hub_url: &str, key: &str) -> anyhow::Result<WebStoreClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("vitrine-webstore/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebStoreClient {
            http,
            base: hub_url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        })
    }

    /// Uploads a feed, which the hub imports at once; `lang` for a product feed that
    /// does not declare its language.
    pub async fn upload(&self, kind: FeedKind, body: Vec<u8>, mut query: FeedQuery) -> anyhow::Result<ImportSummary> {
        query.lang = query.lang.filter(|_| kind == FeedKind::Products);
        self.call(
            self.http
                .post(format!("{}/v1/webstore/feeds/{}", self.base, kind.as_str()))
                .query(&query)
                .body(body),
        )
        .await
    }

    /// One page of a wishlist feed.
    pub async fn wishlist(&self, feed: WishlistFeed, page: &PageQuery) -> anyhow::Result<WishlistPage> {
        let path = match feed {
            WishlistFeed::Changes => "changes",
            WishlistFeed::Snapshot => "snapshot",
        };
        self.call(
            self.http
                .get(format!("{}/v1/webstore/wishlist/{path}", self.base))
                .query(page),
        )
        .await
    }

    /// Sends a batch of the web store's own edits on its stream.
    pub async fn push(&self, request: &PushRequest) -> anyhow::Result<PushResponse> {
        self.call(self.http.post(format!("{}/v1/webstore/ops", self.base)).json(request))
            .await
    }

    /// Says whether a customer consented to their kiosk visits being linked to orders.
    pub async fn consent(&self, customer: &str, measurement: bool) -> anyhow::Result<Consent> {
        self.call(
            self.http
                .put(format!(
                    "{}/v1/webstore/customers/{}/consent",
                    self.base,
                    segment(customer)
                ))
                .json(&ConsentRequest { measurement }),
        )
        .await
    }

    /// Posts an order (idempotent by its id).
    pub async fn order(&self, order: &OrderRequest) -> anyhow::Result<OrderReceipt> {
        self.call(self.http.post(format!("{}/v1/webstore/orders", self.base)).json(order))
            .await
    }

    /// Posts a refund, or a cancellation without lines (idempotent by its id).
    pub async fn refund(&self, order_id: &str, refund: &RefundRequest) -> anyhow::Result<RefundReceipt> {
        self.call(
            self.http
                .post(format!(
                    "{}/v1/webstore/orders/{}/refunds",
                    self.base,
                    segment(order_id)
                ))
                .json(refund),
        )
        .await
    }

    /// The shops report over a period.
    pub async fn shops_report(&self, query: &ReportQuery) -> anyhow::Result<ShopsReport> {
        self.call(
            self.http
                .get(format!("{}/v1/webstore/reports/shops", self.base))
                .query(query),
        )
        .await
    }
}
