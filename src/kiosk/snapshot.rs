//! `vitrine snapshot`: one screen of the demo store rendered to a PNG on the headless
//! platform, driven as a shopper (or an assistant) would drive it; or the first-start
//! screen of a kiosk to set up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use slint::{ComponentHandle, Model};

use super::Screen;
use super::first_start::{Options, SetupScreen};
use super::headless::{Headless, Stage};
use crate::demo;
use crate::sync::driver::{Background, Syncer};
use crate::sync::engine::Policy;

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
    /// Show the scan sheet (or the first-start screen's preview), the camera seeing this
    /// picture.
    pub camera: Option<PathBuf>,
    /// Render this kiosk (its data directory) rather than the demo store: its catalog,
    /// its shop, the brand and settings its hub last sent.
    pub kiosk: Option<PathBuf>,
    /// Accessibility settings turned on before the screen is saved.
    pub a11y: Vec<A11y>,
    pub out: PathBuf,
}

impl Request {
    /// `screen` of the demo store in `lang` at `size`, nothing else asked for.
    pub fn new(screen: Screen, lang: &str, size: (u32, u32)) -> Request {
        Request {
            screen,
            sku: None,
            query: None,
            lang: lang.to_owned(),
            size,
            offline: false,
            scan: None,
            idle: false,
            qr: None,
            camera: None,
            kiosk: None,
            a11y: Vec::new(),
            out: PathBuf::new(),
        }
    }
}

/// `--a11y`: what the accessibility mode shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum A11y {
    LargeText,
    HighContrast,
    /// Controls within reach (portrait screens).
    Reach,
    /// The accessibility panel open.
    Panel,
    /// Speech on (silent here) and the focus ring on the screen's first item.
    Speech,
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
    if request.screen == Screen::Setup {
        return render_setup(request);
    }
    let dir = tempfile::tempdir()?;
    if let Some(data) = &request.kiosk {
        let (db, store) = copy_kiosk(data, dir.path())?;
        let headless = Headless::new(&db, &store, request.size, super::system_clock(), None)?;
        show(&headless, &db, request)?;
        return headless.save_png(&request.out);
    }
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
        headless.kiosk.shell.scanned(text);
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
        let held = hold(picture)?;
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
        headless.kiosk.shell.set_limits(super::session::Limits {
            idle: std::time::Duration::ZERO,
            warning: std::time::Duration::from_secs(9),
            max: std::time::Duration::from_secs(3600),
        });
        headless.kiosk.shell.begin_visit();
        headless.settle_until("the idle warning", app(|a| a.get_idle_seconds() > 0))?;
    }
    headless.save_png(&request.out)
}

