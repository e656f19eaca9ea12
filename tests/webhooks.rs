//! Webhooks to the web store, against a real receiver on loopback: every change
//! announced once per `webhook-id` with a valid Standard Webhooks signature, through
//! failures, `Retry-After`, a 410, a replay and a secret rotation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use vitrine::protocol::webhooks::EndpointSecret;
use vitrine::protocol::{Action, Owner};

use crate::world::{World, wait_until};

/// An answer to give: a status, and a `Retry-After`.
type Answer = (u16, Option<&'static str>);

/// What the receiver answers, in turn, before 200s.
#[derive(Clone, Default)]
struct Receiver {
    /// Answers to give first, one per request: a status and an optional Retry-After.
    script: Arc<Mutex<Vec<Answer>>>,
    /// Every request: its headers, body, and the status it was answered.
    seen: Arc<Mutex<Vec<(HeaderMap, String, u16)>>>,
}

impl Receiver {
    fn answered(&self) -> Vec<(HeaderMap, String, u16)> {
        self.seen.lock().unwrap().clone()
    }

    /// The bodies answered 200, by `webhook-id`.
    fn delivered(&self) -> Vec<(String, Value)> {
        self.answered()
            .into_iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(headers, body, _)| {
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                (id, serde_json::from_str(&body).unwrap())
            })
            .collect()
    }
}

/// A receiver on `127.0.0.1:0`, served on the world's runtime; returns its URL.
fn receive(world: &World, receiver: &Receiver) -> String {
    let state = receiver.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let next = {
                    let mut script = state.script.lock().unwrap();
                    if script.is_empty() {
                        None
                    } else {
                        Some(script.remove(0))
                    }
                };
                let (status, retry_after) = next.unwrap_or((200, None));
                state.seen.lock().unwrap().push((headers, body, status));
                let mut response = axum::http::Response::builder().status(StatusCode::from_u16(status).unwrap());
                if let Some(seconds) = retry_after {
                    response = response.header("retry-after", seconds);
                }
                response.body(axum::body::Body::empty()).unwrap()
            }
        }),
    );
    let listener = world.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    world.rt.spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hooks")
}

fn world() -> World {
    let mut config = vitrine::hub::Config::default();
    config.webhooks.hosts_allowed = vec!["127.0.0.1".parse().unwrap()];
    config.webhooks.retry_schedule_seconds = vec![0, 0, 1, 1, 1];
    World::with_config(config)
}

fn register(world: &World, url: &str, events: Value) -> (u16, Value) {
    world.json(
        Method::POST,
        "/v1/webstore/webhooks",
        Some(&world.key),
        &json!({ "url": url, "events": events }),
    )
}

fn verify(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body.as_bytes(), headers)
        .is_ok()
}

