//! A kiosk does for a customer only what a signed-in visit lets it, and keeps nothing of
//! them after: the credential's reach (the token the hub checks, the visit it grants)
//! and the kiosk's memory (the visit's end, refused ops, erasures), read in the SQLite
//! files themselves.

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use vitrine::protocol::{Action, MintResponse, Owner, PushResponse};
use vitrine::sync::outbox;

use crate::world::{Kiosk, World, quick_policy};

fn push(world: &World, kiosk: &Kiosk, stream: &str, ops: serde_json::Value) -> PushResponse {
    let (status, body) = world.json(
        Method::POST,
        "/v1/kiosk/ops",
        Some(&kiosk.token()),
        &json!({ "stream": stream, "ops": ops }),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

fn now() -> u64 {
    vitrine::hlc::from_wall(Timestamp::now())
}

fn sign_in(seq: u64, minted: &MintResponse, visit: &str, token: Option<&str>) -> serde_json::Value {
    let mut op = json!({ "seq": seq, "hlc": now() + seq, "owner": { "alias": minted.customer_alias },
        "sku": "", "action": "sign_in", "session": visit });
    if let Some(token) = token {
        op["token"] = json!(token);
    }
    op
}

fn add(seq: u64, owner: serde_json::Value, sku: &str, visit: Option<&str>) -> serde_json::Value {
    json!({ "seq": seq, "hlc": now() + seq, "owner": owner, "sku": sku, "action": "add", "session": visit })
}

fn reasons(answer: &PushResponse) -> Vec<Option<String>> {
    answer.results.iter().map(|r| r.reason.clone()).collect()
}

#[test]
fn a_kiosk_writes_a_customers_list_only_in_a_visit_their_token_signed_in() {
    let world = World::new();
    let (kiosk, other) = (world.kiosk("k1"), world.kiosk("k2"));
    let sku = world.skus(1).remove(0);
    let (alice, bob) = (world.mint("c-alice"), world.mint("c-bob"));
    let alias = |m: &MintResponse| json!({ "alias": m.customer_alias });
    let answer = push(
        &world,
        &kiosk,
        "s1",
        json!([
            // (a) A customer by reference, and an alias with no visit or no sign-in.
            add(1, json!({ "customer": "c-alice" }), &sku, Some("v1")),
            add(2, alias(&alice), &sku, None),
            add(3, alias(&alice), &sku, Some("v1")),
            // (c) A sign-in without a token, with someone else's, with a forged one.
            sign_in(4, &alice, "v1", None),
            sign_in(5, &alice, "v1", Some(&bob.token)),
            sign_in(6, &alice, "v1", Some(&format!("01{}", "7".repeat(200)))),
            // The real one: then the visit's lines go through.
            sign_in(7, &alice, "v1", Some(&alice.token)),
            add(8, alias(&alice), &sku, Some("v1")),
            // Not in another visit, and the token signs in one visit only.
            add(9, alias(&alice), &sku, Some("v2")),
            sign_in(10, &alice, "v2", Some(&alice.token)),
        ]),
    );
    let refused = |r: &str| Some(r.to_owned());
    assert_eq!(
        reasons(&answer),
        [
            refused("not_signed_in"),
            refused("not_signed_in"),
            refused("not_signed_in"),
            refused("token_required"),
            refused("token_mismatch"),
            refused("token_invalid"),
            None,
            None,
            refused("not_signed_in"),
            refused("token_used"),
        ]
    );
    // Another kiosk that learnt the visit's id is not granted it.
    let stolen = push(&world, &other, "s2", json!([add(1, alias(&alice), &sku, Some("v1"))]));
    assert_eq!(reasons(&stolen), [refused("not_signed_in")]);
    let visits = world.visits().visits;
    assert_eq!(visits.len(), 1, "only the proven sign-in is a visit: {visits:?}");
    assert_eq!(
        (visits[0].session.as_str(), visits[0].customer.as_str()),
        ("v1", "c-alice")
    );
    let state = world.hub_state();
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(state[&(Owner::Customer("c-alice".into()), sku.clone())]);
}

#[test]
fn a_kiosk_reads_a_customers_list_only_with_their_token() {
    let world = World::new();
    let kiosk = world.kiosk("k1");
    let (alice, bob) = (world.mint("c-alice"), world.mint("c-bob"));
    let read = |alias: &str, token: Option<&str>| {
        world.rt.block_on(async {
            let mut request = world
                .http
                .get(format!("{}/v1/kiosk/customers/{alias}/wishlist", world.hub.url()))
                .bearer_auth(kiosk.token());
            if let Some(token) = token {
                request = request.header(vitrine::protocol::CUSTOMER_TOKEN_HEADER, token);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body["code"].as_str().map(str::to_owned))
        })
    };
    let code = |s: &str| (403, Some(s.to_owned()));
    assert_eq!(read(&alice.customer_alias, None), code("token_required"));
    assert_eq!(read(&alice.customer_alias, Some(&bob.token)), code("token_mismatch"));
    assert_eq!(read(&alice.customer_alias, Some("0123")), code("token_invalid"));
    assert_eq!(read(&alice.customer_alias, Some(&alice.token)), (200, None));
}

/// Rows of the kiosk's file that still name the customer of `alias`: their lines, their
/// ops (a sign-in's token with it), their sign-in.
fn identifiers_left(kiosk: &Kiosk, alias: &str) -> i64 {
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM wishlist WHERE owner = ?1)
              + (SELECT COUNT(*) FROM outbox WHERE owner = ?1)
              + (SELECT COUNT(*) FROM signed_in WHERE alias = ?1)",
        [alias],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_list_that_arrives_after_the_visit_ended_is_dropped() {
    let world = World::new();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-alice", &sku, Action::Add);
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(syncer.drain()).unwrap();
    let alias = kiosk.signed_in("c-alice").unwrap();
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    let owner = Owner::Alias(alias.clone());
    outbox::end_visit(catalog.connection(), "visit-c-alice", Some(&owner)).unwrap();
    // The fetch asked for before the end: nothing is asked, nothing kept.
    assert_eq!(world.rt.block_on(syncer.fetch_customer(&alias)).unwrap(), 0);
    // The answer that was already on its way when the visit ended: dropped.
    let lines = vec![(sku.clone(), true, now())];
    assert!(!outbox::merge_remote(catalog.connection(), "visit-c-alice", &owner, &lines).unwrap());
    assert_eq!(identifiers_left(&kiosk, &alias), 0);
}

#[test]
fn refused_and_acknowledged_ops_keep_nothing_that_names_the_shopper() {
    let world = World::new();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-alice", "NO-SUCH-SKU", Action::Add);
    kiosk.edit("c-alice", &sku, Action::Add);
    world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap();
    let status = kiosk.status();
    assert_eq!((status.pending, status.rejected), (0, 1));
    let alias = kiosk.signed_in("c-alice").unwrap();
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    outbox::end_visit(
        catalog.connection(),
        "visit-c-alice",
        Some(&Owner::Alias(alias.clone())),
    )
    .unwrap();
    assert_eq!(identifiers_left(&kiosk, &alias), 0);
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    let kept: (String, String, String) = conn
        .query_row(
            "SELECT reason, owner, sku FROM outbox WHERE state = 'rejected'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(kept, ("unknown_sku".into(), String::new(), String::new()));
}

#[test]
fn an_erasure_at_the_hub_reaches_the_kiosk_and_nothing_else_is_lost() {
    let world = World::new();
    let kiosk = world.pulled_kiosk("k1");
    let skus = world.skus(3);
    kiosk.edit("c-gone", &skus[0], Action::Add);
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(syncer.drain()).unwrap();
    // Offline: one more edit for the customer, one for someone else, then the erasure.
    kiosk.edit("c-gone", &skus[1], Action::Add);
    kiosk.edit("c-stays", &skus[2], Action::Add);
    let gone = kiosk.signed_in("c-gone").unwrap();
    world.erase("c-gone");
    world.pull(&kiosk);
    assert_eq!(identifiers_left(&kiosk, &gone), 0, "every trace of the erased customer");
    world.rt.block_on(syncer.drain()).unwrap();
    assert_eq!(kiosk.status().pending, 0);
    let state = world.hub_state();
    assert_eq!(
        state.keys().cloned().collect::<Vec<_>>(),
        [(Owner::Customer("c-stays".into()), skus[2].clone())],
        "the other customer's edit still arrived: {state:?}"
    );
}

#[test]
fn a_kiosk_that_stopped_mid_visit_keeps_nothing_of_it_when_it_starts_again() {
    let world = World::new();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-alice", &sku, Action::Add);
    let alias = kiosk.signed_in("c-alice").unwrap();
    // The kiosk stops here (a power cut): the visit never ended. At the next start:
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    assert!(outbox::end_leftover_visits(catalog.connection()).unwrap() > 0);
    // The sign-in's list, when it comes, is not for a visit under way: dropped.
    let lines = vec![(sku.clone(), true, now())];
    let owner = Owner::Alias(alias.clone());
    assert!(!outbox::merge_remote(catalog.connection(), "visit-c-alice", &owner, &lines).unwrap());
    // The edit still reaches the hub; then nothing names the shopper.
    world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap();
    assert_eq!(identifiers_left(&kiosk, &alias), 0);
    assert!(world.hub_state()[&(Owner::Customer("c-alice".into()), sku)]);
}

#[test]
fn a_sign_in_that_reaches_the_hub_after_the_offline_grace_is_refused() {
    for (grace_hours, refused) in [(1, Some("token_expired")), (72, None)] {
        let config = vitrine::hub::Config {
            offline_grace_hours: grace_hours,
            ..vitrine::hub::Config::default()
        };
        let world = World::with_config(config);
        let kiosk = world.kiosk("k1");
        let minted = world.mint("c-late");
        // A token issued three hours ago, read then by a kiosk that was offline since.
        let conn = crate::world::hub_conn(&world.hub_data());
        conn.execute(
            "UPDATE signing_key SET not_before = not_before - 86400",
            vitrine::db::params![],
        )
        .unwrap();
        let issued = Timestamp::now() - jiff::SignedDuration::from_hours(3);
        let (key_id, key) = vitrine::hub::customers::hub_key(&conn, Timestamp::now())
            .unwrap()
            .unwrap();
        let alias = vitrine::token::Alias::parse(&minted.customer_alias).unwrap();
        let claims = vitrine::token::Claims::new(key_id, alias, "vitrine", issued, 5);
        let token = vitrine::token::mint(&claims, &key).unwrap();
        let read_at = vitrine::hlc::from_wall(issued + jiff::SignedDuration::from_mins(1));
        let op = json!({ "seq": 1, "hlc": read_at, "owner": { "alias": minted.customer_alias },
            "sku": "", "action": "sign_in", "session": "v-late", "token": token });
        let answer = push(&world, &kiosk, "s1", json!([op]));
        assert_eq!(reasons(&answer), [refused.map(str::to_owned)], "grace {grace_hours} h");
    }
}
