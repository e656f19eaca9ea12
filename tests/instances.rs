//! Several hubs on one PostgreSQL database, as a chain runs them behind a load balancer:
//! whichever hub a request reaches, the answer is the same, and nothing is lost, doubled
//! or skipped. These tests use PostgreSQL whatever the suite's backend.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use vitrine::db::{self, Sql, params};
use vitrine::hub;
use vitrine::protocol::{Action, WishlistLine, WishlistPage};
use vitrine::sync::driver::Step;

use crate::world::{World, quick_policy};

/// The web store's whole changes feed, `limit` lines a page, each page asked of the next
/// hub in turn.
fn pull_through(world: &World, hubs: &[String], limit: usize) -> Vec<WishlistLine> {
    let mut cursor = String::new();
    let mut lines = Vec::new();
    for page in 0.. {
        assert!(page < 10_000, "the feed does not end");
        let url = format!(
            "{}/v1/webstore/wishlist/changes?limit={limit}&cursor={cursor}",
            hubs[page % hubs.len()]
        );
        let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
        assert_eq!(status, 200, "{body}");
        let page: WishlistPage = serde_json::from_value(body).unwrap();
        lines.extend(page.changes);
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    lines
}

#[test]
fn a_web_store_pulling_through_either_hub_sees_the_same_feed() {
    let world = World::shared(hub::Config::default());
    let b = world.second_hub(hub::Config::default());
    let skus = world.skus(6);
    // One kiosk talks to the first hub, another to the second; the web store to both.
    let paris = world.kiosk_at("paris", vitrine::demo::HOME_STORE, &world.hub.url());
    let other = world.kiosk_at("other", vitrine::demo::HOME_STORE, &b.url());
    for (i, sku) in skus.iter().enumerate() {
        let kiosk = if i % 2 == 0 { &paris } else { &other };
        kiosk.edit(if i % 2 == 0 { "c-paris" } else { "c-other" }, sku, Action::Add);
    }
    for kiosk in [&paris, &other] {
        assert_eq!(
            world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap(),
            Step::Idle
        );
    }
    let ops = json!({ "stream": "web-1", "ops": [
        { "seq": 1, "hlc": vitrine::hlc::from_wall(jiff::Timestamp::now()), "owner": { "customer": "c-9" },
          "sku": skus[0], "action": "add" }
    ]});
    let (status, body) = world.request(
        Method::POST,
        &format!("{}/v1/webstore/ops", b.url()),
        Some(&world.key),
        Some(serde_json::to_vec(&ops).unwrap()),
        Some("application/json"),
    );
    assert_eq!(status, 200, "{body}");

    let through_a = pull_through(&world, &[world.hub.url()], 100);
    let through_b = pull_through(&world, &[b.url()], 100);
    let alternating = pull_through(&world, &[world.hub.url(), b.url()], 2);
    assert_eq!(through_a.len(), skus.len() + 1, "every line, once: {through_a:#?}");
    assert_eq!(through_a, through_b);
    assert_eq!(through_a, alternating, "a cursor from one hub is good on the other");
}

#[test]
fn a_pairing_started_on_one_hub_is_confirmed_and_collected_through_the_other() {
    let config = || hub::Config {
        webstore: hub::WebStorePages {
            pair_url: Some("https://shop.example/account/kiosk".into()),
            list_url: None,
        },
        ..hub::Config::default()
    };
    let world = World::shared(config());
    let b = world.second_hub(config());
    let kiosk = world.kiosk("tablet");
    let token = kiosk.token();
    let at = |hub: &str, path: &str| format!("{hub}{path}");
    let (status, started) = world.request(
        Method::POST,
        &at(&world.hub.url(), "/v1/kiosk/pairings"),
        Some(&token),
        None,
        None,
    );
    assert_eq!(status, 201, "{started}");
    let device_code = started["device_code"].as_str().unwrap().to_owned();
    let user_code = started["user_code"].as_str().unwrap().replace('-', "");
    let poll = |hub: &str| {
        world.request(
            Method::GET,
            &at(hub, &format!("/v1/kiosk/pairings/{device_code}")),
            Some(&token),
            None,
            None,
        )
    };
    let (status, body) = poll(&b.url());
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")), "{body}");
    // Polled again at once, on the other hub: the interval is the pairing's, not a hub's.
    assert_eq!(poll(&world.hub.url()).0, 429);

    let (status, info) = world.request(
        Method::GET,
        &at(&b.url(), &format!("/v1/webstore/pairings/{user_code}")),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!(
        (status, info["store_code"].as_str()),
        (200, Some(vitrine::demo::HOME_STORE))
    );
    let approve = json!({ "customer": "c-alice" });
    let (status, body) = world.request(
        Method::POST,
        &at(&b.url(), &format!("/v1/webstore/pairings/{user_code}/approve")),
        Some(&world.key),
        Some(serde_json::to_vec(&approve).unwrap()),
        Some("application/json"),
    );
    assert_eq!(status, 204, "{body}");
    let (status, body) = world.request(
        Method::POST,
        &at(&world.hub.url(), &format!("/v1/webstore/pairings/{user_code}/approve")),
        Some(&world.key),
        Some(serde_json::to_vec(&approve).unwrap()),
        Some("application/json"),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("pairing_decided")),
        "decided once"
    );

    std::thread::sleep(Duration::from_millis(1600));
    let (status, body) = poll(&world.hub.url());
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")), "{body}");
    assert!(body["token"].as_str().is_some_and(|t| t.len() == 202));
    let (status, _) = poll(&b.url());
    assert_eq!(status, 404, "the token is handed over once, whichever hub is asked");
}

#[test]
fn a_console_session_works_on_both_hubs() {
    let world = World::shared(hub::Config::default());
    let b = world.second_hub(hub::Config::default());
    let hashed = hub::accounts::Hashed::new(crate::console::PASSWORD).unwrap();
    hub::admin::add_account(
        &crate::world::hub_conn(&world.hub_data()),
        &hub::audit::Actor::Cli,
        "ops@chain.fr",
        hub::accounts::Role::Admin,
        &[],
        &hashed,
        jiff::Timestamp::now(),
    )
    .unwrap()
    .unwrap();
    let mut browser = crate::console::Browser::signed_in(&world.hub.url(), "ops@chain.fr");
    browser.base = b.url();
    let page = browser.get("/console/enroll");
    assert_eq!(
        page.status,
        reqwest::StatusCode::OK,
        "signed in on one hub, known on the other"
    );
    // A form token from one hub is good on the other (their keys are the database's).
    browser.base = world.hub.url();
    browser.get("/console/enroll");
    browser.base = b.url();
    let page = browser.post("/console/enroll", &[("store", vitrine::demo::HOME_STORE)]);
    assert!(
        page.status.is_success() || page.status.is_redirection(),
        "{}",
        page.body
    );
    let codes: i64 = crate::world::hub_conn(&world.hub_data())
        .one("SELECT COUNT(*) FROM enroll_code", params![])
        .unwrap();
    assert_eq!(codes, 1, "the form posted on the second hub made its code");
}

/// The kill -9 test of `sync`, with the kiosk reaching the two hubs in turn: each run of
/// the exercise goes to the other hub, and the last drain to the second.
#[test]
fn killed_at_random_points_through_alternating_hubs_nothing_is_lost_or_doubled() {
    let world = World::shared(hub::Config::default());
    let b = world.second_hub(hub::Config::default());
    let proxy = vitrine::bench::proxy::Proxy::start(world.hub.addr).unwrap();
    let kiosk = world.kiosk_at("tablet", vitrine::demo::HOME_STORE, &proxy.url());
    crate::sync::killed_at_random_points(&world, &kiosk, 60, |i| {
        proxy.set_upstream(if i % 2 == 0 { world.hub.addr } else { b.addr });
    });
}

/// Two hubs' transactions interleaved by hand: the second asks for a change id while the
/// first, which already has one, has not committed. With the feed's lock and the counter
/// (what the hub does) the second waits, so ids commit in order and a reader's cursor
/// never passes an id that commits later. The control gives ids from a PostgreSQL
/// sequence without the lock, as a naive port would: the reader skips a line for good,
/// which shows the test would see it.
#[test]
fn feed_ids_commit_in_order_across_hubs() {
    let cluster = db::cluster::shared().expect("a PostgreSQL cluster for the tests");
    for locked in [true, false] {
        let url = cluster.hub_database().unwrap();
        let config = db::pg::config(&url).unwrap();
        let (first, reader) = (db::open_postgres(&config).unwrap(), db::open_postgres(&config).unwrap());
        let (first, reader): (&dyn Sql, &dyn Sql) = (&first, &reader);
        first.batch("CREATE SEQUENCE naive_change_id START 1").unwrap();
        let seen = |after: i64| -> Vec<i64> {
            reader
                .query_map(
                    "SELECT change_id FROM wishlist WHERE change_id > ?1 ORDER BY change_id",
                    params![after],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let tx = first.begin().unwrap();
        let first_id = append(&*tx, "A", locked);
        // The second hub, on its own connection and thread: with the lock, it waits.
        let second = std::thread::spawn(move || {
            let conn = db::open_postgres(&config).unwrap();
            let conn: &dyn Sql = &conn;
            let tx = conn.begin().unwrap();
            let id = append(&*tx, "B", locked);
            tx.commit().unwrap();
            id
        });
        std::thread::sleep(Duration::from_millis(300));
        // The reader follows the feed while the first is still open.
        let early = seen(0);
        let cursor = early.last().copied().unwrap_or(0);
        tx.commit().unwrap();
        let second_id = second.join().unwrap();
        let late = seen(cursor);
        let read: Vec<i64> = early.into_iter().chain(late).collect();
        assert!(second_id > first_id, "ids grow in the order they were asked for");
        if locked {
            assert_eq!(read, vec![first_id, second_id], "the reader saw every line, in order");
        } else {
            assert_eq!(
                read,
                vec![second_id],
                "without the lock the reader passes the late line"
            );
        }
    }
}

/// A wishlist line with the next change id, in `conn`'s open transaction: as the hub's
/// writer gives it (`locked`: the feed's lock, then past every id held and recorded), or
/// from a sequence.
fn append(conn: &dyn Sql, sku: &str, locked: bool) -> i64 {
    let id: i64 = if locked {
        db::lock_feed(conn, db::FEED_LOCK_WISHLIST).unwrap();
        let id = conn
            .one(
                "SELECT GREATEST((SELECT COALESCE(MAX(change_id), 0) + 1 FROM wishlist),
                                 COALESCE((SELECT value FROM hub_counter WHERE name = 'next_change_id'), 1))",
                params![],
            )
            .unwrap();
        conn.execute(
            "INSERT INTO hub_counter (name, value) VALUES ('next_change_id', ?1)
             ON CONFLICT (name) DO UPDATE SET value = GREATEST(hub_counter.value, excluded.value)",
            params![id + 1],
        )
        .unwrap();
        id
    } else {
        conn.one("SELECT nextval('naive_change_id')", params![]).unwrap()
    };
    conn.execute(
        "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, stream, seq, channel, change_id, changed_at)
         VALUES ('customer', 'c-1', ?1, 1, 1, 's', 1, 'kiosk', ?2, 0)",
        params![sku, id],
    )
    .unwrap();
    id
}

/// The database goes away under a running hub: requests get 503 with `Retry-After`, the
/// kiosk keeps its edits and backs off, and when the database is back the hub serves
/// again on its own and the kiosk's edits arrive, once.
#[test]
fn a_hub_whose_database_goes_away_answers_503_and_recovers_on_its_own() {
    // A cluster of its own: this test stops it.
    let mut cluster = db::cluster::Cluster::start(false).expect("a PostgreSQL cluster");
    let world = World::shared_on(cluster.hub_database().unwrap(), hub::Config::default());
    let kiosk = world.kiosk("tablet");
    let syncer = kiosk.syncer(quick_policy());
    let skus = world.skus(4);
    kiosk.edit("c-away", &skus[0], Action::Add);
    assert_eq!(world.rt.block_on(syncer.drain()).unwrap(), Step::Idle);

    cluster.stop();
    let changes = format!("{}/v1/webstore/wishlist/changes", world.hub.url());
    let (status, body) = world.request(Method::GET, &changes, Some(&world.key), None, None);
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")), "{body}");
    let response = world
        .rt
        .block_on(world.http.get(&changes).bearer_auth(&world.key).send())
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key(reqwest::header::RETRY_AFTER));
    // The kiosk's edits wait on the kiosk.
    for sku in &skus[1..] {
        kiosk.edit("c-away", sku, Action::Add);
    }
    let step = world.rt.block_on(syncer.push_step()).unwrap();
    assert!(matches!(&step, Step::Sent { .. } | Step::Waiting(_)), "{step:?}");
    assert_eq!(kiosk.status().pending, 3, "nothing is lost while the hub cannot store");

    cluster.restart().unwrap();
    crate::world::wait_until("the hub serves again", Duration::from_secs(30), || {
        world.request(Method::GET, &changes, Some(&world.key), None, None).0 == 200
    });
    crate::world::wait_until("the kiosk's edits arrive", Duration::from_secs(30), || {
        world.rt.block_on(syncer.drain()).is_ok_and(|s| s == Step::Idle)
    });
    assert_eq!(world.hub_state(), kiosk.local_state(), "every edit, once");
}

#[test]
fn a_malformed_op_is_refused_alone_and_its_batch_stored() {
    // The group's reads are made before its ops are checked; a NUL byte PostgreSQL
    // cannot hold must not reach them and fail every push of the group.
    let world = World::shared(hub::Config::default());
    let sku = world.skus(1).remove(0);
    let hlc = vitrine::hlc::from_wall(jiff::Timestamp::now());
    let ops = json!({ "stream": "web-nul", "ops": [
        { "seq": 1, "hlc": hlc, "owner": { "customer": "c-1" }, "sku": sku, "action": "add" },
        { "seq": 2, "hlc": hlc + 1, "owner": { "customer": "c-1" }, "sku": "A\0B", "action": "add" },
        { "seq": 3, "hlc": hlc + 2, "owner": { "customer": "c-\0" }, "sku": sku, "action": "add" }
    ]});
    let (status, body) = world.json(Method::POST, "/v1/webstore/ops", Some(&world.key), &ops);
    assert_eq!(status, 200, "{body}");
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "rejected", "rejected"], "{body}");
    assert_eq!(world.hub_state().len(), 1);
}

