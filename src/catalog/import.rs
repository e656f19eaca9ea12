//! Applying feeds to the catalog: one transaction, counted, idempotent.
//!
//! Parsing and validation happen before the transaction opens, so a feed that is not
//! well-formed never touches the database. Inside the transaction, each valid item is
//! compared with what is stored by a content hash: equal rows are left alone (so a
//! re-import changes nothing), and rows the feed no longer lists are removed (a feed is
//! the full catalog, as Merchant Center treats it). Product groups, the search index and
//! the result cards are rebuilt only for the groups an import touched.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::db::{self, Sql, params};
use jiff::Timestamp;
use serde::Serialize;

use super::Catalog;
use super::feed::{self, FeedError, Notice, RawItem};
use super::normalise::{self, Defaults, Normalised};
use super::search::{self, Delta};
use super::write::{self, ChangeLog};
use crate::domain::{StockLevel, Variant};
use crate::protocol::CatalogChange;

/// Rows an import changes past which PostgreSQL's statistics are gathered at once.
const ANALYZE_AFTER: usize = 1_000;

/// Page cache while an import runs, in KiB.
const IMPORT_CACHE_KIB: i64 = 512 * 1024;

/// What the importer is told about a feed that the feed may not say itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedOptions {
    /// The language of a product feed that declares none (else English).
    pub lang: Option<String>,
    /// The ISO 4217 currency of prices written without one (`69.9`); without it such
    /// prices reject their items.
    pub currency: Option<String>,
}

impl FeedOptions {
    pub fn lang(lang: &str) -> FeedOptions {
        FeedOptions {
            lang: Some(lang.to_owned()),
            currency: None,
        }
    }
}

/// A product feed read and validated, ready to import: its variants in their language,
/// and what was said about its items.
#[derive(Debug)]
pub struct ProductFeed {
    pub lang: String,
    /// Items the feed listed.
    pub listed: usize,
    validated: Validated<Variant>,
}

impl ProductFeed {
    /// Reads and validates a product feed. The language is the options' if given, else
    /// the one the feed declares (RSS `<language>`, Atom `xml:lang`), else English. A
    /// feed of which no item can be used is refused whole: imported, it would empty the
    /// catalog.
    pub fn parse(bytes: &[u8], options: &FeedOptions) -> Result<ProductFeed, FeedError> {
        let parsed = feed::read(bytes)?;
        let lang = options
            .lang
            .as_deref()
            .and_then(language_code)
            .or_else(|| parsed.language.as_deref().and_then(language_code))
            .unwrap_or_else(|| "en".to_owned());
        let validated = validate(
            &parsed.items,
            parsed.warnings,
            options.currency.as_deref(),
            normalise::product,
            |v| v.sku.clone(),
        )?;
        Ok(ProductFeed {
            lang,
            listed: parsed.items.len(),
            validated,
        })
    }

    /// The variants that will be imported.
    pub fn variants(&self) -> &[Variant] {
        &self.validated.valid
    }
}

/// A local inventory feed read and validated, ready to import.
#[derive(Debug)]
pub struct InventoryFeed {
    /// Rows the feed listed.
    pub listed: usize,
    validated: Validated<StockLevel>,
}

impl InventoryFeed {
    /// Reads and validates a local inventory feed; refused whole when no row is usable.
    pub fn parse(bytes: &[u8], options: &FeedOptions) -> Result<InventoryFeed, FeedError> {
        let parsed = feed::read(bytes)?;
        let validated = validate(
            &parsed.items,
            parsed.warnings,
            options.currency.as_deref(),
            normalise::stock,
            |s| format!("{}\t{}", s.store_code, s.sku),
        )?;
        Ok(InventoryFeed {
            listed: parsed.items.len(),
            validated,
        })
    }
}

/// `fr-FR`, `fr_fr` and `FR` are all French. `None` for something that is not a
/// language tag.
pub fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    ((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase())).then_some(primary)
}

/// What one feed did to the catalog.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Items left out, each with why.
    pub rejected: Vec<Notice>,
    /// What was dropped, repaired or read differently so items could land.
    pub warnings: Vec<Notice>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported={} updated={} unchanged={} removed={} rejected={} warnings={}",
            self.imported,
            self.updated,
            self.unchanged,
            self.removed,
            self.rejected.len(),
            self.warnings.len()
        )
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub products: Option<Summary>,
    pub inventory: Option<Summary>,
}

