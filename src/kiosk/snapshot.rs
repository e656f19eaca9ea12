//! The kiosk without a display: a Slint platform with the software renderer, an event
//! loop we pump ourselves, and pointer events sent as a finger would.
//!
//! Used by `vitrine snapshot`, by the start-up probe of `vitrine bench catalog`, and by
//! the UI tests. Slint keeps one event-loop proxy per process, so one thread per process
//! drives the headless kiosk.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, PointerEventButton, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model, PhysicalSize};

use super::{Kiosk, Screen, app::Clock};
use crate::demo;
use crate::sync::driver::{Background, SyncLink, Syncer};
use crate::sync::engine::Policy;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

struct Proxy(Arc<Queue>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), slint::EventLoopError> {
        Ok(())
    }

    fn invoke_from_event_loop(&self, job: Job) -> Result<(), slint::EventLoopError> {
        self.0
            .jobs
            .lock()
            .map_err(|_| slint::EventLoopError::EventLoopTerminated)?
            .push_back(job);
        self.0.ready.notify_all();
        Ok(())
    }
}

type WindowSlot = Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>;

struct HeadlessPlatform {
    window: WindowSlot,
    queue: Arc<Queue>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        *self.window.borrow_mut() = Some(window.clone());
        Ok(window)
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(Proxy(self.queue.clone())))
    }
}

thread_local! {
    static INSTALLED: RefCell<Option<(WindowSlot, Arc<Queue>)>> = const { RefCell::new(None) };
}

/// Makes this thread's Slint platform the headless one (once per thread).
fn install() -> anyhow::Result<(WindowSlot, Arc<Queue>)> {
    INSTALLED.with(|installed| {
        if let Some(pair) = &*installed.borrow() {
            return Ok(pair.clone());
        }
        let window: WindowSlot = Rc::default();
        let queue = Arc::new(Queue::default());
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            queue: queue.clone(),
        }))
        .context("another Slint platform is already in use in this process")?;
        *installed.borrow_mut() = Some((window.clone(), queue.clone()));
        Ok((window, queue))
    })
}

/// A kiosk on the headless platform.
pub struct Headless {
    pub kiosk: Kiosk,
    window: Rc<MinimalSoftwareWindow>,
    queue: Arc<Queue>,
}

impl Headless {
    pub fn new(
        db: &Path,
        store: &str,
        size: (u32, u32),
        clock: Clock,
        sync: Option<SyncLink>,
    ) -> anyhow::Result<Headless> {
        let (slot, queue) = install()?;
        let kiosk = Kiosk::new(db, store, super::demo_pictures(), clock, sync)?;
        let window = slot.borrow().clone().context("Slint created no window")?;
        window.set_size(PhysicalSize::new(size.0, size.1));
        kiosk.window.show()?;
        Ok(Headless { kiosk, window, queue })
    }

    pub fn resize(&self, size: (u32, u32)) {
        self.window.set_size(PhysicalSize::new(size.0, size.1));
    }

    /// Runs queued event-loop work and timers once; true if there was any.
    fn pump(&self) -> bool {
        let jobs: Vec<Job> = match self.queue.jobs.lock() {
            Ok(mut jobs) => jobs.drain(..).collect(),
            Err(_) => return false,
        };
        let busy = !jobs.is_empty();
        for job in jobs {
            job();
        }
        slint::platform::update_timers_and_animations();
        busy
    }

