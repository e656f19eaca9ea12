//! The kiosk's own numbers, on the headless platform: start-up to the first frame
//! (`vitrine internal probe-startup`, timed from outside by `bench::startup`), a
//! customer's code to the greeting (`vitrine bench scan`), staff mode
//! (`vitrine bench staff`), and speech in the accessibility mode (`vitrine bench a11y`).

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

/// `vitrine bench a11y`: speech in the accessibility mode, on the demo catalog's home
/// screen (portrait), the speaker writing to a recorder paced like a sound card. Each
/// round presses the keypad's "next" key while the last item is still being said:
/// from the key (or a tap, exploring) to the first sound, and from the key to the
/// silence of what it cut short. The synthesiser alone is the baseline.
pub fn a11y(rounds: usize) -> anyhow::Result<Vec<String>> {
    use crate::speech::output::{Heard, Recorder};
    use slint::platform::{Key, WindowEvent};

    let dir = tempfile::tempdir()?;
    let db = super::demo_catalog(dir.path())?;
    let headless = Headless::new(&db, demo::HOME_STORE, (1080, 1920), super::system_clock(), None)?;
    let shell = &headless.kiosk.shell;
    shell.start("fr");
    shell.begin_visit();
    shell.go(super::UiScreen::Home);
    headless.settle()?;
    let (recorder, log) = Recorder::new();
    let recorder = Mutex::new(Some(recorder));
    let a11y = shell.a11y().clone();
    a11y.use_output(move || {
        let taken = recorder
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        Box::new(taken.unwrap_or_else(|| Recorder::new().0))
    });
    a11y.set(super::ui::A11yOption::Speech, true);
    let heard = |log: &Arc<Mutex<Vec<Heard>>>| log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let wait_for = |what: &str, from: usize, want: fn(&Heard) -> bool| -> anyhow::Result<Instant> {
        let log = log.clone();
        let found = Arc::new(Mutex::new(None));
        let seen = found.clone();
        headless.settle_until(what, move || {
            let events = heard(&log);
            let at = events.iter().skip(from).find(|h| want(h)).and_then(|h| match h {
                Heard::Sound(t) | Heard::Stopped(t) => Some(*t),
                Heard::Ended(_) => None,
            });
            *seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
            at.is_some()
        })?;
        let at = *found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        at.context("nothing heard")
    };
    // The hint and the home screen, said first.
    wait_for("the first words", 0, |h| matches!(h, Heard::Sound(_)))?;
    let window = headless.kiosk.window.window();
    let next = slint::SharedString::from(Key::DownArrow);
    let (mut key_ms, mut tap_ms, mut cut_ms) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let from = heard(&log).len();
        let pressed = Instant::now();
        window.dispatch_event(WindowEvent::KeyPressed { text: next.clone() });
        window.dispatch_event(WindowEvent::KeyReleased { text: next.clone() });
        // What was being said stops; the next item is heard.
        let stopped = wait_for("silence", from, |h| matches!(h, Heard::Stopped(_)))?;
        let sound = wait_for("the next item", from, |h| matches!(h, Heard::Sound(_)))?;
        cut_ms.push(stopped.saturating_duration_since(pressed).as_secs_f64() * 1000.0);
        key_ms.push(sound.saturating_duration_since(pressed).as_secs_f64() * 1000.0);
        // Every third round, a tap on the focused item says it again (exploring).
        if round % 3 == 2
            && let Some(item) = a11y.focused()
        {
            let [x, y, w, h] = item.rect;
            let (cx, cy) = ((x + w / 2.0).clamp(1.0, 1079.0), (y + h / 2.0).clamp(1.0, 1919.0));
            let from = heard(&log).len();
            let tapped = Instant::now();
            headless.tap(cx, cy);
            let sound = wait_for("the tapped item", from, |h| matches!(h, Heard::Sound(_)))?;
            tap_ms.push(sound.saturating_duration_since(tapped).as_secs_f64() * 1000.0);
            // Not a double tap with the next one.
            std::thread::sleep(Duration::from_millis(500));
        }
        // Into the utterance, as a shopper moves on before it ends.
        std::thread::sleep(Duration::from_millis(150));
    }
    // The baseline: the synthesiser alone, from the request to the first sound.
    let mut alone_ms = Vec::new();
    let (recorder, log) = Recorder::new();
    let speaker = crate::speech::Speaker::start(Default::default(), Box::new(recorder))?;
    for _ in 0..rounds.min(30) {
        let from = heard(&log).len();
        let asked = Instant::now();
        speaker.say(crate::speech::Utterance {
            text: "Chapeaux, bouton".into(),
            lang: crate::speech::Lang::French,
            voice: Default::default(),
        });
        let deadline = asked + Duration::from_secs(10);
        let sound = loop {
            if let Some(Heard::Sound(t)) = heard(&log).iter().skip(from).find(|h| matches!(h, Heard::Sound(_))) {
                break *t;
            }
            anyhow::ensure!(Instant::now() < deadline, "the synthesiser said nothing");
            std::thread::sleep(Duration::from_micros(200));
        };
        alone_ms.push(sound.saturating_duration_since(asked).as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut lines = vec![format!("rounds={rounds}")];
    lines.extend(crate::bench::spread("key_to_speech", key_ms));
    lines.extend(crate::bench::spread("tap_to_speech", tap_ms));
    lines.extend(crate::bench::spread("speech_cut_after_key", cut_ms));
    lines.extend(crate::bench::spread("synthesiser_alone_to_sound", alone_ms));
    Ok(lines)
}