/// A copy of the kiosk database in `data` (a running kiosk may be writing it; the
/// snapshot changes nothing of it), and the shop it is enrolled in.
fn copy_kiosk(data: &Path, into: &Path) -> anyhow::Result<(PathBuf, String)> {
    let source = data.join(crate::db::KIOSK_DB);
    anyhow::ensure!(
        source.is_file(),
        "{} holds no kiosk database ({})",
        data.display(),
        crate::db::KIOSK_DB
    );
    let copy = into.join(crate::db::KIOSK_DB);
    let conn = rusqlite::Connection::open_with_flags(&source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", source.display()))?;
    conn.execute("VACUUM INTO ?1", [copy.to_string_lossy()])
        .with_context(|| format!("cannot copy {}", source.display()))?;
    drop(conn);
    let mut catalog = crate::catalog::Catalog::open(&copy)?;
    let device = crate::sync::outbox::device(catalog.connection())?
        .with_context(|| format!("the kiosk in {} is not enrolled yet", data.display()))?;
    Ok((copy, device.store_code))
}

/// The picture held in front of the camera for a few seconds: a folder for a replay.
fn hold(picture: &Path) -> anyhow::Result<tempfile::TempDir> {
    let held = tempfile::tempdir()?;
    let ext = picture.extension().and_then(|e| e.to_str()).unwrap_or("png");
    for i in 0..60 {
        std::fs::copy(picture, held.path().join(format!("{i:03}.{ext}")))
            .with_context(|| format!("cannot read {}", picture.display()))?;
    }
    Ok(held)
}

/// `--screen setup`: the first-start screen as a kiosk whose settings name no hub shows
/// it (the hub's address typed too, the demo offered). `--query` is typed into the code
/// field, the keyboard up; `--camera` is what the camera sees (an enrollment code there
/// would enroll for real).
fn render_setup(request: &Request) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let options = Options {
        db: dir.path().join(crate::db::KIOSK_DB),
        hub: None,
        name: None,
        store: None,
        lang: request.lang.clone(),
    };
    let (window, stage) = Stage::create(|| Ok(super::ui::AppWindow::new()?), request.size)?;
    let screen = SetupScreen::new(window, options, |_| {})?;
    screen.window.show()?;
    let window = &screen.window;
    let mut _held = None;
    if let Some(picture) = &request.camera {
        let held = hold(picture)?;
        screen.attach_camera(Box::new(crate::scan::source::Replay::dir(held.path(), 15.0)?))?;
        stage.settle_until("the camera's picture", || {
            window.global::<super::ui::SetupAdapter>().get_preview().size().width > 0
        })?;
        _held = Some(held);
    }
    if let Some(text) = &request.query {
        let adapter = window.global::<super::ui::SetupAdapter>();
        adapter.invoke_choose_field(super::ui::SetupField::Code);
        adapter.invoke_typed(text.as_str().into());
    }
    stage.settle_until("the screen", || true)?;
    stage.save_png(&request.out)
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
    let shell = &headless.kiosk.shell;
    shell.start(&request.lang);
    headless.settle()?;
    let default_query = if request.lang == "fr" { "robe" } else { "dress" };
    match request.screen {
        Screen::Attract => {}
        Screen::Home => shell.go(super::UiScreen::Home),
        Screen::Search => {
            shell.go(super::UiScreen::Search);
            shell.type_text(request.query.as_deref().unwrap_or(default_query));
        }
        Screen::Results => match &request.query {
            Some(text) => {
                shell.type_text(text);
                shell.show_all_results();
            }
            None => {
                let first = headless
                    .kiosk
                    .window
                    .global::<super::ui::HomeAdapter>()
                    .get_categories()
                    .row_data(0);
                let path = first.context("the catalog has no categories")?.path;
                shell.open_category(&path);
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
            shell.open_product(&group, crate::protocol::measure::ViewSource::Featured);
            headless.settle()?;
            if let Some(sku) = &request.sku {
                shell.choose_sku(sku);
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
            shell.go(super::UiScreen::Wishlist);
        }
        Screen::Setup => anyhow::bail!("the first-start screen has no kiosk behind it: see `render_setup`"),
        Screen::StaffPin | Screen::StaffStock | Screen::StaffHealth => {
            let keypad = headless.kiosk.window.global::<super::ui::StaffKeypadAdapter>();
            let stock = headless.kiosk.window.global::<super::ui::StaffStockAdapter>();
            let pin = demo::DEMO_STAFF[0].2;
            let typed = if request.screen == Screen::StaffPin {
                &pin[..3]
            } else {
                pin
            };
            type_demo_pin(headless, typed)?;
            if request.screen != Screen::StaffPin {
                keypad.invoke_pin_enter();
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("staff mode", move || {
                    window.upgrade().is_some_and(|w| {
                        w.global::<super::ui::AppAdapter>().get_screen() == super::UiScreen::StaffStock
                    })
                })?;
            }
            if let (Screen::StaffStock, Some(text)) = (request.screen, &request.query) {
                // Typing on the stock tool's keyboard, its matches under the field.
                stock.invoke_start_typing();
                stock.invoke_typed(text.as_str().into());
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("the matches", move || {
                    window.upgrade().is_some_and(|w| {
                        let stock = w.global::<super::ui::StaffStockAdapter>();
                        stock.get_results().row_count() > 0 || stock.get_not_found()
                    })
                })?;
            } else if request.screen == Screen::StaffStock {
                let code = match &request.sku {
                    Some(sku) => sku.clone(),
                    None => first_featured(headless)?,
                };
                shell.look_up(&code);
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("live stock", move || {
                    window.upgrade().is_some_and(|w| {
                        let stock = w.global::<super::ui::StaffStockAdapter>();
                        stock.get_has_product() && stock.get_live()
                    })
                })?;
            }
            if request.screen == Screen::StaffHealth {
                headless
                    .kiosk
                    .window
                    .global::<super::ui::StaffAdapter>()
                    .invoke_open_health();
                let window = headless.kiosk.window.as_weak();
                headless.settle_until("the kiosk's health", move || {
                    window.upgrade().is_some_and(|w| {
                        let health = w.global::<super::ui::StaffHealthAdapter>();
                        health.get_app_version() != "preview" && health.get_hub_ms() >= 0
                    })
                })?;
            }
        }
    }
    headless.settle()?;
    show_a11y(headless, &request.a11y)
}

fn show_a11y(headless: &Headless, settings: &[A11y]) -> anyhow::Result<()> {
    use super::ui::{A11yAdapter, A11yOption};
    let a11y = headless.kiosk.shell.a11y();
    for setting in settings {
        match setting {
            A11y::LargeText => a11y.set(A11yOption::LargeText, true),
            A11y::HighContrast => a11y.set(A11yOption::HighContrast, true),
            A11y::Reach => a11y.set(A11yOption::Reach, true),
            A11y::Panel => headless.kiosk.window.global::<A11yAdapter>().invoke_open_panel(),
            A11y::Speech => {
                a11y.use_output(|| Box::new(crate::speech::output::Recorder::new().0));
                a11y.set(A11yOption::Speech, true);
                headless.settle()?;
                a11y.key(&char::from(slint::platform::Key::DownArrow).to_string(), false);
            }
        }
        headless.settle()?;
    }
    Ok(())
}

/// The first featured product's group: what a screen shows when none is named.
pub(super) fn first_featured(headless: &Headless) -> anyhow::Result<String> {
    let home = headless.kiosk.window.global::<super::ui::HomeAdapter>();
    let first = home.get_featured().row_data(0);
    Ok(first.context("the catalog has no products")?.id.to_string())
}

/// Opens the staff keypad, picks the demo's first assistant and types `digits`.
pub(super) fn type_demo_pin(headless: &Headless, digits: &str) -> anyhow::Result<()> {
    let keypad = headless.kiosk.window.global::<super::ui::StaffKeypadAdapter>();
    headless.kiosk.shell.open_keypad(None);
    headless.settle()?;
    let name = demo::DEMO_STAFF[0].1;
    let person = keypad.get_names().iter().find(|n| n.name == name);
    keypad.invoke_choose(
        person
            .with_context(|| format!("{name} is not on this kiosk's staff list"))?
            .id,
    );
    for digit in digits.chars() {
        keypad.invoke_pin_key(digit.to_string().into());
    }
    Ok(())
}
