//! The touchscreen app (feature `kiosk`): the only part of Vitrine that knows Slint.
//!
//! - [`a11y`]: the accessibility mode (speech, keypad and swipes, larger text,
//!   contrast, reach, more time);
//! - [`shell`]: navigation, the visit and its clock, language, staff mode, and what
//!   crosses views;
//! - [`views`]: one controller per view, what each tap does;
//! - [`context`]: what the views share (window, workers, the visit);
//! - [`adapters`]: catalog types to UI structs;
//! - [`workers`]: the catalog and picture threads;
//! - [`images`]: picture decoding;
//! - [`links`]: the web store links the kiosk shows as QR codes;
//! - [`session`]: when a shopper's visit ends;
//! - [`appliance`], [`settings`]: the kiosk as the image runs it (systemd, its settings file);
//! - [`first_start`], [`setup`]: the first-start screen that enrolls a kiosk, and its
//!   decisions;
//! - [`headless`]: a display-less platform for screenshots, tests and probes;
//! - [`snapshot`]: `vitrine snapshot`, a screen of the demo store to a PNG;
//! - [`probes`]: the kiosk's numbers for `vitrine bench`.

pub mod a11y;
pub mod adapters;
pub mod appliance;
pub mod brand;
pub mod context;
pub mod first_start;
pub mod headless;
pub mod images;
pub mod links;
pub mod probes;
pub mod session;
pub mod settings;
pub mod setup;
pub mod shell;
pub mod snapshot;
pub mod views;
pub mod workers;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use slint::ComponentHandle;

use crate::catalog::Catalog;
use crate::demo;
use crate::pictures::PictureCache;
use crate::scan::scanner::{Event as ScanEvent, Scanner};
use crate::scan::source::FrameSource;
use crate::sync::driver::{Background, SyncLink, Syncer};
use crate::sync::engine::Policy;
use crate::sync::outbox::Device;
use context::{Clock, Ctx};
use shell::Shell;
use workers::{CatalogWorker, ImageSource, ImageWorker, Pending};

/// The generated Slint code.
#[allow(clippy::all, clippy::pedantic)]
pub mod ui {
    slint::include_modules!();
}

pub use ui::Screen as UiScreen;

/// A screen, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Screen {
    Attract,
    Home,
    Search,
    Results,
    Product,
    Wishlist,
    /// The staff keypad, a name chosen and a few digits typed.
    StaffPin,
    /// The staff stock tool on a product (`--sku`, or the first featured one).
    StaffStock,
    /// The kiosk's health, as staff see it.
    StaffHealth,
    /// The first-start screen of a kiosk not enrolled yet.
    Setup,
}

impl Screen {
    fn is_staff(self) -> bool {
        matches!(self, Screen::StaffPin | Screen::StaffStock | Screen::StaffHealth)
    }
}

/// What `vitrine kiosk` needs to start.
pub struct Config {
    /// The kiosk's data directory (its database, enrolled with a hub).
    pub data: PathBuf,
    pub lang: String,
    /// Disk space for catalog pictures.
    pub picture_cache_mib: u64,
    /// Where codes are read from, if anywhere.
    pub camera: Option<Box<dyn FrameSource>>,
    pub limits: session::Limits,
    /// Where the app writes its health mark once it is up (the image's updates).
    pub health: Option<PathBuf>,
}

/// How long a payload stays "already read" while it stays in view.
pub const SCAN_DEBOUNCE: std::time::Duration = std::time::Duration::from_secs(3);

/// A running kiosk: its window, its shell (which holds the views' controllers), and the
/// counter of work in flight.
pub struct Kiosk {
    pub window: ui::AppWindow,
    pub shell: Rc<Shell>,
    pub pending: Pending,
}

impl Kiosk {
    /// Creates the window and its workers. The platform (winit, or the headless one)
    /// must be chosen before this is called. `sync`, when the kiosk syncs, is
    /// notified after each wishlist edit.
    pub fn new(
        db: &std::path::Path,
        store: &str,
        images: ImageSource,
        clock: Clock,
        sync: Option<SyncLink>,
    ) -> anyhow::Result<Kiosk> {
        let window = ui::AppWindow::new().context("cannot create the kiosk window")?;
        Kiosk::new_in(window, db, store, images, clock, sync)
    }

