//! The catalog's rows written many to a statement.
//!
//! An import writes every changed variant, stock line and change-log entry. One
//! statement a row is nothing on SQLite but a round trip each on PostgreSQL, where the
//! generated bench catalog took 51 s to import (SQLite: 3.1 s). So rows are bound a
//! block at a time and sent in multi-row statements (`db::chunked`), the same text on
//! both: 10.8 s now. Removals stay a statement each: a feed rarely drops many rows.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::{self, Param, Sql};
use crate::domain::{StockLevel, Variant};

/// Rows bound at a time: enough for few statements, little memory for a big feed.
const BLOCK: usize = 1024;

const VARIANT_COLUMNS: usize = 23;

/// A variant's values as bound, with what is derived from it.
struct VariantValues<'a> {
    lang: &'a str,
    v: &'a Variant,
    hash: i64,
    gtin: Option<&'a str>,
    sale_minor: Option<i64>,
    sale_starts: Option<i64>,
    sale_ends: Option<i64>,
    availability: &'static str,
    images: String,
}

impl<'a> VariantValues<'a> {
    fn new(lang: &'a str, v: &'a Variant, hash: i64) -> VariantValues<'a> {
        let sale = v.sale.as_ref();
        VariantValues {
            lang,
            v,
            hash,
            gtin: v.gtin.as_ref().map(|g| g.as_str()),
            sale_minor: sale.map(|s| s.price.minor),
            sale_starts: sale.and_then(|s| unix(s.starts)),
            sale_ends: sale.and_then(|s| unix(s.ends)),
            availability: v.availability.as_str(),
            images: serde_json::to_string(&v.additional_images).expect("strings serialise"),
        }
    }

    fn params(&self) -> [&dyn Param; VARIANT_COLUMNS] {
        let v = self.v;
        [
            &self.lang,
            &v.sku,
            &v.group_id,
            &v.title,
            &v.description,
            &v.brand,
            &self.gtin,
            &v.mpn,
            &v.category,
            &v.size,
            &v.color,
            &v.gender,
            &v.age_group,
            &v.price.minor,
            &v.price.currency,
            &self.sale_minor,
            &self.sale_starts,
            &self.sale_ends,
            &self.availability,
            &v.link,
            &v.image_link,
            &self.images,
            &self.hash,
        ]
    }
}

/// Inserts or replaces `variants` (each with its content hash) in `lang`.
pub fn upsert_variants(tx: &dyn Sql, lang: &str, variants: &[(&Variant, i64)]) -> db::Result<()> {
    for block in variants.chunks(BLOCK) {
        let values: Vec<VariantValues> = block
            .iter()
            .map(|(v, hash)| VariantValues::new(lang, v, *hash))
            .collect();
        let params: Vec<&dyn Param> = values.iter().flat_map(VariantValues::params).collect();
        db::chunked(&params, VARIANT_COLUMNS, |rows, chunk| {
            tx.execute(
                &format!(
                    "INSERT INTO variant (lang, sku, group_id, title, description, brand, gtin, mpn,
                         category, size, color, gender, age_group, price_minor, currency, sale_minor,
                         sale_starts, sale_ends, availability, link, image_link, additional_images,
                         content_hash)
                     VALUES {rows}
                     ON CONFLICT (lang, sku) DO UPDATE SET
                         group_id = excluded.group_id, title = excluded.title,
                         description = excluded.description, brand = excluded.brand,
                         gtin = excluded.gtin, mpn = excluded.mpn, category = excluded.category,
                         size = excluded.size, color = excluded.color, gender = excluded.gender,
                         age_group = excluded.age_group, price_minor = excluded.price_minor,
                         currency = excluded.currency, sale_minor = excluded.sale_minor,
                         sale_starts = excluded.sale_starts, sale_ends = excluded.sale_ends,
                         availability = excluded.availability, link = excluded.link,
                         image_link = excluded.image_link,
                         additional_images = excluded.additional_images,
                         content_hash = excluded.content_hash"
                ),
                chunk,
            )
            .map(drop)
        })?;
    }
    Ok(())
}

const STOCK_COLUMNS: usize = 11;

/// A stock line's values as bound.
struct StockValues<'a> {
    level: &'a StockLevel,
    hash: i64,
    availability: &'static str,
    price_minor: Option<i64>,
    currency: Option<&'a str>,
    sale_minor: Option<i64>,
    sale_starts: Option<i64>,
    sale_ends: Option<i64>,
    updated_at: i64,
}

