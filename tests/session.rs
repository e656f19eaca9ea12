//! A shopper's session on the headless kiosk, with a real hub and the real scanning
//! pipeline: QR pictures replayed through the decoder sign a customer in or open a
//! product; "Done", the idle warning, the maximum and the next shopper each end the
//! session and leave nothing of the shopper in the UI models. The codes the kiosk shows
//! for the phone are read back off the rendered screen by the same decoder.

use std::sync::Arc;
use std::time::Duration;

use image::Luma;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::json;
use slint::{ComponentHandle, Model};
use vitrine::kiosk::session::Limits;
use vitrine::kiosk::ui::{AppAdapter, Notice, ProductAdapter, QrKind, QrState, Screen, SearchAdapter, WishlistAdapter};
use vitrine::scan::scanner::Scanner;
use vitrine::scan::source::Replay;
use vitrine::sync::driver::Background;

use crate::ui::{Ui, on_ui_thread};
use crate::world::{Kiosk, World, hub_conn, wait_until};

/// The hub's events of one kind: their SKU, detail and value.
fn hub_events(world: &World, kind: &str) -> Vec<(Option<String>, Option<String>, Option<i64>)> {
    hub_conn(&world.hub_data())
        .query_map(
            "SELECT sku, detail, value FROM kiosk_event WHERE kind = ?1 ORDER BY seq",
            vitrine::db::params![kind],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// A few blank frames, then `text` held up to the camera for a few frames.
fn frames(text: &str) -> tempfile::TempDir {
    frames_after(text, 2)
}

/// `blanks` frames of an empty counter, then `text` held up for six frames.
fn frames_after(text: &str, blanks: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<Luma<u8>>()
        .min_dimensions(360, 360)
        .build();
    let blank = image::GrayImage::from_pixel(code.width(), code.height(), Luma([225]));
    for i in 0..blanks + 6 {
        let frame = if i < blanks { &blank } else { &code };
        frame.save(dir.path().join(format!("{i:03}.png"))).unwrap();
    }
    dir
}

/// Replays `text` through the scanner into the kiosk.
fn show_code(ui: &Ui, text: &str) {
    let dir = frames(text);
    let scanner = Scanner::start(Box::new(Replay::dir(dir.path(), 30.0).unwrap()), Duration::from_secs(2)).unwrap();
    let thread = ui.h.kiosk.attach_scanner(scanner).unwrap();
    // The scanner has read every frame once its thread is done.
    ui.h.settle_until("every frame read", || thread.is_finished()).unwrap();
    ui.h.render().unwrap();
}

struct Shop {
    world: World,
    kiosk: Kiosk,
    sync: Background,
}

fn shop() -> Shop {
    shop_with(vitrine::hub::Config::default())
}

fn shop_with(config: vitrine::hub::Config) -> Shop {
    let world = World::with_config(config);
    let (kiosk, sync) = world.running_kiosk("tablet");
    Shop { world, kiosk, sync }
}

impl Shop {
    fn ui(&self) -> Ui {
        self.ui_with_clock(Arc::new(Timestamp::now))
    }

    fn ui_with_clock(&self, clock: vitrine::kiosk::context::Clock) -> Ui {
        let ui = Ui::with_sync(&self.kiosk.db, (1280, 800), "en", clock, Some(self.sync.link.clone()));
        ui.tap("Touch to start");
        ui
    }

    /// The kiosk's local view: rows per owner kind.
    fn local_owners(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(&self.kiosk.db).unwrap();
        let mut stmt = conn.prepare("SELECT owner_kind, owner FROM wishlist").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn wait_sent(&self) {
        wait_until("the outbox to drain", Duration::from_secs(5), || {
            self.kiosk.status().pending == 0
        });
    }
}

/// Nothing of a shopper left in the models the screens read.
fn assert_blank(ui: &Ui) {
    let w = ui.window();
    let app = w.global::<AppAdapter>();
    assert_eq!(app.get_screen(), Screen::Attract);
    assert!(!app.get_signed_in());
    assert_eq!((app.get_wishlist_count(), app.get_idle_seconds()), (0, 0));
    assert_eq!(w.global::<WishlistAdapter>().get_items().row_count(), 0);
    assert_eq!(w.global::<SearchAdapter>().get_query(), "");
    assert_eq!(w.global::<SearchAdapter>().get_results().row_count(), 0);
    assert_eq!(w.global::<ProductAdapter>().get_title(), "");
    assert_eq!(w.global::<ProductAdapter>().get_sku(), "");
}

#[test]
fn a_customer_code_signs_in_and_done_leaves_nothing() {
    on_ui_thread(|| {
        let shop = shop();
        let world = &shop.world;
        let skus = world.skus(2);
        let (status, body) = world.json(
            Method::POST,
            "/v1/webstore/ops",
            Some(&world.key),
            &json!({ "stream": "web", "ops": [{ "seq": 1, "hlc": 1 << 16, "owner": { "customer": "c-alice" },
                "sku": skus[1], "action": "add" }] }),
        );
        assert_eq!(status, 200, "{body}");
        let minted = world.mint("c-alice");

        let ui = shop.ui();
        ui.act(|c| c.type_text("robe"));
        ui.act(|c| c.save_sku(&skus[0]));
        show_code(&ui, &minted.token);
        let app = ui.window().global::<AppAdapter>();
        assert!(app.get_signed_in());
        assert_eq!(app.get_notice(), Notice::Welcome);
        assert_eq!(app.get_screen(), Screen::Wishlist);
        // What they hearted before signing in, and what they saved online.
        ui.wait_for("the online list", |w| {
            w.global::<WishlistAdapter>().get_items().row_count() == 2
        });
        assert!(ui.has("Welcome! Here is your wishlist."));

        ui.tap("I'm done");
        assert_blank(&ui);
        shop.wait_sent();
        assert!(
            !shop.local_owners().iter().any(|(kind, _)| kind == "alias"),
            "{:?}",
            shop.local_owners()
        );
        let visits = world.visits();
        assert_eq!(visits.visits.len(), 1);
        assert_eq!(visits.visits[0].customer, "c-alice");
        let state = world.hub_state();
        for sku in &skus {
            let key = (vitrine::protocol::Owner::Customer("c-alice".into()), sku.clone());
            assert_eq!(state.get(&key), Some(&true), "{sku}");
        }
    });
}

#[test]
fn refused_codes_get_a_friendly_message_and_sign_nobody_in() {
    on_ui_thread(|| {
        let shop = shop();
        // The kiosk's clock runs `ahead` seconds fast, to let a token expire.
        let ahead = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let skew = ahead.clone();
        let ui = shop.ui_with_clock(Arc::new(move || {
            Timestamp::now() + SignedDuration::from_secs(skew.load(std::sync::atomic::Ordering::Relaxed))
        }));
        let minted = shop.world.mint("c-alice");
        let alias = vitrine::token::Alias::parse(&minted.customer_alias).unwrap();
        let claims = |at| vitrine::token::Claims::new(minted.key_id, alias, "vitrine", at, 5);
        let forged = vitrine::token::mint(
            &claims(Timestamp::now()),
            &ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
        );
        show_code(&ui, &forged.unwrap());
        let app = ui.window().global::<AppAdapter>();
        assert_eq!(app.get_notice(), Notice::CodeInvalid);
        assert!(ui.has("We cannot read this code: refresh it in your app and try again."));
        assert!(!app.get_signed_in());

        let later = shop.world.mint("c-alice");
        ahead.store(20 * 60, std::sync::atomic::Ordering::Relaxed);
        ui.act(|c| c.scanned(&later.token));
        assert_eq!(app.get_notice(), Notice::CodeExpired);
        ahead.store(0, std::sync::atomic::Ordering::Relaxed);
        ui.act(|c| c.scanned(&minted.token));
        assert!(app.get_signed_in());
        ui.act(|c| c.scanned(&minted.token));
        assert_eq!(app.get_notice(), Notice::CodeUsed);
        ui.act(|c| c.scanned("WIFI:S:shop-guest;T:WPA;P:secret;;"));
        assert_eq!(app.get_notice(), Notice::CodeNotOurs);
    });
}

#[test]
fn a_used_code_stays_used_after_a_restart() {
    on_ui_thread(|| {
        let shop = shop();
        let minted = shop.world.mint("c-alice");
        let ui = shop.ui();
        ui.act(|c| c.scanned(&minted.token));
        assert!(ui.window().global::<AppAdapter>().get_signed_in());
        drop(ui);
        // The kiosk restarts (a crash, an update) while the code is still fresh.
        let ui = shop.ui();
        ui.act(|c| c.scanned(&minted.token));
        let app = ui.window().global::<AppAdapter>();
        assert_eq!(app.get_notice(), Notice::CodeUsed);
        assert!(!app.get_signed_in());
    });
}

#[test]
fn a_product_code_opens_its_sheet() {
    on_ui_thread(|| {
        let shop = shop();
        let (sku, gtin): (String, String) = hub_conn(&shop.world.hub_data())
            .query_row(
                "SELECT sku, gtin FROM variant WHERE gtin IS NOT NULL ORDER BY sku LIMIT 1 OFFSET 7",
                vitrine::db::params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let ui = shop.ui();
        show_code(&ui, &format!("https://id.example.com/01/{gtin}"));
        assert_eq!(ui.screen(), Screen::Product);
        assert_eq!(ui.window().global::<ProductAdapter>().get_sku(), sku.as_str());
        ui.act(|c| c.scanned("NO-SUCH-SKU-123"));
        assert_eq!(ui.window().global::<AppAdapter>().get_notice(), Notice::ProductNotFound);
    });
}

#[test]
fn the_next_shopper_replaces_the_previous_one() {
    on_ui_thread(|| {
        let shop = shop();
        let skus = shop.world.skus(2);
        let ui = shop.ui();
        ui.act(|c| c.scanned(&shop.world.mint("c-alice").token));
        ui.act(|c| c.save_sku(&skus[0]));
        assert_eq!(ui.wishlist().len(), 1);
        let bob = shop.world.mint("c-bob");
        ui.act(|c| c.scanned(&bob.token));
        let app = ui.window().global::<AppAdapter>();
        assert!(app.get_signed_in());
        assert!(ui.wishlist().is_empty(), "nothing of the previous shopper");
        ui.act(|c| c.save_sku(&skus[1]));
        let items = ui.wishlist();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].sku, skus[1].as_str());
        let owners = shop.local_owners();
        assert!(
            owners
                .iter()
                .all(|(kind, owner)| kind != "alias" || *owner == bob.customer_alias),
            "{owners:?}"
        );
    });
}

#[test]
fn an_idle_session_warns_then_ends_and_the_maximum_ends_any() {
    on_ui_thread(|| {
        let shop = shop();
        let skus = shop.world.skus(1);
        let ui = shop.ui();
        ui.h.kiosk.shell.set_limits(Limits {
            idle: Duration::from_millis(100),
            warning: Duration::from_secs(3),
            max: Duration::from_secs(600),
        });
        ui.tap("I'm done");
        ui.tap("Touch to start");
        ui.act(|c| c.scanned(&shop.world.mint("c-alice").token));
        ui.act(|c| c.save_sku(&skus[0]));
        ui.wait_for("the idle warning", |w| w.global::<AppAdapter>().get_idle_seconds() > 0);
        assert!(ui.has("Are you still there?"));
        ui.tap("I'm still here");
        assert_eq!(ui.window().global::<AppAdapter>().get_idle_seconds(), 0);
        assert_eq!(ui.screen(), Screen::Wishlist);
        ui.wait_for("the idle end", |w| {
            w.global::<AppAdapter>().get_screen() == Screen::Attract
        });
        assert_blank(&ui);

        ui.h.kiosk.shell.set_limits(Limits {
            idle: Duration::from_secs(600),
            warning: Duration::from_secs(10),
            max: Duration::from_millis(1500),
        });
        ui.tap("Touch to start");
        ui.act(|c| c.type_text("robe"));
        ui.wait_for("the maximum", |w| {
            w.global::<AppAdapter>().get_screen() == Screen::Attract
        });
        assert_blank(&ui);
    });
}

#[test]
fn the_scan_sheet_shows_the_camera_then_closes_on_a_read() {
    on_ui_thread(|| {
        let shop = shop();
        let sku = shop.world.skus(1).remove(0);
        let ui = shop.ui();
        ui.act(|c| c.go(Screen::Wishlist));
        assert!(!ui.has("Show my app's code"), "no camera, no button");
        // The camera sees an empty counter for two seconds, then a product's tag.
        let dir = frames_after(&sku, 60);
        let scanner = Scanner::start(Box::new(Replay::dir(dir.path(), 30.0).unwrap()), Duration::from_secs(2)).unwrap();
        let thread = ui.h.kiosk.attach_scanner(scanner).unwrap();
        ui.act(|_| ());
        ui.tap("Show my app's code");
        let app = ui.window().global::<AppAdapter>();
        assert!(app.get_scan_open());
        ui.wait_for("the camera's picture", |w| {
            w.global::<AppAdapter>().get_scan_preview().size().width > 0
        });
        assert!(ui.has("What the camera sees"));
        let wanted = sku.clone();
        ui.wait_for("the tag's product", move |w| {
            w.global::<AppAdapter>().get_screen() == Screen::Product
                && w.global::<ProductAdapter>().get_sku() == wanted.as_str()
        });
        assert!(!app.get_scan_open());
        assert_eq!(
            app.get_scan_preview().size().width,
            0,
            "no picture of the camera is kept"
        );
        ui.h.settle_until("the replay's end", || thread.is_finished()).unwrap();
    });
}

#[test]
fn scrolling_counts_as_being_there() {
    on_ui_thread(|| {
        let shop = shop();
        let ui = shop.ui();
        ui.act(|c| c.go(Screen::Home));
        ui.h.kiosk.shell.set_limits(Limits {
            idle: Duration::from_millis(1200),
            warning: Duration::from_secs(5),
            max: Duration::from_secs(600),
        });
        ui.act(|c| c.begin_visit());
        let app = ui.window().global::<AppAdapter>();
        // Browsing the home screen up and down, without tapping anything, for 3 s.
        for i in 0..10 {
            let (from, to) = if i % 2 == 0 { (600.0, 250.0) } else { (250.0, 600.0) };
            ui.h.swipe((640.0, from), (640.0, to));
            std::thread::sleep(Duration::from_millis(300));
            ui.h.settle().unwrap();
            assert_eq!(app.get_idle_seconds(), 0, "the idle warning came while scrolling");
        }
        // Hands off: the warning comes.
        ui.wait_for("the idle warning", |w| w.global::<AppAdapter>().get_idle_seconds() > 0);
        assert_eq!(app.get_screen(), Screen::Home);
    });
}

/// The code on the kiosk's screen, read off a rendered frame by the kiosk's own decoder.
fn code_on_screen(ui: &Ui) -> String {
    let pixels = ui.h.render().unwrap();
    let rgba = image::RgbaImage::from_raw(pixels.width(), pixels.height(), pixels.as_bytes().to_vec()).unwrap();
    let frame = vitrine::scan::decode::Frame::new(image::DynamicImage::ImageRgba8(rgba));
    vitrine::scan::decode::read_still(&frame)
        .expect("a readable code on screen")
        .text
}

fn query(link: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(link)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn web_store() -> vitrine::hub::Config {
    vitrine::hub::Config {
        webstore: vitrine::hub::WebStorePages {
            pair_url: Some("https://shop.example/kiosk".into()),
            list_url: Some("https://shop.example/list".into()),
        },
        ..vitrine::hub::Config::default()
    }
}

/// "Sign in with my phone" on the wishlist, once the hub said it may; waits for the code.
fn start_pairing(ui: &Ui) {
    ui.act(|c| c.go(Screen::Wishlist));
    ui.wait_for("the hub's settings", |w| w.global::<AppAdapter>().get_can_pair());
    ui.tap("Sign in with my phone");
    ui.wait_for("the pairing", |w| {
        w.global::<AppAdapter>().get_qr_state() == QrState::Ready
    });
}

#[test]
fn a_shopper_signs_in_with_their_phone() {
    on_ui_thread(|| {
        let shop = shop_with(web_store());
        let world = &shop.world;
        let ui = shop.ui();
        let sku = world.skus(1).remove(0);
        ui.act(|c| c.save_sku(&sku));
        start_pairing(&ui);
        let app = ui.window().global::<AppAdapter>();
        let code = app.get_qr_user_code().to_string();
        assert!(ui.has(&format!("Code {code}")));
        assert!(ui.has("No camera? Go to shop.example/kiosk and type:"));
        let link = code_on_screen(&ui);
        assert_eq!(
            link,
            format!("https://shop.example/kiosk?code={}", code.replace('-', ""))
        );

        // Confirming takes the shopper a while: the visit does not time out meanwhile.
        ui.act(|c| {
            c.set_limits(Limits {
                idle: Duration::ZERO,
                warning: Duration::from_secs(5),
                max: Duration::from_secs(3600),
            })
        });
        std::thread::sleep(Duration::from_millis(1100));
        ui.h.settle().unwrap();
        assert_eq!(app.get_idle_seconds(), 0);

        let (status, body) = world.json(
            Method::POST,
            &format!("/v1/webstore/pairings/{code}/approve"),
            Some(&world.key),
            &json!({ "customer": "c-alice" }),
        );
        assert_eq!(status, 204, "{body}");
        ui.wait_for("the sign-in", |w| w.global::<AppAdapter>().get_signed_in());
        assert_eq!(app.get_qr_kind(), QrKind::None);
        assert_eq!(app.get_screen(), Screen::Wishlist);
        ui.act(|c| c.end_session(vitrine::protocol::measure::VisitEnd::Done));
        shop.wait_sent();
        assert_eq!(world.visits().visits[0].customer, "c-alice");
        wait_until("the sign-in's event at the hub", Duration::from_secs(20), || {
            hub_events(world, "signed_in") == [(None, Some("phone".into()), None)]
        });
        let key = (vitrine::protocol::Owner::Customer("c-alice".into()), sku);
        assert_eq!(
            world.hub_state().get(&key),
            Some(&true),
            "the visit's heart moved into the account"
        );
    });
}

#[test]
fn an_expired_pairing_offers_a_new_code() {
    on_ui_thread(|| {
        let shop = shop_with(vitrine::hub::Config {
            pairing_seconds: 1,
            ..web_store()
        });
        let ui = shop.ui();
        start_pairing(&ui);
        let app = ui.window().global::<AppAdapter>();
        let first = app.get_qr_user_code();
        ui.wait_for("the expiry", |w| {
            w.global::<AppAdapter>().get_qr_state() == QrState::Expired
        });
        assert!(ui.has("This code has expired."));
        ui.tap("New code");
        ui.wait_for("a new pairing", |w| {
            w.global::<AppAdapter>().get_qr_state() == QrState::Ready
        });
        assert_ne!(app.get_qr_user_code(), first);
        assert_eq!(app.get_qr_kind(), QrKind::Pairing);
    });
}

#[test]
fn leaving_while_the_pairing_shows_cancels_it() {
    on_ui_thread(|| {
        let shop = shop_with(web_store());
        let ui = shop.ui();
        start_pairing(&ui);
        let code = ui.window().global::<AppAdapter>().get_qr_user_code().to_string();
        // The shopper walks away: the visit ends (as on idle, or the next shopper's code).
        ui.act(|c| c.end_session(vitrine::protocol::measure::VisitEnd::Done));
        let app = ui.window().global::<AppAdapter>();
        assert_eq!((app.get_qr_kind(), app.get_qr_user_code().as_str()), (QrKind::None, ""));
        let world = &shop.world;
        let path = format!("/v1/webstore/pairings/{code}");
        wait_until(
            "the hub to forget the pairing of a shopper who left",
            Duration::from_secs(2),
            || world.json(Method::GET, &path, Some(&world.key), &json!(null)).0 == 404,
        );
    });
}

#[test]
fn codes_to_take_a_product_or_the_list_away() {
    on_ui_thread(|| {
        let shop = shop_with(web_store());
        let ui = shop.ui();
        let skus = shop.world.skus(2);
        for sku in &skus {
            ui.act(|c| c.save_sku(sku));
        }
        ui.act(|c| c.go(Screen::Wishlist));
        ui.wait_for("the hub's settings", |w| w.global::<AppAdapter>().get_can_take_list());
        // An anonymous visit takes its list too.
        ui.tap("Take my list");
        ui.wait_for("the code", |w| {
            w.global::<AppAdapter>().get_qr_state() == QrState::Ready
        });
        let link = code_on_screen(&ui);
        assert!(link.starts_with("https://shop.example/list?"), "{link}");
        let pairs = query(&link);
        for (key, value) in [
            ("utm_source", "vitrine"),
            ("utm_medium", "kiosk"),
            ("utm_campaign", "take_my_list"),
        ] {
            assert!(pairs.contains(&(key.into(), value.into())), "{key} in {link}");
        }
        assert!(pairs.contains(&("store".into(), vitrine::demo::HOME_STORE.into())));
        let mut named: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "sku")
            .map(|(_, v)| v.clone())
            .collect();
        named.sort();
        assert_eq!(named, skus);
        ui.tap("Close");
        assert_eq!(ui.window().global::<AppAdapter>().get_qr_kind(), QrKind::None);

        ui.act(|c| c.open_saved(&skus[0]));
        ui.tap("View on your phone");
        ui.wait_for("the code", |w| {
            w.global::<AppAdapter>().get_qr_state() == QrState::Ready
        });
        let link = code_on_screen(&ui);
        assert!(link.starts_with("https://demo.vitrine.example/fr/p/"), "{link}");
        assert!(
            query(&link).contains(&("utm_campaign".into(), "view_on_phone".into())),
            "{link}"
        );
        let visit = query(&link).into_iter().find(|(k, _)| k == "visit").map(|(_, v)| v);
        assert!(visit.is_some(), "the visit, for the order's landing: {link}");
        // The end of the visit takes the code away with everything else.
        ui.act(|c| c.end_session(vitrine::protocol::measure::VisitEnd::Done));
        assert_eq!(ui.window().global::<AppAdapter>().get_qr_kind(), QrKind::None);
        assert_blank(&ui);
        let world = &shop.world;
        wait_until("the codes' events at the hub", Duration::from_secs(20), || {
            hub_events(world, "list_code_shown") == [(None, None, Some(2))]
                && hub_events(world, "product_code_shown") == [(Some(skus[0].clone()), None, None)]
        });
        let visits: Vec<String> = hub_conn(&world.hub_data())
            .query_map(
                "SELECT DISTINCT visit FROM kiosk_event WHERE kind LIKE '%code_shown'",
                vitrine::db::params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(visits, [visit.unwrap()], "the links name the visit their events do");
    });
}

#[test]
fn a_visit_is_measured_from_its_start_to_its_end_and_reaches_the_hub() {
    on_ui_thread(|| {
        let shop = shop();
        let skus = shop.world.skus(1);
        let ui = shop.ui();
        ui.act(|c| c.scanned(&shop.world.mint("c-alice").token));
        ui.act(|c| c.save_sku(&skus[0]));
        // The next shopper's code ends Alice's visit; "I'm done" ends Bob's.
        ui.act(|c| c.scanned(&shop.world.mint("c-bob").token));
        ui.tap("I'm done");
        let hub = hub_conn(&shop.world.hub_data());
        let ended = || -> Vec<(String, String)> {
            hub.query_map(
                "SELECT visit, detail FROM kiosk_event WHERE kind = 'visit_ended' ORDER BY seq",
                vitrine::db::params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        wait_until("both visits' ends at the hub", Duration::from_secs(20), || {
            ended().len() == 2
        });
        let ends = ended();
        let reasons: Vec<&str> = ends.iter().map(|(_, reason)| reason.as_str()).collect();
        assert_eq!(reasons, ["next_shopper", "done"]);
        let kinds: Vec<String> = hub
            .query_map(
                "SELECT kind FROM kiosk_event WHERE visit = ?1 ORDER BY seq",
                vitrine::db::params![&ends[0].0],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kinds, ["visit_started", "signed_in", "wishlist_added", "visit_ended"]);
        let identified: i64 = hub
            .query_row(
                "SELECT COUNT(*) FROM kiosk_visit WHERE signed_in = 1",
                vitrine::db::params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(identified, 2);
        // The kiosk keeps none of them once the hub has them.
        let conn = rusqlite::Connection::open(&shop.kiosk.db).unwrap();
        wait_until("the kiosk's events sent", Duration::from_secs(20), || {
            conn.query_row("SELECT COUNT(*) FROM event", [], |r| r.get::<_, i64>(0))
                .unwrap()
                == 0
        });
    });
}
