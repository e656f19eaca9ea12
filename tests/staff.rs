//! Staff accounts on the hub: PINs kept as Argon2id hashes, sent only to the kiosks of
//! the assistant's own shop; managed with `vitrine hub staff`.

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use vitrine::hub::staff;
use vitrine::protocol::StaffList;

use std::sync::Arc;

use slint::{ComponentHandle, Model};
use vitrine::kiosk::session::Limits;
use vitrine::kiosk::ui::{AppAdapter, Screen, StaffAdapter, StaffPinState};
use vitrine::sync::driver::Background;

use crate::cli::vitrine_with_input;
use crate::ui::{Ui, on_ui_thread};
use crate::world::{World, hub_conn};

#[test]
fn a_kiosk_gets_the_pin_hashes_of_its_own_shop_only() {
    let (world, paris) = paris_with_staff();
    let conn = hub_conn(&world.hub_data());
    let lyon = world.kiosk_at("lyon-1", "LYON", &world.hub.url());

    let (status, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&paris.token()), &json!(null));
    assert_eq!(status, 200, "{body}");
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.store_code, "PARIS");
    let names: Vec<&str> = list.staff.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Léa", "Marc"]);
    // The kiosk can check a PIN offline, and only the right one.
    let lea = &list.staff[0];
    assert!(vitrine::pin::matches("246810", &lea.pin_hash));
    assert!(!vitrine::pin::matches("135791", &lea.pin_hash));

    let (_, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&lyon.token()), &json!(null));
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.staff.len(), 1);
    assert!(!list.staff.iter().any(|s| vitrine::pin::matches("246810", &s.pin_hash)));

    // Hashes never go to the web store, nor to anyone without a credential.
    assert_eq!(
        world
            .json(Method::GET, "/v1/kiosk/staff", Some(&world.key), &json!(null))
            .0,
        403
    );
    assert_eq!(world.json(Method::GET, "/v1/kiosk/staff", None, &json!(null)).0, 401);

    // A removed assistant's hash stops going out.
    staff::remove(&conn, "PARIS", "Marc", Timestamp::now())
        .unwrap()
        .unwrap();
    let (_, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&paris.token()), &json!(null));
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.staff.len(), 1);
}

fn staff_cli(args: &[&str], stdin: &str) -> (bool, String, String) {
    vitrine_with_input(&[&["hub", "staff"], args].concat(), stdin)
}

#[test]
fn staff_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let data = data.to_str().unwrap();
    let (ok, out, err) = staff_cli(
        &["add", "--data", data, "--store", "PARIS", "--name", "Léa"],
        "246810\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("assistant Léa added to PARIS"), "{out}");
    let (ok, _, err) = staff_cli(
        &["add", "--data", data, "--store", "PARIS", "--name", "Léa"],
        "135791\n",
    );
    assert!(!ok && err.contains("already has an assistant named Léa"), "{err}");
    let (ok, _, err) = staff_cli(&["add", "--data", data, "--store", "PARIS", "--name", "Marc"], "1234\n");
    assert!(!ok && err.contains("6 to 12 digits"), "{err}");
    let (ok, out, _) = staff_cli(&["list", "--data", data], "");
    assert!(ok);
    assert!(out.starts_with("PARIS\tLéa\t"), "{out}");
    assert!(
        !out.contains("246810") && !out.contains("argon2"),
        "a list never shows PINs: {out}"
    );
    let (ok, _, err) = staff_cli(&["remove", "--data", data, "--store", "PARIS", "--name", "Léa"], "");
    assert!(ok, "{err}");
    let (ok, _, err) = staff_cli(&["remove", "--data", data, "--store", "PARIS", "--name", "Léa"], "");
    assert!(!ok && err.contains("has no assistant named Léa"), "{err}");
    assert_eq!(staff_cli(&["list", "--data", data], "").1, "");
}

/// A kiosk of PARIS that pulled its staff list from a hub with Léa and Marc (PARIS) and
/// Inès (LYON).
fn paris_with_staff() -> (World, crate::world::Kiosk) {
    let world = World::new();
    let conn = hub_conn(&world.hub_data());
    let now = Timestamp::now();
    staff::add(&conn, "PARIS", "Léa", "246810", now).unwrap().unwrap();
    staff::add(&conn, "PARIS", "Marc", "135791", now).unwrap().unwrap();
    staff::add(&conn, "LYON", "Inès", "112233", now).unwrap().unwrap();
    let paris = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    world
        .rt
        .block_on(paris.syncer(crate::world::quick_policy()).pull_catalog())
        .unwrap();
    (world, paris)
}

