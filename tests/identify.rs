//! Identifying the shopper, hub and sync side: tokens minted by the hub or by the web
//! store's own key, checked offline by a kiosk against the keys it pulled; key rotation
//! and revocation; signing in moves the visit's lines into the customer's account and
//! reaches the web store as a visit.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::json;
use vitrine::protocol::{Action, Owner};
use vitrine::sync::driver::Step;
use vitrine::sync::outbox;
use vitrine::token::{self, Alias, Rejection, Verifier};
use vitrine::trust;

use crate::world::{Kiosk, World, hub_conn, quick_policy};

/// The kiosk pulls (catalog and keys) and builds a verifier from what it stored.
fn kiosk_verifier(world: &World, kiosk: &Kiosk) -> Verifier {
    world.pull(kiosk);
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    let (audience, keys) = trust::load(&conn).unwrap().expect("keys were pulled");
    Verifier::new(&audience, keys)
}

#[test]
fn a_hub_token_is_checked_offline_once() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let minted = world.mint("c-alice");
    assert_eq!(minted.token.len(), token::DIGITS);
    // The same customer keeps their alias.
    assert_eq!(world.mint("c-alice").customer_alias, minted.customer_alias);
    assert_ne!(world.mint("c-bob").customer_alias, minted.customer_alias);

    let mut verifier = kiosk_verifier(&world, &kiosk);
    let now = Timestamp::now();
    let claims = verifier.verify(&minted.token, now).unwrap();
    assert_eq!(claims.customer.to_string(), minted.customer_alias);
    assert_eq!(claims.key_id, minted.key_id);
    assert_eq!(verifier.verify(&minted.token, now), Err(Rejection::Replayed));
    assert_eq!(
        verifier.verify(&world.mint("c-alice").token, now + SignedDuration::from_mins(7)),
        Err(Rejection::Expired)
    );
}

#[test]
fn a_rotation_reaches_kiosks_without_a_redeploy() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let before = world.mint("c-alice");
    let new_key =
        vitrine::hub::customers::rotate(&hub_conn(&world.hub_data()), Timestamp::now(), SignedDuration::ZERO).unwrap();
    let after = world.mint("c-alice");
    assert_eq!(after.key_id, new_key);
    assert_ne!(before.key_id, after.key_id);
    // A kiosk that has not pulled since does not know the new key yet…
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    assert!(trust::load(&conn).unwrap().is_none());
    // …and after its next pull it takes both: tokens shown before the switch still work.
    let mut verifier = kiosk_verifier(&world, &kiosk);
    let now = Timestamp::now();
    assert!(verifier.verify(&after.token, now).is_ok());
    assert!(verifier.verify(&before.token, now).is_ok());
}

