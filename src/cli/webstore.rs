//! `vitrine webstore upload|pull`: the web store's side of the hub API, through the
//! reference client.

use anyhow::Context;
use clap::Subcommand;
use vitrine::client::webstore::{WebStoreClient, WishlistFeed};
use vitrine::protocol::params::PageQuery;

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
}

pub fn run(command: WebstoreCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match command {
            WebstoreCommand::Upload { hub, key, feeds } => {
                let client = WebStoreClient::new(&hub, &key)?;
                for (kind, path) in feeds.given()? {
                    let summary = client
                        .upload(kind, read_feed(path)?, feeds.lang.as_deref())
                        .await
                        .with_context(|| path.display().to_string())?;
                    println!("{summary}");
                    for rejection in &summary.rejected {
                        println!("rejected {} {rejection}", kind.as_str());
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
        }
        Ok(())
    })
}
