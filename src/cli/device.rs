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

/// One wishlist edit, either as a kiosk makes it for a signed-in customer (`--data` and
/// `--token`: exactly what a scan of their code then a tap does), or on the web store's
/// own stream (`--customer`, `--hub` and `--key`).
#[derive(Args)]
#[command(group = clap::ArgGroup::new("as").required(true).args(["data", "customer"]))]
pub struct WishlistEdit {
    /// The kiosk's data directory (enrolled, catalog pulled).
    #[arg(long, requires = "token")]
    data: Option<PathBuf>,
    /// The customer's token, as the kiosk's camera would read it from their code (the web
    /// store's `POST /v1/webstore/tokens` mints one).
    #[arg(long)]
    token: Option<String>,
    /// The web store's customer reference: the edit goes on the web store's own stream.
    #[arg(long, requires_all = ["hub", "key"])]
    customer: Option<String>,
    /// The hub's address, for `--customer`.
    #[arg(long, env = "VITRINE_HUB")]
    hub: Option<String>,
    /// A web store API key with the `wishlist:write` scope, for `--customer`.
    #[arg(long, env = "VITRINE_KEY")]
    key: Option<String>,
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
    anyhow::ensure!(valid_ref(&edit.sku), "SKUs are 1 to 128 printable characters");
    match (&edit.data, &edit.token, &edit.customer) {
        (Some(data), Some(token), None) => kiosk_edit(data, token, &edit.sku, action),
        (None, None, Some(customer)) => {
            let (hub, key) = edit
                .hub
                .as_deref()
                .zip(edit.key.as_deref())
                .context("give --hub and --key")?;
            webstore_edit(hub, key, customer, &edit.sku, action)
        }
        _ => bail!("give either --data and --token (a kiosk's edit), or --customer, --hub and --key (the web store's)"),
    }
}

/// What a scan of the customer's code then a tap on the heart does: the token checked
/// offline, a visit signed in, the edit saved, and the visit ended (nothing of the
/// shopper stays but the ops the hub has yet to receive).
fn kiosk_edit(data: &Path, token: &str, sku: &str, action: Action) -> anyhow::Result<()> {
    let mut catalog = Catalog::open(&kiosk_db(data, true)?)?;
    if catalog.lookup(sku)?.is_none() {
        eprintln!("note: {sku} is not in this kiosk's catalog; the hub will decide");
    }
    let now = Timestamp::now();
    let conn = catalog.connection();
    let (audience, keys) = vitrine::trust::load(conn)?
        .context("this kiosk has no token keys yet; run `vitrine sync --data DIR --once` first")?;
    let mut verifier = vitrine::token::Verifier::new(&audience, keys);
    verifier.restore(vitrine::trust::load_seen(conn, now)?);
    let claims = verifier
        .verify(token.trim(), now)
        .map_err(|rejection| anyhow::anyhow!("the token was refused: {rejection}"))?;
    vitrine::trust::save_seen(conn, &verifier.replay_cache())?;
    let customer = Owner::Alias(claims.customer.to_string());
    let visit = vitrine::protocol::new_id();
    outbox::sign_in(conn, now, &visit, &customer, token.trim())?;
    // The list the shopper sees before they tap: what they saved elsewhere, if the hub
    // answers (a removal of a line saved online needs it).
    let alias = claims.customer.to_string();
    let fetched = Syncer::open(&kiosk_db(data, false)?, Policy::default())
        .and_then(|syncer| runtime()?.block_on(syncer.fetch_customer(&alias)));
    if let Err(e) = fetched {
        eprintln!("note: the customer's online list is not available ({e:#}); editing what this kiosk knows");
    }
    let edited = outbox::edit(conn, Timestamp::now(), &customer, sku, action, Some(&visit))?;
    outbox::end_visit(conn, &visit, Some(&customer))?;
    match edited {
        Edited::Queued { seq } => println!("saved for customer {} (op {seq} queued for the hub)", claims.customer),
        Edited::Unchanged => println!("unchanged (the wishlist already says so)"),
    }
    Ok(())
}

/// One edit on a stream of the web store's own, made for this command.
fn webstore_edit(hub: &str, key: &str, customer: &str, sku: &str, action: Action) -> anyhow::Result<()> {
    anyhow::ensure!(
        valid_ref(customer),
        "customer references are 1 to 128 printable characters"
    );
    let client = vitrine::client::webstore::WebStoreClient::new(hub, key)?;
    let request = vitrine::protocol::PushRequest {
        stream: format!("cli-{}", vitrine::protocol::new_id()),
        ops: vec![vitrine::protocol::Op {
            seq: 1,
            hlc: vitrine::hlc::from_wall(Timestamp::now()),
            owner: Owner::Customer(customer.to_owned()),
            sku: sku.to_owned(),
            action,
            session: None,
            token: None,
        }],
    };
    let answer = runtime()?.block_on(client.push(&request))?;
    match answer.results.first() {
        Some(result) if result.status == vitrine::protocol::OpStatus::Rejected => bail!(
            "the hub refused the edit: {}",
            result.reason.as_deref().unwrap_or("rejected")
        ),
        _ => println!("saved for customer {customer} on the web store's stream"),
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
    // Measurement events wait for the hub like the rest; a failure is said, not fatal.
    if let Err(e) = rt.block_on(syncer.push_events()) {
        eprintln!("events not sent: {e:#}");
    }
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
    let events = vitrine::sync::events::waiting(catalog.connection())?;
    let show = |t: Option<Timestamp>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
    println!(
        "outbox_pending={} outbox_rejected={} events_pending={events} last_push={} last_pull={} catalog_cursor={}",
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
