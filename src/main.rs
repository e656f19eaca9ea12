//! The `vitrine` command: kiosk, demo, catalog tools, snapshots and benchmarks.
//!
//! This is the edge: arguments are parsed and validated here, work is done by the
//! library, and only this file prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use vitrine::catalog::{Catalog, InventoryFeed, ProductFeed, Query};

#[derive(Parser)]
#[command(
    name = "vitrine",
    version,
    about = "In-store kiosk: product sheets, search, wishlists that sync to the web store"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Opens the kiosk on the bundled demo store (what a bare `vitrine` does).
    Demo(DemoArgs),
    /// Opens the kiosk on a catalog database.
    #[cfg(feature = "kiosk")]
    Kiosk(KioskArgs),
    /// Imports and searches Merchant Center feeds.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Renders one kiosk screen of the demo store to a PNG, without a display.
    #[cfg(feature = "kiosk")]
    Snapshot(SnapshotArgs),
    /// Measures performance and prints `name=value` lines.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Internal: start the kiosk headless, report its first frame and memory, exit.
    #[cfg(feature = "kiosk")]
    #[command(hide = true)]
    ProbeStartup {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        store: String,
    },
}

#[derive(Args, Default)]
struct DemoArgs {
    /// Interface language at start (fr or en).
    #[arg(long, default_value = "fr")]
    lang: String,
    /// Write the demo feeds and pictures to DIR instead of running (maintainers).
    #[arg(long, value_name = "DIR")]
    write_assets: Option<PathBuf>,
}

#[cfg(feature = "kiosk")]
#[derive(Args)]
struct KioskArgs {
    /// Catalog database (see `vitrine catalog import`).
    #[arg(long)]
    db: PathBuf,
    /// Code of the shop this kiosk stands in, as in the local inventory feed.
    #[arg(long)]
    store: String,
    /// Interface language at start (fr or en).
    #[arg(long, default_value = "fr")]
    lang: String,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Imports a product feed and/or a local inventory feed (RSS, Atom or TSV).
    Import {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, value_name = "FEED")]
        products: Option<PathBuf>,
        #[arg(long, value_name = "FEED")]
        inventory: Option<PathBuf>,
        /// Language of the product feed if it does not declare one (default: en).
        #[arg(long)]
        lang: Option<String>,
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

#[cfg(feature = "kiosk")]
#[derive(Args)]
struct SnapshotArgs {
    #[arg(long, value_enum)]
    screen: vitrine::kiosk::Screen,
    /// Product to show on the product screen (default: the first featured one).
    #[arg(long)]
    sku: Option<String>,
    /// Search text for the search and results screens.
    #[arg(long)]
    query: Option<String>,
    #[arg(long, default_value = "fr")]
    lang: String,
    /// Window size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    size: (u32, u32),
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Catalog import, search, lookup and kiosk start-up on a generated catalog.
    Catalog {
        #[arg(long, default_value_t = 100_000)]
        groups: usize,
        #[arg(long, default_value_t = 5)]
        variants: usize,
        /// Working directory for the generated feeds and databases (default: a temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once('x')
        .ok_or("write the size as WIDTHxHEIGHT, e.g. 1080x1920")?;
    let parse = |s: &str| s.parse::<u32>().ok().filter(|v| (200..=8192).contains(v));
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err("width and height must be whole numbers of pixels between 200 and 8192".into()),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,vitrine=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Demo(DemoArgs::default())) {
        Command::Demo(args) => demo(args),
        #[cfg(feature = "kiosk")]
        Command::Kiosk(args) => {
            let lang = ui_lang(&args.lang)?;
            vitrine::kiosk::run(vitrine::kiosk::Config {
                db: args.db,
                store: args.store,
                lang,
            })
        }
        Command::Catalog(CatalogCommand::Import {
            db,
            products,
            inventory,
            lang,
        }) => import(&db, products.as_deref(), inventory.as_deref(), lang.as_deref()),
        Command::Catalog(CatalogCommand::Search { db, lang, limit, query }) => {
            search(&db, &lang, limit, &query.join(" "))
        }
        #[cfg(feature = "kiosk")]
        Command::Snapshot(args) => {
            let lang = ui_lang(&args.lang)?;
            vitrine::kiosk::snapshot::render_demo(&vitrine::kiosk::snapshot::Request {
                screen: args.screen,
                sku: args.sku,
                query: args.query,
                lang,
                size: args.size,
                out: args.out.clone(),
            })?;
            println!("{}", args.out.display());
            Ok(())
        }
        Command::Bench(BenchCommand::Catalog { groups, variants, dir }) => bench_catalog(groups, variants, dir),
        #[cfg(feature = "kiosk")]
        Command::ProbeStartup { db, store } => {
            vitrine::kiosk::snapshot::probe_startup(&db, &store, &mut |line| println!("{line}"))
        }
    }
}

