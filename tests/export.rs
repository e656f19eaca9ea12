//! Kiosk events forwarded to GA4 and PostHog, received by a local stand-in that checks
//! each payload against the tool's documented format (GA4's Measurement Protocol
//! limits and reserved names; PostHog's batch capture), through a refused first batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::world::{World, wait_until};

/// A GA4 event as received: its request's client_id and user_id, and the event.
type Ga4Event = (String, Option<String>, Value);

#[derive(Clone, Default)]
struct StandIn {
    /// Events received in accepted requests: GA4's (client_id, user_id, event) and
    /// PostHog's events.
    ga4: Arc<Mutex<Vec<Ga4Event>>>,
    posthog: Arc<Mutex<Vec<Value>>>,
    /// What a check refused.
    refused: Arc<Mutex<Vec<String>>>,
    /// Requests to refuse with a 500 first.
    fail_first: Arc<Mutex<u32>>,
}

const RESERVED: [&str; 22] = [
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_impression",
    "ad_query",
    "adunit_exposure",
    "app_clear_data",
    "app_install",
    "app_update",
    "app_remove",
    "error",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "screen_view",
    "session_start",
    "user_engagement",
];

fn ga4_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !["firebase_", "ga_", "google_", "gtag."]
            .iter()
            .any(|p| name.starts_with(p))
}

/// GA4's documented rules for a Measurement Protocol body.
fn check_ga4(body: &Value, now: Timestamp) -> Result<(), String> {
    let object = body.as_object().ok_or("the body is not an object")?;
    for key in object.keys() {
        if ![
            "client_id",
            "user_id",
            "timestamp_micros",
            "user_properties",
            "consent",
            "events",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown field {key}"));
        }
    }
    let client = body["client_id"].as_str().ok_or("client_id is required")?;
    if client.is_empty() {
        return Err("client_id is empty".into());
    }
    if body
        .get("user_id")
        .is_some_and(|u| u.as_str().is_none_or(|u| u.len() > 256))
    {
        return Err("user_id is a string of at most 256 characters".into());
    }
    let events = body["events"].as_array().ok_or("events is required")?;
    if !(1..=25).contains(&events.len()) {
        return Err(format!("{} events; 1 to 25 per request", events.len()));
    }
    for event in events {
        let name = event["name"].as_str().ok_or("an event has no name")?;
        if !ga4_name(name) || RESERVED.contains(&name) {
            return Err(format!("event name {name} is not allowed"));
        }
        let micros = event["timestamp_micros"].as_i64().ok_or("timestamp_micros")?;
        let age = now.as_microsecond() - micros;
        if !(-60_000_000..72 * 3_600_000_000).contains(&age) {
            return Err(format!("{name} is {age} µs old"));
        }
        let params = event["params"].as_object().ok_or("params is an object")?;
        if params.len() > 25 {
            return Err(format!("{name} has {} params", params.len()));
        }
        for (key, value) in params {
            if !ga4_name(key) {
                return Err(format!("param name {key} is not allowed"));
            }
            if value.as_str().is_some_and(|v| v.chars().count() > 100) {
                return Err(format!("param {key} is longer than 100 characters"));
            }
            if key == "items"
                && value
                    .as_array()
                    .is_none_or(|items| items.iter().any(|i| i["item_id"].as_str().is_none()))
            {
                return Err("items are objects with an item_id".into());
            }
        }
    }
    Ok(())
}

/// PostHog's batch capture body.
fn check_posthog(body: &Value) -> Result<(), String> {
    if body["api_key"] != "phc_test" {
        return Err("api_key".into());
    }
    let batch = body["batch"].as_array().ok_or("batch is an array")?;
    if batch.is_empty() {
        return Err("an empty batch".into());
    }
    for event in batch {
        let name = event["event"].as_str().ok_or("event is a string")?;
        let distinct = event["distinct_id"].as_str().ok_or("distinct_id is a string")?;
        if name.is_empty() || distinct.is_empty() || distinct.len() > 200 {
            return Err(format!("{name}: event and distinct_id are required"));
        }
        event["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .ok_or("timestamp is ISO 8601")?;
        let uuid = event["uuid"].as_str().ok_or("uuid")?;
        if uuid.len() != 36 || uuid.matches('-').count() != 4 {
            return Err(format!("{uuid} is not a UUID"));
        }
        let properties = event["properties"].as_object().ok_or("properties is an object")?;
        if properties.get("$process_person_profile") == Some(&json!(false)) && properties.contains_key("$set") {
            return Err("an anonymous event sets person properties".into());
        }
    }
    Ok(())
}

/// Serves the stand-in on `listener`, on the world's runtime.
fn serve(world: &World, stand_in: &StandIn, listener: std::net::TcpListener) {
    async fn ga4(State(s): State<StandIn>, Query(q): Query<Vec<(String, String)>>, body: String) -> StatusCode {
        if std::mem::take(&mut *s.fail_first.lock().unwrap()) > 0 {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        let query_ok = q.contains(&("measurement_id".into(), "G-TEST".into()))
            && q.contains(&("api_secret".into(), "secret".into()));
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        match check_ga4(&body, Timestamp::now()).and(if query_ok { Ok(()) } else { Err("query".into()) }) {
            Ok(()) => {
                let user = body["user_id"].as_str().map(str::to_owned);
                for event in body["events"].as_array().unwrap() {
                    let client = body["client_id"].as_str().unwrap().to_owned();
                    s.ga4.lock().unwrap().push((client, user.clone(), event.clone()));
                }
                StatusCode::NO_CONTENT
            }
            Err(why) => {
                s.refused.lock().unwrap().push(format!("ga4: {why}"));
                StatusCode::BAD_REQUEST
            }
        }
    }
    async fn posthog(State(s): State<StandIn>, body: String) -> StatusCode {
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        match check_posthog(&body) {
            Ok(()) => {
                s.posthog
                    .lock()
                    .unwrap()
                    .extend(body["batch"].as_array().unwrap().iter().cloned());
                StatusCode::OK
            }
            Err(why) => {
                s.refused.lock().unwrap().push(format!("posthog: {why}"));
                StatusCode::BAD_REQUEST
            }
        }
    }
    let app = axum::Router::new()
        .route("/mp/collect", axum::routing::post(ga4))
        .route("/batch/", axum::routing::post(posthog))
        .with_state(stand_in.clone());
    listener.set_nonblocking(true).unwrap();
    world.rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await
    });
}

