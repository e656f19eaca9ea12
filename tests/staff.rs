//! Staff accounts on the hub: PINs kept as Argon2id hashes, sent only to the kiosks of
//! the assistant's own shop; managed with `vitrine hub staff`.

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use vitrine::hub::staff;
use vitrine::protocol::StaffList;

use crate::cli::vitrine_with_input;
use crate::world::{World, hub_conn};

#[test]
fn a_kiosk_gets_the_pin_hashes_of_its_own_shop_only() {
    let world = World::new();
    let conn = hub_conn(&world.hub_data());
    let now = Timestamp::now();
    staff::add(&conn, "PARIS", "Léa", "246810", now).unwrap().unwrap();
    staff::add(&conn, "PARIS", "Marc", "135791", now).unwrap().unwrap();
    staff::add(&conn, "LYON", "Inès", "112233", now).unwrap().unwrap();
    let paris = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let lyon = world.kiosk_at("lyon-1", "LYON", &world.hub.url());

    let (status, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&paris.token()), &json!(null));
    assert_eq!(status, 200, "{body}");
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.store_code, "PARIS");
    let names: Vec<&str> = list.staff.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Léa", "Marc"]);
    // The kiosk can check a PIN offline, and only the right one.
    let lea = &list.staff[0];
    assert!(staff::pin_matches("246810", &lea.pin_hash));
    assert!(!staff::pin_matches("135791", &lea.pin_hash));

    let (_, body) = world.json(Method::GET, "/v1/kiosk/staff", Some(&lyon.token()), &json!(null));
    let list: StaffList = serde_json::from_value(body).unwrap();
    assert_eq!(list.staff.len(), 1);
    assert!(!list.staff.iter().any(|s| staff::pin_matches("246810", &s.pin_hash)));

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
