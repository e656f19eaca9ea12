//! The first-start screen, headless, against a real hub: a kiosk enrolls from the QR
//! code the console shows (a real picture through the camera's stand-in and the real
//! decoder), and a wrong code typed on its keyboard gets the hub's refusal in words.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use i_slint_backend_testing::ElementHandle;
use image::Luma;
use slint::ComponentHandle;
use vitrine::catalog::Catalog;
use vitrine::hub::audit::Actor;
use vitrine::kiosk::first_start::{Options, Outcome, SetupScreen};
use vitrine::kiosk::headless::Stage;
use vitrine::kiosk::ui::{AppAdapter, AppWindow, Screen, SetupAdapter, SetupField, SetupProblem};
use vitrine::protocol::EnrollLink;

use crate::ui::on_ui_thread;

/// A hub on loopback, and a one-time code for the shop PARIS made as the console makes it.
fn hub_with_code(dir: &Path) -> (vitrine::hub::Running, String) {
    let data = dir.join("hub");
    let hub = vitrine::hub::spawn(&data).unwrap();
    let conn = vitrine::hub::open_db(&data).unwrap();
    let code = vitrine::hub::admin::create_enroll_code(&conn, &Actor::Cli, "PARIS", jiff::Timestamp::now()).unwrap();
    (hub, code)
}

/// Where the kiosk keeps its database, not enrolled yet.
fn kiosk_db(dir: &Path) -> PathBuf {
    let data = dir.join("kiosk");
    std::fs::create_dir_all(&data).unwrap();
    data.join(vitrine::db::KIOSK_DB)
}

type Done = Rc<RefCell<Option<Outcome>>>;

/// The screen on the headless platform, in English, on a kiosk's window with no kiosk
/// on it yet; `done` gets how it ended.
fn setup_screen(db: &Path, hub: Option<String>, done: &Done) -> (Rc<SetupScreen>, Stage) {
    let done = done.clone();
    let options = Options {
        db: db.to_owned(),
        hub,
        name: Some("entrance".into()),
        store: None,
        lang: "en".into(),
    };
    let (window, stage) = Stage::create(|| Ok(AppWindow::new()?), (1280, 800)).unwrap();
    let screen = SetupScreen::new(window, options, move |outcome| *done.borrow_mut() = Some(outcome)).unwrap();
    screen.window.show().unwrap();
    assert_eq!(screen.window.global::<AppAdapter>().get_screen(), Screen::Setup);
    stage.settle_until("the screen", || true).unwrap();
    (screen, stage)
}

/// Taps the element labelled `label` (the tallest, so a field rather than the words
/// above it, a key rather than its letter).
fn tap(stage: &Stage, window: &AppWindow, label: &str) {
    let element = ElementHandle::find_by_accessible_label(window, label)
        .filter(|e| e.size().width > 0.0)
        .max_by(|a, b| a.size().height.total_cmp(&b.size().height))
        .unwrap_or_else(|| panic!("no element labelled {label:?}"));
    let (p, s) = (element.absolute_position(), element.size());
    stage.tap(p.x + s.width / 2.0, p.y + s.height / 2.0);
    stage.settle_until("the tap", || true).unwrap();
}

fn shows(window: &AppWindow, text: &str) -> bool {
    ElementHandle::find_by_accessible_label(window, text).next().is_some()
}

fn enrolled(db: &Path) -> anyhow::Result<vitrine::sync::outbox::Device> {
    vitrine::sync::driver::enrolled(&mut Catalog::open(db)?)
}

#[test]
fn a_kiosk_enrolls_from_the_qr_code_the_console_shows() {
    on_ui_thread(|| {
        let dir = tempfile::tempdir().unwrap();
        let (hub, code) = hub_with_code(dir.path());
        let link = EnrollLink {
            code,
            hub_url: hub.url(),
        };
        // The console's QR code held in front of the camera for a few seconds.
        let camera = dir.path().join("camera");
        std::fs::create_dir_all(&camera).unwrap();
        let picture = qrcode::QrCode::new(link.text().as_bytes())
            .unwrap()
            .render::<Luma<u8>>()
            .min_dimensions(400, 400)
            .build();
        for i in 0..60 {
            picture.save(camera.join(format!("{i:03}.png"))).unwrap();
        }
        let db = kiosk_db(dir.path());
        assert!(enrolled(&db).is_err());

        // No hub in kiosk.toml: the QR code's is the one.
        let done = Done::default();
        let (screen, stage) = setup_screen(&db, None, &done);
        let replay = vitrine::scan::source::Replay::dir(&camera, 15.0).unwrap();
        screen.attach_camera(Box::new(replay)).unwrap();
        assert!(screen.window.global::<SetupAdapter>().get_has_camera());
        // Read and enrolled with no tap.
        stage
            .settle_until("the enrollment", || done.borrow().is_some())
            .unwrap();
        let outcome = done.borrow_mut().take();
        let Some(Outcome::Enrolled(device)) = outcome else {
            panic!("the screen ended without enrolling")
        };
        assert_eq!(
            (device.store_code.as_str(), device.hub_url.as_str()),
            ("PARIS", hub.url().as_str())
        );
        let saved = enrolled(&db).unwrap();
        assert_eq!(
            (saved.store_code.as_str(), saved.device_id),
            ("PARIS", device.device_id)
        );
    });
}

