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
    /// Runs the hub, or manages its devices and keys.
    #[cfg(feature = "hub")]
    Hub(HubArgs),
    /// Customer QR tokens, for ops and tests.
    #[cfg(feature = "hub")]
    #[command(subcommand)]
    Token(TokenCommand),
    /// Enrolls this kiosk with a hub, using a one-time code from store ops.
    Enroll {
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
    },
    /// Adds or removes a SKU on a wishlist, exactly as a tap on the heart does.
    #[command(subcommand)]
    Wishlist(WishlistCommand),
    /// Sends the outbox to the hub and pulls catalog changes.
    Sync {
        #[arg(long)]
        data: PathBuf,
        /// One pass, then exit (non-zero if something is left to send).
        #[arg(long)]
        once: bool,
    },
    /// Prints the kiosk's sync state as `name=value` pairs.
    Status {
        #[arg(long)]
        data: PathBuf,
    },
    /// The web store's side of the hub API (also its reference client).
    #[command(subcommand)]
    Webstore(WebstoreCommand),
    /// Reads QR codes from a frame source and prints each payload with its latency (for
    /// staff checking a camera set-up, and for scripted checks).
    #[cfg(feature = "kiosk")]
    Scan {
        /// `device` or `device:N` (the camera at /dev/videoN), or a replay: `dir:PATH`
        /// (pictures in name order) or `file:PATH` (a picture or an MJPEG stream) at `--fps`.
        #[arg(long)]
        source: String,
        #[arg(long, default_value_t = 15.0)]
        fps: f64,
    },
    /// Measures how well the kiosk does on real-world material; prints `name=value` lines.
    #[cfg(feature = "kiosk")]
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measures performance and prints `name=value` lines.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Internal, for the crash test: toggles random SKUs on a wishlist and syncs, printing
    /// `op SEQ SKU PRESENT` after each local commit.
    #[command(hide = true)]
    Exercise {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        customer: String,
        #[arg(long, value_delimiter = ',')]
        skus: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        steps: usize,
    },
    /// Internal: start the kiosk headless, report its first frame and memory, exit.
    #[cfg(feature = "kiosk")]
    #[command(hide = true)]
    ProbeStartup {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        store: String,
    },
    /// Runs the kiosk as the kiosk image does: one settings file, enrolled on the first
    /// start, the demo store when it names no hub, under systemd's watchdog.
    #[cfg(feature = "kiosk")]
    Appliance {
        /// The settings file (see kiosk-image/overlay/usr/share/vitrine/kiosk.toml); the
        /// kiosk's data goes to `data/` beside it.
        #[arg(long, default_value = "/var/lib/vitrine/kiosk.toml")]
        settings: PathBuf,
    },
    /// For udev (the image's 70-vitrine.rules): prints the touch screen's
    /// `LIBINPUT_CALIBRATION_MATRIX`, the settings' rotation on top of the panel's own
    /// matrix; prints nothing when there is nothing to turn.
    #[cfg(feature = "kiosk")]
    TouchCalibration {
        #[arg(long, default_value = "/var/lib/vitrine/kiosk.toml")]
        settings: PathBuf,
        /// The panel's own matrix, six numbers (udev: `$env{LIBINPUT_CALIBRATION_MATRIX}`).
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        panel: String,
    },
    /// Signed app updates for the kiosk image: keys, bundles, and the two slots.
    #[command(subcommand)]
    Update(UpdateCommand),
}

#[derive(Subcommand)]
enum UpdateCommand {
    /// Creates a signing key pair: `update.key` (keep it secret, off the kiosks) and
    /// `update.pub` (built into the image).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs an app binary into a bundle.
    Pack {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long)]
        app: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verifies a bundle and installs it into the slot not in use, on trial: it runs
    /// from the next start of the kiosk, and is rolled back unless it reports healthy.
    Install {
        bundle: PathBuf,
        #[command(flatten)]
        slots: SlotArgs,
        /// The public key bundles must be signed with.
        #[arg(long, default_value = "/etc/vitrine/update.pub")]
        key: PathBuf,
    },
    /// Run by the kiosk service before each start: keeps or rolls back a trial, and
    /// points `--link` at the app to run.
    Prepare {
        #[command(flatten)]
        slots: SlotArgs,
        #[arg(long, default_value = "/run/vitrine/app")]
        link: PathBuf,
    },
    /// Run by a timer while the kiosk runs: keeps a trial that reported healthy, or rolls
    /// back one past its deadline and restarts the kiosk service.
    Check {
        #[command(flatten)]
        slots: SlotArgs,
    },
    /// Prints the slots, their versions and any trial as `name=value` lines.
    Status {
        #[command(flatten)]
        slots: SlotArgs,
    },
}

