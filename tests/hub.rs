//! The hub's API at its edges: credentials, bad input, the published document, catalog
//! distribution to kiosks.

use reqwest::Method;
use serde_json::json;
use vitrine::catalog::Catalog;
use vitrine::protocol::Action;

use crate::world::{World, quick_policy};

fn token_of(kiosk: &crate::world::Kiosk) -> String {
    let mut catalog = Catalog::open(&kiosk.db).unwrap();
    vitrine::sync::outbox::device(catalog.connection())
        .unwrap()
        .unwrap()
        .token
}

#[test]
fn credentials_are_checked_and_named_precisely() {
    let world = World::new();
    let device = token_of(&world.kiosk("tablet"));
    let batch = json!({ "stream": "s", "ops": [] });
    let cases: [(&str, Option<&str>, u16, &str); 5] = [
        ("/v1/kiosk/ops", None, 401, "missing_credential"),
        ("/v1/kiosk/ops", Some("vtk_not-a-real-one"), 401, "invalid_credential"),
        ("/v1/kiosk/ops", Some(&world.key), 403, "wrong_credential"),
        ("/v1/webstore/ops", Some(&device), 403, "wrong_credential"),
        ("/v1/webstore/ops", Some("vws_unknown"), 401, "invalid_credential"),
    ];
    for (path, token, status, code) in cases {
        let (got, body) = world.json(Method::POST, path, token, &batch);
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{path} {token:?}: {body}"
        );
    }
    let (got, body) = world.request(
        Method::GET,
        &format!("{}/v1/webstore/wishlist/changes", world.hub.url()),
        Some(&device),
        None,
        None,
    );
    assert_eq!((got, body["code"].as_str()), (403, Some("wrong_credential")));

    // A key without a scope is refused what the scope allows.
    let conn = crate::world::hub_conn(&world.hub_data());
    let reader = vitrine::hub::store::create_key(
        &conn,
        "reader",
        &[vitrine::hub::auth::Scope::WishlistRead],
        jiff::Timestamp::now(),
    )
    .unwrap();
    let (got, body) = world.json(
        Method::DELETE,
        "/v1/webstore/customers/c-1",
        Some(&reader),
        &json!(null),
    );
    assert_eq!((got, body["code"].as_str()), (403, Some("missing_scope")), "{body}");
}

#[test]
fn enrollment_codes_work_once_and_only_for_their_shop() {
    let world = World::new();
    let conn = crate::world::hub_conn(&world.hub_data());
    let code = vitrine::hub::store::create_enroll_code(&conn, "LYON", jiff::Timestamp::now()).unwrap();
    let sloppy = code.to_lowercase().replace('-', " ");
    let (status, body) = world.json(Method::POST, "/v1/kiosk/enroll", None, &json!({ "code": sloppy }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["store_code"], "LYON");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("vtk_"));
    let (status, body) = world.json(Method::POST, "/v1/kiosk/enroll", None, &json!({ "code": code }));
    assert_eq!((status, body["code"].as_str()), (403, Some("invalid_enroll_code")));
    assert!(body["message"].as_str().unwrap().contains("already used"));
    let (status, _) = world.json(
        Method::POST,
        "/v1/kiosk/enroll",
        None,
        &json!({ "code": "AAAA-BBBB-CCCC" }),
    );
    assert_eq!(status, 403);
    // The hub keeps only the token's hash.
    let count = |value: Vec<u8>| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM device WHERE token_hash = ?1",
            vitrine::db::params![value],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count(token.clone().into_bytes()), 0);
    assert_eq!(count(vitrine::hub::auth::hash(&token)), 1);
}