    /// Waits until `done` holds, running the event loop meanwhile.
    pub fn settle_until(&self, what: &str, done: impl Fn() -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let busy = self.pump();
            if !busy && done() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the kiosk did not settle within 30 s waiting for {what}");
            }
            if !busy && let Ok(jobs) = self.queue.jobs.lock() {
                let _ = self.queue.ready.wait_timeout(jobs, Duration::from_millis(5));
            }
        }
    }

    /// Waits until every request has been answered and is on screen.
    pub fn settle(&self) -> anyhow::Result<()> {
        let pending = self.kiosk.pending.clone();
        self.settle_until("pending work", move || pending.is_idle())
    }

    /// Renders the current frame.
    pub fn render(&self) -> anyhow::Result<slint::SharedPixelBuffer<slint::Rgba8Pixel>> {
        Ok(self.kiosk.window.window().take_snapshot()?)
    }

    /// A finger's tap at a logical position.
    pub fn tap(&self, x: f32, y: f32) {
        let position = LogicalPosition::new(x, y);
        let window = self.kiosk.window.window();
        window.dispatch_event(WindowEvent::PointerMoved { position });
        window.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerExited);
    }

    /// A finger's swipe from one logical position to another, in small steps.
    pub fn swipe(&self, from: (f32, f32), to: (f32, f32)) {
        let window = self.kiosk.window.window();
        let at = |t: f32| LogicalPosition::new(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        window.dispatch_event(WindowEvent::PointerMoved { position: at(0.0) });
        window.dispatch_event(WindowEvent::PointerPressed {
            position: at(0.0),
            button: PointerEventButton::Left,
        });
        for step in 1..=10 {
            window.dispatch_event(WindowEvent::PointerMoved {
                position: at(step as f32 / 10.0),
            });
        }
        window.dispatch_event(WindowEvent::PointerReleased {
            position: at(1.0),
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerExited);
    }

    pub fn save_png(&self, path: &Path) -> anyhow::Result<()> {
        let frame = self.render()?;
        let image = image::RgbaImage::from_raw(frame.width(), frame.height(), frame.as_bytes().to_vec())
            .context("the frame has the size it says")?;
        image
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// What `vitrine snapshot` renders.
pub struct Request {
    pub screen: Screen,
    pub sku: Option<String>,
    pub query: Option<String>,
    pub lang: String,
    pub size: (u32, u32),
    pub offline: bool,
    /// A code handed to the kiosk as if the camera read it (its answer's toast shows).
    pub scan: Option<String>,
    /// Show "Are you still there?".
    pub idle: bool,
    /// Show a code for the shopper's phone (against the demo hub).
    pub qr: Option<Qr>,
    /// Show the scan sheet, the camera seeing this picture.
    pub camera: Option<PathBuf>,
    pub out: PathBuf,
}

/// `--qr`: which code for the shopper's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Qr {
    /// "View on your phone" (on `--screen product`).
    Product,
    /// "Take my list" (on `--screen wishlist`).
    List,
    /// "Sign in with my phone".
    Pairing,
}

/// Renders one screen of the demo store to a PNG, driving the kiosk as a shopper would.
pub fn render_demo(request: &Request) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Codes for the phone and staff mode come from the hub: those snapshots run the
    // whole demo.
    let (db, _hub, sync) = match request.qr.is_some() || request.screen.is_staff() {
        false => (super::demo_catalog(dir.path())?, None, None),
        true => {
            let hub = demo::start_hub(&dir.path().join("hub"))?;
            let db = demo::enroll_kiosk(&hub, &dir.path().join("kiosk"))?;
            let sync = Background::start(Syncer::open(&db, Policy::default())?)?;
            (db, Some(hub), Some(sync))
        }
    };
    let link = sync.as_ref().map(|s| s.link.clone());
    let headless = Headless::new(&db, demo::HOME_STORE, request.size, super::system_clock(), link)?;
    show(&headless, &db, request)?;
    if request.offline {
        fail_a_push(&db)?;
        let window = headless.kiosk.window.as_weak();
        headless.settle_until("the offline banner", move || {
            window
                .upgrade()
                .is_some_and(|w| w.global::<super::ui::AppAdapter>().get_offline())
        })?;
    }
    let app = |f: fn(&super::ui::AppAdapter<'_>) -> bool| {
        let window = headless.kiosk.window.as_weak();
        move || {
            window
                .upgrade()
                .is_some_and(|w| f(&w.global::<super::ui::AppAdapter>()))
        }
    };
    if let Some(text) = &request.scan {
        headless.kiosk.controller.scanned(text);
        headless.settle_until("the scan's answer", app(|a| a.get_notice() != super::ui::Notice::None))?;
    }
    if let Some(qr) = request.qr {
        let kind = match qr {
            Qr::Product => super::ui::QrKind::Product,
            Qr::List => super::ui::QrKind::List,
            Qr::Pairing => super::ui::QrKind::Pairing,
        };
        headless
            .kiosk
            .window
            .global::<super::ui::AppAdapter>()
            .invoke_show_qr(kind);
        headless.settle_until("the code", app(|a| a.get_qr_state() != super::ui::QrState::Loading))?;
    }
    // The pictures the replay reads, kept until the screen is saved.
    let mut _held = None;
    if let Some(picture) = &request.camera {
        // The picture held in front of the camera for a few seconds.
        let held = tempfile::tempdir()?;
        let ext = picture.extension().and_then(|e| e.to_str()).unwrap_or("png");
        for i in 0..60 {
            std::fs::copy(picture, held.path().join(format!("{i:03}.{ext}")))
                .with_context(|| format!("cannot read {}", picture.display()))?;
        }
        let replay = crate::scan::source::Replay::dir(held.path(), 15.0)?;
        let scanner = crate::scan::scanner::Scanner::start(Box::new(replay), Duration::from_secs(3))?;
        headless.kiosk.attach_scanner(scanner)?;
        headless
            .kiosk
            .window
            .global::<super::ui::AppAdapter>()
            .invoke_open_scan();
        headless.settle_until("the camera's picture", app(|a| a.get_scan_preview().size().width > 0))?;
        _held = Some(held);
    }
    if request.idle {
        headless.kiosk.controller.set_limits(super::session::Limits {
            idle: std::time::Duration::ZERO,
            warning: std::time::Duration::from_secs(9),
            max: std::time::Duration::from_secs(3600),
        });
        headless.kiosk.controller.begin_visit();
        headless.settle_until("the idle warning", app(|a| a.get_idle_seconds() > 0))?;
    }
    headless.save_png(&request.out)
}

/// Enrolls the kiosk database with a hub nobody listens for and tries one push, so the
/// outbox records a real failure.
pub fn fail_a_push(db: &Path) -> anyhow::Result<()> {
    use crate::sync::{driver, engine, outbox};
    let mut catalog = crate::catalog::Catalog::open(db)?;
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let device = outbox::Device {
        hub_url: format!("http://{nowhere}"),
        device_id: 1,
        store_code: demo::HOME_STORE.to_owned(),
        token: "vtk_unreachable".to_owned(),
    };
    outbox::save_device(catalog.connection(), &device, jiff::Timestamp::now())?;
    let syncer = driver::Syncer::new(catalog, engine::Policy::default())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(syncer.push_step())?;
    Ok(())
}

/// Brings a headless kiosk to the requested screen.
pub fn show(headless: &Headless, db: &Path, request: &Request) -> anyhow::Result<()> {
    let controller = &headless.kiosk.controller;
    controller.start(&request.lang);
    headless.settle()?;
    let default_query = if request.lang == "fr" { "robe" } else { "dress" };
    match request.screen {
        Screen::Attract => {}
        Screen::Home => controller.go(super::UiScreen::Home),
        Screen::Search => {
            controller.go(super::UiScreen::Search);
            controller.type_text(request.query.as_deref().unwrap_or(default_query));
        }
        Screen::Results => match &request.query {
            Some(text) => {
                controller.type_text(text);
                controller.show_all_results();
            }
            None => {
                let first = headless
                    .kiosk
                    .window
                    .global::<super::ui::HomeAdapter>()
                    .get_categories()
                    .row_data(0);
                let path = first.context("the catalog has no categories")?.path;
                controller.open_category(&path);
            }
        },
        Screen::Product => {
            let group = match &request.sku {
                Some(sku) => {
                    let hit = crate::catalog::Catalog::open(db)?.lookup(sku)?;
                    hit.with_context(|| format!("no product has the SKU, GTIN or MPN {sku}"))?
                        .group_id
                }
                None => first_featured(headless)?,
            };
            controller.open_product(&group);
            headless.settle()?;
            if let Some(sku) = &request.sku {
                controller.choose_sku(sku);
            }
        }
        Screen::Wishlist => {
            // Three hearts tapped on the home screen's featured pieces.
            let home = headless.kiosk.window.global::<super::ui::HomeAdapter>();
            let featured = home.get_featured();
            for card in featured.iter().take(3) {
                home.invoke_toggle_saved(card.id.clone());
                headless.settle()?;
            }
            controller.go(super::UiScreen::Wishlist);
        }
        Screen::StaffPin | Screen::StaffStock | Screen::StaffHealth => {
            let staff = headless.kiosk.window.global::<super::ui::StaffAdapter>();
            let pin = demo::DEMO_STAFF[0].2;
            let typed = if request.screen == Screen::StaffPin {
                &pin[..3]
            } else {
                pin
            };
            type_demo_pin(headless, typed)?;
            if request.screen != Screen::StaffPin {
                staff.invoke_pin_enter();
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("staff mode", move || {
                    window.upgrade().is_some_and(|w| {
                        w.global::<super::ui::AppAdapter>().get_screen() == super::UiScreen::StaffStock
                    })
                })?;
            }
            if let (Screen::StaffStock, Some(text)) = (request.screen, &request.query) {
                // Typing on the stock tool's keyboard, its matches under the field.
                staff.invoke_start_typing();
                staff.invoke_typed(text.as_str().into());
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("the matches", move || {
                    window.upgrade().is_some_and(|w| {
                        let staff = w.global::<super::ui::StaffAdapter>();
                        staff.get_results().row_count() > 0 || staff.get_not_found()
                    })
                })?;
            } else if request.screen == Screen::StaffStock {
                let code = match &request.sku {
                    Some(sku) => sku.clone(),
                    None => first_featured(headless)?,
                };
                controller.look_up(&code);
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("live stock", move || {
                    window.upgrade().is_some_and(|w| {
                        let staff = w.global::<super::ui::StaffAdapter>();
                        staff.get_has_product() && staff.get_live()
                    })
                })?;
            }
            if request.screen == Screen::StaffHealth {
                staff.invoke_open_health();
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("the kiosk's health", move || {
                    window.upgrade().is_some_and(|w| {
                        let staff = w.global::<super::ui::StaffAdapter>();
                        staff.get_app_version() != "preview" && staff.get_hub_ms() >= 0
                    })
                })?;
            }
        }
    }
    headless.settle()
}

/// The first featured product's group: what a screen shows when none is named.
fn first_featured(headless: &Headless) -> anyhow::Result<String> {
    let home = headless.kiosk.window.global::<super::ui::HomeAdapter>();
    let first = home.get_featured().row_data(0);
    Ok(first.context("the catalog has no products")?.id.to_string())
}

/// Opens the staff keypad, picks the demo's first assistant and types `digits`.
fn type_demo_pin(headless: &Headless, digits: &str) -> anyhow::Result<()> {
    let staff = headless.kiosk.window.global::<super::ui::StaffAdapter>();
    headless.kiosk.controller.open_keypad(None);
    headless.settle()?;
    let name = demo::DEMO_STAFF[0].1;
    let person = staff.get_names().iter().find(|n| n.name == name);
    staff.invoke_choose(
        person
            .with_context(|| format!("{name} is not on this kiosk's staff list"))?
            .id,
    );
    for digit in digits.chars() {
        staff.invoke_pin_key(digit.to_string().into());
    }
    Ok(())
}

/// Resident and proportional memory of this process, in MiB.
fn memory_mb() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("Rss:")?, field("Pss:")?))
}