#[derive(Args)]
struct SlotArgs {
    /// Where the two slots live (on the data partition).
    #[arg(long, default_value = "/var/lib/vitrine/update")]
    slots: PathBuf,
    /// The app's health mark (written by the app in its data directory).
    #[arg(long, default_value = "/var/lib/vitrine/data/update-health")]
    health: PathBuf,
    /// The app that runs when no update is kept: the image's own.
    #[arg(long, default_value = "/usr/local/bin/vitrine")]
    factory: PathBuf,
}

impl SlotArgs {
    fn open(self) -> anyhow::Result<vitrine::update::Slots> {
        std::fs::create_dir_all(&self.slots).with_context(|| format!("cannot create {}", self.slots.display()))?;
        Ok(vitrine::update::Slots {
            dir: self.slots,
            factory: self.factory,
            health: self.health,
        })
    }
}

#[cfg(feature = "hub")]
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct HubArgs {
    #[command(subcommand)]
    command: Option<HubCommand>,
    /// The hub's data directory (its SQLite file lives there).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Optional TOML configuration (feeds to fetch, limits).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Imports the bundled demo store (catalog, stock, staff, shops) and serves the demo
    /// customers' passes: a hub to try a kiosk or a web store against.
    #[arg(long)]
    demo: bool,
}

#[cfg(feature = "hub")]
#[derive(Subcommand)]
enum HubCommand {
    /// Prints a one-time code that enrolls one kiosk in a shop.
    EnrollCode {
        #[arg(long)]
        data: PathBuf,
        /// The shop's code, as in the local inventory feed.
        #[arg(long)]
        store: String,
    },
    /// Web store API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sales assistants and their PINs, per shop.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Starts the hub's next key for customer tokens, and ends the current one at the same
    /// moment. Kiosks fetch keys every few minutes: no redeploy is needed.
    RotateTokenKey {
        #[arg(long)]
        data: PathBuf,
        /// When the new key starts signing, from now.
        #[arg(long, default_value_t = 60)]
        ahead_minutes: u32,
    },
}

