//! The touchscreen app from the command line: `vitrine demo`, `kiosk`, `appliance`,
//! `touch-calibration`, `snapshot`, `scan` and `speak`. Only `demo --write-assets` works in a build
//! without the `kiosk` feature.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct DemoArgs {
    /// Interface language at start (fr or en).
    #[arg(long, default_value = "fr")]
    lang: String,
    /// Write the demo feeds and pictures to DIR instead of running (maintainers).
    #[arg(long, value_name = "DIR")]
    write_assets: Option<PathBuf>,
}

/// What a bare `vitrine` runs: the demo, in French.
impl Default for DemoArgs {
    fn default() -> DemoArgs {
        DemoArgs {
            lang: "fr".to_owned(),
            write_assets: None,
        }
    }
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    if let Some(dir) = args.write_assets {
        vitrine::demo::write_assets(&dir).with_context(|| format!("writing demo assets to {}", dir.display()))?;
        println!("wrote the demo store to {}", dir.display());
        return Ok(());
    }
    #[cfg(feature = "kiosk")]
    return vitrine::kiosk::run_demo(&ui_lang(&args.lang)?);
    #[cfg(not(feature = "kiosk"))]
    anyhow::bail!("this build has no kiosk (built without the `kiosk` feature)")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::DemoArgs;

    #[derive(Parser)]
    struct Demo {
        #[command(flatten)]
        args: DemoArgs,
    }

    #[test]
    fn a_bare_vitrine_runs_the_demo_as_vitrine_demo_does() {
        let parsed = Demo::parse_from(["vitrine"]).args;
        let bare = DemoArgs::default();
        assert_eq!(
            (bare.lang.as_str(), bare.write_assets),
            (parsed.lang.as_str(), parsed.write_assets)
        );
        assert_eq!(bare.lang, "fr");
    }
}

#[cfg(feature = "kiosk")]
pub use with_kiosk::*;

#[cfg(feature = "kiosk")]
mod with_kiosk {
    use std::path::PathBuf;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use anyhow::bail;
    use clap::Args;
    use vitrine::kiosk::{self, Screen, session::Limits, settings, snapshot};
    use vitrine::scan::scanner::{Event, Scanner};

    /// The interface languages.
    pub fn ui_lang(lang: &str) -> anyhow::Result<String> {
        match lang {
            "fr" | "en" => Ok(lang.to_owned()),
            other => bail!("the interface speaks fr and en, not '{other}'"),
        }
    }

    #[derive(Args)]
    pub struct KioskArgs {
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

    pub fn kiosk(args: KioskArgs) -> anyhow::Result<()> {
        let lang = ui_lang(&args.lang)?;
        let camera = args
            .camera
            .as_deref()
            .map(|spec| vitrine::scan::open_source(spec, 15.0))
            .transpose()?;
        kiosk::run(kiosk::Config {
            data: args.data,
            lang,
            picture_cache_mib: args.picture_cache_mib,
            camera,
            limits: Limits {
                idle: Duration::from_secs(args.idle_seconds),
                warning: Duration::from_secs(args.warning_seconds),
                max: Duration::from_secs(args.session_max_minutes * 60),
            },
            health: None,
        })
    }

    #[derive(Args)]
    pub struct ApplianceArgs {
        /// The settings file (see kiosk-image/overlay/usr/share/vitrine/kiosk.toml); the
        /// kiosk's data goes to `data/` beside it.
        #[arg(long, default_value = "/var/lib/vitrine/kiosk.toml")]
        settings: PathBuf,
    }

    pub fn appliance(args: ApplianceArgs) -> anyhow::Result<()> {
        kiosk::run_appliance(&args.settings)
    }

    #[derive(Args)]
    pub struct TouchCalibrationArgs {
        #[arg(long, default_value = "/var/lib/vitrine/kiosk.toml")]
        settings: PathBuf,
        /// The panel's own matrix, six numbers (udev: `$env{LIBINPUT_CALIBRATION_MATRIX}`).
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        panel: String,
    }