fn content_hash<T: Serialize>(value: &T) -> i64 {
    let bytes = serde_json::to_vec(value).expect("catalog types serialise to JSON");
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

/// Items given their meaning, and what was said about the feed's items.
#[derive(Debug)]
struct Validated<T> {
    valid: Vec<T>,
    rejected: Vec<Notice>,
    warnings: Vec<Notice>,
}

/// Validates items and drops repeated ids (the first one wins, as in Merchant Center).
/// `read` is the feed's own warnings (repairs, renamed fields), listed first.
fn validate<T>(
    items: &[RawItem],
    read: Vec<Notice>,
    currency: Option<&str>,
    normalise: impl Fn(&RawItem, Defaults<'_>) -> Result<Normalised<T>, Notice>,
    key: impl Fn(&T) -> String,
) -> Result<Validated<T>, FeedError> {
    let mut out = Validated {
        valid: Vec::with_capacity(items.len()),
        rejected: Vec::new(),
        warnings: read,
    };
    let (mut defaulted, mut in_stock) = (0, 0);
    let mut seen: HashMap<String, Option<feed::Position>> = HashMap::with_capacity(items.len());
    for item in items {
        match normalise(item, Defaults { currency }) {
            Ok(n) => {
                let k = key(&n.value);
                if let Some(first) = seen.get(&k) {
                    let at = first.map_or_else(String::new, |p| format!(" at {p}"));
                    out.rejected.push(Notice::about(
                        item,
                        format!("the same id was already listed{at}; only the first is kept"),
                    ));
                } else {
                    seen.insert(k, item.position);
                    defaulted += usize::from(n.defaulted_currency);
                    in_stock += usize::from(n.assumed_in_stock);
                    out.warnings.extend(n.warnings);
                    out.valid.push(n.value);
                }
            }
            Err(rejection) => out.rejected.push(rejection),
        }
    }
    let items = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 item {one}")
        } else {
            format!("{n} items {many}")
        }
    };
    if in_stock > 0 {
        let items = items(in_stock, "gives", "give");
        out.warnings.push(Notice::about_feed(format!(
            "{items} neither availability nor quantity; read as in_stock"
        )));
    }
    if defaulted > 0 {
        let (items, currency) = (items(defaulted, "has", "have"), currency.unwrap_or_default());
        out.warnings.push(Notice::about_feed(format!(
            "{items} prices without a currency; read in {currency} as configured"
        )));
    }
    if out.valid.is_empty()
        && let Some(first) = out.rejected.first()
    {
        return Err(FeedError::NothingUsable {
            listed: out.rejected.len(),
            first: first.to_string(),
        });
    }
    Ok(out)
}

impl Catalog {
    /// Imports a product feed and/or a local inventory feed in one transaction.
    pub fn import(
        &mut self,
        products: Option<&ProductFeed>,
        inventory: Option<&InventoryFeed>,
        now: Timestamp,
    ) -> db::Result<ImportReport> {
        let keep = Keep {
            log_changes: self.log_changes,
            index: self.has_search,
        };
        import(&self.conn, keep, products, inventory, now)
    }
}

/// What an import keeps besides the catalog's rows.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// The hub's change log, which kiosks pull (`catalog_log`).
    pub log_changes: bool,
    /// The kiosk's search index.
    pub index: bool,
}

/// Imports a product feed and/or a local inventory feed in one transaction, on a
/// kiosk's catalog or on a hub's database of either kind.
pub fn import(
    db: &dyn Sql,
    keep: Keep,
    products: Option<&ProductFeed>,
    inventory: Option<&InventoryFeed>,
    now: Timestamp,
) -> db::Result<ImportReport> {
    let products = products.map(|feed| (feed.lang.as_str(), &feed.validated));
    let inventory = inventory.map(|feed| &feed.validated);
    if db.dialect() == db::Dialect::Postgres {
        let report = import_validated(db, keep, products, inventory, now)?;
        // The planner's statistics, current after a large change: without them
        // PostgreSQL guesses a SKU matches thousands of rows and scans the catalog to
        // find 64. The import is committed; statistics that could not be gathered now
        // are autovacuum's to gather.
        let changed: usize = [&report.products, &report.inventory]
            .into_iter()
            .flatten()
            .map(|s| s.imported + s.updated + s.removed)
            .sum();
        if changed >= ANALYZE_AFTER
            && let Err(e) = db.batch("ANALYZE variant, product, stock")
        {
            tracing::warn!(error = %e, "the catalog's statistics were not gathered after an import");
        }
        return Ok(report);
    }
    // A full import touches every index page; with the kiosk's small page cache SQLite
    // would re-read them from the WAL for every row. Borrow more for the import only.
    db.batch(&format!("PRAGMA cache_size = {}", -IMPORT_CACHE_KIB))?;
    let result = import_validated(db, keep, products, inventory, now);
    db.batch(&format!("PRAGMA cache_size = {}", -crate::db::CACHE_KIB))?;
    // Keeps the planner's statistics current after large changes (cheap when not).
    if result.is_ok() {
        db.batch("PRAGMA optimize")?;
    }
    result
}