#[cfg(feature = "hub")]
#[derive(Subcommand)]
enum StaffCommand {
    /// Adds an assistant; the PIN (6 to 12 digits) is asked twice without echo, or read
    /// from the first line of standard input when it is not a terminal.
    Add(Assistant),
    /// Removes an assistant: their PIN stops working on each kiosk at its next pull.
    Remove(Assistant),
    /// Lists the assistants: shop, name, date added (never a PIN or its hash).
    List {
        #[arg(long)]
        data: PathBuf,
    },
    /// Writes an assistant's badge: a QR code (SVG) that picks their name on a kiosk's
    /// staff keypad. Not a credential: the PIN is still asked.
    Badge {
        #[command(flatten)]
        assistant: Assistant,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the staff keypads' audit log (logins, wrong PINs, lockouts), oldest first.
    Log {
        #[arg(long)]
        data: PathBuf,
        /// Only this shop.
        #[arg(long)]
        store: Option<String>,
        /// The latest N events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// One assistant of one shop, in the hub at `data`.
#[cfg(feature = "hub")]
#[derive(Args)]
struct Assistant {
    #[arg(long)]
    data: PathBuf,
    /// The shop's code, as in the local inventory feed.
    #[arg(long)]
    store: String,
    #[arg(long)]
    name: String,
}

/// A new PIN: twice without echo at a terminal, else the first line of standard input.
#[cfg(feature = "hub")]
fn read_new_pin() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Read};
    if std::io::stdin().is_terminal() {
        let pin = rpassword::prompt_password("PIN (6 to 12 digits): ")?;
        let again = rpassword::prompt_password("The same PIN again: ")?;
        anyhow::ensure!(pin == again, "the two PINs differ; nothing was changed");
        Ok(pin)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().take(64).read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

#[cfg(feature = "hub")]
#[derive(Subcommand)]
enum TokenCommand {
    /// Signs a customer token with the hub's current key and prints it (202 digits, for a
    /// QR code) and the customer's alias.
    Mint {
        /// The hub's data directory.
        #[arg(long)]
        data: PathBuf,
        /// The web store's customer reference.
        #[arg(long)]
        customer: String,
        #[arg(long, default_value_t = 5)]
        minutes: u8,
        /// As in the hub's config.
        #[arg(long, default_value = "vitrine")]
        audience: String,
    },
}

#[cfg(feature = "hub")]
#[derive(Subcommand)]
enum KeyCommand {
    /// Creates a key and prints it (once) on the last line.
    Create {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        name: String,
        /// Limit the key to these scopes (default: all). Repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
}

#[derive(Subcommand)]
enum WishlistCommand {
    Add(WishlistEdit),
    Remove(WishlistEdit),
}

#[derive(Args)]
struct WishlistEdit {
    #[arg(long)]
    data: PathBuf,
    /// The web store's customer reference.
    #[arg(long)]
    customer: String,
    #[arg(long)]
    sku: String,
}

#[derive(Subcommand)]
enum WebstoreCommand {
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
    /// The kiosk's data directory, enrolled with a hub (see `vitrine enroll`).
    #[arg(long)]
    data: PathBuf,
    /// Interface language at start (fr or en).
    #[arg(long, default_value = "fr")]
    lang: String,
    /// Disk space for catalog pictures, in MiB; the least recently shown go first.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    picture_cache_mib: u64,
    /// Where codes are read from: `device` or `device:N` (the camera at /dev/videoN), or
    /// `dir:PATH` or `file:PATH` (a replayed camera, at 15 frames per second). Without it
    /// the kiosk reads no codes.
    #[arg(long)]
    camera: Option<String>,
    /// Seconds without a tap before "Are you still there?".
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=3600))]
    idle_seconds: u64,
    /// Seconds the warning counts down before the session ends.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(3..=120))]
    warning_seconds: u64,
    /// A session ends after this many minutes, whatever happens.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=720))]
    session_max_minutes: u64,
}

/// The feeds a command reads: a product feed, a local inventory feed, or both.
#[derive(Args)]
struct FeedFiles {
    #[arg(long, value_name = "FEED")]
    products: Option<PathBuf>,
    #[arg(long, value_name = "FEED")]
    inventory: Option<PathBuf>,
    /// Language of the product feed if it does not declare one (default: en).
    #[arg(long)]
    lang: Option<String>,
}

impl FeedFiles {
    /// The files given, by kind; a command given none is refused.
    fn given(&self) -> anyhow::Result<Vec<(&'static str, &Path)>> {
        let given: Vec<_> = [
            ("products", self.products.as_deref()),
            ("inventory", self.inventory.as_deref()),
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

#[derive(Subcommand)]
enum CatalogCommand {
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
    /// Show the kiosk after a failed push to an unreachable hub (the offline banner).
    #[arg(long)]
    offline: bool,
    /// Hand the kiosk this code, as if the camera read it, and show its answer.
    #[arg(long, value_name = "TEXT")]
    scan: Option<String>,
    /// Show the idle warning ("Are you still there?").
    #[arg(long)]
    idle: bool,
    /// Show a code for the shopper's phone; runs the demo hub to get it.
    #[arg(long, value_enum)]
    qr: Option<vitrine::kiosk::snapshot::Qr>,
    /// Open the scan sheet, the camera seeing this picture.
    #[arg(long, value_name = "PICTURE")]
    camera: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
}

#[cfg(feature = "kiosk")]
#[derive(Subcommand)]
enum EvalCommand {
    /// Decodes every picture of a QR manifest (path, expected text as JSON, category; tab
    /// separated): a line per category, then the totals.
    Qr {
        #[arg(long)]
        manifest: PathBuf,
    },
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
    /// Hub ingest, kiosk drain, web store pull and catalog pull over loopback HTTP.
    #[cfg(feature = "hub")]
    Sync {
        #[arg(long, default_value_t = 100)]
        kiosks: usize,
        /// Batches each kiosk pushes.
        #[arg(long, default_value_t = 20)]
        batches: usize,
        #[arg(long, default_value_t = 25)]
        batch_ops: usize,
        /// Product groups in the generated catalog (5 variants each).
        #[arg(long, default_value_t = 100_000)]
        groups: usize,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// From a customer's code in front of the camera to the kiosk's greeting on screen
    /// (demo hub, real decoder, headless kiosk).
    #[cfg(feature = "kiosk")]
    Scan {
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        rounds: u64,
    },
    /// Staff mode, offline: from the right PIN to the stock screen drawn, and from a SKU
    /// or GTIN to its stock matrix drawn (demo catalog, headless kiosk).
    #[cfg(feature = "kiosk")]
    Staff {
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        rounds: u64,
    },
}

#[cfg(feature = "kiosk")]
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
        // Colours for a person at a terminal; plain text for the journal and for scripts.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            #[cfg(feature = "kiosk")]
            if e.downcast_ref::<vitrine::kiosk::settings::Invalid>().is_some() {
                return ExitCode::from(vitrine::kiosk::settings::Invalid::EXIT_CODE);
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "kiosk")]
fn scan(source: &str, fps: f64) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    use vitrine::scan::scanner::{Event, Scanner};
    let source = vitrine::scan::open_source(source, fps)?;
    let scanner = Scanner::start(source, std::time::Duration::from_secs(3))?;
    for event in scanner.events() {
        match event {
            Event::Read {
                text,
                strategy,
                latency,
            } => println!(
                "payload={} strategy={} latency_ms={:.1}",
                serde_json::to_string(&text)?,
                strategy.name(),
                latency.as_secs_f64() * 1000.0
            ),
            Event::Waiting(why) => eprintln!("waiting for the camera: {why}"),
            Event::Ended => break,
            Event::Failed(why) => anyhow::bail!("the frame source failed: {why}"),
        }
    }
    let stats = scanner.stats();
    println!(
        "frames={} fps={:.1} decoded_frames={} dropped={} slowest_ms={:.1}",
        stats.frames.load(Ordering::Relaxed),
        stats.fps(),
        stats.decoded.load(Ordering::Relaxed),
        stats.dropped.load(Ordering::Relaxed),
        stats.slowest_us.load(Ordering::Relaxed) as f64 / 1000.0
    );
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Demo(DemoArgs::default())) {
        Command::Demo(args) => demo(args),
        #[cfg(feature = "kiosk")]
        Command::Kiosk(args) => {
            let lang = ui_lang(&args.lang)?;
            let camera = args
                .camera
                .as_deref()
                .map(|spec| vitrine::scan::open_source(spec, 15.0))
                .transpose()?;
            vitrine::kiosk::run(vitrine::kiosk::Config {
                data: args.data,
                lang,
                picture_cache_mib: args.picture_cache_mib,
                camera,
                limits: vitrine::kiosk::session::Limits {
                    idle: std::time::Duration::from_secs(args.idle_seconds),
                    warning: std::time::Duration::from_secs(args.warning_seconds),
                    max: std::time::Duration::from_secs(args.session_max_minutes * 60),
                },
                health: None,
            })
        }
        Command::Catalog(CatalogCommand::Import { db, feeds }) => import(&db, &feeds),
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
                offline: args.offline,
                scan: args.scan,
                idle: args.idle,
                qr: args.qr,
                camera: args.camera,
                out: args.out.clone(),
            })?;
            println!("{}", args.out.display());
            Ok(())
        }
        #[cfg(feature = "hub")]
        Command::Hub(args) => hub(args),
        #[cfg(feature = "hub")]
        Command::Token(TokenCommand::Mint {
            data,
            customer,
            minutes,
            audience,
        }) => mint_token(&data, &customer, minutes, &audience),
        Command::Enroll { data, hub, code, name } => {
            let name = name.or_else(|| std::env::var("HOSTNAME").ok());
            let db = kiosk_db(&data, true)?;
            let device = runtime()?.block_on(vitrine::sync::driver::enroll(&db, &hub, &code, name.as_deref()))?;
            println!(
                "enrolled as device {} of store {} with {}",
                device.device_id, device.store_code, device.hub_url
            );
            Ok(())
        }
        Command::Wishlist(edit) => wishlist(edit),
        Command::Sync { data, once } => sync(&data, once),
        Command::Status { data } => status(&data),
        Command::Webstore(command) => runtime()?.block_on(webstore(command)),
        #[cfg(feature = "kiosk")]
        Command::Scan { source, fps } => scan(&source, fps),
        #[cfg(feature = "kiosk")]
        Command::Eval(EvalCommand::Qr { manifest }) => {
            let cases = vitrine::scan::eval::read_manifest(&manifest)?;
            for line in vitrine::scan::eval::run(&cases)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Catalog { groups, variants, dir }) => bench_catalog(groups, variants, dir),
        #[cfg(feature = "kiosk")]
        Command::Bench(BenchCommand::Scan { rounds }) => {
            for line in vitrine::kiosk::snapshot::probe_scan(rounds as usize)? {
                println!("{line}");
            }
            Ok(())
        }
        #[cfg(feature = "kiosk")]
        Command::Bench(BenchCommand::Staff { rounds }) => {
            for line in vitrine::kiosk::snapshot::probe_staff(rounds as usize)? {
                println!("{line}");
            }
            Ok(())
        }
        #[cfg(feature = "hub")]
        Command::Bench(BenchCommand::Sync {
            kiosks,
            batches,
            batch_ops,
            groups,
            dir,
        }) => {
            let temp = tempfile::tempdir()?;
            let dir = dir.unwrap_or_else(|| temp.path().to_owned());
            std::fs::create_dir_all(&dir)?;
            let options = vitrine::bench::sync::Options {
                kiosks,
                batches,
                batch_ops,
                groups,
            };
            for line in vitrine::bench::sync::run(&dir, &options)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Exercise {
            data,
            customer,
            skus,
            steps,
        } => exercise(&data, &customer, &skus, steps),
        #[cfg(feature = "kiosk")]
        Command::ProbeStartup { db, store } => {
            vitrine::kiosk::snapshot::probe_startup(&db, &store, &mut |line| println!("{line}"))
        }
        #[cfg(feature = "kiosk")]
        Command::Appliance { settings } => vitrine::kiosk::run_appliance(&settings),
        #[cfg(feature = "kiosk")]
        Command::TouchCalibration { settings, panel } => {
            if let Some(matrix) = vitrine::kiosk::settings::touch_calibration(&settings, &panel)? {
                println!("LIBINPUT_CALIBRATION_MATRIX={matrix}");
            }
            Ok(())
        }
        Command::Update(command) => update(command),
    }
}