#[test]
fn bad_bodies_get_precise_answers_and_change_nothing() {
    let world = World::new();
    let device = token_of(&world.kiosk("tablet"));
    let url = format!("{}/v1/kiosk/ops", world.hub.url());
    let send = |body: Vec<u8>, ct: &str| world.request(Method::POST, &url, Some(&device), Some(body), Some(ct));
    let sku = world.skus(1).remove(0);
    let good_op = json!({ "seq": 1, "hlc": 1, "owner": { "visit": "v" }, "sku": sku, "action": "add", "session": "v" });

    let (status, body) = send(b"{\"stream\": \"s\", \"ops\": [".to_vec(), "application/json");
    assert_eq!((status, body["code"].as_str()), (400, Some("malformed_json")), "{body}");
    let (status, body) = send(b"{}".to_vec(), "text/plain");
    assert_eq!((status, body["code"].as_str()), (415, Some("not_json")));
    let unknown = json!({ "stream": "s", "ops": [good_op], "extra": 1 });
    let (status, body) = send(serde_json::to_vec(&unknown).unwrap(), "application/json");
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_field")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("extra"), "{body}");
    let huge = vec![b' '; 2 * 1024 * 1024];
    refused_as_too_large(
        &world,
        world
            .http
            .post(&url)
            .bearer_auth(&device)
            .header("content-type", "application/json")
            .body(huge),
    );
    let long_stream = json!({ "stream": "s".repeat(10_000), "ops": [good_op] });
    let (status, body) = send(serde_json::to_vec(&long_stream).unwrap(), "application/json");
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_batch")), "{body}");
    let ops: Vec<_> = (1..=501)
        .map(|seq| json!({ "seq": seq, "hlc": 1, "owner": { "customer": "c" }, "sku": "X", "action": "add" }))
        .collect();
    let (status, body) = send(
        serde_json::to_vec(&json!({ "stream": "s", "ops": ops })).unwrap(),
        "application/json",
    );
    assert_eq!((status, body["code"].as_str()), (413, Some("too_many_ops")));
    // A huge SKU in one op: that op is rejected, the batch is stored.
    let batch = json!({ "stream": "s", "ops": [good_op, { "seq": 2, "hlc": 2, "owner": { "customer": "c" }, "sku": "x".repeat(5000), "action": "add" }] });
    let (status, body) = send(serde_json::to_vec(&batch).unwrap(), "application/json");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][1]["reason"], "invalid");
    assert_eq!(
        world.pull_all(10).0.len(),
        1,
        "only the valid op, and nothing from the refused bodies"
    );

    let (status, body) = world.request(
        Method::GET,
        &format!("{}/v1/webstore/wishlist/changes?cursor=bm9wZQ&limit=5", world.hub.url()),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_cursor")));
    let (status, body) = world.request(
        Method::GET,
        &format!("{}/v1/webstore/wishlist/changes?limit=0", world.hub.url()),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_limit")));
    let (status, body) = world.request(
        Method::POST,
        &format!("{}/v1/webstore/feeds/products", world.hub.url()),
        Some(&world.key),
        Some(b"<rss><channel><item><g:id>".to_vec()),
        None,
    );
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_feed")), "{body}");
    assert!(world.skus(2000).len() > 100, "the catalog is as it was");
}

/// The web store names the currency of a feed whose prices carry none; the answer lists
/// the warnings apart from the rejections.
#[test]
fn an_upload_names_the_currency_of_bare_prices_and_gets_its_warnings() {
    let world = World::empty();
    let csv = b"id,title,price,link,availability\nP-1,Bol,24,https://shop.example/p-1,in stock\nP-2,Tasse,,https://shop.example/p-2,in stock\n";
    let url = |query: &str| format!("{}/v1/webstore/feeds/products?lang=fr{query}", world.hub.url());
    let (status, body) = world.request(
        Method::POST,
        &url("&currency=EURO"),
        Some(&world.key),
        Some(csv.to_vec()),
        None,
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_currency")),
        "{body}"
    );
    let (status, body) = world.request(
        Method::POST,
        &url("&currency=eur"),
        Some(&world.key),
        Some(csv.to_vec()),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 1, "{body}");
    assert_eq!(
        body["rejected"][0], "item 2 (line 3) id=P-2: price is missing",
        "{body}"
    );
    assert_eq!(
        body["warnings"][0], "feed: 1 item has prices without a currency; read in EUR as configured",
        "{body}"
    );
    let (status, body) = world.request(
        Method::POST,
        &format!("{}/v1/webstore/feeds/inventory?currency=CHF", world.hub.url()),
        Some(&world.key),
        Some(b"store_code,id,quantity,price\nGENEVE,P-1,2,30\n".to_vec()),
        None,
    );
    assert_eq!((status, body["imported"].as_u64()), (200, Some(1)), "{body}");
}

/// Sends `request`, whose body is over its route's limit: a `too_large` Problem, and
/// the connection closed after the answer, since the rest of the body is never read (a
/// pooled connection would cut off the next request).
fn refused_as_too_large(world: &World, request: reqwest::RequestBuilder) {
    let response = world.rt.block_on(request.send()).unwrap();
    assert_eq!(
        response.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    let status = response.status().as_u16();
    let body: serde_json::Value = world.rt.block_on(response.json()).unwrap();
    assert_eq!((status, body["code"].as_str()), (413, Some("too_large")), "{body}");
}

/// A feed over `max_feed_mib` gets a Problem, like any refused body, and its connection
/// closes: the next upload goes through on a fresh one.
#[test]
fn a_feed_over_the_limit_is_refused_precisely() {
    let world = World::empty_with(vitrine::hub::Config {
        max_feed_mib: 1,
        ..vitrine::hub::Config::default()
    });
    let products = vitrine::demo::products_fr().into_bytes();
    assert!(products.len() > 1024 * 1024);
    let url = format!("{}/v1/webstore/feeds/products?lang=fr", world.hub.url());
    refused_as_too_large(&world, world.http.post(&url).bearer_auth(&world.key).body(products));
    let summary = world.upload("inventory", vitrine::demo::inventory().into_bytes(), None);
    assert!(summary["imported"].as_u64().unwrap() > 0, "{summary}");
}

/// The served document, as a client generator would read it.
fn openapi(world: &World) -> serde_json::Value {
    let (status, doc) = world.request(
        Method::GET,
        &format!("{}/openapi.json", world.hub.url()),
        None,
        None,
        None,
    );
    assert_eq!(status, 200);
    doc
}

#[test]
fn the_published_document_passes_a_standard_openapi_validator() {
    // openapi-spec-validator, the reference validator in Python, installed by .ci/setup.
    let validator = std::env::var_os("VITRINE_OPENAPI_VALIDATOR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/openapi/bin/openapi-spec-validator"),
        std::path::PathBuf::from,
    );
    assert!(
        validator.exists(),
        "{} is missing: run .ci/setup, which installs the OpenAPI validator",
        validator.display()
    );
    let world = World::empty();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&openapi(&world)).unwrap()).unwrap();
    let checked = std::process::Command::new(&validator).arg(&file).output().unwrap();
    assert!(
        checked.status.success(),
        "the document is not valid OpenAPI 3.1:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    // And a broken one is refused: the validator is not a rubber stamp.
    let mut broken = openapi(&world);
    broken["paths"]["/v1/kiosk/catalog/changes"]["get"]["parameters"][0]["in"] = "path".into();
    std::fs::write(&file, serde_json::to_vec(&broken).unwrap()).unwrap();
    let refused = std::process::Command::new(&validator).arg(&file).output().unwrap();
    assert!(
        !refused.status.success(),
        "a query parameter declared in the path passed"
    );
}

