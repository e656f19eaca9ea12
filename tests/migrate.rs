//! `vitrine hub migrate`: an embedded hub with a season behind it (a catalog, kiosks,
//! wishlists, visits, orders, an erasure, staff, console accounts, a webhook), moved into
//! PostgreSQL with the real command, answers the web store, its kiosks and the console as
//! it did, and goes on from where it was. PostgreSQL whatever the suite's backend.

use std::collections::BTreeMap;

use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vitrine::hub::accounts::{Hashed, Role};
use vitrine::hub::audit::Actor;
use vitrine::hub::{self, admin};
use vitrine::protocol::{Action, WishlistPage};

use crate::console::{Browser, PASSWORD, device_token};
use crate::measurement::{around_now, consent, order, post_order, visit};
use crate::world::{World, hub_conn, keep_hub_in, quick_policy};

const SHOP: &str = vitrine::demo::HOME_STORE;

fn vitrine(args: &[&str]) -> (bool, String, String) {
    crate::cli::vitrine_with_input(args, "")
}

/// Everything the moved hub must answer as before: the web store's feeds, lists,
/// visits, orders and reports, and a kiosk's catalog, staff, settings and keys.
fn answers(world: &World, device: &str) -> BTreeMap<String, Value> {
    let (from, to) = around_now();
    let web = [
        "/v1/webstore/wishlist/changes?limit=1000".to_owned(),
        "/v1/webstore/wishlist/snapshot?limit=1000".to_owned(),
        "/v1/webstore/visits".to_owned(),
        "/v1/webstore/customers/c-anna/wishlist".to_owned(),
        "/v1/webstore/orders/o-1".to_owned(),
        "/v1/webstore/webhooks".to_owned(),
        format!("/v1/webstore/reports/shops?from={from}&to={to}"),
        format!("/v1/webstore/reports/kiosks?from={from}&to={to}"),
        format!("/v1/webstore/reports/products?from={from}&to={to}"),
        format!("/v1/webstore/reports/searches?from={from}&to={to}"),
    ];
    let kiosk = [
        "/v1/kiosk/catalog/changes",
        "/v1/kiosk/staff",
        "/v1/kiosk/settings",
        "/v1/kiosk/token-keys",
        "/v1/kiosk/erasures",
    ];
    let asked = web
        .iter()
        .map(|path| (path.as_str(), world.key.as_str()))
        .chain(kiosk.iter().map(|path| (*path, device)));
    asked
        .map(|(path, token)| {
            let url = format!("{}{path}", world.hub.url());
            let (status, mut body) = world.request(Method::GET, &url, Some(token), None, None);
            assert_eq!(status, 200, "{path}: {body}");
            // When deliveries to the (closed) endpoint began failing is the delivery
            // loop's, and it goes on while the hub is moved.
            if let Some(endpoints) = body["endpoints"].as_array_mut() {
                for endpoint in endpoints {
                    endpoint.as_object_mut().unwrap().remove("failing_since");
                }
            }
            (path.to_owned(), body)
        })
        .collect()
}

/// The web store's changes after `cursor`, and the cursor to go on from.
fn changes_after(world: &World, cursor: &str) -> (Vec<String>, String) {
    let url = format!(
        "{}/v1/webstore/wishlist/changes?limit=1000&cursor={cursor}",
        world.hub.url()
    );
    let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{body}");
    let page: WishlistPage = serde_json::from_value(body).unwrap();
    (page.changes.into_iter().map(|l| l.sku).collect(), page.next_cursor)
}