fn update(command: UpdateCommand) -> anyhow::Result<()> {
    use vitrine::update::{self, Event};
    let report = |event: &Option<Event>| match event {
        Some(Event::Kept(version)) => println!("kept version {version}: it reported healthy"),
        Some(Event::RolledBack { version, why }) => println!("rolled back version {version}: {why}"),
        Some(Event::Trying { version, start }) => {
            println!("trying version {version} (start {start} of {})", update::TRIAL_STARTS)
        }
        None => {}
    };
    match command {
        UpdateCommand::Keygen { out } => {
            std::fs::create_dir_all(&out)?;
            let key = update::generate_key();
            let secret = out.join("update.key");
            write_secret(&secret, &update::encode_key(&key.to_bytes()))?;
            let public = out.join("update.pub");
            std::fs::write(&public, update::encode_key(key.verifying_key().as_bytes()) + "\n")?;
            println!("wrote {} (secret) and {}", secret.display(), public.display());
        }
        UpdateCommand::Pack { key, version, app, out } => {
            let header = update::pack(&update::read_signing_key(&key)?, &version, &app, &out)?;
            println!(
                "signed version {} ({} bytes) into {}",
                header.version,
                header.size,
                out.display()
            );
        }
        UpdateCommand::Install { bundle, slots, key } => {
            let trial = slots
                .open()?
                .install(&bundle, &update::read_public_key(&key)?, Timestamp::now())?;
            println!(
                "installed version {} on trial: it runs from the next start (systemctl restart vitrine)",
                trial.version
            );
        }
        UpdateCommand::Prepare { slots, link } => {
            let choice = slots.open()?.choose(Timestamp::now(), true)?;
            report(&choice.event);
            if let Some(dir) = link.parent() {
                std::fs::create_dir_all(dir)?;
            }
            update::point_link(&link, &choice.app)?;
        }
        UpdateCommand::Check { slots } => {
            let choice = slots.open()?.choose(Timestamp::now(), false)?;
            report(&choice.event);
            if matches!(choice.event, Some(Event::RolledBack { .. })) {
                let status = std::process::Command::new("systemctl")
                    .args(["restart", "vitrine.service"])
                    .status()
                    .context("cannot run systemctl")?;
                anyhow::ensure!(status.success(), "systemctl restart vitrine.service failed: {status}");
            }
        }
        UpdateCommand::Status { slots } => {
            let slots = slots.open()?;
            let name = |slot: Option<update::Slot>| slot.map_or("factory", update::Slot::name);
            println!("current={}", name(slots.current()));
            for slot in [update::Slot::A, update::Slot::B] {
                println!(
                    "{}_version={}",
                    name(Some(slot)),
                    slots.version(slot).unwrap_or_default()
                );
            }
            match slots.trial()? {
                Some(trial) => println!("trial={} starts={}", trial.version, trial.starts),
                None => println!("trial="),
            }
        }
    }
    Ok(())
}