fn import_validated(
    db: &dyn Sql,
    keep: Keep,
    products: Option<(&str, &Validated<Variant>)>,
    inventory: Option<&Validated<StockLevel>>,
    now: Timestamp,
) -> db::Result<ImportReport> {
    let tx = db.begin()?;
    if keep.log_changes {
        db::lock_feed(&*tx, db::FEED_LOCK_CATALOG)?;
    }
    let mut report = ImportReport::default();
    let mut delta = keep.index.then(Delta::default);
    if let Some((lang, v)) = products {
        let mut summary = apply_products(&*tx, lang, &v.valid, keep.log_changes, delta.as_mut())?;
        if summary.imported + summary.updated + summary.removed > 0 {
            // Which products have stock here follows their variants, even when the
            // words indexed for them stay the same.
            search::bump(&*tx, "stock_version")?;
        }
        summary.rejected.clone_from(&v.rejected);
        summary.warnings.clone_from(&v.warnings);
        set_meta(&*tx, &format!("products_imported_at.{lang}"), &now.to_string())?;
        report.products = Some(summary);
    }
    if let Some(v) = inventory {
        let mut summary = apply_inventory(&*tx, &v.valid, now, keep.log_changes)?;
        if summary.imported + summary.updated + summary.removed > 0 {
            search::bump(&*tx, "stock_version")?;
        }
        summary.rejected.clone_from(&v.rejected);
        summary.warnings.clone_from(&v.warnings);
        set_meta(&*tx, "inventory_imported_at", &now.to_string())?;
        report.inventory = Some(summary);
    }
    if let Some(delta) = delta {
        delta.flush(&*tx)?;
    }
    tx.commit()?;
    Ok(report)
}

