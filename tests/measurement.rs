//! What the shop brought, end to end: a kiosk's visit recorded in its SQLite file and
//! synced, the web store's consent and orders over HTTP, and the reports that credit
//! the shop, the kiosk and the visit under the stated rule.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use vitrine::hub::auth::Scope;
use vitrine::protocol::measure::{EventDetail, OrderCredit, ShopsReport, SignInMethod, ViewSource, VisitEnd};
use vitrine::protocol::{Action, Owner};
use vitrine::sync::{events, outbox};

use crate::world::{Kiosk, World, quick_policy};

const SHOP: &str = vitrine::demo::HOME_STORE;

/// A hub whose shops count their days in Paris.
fn world() -> World {
    let mut config = vitrine::hub::Config::default();
    config.measurement.time_zone = Some("Europe/Paris".to_owned());
    World::with_config(config)
}

/// A visit at `kiosk` as a shopper makes it: they look at `sku` and save it, then sign
/// in as `customer` (their saved line moves to their list), and are done. Returns the
/// visit's id.
pub(crate) fn visit(world: &World, kiosk: &Kiosk, customer: Option<&str>, sku: &str) -> String {
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    let conn = catalog.connection();
    let id = vitrine::protocol::new_id();
    let now = Timestamp::now();
    let record = |conn: &rusqlite::Connection, detail| {
        events::record(conn, &events::new_event(now, Some(&id), detail)).unwrap();
    };
    record(conn, EventDetail::VisitStarted);
    record(
        conn,
        EventDetail::ProductViewed {
            sku: sku.to_owned(),
            source: ViewSource::Search,
        },
    );
    let anonymous = Owner::Visit(id.clone());
    outbox::edit(conn, now, &anonymous, sku, Action::Add, Some(&id)).unwrap();
    if let Some(customer) = customer {
        let minted = world.mint(customer);
        let alias = Owner::Alias(minted.customer_alias.clone());
        outbox::sign_in(conn, now, &id, &alias, &minted.token).unwrap();
        record(
            conn,
            EventDetail::SignedIn {
                method: SignInMethod::AppCode,
            },
        );
    }
    record(
        conn,
        EventDetail::VisitEnded {
            seconds: 95,
            reason: VisitEnd::Done,
        },
    );
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(async {
        syncer.drain().await.unwrap();
        syncer.push_events().await.unwrap();
    });
    id
}

pub(crate) fn consent(world: &World, customer: &str, yes: bool) {
    let (status, body) = world.json(
        Method::PUT,
        &format!("/v1/webstore/customers/{customer}/consent"),
        Some(&world.key),
        &json!({ "measurement": yes }),
    );
    assert_eq!(status, 200, "{body}");
}

pub(crate) fn order(id: &str, customer: &str, placed_at: Timestamp, sku: &str, quantity: u32) -> Value {
    json!({ "order_id": id, "customer": customer, "placed_at": placed_at.to_string(), "currency": "EUR",
        "lines": [{ "sku": sku, "quantity": quantity, "unit_price": "59.90" }] })
}

pub(crate) fn post_order(world: &World, body: &Value) -> (u16, Value) {
    world.json(Method::POST, "/v1/webstore/orders", Some(&world.key), body)
}