/// A file only its owner can read, created so from the start.
fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    writeln!(file, "{text}")?;
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The kiosk database in a data directory. `create` makes the directory if needed.
fn kiosk_db(data: &Path, create: bool) -> anyhow::Result<PathBuf> {
    if create {
        std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    }
    let db = data.join(vitrine::sync::KIOSK_DB);
    if !create && !db.exists() {
        bail!(
            "{} holds no kiosk database; enroll first with `vitrine enroll --data {} --hub URL --code CODE`",
            data.display(),
            data.display()
        );
    }
    Ok(db)
}

#[cfg(feature = "hub")]
fn open_hub_db(data: &Path) -> anyhow::Result<rusqlite::Connection> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    Ok(vitrine::db::open(
        &vitrine::hub::db_path(data),
        vitrine::db::Schema::Hub,
    )?)
}

#[cfg(feature = "hub")]
fn mint_token(data: &Path, customer: &str, minutes: u8, audience: &str) -> anyhow::Result<()> {
    use vitrine::hub::customers;
    anyhow::ensure!(
        vitrine::protocol::valid_ref(customer),
        "a customer reference is 1 to 128 printable characters"
    );
    let conn = open_hub_db(data)?;
    let now = Timestamp::now();
    customers::ensure_hub_key(&conn, now)?;
    let minted = customers::mint(&conn, customer, audience, minutes, now)??;
    println!(
        "customer {customer} alias {} key {} expires {}",
        minted.customer_alias, minted.key_id, minted.expires_at
    );
    println!("{}", minted.token);
    Ok(())
}