#[test]
fn a_web_store_signs_with_its_own_key_until_it_revokes_it() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let secret = SigningKey::from_bytes(&[42; 32]);
    let public = URL_SAFE_NO_PAD.encode(secret.verifying_key().as_bytes());
    let (status, registered) = world.json(
        Method::POST,
        "/v1/webstore/signing-keys",
        Some(&world.key),
        &json!({ "public_key": public }),
    );
    assert_eq!(status, 201, "{registered}");
    let key_id = registered["key_id"].as_u64().unwrap() as u16;
    let (status, alias) = world.json(
        Method::POST,
        "/v1/webstore/customers/c-carol/alias",
        Some(&world.key),
        &json!({}),
    );
    assert_eq!(status, 200, "{alias}");
    let alias = Alias::parse(alias["alias"].as_str().unwrap()).unwrap();

    let mut verifier = kiosk_verifier(&world, &kiosk);
    let (status, published) = world.request(
        Method::GET,
        &format!("{}/v1/kiosk/token-keys", world.hub.url()),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!(status, 403, "the keys are for kiosks: {published}");
    let own = |now| {
        let claims = token::Claims::new(key_id, alias, "vitrine", now, 5);
        token::mint(&claims, &secret).unwrap()
    };
    let claims = verifier.verify(&own(Timestamp::now()), Timestamp::now()).unwrap();
    assert_eq!(claims.customer, alias);

    let (status, body) = world.request(
        Method::DELETE,
        &format!("{}/v1/webstore/signing-keys/{key_id}", world.hub.url()),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!(status, 204, "{body}");
    let mut verifier = kiosk_verifier(&world, &kiosk);
    assert_eq!(
        verifier.verify(&own(Timestamp::now()), Timestamp::now()),
        Err(Rejection::UnknownKey)
    );
}

#[test]
fn token_requests_get_precise_refusals() {
    let world = World::new();
    let post = |path: &str, body: serde_json::Value| world.json(Method::POST, path, Some(&world.key), &body);
    let code = |(status, body): (u16, serde_json::Value)| (status, body["code"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        code(post(
            "/v1/webstore/tokens",
            json!({ "customer": "c-1", "lifetime_minutes": 0 })
        )),
        (422, "invalid_field".into())
    );
    assert_eq!(
        code(post(
            "/v1/webstore/tokens",
            json!({ "customer": "c-1", "lifetime_minutes": 61 })
        )),
        (422, "invalid_field".into())
    );
    assert_eq!(
        code(post("/v1/webstore/tokens", json!({ "customer": "" }))),
        (400, "invalid_customer".into())
    );
    assert_eq!(
        code(post(
            "/v1/webstore/tokens",
            json!({ "customer": "c-1", "audience": "x" })
        )),
        (422, "invalid_field".into())
    );
    for bad in ["", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 33])] {
        assert_eq!(
            code(post("/v1/webstore/signing-keys", json!({ "public_key": bad }))),
            (422, "invalid_key".into()),
            "{bad}"
        );
    }
    let public = URL_SAFE_NO_PAD.encode(SigningKey::from_bytes(&[1; 32]).verifying_key().as_bytes());
    assert_eq!(
        code(post(
            "/v1/webstore/signing-keys",
            json!({ "public_key": public, "not_before": "2030-01-01T00:00:00Z", "not_after": "2040-01-01T00:00:00Z" })
        )),
        (422, "invalid_key".into())
    );
    // A key without the scope, and an erased customer.
    let reader = vitrine::hub::store::create_key(
        &hub_conn(&world.hub_data()),
        "reader",
        &[vitrine::hub::auth::Scope::WishlistRead],
        Timestamp::now(),
    )
    .unwrap();
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/tokens",
        Some(&reader),
        &json!({ "customer": "c-1" }),
    );
    assert_eq!((status, body["code"].as_str()), (403, Some("missing_scope")));
    world.erase("c-gone");
    assert_eq!(
        code(post("/v1/webstore/tokens", json!({ "customer": "c-gone" }))),
        (409, "customer_erased".into())
    );
}

#[test]
fn a_weak_key_is_refused_and_never_reaches_kiosks() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    // The identity point: a valid Ed25519 key, of small order, so signatures for it can
    // be forged without a secret.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = URL_SAFE_NO_PAD.encode(identity);
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/signing-keys",
        Some(&world.key),
        &json!({ "public_key": weak }),
    );
    assert_eq!((status, body["code"].as_str()), (422, Some("weak_key")), "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("small order"), "{body}");

    let (status, published) = world.request(
        Method::GET,
        &format!("{}/v1/kiosk/token-keys", world.hub.url()),
        Some(&kiosk.token()),
        None,
        None,
    );
    assert_eq!(status, 200, "{published}");
    let keys = published["keys"].as_array().expect("a list of keys");
    assert!(!keys.is_empty(), "the hub's own key is published: {published}");
    assert!(keys.iter().all(|k| k["public_key"] != weak.as_str()), "{published}");
}

#[test]
fn signing_in_moves_the_visit_into_the_account_and_records_the_visit() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let skus = world.skus(3);
    let minted = world.mint("c-alice");
    let alias = Owner::Alias(minted.customer_alias.clone());
    let visit = Owner::Visit("visit-9".into());
    // Saved online before the visit.
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/ops",
        Some(&world.key),
        &json!({ "stream": "web", "ops": [{ "seq": 1, "hlc": 1 << 16, "owner": { "customer": "c-alice" },
            "sku": skus[2], "action": "add" }] }),
    );
    assert_eq!(status, 200, "{body}");

    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    let conn = catalog.connection();
    let now = Timestamp::now();
    for sku in &skus[..2] {
        outbox::edit(conn, now, &visit, sku, Action::Add, Some("visit-9")).unwrap();
    }
    outbox::sign_in(conn, now, "visit-9", &alias, &minted.token).unwrap();
    assert!(outbox::wishlist(conn, &visit).unwrap().is_empty());
    let moved: Vec<String> = outbox::wishlist(conn, &alias)
        .unwrap()
        .into_iter()
        .map(|l| l.sku)
        .collect();
    assert_eq!(moved, vec![skus[1].clone(), skus[0].clone()], "newest first");
    // The sign-in is not a line the offline banner counts.
    assert_eq!(outbox::waiting(conn, &alias).unwrap(), 2);

    assert_eq!(
        world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap(),
        Step::Idle
    );
    assert_eq!(kiosk.status().rejected, 0);
    let page = world.visits();
    assert_eq!(page.visits.len(), 1);
    let v = &page.visits[0];
    assert_eq!((v.session.as_str(), v.customer.as_str()), ("visit-9", "c-alice"));
    assert_eq!(v.store_code, vitrine::demo::HOME_STORE);
    assert!(v.signed_in_at.duration_since(now).abs() < SignedDuration::from_secs(5));
    let state = world.hub_state();
    for sku in &skus {
        assert_eq!(
            state.get(&(Owner::Customer("c-alice".into()), sku.clone())),
            Some(&true),
            "{sku}"
        );
    }
    for sku in &skus[..2] {
        assert_eq!(
            state.get(&(visit.clone(), sku.clone())),
            Some(&false),
            "{sku} left the visit"
        );
    }
    // The kiosk reads the whole list, online saves included, under the alias only.
    let client = vitrine::client::KioskClient::new(&world.hub.url(), &device_token(&kiosk)).unwrap();
    let list = world
        .rt
        .block_on(client.customer_wishlist(&minted.customer_alias, &minted.token))
        .unwrap();
    assert_eq!(list.customer, minted.customer_alias);
    assert_eq!(list.items.len(), 3);
    assert!(list.items.iter().all(|l| l.owner == alias));
    assert!(!serde_json::to_string(&list).unwrap().contains("c-alice"));
}