#[test]
fn every_parameter_is_where_the_document_says() {
    let world = World::empty();
    let doc = openapi(&world);
    let mut queries = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let in_path: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let declared: Vec<(&str, &str)> = parameters
                .iter()
                .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
                .collect();
            for (name, place) in &declared {
                match *place {
                    "path" => assert!(in_path.contains(name), "{method} {path}: {name} is no part of the path"),
                    "query" => {
                        queries += 1;
                        assert!(!in_path.contains(name), "{method} {path}: {name} is in the path")
                    }
                    // The one header parameter: a signed-in customer's token.
                    "header" => assert_eq!(*name, vitrine::protocol::CUSTOMER_TOKEN_HEADER, "{method} {path}"),
                    other => panic!("{method} {path}: {name} is in {other}"),
                }
            }
            for name in &in_path {
                assert!(
                    declared.contains(&(name, "path")),
                    "{method} {path}: {{{name}}} is not declared"
                );
            }
            for p in parameters.iter().filter(|p| p["in"] == "path") {
                assert_eq!(p["required"], true, "{method} {path}: a path parameter is required");
            }
        }
    }
    // cursor and limit on four feeds, url, lang.
    assert!(queries >= 10, "only {queries} query parameters are documented");
}

#[test]
fn the_published_document_matches_the_routes() {
    let world = World::empty();
    let doc = openapi(&world);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{:?}", paths.keys());
    for (path, methods) in paths {
        let concrete = path.replace("{customer}", "c-1");
        for method in methods.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = world.request(
                method.clone(),
                &format!("{}{concrete}", world.hub.url()),
                None,
                None,
                None,
            );
            assert!(
                status != 404 && status != 405,
                "{method} {path} is documented but not served: {status} {body}"
            );
        }
    }
    let (status, body) = world.request(
        Method::GET,
        &format!("{}/v1/nothing-here", world.hub.url()),
        None,
        None,
        None,
    );
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    for schema in ["PushRequest", "PushResponse", "WishlistPage", "CatalogPage", "Problem"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} is documented"
        );
    }
}

