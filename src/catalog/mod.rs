//! The catalog: Merchant Center feeds in, product cards and sheets out.
//!
//! - [`feed`], [`repair`], [`xml`], [`delimited`], [`fields`], [`normalise`]: reading feeds
//!   into validated items, repairing what can be repaired;
//! - [`import`]: applying them in one transaction (a kiosk's or hub's SQLite, or the
//!   hub's PostgreSQL), with `write`'s multi-row statements;
//! - [`search`]: the kiosk's search index, typo-tolerant and ranked, and the queries
//!   with text and filters;
//! - `popular`: what is popular in the kiosk's shop, for its home screen and search;
//! - `featured`: the products store ops put first on the attract and home screens;
//! - this module: [`Catalog`], the queries the kiosk and the CLI ask.

mod changes;
mod delimited;
mod featured;
pub mod feed;
mod fields;
pub mod import;
mod lookups;
pub mod normalise;
mod popular;
mod repair;
pub mod search;
mod write;
mod xml;

use std::path::Path;

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db::{self, DbError};
use crate::domain::{Availability, Gtin, Price, Sale, size_order};

pub use changes::{changes_page, names_image};
pub use import::{FeedOptions, ImportReport, InventoryFeed, ProductFeed, Summary};
use lookups::{STOCK_OF_SKU, shop_stock};
pub use lookups::{
    describe_sku, group_of_sku, has_sku, inventory_as_of, known_skus, product_count, pulled_at, set_inventory_as_of,
    stock_levels, variant_codes,
};

/// Longest search text accepted; longer input is cut, never an error on screen.
pub const MAX_QUERY_CHARS: usize = 100;
/// At most this many words of a query are searched.
pub const MAX_QUERY_WORDS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("catalog query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("catalog query failed: {0}")]
    Query(#[from] crate::db::Error),
}

/// A catalog database: the kiosk's, or the catalog tables of the hub's.
pub struct Catalog {
    conn: Connection,
    /// The hub records every change in `catalog_log`, for kiosks to pull.
    log_changes: bool,
    /// The file keeps the shop's popularity (a kiosk's does, a hub's does not).
    has_popular: bool,
    /// The file keeps a search index (a kiosk's does, a hub's does not).
    has_search: bool,
    search: std::cell::RefCell<search::Cache>,
}

/// What a shopper asked to see. Text, category and filters combine (AND).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub lang: String,
    pub text: String,
    pub category: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    /// Effective price (sale price when a sale is on) within `[min, max)`, minor units.
    pub price_band: Option<(i64, i64)>,
    /// Only products with a variant available in this shop.
    pub in_stock_at: Option<String>,
    /// The shop whose stock ranks first: what is in stock here before what is not.
    pub rank_store: Option<String>,
    pub limit: usize,
    pub now: Timestamp,
}

impl Query {
    pub fn new(lang: &str, now: Timestamp) -> Query {
        Query {
            lang: lang.to_owned(),
            text: String::new(),
            category: None,
            size: None,
            color: None,
            price_band: None,
            in_stock_at: None,
            rank_store: None,
            limit: 48,
            now,
        }
    }
}

/// A product group as a result card shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductCard {
    pub group_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub category: Option<String>,
    /// Lowest regular price of its variants.
    pub price: Price,
    /// Lowest sale price in force now, if any.
    pub sale_price: Option<Price>,
    pub image_link: Option<String>,
    pub colors: Vec<String>,
}

/// The sizes and colours a result set offers, for filter chips.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub sizes: Vec<String>,
    pub colors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub path: String,
    pub products: usize,
    pub image_link: Option<String>,
}

/// Stock of one SKU in one shop.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopStock {
    pub store_code: String,
    pub quantity: Option<u32>,
    pub availability: Availability,
    pub updated_at: Timestamp,
}

impl ShopStock {
    pub fn is_available(&self) -> bool {
        self.availability.with_quantity(self.quantity)
    }
}

/// One SKU of a product sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantInfo {
    pub sku: String,
    pub size: Option<String>,
    pub color: Option<String>,
    pub gtin: Option<String>,
    pub price: Price,
    pub sale: Option<Sale>,
    pub online: Availability,
    pub images: Vec<String>,
    /// This shop's stock; `None` when the inventory feed does not list it here.
    pub here: Option<ShopStock>,
    /// Other shops where it is available now.
    pub elsewhere: Vec<ShopStock>,
}

impl VariantInfo {
    /// Whether this shop can hand it over now.
    pub fn in_stock_here(&self) -> bool {
        self.here.as_ref().is_some_and(ShopStock::is_available)
    }