fn open(db: &std::path::Path) -> rusqlite::Connection {
    vitrine::db::open(db, vitrine::db::Schema::Kiosk).unwrap()
}

#[test]
fn a_pin_is_checked_offline_and_wrong_ones_lock_longer_even_after_a_restart() {
    use vitrine::sync::staff::{self as kept, Checked};
    let (world, paris) = paris_with_staff();
    let mut conn = open(&paris.db);
    let names: Vec<String> = kept::assistants(&conn).unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["Léa", "Marc"], "the shop's own assistants, and no other");
    let lea = kept::assistants(&conn).unwrap()[0].id;
    let ines = staff::id_of(&hub_conn(&world.hub_data()), "LYON", "Inès")
        .unwrap()
        .unwrap();

    // The check is offline: nothing below talks to the hub.
    // Whole seconds: the kiosk keeps times to the millisecond.
    let t0 = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    match kept::check(&mut conn, lea, "246810", t0).unwrap() {
        Checked::Welcome(a) => assert_eq!(a.name, "Léa"),
        other => panic!("the right PIN was refused: {other:?}"),
    }
    // Another shop's assistant is unknown here, whatever the PIN.
    assert_eq!(kept::check(&mut conn, ines, "112233", t0).unwrap(), Checked::Unknown);

    for left in (1..vitrine::pin::MAX_ATTEMPTS).rev() {
        assert_eq!(
            kept::check(&mut conn, lea, "000000", t0).unwrap(),
            Checked::Wrong { left }
        );
    }
    let Checked::Locked { until } = kept::check(&mut conn, lea, "000000", t0).unwrap() else {
        panic!("the keypad did not lock");
    };
    assert_eq!(until.duration_since(t0).as_secs(), 30);
    // Locked: even the right PIN is not checked.
    assert_eq!(
        kept::check(&mut conn, lea, "246810", t0).unwrap(),
        Checked::Locked { until }
    );

    // A restart keeps the lock.
    drop(conn);
    let mut conn = open(&paris.db);
    assert_eq!(kept::guard(&conn).unwrap().locked(t0), Some(until));
    // After it, one more wrong PIN locks for twice as long.
    let Checked::Locked { until: longer } = kept::check(&mut conn, lea, "000000", until).unwrap() else {
        panic!("a wrong PIN after a lock locks again");
    };
    assert_eq!(longer.duration_since(until).as_secs(), 60);
    // The right PIN after that starts the count again.
    assert!(matches!(
        kept::check(&mut conn, lea, "246810", longer).unwrap(),
        Checked::Welcome(_)
    ));
    assert_eq!(kept::guard(&conn).unwrap(), vitrine::pin::Guard::default());

    let kinds: Vec<&str> = kept::pending_events(&conn, 100)
        .unwrap()
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "login", "failure", "failure", "failure", "failure", "failure", "lockout", "failure", "lockout", "login"
        ]
    );
}

