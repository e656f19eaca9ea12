//! The kiosk's own numbers, on the headless platform: start-up to the first frame
//! (`vitrine internal probe-startup`, timed from outside by `bench::startup`), a
//! customer's code to the greeting (`vitrine bench scan`), and staff mode
//! (`vitrine bench staff`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use slint::{ComponentHandle, Model};

use super::headless::Headless;
use super::snapshot::type_demo_pin;
use crate::demo;
use crate::sync::driver::{Background, Syncer};
use crate::sync::engine::Policy;

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
pub fn startup(db: &Path, store: &str, report: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let headless = Headless::new(db, store, (1920, 1080), super::system_clock(), None)?;
    headless.kiosk.shell.start("fr");
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
pub fn scan(rounds: usize) -> anyhow::Result<Vec<String>> {
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
    headless.kiosk.shell.start("fr");
    headless.settle()?;
    let hub_db = crate::hub::open_db(&hub.data)?;
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
        headless
            .kiosk
            .shell
            .end_session(crate::protocol::measure::VisitEnd::Done);
        headless.settle()?;
    }
    let mut lines = vec![format!("rounds={rounds}")];
    lines.extend(crate::bench::spread("scan_to_greeting", samples));
    Ok(lines)
}

/// `vitrine bench staff`: on a kiosk of the demo hub's home shop, offline (no sync
/// thread), `rounds` times each: from "enter" on the keypad with the right PIN to the
/// stock screen drawn (the Argon2id check included), and from a SKU or GTIN handed to
/// the stock tool to its matrix drawn. Returns `name=value` lines.
pub fn staff(rounds: usize) -> anyhow::Result<Vec<String>> {
    use super::ui::{StaffKeypadAdapter, StaffStockAdapter};
    let dir = tempfile::tempdir()?;
    let hub = demo::start_hub(&dir.path().join("hub"))?;
    let db = demo::enroll_kiosk(&hub, &dir.path().join("kiosk"))?;
    drop(hub);
    let headless = Headless::new(&db, demo::HOME_STORE, (1280, 800), super::system_clock(), None)?;
    let shell = &headless.kiosk.shell;
    shell.start("fr");
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
    let keypad = headless.kiosk.window.global::<StaffKeypadAdapter>();
    let pin = demo::DEMO_STAFF[0].2;
    let mut pin_ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        type_demo_pin(&headless, pin)?;
        let start = Instant::now();
        keypad.invoke_pin_enter();
        headless.settle_until("staff mode", on_screen(super::UiScreen::StaffStock))?;
        headless.render()?;
        pin_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        shell.exit_staff();
        headless.settle()?;
    }

    // Staff mode again, then look-ups by SKU and by GTIN, in turn.
    type_demo_pin(&headless, pin)?;
    keypad.invoke_pin_enter();
    headless.settle_until("staff mode", on_screen(super::UiScreen::StaffStock))?;
    let codes: Vec<(String, String)> =
        crate::catalog::variant_codes(crate::catalog::Catalog::open(&db)?.connection(), "fr")?
            .into_iter()
            .map(|(sku, gtin)| (sku.clone(), gtin.unwrap_or(sku)))
            .collect();
    anyhow::ensure!(!codes.is_empty(), "the demo catalog is empty");
    let mut lookup_ms = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (sku, gtin) = &codes[(round * 7919) % codes.len()];
        let code = if round % 2 == 0 { sku } else { gtin };
        let start = Instant::now();
        shell.look_up(code);
        let (window, want) = (headless.kiosk.window.as_weak(), sku.clone());
        headless.settle_until("the matrix", move || {
            window.upgrade().is_some_and(|w| {
                let s = w.global::<StaffStockAdapter>();
                s.get_has_product() && s.get_sku() == want.as_str()
            })
        })?;
        headless.render()?;
        lookup_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let mut lines = vec![format!("rounds={rounds}")];
    lines.extend(crate::bench::spread("pin_to_staff_mode", pin_ms));
    lines.extend(crate::bench::spread("stock_lookup_offline", lookup_ms));
    Ok(lines)
}