#[test]
fn events_reach_ga4_and_posthog_in_their_formats_and_anonymous_ones_stay_anonymous() {
    // The stand-in's address is known before the hub starts; it serves once the world's
    // runtime is up (the hub's first tries wait in the listener's backlog).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stand_in = StandIn::default();
    *stand_in.fail_first.lock().unwrap() = 1;
    let mut config = vitrine::hub::Config::default();
    config.export.hosts_allowed = vec!["127.0.0.1".parse().unwrap()];
    config.export.ga4 = Some(vitrine::hub::config::Ga4 {
        measurement_id: "G-TEST".into(),
        api_secret: "secret".into(),
        url: format!("{base}/mp/collect"),
    });
    config.export.posthog = Some(vitrine::hub::config::PostHog {
        api_key: "phc_test".into(),
        host: base.clone(),
    });
    let world = World::with_config(config);
    serve(&world, &stand_in, listener);
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);

    // Ana consents and signs in; the other visit is anonymous.
    kiosk.edit("c-ana", &sku, vitrine::protocol::Action::Add);
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
    let now = Timestamp::now().to_string();
    let events = json!({ "events": [
        { "id": "1", "at": now, "visit": "visit-c-ana", "detail": { "kind": "signed_in", "method": "app_code" } },
        { "id": "2", "at": now, "visit": "visit-c-ana", "detail": { "kind": "product_viewed", "sku": sku, "source": "search" } },
        { "id": "3", "at": now, "visit": "anon1", "detail": { "kind": "visit_started" } },
        { "id": "4", "at": now, "visit": "anon1", "detail": { "kind": "wishlist_added", "sku": sku } },
        { "id": "5", "at": now, "visit": "anon1", "detail": { "kind": "searched", "query": "robe rouge", "results": 3 } },
        { "id": "6", "at": now, "detail": { "kind": "stock_looked_up", "sku": sku } },
        { "id": "7", "at": now, "visit": "anon1", "detail": { "kind": "visit_ended", "seconds": 40, "reason": "idle" } },
    ] });
    let (status, body) = world.json(Method::POST, "/v1/kiosk/events", Some(&kiosk.token()), &events);
    assert_eq!(status, 200, "{body}");

    // Six go to each tool (the staff look-up does not), the first GA4 batch after a 500.
    wait_until("every event exported", Duration::from_secs(30), || {
        stand_in.ga4.lock().unwrap().len() >= 6 && stand_in.posthog.lock().unwrap().len() >= 6
    });
    assert_eq!(*stand_in.refused.lock().unwrap(), Vec::<String>::new());
    let ga4 = stand_in.ga4.lock().unwrap().clone();
    let names: Vec<&str> = ga4.iter().map(|(_, _, e)| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "login",
            "view_item",
            "kiosk_visit_start",
            "add_to_wishlist",
            "kiosk_visit_end",
            "kiosk_search"
        ]
    );
    // A visit goes under a pseudonym no visits feed or link carries: not its id.
    let pseudonym = |name: &str| {
        let (client, _, _) = ga4.iter().find(|(_, _, e)| e["name"] == name).unwrap();
        assert!(
            client.len() == 32 && client.chars().all(|c| c.is_ascii_hexdigit()),
            "{client}"
        );
        client.clone()
    };
    let (ana, anon) = (pseudonym("login"), pseudonym("kiosk_visit_start"));
    assert_ne!(ana, anon);
    for (client, user, event) in &ga4 {
        match event["name"].as_str().unwrap() {
            "login" | "view_item" => assert_eq!((client, user.as_deref()), (&ana, Some("c-ana"))),
            "kiosk_search" => {
                assert_eq!(
                    (client.as_str(), user.as_deref()),
                    (format!("shop.{}", vitrine::demo::HOME_STORE).as_str(), None)
                );
                assert!(event["params"].get("search_term").is_none(), "{event}");
            }
            _ => assert_eq!((client, user.as_deref()), (&anon, None)),
        }
    }
    let posthog = stand_in.posthog.lock().unwrap().clone();
    assert_eq!(posthog.len(), 6, "{posthog:?}");
    for event in &posthog {
        let anonymous = event["properties"]["$process_person_profile"] == json!(false);
        assert_eq!(anonymous, event["distinct_id"] != "c-ana", "{event}");
        assert!(event["properties"].get("query").is_none());
        let visit = event["properties"]["visit"].as_str().unwrap_or_default();
        assert!(!["anon1", "visit-c-ana"].contains(&visit), "{event}");
    }
}