#[test]
fn staff_events_reach_the_hub_once() {
    use vitrine::sync::staff as kept;
    let (world, paris) = paris_with_staff();
    let mut conn = open(&paris.db);
    let lea = kept::assistants(&conn).unwrap()[0].id;
    let now = Timestamp::now();
    kept::check(&mut conn, lea, "999999", now).unwrap();
    kept::check(&mut conn, lea, "246810", now).unwrap();
    let events = kept::pending_events(&conn, 100).unwrap();
    assert_eq!(events.len(), 2);

    let syncer = paris.syncer(crate::world::quick_policy());
    assert_eq!(world.rt.block_on(syncer.push_staff_events()).unwrap(), 2);
    assert_eq!(kept::events_waiting(&conn).unwrap(), 0);
    // A resend (say the answer was lost) stores nothing twice.
    let body = json!({ "events": events });
    let (status, answer) = world.json(Method::POST, "/v1/kiosk/staff/events", Some(&paris.token()), &body);
    assert_eq!((status, answer["stored"].as_u64()), (200, Some(0)), "{answer}");

    let log = staff::log(&hub_conn(&world.hub_data()), Some("PARIS"), 10).unwrap();
    let lines: Vec<(&str, Option<&str>)> = log.iter().map(|l| (l.kind.as_str(), l.name.as_deref())).collect();
    assert_eq!(lines, [("failure", Some("Léa")), ("login", Some("Léa"))]);

    // Bad input gets a precise answer.
    let refusal = |events: serde_json::Value| {
        let body = json!({ "events": events });
        let (status, answer) = world.json(Method::POST, "/v1/kiosk/staff/events", Some(&paris.token()), &body);
        (status, answer["code"].as_str().unwrap_or_default().to_owned())
    };
    let event = |id: &str, kind: &str| json!({ "id": id, "at": "2026-11-23T10:00:00Z", "kind": kind });
    let too_many: Vec<_> = (0..501).map(|i| event(&format!("e{i}"), "login")).collect();
    assert_eq!(refusal(json!(too_many)), (422, "too_many_events".to_owned()));
    assert_eq!(refusal(json!([event("", "login")])), (422, "invalid_event".to_owned()));
    assert_eq!(refusal(json!([event("x", "hacked")])).0, 422);

    // Ops read the log from the command line.
    let data = world.hub_data();
    let (ok, out, err) = staff_cli(&["log", "--data", data.to_str().unwrap(), "--store", "PARIS"], "");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().last().unwrap().contains("\tlogin\tLéa"), "{out}");
}

#[test]
fn live_stock_comes_from_the_hub_with_its_age() {
    let (world, paris) = paris_with_staff();
    let sku = world.skus(1).remove(0);
    let (status, answer) = world.json(
        Method::POST,
        "/v1/kiosk/stock",
        Some(&paris.token()),
        &json!({ "skus": [sku] }),
    );
    assert_eq!(status, 200, "{answer}");
    let answer: vitrine::protocol::StockAnswer = serde_json::from_value(answer).unwrap();
    assert!(answer.as_of.is_some(), "the inventory's age");
    let shops: Vec<&str> = answer.levels.iter().map(|l| l.store_code.as_str()).collect();
    assert_eq!(shops.len(), vitrine::demo::STORES.len(), "{shops:?}");
    assert!(answer.levels.iter().all(|l| l.sku == sku));

    for bad in [
        json!({ "skus": [] }),
        json!({ "skus": vec!["A"; 201] }),
        json!({ "skus": ["\u{7}"] }),
    ] {
        let (status, answer) = world.json(Method::POST, "/v1/kiosk/stock", Some(&paris.token()), &bad);
        assert_eq!(
            (status, answer["code"].as_str()),
            (422, Some("invalid_skus")),
            "{answer}"
        );
    }
    assert_eq!(
        world
            .json(
                Method::POST,
                "/v1/kiosk/stock",
                Some(&world.key),
                &json!({ "skus": [sku] })
            )
            .0,
        403
    );
}

#[test]
fn a_badge_names_an_assistant_and_decodes() {
    let (world, _paris) = paris_with_staff();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lea.svg");
    let data = world.hub_data();
    let (ok, said, err) = staff_cli(
        &[
            "badge",
            "--data",
            data.to_str().unwrap(),
            "--store",
            "PARIS",
            "--name",
            "Léa",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(said.contains("badge of Léa"), "{said}");
    let svg = std::fs::read(&out).unwrap();
    let pixels = vitrine::kiosk::images::decode(&svg, (480, 480)).unwrap();
    let picture = image::RgbImage::from_raw(pixels.width(), pixels.height(), pixels.as_bytes().to_vec()).unwrap();
    let frame = vitrine::scan::decode::Frame::new(&image::DynamicImage::ImageRgb8(picture));
    let text = vitrine::scan::decode::read_still(&frame).expect("the badge reads").text;
    let lea = staff::id_of(&hub_conn(&data), "PARIS", "Léa").unwrap().unwrap();
    assert_eq!(vitrine::pin::parse_badge(&text), Some(lea));
}

/// This shop's figure per SKU in the demo's inventory feed.
fn feed_figures(store: &str) -> std::collections::HashMap<String, i32> {
    vitrine::demo::inventory()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f[0] == store).then(|| (f[1].to_owned(), f[2].parse().unwrap()))
        })
        .collect()
}