#[test]
fn every_change_reaches_an_endpoint_once_per_id_through_failures_with_valid_signatures() {
    let world = world();
    let receiver = Receiver::default();
    receiver
        .script
        .lock()
        .unwrap()
        .extend([(500, None), (503, Some("1")), (502, None)]);
    let url = receive(&world, &receiver);
    let (status, body) = register(&world, &url, json!([]));
    assert_eq!(status, 201, "{body}");
    let registered: EndpointSecret = serde_json::from_value(body).unwrap();
    assert!(registered.secret.starts_with("whsec_"));

    // A sign-in and a saved line at a kiosk, consent, an erasure.
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-ana", &sku, Action::Add);
    world
        .rt
        .block_on(kiosk.syncer(crate::world::quick_policy()).drain())
        .unwrap();
    let (status, _) = world.json(
        Method::PUT,
        "/v1/webstore/customers/c-ana/consent",
        Some(&world.key),
        &json!({ "measurement": true }),
    );
    assert_eq!(status, 200);
    // (Erasing Ana would delete the messages that name her, delivered or not.)
    world.erase("c-zed");

    let kinds = [
        "consent.changed",
        "customer.erased",
        "visit.signed_in",
        "wishlist.changed",
    ];
    wait_until("every kind delivered", Duration::from_secs(30), || {
        let mut got: Vec<String> = receiver
            .delivered()
            .iter()
            .map(|(_, b)| b["type"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        got.dedup();
        got == kinds
    });
    // Let retries that might double a delivery happen before counting.
    std::thread::sleep(Duration::from_millis(1500));
    let answered = receiver.answered();
    assert!(
        answered.iter().filter(|(_, _, s)| *s != 200).count() == 3,
        "the script's failures were sent"
    );
    let delivered = receiver.delivered();
    let mut ids: Vec<&str> = delivered.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "a message was delivered twice: {ids:?}");
    for (headers, body, _) in &answered {
        assert!(verify(&registered.secret, headers, body), "a bad signature on {body}");
    }
    let visit = delivered
        .iter()
        .find(|(_, b)| b["type"] == "visit.signed_in")
        .map(|(_, b)| b["data"].clone())
        .unwrap();
    assert_eq!(
        (visit["customer"].as_str(), visit["store_code"].as_str()),
        (Some("c-ana"), Some(vitrine::demo::HOME_STORE))
    );
    let changed = delivered.iter().find(|(_, b)| b["type"] == "wishlist.changed").unwrap();
    assert!(changed.1["data"]["from_cursor"].is_string(), "{}", changed.1);

    // The delivery log tells the story.
    let id = registered.endpoint.id;
    let log_url = format!("{}/v1/webstore/webhooks/{id}/deliveries", world.hub.url());
    let (status, log) = world.request(Method::GET, &log_url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{log}");
    let deliveries = log["deliveries"].as_array().unwrap();
    assert!(deliveries.iter().all(|d| d["state"] == "delivered"), "{log}");
    assert!(deliveries.iter().any(|d| d["attempts"].as_u64() > Some(1)), "{log}");
}

#[test]
fn a_gone_endpoint_is_disabled_a_replay_starts_it_and_a_rotation_signs_twice() {
    let world = world();
    let receiver = Receiver::default();
    receiver.script.lock().unwrap().push((410, None));
    let url = receive(&world, &receiver);
    let (_, body) = register(&world, &url, json!(["consent.changed"]));
    let registered: EndpointSecret = serde_json::from_value(body).unwrap();
    let id = registered.endpoint.id;
    let consent = |customer: &str| {
        let path = format!("/v1/webstore/customers/{customer}/consent");
        world.json(Method::PUT, &path, Some(&world.key), &json!({ "measurement": true }))
    };
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    consent("c-1");
    wait_until("the 410", Duration::from_secs(10), || !receiver.answered().is_empty());
    let list = |world: &World| {
        let url = format!("{}/v1/webstore/webhooks", world.hub.url());
        world.request(Method::GET, &url, Some(&world.key), None, None).1
    };
    wait_until("the endpoint disabled", Duration::from_secs(10), || {
        list(&world)["endpoints"][0]["disabled_at"].is_string()
    });
    // While disabled, nothing is queued for it; a replay sends both, then it works again.
    consent("c-2");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.answered().len(), 1);
    let (status, body) = world.json(
        Method::POST,
        &format!("/v1/webstore/webhooks/{id}/replay"),
        Some(&world.key),
        &json!({ "since": start.to_string() }),
    );
    assert_eq!(status, 200, "{body}");
    // c-1's message (the one answered 410) is sent again; c-2's was never queued.
    assert_eq!(body["queued"], 1, "{body}");
    wait_until("the replay delivered", Duration::from_secs(10), || {
        receiver.delivered().len() == 1
    });

    // A rotation: both secrets sign for a day.
    let (status, body) = world.json(
        Method::POST,
        &format!("/v1/webstore/webhooks/{id}/rotate-secret"),
        Some(&world.key),
        &json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let rotated: EndpointSecret = serde_json::from_value(body).unwrap();
    assert_ne!(rotated.secret, registered.secret);
    consent("c-3");
    wait_until("the rotated delivery", Duration::from_secs(10), || {
        receiver.delivered().len() == 2
    });
    let (headers, body, _) = receiver.answered().pop().unwrap();
    assert_eq!(headers["webhook-signature"].to_str().unwrap().split(' ').count(), 2);
    assert!(verify(&registered.secret, &headers, &body) && verify(&rotated.secret, &headers, &body));
}

#[test]
fn endpoints_are_checked_scoped_to_their_key_and_announce_only_what_committed() {
    let world = world();
    for (url, events) in [
        ("http://169.254.169.254/latest", json!([])),
        ("http://10.0.0.1/hooks", json!([])),
        ("ftp://127.0.0.1/hooks", json!([])),
        ("http://user:pw@127.0.0.1/hooks", json!([])),
        ("not a url", json!([])),
        ("http://127.0.0.1/hooks", json!(["order.paid"])),
    ] {
        let (status, body) = register(&world, url, events);
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_endpoint")),
            "{url}: {body}"
        );
    }
    let receiver = Receiver::default();
    let url = receive(&world, &receiver);
    let (_, body) = register(&world, &url, json!([]));
    let id = body["endpoint"]["id"].as_i64().unwrap();
    // Another key sees none of it, and a key without the scope is refused.
    let other = world.key_with("other", &[vitrine::hub::auth::Scope::WebhooksManage]);
    let url_of = |path: &str| format!("{}{path}", world.hub.url());
    let (status, body) = world.request(Method::GET, &url_of("/v1/webstore/webhooks"), Some(&other), None, None);
    assert_eq!((status, body["endpoints"].as_array().map(Vec::len)), (200, Some(0)));
    let path = format!("/v1/webstore/webhooks/{id}");
    assert_eq!(
        world
            .request(Method::DELETE, &url_of(&path), Some(&other), None, None)
            .0,
        404
    );
    let reader = world.key_with("reader", &[vitrine::hub::auth::Scope::WishlistRead]);
    assert_eq!(
        world
            .request(Method::GET, &url_of("/v1/webstore/webhooks"), Some(&reader), None, None)
            .0,
        403
    );

    // A push refused whole (a gap in its sequence) announces nothing.
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    let op = json!({ "seq": 5, "hlc": vitrine::hlc::from_wall(jiff::Timestamp::now()),
        "owner": Owner::Visit("v".into()), "sku": sku, "action": "add", "session": "v" });
    let (status, _) = world.json(
        Method::POST,
        "/v1/kiosk/ops",
        Some(&kiosk.token()),
        &json!({ "stream": "s", "ops": [op] }),
    );
    assert_eq!(status, 409);
    let messages: i64 = crate::world::hub_conn(&world.hub_data())
        .query_row("SELECT COUNT(*) FROM webhook_message", vitrine::db::params![], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(messages, 0);
    assert_eq!(
        world
            .request(Method::DELETE, &url_of(&path), Some(&world.key), None, None)
            .0,
        204
    );
}

#[test]
fn a_key_is_sent_only_what_its_scopes_read_and_nothing_once_revoked() {
    use vitrine::hub::auth::Scope;
    let world = world();
    let receiver = Receiver::default();
    let url = receive(&world, &receiver);
    let consent_key = world.key_with("consent", &[Scope::WebhooksManage, Scope::ConsentWrite]);
    let register_as = |key: &str, events: Value| {
        world.json(
            Method::POST,
            "/v1/webstore/webhooks",
            Some(key),
            &json!({ "url": url, "events": events }),
        )
    };
    // Visits name customers: a key that may not read them through the API is not sent them.
    let (status, body) = register_as(&consent_key, json!(["visit.signed_in"]));
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_endpoint")),
        "{body}"
    );
    let (status, body) = register_as(&consent_key, json!([]));
    assert_eq!(status, 201, "{body}");
    let id = body["endpoint"]["id"].as_i64().unwrap();

    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-eve", &sku, Action::Add);
    world
        .rt
        .block_on(kiosk.syncer(crate::world::quick_policy()).drain())
        .unwrap();
    let consent = |customer: &str| {
        let path = format!("/v1/webstore/customers/{customer}/consent");
        let (status, _) = world.json(Method::PUT, &path, Some(&world.key), &json!({ "measurement": true }));
        assert_eq!(status, 200);
    };
    consent("c-eve");
    wait_until("the consent delivered", Duration::from_secs(10), || {
        receiver.delivered().len() == 1
    });
    std::thread::sleep(Duration::from_millis(300));
    let kinds: Vec<Value> = receiver
        .delivered()
        .into_iter()
        .map(|(_, b)| b["type"].clone())
        .collect();
    assert_eq!(kinds, [json!("consent.changed")]);

    // Erasing the customer deletes the messages that named them (not the notice itself,
    // which this key may not read anyway).
    world.erase("c-eve");
    let named: i64 = crate::world::hub_conn(&world.hub_data())
        .query_row(
            "SELECT COUNT(*) FROM webhook_message WHERE payload LIKE '%c-eve%' AND type != 'customer.erased'",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(named, 0);

    // Revoked: nothing more, and a replay sends nothing.
    crate::world::hub_conn(&world.hub_data())
        .execute(
            "UPDATE api_key SET revoked_at = 1 WHERE name = 'consent'",
            vitrine::db::params![],
        )
        .unwrap();
    consent("c-fay");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.delivered().len(), 1);
    let (status, _) = world.json(
        Method::POST,
        &format!("/v1/webstore/webhooks/{id}/replay"),
        Some(&consent_key),
        &json!({ "since": "2000-01-01T00:00:00Z" }),
    );
    assert_eq!(status, 401, "a revoked key is refused");
}
