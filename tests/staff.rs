//! Staff accounts on the hub: PINs kept as Argon2id hashes, sent only to the kiosks of
//! the assistant's own shop; checked offline on the kiosk; managed with `vitrine hub
//! staff`. Staff mode on the kiosk's screen is `staff_mode`.

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use vitrine::hub::staff;
use vitrine::protocol::StaffList;

use crate::cli::vitrine_with_input;
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
    assert!(vitrine::staff::pin::matches("246810", &lea.pin_hash));
    assert!(!vitrine::staff::pin::matches("135791", &lea.pin_hash));

    let (_, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&lyon.token()), &json!(null));
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.staff.len(), 1);
    assert!(
        !list
            .staff
            .iter()
            .any(|s| vitrine::staff::pin::matches("246810", &s.pin_hash))
    );

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
    let paris = world.pulled_kiosk_at("paris-1", "PARIS", &world.hub.url());
    (world, paris)
}

fn open(db: &std::path::Path) -> rusqlite::Connection {
    vitrine::db::open(db, vitrine::db::Schema::Kiosk).unwrap()
}

#[test]
fn a_pin_is_checked_offline_and_wrong_ones_lock_longer_even_after_a_restart() {
    use vitrine::staff::roster::{self as kept, Checked};
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

    for left in (1..vitrine::staff::pin::MAX_ATTEMPTS).rev() {
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
    assert_eq!(kept::guard(&conn).unwrap(), vitrine::staff::pin::Guard::default());

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
    use vitrine::staff::roster as kept;
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

#[cfg(feature = "kiosk")]
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
    let pixels = vitrine::kiosk::images::decode(&svg, (480, 480), vitrine::kiosk::images::PAPER).unwrap();
    let picture = image::RgbImage::from_raw(pixels.width(), pixels.height(), pixels.as_bytes().to_vec()).unwrap();
    let frame = vitrine::scan::decode::Frame::new(image::DynamicImage::ImageRgb8(picture));
    let text = vitrine::scan::decode::read_still(&frame).expect("the badge reads").text;
    let lea = staff::id_of(&hub_conn(&data), "PARIS", "Léa").unwrap().unwrap();
    assert_eq!(vitrine::staff::pin::parse_badge(&text), Some(lea));
}
