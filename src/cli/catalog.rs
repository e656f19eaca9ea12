//! `vitrine catalog import|search`: a catalog file, without a hub.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Subcommand;
use jiff::Timestamp;
use vitrine::catalog::feed::FeedError;
use vitrine::catalog::{Catalog, InventoryFeed, ProductFeed, Query};

use super::{FeedFiles, read_feed};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Imports a product feed and/or a local inventory feed (RSS, Atom or TSV).
    Import {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        feeds: FeedFiles,
    },
    /// Prints the products matching a search, best first.
    Search {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "fr")]
        lang: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Words to search (prefixes match), or a SKU, GTIN or MPN.
        #[arg(required = true)]
        query: Vec<String>,
    },
}

pub fn run(command: CatalogCommand) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Import { db, feeds } => import(&db, &feeds),
        CatalogCommand::Search { db, lang, limit, query } => search(&db, &lang, limit, &query.join(" ")),
    }
}

fn import(db: &Path, feeds: &FeedFiles) -> anyhow::Result<()> {
    feeds.given()?;
    let options = feeds.options();
    let refused = |path: &Path, e: FeedError| {
        anyhow::anyhow!(
            "{}: {e}. Nothing was imported; the catalog is as it was.",
            path.display()
        )
    };
    let products = feeds
        .products
        .as_deref()
        .map(|p| ProductFeed::parse(&read_feed(p)?, &options).map_err(|e| refused(p, e)))
        .transpose()?;
    let inventory = feeds
        .inventory
        .as_deref()
        .map(|p| InventoryFeed::parse(&read_feed(p)?, &options).map_err(|e| refused(p, e)))
        .transpose()?;
    let mut catalog = Catalog::open(db)?;
    let report = catalog.import(products.as_ref(), inventory.as_ref(), Timestamp::now())?;
    if let Some(summary) = &report.products {
        println!("{summary}");
    }
    if let Some(summary) = &report.inventory {
        println!("inventory {summary}");
    }
    for (feed, summary) in [("products", &report.products), ("inventory", &report.inventory)] {
        for rejection in summary.iter().flat_map(|s| &s.rejected) {
            println!("rejected {feed} {rejection}");
        }
        for warning in summary.iter().flat_map(|s| &s.warnings) {
            println!("warning {feed} {warning}");
        }
    }
    Ok(())
}

fn search(db: &Path, lang: &str, limit: usize, text: &str) -> anyhow::Result<()> {
    if !db.exists() {
        bail!(
            "{} does not exist; import feeds first with `vitrine catalog import`",
            db.display()
        );
    }
    let catalog = Catalog::open(db)?;
    let lang = catalog.content_lang(lang)?;
    if let Some(hit) = catalog.lookup(text)? {
        println!("{}\t{}\t(exact match)", hit.sku, hit.group_id);
    }
    let mut query = Query::new(&lang, Timestamp::now());
    query.text = text.to_owned();
    query.limit = limit;
    for card in catalog.search(&query)? {
        let price = vitrine::domain::format_price(card.sale_price.as_ref().unwrap_or(&card.price), &lang);
        println!(
            "{}\t{}\t{}\t{}",
            card.group_id,
            card.title,
            price,
            card.category.unwrap_or_default()
        );
    }
    Ok(())
}