/// Starts the kiosk headless at 1920×1080 on `db`; calls `report` with `first_frame` as
/// soon as the attract screen with its featured products has rendered, then with memory
/// figures once its pictures are in.
pub fn probe_startup(db: &Path, store: &str, report: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let headless = Headless::new(db, store, (1920, 1080), super::system_clock(), None)?;
    headless.kiosk.controller.start("fr");
    let window = headless.kiosk.window.as_weak();
    headless.settle_until("the featured products", move || {
        window
            .upgrade()
            .is_some_and(|w| w.global::<super::ui::AttractAdapter>().get_featured().row_count() > 0)
    })?;
    headless.render()?;
    report("first_frame");
    let (rss, pss) = memory_mb().unwrap_or_default();
    report(&format!("first_frame_rss_mb={rss:.0}"));
    report(&format!("first_frame_pss_mb={pss:.0}"));
    headless.settle()?;
    headless.render()?;
    let (rss, pss) = memory_mb().unwrap_or_default();
    report(&format!("rss_mb={rss:.0}"));
    report(&format!("pss_mb={pss:.0}"));
    Ok(())
}

/// A phone held up to the camera: one frame, handed over at a moment the bench records.
struct HeldUp {
    frame: Option<image::DynamicImage>,
    shown_at: Arc<Mutex<Option<Instant>>>,
}