    /// The sale in force at `now`, if any.
    pub fn active_sale(&self, now: Timestamp) -> Option<&Sale> {
        self.sale.as_ref().filter(|s| s.is_active(now))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductSheet {
    pub group_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub description: String,
    pub category: Option<String>,
    pub link: Option<String>,
    /// Colours then sizes in the order a shop shows them.
    pub variants: Vec<VariantInfo>,
}

impl ProductSheet {
    /// Colours in variant order, each once.
    pub fn colors(&self) -> Vec<String> {
        distinct(self.variants.iter().filter_map(|v| v.color.clone()))
    }

    /// Sizes in the order a shop shows them, each once.
    pub fn sizes(&self) -> Vec<String> {
        let mut out = distinct(self.variants.iter().filter_map(|v| v.size.clone()));
        out.sort_by_key(|s| size_order(s));
        out
    }

    /// The variant with this colour and size, or the closest one: same colour, then any.
    pub fn pick(&self, color: Option<&str>, size: Option<&str>) -> Option<&VariantInfo> {
        let exact = self
            .variants
            .iter()
            .find(|v| v.color.as_deref() == color && v.size.as_deref() == size);
        exact
            .or_else(|| self.variants.iter().find(|v| v.color.as_deref() == color))
            .or_else(|| self.variants.first())
    }
}

/// The values of `items`, each once, in first-seen order.
fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Where a scanned or typed code leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupHit {
    pub lang: String,
    pub group_id: String,
    pub sku: String,
}

/// Whether the file has this table: which catalog tables a file keeps is checked once,
/// when a [`Catalog`] is made (a kiosk's keeps popularity and the search index, a hub's
/// neither).
fn has_table(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )
    .unwrap_or(false)
}

/// The named arguments a statement uses (SQLite refuses unknown names).
pub(crate) fn bind<'a>(sql: &str, args: &'a [(&'static str, Value)]) -> Vec<(&'static str, &'a dyn rusqlite::ToSql)> {
    args.iter()
        .filter(|(name, _)| sql.contains(name))
        .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
        .collect()
}

/// The columns of a result card, with the lowest sale price in force at `:now`.
pub(crate) const CARD_SELECT: &str =
    "SELECT p.group_id, p.title, p.brand, p.category, p.price_min, p.currency, p.image_link,
        p.colors,
        (SELECT MIN(v.sale_minor) FROM variant v INDEXED BY variant_by_group
         WHERE v.lang = p.lang AND v.group_id = p.group_id AND v.sale_minor IS NOT NULL
           AND (v.sale_starts IS NULL OR v.sale_starts <= :now)
           AND (v.sale_ends IS NULL OR v.sale_ends > :now))";

pub(crate) fn card_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProductCard> {
    let currency: String = r.get(5)?;
    let colors: String = r.get(7)?;
    Ok(ProductCard {
        group_id: r.get(0)?,
        title: r.get(1)?,
        brand: r.get(2)?,
        category: r.get(3)?,
        price: Price {
            minor: r.get(4)?,
            currency: currency.clone(),
        },
        image_link: r.get(6)?,
        colors: colors
            .split(", ")
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        sale_price: r.get::<_, Option<i64>>(8)?.map(|minor| Price { minor, currency }),
    })
}

pub(crate) const EFFECTIVE_PRICE: &str = "CASE WHEN v.sale_minor IS NOT NULL
        AND (v.sale_starts IS NULL OR v.sale_starts <= :now)
        AND (v.sale_ends IS NULL OR v.sale_ends > :now)
    THEN v.sale_minor ELSE v.price_minor END";

impl Catalog {
    /// Opens a kiosk database (creating it if needed).
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        Ok(Catalog::with_connection(db::open(path, db::Schema::Kiosk)?, false))
    }

    /// Wraps an open connection. With `log_changes`, imports record every changed row
    /// in the hub's change log.
    pub fn with_connection(conn: Connection, log_changes: bool) -> Catalog {
        let has_popular = has_table(&conn, "popular");
        let has_search = has_table(&conn, "search_posting");
        // `rarray()`: search hands its matches to SQL as one parameter.
        if let Err(e) = rusqlite::vtab::array::load_module(&conn) {
            tracing::error!("cannot load SQLite's array module: {e}");
        }
        Catalog {
            conn,
            log_changes,
            has_popular,
            has_search,
            search: Default::default(),
        }
    }

    /// The connection, for the tables that live beside the catalog's.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The language to show the catalog in: `wanted` if the catalog has it, else the
    /// language most of the catalog is written in.
    pub fn content_lang(&self, wanted: &str) -> Result<String, CatalogError> {
        let has: bool = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM product WHERE lang = ?1)")?
            .query_row([wanted], |r| r.get(0))?;
        if has {
            return Ok(wanted.to_owned());
        }
        let most: Option<String> = self
            .conn
            .query_row(
                "SELECT lang FROM product GROUP BY lang ORDER BY COUNT(*) DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(most.unwrap_or_else(|| wanted.to_owned()))
    }

    pub fn is_empty(&self) -> Result<bool, CatalogError> {
        Ok(!self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM product)", [], |r| r.get(0))?)
    }

    /// The same category in another language: the one most of its products have there.
    pub fn translate_category(&self, path: &str, from: &str, to: &str) -> Result<Option<String>, CatalogError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT t.category FROM product f JOIN product t ON t.group_id = f.group_id AND t.lang = ?3
                 WHERE f.lang = ?2 AND f.category = ?1 AND t.category IS NOT NULL
                 GROUP BY t.category ORDER BY COUNT(*) DESC LIMIT 1",
            )?
            .query_row(params![path, from, to], |r| r.get(0))
            .optional()?)
    }

    /// Categories with how many products each holds and a picture for the tile.
    pub fn categories(&self, lang: &str) -> Result<Vec<Category>, CatalogError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT category, COUNT(*), MAX(image_link) FROM product
             WHERE lang = ?1 AND category IS NOT NULL GROUP BY category ORDER BY category",
        )?;
        let rows = stmt.query_map([lang], |r| {
            Ok(Category {
                path: r.get(0)?,
                products: r.get::<_, i64>(1)? as usize,
                image_link: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Products to feature on the attract and home screens: those on sale first.
    pub fn featured(&self, lang: &str, count: usize, now: Timestamp) -> Result<Vec<ProductCard>, CatalogError> {
        let mut q = Query::new(lang, now);
        q.limit = count;
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.group_id FROM product p WHERE p.lang = ?1 AND p.sale_min IS NOT NULL
               AND EXISTS (SELECT 1 FROM variant v INDEXED BY variant_by_group WHERE v.lang = p.lang AND v.group_id = p.group_id
                   AND v.sale_minor IS NOT NULL
                   AND (v.sale_starts IS NULL OR v.sale_starts <= ?3)
                   AND (v.sale_ends IS NULL OR v.sale_ends > ?3))
             LIMIT ?2",
        )?;
        let on_sale: Vec<String> = stmt
            .query_map(params![lang, count as i64, now.as_second()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut cards = Vec::with_capacity(count);
        for group in &on_sale {
            if let Some(card) = self.card(lang, group, now)? {
                cards.push(card);
            }
        }
        if cards.len() < count {
            q.limit = count * 2;
            for card in self.search(&q)? {
                if cards.len() == count {
                    break;
                }
                if !on_sale.contains(&card.group_id) {
                    cards.push(card);
                }
            }
        }
        Ok(cards)
    }

    /// The result card of one product group.
    pub fn card(&self, lang: &str, group_id: &str, now: Timestamp) -> Result<Option<ProductCard>, CatalogError> {
        let sql = format!("{CARD_SELECT} FROM product p WHERE p.lang = :lang AND p.group_id = :group");
        let args = [
            (":lang", Value::Text(lang.to_owned())),
            (":group", Value::Text(group_id.to_owned())),
            (":now", Value::Integer(now.as_second())),
        ];
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row(bind(&sql, &args).as_slice(), card_row).optional()?)
    }

    /// Finds a product by SKU, GTIN (any length, leading zeros or not) or MPN.
    pub fn lookup(&self, code: &str) -> Result<Option<LookupHit>, CatalogError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 200 {
            return Ok(None);
        }
        let sql = "SELECT lang, group_id, sku FROM variant WHERE {col} = ?1 LIMIT 1";
        let find = |col: &str, value: &str| -> Result<Option<LookupHit>, CatalogError> {
            Ok(self
                .conn
                .prepare_cached(&sql.replace("{col}", col))?
                .query_row([value], |r| {
                    Ok(LookupHit {
                        lang: r.get(0)?,
                        group_id: r.get(1)?,
                        sku: r.get(2)?,
                    })
                })
                .optional()?)
        };
        if let Some(hit) = find("sku", code)? {
            return Ok(Some(hit));
        }
        // The kiosk's keyboards type lower case; SKUs are usually capitals.
        let upper = code.to_uppercase();
        if upper != code
            && let Some(hit) = find("sku", &upper)?
        {
            return Ok(Some(hit));
        }
        if let Ok(gtin) = Gtin::parse(code)
            && let Some(hit) = find("gtin", gtin.as_str())?
        {
            return Ok(Some(hit));
        }
        find("mpn", code)
    }

    /// Variants whose SKU begins with `prefix`, in SKU order, at most `limit` (the index
    /// on SKUs serves the range).
    pub fn skus_starting(&self, prefix: &str, limit: usize) -> Result<Vec<LookupHit>, CatalogError> {
        if prefix.trim().is_empty() || prefix.len() > 200 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT lang, group_id, sku FROM variant WHERE sku >= ?1 AND sku < ?1 || char(1114111)
             GROUP BY sku ORDER BY sku LIMIT ?2",
        )?;
        let hits = stmt.query_map(params![prefix, limit as i64], |r| {
            Ok(LookupHit {
                lang: r.get(0)?,
                group_id: r.get(1)?,
                sku: r.get(2)?,
            })
        })?;
        Ok(hits.collect::<rusqlite::Result<_>>()?)
    }

    /// Everything a product sheet shows, with stock here (`store`) and elsewhere.
    pub fn product(&self, lang: &str, group_id: &str, store: &str) -> Result<Option<ProductSheet>, CatalogError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sku, title, description, brand, category, link, size, color, gtin, price_minor,
                 currency, sale_minor, sale_starts, sale_ends, availability, image_link, additional_images
             FROM variant INDEXED BY variant_by_group WHERE lang = ?1 AND group_id = ?2",
        )?;
        let mut sheet: Option<ProductSheet> = None;
        let mut rows = stmt.query(params![lang, group_id])?;
        while let Some(r) = rows.next()? {
            let currency: String = r.get(10)?;
            let mut images: Vec<String> = r.get::<_, Option<String>>(15)?.into_iter().collect();
            let extra: String = r.get(16)?;
            images.extend(serde_json::from_str::<Vec<String>>(&extra).unwrap_or_default());
            let ts = |v: Option<i64>| v.and_then(|s| Timestamp::from_second(s).ok());
            let sale = r.get::<_, Option<i64>>(11)?.map(|minor| Sale {
                price: Price {
                    minor,
                    currency: currency.clone(),
                },
                starts: ts(r.get(12).ok().flatten()),
                ends: ts(r.get(13).ok().flatten()),
            });
            let online: String = r.get(14)?;
            let variant = VariantInfo {
                sku: r.get(0)?,
                size: r.get(6)?,
                color: r.get(7)?,
                gtin: r.get(8)?,
                price: Price {
                    minor: r.get(9)?,
                    currency,
                },
                sale,
                online: Availability::parse(&online).unwrap_or(Availability::OutOfStock),
                images,
                here: None,
                elsewhere: Vec::new(),
            };
            let sheet = sheet.get_or_insert_with(|| ProductSheet {
                group_id: group_id.to_owned(),
                title: String::new(),
                brand: None,
                description: String::new(),
                category: None,
                link: None,
                variants: Vec::new(),
            });
            let title: String = r.get(1)?;
            if sheet.title.is_empty() || title.len() < sheet.title.len() {
                sheet.title = title;
            }
            if sheet.description.is_empty() {
                sheet.description = r.get(2)?;
                sheet.brand = r.get(3)?;
                sheet.category = r.get(4)?;
                sheet.link = r.get(5)?;
            }
            sheet.variants.push(variant);
        }
        drop(rows);
        let Some(mut sheet) = sheet else { return Ok(None) };
        // SKU order is stable and usually groups colours. (Not ORDER BY: see rebuild_group.)
        sheet.variants.sort_by(|a, b| a.sku.cmp(&b.sku));

        let db: &dyn crate::db::Sql = &self.conn;
        for variant in &mut sheet.variants {
            for level in db.query_map(STOCK_OF_SKU, crate::db::params![variant.sku], shop_stock)? {
                if level.store_code == store {
                    variant.here = Some(level);
                } else if level.is_available() {
                    variant.elsewhere.push(level);
                }
            }
        }
        // Colours in feed order of first appearance, sizes in shop order within a colour.
        let colors = sheet.colors();
        sheet.variants.sort_by_key(|v| {
            let color_rank = v.color.as_ref().and_then(|c| colors.iter().position(|x| x == c));
            (color_rank, v.size.as_deref().map(size_order))
        });
        Ok(Some(sheet))
    }
}
