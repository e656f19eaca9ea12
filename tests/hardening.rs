//! The holes a hostile or unlucky world finds, each closed and kept closed: clocks from
//! the future, a snapshot that loses removals, change ids given twice, a body read
//! before its key's scope, a write job that panics.

use std::io::{Read, Write};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use vitrine::hub::store::{Place, Principal, Rules, Store};
use vitrine::protocol::{Action, Op, OpStatus, Owner, PushRequest, PushResponse, WishlistPage};
use vitrine::sync::engine::{Effects, SenderState};
use vitrine::sync::outbox;

use crate::world::World;

fn push(world: &World, stream: &str, ops: serde_json::Value) -> PushResponse {
    let body = json!({ "stream": stream, "ops": ops });
    let (status, answer) = world.json(reqwest::Method::POST, "/v1/webstore/ops", Some(&world.key), &body);
    assert_eq!(status, 200, "{answer}");
    serde_json::from_value(answer).unwrap()
}

fn op(seq: u64, hlc: u64, customer: &str, sku: &str, action: &str) -> serde_json::Value {
    json!({ "seq": seq, "hlc": hlc, "owner": { "customer": customer }, "sku": sku, "action": action })
}

fn clock_at(ahead: SignedDuration) -> u64 {
    vitrine::hlc::from_wall(Timestamp::now() + ahead)
}

#[test]
fn a_clock_from_the_future_is_refused_and_cannot_stall_anyone() {
    let world = World::new();
    let skus = world.skus(3);
    let answer = push(
        &world,
        "web-1",
        json!([
            op(1, i64::MAX as u64, "c-1", &skus[0], "add"),
            op(2, u64::MAX, "c-1", &skus[1], "add"),
            op(3, clock_at(SignedDuration::from_mins(10)), "c-1", &skus[2], "add"),
            op(4, clock_at(SignedDuration::from_mins(1)), "c-1", &skus[2], "add"),
        ]),
    );
    assert_eq!(answer.acked_seq, 4, "the stream goes on past refused ops");
    let reasons: Vec<_> = answer.results.iter().map(|r| (r.status, r.reason.clone())).collect();
    let ahead = (OpStatus::Rejected, Some("clock_ahead".to_owned()));
    assert_eq!(reasons[..3], [ahead.clone(), ahead.clone(), ahead]);
    assert_eq!(reasons[3], (OpStatus::Applied, None));
    // The hub's clock was not dragged along: it is within the skew of its own time.
    assert!(
        answer.hub_hlc <= clock_at(SignedDuration::from_mins(6)),
        "{}",
        answer.hub_hlc
    );
    let state = world.hub_state();
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(state[&(Owner::Customer("c-1".into()), skus[2].clone())]);

    // A kiosk's edit made now still wins over nothing in the future, and syncs.
    let kiosk = world.pulled_kiosk("k1");
    let syncer = kiosk.syncer(crate::world::quick_policy());
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    outbox::edit(
        catalog.connection(),
        Timestamp::now(),
        &Owner::Visit("v-1".into()),
        &skus[0],
        Action::Add,
        Some("v-1"),
    )
    .unwrap();
    world.rt.block_on(syncer.drain()).unwrap();
    assert_eq!(kiosk.status().pending, 0);
}

#[test]
fn a_kiosk_records_whatever_clock_the_hub_acknowledges_with() {
    let world = World::new();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    let conn = catalog.connection();
    let owner = Owner::Visit("v-1".into());
    let outbox::Edited::Queued { seq } =
        outbox::edit(conn, Timestamp::now(), &owner, &sku, Action::Add, Some("v-1")).unwrap()
    else {
        panic!("queued")
    };
    let effects = Effects {
        acked_through: Some(seq),
        observed_hlc: Some(u64::MAX),
        ..Effects::default()
    };
    outbox::record(conn, &SenderState::default(), &effects, || "unused".into()).unwrap();
    assert_eq!(
        outbox::status(conn).unwrap().pending,
        0,
        "the acknowledgement was recorded"
    );
    // And the next edit still gets a clock SQLite can store.
    outbox::edit(conn, Timestamp::now(), &owner, &sku, Action::Remove, Some("v-1")).unwrap();
}