impl<'a> StockValues<'a> {
    fn new(level: &'a StockLevel, hash: i64, updated_at: i64) -> StockValues<'a> {
        let sale = level.sale.as_ref();
        StockValues {
            level,
            hash,
            availability: level.availability.as_str(),
            price_minor: level.price.as_ref().map(|p| p.minor),
            currency: level.price.as_ref().map(|p| p.currency.as_str()),
            sale_minor: sale.map(|s| s.price.minor),
            sale_starts: sale.and_then(|s| unix(s.starts)),
            sale_ends: sale.and_then(|s| unix(s.ends)),
            updated_at,
        }
    }

    fn params(&self) -> [&dyn Param; STOCK_COLUMNS] {
        [
            &self.level.store_code,
            &self.level.sku,
            &self.level.quantity,
            &self.availability,
            &self.price_minor,
            &self.currency,
            &self.sale_minor,
            &self.sale_starts,
            &self.sale_ends,
            &self.hash,
            &self.updated_at,
        ]
    }
}

/// Inserts or replaces `levels` (each with its content hash), updated at `now` (unix s).
pub fn upsert_stock(tx: &dyn Sql, levels: &[(&StockLevel, i64)], now: i64) -> db::Result<()> {
    for block in levels.chunks(BLOCK) {
        let values: Vec<StockValues> = block.iter().map(|(l, hash)| StockValues::new(l, *hash, now)).collect();
        let params: Vec<&dyn Param> = values.iter().flat_map(StockValues::params).collect();
        db::chunked(&params, STOCK_COLUMNS, |rows, chunk| {
            tx.execute(
                &format!(
                    "INSERT INTO stock (store_code, sku, quantity, availability, price_minor, currency,
                         sale_minor, sale_starts, sale_ends, content_hash, updated_at)
                     VALUES {rows}
                     ON CONFLICT (store_code, sku) DO UPDATE SET
                         quantity = excluded.quantity, availability = excluded.availability,
                         price_minor = excluded.price_minor, currency = excluded.currency,
                         sale_minor = excluded.sale_minor, sale_starts = excluded.sale_starts,
                         sale_ends = excluded.sale_ends, content_hash = excluded.content_hash,
                         updated_at = excluded.updated_at"
                ),
                chunk,
            )
            .map(drop)
        })?;
    }
    Ok(())
}

/// Entries for the hub's change log, written a block at a time (`flush` the last block
/// before the transaction commits): each a row's new state (or its removal, no body). A key has one entry, the latest: replacing it gives it a
/// new, higher id, so "changes since id N" is every key whose latest state came after N.
#[derive(Default)]
pub struct ChangeLog {
    entries: Vec<(&'static str, String, String, Option<String>)>,
    /// Where each key's entry is in `entries`: a key twice in one statement is an error
    /// on PostgreSQL, so a later state replaces the earlier in place.
    at: HashMap<(&'static str, String, String), usize>,
}

impl ChangeLog {
    /// Records `sku`'s new state in `scope`, writing the block when it is full.
    pub fn record<T: Serialize>(
        &mut self,
        tx: &dyn Sql,
        kind: &'static str,
        scope: &str,
        sku: &str,
        body: Option<&T>,
    ) -> db::Result<()> {
        let body = body.map(|b| serde_json::to_string(b).expect("catalog types serialise to JSON"));
        let key = (kind, scope.to_owned(), sku.to_owned());
        match self.at.get(&key) {
            Some(&at) => self.entries[at].3 = body,
            None => {
                self.at.insert(key, self.entries.len());
                self.entries.push((kind, scope.to_owned(), sku.to_owned(), body));
            }
        }
        if self.entries.len() >= BLOCK {
            self.flush(tx)?;
        }
        Ok(())
    }

    /// Writes what is recorded.
    pub fn flush(&mut self, tx: &dyn Sql) -> db::Result<()> {
        let params: Vec<&dyn Param> = self
            .entries
            .iter()
            .flat_map(|(kind, scope, sku, body)| [kind as &dyn Param, scope, sku, body])
            .collect();
        db::chunked(&params, 4, |rows, chunk| {
            tx.execute(
                &format!(
                    "{} VALUES {rows} {}",
                    tx.pick(
                        "INSERT OR REPLACE INTO catalog_log (kind, scope, sku, body)",
                        "INSERT INTO catalog_log (kind, scope, sku, body)"
                    ),
                    tx.pick(
                        "",
                        "ON CONFLICT (kind, scope, sku) DO UPDATE
                         SET id = nextval(pg_get_serial_sequence('catalog_log', 'id')), body = excluded.body"
                    ),
                ),
                chunk,
            )
            .map(drop)
        })?;
        self.entries.clear();
        self.at.clear();
        Ok(())
    }
}

fn unix(ts: Option<jiff::Timestamp>) -> Option<i64> {
    ts.map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::params;

    #[test]
    fn the_change_log_keeps_a_keys_latest_state_once_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let tx: &dyn Sql = &conn;
        let mut log = ChangeLog::default();
        log.record(tx, "stock", "A", "S1", Some(&1)).unwrap();
        log.record(tx, "stock", "A", "S1", Some(&2)).unwrap();
        for n in 0..BLOCK + 10 {
            log.record(tx, "stock", "B", &format!("S{n}"), Some(&n)).unwrap();
        }
        log.record::<i32>(tx, "stock", "B", "S3", None).unwrap();
        log.flush(tx).unwrap();
        let count: i64 = tx.one("SELECT COUNT(*) FROM catalog_log", params![]).unwrap();
        assert_eq!(count, 1 + BLOCK as i64 + 10);
        let body = |scope: &str, sku: &str| -> Option<String> {
            tx.one(
                "SELECT body FROM catalog_log WHERE scope = ?1 AND sku = ?2",
                params![scope, sku],
            )
            .unwrap()
        };
        assert_eq!(body("A", "S1").as_deref(), Some("2"));
        assert_eq!(body("B", "S3"), None, "removed after it was written, in a later block");
        let last: String = tx
            .one("SELECT sku FROM catalog_log ORDER BY id DESC LIMIT 1", params![])
            .unwrap();
        assert_eq!(last, "S3", "a key written again gets the newest id");
    }
}