/// A hub with the demo's shops and Léa at the demo's home shop, and a kiosk of that
/// shop that pulled its catalog and staff list.
fn home_shop() -> (World, crate::world::Kiosk) {
    let world = World::with_config(vitrine::hub::Config {
        shops: vitrine::demo::shops(),
        ..vitrine::hub::Config::default()
    });
    let conn = hub_conn(&world.hub_data());
    staff::add(&conn, vitrine::demo::HOME_STORE, "Léa", "246810", Timestamp::now())
        .unwrap()
        .unwrap();
    let kiosk = world.kiosk("tablet");
    world
        .rt
        .block_on(kiosk.syncer(crate::world::quick_policy()).pull_catalog())
        .unwrap();
    (world, kiosk)
}

/// Nothing of staff mode left in what the screens read.
fn assert_no_staff_left(ui: &Ui) {
    let staff = ui.window().global::<StaffAdapter>();
    assert_eq!(ui.screen(), Screen::Attract);
    assert_eq!(staff.get_staff_name(), "");
    assert_eq!(staff.get_names().row_count(), 0);
    assert_eq!(staff.get_rows().row_count(), 0);
    assert_eq!(staff.get_shops().row_count(), 0);
    assert_eq!((staff.get_title(), staff.get_query()), ("".into(), "".into()));
    assert_eq!(staff.get_pin_length(), 0);
}

fn type_pin(ui: &Ui, pin: &str) {
    for digit in pin.chars() {
        ui.tap(&digit.to_string());
    }
    ui.tap("Enter");
    ui.wait_for("the PIN's check", |w| !w.global::<StaffAdapter>().get_checking());
}