fn device_token(kiosk: &Kiosk) -> String {
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    outbox::device(&conn).unwrap().unwrap().token
}

#[test]
fn ops_naming_an_unknown_or_erased_customer_are_rejected() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let sku = world.skus(1).remove(0);
    let minted = world.mint("c-gone");
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    let conn = catalog.connection();
    let now = Timestamp::now();
    outbox::edit(
        conn,
        now,
        &Owner::Alias("0000000000000001".into()),
        &sku,
        Action::Add,
        Some("v"),
    )
    .unwrap();
    world.erase("c-gone");
    outbox::sign_in(conn, now, "v2", &Owner::Alias(minted.customer_alias), &minted.token).unwrap();
    world.rt.block_on(kiosk.syncer(quick_policy()).drain()).unwrap();
    let status = kiosk.status();
    assert_eq!((status.pending, status.rejected), (0, 2));
    assert!(world.visits().visits.is_empty());
    // A web store cannot sign anyone in, nor write under an alias.
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/ops",
        Some(&world.key),
        &json!({ "stream": "web", "ops": [
            { "seq": 1, "hlc": 1 << 16, "owner": { "alias": "0000000000000001" }, "sku": "", "action": "sign_in", "session": "v" },
            { "seq": 2, "hlc": 2 << 16, "owner": { "alias": "0000000000000001" }, "sku": sku, "action": "add" }] }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["reason"], "invalid");
    assert_eq!(body["results"][1]["reason"], "invalid");
}

/// The demo's stand-in for the web store app: its page shows a code the kiosk reads
/// (rendered, rasterised and decoded here) and accepts.
#[cfg(feature = "kiosk")]
#[test]
fn a_demo_pass_shows_a_code_a_kiosk_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let hub = vitrine::demo::start_hub(&dir.path().join("hub")).unwrap();
    let kiosk_db = vitrine::demo::enroll_kiosk(&hub, &dir.path().join("kiosk")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let get = |path: &str| {
        rt.block_on(async {
            let response = reqwest::get(format!("{}{path}", hub.url())).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    };
    let (status, index) = get("/pass");
    assert_eq!(status, 200);
    for customer in vitrine::demo::DEMO_CUSTOMERS {
        assert!(index.contains(&format!("/pass/{customer}")), "{index}");
    }
    assert_eq!(get("/pass/someone-else").0, 404);
    let (status, page) = get("/pass/camille");
    assert_eq!(status, 200);
    assert!(page.contains(r#"http-equiv="refresh""#));
    let svg = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap() + 6];
    let pixels = vitrine::kiosk::images::decode(svg.as_bytes(), (480, 480), vitrine::kiosk::images::PAPER).unwrap();
    let picture = image::RgbImage::from_raw(pixels.width(), pixels.height(), pixels.as_bytes().to_vec()).unwrap();
    let frame = vitrine::scan::decode::Frame::new(image::DynamicImage::ImageRgb8(picture));
    let text = vitrine::scan::decode::read_still(&frame)
        .expect("the pass's code reads")
        .text;
    let conn = rusqlite::Connection::open(&kiosk_db).unwrap();
    let (audience, keys) = trust::load(&conn).unwrap().unwrap();
    let claims = Verifier::new(&audience, keys).verify(&text, Timestamp::now()).unwrap();
    // The demo's hub is always the embedded one.
    let alias =
        vitrine::hub::customers::alias_for(&vitrine::hub::open_db(&hub.data).unwrap(), "camille", Timestamp::now())
            .unwrap();
    assert_eq!(Some(claims.customer), alias);
}
