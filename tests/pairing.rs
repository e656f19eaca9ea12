//! Sign-in with the phone against a real hub: the kiosk's sync thread starts a pairing
//! and polls; the web store (here, plain HTTP with its key, or the demo's stand-in page)
//! confirms; the kiosk gets a customer token its own verifier accepts. Expiry, declines,
//! another kiosk's pairing, and the rate limits.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use vitrine::hub;
use vitrine::pairing::{PairOutcome, Pairing};
use vitrine::sync::driver::SyncLink;
use vitrine::token::Verifier;
use vitrine::trust;

use crate::world::{World, wait_until};

const PAIR_PAGE: &str = "https://shop.example/account/kiosk";

fn config() -> hub::Config {
    hub::Config {
        webstore: hub::WebStorePages {
            pair_url: Some(PAIR_PAGE.into()),
            list_url: Some("https://shop.example/wishlist/import".into()),
        },
        ..hub::Config::default()
    }
}

fn pair(world: &World, link: &SyncLink) -> Pairing {
    world.rt.block_on(link.pair()).unwrap()
}

fn outcome(world: &World, pairing: Pairing) -> PairOutcome {
    world
        .rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), pairing.outcome).await })
        .expect("the kiosk heard back in time")
        .expect("the poll ran to its end")
}

#[test]
fn a_shopper_confirms_on_their_phone_and_the_kiosk_signs_them_in() {
    let world = World::with_config(config());
    let (kiosk, background) = world.running_kiosk("tablet-1");
    let pairing = pair(&world, &background.link);
    let started = pairing.started.clone();
    assert_eq!(started.verification_uri, PAIR_PAGE);
    let code: String = started.user_code.chars().filter(|c| *c != '-').collect();
    assert_eq!(started.verification_uri_complete, format!("{PAIR_PAGE}?code={code}"));
    assert!(started.expires_at > Timestamp::now());

    // The web store's page looks the code up as the shopper typed it, then confirms.
    let typed = started.user_code.to_lowercase();
    let (status, info) = world.json(
        Method::GET,
        &format!("/v1/webstore/pairings/{typed}"),
        Some(&world.key),
        &json!(null),
    );
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["store_code"], vitrine::demo::HOME_STORE);
    assert_eq!(info["user_code"], started.user_code);
    let approve = format!("/v1/webstore/pairings/{code}/approve");
    let (status, body) = world.json(
        Method::POST,
        &approve,
        Some(&world.key),
        &json!({ "customer": "c-alice" }),
    );
    assert_eq!(status, 204, "{body}");
    // Once only.
    let (status, body) = world.json(
        Method::POST,
        &approve,
        Some(&world.key),
        &json!({ "customer": "c-mallory" }),
    );
    assert_eq!((status, body["code"].as_str()), (409, Some("pairing_decided")));

    let PairOutcome::Approved(token) = outcome(&world, pairing) else {
        panic!("the pairing was confirmed")
    };
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    let (audience, keys) = trust::load(&conn).unwrap().unwrap();
    let claims = Verifier::new(&audience, keys).verify(&token, Timestamp::now()).unwrap();
    assert_eq!(claims.customer.to_string(), world.mint("c-alice").customer_alias);
    // Collected: the code is spent.
    let (status, _) = world.json(
        Method::GET,
        &format!("/v1/webstore/pairings/{code}"),
        Some(&world.key),
        &json!(null),
    );
    assert_eq!(status, 404);
    // The kiosk also learnt where "take my list" leads.
    assert_eq!(
        trust::settings(&conn).unwrap().list_url.as_deref(),
        Some("https://shop.example/wishlist/import")
    );
}

#[test]
fn a_declined_or_abandoned_pairing_signs_nobody_in() {
    let world = World::with_config(config());
    let (_kiosk, background) = world.running_kiosk("tablet-1");
    let pairing = pair(&world, &background.link);
    let code = pairing.started.user_code.clone();
    let (status, _) = world.json(
        Method::POST,
        &format!("/v1/webstore/pairings/{code}/deny"),
        Some(&world.key),
        &json!(null),
    );
    assert_eq!(status, 204);
    assert_eq!(outcome(&world, pairing), PairOutcome::Denied);

    // The shopper closes the code: the kiosk tells the hub, and the code stops working.
    let pairing = pair(&world, &background.link);
    let code = pairing.started.user_code.clone();
    drop(pairing);
    let path = format!("/v1/webstore/pairings/{code}");
    wait_until(
        "the hub to forget an abandoned pairing",
        Duration::from_millis(2500),
        || world.json(Method::GET, &path, Some(&world.key), &json!(null)).0 == 404,
    );
}

#[test]
fn pairings_expire() {
    let world = World::with_config(hub::Config {
        pairing_seconds: 1,
        ..config()
    });
    let (_kiosk, background) = world.running_kiosk("tablet-1");
    let pairing = pair(&world, &background.link);
    let code = pairing.started.user_code.clone();
    assert_eq!(outcome(&world, pairing), PairOutcome::Expired);
    let (status, body) = world.json(
        Method::POST,
        &format!("/v1/webstore/pairings/{code}/approve"),
        Some(&world.key),
        &json!({ "customer": "c-alice" }),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("pairing_expired")),
        "{body}"
    );
}

