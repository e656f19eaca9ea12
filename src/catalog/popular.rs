//! What is popular in the kiosk's shop (`popular`, `src/db/kiosk_v6.sql`), as the hub
//! last counted it: saved whole with each catalog pull, read for the home screen's row
//! and to order search's ties. A hub's file has no such table; there nothing is popular.

use jiff::Timestamp;
use rusqlite::params;

use super::{Catalog, CatalogError, ProductCard};
use crate::protocol::measure::{MAX_POPULAR, PopularGroup};

impl Catalog {
    /// Replaces the shop's popularity with `groups`, the hub's latest (the first
    /// [`MAX_POPULAR`] of them), in one transaction.
    pub fn save_popular(&mut self, groups: &[PopularGroup]) -> crate::db::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM popular", [])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO popular (group_id, score) VALUES (?1, ?2)
                 ON CONFLICT (group_id) DO UPDATE SET score = excluded.score",
            )?;
            for group in groups.iter().take(MAX_POPULAR) {
                insert.execute(params![group.group_id, i64::try_from(group.score).unwrap_or(i64::MAX)])?;
            }
        }
        // Search orders ties by popularity: rankings kept by any connection are stale.
        super::search::bump(&tx, "popular_version")?;
        Ok(tx.commit()?)
    }

    /// Result cards of the shop's most popular product groups in `lang`, highest first,
    /// at most `count`; groups the language lacks are left out. Empty until the hub has
    /// counted something (a fresh kiosk), and on a file without the table.
    pub fn popular(&self, lang: &str, count: usize, now: Timestamp) -> Result<Vec<ProductCard>, CatalogError> {
        if !self.has_popular || count == 0 {
            return Ok(Vec::new());
        }
        let groups: Vec<String> = self
            .conn
            .prepare_cached("SELECT group_id FROM popular ORDER BY score DESC, group_id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut cards = Vec::with_capacity(count);
        for group in &groups {
            if let Some(card) = self.card(lang, group, now)? {
                cards.push(card);
                if cards.len() == count {
                    break;
                }
            }
        }
        Ok(cards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FeedOptions, ProductFeed, Query};

    #[test]
    fn popularity_fills_a_row_and_orders_equal_ranks() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(&dir.path().join("kiosk.sqlite")).unwrap();
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        // Three pieces a search for "robe" ranks alike.
        let feed = "id\ttitle\tprice\tavailability\tlink\n\
            A\tRobe\t10 EUR\tin stock\thttps://shop.example/A\n\
            B\tRobe\t10 EUR\tin stock\thttps://shop.example/B\n\
            C\tRobe\t10 EUR\tin stock\thttps://shop.example/C\n";
        let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::lang("fr")).unwrap();
        catalog.import(Some(&feed), None, now).unwrap();
        assert!(catalog.popular("fr", 8, now).unwrap().is_empty(), "nothing counted yet");

        let scored = |group: &str, score| PopularGroup {
            group_id: group.to_owned(),
            score,
        };
        catalog
            .save_popular(&[scored("C", 9), scored("GONE", 7), scored("B", 4)])
            .unwrap();
        let ids = |cards: Vec<ProductCard>| cards.into_iter().map(|c| c.group_id).collect::<Vec<_>>();
        assert_eq!(ids(catalog.popular("fr", 8, now).unwrap()), ["C", "B"]);
        assert_eq!(ids(catalog.popular("fr", 1, now).unwrap()), ["C"]);
        let mut q = Query::new("fr", now);
        q.text = "robe".into();
        assert_eq!(ids(catalog.search(&q).unwrap()), ["C", "B", "A"]);

        // Replaced whole by the next pull.
        catalog.save_popular(&[scored("A", 1)]).unwrap();
        assert_eq!(ids(catalog.popular("fr", 8, now).unwrap()), ["A"]);
        assert_eq!(ids(catalog.search(&q).unwrap())[0], "A");
    }
}
