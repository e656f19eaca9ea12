//! The products store ops name in the console (`RemoteSettings::featured`), put ahead of
//! what the catalog would feature on its own. Ops type what they have at hand: a product
//! group id from the web store, or a SKU or GTIN off a tag, so both are accepted.

use jiff::Timestamp;

use super::{Catalog, CatalogError, ProductCard};

impl Catalog {
    /// The products named in `first`, in that order, then [`Catalog::featured`]'s, at most
    /// `count` in all and each once. An entry is a product group id, else a code
    /// [`Catalog::lookup`] finds (SKU, GTIN, MPN); one the catalog does not have (in
    /// `lang`) is skipped, since ops' list may name a piece a later feed removed.
    pub fn featured_first(
        &self,
        lang: &str,
        first: &[String],
        count: usize,
        now: Timestamp,
    ) -> Result<Vec<ProductCard>, CatalogError> {
        let mut cards: Vec<ProductCard> = Vec::with_capacity(count);
        for entry in first {
            if cards.len() >= count {
                return Ok(cards);
            }
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let mut card = self.card(lang, entry, now)?;
            if card.is_none()
                && let Some(hit) = self.lookup(entry)?
            {
                card = self.card(lang, &hit.group_id, now)?;
            }
            if let Some(card) = card
                && !cards.iter().any(|c| c.group_id == card.group_id)
            {
                cards.push(card);
            }
        }
        if cards.len() < count {
            // `count` of them: those already named are left out, the rest fill the gap.
            for card in self.featured(lang, count, now)? {
                if cards.len() == count {
                    break;
                }
                if !cards.iter().any(|c| c.group_id == card.group_id) {
                    cards.push(card);
                }
            }
        }
        Ok(cards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FeedOptions, ProductFeed};

    #[test]
    fn named_products_come_first_in_order_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(&dir.path().join("kiosk.sqlite")).unwrap();
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        // B is on sale, so the catalog alone features it first, then by title.
        let feed = "id\ttitle\tprice\tsale_price\tavailability\titem_group_id\tlink\n\
            A-S\tRobe A\t10 EUR\t\tin stock\tA\thttps://shop.example/A\n\
            A-M\tRobe A\t10 EUR\t\tin stock\tA\thttps://shop.example/A\n\
            B-S\tRobe B\t10 EUR\t8 EUR\tin stock\tB\thttps://shop.example/B\n\
            C-S\tRobe C\t10 EUR\t\tin stock\tC\thttps://shop.example/C\n\
            D-S\tRobe D\t10 EUR\t\tin stock\tD\thttps://shop.example/D\n\
            E-S\tRobe E\t10 EUR\t\tin stock\tE\thttps://shop.example/E\n";
        let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::lang("fr")).unwrap();
        catalog.import(Some(&feed), None, now).unwrap();
        let ids = |cards: Vec<ProductCard>| cards.into_iter().map(|c| c.group_id).collect::<Vec<_>>();
        assert_eq!(ids(catalog.featured("fr", 3, now).unwrap()), ["B", "A", "C"]);

        // A group id, an unknown id, a SKU typed in lower case (its group, A), then
        // both again.
        let named: Vec<String> = ["D", "NOPE", "a-m", "D", "A"].map(String::from).into();
        assert_eq!(
            ids(catalog.featured_first("fr", &named, 3, now).unwrap()),
            ["D", "A", "B"]
        );
        assert_eq!(
            ids(catalog.featured_first("fr", &named, 8, now).unwrap()),
            ["D", "A", "B", "C", "E"],
            "filled with the catalog's own, none twice"
        );
        assert_eq!(ids(catalog.featured_first("fr", &named, 1, now).unwrap()), ["D"]);
        assert!(catalog.featured_first("fr", &named, 0, now).unwrap().is_empty());
        assert_eq!(
            ids(catalog.featured_first("fr", &[], 3, now).unwrap()),
            ids(catalog.featured("fr", 3, now).unwrap()),
            "nothing named: the catalog's own"
        );
        assert_eq!(
            ids(catalog.featured_first("en", &named, 3, now).unwrap()),
            Vec::<String>::new(),
            "a language the catalog lacks has none"
        );
    }
}