    /// [`Kiosk::new`] on a window made already: the first-start screen's
    /// ([`first_start`]), which the kiosk takes over once enrolled.
    pub fn new_in(
        window: ui::AppWindow,
        db: &std::path::Path,
        store: &str,
        images: ImageSource,
        clock: Clock,
        sync: Option<SyncLink>,
    ) -> anyhow::Result<Kiosk> {
        // No visit is under way yet: what a run that stopped mid-visit left goes now.
        let mut local = crate::catalog::Catalog::open(db).with_context(|| format!("cannot open {}", db.display()))?;
        let left = crate::sync::outbox::end_leftover_visits(local.connection())?;
        if left > 0 {
            tracing::info!(rows = left, "cleared a visit the last run left");
        }
        drop(local);
        let catalog = CatalogWorker::start(db).with_context(|| format!("cannot open the catalog {}", db.display()))?;
        let images = ImageWorker::start(images);
        let pending = Pending::default();
        // The shop's name comes with the hub's settings (never its code: a shopper does
        // not read codes); none until then.
        window.global::<ui::AppAdapter>().set_store_name("".into());
        window.global::<ui::AppAdapter>().set_screen(ui::Screen::Attract);
        let ctx = Ctx::new(&window, catalog, images, store.to_owned(), clock, pending.clone(), sync);
        let shell = Shell::new(&window, ctx);
        shell.set_data_dir(db.parent().map(std::path::Path::to_path_buf));
        Ok(Kiosk { window, shell, pending })
    }
}

impl Kiosk {
    /// Hands what `scanner` reads to the shell, on the UI thread, until the scanner
    /// stops. The thread owns the scanner.
    pub fn attach_scanner(&self, scanner: Scanner) -> anyhow::Result<std::thread::JoinHandle<()>> {
        self.shell.set_camera(scanner.camera());
        let window = self.window.as_weak();
        Ok(std::thread::Builder::new().name("scan-events".into()).spawn(move || {
            while let Ok(event) = scanner.events().recv() {
                match event {
                    ScanEvent::Read {
                        text,
                        latency,
                        strategy,
                    } => {
                        tracing::debug!(?latency, strategy = strategy.name(), "code read");
                        let window = window.clone();
                        let sent = slint::invoke_from_event_loop(move || {
                            if let Some(w) = window.upgrade() {
                                w.global::<ui::AppAdapter>().invoke_scanned(text.into());
                            }
                        });
                        if sent.is_err() {
                            return;
                        }
                    }
                    ScanEvent::Waiting(why) => tracing::warn!("waiting for the camera: {why}"),
                    ScanEvent::Ended => return,
                    ScanEvent::Failed(why) => return tracing::error!("the camera stopped: {why}"),
                }
            }
        })?)
    }
}

/// The demo store's pictures, embedded in the binary: for snapshots and tests without a hub.
pub fn demo_pictures() -> ImageSource {
    Arc::new(|url: &str| demo::image(url).map(<[u8]>::to_vec))
}

/// Pictures through the hub `device` is enrolled with, kept in `data`'s disk cache.
pub fn hub_pictures(data: &std::path::Path, device: &Device, cap_mib: u64) -> anyhow::Result<ImageSource> {
    let client = crate::client::KioskClient::new(&device.hub_url, &device.token)?;
    let dir = data.join(crate::pictures::DIR);
    let cache = PictureCache::open(&dir, cap_mib << 20, client)
        .with_context(|| format!("cannot open the picture cache {}", dir.display()))?;
    Ok(Arc::new(move |url: &str| cache.get(url)))
}

fn enrolled(db: &std::path::Path) -> anyhow::Result<Device> {
    crate::sync::driver::enrolled(&mut Catalog::open(db)?)
}

pub fn system_clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// `vitrine kiosk`: full screen, syncing with the hub it is enrolled with.
pub fn run(config: Config) -> anyhow::Result<()> {
    start(config, None)?.run()
}

/// A kiosk made and ready to show, with what must outlive its window.
pub struct Started {
    kiosk: Kiosk,
    lang: String,
    health: Option<PathBuf>,
    /// The sync thread, and the demo's hub and files: dropped after the kiosk, in order.
    _keep: Vec<Box<dyn std::any::Any>>,
}

impl Started {
    /// Shows the window until the event loop ends.
    fn run(self) -> anyhow::Result<()> {
        present(&self.kiosk, &self.lang, self.health.clone())
    }