/// A managed PostgreSQL speaks TLS and may refuse anything else. The hub reads libpq's
/// `sslmode` and `sslrootcert`; a certificate that does not prove what the mode asks is
/// refused before any query, in words that name the cause.
#[test]
fn the_database_is_reached_over_tls_as_sslmode_asks() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Vitrine test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &rcgen::Issuer::new(ca, ca_key))
        .unwrap();
    let mut cluster = db::cluster::Cluster::start(false).unwrap();
    cluster.require_tls(&server.pem(), &server_key.serialize_pem()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();

    let base = cluster.url("postgres");
    let url = |host: &str, query: &str| format!("{}?{query}", base.replace("127.0.0.1", host));
    let encrypted = |url: &str| -> Result<bool, String> {
        let target = db::pg::config(url)?;
        let conn = db::pg::Client::connect(&target).map_err(|e| db::pg::explain(&e))?;
        let conn: &dyn Sql = &conn;
        conn.one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params![])
            .map_err(|e| e.to_string())
    };
    let ca = ca_file.display();
    let checked = format!("sslrootcert={ca}");
    assert_eq!(
        encrypted(&url("localhost", &format!("sslmode=verify-full&{checked}"))),
        Ok(true)
    );
    assert_eq!(
        encrypted(&url("127.0.0.1", &format!("sslmode=verify-ca&{checked}"))),
        Ok(true)
    );
    assert_eq!(encrypted(&url("127.0.0.1", "sslmode=require")), Ok(true));
    assert_eq!(
        encrypted(&url("127.0.0.1", "")),
        Ok(true),
        "prefer, the default, encrypts when offered"
    );

    let wrong_name = encrypted(&url("127.0.0.1", &format!("sslmode=verify-full&{checked}"))).unwrap_err();
    assert!(wrong_name.to_lowercase().contains("not valid for name"), "{wrong_name}");
    // The system's CAs (or none, on a machine without them) do not know the test CA.
    let unknown_ca = encrypted(&url("localhost", "sslmode=verify-full")).unwrap_err();
    assert!(
        unknown_ca.contains("UnknownIssuer") || unknown_ca.contains("no trusted certificates"),
        "{unknown_ca}"
    );
    let other_key = rcgen::KeyPair::generate().unwrap();
    let mut other = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    other.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_file = dir.path().join("other-ca.pem");
    std::fs::write(&other_file, other.self_signed(&other_key).unwrap().pem()).unwrap();
    let other = format!("sslmode=require&sslrootcert={}", other_file.display());
    let unknown_ca = encrypted(&url("localhost", &other)).unwrap_err();
    assert!(
        unknown_ca.contains("UnknownIssuer"),
        "require with a CA file checks the chain: {unknown_ca}"
    );
    let plain = encrypted(&url("127.0.0.1", "sslmode=disable")).unwrap_err();
    assert!(plain.contains("pg_hba.conf"), "{plain}");

    // A hub's store on that server: migrated and written over TLS.
    let place = hub::Place::postgres(&url("localhost", &format!("sslmode=verify-full&{checked}"))).unwrap();
    let conn = place.connect().unwrap();
    let key = hub::store::create_key(&conn, "web", &[], jiff::Timestamp::now()).unwrap();
    assert!(key.starts_with("vws_"), "{key}");
}
