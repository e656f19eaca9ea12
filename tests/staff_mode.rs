//! Staff mode on the kiosk's screen: from the corner or a badge to the keypad, the stock
//! matrix against the inventory feed (live, then offline), the health screen, the lock's
//! countdown across a restart, and nothing left behind when staff mode ends.

use std::sync::Arc;

use jiff::Timestamp;
use slint::{ComponentHandle, Model};
use vitrine::hub::staff;
use vitrine::kiosk::session::Limits;
use vitrine::kiosk::ui::{
    AppAdapter, Screen, StaffAdapter, StaffHealthAdapter, StaffKeypadAdapter, StaffPinState, StaffStockAdapter,
};
use vitrine::sync::driver::Background;

use crate::ui::{Ui, on_ui_thread};
use crate::world::{World, hub_conn};

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
        shops: vitrine::demo::shops().into_iter().map(Into::into).collect(),
        ..vitrine::hub::Config::default()
    });
    let conn = hub_conn(&world.hub_data());
    staff::add(&conn, vitrine::demo::HOME_STORE, "Léa", "246810", Timestamp::now())
        .unwrap()
        .unwrap();
    let kiosk = world.pulled_kiosk("tablet");
    (world, kiosk)
}

/// Nothing of staff mode left in what the screens read.
fn assert_no_staff_left(ui: &Ui) {
    let staff = ui.window().global::<StaffAdapter>();
    let keypad = ui.window().global::<StaffKeypadAdapter>();
    let stock = ui.window().global::<StaffStockAdapter>();
    assert_eq!(ui.screen(), Screen::Attract);
    assert_eq!(staff.get_staff_name(), "");
    assert_eq!(keypad.get_names().row_count(), 0);
    assert_eq!(stock.get_rows().row_count(), 0);
    assert_eq!(stock.get_shops().row_count(), 0);
    assert_eq!((stock.get_title(), stock.get_query()), ("".into(), "".into()));
    assert_eq!(keypad.get_pin_length(), 0);
}