#[test]
fn staff_reach_the_stock_matrix_from_the_corner_and_leave_nothing_behind() {
    let (world, kiosk) = home_shop();
    let sync = Background::start(kiosk.syncer(crate::world::quick_policy())).unwrap();
    let hub_data = world.hub_data();
    let link = sync.link.clone();
    let db = kiosk.db.clone();
    let (sku, gtin): (String, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT sku, gtin FROM variant WHERE gtin IS NOT NULL AND size IS NOT NULL ORDER BY sku LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let world = on_ui_thread(move || {
        let ui = Ui::with_sync(&db, (1280, 800), "en", Arc::new(Timestamp::now), Some(link));
        // A few taps on the corner do nothing; the fifth in a row opens the keypad.
        for _ in 0..4 {
            ui.tap("Staff access");
        }
        assert_eq!(ui.screen(), Screen::Attract);
        ui.tap("Staff access");
        assert_eq!(ui.screen(), Screen::StaffPin);
        let staff = ui.window().global::<StaffAdapter>();
        assert_eq!(staff.get_names().row_count(), 1);
        assert!(staff.get_chosen() > 0, "the only assistant is chosen");

        type_pin(&ui, "999999");
        assert_eq!(staff.get_pin_state(), StaffPinState::Wrong);
        assert_eq!(staff.get_attempts_left(), 4);
        assert_eq!(staff.get_pin_length(), 0, "a checked PIN is gone");
        type_pin(&ui, "246810");
        ui.wait_for("staff mode", |w| {
            w.global::<AppAdapter>().get_screen() == Screen::StaffStock
        });
        assert_eq!(staff.get_staff_name(), "Léa");

        // The GTIN typed on the kiosk's own keyboard, then "done".
        ui.tap("SKU, GTIN or name");
        for digit in gtin.chars() {
            ui.tap(&digit.to_string());
        }
        ui.wait_for("the GTIN's product", |w| {
            w.global::<StaffAdapter>().get_results().row_count() > 0
        });
        ui.tap("Show results");
        ui.wait_for("live figures", |w| {
            let s = w.global::<StaffAdapter>();
            s.get_has_product() && s.get_live()
        });
        assert_eq!(staff.get_sku(), sku.as_str(), "the GTIN's own variant is selected");
        assert!(staff.get_here_minutes() >= 0, "the figures' age is known");

        // The matrix is this shop's inventory feed, variant by variant.
        let here = feed_figures(vitrine::demo::HOME_STORE);
        let cells: Vec<_> = staff
            .get_rows()
            .iter()
            .flat_map(|r| r.cells.iter().collect::<Vec<_>>())
            .filter(|c| c.exists)
            .collect();
        assert!(cells.len() >= 2, "{} cells", cells.len());
        for cell in &cells {
            assert!(cell.known);
            assert_eq!(Some(&cell.quantity), here.get(cell.sku.as_str()), "{}", cell.sku);
        }
        // Other shops nearest first: from the Marais, the Opéra, then Lille, Lyon, Bordeaux.
        let shops: Vec<(String, i32)> = staff
            .get_shops()
            .iter()
            .map(|s| (s.name.to_string(), s.quantity))
            .collect();
        let names: Vec<&str> = shops.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Paris Opéra",
                "Lille Vieux-Lille",
                "Lyon Confluence",
                "Bordeaux Chartrons"
            ]
        );
        let opera = feed_figures("PARIS-OPERA");
        assert_eq!(shops[0].1, opera[&sku]);
        assert_eq!(staff.get_out_here(), here[&sku] == 0);
        if staff.get_out_here() && opera[&sku] > 0 {
            assert!(staff.get_available_at().starts_with("Paris Opéra"));
        }

        // The hub's figure changes; the kiosk has not pulled, but a new look-up is live.
        world.upload(
            "inventory",
            format!("store code\titem_id\tquantity\tavailability\nPARIS-OPERA\t{sku}\t42\tin_stock\n").into_bytes(),
            None,
        );
        ui.act(|c| c.look_up(&sku));
        ui.wait_for("the new live figure", |w| {
            w.global::<StaffAdapter>().get_shops().iter().any(|s| s.quantity == 42)
        });
        assert_eq!(staff.get_shops().row_data(0).unwrap().quantity, 42);
        let cached: i32 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT quantity FROM stock WHERE store_code = 'PARIS-OPERA' AND sku = ?1",
                [&sku],
                |r| r.get(0),
            )
            .unwrap();
        assert_ne!(cached, 42, "the kiosk's saved figure is still the old one");

        // The health screen asks the hub, and "sync now" goes at once.
        ui.tap("Kiosk health");
        ui.wait_for("the hub's answer", |w| w.global::<StaffAdapter>().get_hub_ms() >= 0);
        assert!(staff.get_sync_ok());
        assert!(staff.get_catalog_products() > 0 && staff.get_last_pull_minutes() >= 0);
        ui.tap("Sync now");
        ui.wait_for("the sync", |w| {
            w.global::<StaffAdapter>().get_action() == vitrine::kiosk::ui::StaffAction::Synced
        });
        assert_eq!(staff.get_outbox_waiting(), 0);

        // "Leave" ends staff mode; the shopper side shows nothing of it.
        ui.tap("Leave staff mode");
        assert_no_staff_left(&ui);
        ui.tap("Touch to start");
        assert_eq!(ui.screen(), Screen::Home);
        assert!(!ui.has("Leave staff mode") && !ui.has("Kiosk health"));
        world
    });

    // The login and the wrong PIN reached the hub's audit log.
    for _ in 0..300 {
        if staff::log(&hub_conn(&hub_data), None, 10).unwrap().len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let kinds: Vec<String> = staff::log(&hub_conn(&hub_data), None, 10)
        .unwrap()
        .into_iter()
        .map(|l| l.kind)
        .collect();
    assert_eq!(kinds, ["failure", "login"]);
    drop((sync, world));
}