#[cfg(feature = "hub")]
fn hub(args: HubArgs) -> anyhow::Result<()> {
    use vitrine::hub::{auth::Scope, store};
    let open = open_hub_db;
    match args.command {
        None => {
            let data = args.data.context("give the hub a data directory: --data DIR")?;
            let mut config = args
                .config
                .as_deref()
                .map(vitrine::hub::Config::load)
                .transpose()?
                .unwrap_or_default();
            if args.demo {
                config = vitrine::demo::prepare_hub(&data, config)?;
            }
            vitrine::hub::run(&data, args.listen, config)
        }
        Some(HubCommand::EnrollCode { data, store: shop }) => {
            anyhow::ensure!(
                vitrine::protocol::valid_ref(&shop),
                "a store code is 1 to 128 printable characters"
            );
            let code = store::create_enroll_code(&open(&data)?, &shop, Timestamp::now())?;
            println!(
                "one-time enrollment code for store {shop}, valid {} hours:",
                vitrine::hub::auth::ENROLL_CODE_HOURS
            );
            println!("{code}");
            Ok(())
        }
        Some(HubCommand::Key(KeyCommand::Create { data, name, scopes })) => {
            let scopes = if scopes.is_empty() {
                Scope::ALL.to_vec()
            } else {
                scopes
                    .iter()
                    .map(|s| {
                        Scope::parse(s).with_context(|| {
                            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                            format!("unknown scope '{s}'; scopes are {}", known.join(", "))
                        })
                    })
                    .collect::<anyhow::Result<_>>()?
            };
            anyhow::ensure!(
                vitrine::protocol::valid_ref(&name),
                "a key name is 1 to 128 printable characters"
            );
            let conn = open(&data)?;
            let key = store::create_key(&conn, &name, &scopes, Timestamp::now()).map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    anyhow::anyhow!("a key named '{name}' already exists")
                }
                other => other.into(),
            })?;
            let shown: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "web store key '{name}' with scopes {}; it is shown only once:",
                shown.join(" ")
            );
            println!("{key}");
            Ok(())
        }
        Some(HubCommand::Staff(StaffCommand::Add(Assistant {
            data,
            store: shop,
            name,
        }))) => {
            anyhow::ensure!(
                vitrine::protocol::valid_ref(&shop),
                "a store code is 1 to 128 printable characters"
            );
            let pin = read_new_pin()?;
            let id = vitrine::hub::staff::add(&open(&data)?, &shop, &name, &pin, Timestamp::now())??;
            println!("assistant {name} added to {shop} (id {id}); the shop's kiosks learn the PIN at their next pull");
            Ok(())
        }
        Some(HubCommand::Staff(StaffCommand::Remove(Assistant {
            data,
            store: shop,
            name,
        }))) => {
            vitrine::hub::staff::remove(&open(&data)?, &shop, &name, Timestamp::now())??;
            println!("assistant {name} removed from {shop}");
            Ok(())
        }
        Some(HubCommand::Staff(StaffCommand::List { data })) => {
            for (shop, name, added) in vitrine::hub::staff::list(&open(&data)?)? {
                println!("{shop}\t{name}\t{}", added.strftime("%Y-%m-%d"));
            }
            Ok(())
        }
        Some(HubCommand::Staff(StaffCommand::Badge { assistant, out })) => {
            let id = vitrine::hub::staff::id_of(&open(&assistant.data)?, &assistant.store, &assistant.name)??;
            let code = qrcode::QrCode::with_error_correction_level(vitrine::pin::badge(id), qrcode::EcLevel::M)?;
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(400, 400)
                .build();
            std::fs::write(&out, svg).with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "badge of {} ({}) written to {}",
                assistant.name,
                assistant.store,
                out.display()
            );
            Ok(())
        }
        Some(HubCommand::Staff(StaffCommand::Log { data, store, limit })) => {
            for line in vitrine::hub::staff::log(&open(&data)?, store.as_deref(), limit.clamp(1, 100_000))? {
                let until = line
                    .locked_until
                    .map(|t| format!("\tlocked until {t}"))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\tkiosk {}\t{}\t{}{until}",
                    line.at,
                    line.store_code,
                    line.device_id,
                    line.kind,
                    line.name.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        Some(HubCommand::RotateTokenKey { data, ahead_minutes }) => {
            let mut conn = open(&data)?;
            let ahead = jiff::SignedDuration::from_mins(i64::from(ahead_minutes));
            let now = Timestamp::now();
            vitrine::hub::customers::ensure_hub_key(&conn, now)?;
            let id = vitrine::hub::customers::rotate(&mut conn, now, ahead)?;
            println!("token key {id} signs from {}", now + ahead);
            Ok(())
        }
    }
}