    pub fn touch_calibration(args: TouchCalibrationArgs) -> anyhow::Result<()> {
        if let Some(matrix) = settings::touch_calibration(&args.settings, &args.panel)? {
            println!("LIBINPUT_CALIBRATION_MATRIX={matrix}");
        }
        Ok(())
    }

    #[derive(Args)]
    pub struct SnapshotArgs {
        #[arg(long, value_enum)]
        screen: Screen,
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
        qr: Option<snapshot::Qr>,
        /// Open the scan sheet, the camera seeing this picture.
        #[arg(long, value_name = "PICTURE")]
        camera: Option<PathBuf>,
        /// Render this kiosk (its data directory: its catalog, shop, brand and settings)
        /// rather than the demo store; it is read, never changed.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["offline", "qr", "camera"])]
        kiosk: Option<PathBuf>,
        /// Accessibility settings to show, comma-separated (e.g.
        /// `large-text,high-contrast` or `reach`).
        #[arg(long, value_enum, value_delimiter = ',')]
        a11y: Vec<snapshot::A11y>,
        #[arg(long)]
        out: PathBuf,
    }

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

    pub fn snapshot(args: SnapshotArgs) -> anyhow::Result<()> {
        snapshot::render_demo(&snapshot::Request {
            screen: args.screen,
            sku: args.sku,
            query: args.query,
            lang: ui_lang(&args.lang)?,
            size: args.size,
            offline: args.offline,
            scan: args.scan,
            idle: args.idle,
            qr: args.qr,
            camera: args.camera,
            kiosk: args.kiosk,
            a11y: args.a11y,
            out: args.out.clone(),
        })?;
        println!("{}", args.out.display());
        Ok(())
    }

    #[derive(Args)]
    pub struct SpeakArgs {
        /// What to say (at most 600 characters are said).
        text: String,
        /// fr or en.
        #[arg(long, default_value = "fr")]
        lang: String,
        /// Into this WAV file rather than the sound card.
        #[arg(long, value_name = "FILE", conflicts_with = "device")]
        wav: Option<PathBuf>,
        /// The ALSA device.
        #[arg(long, default_value = "default")]
        device: String,
    }

    pub fn speak(args: SpeakArgs) -> anyhow::Result<()> {
        use anyhow::Context;
        use vitrine::speech::{Lang, Speaker, Utterance, espeak::Espeak, output};
        let lang = match ui_lang(&args.lang)?.as_str() {
            "fr" => Lang::French,
            _ => Lang::English,
        };
        let espeak = Espeak::default();
        anyhow::ensure!(
            espeak.available(),
            "espeak-ng does not run here: install it (apt install espeak-ng)"
        );
        let out: Box<dyn output::Output> = match &args.wav {
            Some(path) => Box::new(output::Wav::create(path)),
            None => {
                // Opened here so a missing sound card is an error, not silence.
                let mut alsa = output::Alsa::new(&args.device);
                output::Output::begin(&mut alsa, 22_050)
                    .with_context(|| format!("cannot open the sound card ({})", args.device))?;
                Box::new(alsa)
            }
        };
        let speaker = Speaker::start(espeak, out)?;
        speaker.say(Utterance {
            text: args.text,
            lang,
            voice: Default::default(),
        });
        speaker.finish();
        if let Some(path) = &args.wav {
            println!("{}", path.display());
        }
        Ok(())
    }

    #[derive(Args)]
    pub struct ScanArgs {
        /// `device` or `device:N` (the camera at /dev/videoN), or a replay: `dir:PATH`
        /// (pictures in name order) or `file:PATH` (a picture or an MJPEG stream) at `--fps`.
        #[arg(long)]
        source: String,
        #[arg(long, default_value_t = 15.0)]
        fps: f64,
    }

    pub fn scan(args: ScanArgs) -> anyhow::Result<()> {
        let source = vitrine::scan::open_source(&args.source, args.fps)?;
        let scanner = Scanner::start(source, Duration::from_secs(3))?;
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
                Event::Failed(why) => bail!("the frame source failed: {why}"),
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
}