fn set_meta(tx: &dyn Sql, key: &str, value: &str) -> db::Result<()> {
    tx.execute(
        "INSERT INTO catalog_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn apply_products(
    tx: &dyn Sql,
    lang: &str,
    variants: &[Variant],
    log: bool,
    mut delta: Option<&mut Delta>,
) -> db::Result<Summary> {
    let mut existing: HashMap<String, (i64, String)> = HashMap::new();
    tx.each(
        "SELECT sku, content_hash, group_id FROM variant WHERE lang = ?1",
        params![lang],
        &mut |r| {
            existing.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
            Ok(())
        },
    )?;

    let mut summary = Summary::default();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut changed = Vec::new();
    let mut changes = ChangeLog::default();
    for v in variants {
        let hash = content_hash(v);
        match existing.remove(&v.sku) {
            Some((old_hash, _)) if old_hash == hash => {
                summary.unchanged += 1;
                continue;
            }
            Some((_, old_group)) => {
                summary.updated += 1;
                touched.insert(old_group);
            }
            None => summary.imported += 1,
        }
        touched.insert(v.group_id.clone());
        changed.push((v, hash));
        if log {
            changes.record(tx, "variant", lang, &v.sku, Some(v))?;
        }
    }
    write::upsert_variants(tx, lang, &changed)?;

    for (sku, (_, group)) in existing {
        tx.execute("DELETE FROM variant WHERE lang = ?1 AND sku = ?2", params![lang, sku])?;
        if log {
            changes.record::<Variant>(tx, "variant", lang, &sku, None)?;
        }
        touched.insert(group);
        summary.removed += 1;
    }
    changes.flush(tx)?;

    for group in &touched {
        rebuild_group(tx, lang, group, delta.as_deref_mut())?;
    }
    Ok(summary)
}

/// Recomputes a group's result card from its variants, and its search entry when the
/// file keeps the index (`delta`). The group keeps its product id, so the index changes
/// only the terms that changed.
fn rebuild_group(tx: &dyn Sql, lang: &str, group_id: &str, delta: Option<&mut Delta>) -> db::Result<()> {
    let old_id: Option<i64> = tx.query_opt(
        "SELECT id FROM product WHERE lang = ?1 AND group_id = ?2",
        params![lang, group_id],
        |r| r.get(0),
    )?;
    let old_doc = match (&delta, old_id) {
        (Some(_), Some(id)) => search::stored_doc(tx, id)?.map(|doc| (id as u32, doc.terms())),
        _ => None,
    };
    if let Some(id) = old_id {
        tx.execute("DELETE FROM product WHERE id = ?1", params![id])?;
    }

    struct Row {
        title: String,
        description: String,
        brand: Option<String>,
        category: Option<String>,
        color: Option<String>,
        price: i64,
        sale: Option<i64>,
        currency: String,
        image: Option<String>,
        sku: String,
    }
    // Without statistics SQLite prefers walking the covering (lang, sku) key of the whole
    // catalog to the group index, hence INDEXED BY; for the same reason rows are sorted
    // here rather than with ORDER BY.
    let mut rows: Vec<Row> = tx.query_map(
        tx.pick(
            "SELECT title, description, brand, category, color, price_minor, sale_minor, currency, image_link, sku
             FROM variant INDEXED BY variant_by_group WHERE lang = ?1 AND group_id = ?2",
            "SELECT title, description, brand, category, color, price_minor, sale_minor, currency, image_link, sku
             FROM variant WHERE lang = ?1 AND group_id = ?2",
        ),
        params![lang, group_id],
        |r| {
            Ok(Row {
                title: r.get(0)?,
                description: r.get(1)?,
                brand: r.get(2)?,
                category: r.get(3)?,
                color: r.get(4)?,
                price: r.get(5)?,
                sale: r.get(6)?,
                currency: r.get(7)?,
                image: r.get(8)?,
                sku: r.get(9)?,
            })
        },
    )?;
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    let Some(first) = rows.first() else {
        if let Some(delta) = delta {
            delta.replace(lang, old_doc.as_ref().map(|(id, terms)| (*id, terms)), None);
        }
        return Ok(());
    };
    // Variant titles often end in their colour or size; the shortest is the group's name.
    let title = rows
        .iter()
        .map(|r| r.title.as_str())
        .min_by_key(|t| t.len())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let colors: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.color.as_deref())
        .filter(|c| seen.insert(*c))
        .collect();
    let price_min = rows.iter().map(|r| r.price).min().unwrap_or(first.price);
    let sale_min = rows.iter().filter_map(|r| r.sale).min();
    let image = rows.iter().find_map(|r| r.image.clone());
    let colors = colors.join(", ");
    let search_text: String = first.description.chars().take(search::DESCRIPTION_CHARS).collect();

    // A group keeps its id (the index's postings name it); a new one gets the next.
    let count = rows.len() as i64;
    let fields = params![
        lang,
        group_id,
        title,
        first.brand,
        first.category,
        price_min,
        sale_min,
        first.currency,
        image,
        colors,
        count,
        search_text,
    ];
    let id: i64 = match &old_id {
        Some(old) => {
            let mut values = fields.to_vec();
            values.push(old);
            tx.one(
                "INSERT INTO product (id, lang, group_id, title, brand, category, price_min, sale_min, currency,
                     image_link, colors, variant_count, search_text)
                 VALUES (?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
                &values,
            )?
        }
        None => tx.one(
            "INSERT INTO product (lang, group_id, title, brand, category, price_min, sale_min, currency,
                 image_link, colors, variant_count, search_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
            fields,
        )?,
    };
    if let Some(delta) = delta {
        let id = id as u32;
        let doc = search::Doc {
            title: title.to_owned(),
            brand: first.brand.clone(),
            category: first.category.clone(),
            colors,
            description: search_text,
        };
        delta.replace(
            lang,
            old_doc.as_ref().map(|(id, terms)| (*id, terms)),
            Some((id, &doc.terms())),
        );
    }
    Ok(())
}