fn credit(world: &World, order_id: &str) -> OrderCredit {
    let url = format!("{}/v1/webstore/orders/{order_id}", world.hub.url());
    let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// The shops report over the days around now, for the demo's home shop.
fn report(world: &World, from: &str, to: &str) -> ShopsReport {
    let url = format!("{}/v1/webstore/reports/shops?from={from}&to={to}", world.hub.url());
    let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

pub(crate) fn around_now() -> (String, String) {
    let today = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    (
        today.yesterday().unwrap().to_string(),
        today.tomorrow().unwrap().to_string(),
    )
}

fn shop(report: &ShopsReport) -> vitrine::protocol::measure::Figures {
    report
        .shops
        .iter()
        .find(|s| s.store_code == SHOP)
        .map(|s| s.figures.clone())
        .unwrap_or_default()
}

#[test]
fn a_kiosk_visit_then_an_online_order_is_credited_to_the_shop_the_kiosk_and_the_visit() {
    let world = world();
    let kiosk = world.pulled_kiosk("k1");
    let device_id = vitrine::sync::outbox::device(vitrine::catalog::Catalog::open(&kiosk.db).unwrap().connection())
        .unwrap()
        .unwrap()
        .device_id;
    let sku = world.skus(1).remove(0);
    consent(&world, "c-alice", true);
    let alice_visit = visit(&world, &kiosk, Some("c-alice"), &sku);
    // Bob did not consent: his visit counts, anonymously, and his order is not linked.
    visit(&world, &kiosk, Some("c-bob"), &sku);
    visit(&world, &kiosk, None, &sku);

    let placed = Timestamp::now();
    let (status, body) = post_order(&world, &order("o-1", "c-alice", placed, &sku, 2));
    assert_eq!((status, body["status"].as_str()), (200, Some("created")), "{body}");
    // The same order again changes nothing; a different one under its id is refused.
    let (status, body) = post_order(&world, &order("o-1", "c-alice", placed, &sku, 2));
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")), "{body}");
    let (status, body) = post_order(&world, &order("o-1", "c-alice", placed, &sku, 3));
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    let (status, _) = post_order(&world, &order("o-bob", "c-bob", placed, &sku, 1));
    assert_eq!(status, 200);

    let credited = credit(&world, "o-1");
    let touch = credited.attributed.expect("credited to the kiosk");
    assert_eq!(
        (touch.store_code.as_str(), touch.device_id, touch.visit.as_deref()),
        (SHOP, Some(device_id), Some(alice_visit.as_str()))
    );
    assert_eq!(credited.revenue.amount, "119.80");
    assert!(credit(&world, "o-bob").attributed.is_none(), "no consent, no link");

    let (from, to) = around_now();
    let figures = shop(&report(&world, &from, &to));
    assert_eq!(
        (figures.visits, figures.identified_visits, figures.median_visit_seconds),
        (3, 2, 95)
    );
    assert_eq!((figures.product_views, figures.wishlist_adds), (3, 3));
    assert_eq!(figures.orders_attributed, 1);
    assert_eq!(figures.revenue_attributed[0].amount, "119.80");
    assert_eq!(figures.revenue_attributed[0].currency, "EUR");
    assert_eq!(figures.orders_assisted, 1);

    // A resent batch of events changes nothing.
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(syncer.push_events()).unwrap();
    assert_eq!(shop(&report(&world, &from, &to)).visits, 3);

    // One unit refunded, then the rest: the order leaves the figures.
    let refund = |id: &str, lines: Option<Value>| {
        let mut body = json!({ "refund_id": id });
        if let Some(lines) = lines {
            body["lines"] = lines;
        }
        world.json(Method::POST, "/v1/webstore/orders/o-1/refunds", Some(&world.key), &body)
    };
    assert_eq!(refund("r-1", Some(json!([{ "sku": sku, "quantity": 1 }]))).0, 200);
    assert_eq!(
        refund("r-1", Some(json!([{ "sku": sku, "quantity": 1 }]))).1["status"],
        "duplicate"
    );
    assert_eq!(refund("r-2", Some(json!([{ "sku": sku, "quantity": 5 }]))).0, 422);
    assert_eq!(shop(&report(&world, &from, &to)).revenue_attributed[0].amount, "59.90");
    assert_eq!(refund("r-3", None).0, 200);
    let figures = shop(&report(&world, &from, &to));
    assert_eq!((figures.orders_attributed, figures.revenue_attributed.len()), (0, 0));
}

#[test]
fn the_window_consent_and_erasure_decide_what_is_linked() {
    let world = world();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    consent(&world, "c-carol", true);
    visit(&world, &kiosk, Some("c-carol"), &sku);
    let now = Timestamp::now();
    let day = SignedDuration::from_hours(24);
    assert_eq!(
        post_order(&world, &order("before-visit", "c-carol", now - day, &sku, 1)).0,
        200
    );
    assert_eq!(post_order(&world, &order("in-window", "c-carol", now, &sku, 1)).0, 200);
    assert!(
        credit(&world, "before-visit").attributed.is_none(),
        "a touch comes before the order"
    );
    // The sign-in moved back in time, as if it had been that long ago.
    let signed_in_ago = |days: i32| {
        crate::world::hub_conn(&world.hub_data())
            .execute(
                "UPDATE visit SET signed_in_at = ?1 WHERE customer = 'c-carol'",
                vitrine::db::params![(now - day * days).as_millisecond()],
            )
            .unwrap();
    };
    signed_in_ago(29);
    assert!(credit(&world, "in-window").attributed.is_some());
    signed_in_ago(31);
    assert!(
        credit(&world, "in-window").attributed.is_none(),
        "a day past the 30-day window"
    );
    signed_in_ago(29);
    // An order dated more than a day ahead of the hub's clock is refused.
    let (status, _) = post_order(&world, &order("future", "c-carol", now + day * 2, &sku, 1));
    assert_eq!(status, 422);

    // Consent withdrawn: the link goes at once; given again, it is back.
    consent(&world, "c-carol", false);
    assert!(credit(&world, "in-window").attributed.is_none());
    consent(&world, "c-carol", true);
    assert!(credit(&world, "in-window").attributed.is_some());

    // Erased: consent and orders go, and no new order is taken for them.
    world.erase("c-carol");
    let url = format!("{}/v1/webstore/orders/in-window", world.hub.url());
    assert_eq!(world.request(Method::GET, &url, Some(&world.key), None, None).0, 404);
    let (status, body) = post_order(&world, &order("after-erasure", "c-carol", now, &sku, 1));
    assert_eq!((status, body["code"].as_str()), (409, Some("customer_erased")));
    let conn = crate::world::hub_conn(&world.hub_data());
    let left: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM consent WHERE customer = 'c-carol')
                  + (SELECT COUNT(*) FROM web_order WHERE customer = 'c-carol')",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_landing_through_a_kiosk_link_is_the_last_touch() {
    let world = world();
    let (k1, k2) = (world.pulled_kiosk("k1"), world.pulled_kiosk("k2"));
    let sku = world.skus(1).remove(0);
    consent(&world, "c-dan", true);
    visit(&world, &k1, Some("c-dan"), &sku);
    // An anonymous visit at the second kiosk shows "take my list"; the order lands from it.
    let list_visit = visit(&world, &k2, None, &sku);
    let mut body = order("o-landed", "c-dan", Timestamp::now(), &sku, 1);
    body["utm_source"] = json!("vitrine");
    body["store"] = json!(SHOP);
    body["visit"] = json!(list_visit);
    assert_eq!(post_order(&world, &body).0, 200);
    let credited = credit(&world, "o-landed");
    assert_eq!(credited.attributed.unwrap().visit.as_deref(), Some(list_visit.as_str()));
    assert_eq!(
        credited.assisted.len(),
        2,
        "both visits assisted: {:?}",
        credited.assisted
    );
    // Per kiosk: the second is credited, the first assisted.
    let (from, to) = around_now();
    let url = format!("{}/v1/webstore/reports/kiosks?from={from}&to={to}", world.hub.url());
    let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{body}");
    let rows: Vec<(u64, u64)> = body["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["orders_attributed"].as_u64().unwrap(),
                k["orders_assisted"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [(0, 1), (1, 1)], "{body}");
}

#[test]
fn days_are_the_shops_local_days() {
    let world = world();
    let kiosk = world.pulled_kiosk("k1");
    // Ten days ago, 23:30 UTC is already the next day in Paris (UTC+1 in winter, +2 in
    // summer), and 21:30 UTC is still the same day.
    let day = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date() - jiff::Span::new().days(10);
    let next = day.tomorrow().unwrap();
    let at = |time: &str| format!("{day}T{time}Z");
    let batch = json!({ "events": [
        { "id": "e1", "at": at("23:30:00"), "visit": "late", "detail": { "kind": "visit_started" } },
        { "id": "e2", "at": at("21:30:00"), "visit": "early", "detail": { "kind": "visit_started" } },
        // Older than 60 days: refused, so that days long reported do not change.
        { "id": "e3", "at": "2020-01-01T12:00:00Z", "visit": "old", "detail": { "kind": "visit_started" } },
        // A kind this hub does not know (a newer kiosk's): refused alone.
        { "id": "e4", "at": at("12:00:00"), "visit": "v", "detail": { "kind": "hologram_shown" } },
        // A sign-in the hub never accepted (no sign-in op with a good token): not identified.
        { "id": "e5", "at": at("23:31:00"), "visit": "late", "detail": { "kind": "signed_in", "method": "app_code" } },
    ] });
    let (status, body) = world.json(Method::POST, "/v1/kiosk/events", Some(&kiosk.token()), &batch);
    assert_eq!(
        (status, body["stored"].as_u64(), body["rejected"].as_u64()),
        (200, Some(3), Some(2)),
        "{body}"
    );
    let (day, next) = (day.to_string(), next.to_string());
    assert_eq!(shop(&report(&world, &day, &day)).visits, 1);
    let late = shop(&report(&world, &next, &next));
    assert_eq!((late.visits, late.identified_visits), (1, 0));
    let url = format!("{}/v1/webstore/reports/days.csv?from={day}&to={next}", world.hub.url());
    let csv = world.rt.block_on(async {
        let response = world.http.get(&url).bearer_auth(&world.key).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        response.text().await.unwrap()
    });
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("day,store_code,visits,"), "{csv}");
    assert!(lines[1].starts_with(&format!("{day},{SHOP},1,")), "{csv}");
    assert!(lines[2].starts_with(&format!("{next},{SHOP},1,")), "{csv}");
}

#[test]
fn bad_measurement_input_gets_a_precise_answer() {
    let world = world();
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    let now = Timestamp::now();
    let mut comma = order("o-x", "c-x", now, &sku, 1);
    comma["lines"][0]["unit_price"] = json!("59,90");
    let mut yen = order("o-y", "c-x", now, &sku, 1);
    yen["currency"] = json!("XYZ");
    let mut none = order("o-z", "c-x", now, &sku, 1);
    none["lines"] = json!([]);
    for body in [comma, yen, none] {
        let (status, answer) = post_order(&world, &body);
        assert_eq!(
            (status, answer["code"].as_str()),
            (422, Some("invalid_order")),
            "{answer}"
        );
    }
    let mut unknown_field = order("o-w", "c-x", now, &sku, 1);
    unknown_field["discount"] = json!("10");
    assert_eq!(post_order(&world, &unknown_field).0, 422);

    let reader = world.key_with("reader", &[Scope::ReportsRead]);
    let (status, body) = world.json(
        Method::POST,
        "/v1/webstore/orders",
        Some(&reader),
        &order("o-r", "c-x", now, &sku, 1),
    );
    assert_eq!((status, body["code"].as_str()), (403, Some("missing_scope")));
    let writer = world.key_with("orders", &[Scope::OrdersWrite]);
    let url = format!(
        "{}/v1/webstore/reports/shops?from=2026-11-01&to=2026-11-30",
        world.hub.url()
    );
    assert_eq!(world.request(Method::GET, &url, Some(&writer), None, None).0, 403);
    for query in [
        "from=2026-11-30&to=2026-11-01",
        "from=2025-01-01&to=2026-11-01",
        "from=today&to=2026-11-01",
    ] {
        let url = format!("{}/v1/webstore/reports/shops?{query}", world.hub.url());
        let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_period")),
            "{query}: {body}"
        );
    }
    // A kiosk's malformed event is refused alone; the rest of its batch is stored.
    let batch = json!({ "events": [
        { "id": "ok", "at": now.to_string(), "visit": "v", "detail": { "kind": "visit_started" } },
        { "id": "no-visit", "at": now.to_string(), "detail": { "kind": "visit_started" } },
        { "id": "long", "at": now.to_string(), "visit": "v", "detail": { "kind": "wishlist_added", "sku": "x".repeat(300) } },
    ] });
    let (status, body) = world.json(Method::POST, "/v1/kiosk/events", Some(&kiosk.token()), &batch);
    assert_eq!(
        (status, body["stored"].as_u64(), body["rejected"].as_u64()),
        (200, Some(1), Some(2)),
        "{body}"
    );
    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({ "id": format!("e{i}"), "at": now.to_string(), "visit": "v", "detail": { "kind": "visit_started" } }))
        .collect();
    let (status, _) = world.json(
        Method::POST,
        "/v1/kiosk/events",
        Some(&kiosk.token()),
        &json!({ "events": too_many }),
    );
    assert_eq!(status, 422);
    // A web store key is not a kiosk's credential.
    let (status, body) = world.json(Method::POST, "/v1/kiosk/events", Some(&world.key), &batch);
    assert_eq!((status, body["code"].as_str()), (403, Some("wrong_credential")));
}