/// Follows a snapshot, paging with `limit`, calling `between` after its first page, then
/// the changes feed to its end; returns the present lines it ends with.
fn follow(world: &World, limit: usize, between: impl FnOnce()) -> std::collections::BTreeSet<(Owner, String)> {
    let mut state = std::collections::BTreeMap::new();
    let mut cursor = String::new();
    let mut between = Some(between);
    for feed in ["snapshot", "changes"] {
        loop {
            let url = format!(
                "{}/v1/webstore/wishlist/{feed}?limit={limit}&cursor={cursor}",
                world.hub.url()
            );
            let (status, body) = world.request(reqwest::Method::GET, &url, Some(&world.key), None, None);
            assert_eq!(status, 200, "{body}");
            let page: WishlistPage = serde_json::from_value(body).unwrap();
            for line in page.changes {
                state.insert((line.owner, line.sku), line.present);
            }
            cursor = page.next_cursor;
            if let Some(f) = between.take() {
                f();
            }
            if !page.has_more {
                break;
            }
        }
    }
    state
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn a_snapshot_then_the_changes_feed_ends_with_exactly_the_hubs_state() {
    let world = World::new();
    let skus = world.skus(4);
    let now = clock_at(SignedDuration::ZERO);
    push(
        &world,
        "web-1",
        json!([
            op(1, now, "c-1", &skus[0], "add"),
            op(2, now + 1, "c-1", &skus[1], "add"),
            op(3, now + 2, "c-2", &skus[2], "add"),
        ]),
    );
    // While the web store pages through the snapshot, the line it got first is removed
    // and another is added.
    let followed = follow(&world, 1, || {
        push(
            &world,
            "web-1",
            json!([
                op(4, now + 3, "c-1", &skus[0], "remove"),
                op(5, now + 4, "c-2", &skus[3], "add"),
            ]),
        );
    });
    let hub: std::collections::BTreeSet<_> = world
        .hub_state()
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(followed, hub);
    assert!(!followed.contains(&(Owner::Customer("c-1".into()), skus[0].clone())));
    assert_eq!(followed.len(), 3);
}

/// A directory for a hub's file, and a runtime to await its store.
fn scratch() -> (tempfile::TempDir, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (tempfile::tempdir().unwrap(), rt)
}

#[test]
fn change_ids_only_grow_across_an_erasure_and_a_restart() {
    let (dir, rt) = scratch();
    let path = dir.path().join("hub.sqlite");
    let conn = vitrine::db::open(&path, vitrine::db::Schema::Hub).unwrap();
    conn.execute_batch(
        "INSERT INTO api_key (id, name, key_hash, scopes, created_at) VALUES (1, 'web', x'04', '', 0);
         INSERT INTO variant (lang, sku, group_id, title, description, price_minor, currency, availability, additional_images, content_hash)
         VALUES ('fr', 'S0', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0);",
    )
    .unwrap();
    let web = Principal::Key {
        id: 1,
        name: "web".into(),
        scopes: vec![],
    };
    let line = |seq: u64, customer: &str| Op {
        seq,
        hlc: vitrine::hlc::from_wall(Timestamp::now()) + seq,
        owner: Owner::Customer(customer.into()),
        sku: "S0".into(),
        action: Action::Add,
        session: None,
        token: None,
    };
    let max_id = || -> i64 {
        conn.query_row("SELECT COALESCE(MAX(change_id), 0) FROM wishlist", [], |r| r.get(0))
            .unwrap()
    };
    {
        let store = Store::open(&Place::File(path.clone()), Rules::default()).unwrap();
        let request = PushRequest {
            stream: "w".into(),
            ops: vec![line(1, "c-old"), line(2, "c-new")],
        };
        rt.block_on(store.push(web.clone(), request, Timestamp::now()))
            .unwrap()
            .unwrap();
        // The web store has read the feed up to here.
        let seen = max_id();
        assert_eq!(seen, 2);
        let erased = rt
            .block_on(store.write(|w| vitrine::hub::store::erase_customer(w.db(), "c-new", Timestamp::now())))
            .unwrap()
            .unwrap();
        assert_eq!(erased, 1);
        assert_eq!(max_id(), 1, "the newest line is gone");
    }
    std::thread::sleep(Duration::from_millis(100));
    let store = Store::open(&Place::File(path.clone()), Rules::default()).unwrap();
    let request = PushRequest {
        stream: "w".into(),
        ops: vec![line(3, "c-later")],
    };
    rt.block_on(store.push(web, request, Timestamp::now()))
        .unwrap()
        .unwrap();
    let later: i64 = conn
        .query_row("SELECT change_id FROM wishlist WHERE owner = 'c-later'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        later > 2,
        "a new line got id {later}, which the web store already passed"
    );
}

#[test]
fn a_write_job_that_panics_leaves_nothing_and_the_writer_goes_on() {
    let (dir, rt) = scratch();
    let path = dir.path().join("hub.sqlite");
    let store = Store::open(&Place::File(path.clone()), Rules::default()).unwrap();
    let panicked = rt.block_on(store.write(|w| {
        let conn = w.db();
        conn.batch("BEGIN IMMEDIATE; INSERT INTO hub_meta (key, value) VALUES ('half', 'done');")
            .unwrap();
        panic!("a bug in a write job");
    }));
    assert!(panicked.is_err(), "the caller is told the write failed");
    assert!(store.writer_alive());
    let written = rt.block_on(store.write(|w| {
        let conn = w.db();
        conn.execute(
            "INSERT INTO hub_meta (key, value) VALUES ('after', 'ok')",
            vitrine::db::params![],
        )
    }));
    assert_eq!(written.unwrap().unwrap(), 1, "the writer still writes");
    let conn = vitrine::db::open(&path, vitrine::db::Schema::Hub).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT key FROM hub_meta WHERE key IN ('half', 'after')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["after"], "the panicked job's write was rolled back");
}

#[test]
fn a_key_without_the_scope_is_refused_before_its_feed_is_read() {
    let world = World::new();
    let reader = world.key_with("reader", &[vitrine::hub::auth::Scope::WishlistRead]);
    // A 200 MB upload announced, 1 KB sent: the answer must not wait for the rest.
    let mut socket = std::net::TcpStream::connect(world.hub.addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        socket,
        "POST /v1/webstore/feeds/products?lang=fr HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {reader}\r\n\
         Content-Type: application/xml\r\nContent-Length: 200000000\r\n\r\n"
    )
    .unwrap();
    socket.write_all(&[b'<'; 1024]).unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("missing_scope") {
        let n = socket.read(&mut chunk).expect("an answer before the body was sent");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(head.contains("missing_scope"), "{head}");
}
