//! `vitrine internal …`: hidden commands that tests and benchmarks drive, not people.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum InternalCommand {
    /// The crash test's load: toggles random SKUs on a wishlist and syncs, printing
    /// `op SEQ SKU PRESENT` after each local commit.
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
    /// Starts the kiosk headless, reports its first frame and memory, and exits (for
    /// `vitrine bench catalog`).
    #[cfg(feature = "kiosk")]
    ProbeStartup {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        store: String,
    },
}

pub fn run(command: InternalCommand) -> anyhow::Result<()> {
    match command {
        InternalCommand::Exercise {
            data,
            customer,
            skus,
            steps,
        } => {
            let db = super::kiosk_db(&data, false)?;
            vitrine::bench::exercise::run(&db, &customer, &skus, steps, &mut std::io::stdout().lock())
        }
        #[cfg(feature = "kiosk")]
        InternalCommand::ProbeStartup { db, store } => {
            vitrine::kiosk::probes::startup(&db, &store, &mut |line| println!("{line}"))
        }
    }
}