#[test]
fn each_shop_hears_what_is_popular_there_and_its_kiosks_keep_it() {
    let world = world();
    let paris = world.pulled_kiosk("paris");
    let lyon = world.pulled_kiosk_at("lyon", "LYON-CONFLUENCE", &world.hub.url());
    let skus = world.skus(40);
    let (a, b) = (&skus[0], &skus[39]);
    let now = Timestamp::now().to_string();
    let views = |kiosk: &Kiosk, sku: &str, n: usize| {
        let events: Vec<Value> = (0..n)
            .map(|i| {
                json!({ "id": format!("{sku}-{i}"), "at": now, "visit": format!("v-{i}"),
                "detail": { "kind": "product_viewed", "sku": sku, "source": "browse" } })
            })
            .collect();
        let (status, body) = world.json(
            Method::POST,
            "/v1/kiosk/events",
            Some(&kiosk.token()),
            &json!({ "events": events }),
        );
        assert_eq!(status, 200, "{body}");
    };
    views(&paris, a, 7);
    views(&paris, b, 5);
    views(&lyon, b, 6);
    // Fewer than five views (or saves, at three each) in a shop are not shown there.
    views(&lyon, a, 2);
    let popular = |kiosk: &Kiosk| {
        let url = format!("{}/v1/kiosk/popular", world.hub.url());
        let (status, body) = world.request(Method::GET, &url, Some(&kiosk.token()), None, None);
        assert_eq!(status, 200, "{body}");
        body
    };
    let group = |sku: &str| {
        vitrine::catalog::group_of_sku(&crate::world::hub_conn(&world.hub_data()), sku)
            .unwrap()
            .unwrap()
    };
    let (paris_top, lyon_top) = (popular(&paris), popular(&lyon));
    assert_eq!(paris_top["store_code"], SHOP);
    assert_eq!(paris_top["groups"][0]["group_id"], group(a), "{paris_top}");
    assert_eq!(lyon_top["groups"][0]["group_id"], group(b), "{lyon_top}");
    assert_eq!(
        lyon_top["groups"].as_array().unwrap().len(),
        1,
        "only Lyon's own views: {lyon_top}"
    );
    // A web store key is not a kiosk's credential.
    let url = format!("{}/v1/kiosk/popular", world.hub.url());
    assert_eq!(world.request(Method::GET, &url, Some(&world.key), None, None).0, 403);
    // A pull brings it to the kiosk's file.
    world.pull(&paris);
    let kept: Vec<String> = rusqlite::Connection::open(&paris.db)
        .unwrap()
        .prepare("SELECT group_id FROM popular ORDER BY score DESC")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept.first(), Some(&group(a)));
}

