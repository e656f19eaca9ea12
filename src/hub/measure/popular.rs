//! What is popular in a shop (`GET /v1/kiosk/popular`): product groups scored by their
//! views plus three times their wishlist adds over the shop's last 30 local days, read
//! from the per-day counts `events` keeps. Per shop, never per person: the counts name
//! no visit and no shopper.

use std::collections::HashMap;

use jiff::Timestamp;

use super::Settings;
use crate::db::{self, Sql, params};
use crate::protocol::measure::PopularGroup;

/// The shop's local days counted, today included.
pub const DAYS: i64 = 30;
/// What a wishlist add weighs, against a view's one.
pub const ADD_WEIGHT: u64 = 3;
/// The least score a group needs to be shown: what one shopper looked at in a quiet
/// week is not on the next one's screen.
pub const MIN_SCORE: u64 = 5;

/// The product groups of the catalog most viewed and saved in `store` over its last
/// [`DAYS`] local days up to `now`, highest score first, ties by group id, at most
/// `limit`, each with at least [`MIN_SCORE`]. A SKU the catalog no longer has counts for
/// nothing; a group's SKUs (in every language) add up to one score.
pub fn popular(
    conn: &dyn Sql,
    settings: &Settings,
    store: &str,
    now: Timestamp,
    limit: usize,
) -> db::Result<Vec<PopularGroup>> {
    let today = settings.day(store, now);
    // Days are compared as text (`YYYY-MM-DD`).
    let first = now
        .to_zoned(settings.zone(store).clone())
        .date()
        .checked_sub(jiff::Span::new().days(DAYS - 1))
        .map(|d| d.to_string())
        .unwrap_or_default();
    let rows = conn.query_map(
        "SELECT sku, SUM(CASE kind WHEN 'wishlist_added' THEN CAST(?4 AS BIGINT) * n ELSE n END) FROM event_count
         WHERE day BETWEEN ?1 AND ?2 AND store_code = ?3 AND kind IN ('product_viewed', 'wishlist_added')
           AND sku <> ''
         GROUP BY sku",
        params![first, today, store, ADD_WEIGHT as i64],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )?;
    let mut scores: HashMap<String, u64> = HashMap::new();
    for (sku, score) in rows {
        let Some(group) = crate::catalog::group_of_sku(conn, &sku)? else {
            continue;
        };
        *scores.entry(group).or_default() += u64::try_from(score).unwrap_or(0);
    }
    let mut groups: Vec<PopularGroup> = scores
        .into_iter()
        .filter(|(_, score)| *score >= MIN_SCORE)
        .map(|(group_id, score)| PopularGroup { group_id, score })
        .collect();
    groups.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.group_id.cmp(&b.group_id)));
    groups.truncate(limit);
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, FeedOptions, ProductFeed};

    const FEED: &str = "id\ttitle\tprice\tavailability\titem_group_id\tlink\n\
        A1\tRobe\t10 EUR\tin stock\tA\thttps://shop.example/A\n\
        A2\tRobe\t10 EUR\tin stock\tA\thttps://shop.example/A\n\
        B1\tJean\t10 EUR\tin stock\tB\thttps://shop.example/B\n\
        C1\tPull\t10 EUR\tin stock\tC\thttps://shop.example/C\n\
        D1\tSac\t10 EUR\tin stock\tD\thttps://shop.example/D\n";

    fn count(conn: &dyn Sql, day: &str, store: &str, kind: &str, sku: &str, n: i64) {
        conn.execute(
            "INSERT INTO event_count (day, store_code, device_id, kind, sku, n) VALUES (?1, ?2, 1, ?3, ?4, ?5)
             ON CONFLICT (day, store_code, device_id, kind, sku) DO UPDATE SET n = event_count.n + excluded.n",
            params![day, store, kind, sku, n],
        )
        .unwrap();
    }

    #[test]
    fn views_and_adds_of_the_shops_last_30_days_score_each_group_once() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let mut catalog = Catalog::with_connection(conn, true);
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        // The same SKUs in two languages: each counts once.
        for lang in ["fr", "en"] {
            let feed = ProductFeed::parse(FEED.as_bytes(), &FeedOptions::lang(lang)).unwrap();
            catalog.import(Some(&feed), None, now).unwrap();
        }
        let conn: &dyn Sql = catalog.connection();
        let settings = Settings::default();
        // A: 2 views of one SKU and 1 add of another, spread over the window.
        count(conn, "2026-11-14", "PARIS", "product_viewed", "A1", 1);
        count(conn, "2026-10-16", "PARIS", "product_viewed", "A1", 1);
        count(conn, "2026-11-01", "PARIS", "wishlist_added", "A2", 1);
        // B: 5 views today, but C's adds weigh more.
        count(conn, "2026-11-14", "PARIS", "product_viewed", "B1", 5);
        count(conn, "2026-11-13", "PARIS", "wishlist_added", "C1", 2);
        // D ties with B.
        count(conn, "2026-11-10", "PARIS", "product_viewed", "D1", 5);
        // Not counted: before the window, another shop, another kind, a SKU gone.
        count(conn, "2026-10-15", "PARIS", "product_viewed", "D1", 100);
        count(conn, "2026-11-14", "LYON", "product_viewed", "B1", 100);
        count(conn, "2026-11-14", "PARIS", "product_code_shown", "B1", 100);
        count(conn, "2026-11-14", "PARIS", "wishlist_removed", "B1", 100);
        count(conn, "2026-11-14", "PARIS", "product_viewed", "GONE", 100);

        let found = popular(conn, &settings, "PARIS", now, 50).unwrap();
        let shown: Vec<(&str, u64)> = found.iter().map(|g| (g.group_id.as_str(), g.score)).collect();
        assert_eq!(shown, [("C", 6), ("A", 5), ("B", 5), ("D", 5)]);
        assert_eq!(popular(conn, &settings, "PARIS", now, 2).unwrap().len(), 2);
        assert!(popular(conn, &settings, "NANTES", now, 50).unwrap().is_empty());
    }
}
