//! `vitrine bench catalog`: the catalog's numbers on a generated catalog, printed as
//! `name=value` lines.
//!
//! Generates product groups with five sizes each as a TSV and an RSS feed, imports each
//! into a fresh database (throughput per format), then replays search-as-you-type
//! prefixes and SKU/GTIN lookups and reports medians and p99s. The kiosk start-up
//! figures are measured by the caller in a child process (`vitrine internal
//! probe-startup`, see `kiosk::probes`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;

use super::{Rng, percentiles};
use crate::catalog::{Catalog, FeedOptions, InventoryFeed, ProductFeed, Query};

const NOUNS: &[&str] = &[
    "Robe", "Chemise", "Jean", "Pull", "Veste", "Manteau", "Jupe", "T-shirt", "Baskets", "Bottines", "Sac", "Écharpe",
    "Chapeau", "Pantalon", "Short", "Blouson", "Gilet", "Polo", "Sweat", "Parka",
];
const ADJECTIVES: &[&str] = &[
    "été",
    "lin",
    "coton",
    "laine",
    "cachemire",
    "velours",
    "denim",
    "soie",
    "oversize",
    "ajusté",
    "fluide",
    "côtelé",
    "imprimé",
    "rayé",
    "brodé",
    "matelassé",
    "léger",
    "chiné",
    "plissé",
    "délavé",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "sa", "bel", "to", "ri", "na", "vé", "lu", "can", "dor", "fé", "gio", "ma", "zé", "pol",
    "ti", "ar", "no", "li", "sé", "ra",
];
const COLORS: &[&str] = &[
    "Noir",
    "Écru",
    "Marine",
    "Camel",
    "Terracotta",
    "Sauge",
    "Bordeaux",
    "Gris",
];
const SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL", "38", "40", "42", "44"];
pub const STORES: &[&str] = &["S01", "S02", "S03", "S04", "S05"];

/// A generated catalog: product groups, their titles, and the feeds' text.
pub struct Generated {
    pub titles: Vec<String>,
    pub skus: Vec<String>,
    pub gtins: Vec<String>,
    pub tsv: String,
    pub xml: String,
    pub inventory: String,
}

fn model_name(rng: &mut Rng) -> String {
    let mut name = String::new();
    for _ in 0..2 + rng.next() % 2 {
        name.push_str(rng.pick(SYLLABLES));
    }
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn gtin(serial: u64) -> String {
    let body = format!("200{serial:09}");
    format!("{body}{}", crate::domain::gs1_check_digit(&body))
}

/// Generates `groups` product groups of `variants` sizes each.
pub fn generate(groups: usize, variants: usize) -> Generated {
    let mut rng = Rng(42);
    let mut g = Generated {
        titles: Vec::with_capacity(groups),
        skus: Vec::with_capacity(groups * variants),
        gtins: Vec::with_capacity(groups * variants),
        tsv: String::from(
            "id\ttitle\tdescription\tlink\timage_link\tavailability\tprice\tsale_price\tbrand\tgtin\titem_group_id\tproduct_type\tcolor\tsize\n",
        ),
        xml: String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\"><channel><title>bench</title>\n",
        ),
        inventory: String::from("store_code\tid\tquantity\tavailability\n"),
    };
    let mut serial = 0;
    for group in 0..groups {
        let noun = rng.pick(NOUNS);
        let title = format!("{noun} {} {}", rng.pick(ADJECTIVES), model_name(&mut rng));
        let color = rng.pick(COLORS);
        let price = 1_000 + rng.next() % 40_000;
        let sale = rng.next().is_multiple_of(5).then(|| price * 7 / 10);
        let category = format!("Mode > {noun}");
        for v in 0..variants {
            serial += 1;
            let sku = format!("B{group:06}-{v}");
            let size = SIZES[v % SIZES.len()];
            let code = gtin(serial);
            let price_text = format!("{}.{:02} EUR", price / 100, price % 100);
            let sale_text = sale
                .map(|s| format!("{}.{:02} EUR", s / 100, s % 100))
                .unwrap_or_default();
            let description = format!("{title}, coloris {color}, taille {size}. Pièce de la collection permanente.");
            let _ = writeln!(
                g.tsv,
                "{sku}\t{title}\t{description}\thttps://shop.example/p/{group}\thttps://shop.example/i/{group}.jpg\tin stock\t{price_text}\t{sale_text}\tBench\t{code}\tG{group}\t{category}\t{color}\t{size}"
            );
            let _ = writeln!(
                g.xml,
                "<item><g:id>{sku}</g:id><title>{title}</title><description>{description}</description><link>https://shop.example/p/{group}</link><g:image_link>https://shop.example/i/{group}.jpg</g:image_link><g:availability>in stock</g:availability><g:price>{price_text}</g:price>{sale_xml}<g:brand>Bench</g:brand><g:gtin>{code}</g:gtin><g:item_group_id>G{group}</g:item_group_id><g:product_type>{category_xml}</g:product_type><g:color>{color}</g:color><g:size>{size}</g:size></item>",
                sale_xml = if sale_text.is_empty() {
                    String::new()
                } else {
                    format!("<g:sale_price>{sale_text}</g:sale_price>")
                },
                category_xml = category.replace('>', "&gt;"),
            );
            for store in STORES {
                let quantity = rng.next() % 6;
                let availability = if quantity == 0 { "out_of_stock" } else { "in_stock" };
                let _ = writeln!(g.inventory, "{store}\t{sku}\t{quantity}\t{availability}");
            }
            g.skus.push(sku);
            g.gtins.push(code);
        }
        g.titles.push(title);
    }
    g.xml.push_str("</channel></rss>\n");
    g
}