#[test]
fn offline_the_stock_tool_shows_saved_figures_and_idling_leaves_staff_mode() {
    let (world, kiosk) = home_shop();
    let db = kiosk.db.clone();
    on_ui_thread(move || {
        // No sync thread: the kiosk works from what it saved.
        let ui = Ui::on(&db, (1280, 800), "en", Arc::new(Timestamp::now));
        ui.act(|c| {
            c.set_limits(Limits {
                idle: std::time::Duration::from_secs(1),
                warning: std::time::Duration::from_secs(1),
                max: std::time::Duration::from_secs(600),
            });
            c.scanned(&vitrine::pin::badge(1));
        });
        assert_eq!(ui.screen(), Screen::StaffPin, "a badge opens the keypad");
        let staff = ui.window().global::<StaffAdapter>();
        assert_eq!(staff.get_chosen(), 1, "on the badge's name");
        // Another shop's badge chooses nobody here (Léa, the only one, stays chosen).
        ui.act(|c| c.exit_staff());
        ui.act(|c| c.scanned(&vitrine::pin::badge(999)));
        assert_eq!((ui.screen(), staff.get_chosen()), (Screen::StaffPin, 1));
        type_pin(&ui, "246810");
        assert_eq!(ui.screen(), Screen::StaffStock);
        let sku: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT sku FROM variant ORDER BY sku LIMIT 1", [], |r| r.get(0))
            .unwrap();
        ui.act(|c| c.look_up(&sku));
        ui.wait_for("the matrix", |w| w.global::<StaffAdapter>().get_has_product());
        assert!(!staff.get_live());
        assert!(staff.get_here_minutes() >= 0, "saved figures carry their age");
        assert_eq!(staff.get_shops().row_count(), vitrine::demo::STORES.len() - 1);

        // In staff mode a product's code opens its stock; a shopper's code does nothing.
        let other: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT sku FROM variant ORDER BY sku DESC LIMIT 1", [], |r| r.get(0))
            .unwrap();
        ui.act(|c| c.scanned(&other));
        ui.wait_for("the scanned product", |w| {
            w.global::<StaffAdapter>().get_sku() == other.as_str()
        });
        ui.act(|c| c.scanned(&"7".repeat(202)));
        assert_eq!(ui.screen(), Screen::StaffStock);
        assert!(!ui.window().global::<AppAdapter>().get_signed_in());

        // The health screen works offline too.
        ui.tap("Kiosk health");
        ui.wait_for("the health figures", |w| {
            w.global::<StaffAdapter>().get_app_version() != "preview"
        });
        assert!(staff.get_catalog_products() > 0);
        assert_eq!(staff.get_camera_name(), "");

        // Left alone, staff mode warns, then goes back to the shop floor, empty.
        ui.wait_for("the idle warning", |w| w.global::<AppAdapter>().get_idle_seconds() > 0);
        ui.wait_for("the end of staff mode", |w| {
            w.global::<AppAdapter>().get_screen() == Screen::Attract
        });
        assert_no_staff_left(&ui);
    });
    drop(world);
}

#[test]
fn the_keypad_locks_counts_down_and_stays_locked_after_a_restart() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let (world, kiosk) = home_shop();
    let db = kiosk.db.clone();
    // The kiosk's clock, which the test moves on.
    let ahead = Arc::new(AtomicI64::new(0));
    let clock: vitrine::kiosk::app::Clock = {
        let ahead = ahead.clone();
        Arc::new(move || Timestamp::now() + jiff::SignedDuration::from_secs(ahead.load(Ordering::Relaxed)))
    };
    on_ui_thread(move || {
        let ui = Ui::on(&db, (1280, 800), "en", clock.clone());
        ui.act(|c| c.open_keypad(None));
        let staff = ui.window().global::<StaffAdapter>();
        for _ in 0..vitrine::pin::MAX_ATTEMPTS {
            type_pin(&ui, "999999");
        }
        assert_eq!(staff.get_pin_state(), StaffPinState::Locked);
        assert!(
            (25..=30).contains(&staff.get_locked_seconds()),
            "{}",
            staff.get_locked_seconds()
        );
        // Locked keys type nothing.
        ui.tap("2");
        assert_eq!(staff.get_pin_length(), 0);
        drop(ui);

        // A restart does not unlock.
        let ui = Ui::on(&db, (1280, 800), "en", clock);
        ui.act(|c| c.open_keypad(None));
        let staff = ui.window().global::<StaffAdapter>();
        assert!(staff.get_locked_seconds() > 0, "the lock survived the restart");
        ui.tap("2");
        assert_eq!(staff.get_pin_length(), 0);

        // Once the lock has run out, the right PIN opens staff mode.
        ahead.store(31, Ordering::Relaxed);
        ui.wait_for("the end of the lock", |w| {
            w.global::<StaffAdapter>().get_locked_seconds() == 0
        });
        type_pin(&ui, "246810");
        assert_eq!(ui.screen(), Screen::StaffStock);
    });
    drop(world);
}
