//! The catalog's questions with text and filters: result cards, their count, and the
//! sizes and colours they offer. Text is matched and ranked by the search index
//! ([`Searcher`]); filters are SQL over the matches.

use std::collections::HashSet;
use std::rc::Rc;

use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::{Ranked, Searcher};
use crate::catalog::{CARD_SELECT, Catalog, CatalogError, EFFECTIVE_PRICE, Facets, ProductCard, Query, bind, card_row};
use crate::domain::size_order;

/// Most matches whose sizes and colours make the filter chips.
const FACET_MATCHES: usize = 2_000;

impl Catalog {
    fn searcher(&self) -> Searcher<'_> {
        Searcher {
            conn: &self.conn,
            cache: &self.search,
            has_popular: self.has_popular,
        }
    }

    /// The products matching a query's text and filters, ranked; `None` when the query
    /// has no text to search.
    fn matching(&self, q: &Query) -> Result<Option<Ranked>, CatalogError> {
        if super::tokens::words(&q.text, 1).is_empty() {
            return Ok(None);
        }
        if !self.has_search {
            // A hub's file keeps no search index: it browses, it does not search.
            return Ok(Some(Ranked { keys: Vec::new() }));
        }
        self.ensure_search_index()?;
        let Some(mut ranked) = self.searcher().rank(&q.lang, &q.text, q.rank_store.as_deref())? else {
            return Ok(None);
        };
        // A SKU, GTIN or MPN typed whole is the product asked for: first, and counted,
        // unless a filter leaves it out.
        if let Some(id) = self.exact_code(q)? {
            ranked.put_first(id);
        }
        let (conditions, args) = filter_conditions(q);
        if conditions.len() > 1 && !ranked.is_empty() {
            let ids: Rc<Vec<Value>> = Rc::new(ranked.ids().map(|id| Value::Integer(i64::from(id))).collect());
            let sql = format!(
                "SELECT p.id FROM product p WHERE p.id IN rarray(:ids) AND {}",
                conditions.join(" AND ")
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut named = bind(&sql, &args);
            named.push((":ids", &ids as &dyn rusqlite::ToSql));
            let allowed: HashSet<u32> = stmt
                .query_map(named.as_slice(), |r| r.get::<_, i64>(0))?
                .map(|id| id.map(|id| id as u32))
                .collect::<Result<_, _>>()?;
            ranked.retain(|id| allowed.contains(&id));
        }
        Ok(Some(ranked))
    }

    /// Fills the search caches a catalog change emptied (the language's vocabulary, the
    /// shop's stock), so that the next shopper's first letter does not wait for them:
    /// hundreds of milliseconds on a large catalog, nothing when they are full.
    pub fn warm_search(&self, lang: &str, store: &str) -> Result<(), CatalogError> {
        if !self.has_search {
            return Ok(());
        }
        self.ensure_search_index()?;
        Ok(self.searcher().warm(lang, store)?)
    }

    /// Builds the search index of a catalog imported before it existed, or indexed by
    /// an older tokenizer (whose removals would miss terms), once.
    fn ensure_search_index(&self) -> Result<(), CatalogError> {
        let built = |conn: &rusqlite::Connection| -> rusqlite::Result<Option<String>> {
            conn.prepare_cached("SELECT value FROM catalog_meta WHERE key = 'search_index'")?
                .query_row([], |r| r.get(0))
                .optional()
        };
        if built(&self.conn)?.as_deref() == Some(super::INDEX_VERSION) {
            return Ok(());
        }
        // Immediate: the sync thread's connection may write meanwhile, and a deferred
        // transaction would then fail at its first write and lose the work.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        if built(&tx)?.as_deref() != Some(super::INDEX_VERSION) {
            tx.execute("DELETE FROM search_posting", [])?;
            super::build(&tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Result cards for a query, best match first: the product of an exact SKU, GTIN or
    /// MPN, then the text's matches as [`super`] ranks them. Without text, the products
    /// the filters leave, alphabetically.
    pub fn search(&self, q: &Query) -> Result<Vec<ProductCard>, CatalogError> {
        let limit = q.limit.min(500);
        let Some(ranked) = self.matching(q)? else {
            let (conditions, mut args) = filter_conditions(q);
            let sql = format!(
                "{CARD_SELECT} FROM product p WHERE {} ORDER BY p.title LIMIT :limit",
                conditions.join(" AND ")
            );
            args.push((":limit", Value::Integer(limit as i64)));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let named = bind(&sql, &args);
            return Ok(stmt.query_map(named.as_slice(), card_row)?.collect::<Result<_, _>>()?);
        };
        let ids = ranked.top(limit);
        self.cards_by_id(&ids, q)
    }

    /// The product of a SKU, GTIN or MPN typed whole, in the query's language.
    fn exact_code(&self, q: &Query) -> Result<Option<u32>, CatalogError> {
        let Some(hit) = self.lookup(&q.text)? else {
            return Ok(None);
        };
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM product WHERE lang = ?1 AND group_id = ?2")?
            .query_row([&q.lang, &hit.group_id], |r| r.get(0))
            .optional()?;
        Ok(id.and_then(|id| u32::try_from(id).ok()))
    }

    /// Cards of these product ids, in this order.
    fn cards_by_id(&self, ids: &[u32], q: &Query) -> Result<Vec<ProductCard>, CatalogError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let values: Rc<Vec<Value>> = Rc::new(ids.iter().map(|id| Value::Integer(i64::from(*id))).collect());
        let now = q.now.as_second();
        let mut stmt = self.conn.prepare_cached(&format!(
            "{CARD_SELECT}, p.id FROM product p WHERE p.id IN rarray(:ids)"
        ))?;
        let mut rows = stmt.query(rusqlite::named_params! { ":ids": values, ":now": now })?;
        let mut found: Vec<(u32, ProductCard)> = Vec::with_capacity(ids.len());
        while let Some(row) = rows.next()? {
            found.push((row.get::<_, i64>(9)? as u32, card_row(row)?));
        }
        let rank = |id: u32| ids.iter().position(|x| *x == id).unwrap_or(usize::MAX);
        found.sort_by_key(|(id, _)| rank(*id));
        Ok(found.into_iter().map(|(_, card)| card).collect())
    }

    /// How many products match a query (all of them, not just one page).
    pub fn count(&self, q: &Query) -> Result<usize, CatalogError> {
        if let Some(ranked) = self.matching(q)? {
            return Ok(ranked.len());
        }
        let (conditions, args) = filter_conditions(q);
        let sql = format!("SELECT COUNT(*) FROM product p WHERE {}", conditions.join(" AND "));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let named = bind(&sql, &args);
        Ok(stmt.query_row(named.as_slice(), |r| r.get::<_, i64>(0))? as usize)
    }

    /// Sizes and colours among the products matching the text and category (ignoring the
    /// size and colour filters themselves, so a shopper can switch between them).
    pub fn facets(&self, q: &Query) -> Result<Facets, CatalogError> {
        let base = Query {
            size: None,
            color: None,
            ..q.clone()
        };
        let (hits, mut args, from) = match self.matching(&base)? {
            Some(ranked) => {
                let ids: Vec<Value> = ranked
                    .top(FACET_MATCHES)
                    .into_iter()
                    .map(|id| Value::Integer(i64::from(id)))
                    .collect();
                (
                    "SELECT p.group_id FROM product p WHERE p.id IN rarray(:ids)".to_owned(),
                    vec![(":lang", Value::Text(q.lang.clone()))],
                    Some(Rc::new(ids)),
                )
            }
            None => {
                let (conditions, args) = filter_conditions(&base);
                (
                    format!(
                        "SELECT p.group_id FROM product p WHERE {} LIMIT {FACET_MATCHES}",
                        conditions.join(" AND ")
                    ),
                    args,
                    None,
                )
            }
        };
        let sql = format!(
            "WITH hits AS ({hits})
             SELECT DISTINCT v.size, v.color FROM hits h JOIN variant v INDEXED BY variant_by_group ON v.group_id = h.group_id
             WHERE v.lang = :lang"
        );
        args.retain(|(name, _)| sql.contains(name));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut named = bind(&sql, &args);
        if let Some(ids) = &from {
            named.push((":ids", ids as &dyn rusqlite::ToSql));
        }
        let mut facets = Facets::default();
        let mut rows = stmt.query(named.as_slice())?;
        while let Some(row) = rows.next()? {
            if let Some(size) = row.get::<_, Option<String>>(0)?
                && !facets.sizes.contains(&size)
            {
                facets.sizes.push(size);
            }
            if let Some(color) = row.get::<_, Option<String>>(1)?
                && !facets.colors.contains(&color)
            {
                facets.colors.push(color);
            }
        }
        facets.sizes.sort_by_key(|s| size_order(s));
        facets.colors.sort();
        Ok(facets)
    }
}

/// A query's filters as SQL conditions on `product p` (the language first), with their
/// named arguments.
fn filter_conditions(q: &Query) -> (Vec<String>, Vec<(&'static str, Value)>) {
    let mut args: Vec<(&'static str, Value)> = vec![
        (":lang", Value::Text(q.lang.clone())),
        (":now", Value::Integer(q.now.as_second())),
    ];
    let mut conditions = vec!["p.lang = :lang".to_owned()];
    if let Some(category) = &q.category {
        conditions.push("(p.category = :category OR p.category LIKE :category_prefix ESCAPE '\\')".into());
        let escaped = category.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        args.push((":category", Value::Text(category.clone())));
        args.push((":category_prefix", Value::Text(format!("{escaped} > %"))));
    }
    let mut variant_conditions = Vec::new();
    if let Some(size) = &q.size {
        variant_conditions.push("v.size = :size".to_owned());
        args.push((":size", Value::Text(size.clone())));
    }
    if let Some(color) = &q.color {
        variant_conditions.push("v.color = :color".to_owned());
        args.push((":color", Value::Text(color.clone())));
    }
    if let Some((min, max)) = q.price_band {
        variant_conditions.push(format!(
            "({EFFECTIVE_PRICE}) >= :price_min AND ({EFFECTIVE_PRICE}) < :price_max"
        ));
        args.push((":price_min", Value::Integer(min)));
        args.push((":price_max", Value::Integer(max)));
    }
    if let Some(store) = &q.in_stock_at {
        variant_conditions.push(
            "EXISTS (SELECT 1 FROM stock s WHERE s.store_code = :store AND s.sku = v.sku
                AND s.availability IN ('in_stock', 'limited_availability')
                AND (s.quantity IS NULL OR s.quantity > 0))"
                .to_owned(),
        );
        args.push((":store", Value::Text(store.clone())));
    }
    if !variant_conditions.is_empty() {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM variant v INDEXED BY variant_by_group WHERE v.lang = p.lang AND v.group_id = p.group_id AND {})",
            variant_conditions.join(" AND ")
        ));
    }
    (conditions, args)
}

impl Catalog {
    /// Replaces the shop's synonym rules (`fr: pull = pullover`), on top of the built-in
    /// ones; the reason for the first rule that is not one, and nothing changed then.
    pub fn set_synonyms(&mut self, rules: &[String]) -> Result<(), String> {
        if !self.has_search {
            return Ok(());
        }
        super::set_synonyms(&mut self.conn, rules)
    }
}

impl Catalog {
    /// Every product group of `lang` with its searchable text, as the index reads it:
    /// what a benchmark feeds another engine so both search the same documents.
    pub fn search_documents(&self, lang: &str) -> Result<Vec<(String, super::Doc)>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "SELECT group_id, title, brand, category, colors, search_text FROM product WHERE lang = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([lang], |r| {
            Ok((
                r.get(0)?,
                super::Doc {
                    title: r.get(1)?,
                    brand: r.get(2)?,
                    category: r.get(3)?,
                    colors: r.get(4)?,
                    description: r.get(5)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