#[test]
fn a_kiosk_pulls_the_catalog_and_then_only_what_changed() {
    let world = World::new();
    world.upload("products", vitrine::demo::products_en().into_bytes(), Some("en"));
    let kiosk = world.kiosk("tablet");
    let syncer = kiosk.syncer(quick_policy());
    let pulled = world.rt.block_on(syncer.pull_catalog()).unwrap();
    let hub_count: i64 = crate::world::hub_conn(&world.hub_data())
        .query_row(
            "SELECT (SELECT COUNT(*) FROM variant) + (SELECT COUNT(*) FROM stock)",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pulled as i64, hub_count);
    let catalog = Catalog::open(&kiosk.db).unwrap();
    assert!(catalog.lookup(&world.skus(1)[0]).unwrap().is_some());
    let mut q = vitrine::catalog::Query::new("fr", jiff::Timestamp::now());
    q.text = "robe".into();
    let before = catalog.search(&q).unwrap();
    assert!(!before.is_empty());
    assert_eq!(world.rt.block_on(syncer.pull_catalog()).unwrap(), 0, "nothing new");

    // The web store drops one shop's line and a product: only that travels.
    let inventory = vitrine::demo::inventory();
    let mut lines: Vec<&str> = inventory.lines().collect();
    let dropped = lines.remove(1).to_owned();
    world.upload("inventory", lines.join("\n").into_bytes(), None);
    let feed = vitrine::demo::products_fr();
    let first_item_end = feed.find("</item>").unwrap() + "</item>".len();
    let first_item_start = feed.find("<item>").unwrap();
    let removed_sku = {
        let item = &feed[first_item_start..first_item_end];
        let id = item.split("<g:id>").nth(1).unwrap();
        id.split("</g:id>").next().unwrap().to_owned()
    };
    let smaller = format!("{}{}", &feed[..first_item_start], &feed[first_item_end..]);
    world.upload("products", smaller.into_bytes(), Some("fr"));
    assert_eq!(world.rt.block_on(syncer.pull_catalog()).unwrap(), 2);
    let mut catalog = Catalog::open(&kiosk.db).unwrap();
    let (store, sku) = {
        let mut cells = dropped.split('\t');
        (cells.next().unwrap().to_owned(), cells.next().unwrap().to_owned())
    };
    let left: i64 = catalog
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM stock WHERE store_code = ?1 AND sku = ?2",
            [&store, &sku],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let gone: i64 = catalog
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM variant WHERE lang = 'fr' AND sku = ?1",
            [&removed_sku],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0);
    // An edit made before and a sync after: the outbox and the catalog live side by side.
    kiosk.edit("c-1", &world.skus(3)[2], Action::Add);
    world.rt.block_on(syncer.drain()).unwrap();
    assert_eq!(kiosk.status().pending, 0);
}

#[test]
fn catalog_pages_end_at_every_edge() {
    let page = 4;
    for n in [0_usize, 1, page - 1, page, page + 1] {
        let world = World::empty();
        let token = token_of(&world.kiosk("tablet"));
        if n > 0 {
            let rows: String = (0..n)
                .map(|i| format!("P-{i}\tT\t1.00 EUR\tin stock\thttps://shop.example/{i}\n"))
                .collect();
            world.upload(
                "products",
                format!("id\ttitle\tprice\tavailability\tlink\n{rows}").into_bytes(),
                Some("fr"),
            );
        }
        let mut cursor = String::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut pages = 0;
        loop {
            let url = format!(
                "{}/v1/kiosk/catalog/changes?limit={page}&cursor={cursor}",
                world.hub.url()
            );
            let (status, body) = world.request(Method::GET, &url, Some(&token), None, None);
            assert_eq!(status, 200, "{body}");
            pages += 1;
            for change in body["changes"].as_array().unwrap() {
                assert!(
                    seen.insert(change["variant"]["sku"].as_str().unwrap().to_owned()),
                    "twice: {change}"
                );
            }
            let next = body["next_cursor"].as_str().unwrap().to_owned();
            if body["has_more"] == false {
                // Asking again from the end gives an empty page with the same cursor.
                let url = format!(
                    "{}/v1/kiosk/catalog/changes?limit={page}&cursor={next}",
                    world.hub.url()
                );
                let (_, again) = world.request(Method::GET, &url, Some(&token), None, None);
                assert_eq!(again["changes"].as_array().unwrap().len(), 0);
                assert_eq!(again["next_cursor"].as_str(), Some(next.as_str()));
                break;
            }
            cursor = next;
            assert!(pages < 100);
        }
        assert_eq!(seen.len(), n, "n={n}");
        assert_eq!(pages, n.div_ceil(page).max(1), "n={n}");
    }
}
