//! `vitrine bench …` and `vitrine eval …`: numbers as `name=value` lines.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
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
        /// Also on PostgreSQL, with one hub and with two, beside SQLite: a server's
        /// postgres://… URL (the bench makes and drops databases of its own there), or
        /// `local` for a throwaway cluster from the machine's PostgreSQL.
        #[arg(long)]
        database: Option<String>,
    },
    /// Measurement: kiosk events ingested over HTTP, the reports over 90 days of a
    /// filled hub, an event recorded on a kiosk.
    #[cfg(feature = "hub")]
    Measure {
        #[arg(long, default_value_t = 10)]
        kiosks: usize,
        /// Batches of 500 events each kiosk posts.
        #[arg(long, default_value_t = 40)]
        batches: usize,
        /// Events in the hub the reports are computed over.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The console on a generated chain: the fleet, a kiosk's and the figures pages'
    /// times as a signed-in browser loads them, and heartbeats ingested over HTTP.
    #[cfg(feature = "hub")]
    Console {
        #[arg(long, default_value_t = 100)]
        shops: usize,
        #[arg(long, default_value_t = 1_000)]
        kiosks: usize,
        /// Days of hourly heartbeat history and of visits.
        #[arg(long, default_value_t = 90)]
        days: usize,
        /// Kiosk events over those days.
        #[arg(long, default_value_t = 500_000)]
        events: usize,
        /// Loads of the fleet and kiosk pages (a quarter as many of the figures).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        rounds: u64,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A seeded run of random edits on several kiosks and the web store, with network
    /// faults and restarts of kiosks and the hub; then the invariants: prints `ops=`,
    /// `faults=`, `lost= doubled= diverged= leftover=` (all 0 when sync holds).
    #[cfg(feature = "hub")]
    Chaos {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 4)]
        kiosks: usize,
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
    /// Speech in the accessibility mode: from a key press or a tap to the first sound,
    /// and from the next key to the silence of what it cut short (demo catalog,
    /// headless kiosk, espeak-ng, a recorder paced like a sound card).
    #[cfg(feature = "kiosk")]
    A11y {
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_000))]
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

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Decodes every picture of a QR manifest (path, expected text as JSON, category; tab
    /// separated): a line per category, the totals, then a line per strategy (what it
    /// reads alone, adds to those before it, reads wrong, and its time).
    #[cfg(feature = "kiosk")]
    Qr {
        #[arg(long)]
        manifest: PathBuf,
        /// Shrink each picture to fit this frame first (`1280x720`: what the kiosk's
        /// camera sees); full size without it.
        #[arg(long, value_parser = frame_size)]
        frame: Option<(u32, u32)>,
    },
    /// Writes camera frames of QR codes shown on phone screens (moiré, glare, tilt,
    /// blur, dark mode, and pages without a code) and their manifest, for `eval qr`.
    #[cfg(feature = "kiosk")]
    QrScreens {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Imports each feed (files, or every file of a directory) into a fresh catalog: a
    /// line per feed, then how much of what they list landed. A file whose name says
    /// `inventory` is read as a local inventory feed.
    Feeds {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Language of product feeds that declare none.
        #[arg(long)]
        lang: Option<String>,
        /// Currency of prices written without one.
        #[arg(long, value_parser = vitrine::domain::currency)]
        currency: Option<String>,
    },
}

fn print(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}

/// A working directory: the one given, else a temporary one that lives as long as `temp`.
fn workdir(dir: Option<PathBuf>, temp: &mut Option<tempfile::TempDir>) -> anyhow::Result<PathBuf> {
    let dir = match dir {
        Some(dir) => dir,
        None => temp.insert(tempfile::tempdir()?).path().to_owned(),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub fn bench(command: BenchCommand) -> anyhow::Result<()> {
    let mut temp = None;
    match command {
        BenchCommand::Catalog { groups, variants, dir } => {
            let (lines, db) = vitrine::bench::catalog::catalog(&workdir(dir, &mut temp)?, groups, variants)?;
            print(lines);
            #[cfg(feature = "kiosk")]
            print(vitrine::bench::startup::in_child(
                &db,
                vitrine::bench::catalog::STORES[0],
            )?);
            #[cfg(not(feature = "kiosk"))]
            let _ = db;
        }
        #[cfg(feature = "hub")]
        BenchCommand::Sync {
            kiosks,
            batches,
            batch_ops,
            groups,
            dir,
            database,
        } => {
            let options = vitrine::bench::sync::Options {
                kiosks,
                batches,
                batch_ops,
                groups,
                database,
            };
            print(vitrine::bench::sync::run(&workdir(dir, &mut temp)?, &options)?);
        }
        #[cfg(feature = "hub")]
        BenchCommand::Measure {
            kiosks,
            batches,
            events,
            orders,
            dir,
        } => {
            let options = vitrine::bench::measure::Options {
                kiosks,
                batches,
                events,
                orders,
            };
            print(vitrine::bench::measure::run(&workdir(dir, &mut temp)?, &options)?);
        }
        #[cfg(feature = "hub")]
        BenchCommand::Console {
            shops,
            kiosks,
            days,
            events,
            rounds,
            dir,
        } => {
            anyhow::ensure!(
                shops >= 1 && kiosks >= 1 && days >= 1,
                "give at least one shop, kiosk and day"
            );
            let options = vitrine::bench::console::Options {
                shops,
                kiosks,
                days,
                events,
                rounds: rounds as usize,
            };
            print(vitrine::bench::console::run(&workdir(dir, &mut temp)?, &options)?);
        }
        #[cfg(feature = "hub")]
        BenchCommand::Chaos {
            seconds,
            seed,
            kiosks,
            dir,
        } => {
            let options = vitrine::bench::chaos::Options {
                seed,
                steps: None,
                duration: Some(std::time::Duration::from_secs(seconds)),
                kiosks,
            };
            let report = vitrine::bench::chaos::run(&workdir(dir, &mut temp)?, &options)?;
            print(report.lines());
            anyhow::ensure!(report.clean(), "an invariant did not hold");
        }
        #[cfg(feature = "kiosk")]
        BenchCommand::Scan { rounds } => print(vitrine::kiosk::probes::scan(rounds as usize)?),
        #[cfg(feature = "kiosk")]
        BenchCommand::A11y { rounds } => print(vitrine::kiosk::probes::a11y(rounds as usize)?),
        #[cfg(feature = "kiosk")]
        BenchCommand::Staff { rounds } => print(vitrine::kiosk::probes::staff(rounds as usize)?),
    }
    Ok(())
}

pub fn eval(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        #[cfg(feature = "kiosk")]
        EvalCommand::Qr { manifest, frame } => {
            let cases = vitrine::bench::qr::read_manifest(&manifest)?;
            print(vitrine::bench::qr::run(&cases, frame)?);
        }
        #[cfg(feature = "kiosk")]
        EvalCommand::QrScreens { out, count, seed } => {
            vitrine::bench::qr_screens::write(&out, count as usize, seed)?;
            println!("frames={count} manifest={}", out.join("manifest.tsv").display());
        }
        EvalCommand::Feeds { paths, lang, currency } => {
            let options = vitrine::catalog::FeedOptions { lang, currency };
            print(vitrine::bench::feeds::run(
                &vitrine::bench::feeds::files(&paths)?,
                &options,
            )?);
        }
    }
    Ok(())
}

/// `WIDTHxHEIGHT`, each 16 to 8192 pixels.
#[cfg(feature = "kiosk")]
fn frame_size(text: &str) -> Result<(u32, u32), String> {
    let parse = |n: &str| n.parse::<u32>().ok().filter(|n| (16..=8192).contains(n));
    text.split_once(['x', 'X'])
        .and_then(|(w, h)| Some((parse(w)?, parse(h)?)))
        .ok_or_else(|| format!("a frame size is WIDTHxHEIGHT, each 16 to 8192 pixels, not {text:?}"))
}
