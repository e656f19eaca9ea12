//! The console's catalog and settings pages through HTTP, as a browser uses them: a feed
//! uploaded with a bad line, and remote settings reaching a kiosk (see `console` for the
//! browser stand-in and the chain they run on).

use reqwest::StatusCode;

use crate::console::{Browser, chain, device_token};
use crate::world::hub_conn;

/// A products feed whose second item has no price.
const FEED_WITH_A_BAD_LINE: &str = "id\ttitle\tprice\tavailability\tlink\n\
A-1\tRobe Lina\t129.00 EUR\tin stock\thttps://shop.example/a-1\n\
A-2\tJupe Iris\t\tin stock\thttps://shop.example/a-2\n\
A-3\tChemise Oscar\t79.00 EUR\tin stock\thttps://shop.example/a-3\n";

#[test]
fn a_feed_uploaded_from_the_console_lists_its_rejected_line() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/feeds");
    let token = admin.token.clone();
    assert_eq!(
        admin.upload(None, "products", FEED_WITH_A_BAD_LINE).status,
        StatusCode::FORBIDDEN
    );
    let page = admin.upload(Some(&token), "products", FEED_WITH_A_BAD_LINE);
    let to = page.location.expect("to the import's page");
    assert!(to.starts_with("/console/feeds/"), "{to}");
    let import = admin.get(&to);
    assert!(
        import.body.contains("<strong>2</strong><span>new</span>") && import.body.contains("A-2"),
        "{}",
        import.body
    );
    assert!(
        import.body.contains("<td class=\"num\">3</td>"),
        "the line of the rejected item: {}",
        import.body
    );
    let refused = admin.upload(Some(&token), "products", "id\ttitle\n");
    assert_eq!(refused.location.as_deref(), Some("/console/feeds"));
    assert!(admin.get("/console/feeds").body.contains("Refused whole"));
    let conn = hub_conn(&world.hub_data());
    let skus: i64 = conn
        .query_row("SELECT COUNT(*) FROM variant", vitrine::db::params![], |r| r.get(0))
        .unwrap();
    assert_eq!(skus, 2, "the refused feed changed nothing");

    let mut manager = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    manager.get("/console/feeds");
    let token = manager.token.clone();
    assert_eq!(
        manager.upload(Some(&token), "products", FEED_WITH_A_BAD_LINE).status,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn an_export_with_bare_prices_lands_in_the_currency_given_and_its_warnings_are_kept() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/feeds");
    let token = admin.token.clone();
    let csv = "ID,Title,Price,URL,GTIN,Availability\r\n\
        W-1,\"Robe, lin\",69.9,https://shop.example/w-1,4006381333932,in stock\r\n\
        W-2,Jupe & co,39,https://shop.example/w-2,,in stock\r\n";
    let refused = admin.upload_in(Some(&token), "products", "EURO", csv);
    assert_eq!(refused.location.as_deref(), Some("/console/feeds"));
    assert!(
        admin
            .get("/console/feeds")
            .body
            .contains("A currency is a code such as EUR or GBP.")
    );

    let page = admin.upload_in(Some(&token), "products", "EUR", csv);
    let to = page.location.expect("to the import's page");
    let import = admin.get(&to);
    assert!(
        import.body.contains("<strong>2</strong><span>new</span>"),
        "{}",
        import.body
    );
    assert!(
        import.body.contains("<strong>3</strong><span>warnings</span>"),
        "{}",
        import.body
    );
    assert!(import.body.contains("<h2>Warnings</h2>"), "{}", import.body);
    assert!(
        import
            .body
            .contains("gtin: &#39;4006381333932&#39; is not a GTIN: its check digit is wrong; ignored")
            || import
                .body
                .contains("gtin: '4006381333932' is not a GTIN: its check digit is wrong; ignored"),
        "{}",
        import.body
    );
    assert!(import.body.contains("read in EUR as configured"), "{}", import.body);
    assert!(admin.get("/console/feeds").body.contains("Imported, 3 warnings"));
    let conn = hub_conn(&world.hub_data());
    let price: i64 = conn
        .query_row(
            "SELECT price_minor FROM variant WHERE sku = 'W-1'",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(price, 6990);
}

#[test]
fn a_shops_setting_from_the_console_reaches_its_kiosk_at_the_next_pull() {
    let world = chain();
    let paris = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let lyon = world.kiosk_at("lyon-1", "LYON", &world.hub.url());
    let (paris_id, _) = device_token(&paris);
    let remote = |kiosk: &crate::world::Kiosk| {
        world.pull(kiosk);
        let conn = vitrine::db::open(&kiosk.db, vitrine::db::Schema::Kiosk).unwrap();
        vitrine::trust::settings(&conn).unwrap().remote
    };
    let mut manager = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    manager.get("/console/settings");
    let refused = manager.post(
        "/console/settings",
        &[("name", "idle_seconds"), ("value", "90"), ("action", "set")],
    );
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "the chain's settings are the admins'"
    );
    manager.get("/console/shops/PARIS/settings");
    let other = manager.post(
        "/console/shops/LYON/settings",
        &[("name", "idle_seconds"), ("value", "90"), ("action", "set")],
    );
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let bad = manager.post(
        "/console/shops/PARIS/settings",
        &[("name", "idle_seconds"), ("value", "3"), ("action", "set")],
    );
    assert_eq!(bad.status, StatusCode::SEE_OTHER);
    assert!(manager.get("/console/shops/PARIS/settings").body.contains("15 to 600"));
    manager.post(
        "/console/shops/PARIS/settings",
        &[("name", "idle_seconds"), ("value", "90"), ("action", "set")],
    );
    manager.post(
        &format!("/console/kiosks/{paris_id}/settings"),
        &[("name", "phone_sign_in"), ("value", "off"), ("action", "set")],
    );
    let got = remote(&paris);
    assert_eq!((got.idle_seconds, got.phone_sign_in), (Some(90), Some(false)));
    assert!(got.version > 0);
    assert_eq!(remote(&lyon).idle_seconds, None, "another shop's kiosk keeps its own");

    let (ok, _, err) = crate::cli::vitrine_with_input(
        &[
            "hub",
            "settings",
            "set",
            "--data",
            world.hub_data().to_str().unwrap(),
            "language",
            "en",
        ],
        "",
    );
    assert!(ok, "{err}");
    let now = remote(&paris);
    assert_eq!(
        now.language.as_deref(),
        Some("en"),
        "the chain's language, from the command line"
    );
    assert!(now.version > got.version);
    world
        .rt
        .block_on(paris.syncer(crate::world::quick_policy()).send_heartbeat())
        .unwrap();
    let page = manager.get(&format!("/console/kiosks/{paris_id}"));
    assert!(page.body.contains("Up to date"), "{}", page.body);
    manager.post(
        "/console/shops/PARIS/settings",
        &[("name", "idle_seconds"), ("value", ""), ("action", "inherit")],
    );
    assert!(
        manager
            .get(&format!("/console/kiosks/{paris_id}"))
            .body
            .contains("takes the rest at its next pull")
    );
    assert_eq!(remote(&paris).idle_seconds, None, "back to the kiosk's own");

    // A shop's search synonyms reach its kiosks' search.
    let search = |kiosk: &crate::world::Kiosk, text: &str| {
        let catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
        let mut q = vitrine::catalog::Query::new("fr", jiff::Timestamp::now());
        q.text = text.to_owned();
        catalog.search(&q).unwrap().len()
    };
    world.upload("products", FEED_WITH_A_BAD_LINE.as_bytes().to_vec(), Some("fr"));
    world.pull(&paris);
    assert_eq!(search(&paris, "robe"), 1);
    assert_eq!(search(&paris, "zibeline"), 0);
    let refused = manager.post(
        "/console/shops/PARIS/settings",
        &[("name", "synonyms"), ("value", "zibeline"), ("action", "set")],
    );
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(
        manager
            .get("/console/shops/PARIS/settings")
            .body
            .contains("does not fit “Search synonyms”")
    );
    manager.post(
        "/console/shops/PARIS/settings",
        &[
            ("name", "synonyms"),
            ("value", "fr: zibeline = robe; en: mink = dress"),
            ("action", "set"),
        ],
    );
    assert_eq!(remote(&paris).synonyms, ["fr: zibeline = robe", "en: mink = dress"]);
    assert!(search(&paris, "zibeline") > 0, "the shop's synonym finds its robes");
    assert_eq!(search(&paris, "zibeline"), search(&paris, "robe"));
    world.pull(&lyon);
    assert_eq!(search(&lyon, "zibeline"), 0, "another shop's kiosk has its own words");
}