fn apply_inventory(tx: &dyn Sql, levels: &[StockLevel], now: Timestamp, log: bool) -> db::Result<Summary> {
    let mut existing: HashMap<(String, String), i64> = HashMap::new();
    tx.each("SELECT store_code, sku, content_hash FROM stock", params![], &mut |r| {
        existing.insert((r.get(0)?, r.get(1)?), r.get(2)?);
        Ok(())
    })?;
    let mut summary = Summary::default();
    let mut changed = Vec::new();
    let mut changes = ChangeLog::default();
    for level in levels {
        let hash = content_hash(level);
        match existing.remove(&(level.store_code.clone(), level.sku.clone())) {
            Some(old) if old == hash => {
                summary.unchanged += 1;
                continue;
            }
            Some(_) => summary.updated += 1,
            None => summary.imported += 1,
        }
        changed.push((level, hash));
        if log {
            changes.record(tx, "stock", &level.store_code, &level.sku, Some(level))?;
        }
    }
    write::upsert_stock(tx, &changed, now.as_second())?;
    for ((store, sku), _) in existing {
        tx.execute(
            "DELETE FROM stock WHERE store_code = ?1 AND sku = ?2",
            params![store, sku],
        )?;
        if log {
            changes.record::<StockLevel>(tx, "stock", &store, &sku, None)?;
        }
        summary.removed += 1;
    }
    changes.flush(tx)?;
    Ok(summary)
}

impl Catalog {
    /// Applies changes pulled from the hub, and the cursor that follows them, in one
    /// transaction: the kiosk's catalog is always at some cursor, never between two.
    pub fn apply_changes(&mut self, changes: &[CatalogChange], cursor: &str, now: Timestamp) -> db::Result<()> {
        let tx = self.conn.transaction()?;
        let db: &dyn Sql = &tx;
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        let mut stock_changed = false;
        let group_of = |lang: &str, sku: &str| -> db::Result<Option<String>> {
            db.query_opt(
                "SELECT group_id FROM variant WHERE lang = ?1 AND sku = ?2",
                params![lang, sku],
                |r| r.get(0),
            )
        };
        for change in changes {
            match change {
                CatalogChange::Variant { lang, variant } => {
                    if let Some(old) = group_of(lang, &variant.sku)? {
                        touched.insert((lang.clone(), old));
                    }
                    touched.insert((lang.clone(), variant.group_id.clone()));
                    write::upsert_variants(db, lang, &[(variant, content_hash(variant))])?;
                }
                CatalogChange::VariantRemoved { lang, sku } => {
                    if let Some(old) = group_of(lang, sku)? {
                        touched.insert((lang.clone(), old));
                    }
                    db.execute("DELETE FROM variant WHERE lang = ?1 AND sku = ?2", params![lang, sku])?;
                }
                CatalogChange::Stock { stock } => {
                    stock_changed = true;
                    write::upsert_stock(db, &[(stock, content_hash(stock))], now.as_second())?;
                }
                CatalogChange::StockRemoved { store_code, sku } => {
                    stock_changed = true;
                    db.execute(
                        "DELETE FROM stock WHERE store_code = ?1 AND sku = ?2",
                        params![store_code, sku],
                    )?;
                }
            }
        }
        let mut delta = self.has_search.then(Delta::default);
        for (lang, group) in &touched {
            rebuild_group(db, lang, group, delta.as_mut())?;
        }
        if let Some(delta) = delta {
            delta.flush(db)?;
        }
        if stock_changed || !touched.is_empty() {
            search::bump(db, "stock_version")?;
        }
        set_meta(db, CURSOR_KEY, cursor)?;
        set_meta(db, "catalog_pulled_at", &now.to_string())?;
        Ok(tx.commit()?)
    }

    /// Where the kiosk's catalog stands in the hub's change log (empty: nothing pulled).
    pub fn cursor(&self) -> db::Result<String> {
        let db: &dyn Sql = &self.conn;
        Ok(db
            .query_opt(
                "SELECT value FROM catalog_meta WHERE key = ?1",
                params![CURSOR_KEY],
                |r| r.get(0),
            )?
            .unwrap_or_default())
    }
}

const CURSOR_KEY: &str = "catalog_cursor";

#[cfg(test)]
mod tests {
    use super::language_code;

    #[test]
    fn language_tags() {
        assert_eq!(language_code("fr-FR").as_deref(), Some("fr"));
        assert_eq!(language_code("EN_gb").as_deref(), Some("en"));
        assert_eq!(language_code("français"), None);
    }
}