fn ui_lang(lang: &str) -> anyhow::Result<String> {
    match lang {
        "fr" | "en" => Ok(lang.to_owned()),
        other => bail!("the interface speaks fr and en, not '{other}'"),
    }
}

fn demo(args: DemoArgs) -> anyhow::Result<()> {
    if let Some(dir) = args.write_assets {
        vitrine::demo::write_assets(&dir).with_context(|| format!("writing demo assets to {}", dir.display()))?;
        println!("wrote the demo store to {}", dir.display());
        return Ok(());
    }
    #[cfg(feature = "kiosk")]
    {
        let lang = ui_lang(&args.lang)?;
        vitrine::kiosk::run_demo(&lang)
    }
    #[cfg(not(feature = "kiosk"))]
    bail!("this build has no kiosk (built without the `kiosk` feature)")
}

fn read_feed(path: &Path) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > vitrine::catalog::feed::MAX_FEED_BYTES as u64 {
        bail!(
            "{}: {}",
            path.display(),
            vitrine::catalog::feed::FeedError::TooLarge { size }
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn import(db: &Path, products: Option<&Path>, inventory: Option<&Path>, lang: Option<&str>) -> anyhow::Result<()> {
    if products.is_none() && inventory.is_none() {
        bail!("give --products FEED, --inventory FEED, or both");
    }
    let refused = |path: &Path, e: vitrine::catalog::feed::FeedError| {
        anyhow::anyhow!(
            "{}: {e}. Nothing was imported; the catalog is as it was.",
            path.display()
        )
    };
    let products = products
        .map(|p| ProductFeed::parse(&read_feed(p)?, lang).map_err(|e| refused(p, e)))
        .transpose()?;
    let inventory = inventory
        .map(|p| InventoryFeed::parse(&read_feed(p)?).map_err(|e| refused(p, e)))
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

fn bench_catalog(groups: usize, variants: usize, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let temp;
    let dir = match dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            dir
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    let (lines, db) = vitrine::bench::catalog(&dir, groups, variants)?;
    for line in lines {
        println!("{line}");
    }
    #[cfg(feature = "kiosk")]
    for line in startup_in_child(&db, vitrine::bench::STORES[0])? {
        println!("{line}");
    }
    #[cfg(not(feature = "kiosk"))]
    let _ = db;
    Ok(())
}

/// Starts the kiosk in a fresh process (as a tablet would) a few times and reports the
/// median time to its first frame, with the memory it holds then.
#[cfg(feature = "kiosk")]
fn startup_in_child(db: &Path, store: &str) -> anyhow::Result<Vec<String>> {
    use std::io::{BufRead, BufReader};
    let exe = std::env::current_exe()?;
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let mut child = std::process::Command::new(&exe)
            .args(["probe-startup", "--db"])
            .arg(db)
            .args(["--store", store])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().context("the kiosk exited before its first frame")??;
        anyhow::ensure!(first == "first_frame", "unexpected probe output: {first}");
        times.push(started.elapsed().as_secs_f64() * 1e3);
        last = lines.collect::<Result<Vec<_>, _>>()?;
        child.wait()?;
    }
    let (p50, _) = vitrine::bench::percentiles(times.clone());
    let worst = times.iter().copied().fold(0.0, f64::max);
    let mut out = vec![
        format!("first_frame_ms={p50:.0}"),
        format!("first_frame_max_ms={worst:.0}"),
    ];
    out.extend(last);
    Ok(out)
}
