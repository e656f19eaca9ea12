//! The hub's log of catalog changes, as kiosks pull it (`catalog_log`: every row's latest
//! state, removals as tombstones), and the picture URLs the catalog has named
//! (`catalog_image`), which are all the hub serves.

use rusqlite::{Connection, params};

use crate::protocol::CatalogChange;

/// Whether the catalog names this picture URL, now or before.
pub fn names_image(conn: &Connection, url: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM catalog_image WHERE url = ?1)")?
        .query_row([url], |r| r.get(0))
}

/// A page of catalog changes after log id `after`.
pub fn changes_page(conn: &Connection, after: i64, limit: usize) -> rusqlite::Result<(Vec<CatalogChange>, i64, bool)> {
    let mut stmt =
        conn.prepare_cached("SELECT id, kind, scope, sku, body FROM catalog_log WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut rows = stmt.query(params![after, limit as i64 + 1])?;
    let mut changes = Vec::with_capacity(limit.min(10_000));
    let mut last = after;
    let mut has_more = false;
    while let Some(r) = rows.next()? {
        if changes.len() == limit {
            has_more = true;
            break;
        }
        last = r.get(0)?;
        let kind: String = r.get(1)?;
        let scope: String = r.get(2)?;
        let sku: String = r.get(3)?;
        let body: Option<String> = r.get(4)?;
        let bad = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        };
        changes.push(match (kind.as_str(), body) {
            ("variant", Some(body)) => CatalogChange::Variant {
                lang: scope,
                variant: serde_json::from_str(&body).map_err(bad)?,
            },
            ("variant", None) => CatalogChange::VariantRemoved { lang: scope, sku },
            (_, Some(body)) => CatalogChange::Stock {
                stock: serde_json::from_str(&body).map_err(bad)?,
            },
            (_, None) => CatalogChange::StockRemoved { store_code: scope, sku },
        });
    }
    Ok((changes, last, has_more))
}
