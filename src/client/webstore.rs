//! The web store's reference client for the hub API (`vitrine webstore`): upload feeds,
//! page through the wishlist changes. A web store's developers can read it as the
//! shortest correct integration.

use std::time::Duration;

use anyhow::Context;

use crate::net::read_answer;
pub use crate::protocol::params::FeedKind;
use crate::protocol::params::{FeedQuery, PageQuery};
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
    pub async fn upload(&self, kind: FeedKind, body: Vec<u8>, lang: Option<&str>) -> anyhow::Result<ImportSummary> {
        let query = FeedQuery {
            lang: lang.filter(|_| kind == FeedKind::Products).map(str::to_owned),
        };
        let response = self
            .http
            .post(format!("{}/v1/webstore/feeds/{}", self.base, kind.as_str()))
            .bearer_auth(&self.key)
            .query(&query)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        read_answer(response).await
    }

    /// One page of a wishlist feed.
    pub async fn wishlist(&self, feed: WishlistFeed, page: &PageQuery) -> anyhow::Result<WishlistPage> {
        let path = match feed {
            WishlistFeed::Changes => "changes",
            WishlistFeed::Snapshot => "snapshot",
        };
        let response = self
            .http
            .get(format!("{}/v1/webstore/wishlist/{path}", self.base))
            .bearer_auth(&self.key)
            .query(page)
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        read_answer(response).await
    }

    /// Sends a batch of the web store's own edits on its stream.
    pub async fn push(&self, request: &PushRequest) -> anyhow::Result<PushResponse> {
        let response = self
            .http
            .post(format!("{}/v1/webstore/ops", self.base))
            .bearer_auth(&self.key)
            .json(request)
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        read_answer(response).await
    }
}