fn wishlist(command: WishlistCommand) -> anyhow::Result<()> {
    use vitrine::protocol::{Action, Owner};
    let (edit, action) = match command {
        WishlistCommand::Add(e) => (e, Action::Add),
        WishlistCommand::Remove(e) => (e, Action::Remove),
    };
    anyhow::ensure!(
        vitrine::protocol::valid_ref(&edit.customer) && vitrine::protocol::valid_ref(&edit.sku),
        "customer references and SKUs are 1 to 128 printable characters"
    );
    let mut catalog = Catalog::open(&kiosk_db(&edit.data, true)?)?;
    if catalog.lookup(&edit.sku)?.is_none() {
        eprintln!("note: {} is not in this kiosk's catalog; the hub will decide", edit.sku);
    }
    let owner = Owner::Customer(edit.customer);
    let edited = vitrine::sync::outbox::edit(catalog.connection(), Timestamp::now(), &owner, &edit.sku, action, None)?;
    match edited {
        vitrine::sync::outbox::Edited::Queued { seq } => println!("saved (op {seq} queued for the hub)"),
        vitrine::sync::outbox::Edited::Unchanged => println!("unchanged (the wishlist already says so)"),
    }
    Ok(())
}

fn sync(data: &Path, once: bool) -> anyhow::Result<()> {
    use vitrine::sync::driver::{Step, Syncer};
    let db = kiosk_db(data, false)?;
    let syncer = Syncer::open(&db, vitrine::sync::engine::Policy::default())?;
    let rt = runtime()?;
    if !once {
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let (_requests, received) = tokio::sync::mpsc::unbounded_channel();
        rt.block_on(syncer.run(std::sync::Arc::default(), received, stopped));
        return Ok(());
    }
    let step = rt.block_on(syncer.drain())?;
    let pulled = rt.block_on(syncer.pull_catalog());
    status(data)?;
    if let Step::Waiting(at) = step {
        bail!("the hub did not take everything; next attempt after {at} (see last_error)");
    }
    let pulled = pulled.context("catalog pull failed")?;
    println!("catalog_changes={pulled}");
    Ok(())
}

