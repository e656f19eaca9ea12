//! The `vitrine` command as ops and scripts use it: real binary, real files.

use std::io::Write;
use std::process::{Command, Stdio};

fn vitrine(args: &[&str]) -> (bool, String, String) {
    vitrine_with_input(args, "")
}

/// Runs `vitrine` with `input` on its standard input (not a terminal): success, stdout,
/// stderr.
pub(crate) fn vitrine_with_input(args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(crate::world::cli_args(args))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_prints_a_summary_then_rejections_and_search_finds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let feed = dir.path().join("p.tsv");
    std::fs::write(
        &feed,
        "id\ttitle\tprice\tavailability\tlink\nA\tRobe d'été\t19.99 EUR\tin stock\thttps://shop.example/A\nB\tJupe\tgratuit\tin stock\thttps://shop.example/B\n",
    )
    .unwrap();
    let inventory = dir.path().join("i.tsv");
    std::fs::write(&inventory, "store_code\tid\tquantity\nPARIS\tA\t2\n").unwrap();
    let (ok, out, err) = vitrine(&[
        "catalog",
        "import",
        "--db",
        db.to_str().unwrap(),
        "--products",
        feed.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "imported=1 updated=0 unchanged=0 removed=0 rejected=1 warnings=0"
    );
    assert_eq!(
        lines[1],
        "inventory imported=1 updated=0 unchanged=0 removed=0 rejected=0 warnings=0"
    );
    assert!(
        lines[2].starts_with("rejected products item 2 (line 3) id=B: price:"),
        "{}",
        lines[2]
    );

    let (ok, out, _) = vitrine(&["catalog", "search", "--db", db.to_str().unwrap(), "ete"]);
    assert!(ok);
    assert!(out.contains("Robe d'été\t19,99\u{a0}€"), "{out}");
}

#[test]
fn a_broken_feed_is_refused_with_its_position_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let good = dir.path().join("good.tsv");
    std::fs::write(
        &good,
        "id\ttitle\tprice\tavailability\tlink\nA\tRobe\t10 EUR\tin stock\thttps://shop.example/A\n",
    )
    .unwrap();
    assert!(
        vitrine(&[
            "catalog",
            "import",
            "--db",
            db.to_str().unwrap(),
            "--products",
            good.to_str().unwrap()
        ])
        .0
    );
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        "<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n<item><g:id>B</g:id></itm>\n</channel></rss>",
    )
    .unwrap();
    let (ok, out, err) = vitrine(&[
        "catalog",
        "import",
        "--db",
        db.to_str().unwrap(),
        "--products",
        broken.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("broken.xml: the feed is not well-formed at 2:") && err.contains("Nothing was imported"),
        "{err}"
    );
    let (_, out, _) = vitrine(&[
        "catalog",
        "search",
        "--db",
        db.to_str().unwrap(),
        "--lang",
        "en",
        "robe",
    ]);
    assert!(out.contains("Robe"), "the catalog is as it was: {out}");
}

#[test]
fn a_csv_export_without_currencies_imports_with_the_one_given_and_lists_its_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let feed = dir.path().join("export.csv");
    std::fs::write(
        &feed,
        "ID,Title,Price,URL,GTIN\r\nA,\"Robe, lin\",69.9,https://shop.example/a,FALSE\r\nB,Jupe,39,https://shop.example/b,\r\n",
    )
    .unwrap();
    let import = |currency: Option<&str>| {
        let mut args = vec![
            "catalog",
            "import",
            "--db",
            db.to_str().unwrap(),
            "--products",
            feed.to_str().unwrap(),
        ];
        if let Some(c) = currency {
            args.extend(["--currency", c]);
        }
        vitrine(&args)
    };
    let (ok, _, err) = import(None);
    assert!(
        !ok && err.contains("none of the feed's 2 items can be used") && err.contains("--currency"),
        "{err}"
    );
    let (ok, _, err) = import(Some("EURO"));
    assert!(!ok && err.contains("'EURO' is not an ISO 4217 currency code"), "{err}");
    let (ok, out, err) = import(Some("eur"));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "imported=2 updated=0 unchanged=0 removed=0 rejected=0 warnings=4"
    );
    assert_eq!(
        &lines[1..],
        [
            "warning products feed: fields read by another name: 'url' as link",
            "warning products item 1 (line 2) id=A: gtin: 'FALSE' is not a GTIN: it must be 8 to 14 digits; ignored",
            "warning products feed: 2 items give neither availability nor quantity; read as in_stock",
            "warning products feed: 2 items have prices without a currency; read in EUR as configured",
        ]
    );
}

