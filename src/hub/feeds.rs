//! Feeds the hub fetches itself, on a schedule (`[[feed]]` in the config), with
//! `If-None-Match` so an unchanged feed costs nothing.

use std::time::Duration;

use anyhow::Context;

use super::config::FeedSource;
use super::imports::{self, Origin, Outcome};
use super::spool::Spool;
use super::store::Store;
use super::store::feeds::{ImportError, import_feed};

/// How the import log names a scheduled feed.
fn origin(source: &FeedSource) -> Origin {
    Origin {
        source: "fetch",
        by: source.url.clone(),
    }
}

/// Fetches a feed every `every_minutes` and imports it when it changed (ETag).
pub async fn fetch_on_schedule(store: Store, source: FeedSource, spool: Spool) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut etag: Option<String> = None;
    let mut every = tokio::time::interval(Duration::from_secs(source.every_minutes * 60));
    // One hub of several fetches each feed: the one holding its lease, renewed each time.
    let lease = format!("feed:{}:{}", source.kind.as_str(), source.url);
    let length = jiff::SignedDuration::from_secs(i64::try_from(source.every_minutes * 60).unwrap_or(i64::MAX) + 60);
    loop {
        every.tick().await;
        if !store.lease(&lease, length).await {
            continue;
        }
        match fetch_once(&client, &store, &source, &spool, &mut etag).await {
            Ok(Some(line)) => tracing::info!(url = source.url, "{line}"),
            Ok(None) => tracing::debug!(url = source.url, "feed unchanged"),
            Err(e) => {
                tracing::warn!(url = source.url, error = %format!("{e:#}"), "feed fetch failed; the catalog is as it was");
                // A feed refused whole is logged by the import; a fetch that failed, here.
                if !matches!(e.downcast_ref::<ImportError>(), Some(ImportError::Feed(_))) {
                    let outcome = Outcome::FetchFailed(format!("{e:#}"));
                    imports::record_unchanged(&store, origin(&source), source.kind, source.lang.clone(), outcome).await;
                }
            }
        }
    }
}

async fn fetch_once(
    client: &reqwest::Client,
    store: &Store,
    source: &FeedSource,
    spool: &Spool,
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
    let body = spool.response_body(response).await.context("the feed was not read")?;
    let options = crate::catalog::FeedOptions {
        lang: source.lang.clone(),
        currency: source.currency.clone(),
    };
    let summary = import_feed(store, source.kind, body, options, origin(source))
        .await?
        .summary;
    *etag = new_tag;
    Ok(Some(format!("{} {summary}", source.kind.as_str())))
}
