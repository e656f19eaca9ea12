//! A feed, parsed off the async threads and imported on the writer thread: the one path
//! for uploads and scheduled fetches.

use super::{Store, StoreError};
use crate::catalog::feed::FeedError;
use crate::catalog::{InventoryFeed, ProductFeed, Summary};
use crate::protocol::params::FeedKind;

/// Why a feed was not imported: it is not a feed, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses a feed off the async threads and imports it on the writer thread: the one
/// path for uploads and scheduled fetches.
pub async fn import_feed(
    store: &Store,
    kind: FeedKind,
    body: impl AsRef<[u8]> + Send + 'static,
    lang: Option<String>,
) -> Result<Summary, ImportError> {
    let parsed = tokio::task::spawn_blocking(move || {
        let body = body.as_ref();
        Ok::<_, FeedError>(match kind {
            FeedKind::Products => (Some(ProductFeed::parse(body, lang.as_deref())?), None),
            FeedKind::Inventory => (None, Some(InventoryFeed::parse(body)?)),
        })
    })
    .await
    .map_err(|_| StoreError::Closed)?;
    let (products, inventory) = parsed?;
    let report = store
        .write(move |w| {
            w.catalog
                .import(products.as_ref(), inventory.as_ref(), jiff::Timestamp::now())
        })
        .await?
        .map_err(StoreError::from)?;
    Ok(report.products.or(report.inventory).unwrap_or_default())
}
