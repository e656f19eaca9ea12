//! `vitrine webstore upload|pull|report`: the web store's side of the hub API, through the
//! reference client.

use anyhow::Context;
use clap::Subcommand;
use vitrine::client::webstore::{WebStoreClient, WishlistFeed};
use vitrine::protocol::measure::{Figures, Money};
use vitrine::protocol::params::{PageQuery, ReportQuery};

use super::{FeedFiles, read_feed, runtime};

#[derive(Subcommand)]
pub enum WebstoreCommand {
    /// Uploads feeds to the hub, which imports them; prints one summary line per feed.
    Upload {
        #[arg(long)]
        hub: String,
        #[arg(long, env = "VITRINE_KEY", hide_env_values = true)]
        key: String,
        #[command(flatten)]
        feeds: FeedFiles,
    },
    /// Prints wishlist changes as JSON lines, then the next cursor on the last line.
    Pull {
        #[arg(long)]
        hub: String,
        #[arg(long, env = "VITRINE_KEY", hide_env_values = true)]
        key: String,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Start over from a snapshot of every present line.
        #[arg(long)]
        snapshot: bool,
    },
    /// Prints what each shop brought over a period, one line per shop:
    /// `store=CODE visits=N … orders_attributed=N revenue_attributed=AMOUNT CUR`, after
    /// the attribution rule.
    Report {
        #[arg(long)]
        hub: String,
        #[arg(long, env = "VITRINE_KEY", hide_env_values = true)]
        key: String,
        /// First day, YYYY-MM-DD, in each shop's time zone.
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
        /// Only this shop.
        #[arg(long)]
        store: Option<String>,
    },
}

pub fn run(command: WebstoreCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match command {
            WebstoreCommand::Upload { hub, key, feeds } => {
                let client = WebStoreClient::new(&hub, &key)?;
                let query = vitrine::protocol::params::FeedQuery {
                    lang: feeds.lang.clone(),
                    currency: feeds.currency.clone(),
                };
                for (kind, path) in feeds.given()? {
                    let summary = client
                        .upload(kind, read_feed(path)?, query.clone())
                        .await
                        .with_context(|| path.display().to_string())?;
                    println!("{summary}");
                    for rejection in &summary.rejected {
                        println!("rejected {} {rejection}", kind.as_str());
                    }
                    for warning in &summary.warnings {
                        println!("warning {} {warning}", kind.as_str());
                    }
                }
            }
            WebstoreCommand::Pull {
                hub,
                key,
                cursor,
                limit,
                snapshot,
            } => {
                let feed = if snapshot {
                    WishlistFeed::Snapshot
                } else {
                    WishlistFeed::Changes
                };
                let query = PageQuery {
                    cursor,
                    limit: Some(limit),
                };
                let page = WebStoreClient::new(&hub, &key)?.wishlist(feed, &query).await?;
                for change in &page.changes {
                    println!("{}", serde_json::to_string(change)?);
                }
                println!("{}", page.next_cursor);
            }
            WebstoreCommand::Report {
                hub,
                key,
                from,
                to,
                store,
            } => {
                let query = ReportQuery { from, to, store };
                let report = WebStoreClient::new(&hub, &key)?.shops_report(&query).await?;
                let rule = &report.attribution;
                println!(
                    "from={} to={} rule={} window_days={}",
                    report.from, report.to, rule.rule, rule.window_days
                );
                for shop in &report.shops {
                    println!("store={} {}", shop.store_code, figures_line(&shop.figures));
                }
            }
        }
        Ok(())
    })
}

/// A shop's figures as `name=value` pairs; amounts as `AMOUNT CUR`, `+` between
/// currencies, `0` for none.
fn figures_line(f: &Figures) -> String {
    let money = |m: &[Money]| {
        if m.is_empty() {
            "0".to_owned()
        } else {
            m.iter()
                .map(|m| format!("{} {}", m.amount, m.currency))
                .collect::<Vec<_>>()
                .join("+")
        }
    };
    format!(
        "visits={} identified_visits={} median_visit_seconds={} product_views={} scans={} wishlist_adds={} \
         lists_taken={} searches={} orders_attributed={} revenue_attributed={} orders_assisted={} revenue_assisted={}",
        f.visits,
        f.identified_visits,
        f.median_visit_seconds,
        f.product_views,
        f.scans,
        f.wishlist_adds,
        f.lists_taken,
        f.searches,
        f.orders_attributed,
        money(&f.revenue_attributed),
        f.orders_assisted,
        money(&f.revenue_assisted)
    )
}
