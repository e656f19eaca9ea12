//! The `vitrine` command: parses the arguments and hands each command to its module in
//! `cli/`, which does the work through the library and prints the results.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Demo(cli::kiosk::DemoArgs),
    /// Opens the kiosk on its data directory, enrolled with a hub.
    #[cfg(feature = "kiosk")]
    Kiosk(cli::kiosk::KioskArgs),
    /// Runs the kiosk as the kiosk image does: one settings file, enrolled on the first
    /// start, the demo store when it names no hub, under systemd's watchdog.
    #[cfg(feature = "kiosk")]
    Appliance(cli::kiosk::ApplianceArgs),
    /// For udev (the image's 70-vitrine.rules): prints the touch screen's
    /// `LIBINPUT_CALIBRATION_MATRIX`, the settings' rotation on top of the panel's own
    /// matrix; prints nothing when there is nothing to turn.
    #[cfg(feature = "kiosk")]
    TouchCalibration(cli::kiosk::TouchCalibrationArgs),
    /// Renders one kiosk screen (of the demo store, or of a kiosk with --kiosk) to a PNG, without a display.
    #[cfg(feature = "kiosk")]
    Snapshot(cli::kiosk::SnapshotArgs),
    /// Reads QR codes from a frame source and prints each payload with its latency (for
    /// staff checking a camera set-up, and for scripted checks).
    #[cfg(feature = "kiosk")]
    Scan(cli::kiosk::ScanArgs),
    /// Says a text as the accessibility mode does (espeak-ng), on the sound card or into
    /// a WAV file (for checking a kiosk's audio).
    #[cfg(feature = "kiosk")]
    Speak(cli::kiosk::SpeakArgs),
    /// Imports and searches Merchant Center feeds.
    #[command(subcommand)]
    Catalog(cli::catalog::CatalogCommand),
    /// Enrolls this kiosk with a hub, using a one-time code from store ops.
    Enroll(cli::device::EnrollArgs),
    /// Adds or removes a SKU on a wishlist, exactly as a tap on the heart does.
    #[command(subcommand)]
    Wishlist(cli::device::WishlistCommand),
    /// Sends the outbox to the hub and pulls catalog changes.
    Sync(cli::device::SyncArgs),
    /// Prints the kiosk's sync state as `name=value` pairs.
    Status(cli::device::StatusArgs),
    /// Runs the hub, or manages its devices, keys and staff.
    #[cfg(feature = "hub")]
    Hub(cli::hub::HubArgs),
    /// Customer QR tokens, for ops and tests.
    #[cfg(feature = "hub")]
    #[command(subcommand)]
    Token(cli::hub::TokenCommand),
    /// The web store's side of the hub API (also its reference client).
    #[command(subcommand)]
    Webstore(cli::webstore::WebstoreCommand),
    /// Measures performance and prints `name=value` lines.
    #[command(subcommand)]
    Bench(cli::measure::BenchCommand),
    /// Measures how well Vitrine does on real-world material; prints `name=value` lines.
    #[command(subcommand)]
    Eval(cli::measure::EvalCommand),
    /// Signed app updates for the kiosk image: keys, bundles, and the two slots.
    #[command(subcommand)]
    Update(cli::update::UpdateCommand),
    /// Commands the tests and benchmarks drive.
    #[command(subcommand, hide = true)]
    Internal(cli::internal::InternalCommand),
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Demo(cli::kiosk::DemoArgs::default())) {
        Command::Demo(args) => cli::kiosk::demo(args),
        #[cfg(feature = "kiosk")]
        Command::Kiosk(args) => cli::kiosk::kiosk(args),
        #[cfg(feature = "kiosk")]
        Command::Appliance(args) => cli::kiosk::appliance(args),
        #[cfg(feature = "kiosk")]
        Command::TouchCalibration(args) => cli::kiosk::touch_calibration(args),
        #[cfg(feature = "kiosk")]
        Command::Snapshot(args) => cli::kiosk::snapshot(args),
        #[cfg(feature = "kiosk")]
        Command::Scan(args) => cli::kiosk::scan(args),
        #[cfg(feature = "kiosk")]
        Command::Speak(args) => cli::kiosk::speak(args),
        Command::Catalog(command) => cli::catalog::run(command),
        Command::Enroll(args) => cli::device::enroll(args),
        Command::Wishlist(command) => cli::device::wishlist(command),
        Command::Sync(args) => cli::device::sync(args),
        Command::Status(args) => cli::device::status(&args.data),
        #[cfg(feature = "hub")]
        Command::Hub(args) => cli::hub::run(args),
        #[cfg(feature = "hub")]
        Command::Token(command) => cli::hub::token(command),
        Command::Webstore(command) => cli::webstore::run(command),
        Command::Bench(command) => cli::measure::bench(command),
        Command::Eval(command) => cli::measure::eval(command),
        Command::Update(command) => cli::update::run(command),
        Command::Internal(command) => cli::internal::run(command),
    }
}