    /// Shows the kiosk in an event loop that already runs, on the window the
    /// first-start screen showed (the `linuxkms` backend has one window and one event
    /// loop per process). The guard keeps systemd's timers and the health mark's.
    pub fn show(&self) -> anyhow::Result<appliance::Supervision> {
        let supervision = appliance::supervise(
            &self.kiosk.window,
            appliance::systemd(),
            appliance::watchdog_interval(),
            self.health.clone(),
        );
        self.kiosk.shell.start(&self.lang);
        a11y::A11y::watch_headphones(&self.kiosk.window);
        self.kiosk.window.show().context("cannot show the kiosk window")?;
        Ok(supervision)
    }
}

/// [`run`]'s kiosk, made but not shown, on `window` if one is made already.
fn start(config: Config, window: Option<ui::AppWindow>) -> anyhow::Result<Started> {
    let db = config.data.join(crate::db::KIOSK_DB);
    let device = enrolled(&db)?;
    let pictures = hub_pictures(&config.data, &device, config.picture_cache_mib)?;
    let sync = Background::start(Syncer::open(&db, Policy::default())?)?;
    let kiosk = Kiosk::new_in(
        window_or_new(window)?,
        &db,
        &device.store_code,
        pictures,
        system_clock(),
        Some(sync.link.clone()),
    )?;
    kiosk.window.window().set_fullscreen(true);
    kiosk.shell.set_limits(config.limits);
    if let Some(camera) = config.camera {
        kiosk.attach_scanner(Scanner::start(camera, SCAN_DEBOUNCE)?)?;
    }
    Ok(Started {
        kiosk,
        lang: config.lang,
        health: config.health,
        _keep: vec![Box::new(sync)],
    })
}

fn window_or_new(window: Option<ui::AppWindow>) -> anyhow::Result<ui::AppWindow> {
    match window {
        Some(window) => Ok(window),
        None => ui::AppWindow::new().context("cannot create the kiosk window"),
    }
}

/// Shows the window until the event loop ends, under systemd's watchdog when there is
/// one (see [`appliance`]).
fn present(kiosk: &Kiosk, lang: &str, health: Option<PathBuf>) -> anyhow::Result<()> {
    let _supervision = appliance::supervise(
        &kiosk.window,
        appliance::systemd(),
        appliance::watchdog_interval(),
        health,
    );
    kiosk.shell.start(lang);
    a11y::A11y::watch_headphones(&kiosk.window);
    kiosk.window.run().context("the kiosk window failed")
}

/// Imports the embedded demo store into a fresh database in `dir`, with the demo's
/// shops as a hub would have sent them.
pub fn demo_catalog(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let db = dir.join("demo-catalog.db");
    let mut catalog = Catalog::open(&db)?;
    let now = jiff::Timestamp::now();
    demo::import_into(&mut catalog, now)?;
    let settings = crate::protocol::KioskSettings {
        list_url: None,
        pairing: false,
        shops: demo::shops(),
        remote: Default::default(),
        brand: demo::brand(),
    };
    crate::trust::save_settings(catalog.connection(), &settings, now)?;
    catalog.save_popular(&demo::history::popular(demo::HOME_STORE, now)?)?;
    Ok(db)
}

/// `vitrine demo`: a hub on loopback with the demo store, and a kiosk enrolled with it
/// that pulls its catalog and syncs through real HTTP, in a window.
pub fn run_demo(lang: &str) -> anyhow::Result<()> {
    run_demo_with(lang, None, None)
}

fn run_demo_with(lang: &str, limits: Option<session::Limits>, health: Option<PathBuf>) -> anyhow::Result<()> {
    start_demo(lang, limits, health, None)?.run()
}

