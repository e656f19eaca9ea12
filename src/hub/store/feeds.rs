//! A feed, parsed off the async threads and imported on the writer thread: the one path
//! for uploads and scheduled fetches.

use jiff::Timestamp;

use super::{Store, StoreError};
use crate::catalog::feed::FeedError;
use crate::catalog::{FeedOptions, InventoryFeed, ProductFeed, Summary};
use crate::hub::imports::{self, Origin, Outcome};
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
/// path for uploads and scheduled fetches. Either way it ends, the import is logged
/// ([`imports`]) with where it came from.
pub async fn import_feed(
    store: &Store,
    kind: FeedKind,
    body: impl AsRef<[u8]> + Send + 'static,
    options: FeedOptions,
    origin: Origin,
) -> Result<Imported, ImportError> {
    let lang = options.lang.clone().filter(|_| kind == FeedKind::Products);
    let parsed = tokio::task::spawn_blocking(move || {
        let body = body.as_ref();
        Ok::<_, FeedError>(match kind {
            FeedKind::Products => (Some(ProductFeed::parse(body, &options)?), None),
            FeedKind::Inventory => (None, Some(InventoryFeed::parse(body, &options)?)),
        })
    })
    .await
    .map_err(|_| StoreError::Closed)?;
    let (products, inventory) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            imports::record_unchanged(store, origin, kind, lang, Outcome::Refused(e.to_string())).await;
            return Err(e.into());
        }
    };
    let imported = store
        .write(move |w| {
            let now = Timestamp::now();
            let keep = crate::catalog::import::Keep {
                log_changes: true,
                index: false,
            };
            let report = crate::catalog::import::import(w.db(), keep, products.as_ref(), inventory.as_ref(), now)?;
            let summary = report.products.or(report.inventory).unwrap_or_default();
            let outcome = Outcome::Imported(&summary);
            // Logged right after the import's own transaction: a crash between the two
            // leaves an import without its line, never a line without its import.
            let id = imports::record(w.db(), &origin, kind, lang.as_deref(), &outcome, now)?;
            Ok::<_, crate::db::Error>(Imported { summary, id })
        })
        .await?
        .map_err(StoreError::from)?;
    Ok(imported)
}

/// A feed imported: what it did, and its line in the import log.
#[derive(Debug, Clone)]
pub struct Imported {
    pub summary: Summary,
    pub id: i64,
}
