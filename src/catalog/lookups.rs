//! Reads on a bare connection, for callers that hold no [`Catalog`](super::Catalog): the
//! hub's pooled readers and its writer's transaction, a kiosk's sync and health screen.
//! Stock levels, the inventory's and the last pull's times, whether a SKU exists and its
//! product group, counts.

use std::collections::HashSet;

use crate::db::{self, Sql, params};
use jiff::Timestamp;

use super::ShopStock;
use crate::domain::Availability;

pub(super) const STOCK_OF_SKU: &str =
    "SELECT store_code, quantity, availability, updated_at FROM stock WHERE sku = ?1 ORDER BY store_code";

pub(super) fn shop_stock(r: &db::Row<'_>) -> db::Result<ShopStock> {
    let availability: String = r.get(2)?;
    Ok(ShopStock {
        store_code: r.get(0)?,
        quantity: r.get(1)?,
        availability: Availability::parse(&availability).unwrap_or(Availability::OutOfStock),
        updated_at: Timestamp::from_second(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
    })
}

/// Every shop's stock of `skus`, as `(sku, stock)` in SKU order then shop order: what
/// the staff stock screen shows (out of stock included). A function of the connection,
/// since the hub answers it from its pool of readers.
pub fn stock_levels(conn: &dyn Sql, skus: &[String]) -> db::Result<Vec<(String, ShopStock)>> {
    let mut out = Vec::new();
    for sku in skus {
        for level in conn.query_map(STOCK_OF_SKU, params![sku], shop_stock)? {
            out.push((sku.clone(), level));
        }
    }
    Ok(out)
}

/// When the inventory feed was last imported (on the hub: read from the web store; on a
/// kiosk: as the hub had it at the last pull, if it said).
pub fn inventory_as_of(conn: &dyn Sql) -> db::Result<Option<Timestamp>> {
    meta_time(conn, "inventory_imported_at")
}

/// Records the hub's inventory time on a kiosk, as a catalog pull reported it.
pub fn set_inventory_as_of(conn: &dyn Sql, at: Timestamp) -> db::Result<()> {
    conn.execute(
        "INSERT INTO catalog_meta (key, value) VALUES ('inventory_imported_at', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![at.to_string()],
    )?;
    Ok(())
}

/// When a kiosk last pulled the catalog from the hub.
pub fn pulled_at(conn: &dyn Sql) -> db::Result<Option<Timestamp>> {
    meta_time(conn, "catalog_pulled_at")
}

fn meta_time(conn: &dyn Sql, key: &str) -> db::Result<Option<Timestamp>> {
    let text: Option<String> = conn.query_opt("SELECT value FROM catalog_meta WHERE key = ?1", params![key], |r| {
        r.get(0)
    })?;
    Ok(text.and_then(|t| t.parse().ok()))
}

/// Whether any language of the catalog has this SKU.
pub fn has_sku(conn: &dyn Sql, sku: &str) -> db::Result<bool> {
    conn.one("SELECT EXISTS (SELECT 1 FROM variant WHERE sku = ?1)", params![sku])
}

/// Which of `skus` the catalog has, in a few statements however many are asked.
pub fn known_skus<'a>(conn: &dyn Sql, skus: impl IntoIterator<Item = &'a str>) -> db::Result<HashSet<String>> {
    let asked: Vec<&str> = skus.into_iter().collect();
    let params: Vec<&dyn db::Param> = asked.iter().map(|s| s as &dyn db::Param).collect();
    let mut known = HashSet::new();
    db::chunked(&params, 1, |rows, chunk| {
        conn.each(
            // A join with the values: both databases walk the SKU index once per value.
            &format!("SELECT DISTINCT v.sku FROM variant v JOIN (VALUES {rows}) AS asked ON v.sku = asked.column1"),
            chunk,
            &mut |r| {
                known.insert(r.get(0)?);
                Ok(())
            },
        )
    })?;
    Ok(known)
}

/// The product group of a SKU, as the first language that has it says (feeds in several
/// languages list a SKU in the same group); `None` when the catalog no longer has it.
/// One lookup on the SKU index.
pub fn group_of_sku(conn: &dyn Sql, sku: &str) -> db::Result<Option<String>> {
    conn.query_opt(
        "SELECT group_id FROM variant WHERE sku = ?1 ORDER BY lang LIMIT 1",
        params![sku],
        |r| r.get(0),
    )
}

/// How many product groups the catalog holds (every language together).
pub fn product_count(conn: &dyn Sql) -> db::Result<u64> {
    conn.one("SELECT COUNT(DISTINCT group_id) FROM product", params![])
}

/// Every variant of `lang` as (SKU, GTIN), in SKU order: what benchmarks look up.
pub fn variant_codes(conn: &dyn Sql, lang: &str) -> db::Result<Vec<(String, Option<String>)>> {
    conn.query_map(
        "SELECT sku, gtin FROM variant WHERE lang = ?1 ORDER BY sku",
        params![lang],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A SKU's title and what tells it from its siblings (colour, then size), in the first
/// language that has it.
pub fn describe_sku(conn: &dyn Sql, sku: &str) -> db::Result<Option<(String, Vec<String>)>> {
    conn.query_opt(
        "SELECT title, size, color FROM variant WHERE sku = ?1 ORDER BY lang LIMIT 1",
        params![sku],
        |r| {
            let detail = [r.get::<Option<String>>(2)?, r.get(1)?].into_iter().flatten().collect();
            Ok((r.get(0)?, detail))
        },
    )
}