#[test]
fn search_texts_are_reported_per_shop_only_once_common() {
    let world = world();
    let kiosk = world.pulled_kiosk("k1");
    let now = Timestamp::now().to_string();
    let searched = |id: &str, query: &str| {
        json!({ "id": id, "at": now, "visit": format!("v-{id}"),
            "detail": { "kind": "searched", "query": query, "results": 2 } })
    };
    let batch = json!({ "events": [
        searched("1", "Robe rouge"), searched("2", "  robe   ROUGE"), searched("3", "robe rouge"),
        searched("4", "jeanne dupont 06 12 34 56 78"),
    ] });
    let (status, body) = world.json(Method::POST, "/v1/kiosk/events", Some(&kiosk.token()), &batch);
    assert_eq!(status, 200, "{body}");
    let (from, to) = around_now();
    let url = format!("{}/v1/webstore/reports/searches?from={from}&to={to}", world.hub.url());
    let (status, body) = world.request(Method::GET, &url, Some(&world.key), None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["shops"],
        json!([{ "store_code": SHOP, "terms": [{ "query": "robe rouge", "searches": 3 }] }]),
        "what one shopper typed is never shown"
    );
    // And no search names its visit at the hub.
    let tied: i64 = crate::world::hub_conn(&world.hub_data())
        .query_row(
            "SELECT COUNT(*) FROM kiosk_event WHERE kind = 'searched' AND visit IS NOT NULL",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tied, 0);
}
