//! A kiosk's data directory from the command line: `vitrine enroll`, `wishlist`, `sync`
//! and `status`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use vitrine::catalog::Catalog;
use vitrine::protocol::{Action, Owner, valid_ref};
use vitrine::sync::driver::{Step, Syncer};
use vitrine::sync::engine::Policy;
use vitrine::sync::outbox::{self, Edited};

use super::{kiosk_db, runtime};

#[derive(Args)]
pub struct EnrollArgs {
    /// The kiosk's data directory.
    #[arg(long)]
    data: PathBuf,
    /// The hub's address, e.g. https://hub.example.com
    #[arg(long)]
    hub: String,
    #[arg(long)]
    code: String,
    /// A name for this tablet on the hub (default: the host name).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Subcommand)]
pub enum WishlistCommand {
    Add(WishlistEdit),
    Remove(WishlistEdit),
}

#[derive(Args)]
pub struct WishlistEdit {
    #[arg(long)]
    data: PathBuf,
    /// The web store's customer reference.
    #[arg(long)]
    customer: String,
    #[arg(long)]
    sku: String,
}

#[derive(Args)]
pub struct SyncArgs {
    #[arg(long)]
    data: PathBuf,
    /// One pass, then exit (non-zero if something is left to send).
    #[arg(long)]
    once: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub data: PathBuf,
}

pub fn enroll(args: EnrollArgs) -> anyhow::Result<()> {
    let name = args.name.or_else(|| std::env::var("HOSTNAME").ok());
    let db = kiosk_db(&args.data, true)?;
    let device = runtime()?.block_on(vitrine::sync::driver::enroll(
        &db,
        &args.hub,
        &args.code,
        name.as_deref(),
    ))?;
    println!(
        "enrolled as device {} of store {} with {}",
        device.device_id, device.store_code, device.hub_url
    );
    Ok(())
}

pub fn wishlist(command: WishlistCommand) -> anyhow::Result<()> {
    let (edit, action) = match command {
        WishlistCommand::Add(e) => (e, Action::Add),
        WishlistCommand::Remove(e) => (e, Action::Remove),
    };
    anyhow::ensure!(
        valid_ref(&edit.customer) && valid_ref(&edit.sku),
        "customer references and SKUs are 1 to 128 printable characters"
    );
    let mut catalog = Catalog::open(&kiosk_db(&edit.data, true)?)?;
    if catalog.lookup(&edit.sku)?.is_none() {
        eprintln!("note: {} is not in this kiosk's catalog; the hub will decide", edit.sku);
    }
    let owner = Owner::Customer(edit.customer);
    match outbox::edit(catalog.connection(), Timestamp::now(), &owner, &edit.sku, action, None)? {
        Edited::Queued { seq } => println!("saved (op {seq} queued for the hub)"),
        Edited::Unchanged => println!("unchanged (the wishlist already says so)"),
    }
    Ok(())
}

pub fn sync(args: SyncArgs) -> anyhow::Result<()> {
    let db = kiosk_db(&args.data, false)?;
    let syncer = Syncer::open(&db, Policy::default())?;
    let rt = runtime()?;
    if !args.once {
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let (_requests, received) = tokio::sync::mpsc::unbounded_channel();
        rt.block_on(syncer.run(std::sync::Arc::default(), received, stopped));
        return Ok(());
    }
    let step = rt.block_on(syncer.drain())?;
    let pulled = rt.block_on(syncer.pull_catalog());
    status(&args.data)?;
    if let Step::Waiting(at) = step {
        bail!("the hub did not take everything; next attempt after {at} (see last_error)");
    }
    let pulled = pulled.context("catalog pull failed")?;
    println!("catalog_changes={pulled}");
    Ok(())
}

pub fn status(data: &Path) -> anyhow::Result<()> {
    let mut catalog = Catalog::open(&kiosk_db(data, false)?)?;
    let cursor = catalog.cursor()?;
    let s = outbox::status(catalog.connection())?;
    let show = |t: Option<Timestamp>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
    println!(
        "outbox_pending={} outbox_rejected={} last_push={} last_pull={} catalog_cursor={}",
        s.pending,
        s.rejected,
        show(s.last_push),
        show(s.last_pull),
        if cursor.is_empty() { "none" } else { &cursor }
    );
    if let Some(error) = s.last_error {
        println!("last_error={error}");
    }
    Ok(())
}