/// The demo's hub and kiosk, made but not shown, on `window` if one is made already
/// (the first-start screen's "Try the demo store").
pub fn start_demo(
    lang: &str,
    limits: Option<session::Limits>,
    health: Option<PathBuf>,
    window: Option<ui::AppWindow>,
) -> anyhow::Result<Started> {
    let dir = tempfile::tempdir()?;
    let hub = demo::start_hub(&dir.path().join("hub"))?;
    let data = dir.path().join("kiosk");
    let db = demo::enroll_kiosk(&hub, &data)?;
    let pictures = hub_pictures(&data, &enrolled(&db)?, 64)?;
    let sync = Background::start(Syncer::open(&db, Policy::default())?)?;
    let kiosk = Kiosk::new_in(
        window_or_new(window)?,
        &db,
        demo::HOME_STORE,
        pictures,
        system_clock(),
        Some(sync.link.clone()),
    )?;
    // Limits come only from the appliance, which is full screen.
    if let Some(limits) = limits {
        kiosk.window.window().set_fullscreen(true);
        kiosk.shell.set_limits(limits);
    }
    Ok(Started {
        kiosk,
        lang: lang.to_owned(),
        health,
        _keep: vec![Box::new(sync), Box::new(hub), Box::new(dir)],
    })
}

/// `vitrine appliance`: the kiosk image's app, set up by one settings file. Enrolls
/// with the hub on the first start (retrying while the network is not there yet), or
/// shows the demo store when the file names no hub. A kiosk not enrolled whose file
/// holds no enrollment code, but names a hub or asks for `setup_screen`, shows the
/// first-start screen ([`first_start`]) until it enrolls.
pub fn run_appliance(settings_file: &std::path::Path) -> anyhow::Result<()> {
    let settings = settings::Settings::load(settings_file).map_err(settings::Invalid)?;
    #[cfg(feature = "linuxkms")]
    {
        // SAFETY: set before any other thread of this process exists.
        unsafe { std::env::set_var("SLINT_KMS_ROTATION", settings.rotation.to_string()) };
        appliance::select_backend()?;
    }
    let data = settings::data_dir(settings_file);
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let health = Some(data.join("update-health"));
    if settings.hub.is_none() && !settings.setup_screen {
        return run_demo_with(&settings.language, Some(settings.limits()), health);
    }
    let db = data.join(crate::db::KIOSK_DB);
    let device = match enrolled(&db) {
        Ok(device) => device,
        Err(_) => match (&settings.hub, &settings.enrollment_code) {
            (Some(hub), Some(_)) => {
                let device = enroll_patiently(&db, hub, &settings)?;
                tracing::info!(store = %device.store_code, "enrolled with the hub {hub}");
                device
            }
            // No code to enroll with (or, with `setup_screen`, no hub): someone sets the
            // kiosk up on its screen.
            _ => return first_start::run(&settings, data, health),
        },
    };
    run(appliance_config(&settings, data, health, &device)?)
}

/// What an enrolled appliance runs: checked against the shop its settings name, with
/// its camera. The same after an enrollment on the first-start screen.
fn appliance_config(
    settings: &settings::Settings,
    data: PathBuf,
    health: Option<PathBuf>,
    device: &Device,
) -> anyhow::Result<Config> {
    if let Some(store) = settings.store.as_ref().filter(|store| **store != device.store_code) {
        return Err(settings::Invalid(anyhow::anyhow!(
            "this kiosk is enrolled in {}, not {store}: re-enroll it (see kiosk-image/README.md)",
            device.store_code
        ))
        .into());
    }
    let camera = settings
        .camera_spec()
        .map(|spec| crate::scan::open_source(&spec, 15.0))
        .transpose()?;
    Ok(Config {
        data,
        lang: settings.language.clone(),
        picture_cache_mib: settings.picture_cache_mib,
        camera,
        limits: settings.limits(),
        health,
    })
}

/// The first start may come before the network: tries every 15 s, telling systemd to
/// wait, until the hub takes the code. A code the hub refuses is an error at once.
fn enroll_patiently(db: &std::path::Path, hub: &str, settings: &settings::Settings) -> anyhow::Result<Device> {
    use sd_notify::NotifyState;
    let code = settings.enrollment_code.as_deref().unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    loop {
        match runtime.block_on(crate::sync::driver::enroll(db, hub, code, settings.name.as_deref())) {
            Ok(device) => return Ok(device),
            Err(e) if e.downcast_ref::<reqwest::Error>().is_some() => {
                let status = format!("waiting for the hub {hub}: {e:#}");
                tracing::warn!("{status}");
                let _ = sd_notify::notify(
                    false,
                    &[NotifyState::Status(&status), NotifyState::ExtendTimeoutUsec(60_000_000)],
                );
                std::thread::sleep(std::time::Duration::from_secs(15));
            }
            Err(e) => return Err(e.context("the hub refused the enrollment code")),
        }
    }
}