#[test]
fn an_embedded_hub_moved_to_postgres_serves_the_same_answers_and_goes_on() {
    let mut config = hub::Config::default();
    config.measurement.time_zone = Some("Europe/Paris".to_owned());
    config.webhooks.hosts_allowed = vec!["127.0.0.1".parse().unwrap()];
    let world = World::embedded(config.clone());
    let data = world.hub_data();
    // Kiosks reach the hub through the shop's one address, whichever hub is behind it.
    let proxy = vitrine::bench::proxy::Proxy::start(world.hub.addr).unwrap();
    let kiosk = world.pulled_kiosk_at("tablet", SHOP, &proxy.url());
    let (_, device) = device_token(&kiosk);
    let skus = world.skus(8);

    // A season: visits (signed in or not), consent and an order credited to one, the web
    // store's own edits, an erasure, staff, a console account, a webhook, a new token key.
    visit(&world, &kiosk, Some("c-anna"), &skus[0]);
    visit(&world, &kiosk, None, &skus[1]);
    visit(&world, &kiosk, Some("c-bruno"), &skus[2]);
    consent(&world, "c-anna", true);
    let (status, body) = post_order(&world, &order("o-1", "c-anna", Timestamp::now(), &skus[0], 2));
    assert_eq!(status, 200, "{body}");
    let ops = json!({ "stream": "web-1", "ops": [
        { "seq": 1, "hlc": vitrine::hlc::from_wall(Timestamp::now()), "owner": { "customer": "c-anna" },
          "sku": skus[3], "action": "add" }
    ]});
    let (status, body) = world.json(Method::POST, "/v1/webstore/ops", Some(&world.key), &ops);
    assert_eq!(status, 200, "{body}");
    world.erase("c-bruno");
    let now = Timestamp::now();
    {
        let conn = hub_conn(&data);
        hub::staff::add(&conn, SHOP, "Inès", "739152", now).unwrap().unwrap();
        let hashed = Hashed::new(PASSWORD).unwrap();
        admin::add_account(&conn, &Actor::Cli, "ops@chain.fr", Role::Admin, &[], &hashed, now)
            .unwrap()
            .unwrap();
    }
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/webhooks",
        Some(&world.key),
        &json!({ "url": "http://127.0.0.1:9/hook", "events": ["wishlist.changed"] }),
    );
    assert_eq!(status, 201, "{body}");
    let (ok, _, err) = vitrine(&["hub", "rotate-token-key", "--data", data.to_str().unwrap()]);
    assert!(ok, "{err}");
    let mut signed_in = Browser::signed_in(&world.hub.url(), "ops@chain.fr");

    let before = answers(&world, &device);
    let (_, cursor) = changes_after(&world, "");
    let url = vitrine::db::cluster::shared().unwrap().hub_database().unwrap();
    let from_data = data.to_str().unwrap();
    let (ok, _, err) = vitrine(&["hub", "migrate", "--from-data", from_data, "--to", &url]);
    assert!(
        !ok && err.contains("stop it first"),
        "a running hub is not moved: {err}"
    );
    let nowhere = world.dir.path().join("nowhere");
    let (ok, _, err) = vitrine(&["hub", "migrate", "--from-data", nowhere.to_str().unwrap(), "--to", &url]);
    assert!(!ok && err.contains("there is no hub database"), "{err}");
    assert!(!nowhere.exists(), "nothing is made where no hub was");

    let World {
        dir,
        hub,
        key,
        rt,
        http,
    } = world;
    drop(hub);
    // The retention sweep has taken the newest kiosk event: SQLite remembers its id.
    let sqlite = rusqlite::Connection::open(vitrine::hub::db_path(&data)).unwrap();
    sqlite
        .execute(
            "DELETE FROM kiosk_event WHERE seq = (SELECT max(seq) FROM kiosk_event)",
            [],
        )
        .unwrap();
    let handed_out: i64 = sqlite
        .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'kiosk_event'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let (ok, out, err) = vitrine(&["hub", "migrate", "--from-data", from_data, "--to", &url]);
    assert!(ok, "{err}");
    // Every table arrived whole (but what belongs to a running hub), and ids go on past
    // every one SQLite handed out.
    let postgres = hub::Place::postgres(&url).unwrap().connect().unwrap();
    let tables: Vec<String> = sqlite
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'
             AND name NOT LIKE 'product_fts%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|t: &String| !vitrine::hub::store::migrate::NOT_MOVED.contains(&t.as_str()))
        .collect();
    assert!(tables.len() > 40, "{tables:?}");
    for table in &tables {
        let count = format!("SELECT count(*) FROM {table}");
        let before: i64 = sqlite.query_row(&count, [], |r| r.get(0)).unwrap();
        let after: i64 = postgres.one(&count, vitrine::db::params![]).unwrap();
        assert_eq!(before, after, "{table}");
    }
    let next: i64 = postgres
        .one(
            "SELECT nextval(pg_get_serial_sequence('kiosk_event', 'seq'))",
            vitrine::db::params![],
        )
        .unwrap();
    assert!(
        next > handed_out,
        "kiosk_event's next id {next} was handed out before ({handed_out})"
    );
    assert!(out.lines().any(|l| l.starts_with("variant ")), "{out}");
    assert!(out.lines().last().unwrap().starts_with("moved "), "{out}");
    let (ok, _, err) = vitrine(&["hub", "migrate", "--from-data", from_data, "--to", &url]);
    assert!(
        !ok && err.contains("already holds a hub's data"),
        "a second move would mix two hubs: {err}"
    );

    // The hubs now run on PostgreSQL; the shop's address points at one of them.
    keep_hub_in(&data, Some(url.clone()));
    let hub = hub::spawn_at(&dir.path().join("hub-pg"), &hub::Place::postgres(&url).unwrap(), config).unwrap();
    proxy.set_upstream(hub.addr);
    let world = World {
        dir,
        hub,
        key,
        rt,
        http,
    };
    let after = answers(&world, &device);
    for (path, answer) in &before {
        assert_eq!(answer, &after[path], "{path} answers differently after the move");
    }

    // It goes on from where it was: the kiosk's catalog cursor finds nothing new, its
    // next edits follow the old ones in the web store's feed (ids continue past every one
    // handed out), and the console knows its accounts and sessions.
    assert_eq!(world.pull(&kiosk), 0, "the kiosk's catalog cursor continues");
    let mut inventory: Vec<String> = vitrine::demo::inventory().lines().map(str::to_owned).collect();
    let mut first: Vec<&str> = inventory[1].split('\t').collect();
    first[2..4].copy_from_slice(&["42", "in_stock"]);
    inventory[1] = first.join("\t");
    world.upload("inventory", (inventory.join("\n") + "\n").into_bytes(), None);
    assert_eq!(world.pull(&kiosk), 1, "a stock change after the move reaches the kiosk");
    let kiosk = crate::world::Kiosk {
        hub_url: world.hub.url(),
        ..kiosk
    };
    kiosk.edit("c-anna", &skus[4], Action::Add);
    world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap();
    let (new, _) = changes_after(&world, &cursor);
    assert_eq!(new, vec![skus[4].clone()], "the web store's saved cursor resumes");
    signed_in.base = world.hub.url();
    assert_eq!(
        signed_in.get("/console/fleet").status,
        StatusCode::OK,
        "a session survives the move"
    );
    let mut browser = Browser::new(&world.hub.url());
    assert_eq!(browser.sign_in("ops@chain.fr", PASSWORD).status, StatusCode::SEE_OTHER);
}