/// Search-as-you-type prefixes of 1 to 3 words taken from real titles, as a shopper types
/// them: `r`, `ro`, `rob`, `robe`, `robe l`, …
pub fn typing_queries(titles: &[String], count: usize) -> Vec<String> {
    let mut rng = Rng(7);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let title = &titles[(rng.next() % titles.len() as u64) as usize];
        let words: Vec<&str> = title.split_whitespace().collect();
        let take = 1 + (rng.next() % words.len().min(3) as u64) as usize;
        let mut text = words[..take - 1].join(" ");
        let last: String = words[take - 1].chars().take(1 + (rng.next() % 5) as usize).collect();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&last.to_lowercase());
        out.push(text);
    }
    out
}

/// Runs the catalog benchmark in `dir`; returns the `name=value` lines and the path of the
/// imported database (for the start-up measurement).
pub fn catalog(dir: &Path, groups: usize, variants: usize) -> anyhow::Result<(Vec<String>, PathBuf)> {
    let mut lines = Vec::new();
    let now = Timestamp::now();
    let started = Instant::now();
    let generated = generate(groups, variants);
    lines.push(format!("groups={groups}"));
    lines.push(format!("variants={}", generated.skus.len()));
    lines.push(format!("generate_s={:.1}", started.elapsed().as_secs_f64()));

    let mut db_path = PathBuf::new();
    for (format, text) in [("xml", &generated.xml), ("tsv", &generated.tsv)] {
        let path = dir.join(format!("bench-{format}.db"));
        let _ = std::fs::remove_file(&path);
        let mut catalog = Catalog::open(&path)?;
        let started = Instant::now();
        let feed = ProductFeed::parse(text.as_bytes(), &FeedOptions::lang("fr"))?;
        let report = catalog.import(Some(&feed), None, now)?;
        let elapsed = started.elapsed().as_secs_f64();
        let summary = report.products.unwrap_or_default();
        anyhow::ensure!(
            summary.rejected.is_empty(),
            "generated feed had rejections: {:?}",
            &summary.rejected[..1]
        );
        lines.push(format!(
            "import_{format}_variants_per_s={:.0}",
            summary.imported as f64 / elapsed
        ));
        db_path = path;
    }
    let started = Instant::now();
    let mut catalog = Catalog::open(&db_path)?;
    let inventory = InventoryFeed::parse(generated.inventory.as_bytes(), &FeedOptions::default())?;
    let report = catalog.import(None, Some(&inventory), now)?;
    let rows = report.inventory.map_or(0, |s| s.imported);
    lines.push(format!(
        "import_inventory_rows_per_s={:.0}",
        rows as f64 / started.elapsed().as_secs_f64()
    ));
    let started = Instant::now();
    let feed = ProductFeed::parse(generated.tsv.as_bytes(), &FeedOptions::lang("fr"))?;
    let report = catalog.import(Some(&feed), None, now)?;
    lines.push(format!(
        "reimport_unchanged={}",
        report.products.map_or(0, |s| s.unchanged)
    ));
    lines.push(format!("reimport_tsv_s={:.1}", started.elapsed().as_secs_f64()));

    // Search as you type: warm the cache the way a running kiosk has it warm.
    let queries = typing_queries(&generated.titles, 2_000);
    let mut q = Query::new("fr", now);
    q.rank_store = Some(STORES[0].to_owned());
    // The first search after a catalog change builds the vocabulary and the shop's stock.
    q.text = "robe".to_owned();
    let started = Instant::now();
    catalog.search(&q)?;
    lines.push(format!("search_first_ms={:.0}", started.elapsed().as_secs_f64() * 1e3));
    for text in queries.iter().take(100) {
        q.text.clone_from(text);
        catalog.search(&q)?;
    }
    let mut samples = Vec::with_capacity(queries.len());
    let mut empty = 0;
    for text in &queries {
        q.text.clone_from(text);
        let started = Instant::now();
        let hits = catalog.search(&q)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        empty += usize::from(hits.is_empty());
    }
    let (p50, p99) = percentiles(samples);
    // A stock change empties the shop's stock cache; the kiosk refills it between
    // searches (`warm_search`, every few seconds), so the next query does not.
    // One shop's quantity pulled by another connection, as the sync thread applies it.
    let restock = crate::protocol::CatalogChange::Stock {
        stock: crate::domain::StockLevel {
            store_code: STORES[0].to_owned(),
            sku: generated.skus[0].clone(),
            quantity: Some(7),
            availability: crate::domain::Availability::InStock,
            price: None,
            sale: None,
        },
    };
    Catalog::open(&db_path)?.apply_changes(&[restock], "bench", now)?;
    q.text = "robe".to_owned();
    let started = Instant::now();
    catalog.warm_search("fr", STORES[0])?;
    lines.push(format!("search_warm_ms={:.0}", started.elapsed().as_secs_f64() * 1e3));
    let started = Instant::now();
    catalog.search(&q)?;
    lines.push(format!(
        "search_after_warm_ms={:.2}",
        started.elapsed().as_secs_f64() * 1e3
    ));
    lines.push(format!("search_queries={}", queries.len()));
    lines.push(format!("search_empty_results={empty}"));
    lines.push(format!("search_p50_ms={p50:.2}"));
    lines.push(format!("search_p99_ms={p99:.2}"));

    let titles: Vec<(String, String)> = generated
        .titles
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("G{i}"), t.clone()))
        .collect();
    let typo = super::search::typo_queries(&titles, 2_000);
    lines.extend(super::search::measure(&catalog, &typo, STORES[0], now)?);
    lines.extend(super::search::tantivy(&catalog, &queries, &typo)?);

    let mut samples = Vec::new();
    for text in queries.iter().take(300) {
        q.text.clone_from(text);
        let started = Instant::now();
        catalog.facets(&q)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("facets_p50_ms={p50:.2}"));
    lines.push(format!("facets_p99_ms={p99:.2}"));

    // What the results screen asks for one query: its cards, their count, its chips.
    let mut samples = Vec::new();
    for text in queries.iter().skip(300).take(300) {
        q.text.clone_from(text);
        let started = Instant::now();
        catalog.search(&q)?;
        catalog.count(&q)?;
        catalog.facets(&q)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("results_screen_p50_ms={p50:.2}"));
    lines.push(format!("results_screen_p99_ms={p99:.2}"));

    let mut rng = Rng(11);
    let mut samples = Vec::new();
    for i in 0..20_000 {
        let index = (rng.next() % generated.skus.len() as u64) as usize;
        let code = if i % 2 == 0 {
            &generated.skus[index]
        } else {
            &generated.gtins[index]
        };
        let started = Instant::now();
        let hit = catalog.lookup(code)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(hit.is_some(), "lookup of {code} found nothing");
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("lookup_p50_ms={p50:.3}"));
    lines.push(format!("lookup_p99_ms={p99:.3}"));

    let mut samples = Vec::new();
    for _ in 0..2_000 {
        let group = format!("G{}", rng.next() % groups as u64);
        let started = Instant::now();
        catalog.product("fr", &group, STORES[0])?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("product_sheet_p50_ms={p50:.2}"));
    lines.push(format!("product_sheet_p99_ms={p99:.2}"));
    Ok((lines, db_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_feeds_import_cleanly_in_both_formats() {
        let g = generate(40, 5);
        for text in [&g.tsv, &g.xml] {
            let feed = ProductFeed::parse(text.as_bytes(), &FeedOptions::lang("fr")).unwrap();
            assert_eq!((feed.listed, feed.variants().len()), (200, 200));
        }
        let queries = typing_queries(&g.titles, 50);
        assert!(queries.iter().all(|q| !q.is_empty() && q.split(' ').count() <= 3));
    }
}