#[test]
fn bad_arguments_get_a_clear_answer() {
    let (ok, _, err) = vitrine(&["catalog", "import", "--db", "/nonexistent/x.db"]);
    assert!(
        !ok && err.contains("give --products FEED, --inventory FEED, or both"),
        "{err}"
    );
    let (ok, _, err) = vitrine(&["catalog", "search", "--db", "/nonexistent/x.db", "robe"]);
    assert!(!ok && err.contains("does not exist"), "{err}");
}

#[cfg(feature = "kiosk")]
#[test]
fn snapshot_writes_a_png_of_the_requested_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home.png");
    let (ok, _, err) = vitrine(&[
        "snapshot",
        "--screen",
        "home",
        "--lang",
        "en",
        "--size",
        "1080x1920",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let png = image::open(&out).unwrap();
    assert_eq!((png.width(), png.height()), (1080, 1920));
    let (ok, _, err) = vitrine(&[
        "snapshot",
        "--screen",
        "home",
        "--size",
        "10x10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("between 200 and 8192"), "{err}");
}

/// Store ops' code for a Paris Marais tablet, exchanged by the kiosk at `kiosk`, as the
/// README tells them: returns the (now used) code.
fn enroll_in_paris_marais(hub_data: &str, url: &str, kiosk: &str) -> String {
    let (ok, out, err) = vitrine(&["hub", "enroll-code", "--data", hub_data, "--store", "PARIS-MARAIS"]);
    assert!(ok, "{err}");
    let code = out.lines().last().unwrap().to_owned();
    let (ok, out, err) = vitrine(&["enroll", "--data", kiosk, "--hub", url, "--code", &code]);
    assert!(ok && out.contains("store PARIS-MARAIS"), "{out}{err}");
    code
}

/// The store-ops, kiosk and web-store commands, end to end against a real hub.
#[test]
fn ops_kiosk_and_web_store_commands_work_together() {
    let world = crate::world::World::empty();
    let hub_data = world.hub_data();
    let hub_data = hub_data.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    let (ok, _, err) = vitrine(&["demo", "--write-assets", feeds.to_str().unwrap()]);
    assert!(ok, "{err}");

    let (ok, out, err) = vitrine(&["hub", "key", "create", "--data", hub_data, "--name", "shop-web"]);
    assert!(ok, "{err}");
    let key = out.lines().last().unwrap().to_owned();
    assert!(key.starts_with("vws_"));
    let (ok, _, err) = vitrine(&["hub", "key", "create", "--data", hub_data, "--name", "shop-web"]);
    assert!(!ok && err.contains("exists or existed"), "{err}");

    let url = world.hub.url();
    let products = feeds.join(vitrine::demo::PRODUCTS_FR);
    let inventory = feeds.join(vitrine::demo::INVENTORY);
    let (ok, out, err) = vitrine(&[
        "webstore",
        "upload",
        "--hub",
        &url,
        "--key",
        &key,
        "--products",
        products.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("products imported=914 updated=0"), "{out}");
    assert!(lines[1].starts_with("inventory imported="), "{out}");

    let kiosk = dir.path().join("kiosk");
    let kiosk = kiosk.to_str().unwrap();
    let code = enroll_in_paris_marais(hub_data, &url, kiosk);
    let (ok, _, err) = vitrine(&["enroll", "--data", kiosk, "--hub", &url, "--code", &code]);
    assert!(!ok && err.contains("already used"), "{err}");

    let sku = world.skus(1).remove(0);
    // A kiosk writes a customer's list only for a customer who signed in with a token
    // (checked against the keys the kiosk pulled), as a scan then a tap does.
    let (ok, _, err) = vitrine(&["wishlist", "add", "--data", kiosk, "--customer", "c-7", "--sku", &sku]);
    assert!(!ok, "a kiosk no longer names customers directly: {err}");
    let (ok, _, err) = vitrine(&["wishlist", "add", "--data", kiosk, "--token", "0123", "--sku", &sku]);
    assert!(!ok && err.contains("token keys"), "{err}");
    let (ok, _, err) = vitrine(&["sync", "--data", kiosk, "--once"]);
    assert!(ok, "{err}");
    let (ok, out, err) = vitrine(&["token", "mint", "--data", hub_data, "--customer", "c-7"]);
    assert!(ok, "{err}");
    let token = out.lines().nth(1).unwrap().to_owned();
    let (ok, _, err) = vitrine(&["wishlist", "add", "--data", kiosk, "--token", "0123", "--sku", &sku]);
    assert!(!ok && err.contains("refused"), "{err}");
    let (ok, out, err) = vitrine(&["wishlist", "add", "--data", kiosk, "--token", &token, "--sku", &sku]);
    assert!(ok && out.starts_with("saved"), "{out}{err}");
    let (ok, _, err) = vitrine(&["wishlist", "add", "--data", kiosk, "--token", &token, "--sku", &sku]);
    assert!(!ok && err.contains("already used"), "a token signs in once: {err}");
    let (ok, out, _) = vitrine(&["status", "--data", kiosk]);
    assert!(ok);
    assert!(
        out.starts_with("outbox_pending=2 outbox_rejected=0 events_pending=1"),
        "{out}"
    );
    let (ok, out, err) = vitrine(&["sync", "--data", kiosk, "--once"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("outbox_pending=0 outbox_rejected=0 events_pending=0 last_push=2"),
        "{out}"
    );
    assert!(out.lines().last().unwrap().starts_with("catalog_changes="), "{out}");
    assert!(!out.contains("catalog_cursor=none"), "{out}");

    let (ok, out, err) = vitrine(&["webstore", "pull", "--hub", &url, "--key", &key, "--limit", "10"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let change: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(change["owner"]["customer"], "c-7");
    assert_eq!(change["sku"], sku.as_str());
    assert_eq!(change["origin"]["store_code"], "PARIS-MARAIS");
    let (ok, out, _) = vitrine(&["webstore", "pull", "--hub", &url, "--key", &key, "--cursor", lines[1]]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1, "nothing new: {out}");
    // The web store's own edit, from the command line.
    let (ok, out, err) = vitrine(&[
        "wishlist",
        "add",
        "--customer",
        "c-8",
        "--hub",
        &url,
        "--key",
        &key,
        "--sku",
        &sku,
    ]);
    assert!(ok && out.starts_with("saved for customer c-8"), "{out}{err}");
    let (ok, out, _) = vitrine(&["webstore", "pull", "--hub", &url, "--key", &key, "--cursor", lines[1]]);
    assert!(ok && out.contains("\"c-8\""), "{out}");
    let (ok, _, err) = vitrine(&["webstore", "pull", "--hub", &url, "--key", "vws_wrong"]);
    assert!(!ok && err.contains("invalid_credential"), "{err}");
}

#[test]
fn token_mint_and_key_rotation_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let data = data.to_str().unwrap();
    let (ok, out, err) = vitrine(&["token", "mint", "--data", data, "--customer", "c-ops"]);
    assert!(ok, "{err}");
    let mut lines = out.lines();
    let first = lines.next().unwrap();
    assert!(first.starts_with("customer c-ops alias "), "{first}");
    let token = lines.next().unwrap();
    assert_eq!(token.len(), vitrine::token::DIGITS);
    assert!(token.bytes().all(|b| b.is_ascii_digit()));

    let (ok, out, err) = vitrine(&["hub", "rotate-token-key", "--data", data, "--ahead-minutes", "0"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("token key 2 signs from "), "{out}");
    let (ok, out, _) = vitrine(&[
        "token",
        "mint",
        "--data",
        data,
        "--customer",
        "c-ops",
        "--minutes",
        "61",
    ]);
    assert!(!ok, "{out}");
    let (ok, out, _) = vitrine(&["token", "mint", "--data", data, "--customer", "c-ops"]);
    assert!(ok && out.contains(" key 2 "), "{out}");
}

/// `vitrine hub --demo`: a hub anyone can try a kiosk against, as the kiosk image's
/// smoke test does: the demo store's catalog reaches a kiosk enrolled through the CLI.
#[test]
fn a_demo_hub_serves_the_demo_store_to_an_enrolled_kiosk() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let hub_data = dir.path().join("hub");
    let mut hub = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["hub", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(&hub_data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(hub.stderr.take().unwrap()).lines().map_while(Result::ok);
    let listening = log
        .find(|line| line.contains("hub listening"))
        .expect("the hub says where it listens");
    let addr = listening.split("addr=").nth(1).unwrap().split(' ').next().unwrap();
    let url = format!("http://{addr}");

    let kiosk = dir.path().join("kiosk");
    let kiosk = kiosk.to_str().unwrap();
    enroll_in_paris_marais(hub_data.to_str().unwrap(), &url, kiosk);
    let (ok, out, err) = vitrine(&["sync", "--data", kiosk, "--once"]);
    hub.kill().unwrap();
    hub.wait().unwrap();
    assert!(ok, "{err}");
    let changes: usize = out
        .lines()
        .last()
        .unwrap()
        .strip_prefix("catalog_changes=")
        .unwrap()
        .parse()
        .unwrap();
    assert!(changes >= 400, "the demo store's variants reach the kiosk: {out}");
}