#[test]
fn a_wrong_code_typed_on_the_kiosks_keyboard_is_refused_in_words() {
    on_ui_thread(|| {
        let dir = tempfile::tempdir().unwrap();
        let (hub, _code) = hub_with_code(dir.path());
        let db = kiosk_db(dir.path());
        let done = Done::default();
        // kiosk.toml names the hub: only the code is typed, and no demo is offered.
        let (screen, stage) = setup_screen(&db, Some(hub.url()), &done);
        let window = &screen.window;
        let adapter = window.global::<SetupAdapter>();
        assert!(!shows(window, "Hub address") && !shows(window, "Try the demo store"));

        tap(&stage, window, "Enrollment code");
        assert_eq!(adapter.get_field(), SetupField::Code, "the keyboard is up");
        for key in ["w", "x", "y", "z", "-", "2", "3", "4", "5"] {
            tap(&stage, window, key);
        }
        assert_eq!(adapter.get_code(), "WXYZ-2345");
        tap(&stage, window, "Enroll");
        stage
            .settle_until("the hub's answer", || {
                !adapter.get_busy() && adapter.get_problem() != SetupProblem::None
            })
            .unwrap();
        assert_eq!(adapter.get_problem(), SetupProblem::UnknownCode);
        assert!(shows(
            window,
            "The hub does not know this code: check it, or create a new one in the console."
        ));
        assert!(done.borrow().is_none() && enrolled(&db).is_err());

        // A QR code that is not an enrollment code says so.
        adapter.invoke_scanned("https://shop.example.com/p/robe-lina?variant=12".into());
        stage.settle_until("the screen", || true).unwrap();
        assert_eq!(adapter.get_problem(), SetupProblem::NotACode);
        assert!(shows(window, "This is not an enrollment code."));
    });
}

#[test]
fn a_hub_that_does_not_answer_is_named_with_the_network_to_check() {
    on_ui_thread(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = kiosk_db(dir.path());
        // A port nobody listens on.
        let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let done = Done::default();
        let (screen, stage) = setup_screen(&db, None, &done);
        let window = &screen.window;
        let adapter = window.global::<SetupAdapter>();
        assert!(
            shows(window, "Try the demo store"),
            "no hub in kiosk.toml: the demo is offered"
        );

        adapter.invoke_enroll();
        assert_eq!(adapter.get_problem(), SetupProblem::NoCode);
        adapter.invoke_choose_field(SetupField::Code);
        adapter.invoke_typed("ABCD-EFGH-JKMN".into());
        adapter.invoke_enroll();
        assert_eq!(adapter.get_problem(), SetupProblem::NoHub);
        adapter.invoke_choose_field(SetupField::Hub);
        adapter.invoke_typed(format!("http://{nowhere}").into());
        adapter.invoke_enroll();
        stage
            .settle_until("the attempt", || {
                !adapter.get_busy() && adapter.get_problem() != SetupProblem::None
            })
            .unwrap();
        assert_eq!(adapter.get_problem(), SetupProblem::Unreachable);
        let expected = format!("Cannot reach the hub at http://{nowhere}; check the network.");
        assert!(shows(window, &expected), "{expected}");
        assert!(done.borrow().is_none() && enrolled(&db).is_err());
    });
}

/// `vitrine snapshot --screen setup`, in both languages and shapes, the keyboard up once.
#[test]
fn the_setup_screen_renders_for_a_snapshot() {
    on_ui_thread(|| {
        let dir = tempfile::tempdir().unwrap();
        for (lang, size, query) in [
            ("fr", (1280, 800), None),
            ("en", (1080, 1920), None),
            ("fr", (1920, 1080), Some("ABCD")),
        ] {
            let out = dir.path().join(format!("setup-{lang}-{}.png", size.0));
            vitrine::kiosk::snapshot::render_demo(&vitrine::kiosk::snapshot::Request {
                query: query.map(str::to_owned),
                out: out.clone(),
                ..vitrine::kiosk::snapshot::Request::new(vitrine::kiosk::Screen::Setup, lang, size)
            })
            .unwrap();
            let png = image::open(&out).unwrap();
            assert_eq!((png.width(), png.height()), size, "{lang}");
        }
    });
}
