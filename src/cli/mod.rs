//! The `vitrine` command's groups, one file each: its clap arguments and what it runs.
//! The work is the library's; these files check arguments, call it, and print. They are
//! the only code that prints to standard output.
//!
//! - [`kiosk`]: the demo, the kiosk, the appliance, snapshots, scanning;
//! - [`catalog`]: importing and searching feeds into a catalog file;
//! - [`device`]: a kiosk's data directory: enroll, wishlist edits, sync, status;
//! - [`hub`]: running the hub and its admin commands (enrollment codes, keys, staff,
//!   token keys), and minting customer tokens;
//! - [`webstore`]: the web store's reference client;
//! - [`measure`]: `bench` and `eval`;
//! - [`update`]: signed app updates for the kiosk image;
//! - [`internal`]: hidden commands the tests and benchmarks drive.

pub mod catalog;
pub mod device;
#[cfg(feature = "hub")]
pub mod hub;
pub mod internal;
pub mod kiosk;
pub mod measure;
pub mod update;
pub mod webstore;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

/// The runtime a command's network work runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The kiosk database in a data directory. `create` makes the directory if needed.
pub fn kiosk_db(data: &Path, create: bool) -> anyhow::Result<PathBuf> {
    if create {
        std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    }
    let db = data.join(vitrine::db::KIOSK_DB);
    if !create && !db.exists() {
        bail!(
            "{} holds no kiosk database; enroll first with `vitrine enroll --data {} --hub URL --code CODE`",
            data.display(),
            data.display()
        );
    }
    Ok(db)
}

/// The feeds a command reads: a product feed, a local inventory feed, or both.
#[derive(Args)]
pub struct FeedFiles {
    #[arg(long, value_name = "FEED")]
    pub products: Option<PathBuf>,
    #[arg(long, value_name = "FEED")]
    pub inventory: Option<PathBuf>,
    /// Language of the product feed if it does not declare one (default: en).
    #[arg(long)]
    pub lang: Option<String>,
    /// ISO 4217 currency of prices written without one (`69.9`), e.g. EUR; without it
    /// such prices reject their items.
    #[arg(long, value_parser = vitrine::domain::currency)]
    pub currency: Option<String>,
}

impl FeedFiles {
    /// What the command line says about the feeds beyond their bytes.
    pub fn options(&self) -> vitrine::catalog::FeedOptions {
        vitrine::catalog::FeedOptions {
            lang: self.lang.clone(),
            currency: self.currency.clone(),
        }
    }

    /// The files given, by kind; a command given none is refused.
    pub fn given(&self) -> anyhow::Result<Vec<(vitrine::client::webstore::FeedKind, &Path)>> {
        use vitrine::client::webstore::FeedKind;
        let given: Vec<_> = [
            (FeedKind::Products, self.products.as_deref()),
            (FeedKind::Inventory, self.inventory.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, path)| Some((kind, path?)))
        .collect();
        if given.is_empty() {
            bail!("give --products FEED, --inventory FEED, or both");
        }
        Ok(given)
    }
}

/// A feed file, refused before it is read when it is over the size any feed may be.
pub fn read_feed(path: &Path) -> anyhow::Result<Vec<u8>> {
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
