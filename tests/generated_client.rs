//! The web store's side of the API as a developer meets it: a client generated from the
//! hub's `/openapi.json` by openapi-python-client (installed by `.ci/setup`), with every
//! web store endpoint in it, drives a real hub (`tests/webstore_client.py`).

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::Value;
use vitrine::protocol::Action;

use crate::world::{World, quick_policy};

fn tools() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/openapi/bin");
    assert!(
        bin.join("openapi-python-client").exists(),
        "{} lacks openapi-python-client: run .ci/setup",
        bin.display()
    );
    bin
}

/// An operation id as openapi-python-client names its module.
fn module(operation: &str) -> String {
    match operation {
        "list" => "list_".to_owned(),
        other => other.to_owned(),
    }
}

#[test]
fn a_generated_client_reaches_every_web_store_endpoint_and_drives_the_hub() {
    let bin = tools();
    let mut config = vitrine::hub::Config::default();
    config.webhooks.hosts_allowed = vec!["127.0.0.1".parse().unwrap()];
    let world = World::with_config(config);
    let kiosk = world.pulled_kiosk("k1");
    let sku = world.skus(1).remove(0);
    kiosk.edit("c-gen", &sku, Action::Add);
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(async {
        syncer.drain().await.unwrap();
        syncer.push_events().await.unwrap();
    });

    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/openapi.json", world.hub.url());
    let (status, doc) = world.request(Method::GET, &url, None, None, None);
    assert_eq!(status, 200);
    let spec = dir.path().join("openapi.json");
    std::fs::write(&spec, serde_json::to_vec(&doc).unwrap()).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let generated = Command::new(bin.join("openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(&spec)
        .arg("--output-path")
        .arg(dir.path().join("vitrine_hub_client"))
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );

    // Every operation of the web store's side is in the generated client.
    let api = dir.path().join("vitrine_hub_client/api");
    let mut operations = 0;
    for (route, item) in doc["paths"].as_object().unwrap() {
        if !route.starts_with("/v1/webstore/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            let tag = operation["tags"][0].as_str().unwrap();
            let file = api.join(tag).join(format!("{}.py", module(id)));
            assert!(
                file.exists(),
                "{method} {route} ({id}) was not generated: no {}",
                file.display()
            );
            operations += 1;
        }
    }
    assert!(operations >= 34, "{operations} web store operations");

    // A web store's integration, through the generated client only.
    let feeds = dir.path();
    std::fs::write(feeds.join("products.xml"), vitrine::demo::products_fr()).unwrap();
    std::fs::write(feeds.join("inventory.tsv"), vitrine::demo::inventory()).unwrap();
    let day = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::system())
        .date()
        .to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webstore_client.py");
    let ran = Command::new(bin.join("python"))
        .arg(&script)
        .args([&world.hub.url(), &world.key, "c-gen", &sku, &day])
        .arg(feeds.join("products.xml"))
        .arg(feeds.join("inventory.tsv"))
        // No one listens there: deliveries fail, which the client only lists.
        .arg("http://127.0.0.1:9/hooks")
        .env("PYTHONPATH", dir.path())
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    let out: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert!(out["products_unchanged"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(out["secret_prefix"], "whsec_");
    assert_eq!(
        (out["consent"].as_bool(), out["consent_read"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        (out["order"].as_str(), out["order_again"].as_str()),
        (Some("created"), Some("duplicate"))
    );
    assert_eq!(out["credited_store"], vitrine::demo::HOME_STORE, "{out}");
    assert_eq!(out["refund"], "created");
    assert!(
        out["changes"].as_u64().unwrap() >= 1 && out["snapshot"].as_u64().unwrap() >= 1,
        "{out}"
    );
    assert_eq!(out["visits"], serde_json::json!(["c-gen"]));
    assert_eq!(out["list"], serde_json::json!([sku]));
    assert_eq!((out["pushed"].as_u64(), out["minted"].as_u64()), (Some(1), Some(202)));
    assert_eq!(out["erased"], "py-other");
    assert_eq!(out["rule"], "last_touch");
    let shop = &out["shops"][vitrine::demo::HOME_STORE];
    assert_eq!(shop["orders_attributed"], 0, "refunded whole: {out}");
    assert!(out["deliveries"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(out["rotated"], true);
    assert_eq!(out["endpoints"], 1);
    assert_eq!(out["endpoints_after"], 0);
}