#[test]
fn pairings_are_rate_limited_and_private_to_their_kiosk() {
    let world = World::with_config(config());
    let kiosk = world.kiosk("tablet-1");
    let other = world.kiosk("tablet-2");
    let start = |token: &str| world.json(Method::POST, "/v1/kiosk/pairings", Some(token), &json!(null));
    let (status, first) = start(&kiosk.token());
    assert_eq!(status, 201, "{first}");
    let poll = format!("/v1/kiosk/pairings/{}", first["device_code"].as_str().unwrap());
    assert_eq!(
        world.json(Method::GET, &poll, Some(&kiosk.token()), &json!(null)).1["status"],
        "pending"
    );
    // Sooner than `interval`: slow down (RFC 8628).
    let (status, body) = world.json(Method::GET, &poll, Some(&kiosk.token()), &json!(null));
    assert_eq!((status, body["code"].as_str()), (429, Some("slow_down")));
    // Another kiosk can neither poll nor cancel it.
    assert_eq!(
        world.json(Method::GET, &poll, Some(&other.token()), &json!(null)).0,
        404
    );
    assert_eq!(
        world.json(Method::DELETE, &poll, Some(&other.token()), &json!(null)).0,
        404
    );

    for _ in 1..hub::pairing::STARTS_PER_MINUTE {
        assert_eq!(start(&kiosk.token()).0, 201);
    }
    let (status, body) = start(&kiosk.token());
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_pairings")),
        "{body}"
    );
    // The limit is per kiosk.
    assert_eq!(start(&other.token()).0, 201);
}

#[test]
fn the_web_store_side_is_checked() {
    let world = World::with_config(config());
    let kiosk = world.kiosk("tablet-1");
    let (_, started) = world.json(Method::POST, "/v1/kiosk/pairings", Some(&kiosk.token()), &json!(null));
    let code = started["user_code"].as_str().unwrap();
    let cases = [
        (
            "/v1/webstore/pairings/AEIOU",
            json!(null),
            Method::GET,
            400,
            "invalid_user_code",
        ),
        (
            "/v1/webstore/pairings/BBBB-BBBB",
            json!(null),
            Method::GET,
            404,
            "unknown_pairing",
        ),
        (
            &*format!("/v1/webstore/pairings/{code}/approve"),
            json!({ "customer": "" }),
            Method::POST,
            400,
            "invalid_customer",
        ),
        (
            &*format!("/v1/webstore/pairings/{code}/approve"),
            json!({ "customer": "c-alice", "extra": 1 }),
            Method::POST,
            422,
            "invalid_field",
        ),
    ];
    for (path, body, method, status, problem) in cases {
        let (got, answer) = world.json(method, path, Some(&world.key), &body);
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(problem)),
            "{path}: {answer}"
        );
    }
    // A kiosk's credential is not a web store key, and a key needs `tokens:issue`.
    let (status, _) = world.json(
        Method::GET,
        &format!("/v1/webstore/pairings/{code}"),
        Some(&kiosk.token()),
        &json!(null),
    );
    assert_eq!(status, 403);
    let reader = world.key_with("reader", &[vitrine::hub::auth::Scope::WishlistRead]);
    let (status, body) = world.json(
        Method::GET,
        &format!("/v1/webstore/pairings/{code}"),
        Some(&reader),
        &json!(null),
    );
    assert_eq!((status, body["code"].as_str()), (403, Some("missing_scope")));
}

#[test]
fn without_a_confirmation_page_pairing_is_off() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let (status, body) = world.json(Method::POST, "/v1/kiosk/pairings", Some(&kiosk.token()), &json!(null));
    assert_eq!((status, body["code"].as_str()), (503, Some("pairing_not_configured")));
}

#[test]
fn the_demo_hub_confirms_on_its_stand_in_page() {
    let world = World::with_config(hub::Config {
        demo_passes: vec!["camille".into()],
        ..hub::Config::default()
    });
    let (_kiosk, background) = world.running_kiosk("tablet-1");
    let pairing = pair(&world, &background.link);
    let page = pairing.started.verification_uri_complete.clone();
    assert!(page.starts_with(&format!("{}/pair?code=", world.hub.url())), "{page}");
    let html = world
        .rt
        .block_on(async { world.http.get(&page).send().await.unwrap().text().await.unwrap() });
    assert!(html.contains("I am camille"), "{html}");
    let code = pairing.started.user_code.clone();
    let answered = world.rt.block_on(async {
        let response = world
            .http
            .post(format!("{}/pair", world.hub.url()))
            .form(&[("code", code.as_str()), ("customer", "camille")])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(answered.0, 200);
    assert!(answered.1.contains("Look at the kiosk"), "{}", answered.1);
    assert!(matches!(outcome(&world, pairing), PairOutcome::Approved(_)));
    // The demo's list page shows what a "take my list" code names, escaped.
    let sku = &world.skus(1)[0];
    let list = world.rt.block_on(async {
        let url = format!("{}/list?sku={sku}&sku=%3Cb%3E&store=PARIS", world.hub.url());
        world.http.get(url).send().await.unwrap().text().await.unwrap()
    });
    assert!(list.contains("from the shop PARIS") && !list.contains("<b>"), "{list}");
}
