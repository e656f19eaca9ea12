//! The hub's log of catalog changes, as kiosks pull it (`catalog_log`: every row's latest
//! state, removals as tombstones), and the picture URLs the catalog has named
//! (`catalog_image`), which are all the hub serves.

use crate::db::{self, Sql, params};

use crate::protocol::CatalogChange;

/// Whether the catalog names this picture URL, now or before.
pub fn names_image(conn: &dyn Sql, url: &str) -> db::Result<bool> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM catalog_image WHERE url = ?1)",
        params![url],
    )
}

/// A page of catalog changes after log id `after`.
pub fn changes_page(conn: &dyn Sql, after: i64, limit: usize) -> db::Result<(Vec<CatalogChange>, i64, bool)> {
    let mut changes = Vec::with_capacity(limit.min(10_000));
    let mut last = after;
    let mut has_more = false;
    let sql = "SELECT id, kind, scope, sku, body FROM catalog_log WHERE id > ?1 ORDER BY id LIMIT ?2";
    conn.each(sql, params![after, limit as i64 + 1], &mut |r| {
        if changes.len() == limit {
            has_more = true;
            return Ok(());
        }
        last = r.get(0)?;
        let kind: String = r.get(1)?;
        let scope: String = r.get(2)?;
        let sku: String = r.get(3)?;
        let body: Option<String> = r.get(4)?;
        let bad = |e: serde_json::Error| db::Error::value(format!("a catalog change's body: {e}"));
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
        Ok(())
    })?;
    Ok((changes, last, has_more))
}
