//! `vitrine update …`: signed app updates for the kiosk image (see `vitrine::update`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use jiff::Timestamp;

#[derive(Subcommand)]
pub enum UpdateCommand {
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
    /// from the next start of the kiosk, and is rolled back unless it reports healthy
    /// soon after. Its version must be newer than the running app's.
    Install {
        bundle: PathBuf,
        #[command(flatten)]
        slots: SlotArgs,
        /// The public key bundles must be signed with.
        #[arg(long, default_value = "/etc/vitrine/update.pub")]
        key: PathBuf,
        /// Installs the bundle even if its version is not newer than the running app's:
        /// older, the same, or not a semantic version.
        #[arg(long)]
        allow_downgrade: bool,
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
pub struct SlotArgs {
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
            // These commands run from the image's own binary, the factory app.
            factory_version: env!("CARGO_PKG_VERSION").to_owned(),
            health: self.health,
        })
    }
}

pub fn run(command: UpdateCommand) -> anyhow::Result<()> {
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
        UpdateCommand::Install {
            bundle,
            slots,
            key,
            allow_downgrade,
        } => {
            let key = update::read_public_key(&key)?;
            let trial = slots
                .open()?
                .install(&bundle, &key, Timestamp::now(), allow_downgrade)?;
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