fn exercise(data: &Path, customer: &str, skus: &[String], steps: usize) -> anyhow::Result<()> {
    use std::io::Write;
    use vitrine::protocol::{Action, Owner};
    use vitrine::sync::outbox::{self, Edited};
    anyhow::ensure!(!skus.is_empty(), "give --skus");
    let db = kiosk_db(data, false)?;
    let policy = vitrine::sync::engine::Policy {
        base: jiff::SignedDuration::from_millis(5),
        cap: jiff::SignedDuration::from_millis(50),
        ..Default::default()
    };
    let syncer = vitrine::sync::driver::Syncer::open(&db, policy)?;
    let mut catalog = Catalog::open(&db)?;
    let rt = runtime()?;
    let owner = Owner::Customer(customer.to_owned());
    let mut stdout = std::io::stdout().lock();
    for step in 0..steps {
        let sku = &skus[rand::random_range(0..skus.len())];
        let present = vitrine::sync::outbox::wishlist(catalog.connection(), &owner)?
            .iter()
            .any(|l| &l.sku == sku);
        let action = if present { Action::Remove } else { Action::Add };
        if let Edited::Queued { seq } = outbox::edit(catalog.connection(), Timestamp::now(), &owner, sku, action, None)?
        {
            writeln!(stdout, "op {seq} {sku} {}", !present)?;
            stdout.flush()?;
        }
        if step % 4 == 3 {
            rt.block_on(syncer.drain())?;
        }
    }
    Ok(())
}

fn status(data: &Path) -> anyhow::Result<()> {
    let mut catalog = Catalog::open(&kiosk_db(data, false)?)?;
    let cursor = catalog.cursor()?;
    let s = vitrine::sync::outbox::status(catalog.connection())?;
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

async fn webstore(command: WebstoreCommand) -> anyhow::Result<()> {
    use vitrine::protocol::{ImportSummary, WishlistPage};
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()?;
    use vitrine::sync::driver::read_answer as answer;
    match command {
        WebstoreCommand::Upload { hub, key, feeds } => {
            let base = hub.trim_end_matches('/');
            for (kind, path) in feeds.given()? {
                let body = read_feed(path)?;
                let mut request = http
                    .post(format!("{base}/v1/webstore/feeds/{kind}"))
                    .bearer_auth(&key)
                    .body(body);
                if let (Some(lang), "products") = (&feeds.lang, kind) {
                    request = request.query(&[("lang", lang)]);
                }
                let response = request
                    .send()
                    .await
                    .with_context(|| format!("cannot reach the hub at {hub}"))?;
                let summary: ImportSummary = answer(response).await.with_context(|| path.display().to_string())?;
                println!("{summary}");
                for rejection in &summary.rejected {
                    println!("rejected {kind} {rejection}");
                }
            }
            Ok(())
        }
        WebstoreCommand::Pull {
            hub,
            key,
            cursor,
            limit,
            snapshot,
        } => {
            let feed = if snapshot { "snapshot" } else { "changes" };
            let mut query = vec![("limit", limit.to_string())];
            if let Some(cursor) = cursor {
                query.push(("cursor", cursor));
            }
            let response = http
                .get(format!("{}/v1/webstore/wishlist/{feed}", hub.trim_end_matches('/')))
                .bearer_auth(&key)
                .query(&query)
                .send()
                .await
                .with_context(|| format!("cannot reach the hub at {hub}"))?;
            let page: WishlistPage = answer(response).await?;
            for change in &page.changes {
                println!("{}", serde_json::to_string(change)?);
            }
            println!("{}", page.next_cursor);
            Ok(())
        }
    }
}

#[cfg(feature = "kiosk")]
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

fn import(db: &Path, feeds: &FeedFiles) -> anyhow::Result<()> {
    feeds.given()?;
    let (products, inventory, lang) = (
        feeds.products.as_deref(),
        feeds.inventory.as_deref(),
        feeds.lang.as_deref(),
    );
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