impl crate::scan::source::FrameSource for HeldUp {
    fn next_frame(&mut self) -> anyhow::Result<crate::scan::source::Next> {
        Ok(match self.frame.take() {
            Some(frame) => {
                *self.shown_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
                crate::scan::source::Next::Frame(frame)
            }
            None => crate::scan::source::Next::Ended,
        })
    }

    fn describe(&self) -> String {
        "a customer's phone".to_owned()
    }
}

/// `vitrine bench scan`: from the frame with a customer's code reaching the pipeline to
/// the kiosk's greeting drawn, `rounds` times, with the demo hub, a background sync
/// thread and the real decoder. Returns `name=value` lines.
pub fn probe_scan(rounds: usize) -> anyhow::Result<Vec<String>> {
    use crate::scan::scanner::Scanner;
    let dir = tempfile::tempdir()?;
    let hub = demo::start_hub(&dir.path().join("hub"))?;
    let db = demo::enroll_kiosk(&hub, &dir.path().join("kiosk"))?;
    let sync = Background::start(Syncer::open(&db, Policy::default())?)?;
    let headless = Headless::new(
        &db,
        demo::HOME_STORE,
        (1280, 800),
        super::system_clock(),
        Some(sync.link.clone()),
    )?;
    headless.kiosk.controller.start("fr");
    headless.settle()?;
    let hub_db = crate::db::open(&crate::hub::db_path(&hub.data), crate::db::Schema::Hub)?;
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let customer = demo::DEMO_CUSTOMERS[round % demo::DEMO_CUSTOMERS.len()];
        let minted = crate::hub::customers::mint(&hub_db, customer, "vitrine", 5, jiff::Timestamp::now())?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The phone's screen as a 720p camera sees it: the code a third of the frame wide.
        let code = qrcode::QrCode::with_error_correction_level(minted.token.as_bytes(), qrcode::EcLevel::M)?
            .render::<image::Luma<u8>>()
            .min_dimensions(300, 300)
            .build();
        let mut frame = image::GrayImage::from_pixel(1280, 720, image::Luma([90]));
        image::imageops::overlay(&mut frame, &code, 480, 200);
        let shown_at = Arc::new(Mutex::new(None));
        let source = HeldUp {
            frame: Some(image::DynamicImage::ImageLuma8(frame)),
            shown_at: shown_at.clone(),
        };
        let scanner = Scanner::start(Box::new(source), Duration::from_secs(3))?;
        let thread = headless.kiosk.attach_scanner(scanner)?;
        let window = headless.kiosk.window.as_weak();
        headless.settle_until("the greeting", move || {
            window.upgrade().is_some_and(|w| {
                let app = w.global::<super::ui::AppAdapter>();
                app.get_signed_in() && app.get_notice() == super::ui::Notice::Welcome
            })
        })?;
        headless.render()?;
        let greeted = Instant::now();
        let shown = shown_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .context("the frame was never taken")?;
        samples.push((greeted - shown).as_secs_f64() * 1000.0);
        let _ = thread.join();
        headless.kiosk.controller.end_session();
        headless.settle()?;
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Ok(vec![
        format!("rounds={rounds}"),
        format!("scan_to_greeting_ms={:.1}", at(0.5)),
        format!("scan_to_greeting_p95_ms={:.1}", at(0.95)),
        format!("scan_to_greeting_max_ms={:.1}", at(1.0)),
    ])
}