fn type_pin(ui: &Ui, pin: &str) {
    for digit in pin.chars() {
        ui.tap(&digit.to_string());
    }
    ui.tap("Enter");
    ui.wait_for("the PIN's check", |w| !w.global::<StaffKeypadAdapter>().get_checking());
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
        let keypad = ui.window().global::<StaffKeypadAdapter>();
        let stock = ui.window().global::<StaffStockAdapter>();
        let health = ui.window().global::<StaffHealthAdapter>();
        assert_eq!(keypad.get_names().row_count(), 1);
        assert!(keypad.get_chosen() > 0, "the only assistant is chosen");

        type_pin(&ui, "999999");
        assert_eq!(keypad.get_pin_state(), StaffPinState::Wrong);
        assert_eq!(keypad.get_attempts_left(), 4);
        assert_eq!(keypad.get_pin_length(), 0, "a checked PIN is gone");
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
            w.global::<StaffStockAdapter>().get_results().row_count() > 0
        });
        ui.tap("Show results");
        ui.wait_for("live figures", |w| {
            let s = w.global::<StaffStockAdapter>();
            s.get_has_product() && s.get_live()
        });
        assert_eq!(stock.get_sku(), sku.as_str(), "the GTIN's own variant is selected");
        assert!(stock.get_here_minutes() >= 0, "the figures' age is known");

        // The matrix is this shop's inventory feed, variant by variant.
        let here = feed_figures(vitrine::demo::HOME_STORE);
        let cells: Vec<_> = stock
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
        let shops: Vec<(String, i32)> = stock
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
        assert_eq!(stock.get_out_here(), here[&sku] == 0);
        if stock.get_out_here() && opera[&sku] > 0 {
            assert!(stock.get_available_at().starts_with("Paris Opéra"));
        }

        // The hub's figure changes; the kiosk has not pulled, but a new look-up is live.
        world.upload(
            "inventory",
            format!("store code\titem_id\tquantity\tavailability\nPARIS-OPERA\t{sku}\t42\tin_stock\n").into_bytes(),
            None,
        );
        ui.act(|c| c.look_up(&sku));
        ui.wait_for("the new live figure", |w| {
            w.global::<StaffStockAdapter>()
                .get_shops()
                .iter()
                .any(|s| s.quantity == 42)
        });
        assert_eq!(stock.get_shops().row_data(0).unwrap().quantity, 42);
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
        ui.wait_for("the hub's answer", |w| {
            w.global::<StaffHealthAdapter>().get_hub_ms() >= 0
        });
        assert!(health.get_sync_ok());
        assert!(health.get_catalog_products() > 0 && health.get_last_pull_minutes() >= 0);
        ui.tap("Sync now");
        ui.wait_for("the sync", |w| {
            w.global::<StaffHealthAdapter>().get_action() == vitrine::kiosk::ui::StaffAction::Synced
        });
        assert_eq!(health.get_outbox_waiting(), 0);

        // "Leave" ends staff mode; the shopper side shows nothing of it.
        ui.tap("Leave staff mode");
        assert_no_staff_left(&ui);
        ui.tap("Touch to start");
        assert_eq!(ui.screen(), Screen::Home);
        assert!(!ui.has("Leave staff mode") && !ui.has("Kiosk health"));
        world
    });

    // The login and the wrong PIN reached the hub's audit log.
    crate::world::wait_until("the audit events at the hub", std::time::Duration::from_secs(3), || {
        staff::log(&hub_conn(&hub_data), None, 10).unwrap().len() == 2
    });
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
            c.scanned(&vitrine::staff::pin::badge(1));
        });
        assert_eq!(ui.screen(), Screen::StaffPin, "a badge opens the keypad");
        let keypad = ui.window().global::<StaffKeypadAdapter>();
        let stock = ui.window().global::<StaffStockAdapter>();
        let health = ui.window().global::<StaffHealthAdapter>();
        assert_eq!(keypad.get_chosen(), 1, "on the badge's name");
        // Another shop's badge chooses nobody here (Léa, the only one, stays chosen).
        ui.act(|c| c.exit_staff());
        ui.act(|c| c.scanned(&vitrine::staff::pin::badge(999)));
        assert_eq!((ui.screen(), keypad.get_chosen()), (Screen::StaffPin, 1));
        type_pin(&ui, "246810");
        assert_eq!(ui.screen(), Screen::StaffStock);
        let sku: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT sku FROM variant ORDER BY sku LIMIT 1", [], |r| r.get(0))
            .unwrap();
        ui.act(|c| c.look_up(&sku));
        ui.wait_for("the matrix", |w| w.global::<StaffStockAdapter>().get_has_product());
        assert!(!stock.get_live());
        assert!(stock.get_here_minutes() >= 0, "saved figures carry their age");
        assert_eq!(stock.get_shops().row_count(), vitrine::demo::STORES.len() - 1);

        // In staff mode a product's code opens its stock; a shopper's code does nothing.
        let other: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT sku FROM variant ORDER BY sku DESC LIMIT 1", [], |r| r.get(0))
            .unwrap();
        ui.act(|c| c.scanned(&other));
        ui.wait_for("the scanned product", |w| {
            w.global::<StaffStockAdapter>().get_sku() == other.as_str()
        });
        ui.act(|c| c.scanned(&"7".repeat(202)));
        assert_eq!(ui.screen(), Screen::StaffStock);
        assert!(!ui.window().global::<AppAdapter>().get_signed_in());

        // The health screen works offline too.
        ui.tap("Kiosk health");
        ui.wait_for("the health figures", |w| {
            w.global::<StaffHealthAdapter>().get_app_version() != "preview"
        });
        assert!(health.get_catalog_products() > 0);
        assert_eq!(health.get_camera_name(), "");

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
    let clock: vitrine::kiosk::context::Clock = {
        let ahead = ahead.clone();
        Arc::new(move || Timestamp::now() + jiff::SignedDuration::from_secs(ahead.load(Ordering::Relaxed)))
    };
    on_ui_thread(move || {
        let ui = Ui::on(&db, (1280, 800), "en", clock.clone());
        ui.act(|c| c.open_keypad(None));
        let keypad = ui.window().global::<StaffKeypadAdapter>();
        for _ in 0..vitrine::staff::pin::MAX_ATTEMPTS {
            type_pin(&ui, "999999");
        }
        assert_eq!(keypad.get_pin_state(), StaffPinState::Locked);
        assert!(
            (25..=30).contains(&keypad.get_locked_seconds()),
            "{}",
            keypad.get_locked_seconds()
        );
        // Locked keys type nothing.
        ui.tap("2");
        assert_eq!(keypad.get_pin_length(), 0);
        drop(ui);

        // A restart does not unlock.
        let ui = Ui::on(&db, (1280, 800), "en", clock);
        ui.act(|c| c.open_keypad(None));
        let keypad = ui.window().global::<StaffKeypadAdapter>();
        assert!(keypad.get_locked_seconds() > 0, "the lock survived the restart");
        ui.tap("2");
        assert_eq!(keypad.get_pin_length(), 0);

        // Once the lock has run out, the right PIN opens staff mode.
        ahead.store(31, Ordering::Relaxed);
        ui.wait_for("the end of the lock", |w| {
            w.global::<StaffKeypadAdapter>().get_locked_seconds() == 0
        });
        type_pin(&ui, "246810");
        assert_eq!(ui.screen(), Screen::StaffStock);
    });
    drop(world);
}