/// `vitrine bench staff`: on a kiosk of the demo hub's home shop, offline (no sync
/// thread), `rounds` times each: from "enter" on the keypad with the right PIN to the
/// stock screen drawn (the Argon2id check included), and from a SKU or GTIN handed to
/// the stock tool to its matrix drawn. Returns `name=value` lines.
pub fn probe_staff(rounds: usize) -> anyhow::Result<Vec<String>> {
    use super::ui::StaffAdapter;
    let dir = tempfile::tempdir()?;
    let hub = demo::start_hub(&dir.path().join("hub"))?;
    let db = demo::enroll_kiosk(&hub, &dir.path().join("kiosk"))?;
    drop(hub);
    let headless = Headless::new(&db, demo::HOME_STORE, (1280, 800), super::system_clock(), None)?;
    let controller = &headless.kiosk.controller;
    controller.start("fr");
    headless.settle()?;
    let window = headless.kiosk.window.as_weak();
    let on_screen = move |screen: super::UiScreen| {
        let window = window.clone();
        move || {
            window
                .upgrade()
                .is_some_and(|w| w.global::<super::ui::AppAdapter>().get_screen() == screen)
        }
    };
    let staff = headless.kiosk.window.global::<StaffAdapter>();
    let pin = demo::DEMO_STAFF[0].2;
    let mut pin_ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        type_demo_pin(&headless, pin)?;
        let start = Instant::now();
        staff.invoke_pin_enter();
        headless.settle_until("staff mode", on_screen(super::UiScreen::StaffStock))?;
        headless.render()?;
        pin_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        controller.exit_staff();
        headless.settle()?;
    }

    // Staff mode again, then look-ups by SKU and by GTIN, in turn.
    type_demo_pin(&headless, pin)?;
    staff.invoke_pin_enter();
    headless.settle_until("staff mode", on_screen(super::UiScreen::StaffStock))?;
    let codes: Vec<(String, String)> = {
        let conn = rusqlite::Connection::open(&db)?;
        let mut stmt = conn.prepare("SELECT sku, COALESCE(gtin, sku) FROM variant WHERE lang = 'fr' ORDER BY sku")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    anyhow::ensure!(!codes.is_empty(), "the demo catalog is empty");
    let mut lookup_ms = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (sku, gtin) = &codes[(round * 7919) % codes.len()];
        let code = if round % 2 == 0 { sku } else { gtin };
        let start = Instant::now();
        controller.look_up(code);
        let (window, want) = (headless.kiosk.window.as_weak(), sku.clone());
        headless.settle_until("the matrix", move || {
            window.upgrade().is_some_and(|w| {
                let s = w.global::<StaffAdapter>();
                s.get_has_product() && s.get_sku() == want.as_str()
            })
        })?;
        headless.render()?;
        lookup_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let stats = |name: &str, samples: &mut Vec<f64>| {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        vec![
            format!("{name}_ms={:.1}", at(0.5)),
            format!("{name}_p95_ms={:.1}", at(0.95)),
            format!("{name}_max_ms={:.1}", at(1.0)),
        ]
    };
    let mut lines = vec![format!("rounds={rounds}")];
    lines.extend(stats("pin_to_staff_mode", &mut pin_ms));
    lines.extend(stats("stock_lookup_offline", &mut lookup_ms));
    Ok(lines)
}
