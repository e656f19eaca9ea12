//! Feeds as shops' platforms really export them (`tests/data/feeds`, written for these
//! tests in the shapes WooCommerce, PrestaShop and hand-made exports take): each lands
//! what is usable, says what it repaired, and a feed cut short still changes nothing.

use vitrine::catalog::feed::FeedError;
use vitrine::catalog::{Catalog, FeedOptions, ProductFeed, Summary};

use crate::importer::{Fixture, fixture, now};

const WOOCOMMERCE: &[u8] = include_bytes!("data/feeds/woocommerce-export.csv");
const PRESTASHOP: &[u8] = include_bytes!("data/feeds/prestashop-fr.csv");
const HANDMADE: &[u8] = include_bytes!("data/feeds/handmade-pipes.txt");
const DAMAGED: &[u8] = include_bytes!("data/feeds/damaged.xml");
const SHOP_ITEMS: &[u8] = include_bytes!("data/feeds/shop-items.xml");

fn import(f: &mut Fixture, bytes: &[u8], options: &FeedOptions) -> Summary {
    let feed = ProductFeed::parse(bytes, options).unwrap();
    f.catalog.import(Some(&feed), None, now()).unwrap().products.unwrap()
}

fn eur() -> FeedOptions {
    FeedOptions {
        lang: Some("fr".into()),
        currency: Some("EUR".into()),
    }
}

fn lines(notices: &[vitrine::catalog::feed::Notice]) -> Vec<String> {
    notices.iter().map(ToString::to_string).collect()
}

#[test]
fn a_comma_separated_export_with_prices_without_currency_lands_with_the_configured_one() {
    let mut f = fixture();
    let summary = import(&mut f, WOOCOMMERCE, &eur());
    assert_eq!(summary.imported, 4, "{summary:?}");
    assert_eq!(lines(&summary.rejected), ["item 5 (line 8): id is missing"]);
    let warnings = lines(&summary.warnings);
    assert!(
        warnings[0].starts_with("feed: fields read by another name: 'image' as image_link, 'category' as product_type"),
        "{warnings:#?}"
    );
    let about = |id: &str| warnings.iter().filter(|w| w.contains(&format!("id={id}:"))).count();
    assert_eq!(
        (about("WC-101-S"), about("WC-101-M"), about("WC-102")),
        (1, 0, 0),
        "{warnings:#?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("id=WC-101-S: gtin: 'FALSE'")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("id=WC-103: image_link '/wp-content/uploads/echarpe.jpg' was read as https://boutique.example/wp-content/uploads/echarpe.jpg")),
        "{warnings:#?}"
    );
    assert!(warnings.iter().any(|w| w.contains("id=WC-103: gtin:")), "{warnings:#?}");
    assert!(
        warnings
            .last()
            .unwrap()
            .ends_with("4 items have prices without a currency; read in EUR as configured"),
        "{warnings:#?}"
    );

    let sheet = f.catalog.product("fr", "WC-101", "S1").unwrap().unwrap();
    assert_eq!(sheet.title, "Robe portefeuille, lin lavé");
    assert_eq!(sheet.description, "Coupe portefeuille. Lin lavé, \"très doux\".");
    let small = sheet.variants.iter().find(|v| v.sku == "WC-101-S").unwrap();
    assert_eq!((small.price.minor, small.price.currency.as_str()), (6990, "EUR"));
    assert_eq!(small.sale.as_ref().map(|s| s.price.minor), Some(4990));
    assert_eq!(small.gtin, None);
    assert_eq!(
        small.images,
        ["https://res.cdn.example/image/upload/w_800,h_1000,c_fill/robe-1.jpg"],
        "a comma inside a quoted URL is part of it"
    );
    let medium = sheet.variants.iter().find(|v| v.sku == "WC-101-M").unwrap();
    assert_eq!(medium.gtin.as_deref(), Some("04006381333931"));
    let scarf = f.catalog.product("fr", "WC-103", "S1").unwrap().unwrap();
    assert_eq!(scarf.variants[0].price.minor, 2950);
    assert_eq!(scarf.category.as_deref(), Some("Accessoires"));
}

#[test]
fn without_a_configured_currency_bare_prices_reject_their_items_and_so_the_feed() {
    match ProductFeed::parse(WOOCOMMERCE, &FeedOptions::lang("fr")) {
        Err(FeedError::NothingUsable { listed, first }) => {
            assert_eq!(listed, 5);
            assert!(
                first.contains("has no currency: write it like '19.99 EUR', or give the feed's currency"),
                "{first}"
            );
        }
        other => panic!("a feed of which nothing lands must be refused: {other:?}"),
    }
}

#[test]
fn a_french_windows_1252_export_with_semicolons_reads_its_accents_and_euros() {
    let mut f = fixture();
    let summary = import(&mut f, PRESTASHOP, &FeedOptions::lang("fr"));
    assert_eq!((summary.imported, summary.rejected.len()), (3, 0), "{summary:?}");
    let sheet = f.catalog.product("fr", "PS-1", "S1").unwrap().unwrap();
    assert_eq!(sheet.title, "Veste en velours côtelé");
    assert_eq!(sheet.brand.as_deref(), Some("Côté Nord"));
    assert_eq!(sheet.variants[0].price.minor, 8900);
    let warnings = lines(&summary.warnings);
    assert!(
        warnings[0].starts_with("line 1:45: the bytes E9 are not UTF-8; read as 'é'"),
        "{warnings:#?}"
    );
    assert!(
        warnings.iter().filter(|w| w.contains("are not UTF-8")).count() >= 10,
        "each Windows-1252 byte is read and reported: {warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("id=PS-3: quantity '-1' is negative; read as 0")),
        "{warnings:#?}"
    );
    // Availability comes from the quantity when the feed gives no availability.
    let trousers = f.catalog.product("fr", "PS-2", "S1").unwrap().unwrap();
    assert_eq!(trousers.variants[0].online.as_str(), "out_of_stock");
    assert_eq!(sheet.variants[0].online.as_str(), "in_stock");
}

#[test]
fn near_standard_header_names_are_read_and_reported_once() {
    let mut f = fixture();
    let summary = import(&mut f, HANDMADE, &FeedOptions::lang("fr"));
    assert_eq!((summary.imported, summary.rejected.len()), (2, 0), "{summary:?}");
    assert_eq!(
        lines(&summary.warnings),
        [
            "feed: fields read by another name: 'sku' as id, 'name' as title, 'url' as link, 'image_url' as image_link, \
             'stock_status' as availability, 'vendor' as brand, 'ean' as gtin, 'category' as product_type"
        ]
    );
    let cup = f.catalog.product("fr", "HM-2", "S1").unwrap().unwrap();
    assert_eq!(cup.brand.as_deref(), Some("Atelier"));
    assert_eq!(cup.variants[0].online.as_str(), "out_of_stock");
    assert_eq!(cup.link.as_deref(), Some("https://atelier.example/tasse"));
}

#[test]
fn an_xml_export_with_its_own_element_names_lands_like_a_merchant_center_feed() {
    let mut f = fixture();
    let options = FeedOptions {
        lang: Some("cs".into()),
        currency: Some("CZK".into()),
    };
    let summary = import(&mut f, SHOP_ITEMS, &options);
    assert_eq!((summary.imported, summary.rejected.len()), (3, 0), "{summary:?}");
    let warnings = lines(&summary.warnings);
    assert!(
        warnings.iter().any(|w| w.contains("'productname' as title")
            && w.contains("'imgurl' as image_link")
            && w.contains("'price_vat' as price")),
        "the mapping is reported: {warnings:#?}"
    );
    let sheet = f
        .catalog
        .product("cs", "KB-1", "")
        .unwrap()
        .expect("grouped by ITEMGROUP_ID");
    assert_eq!(sheet.variants.len(), 2);
    assert_eq!(sheet.brand.as_deref(), Some("Lesní dílna"));
    for v in &sheet.variants {
        assert_eq!(
            (v.price.minor, v.price.currency.as_str()),
            (249_000, "CZK"),
            "{}",
            v.sku
        );
    }

    assert_eq!(
        sheet.category.as_deref(),
        Some("Oblečení > Kabáty"),
        "levels read as Merchant Center's"
    );

    // Products listed under the root's list, not another list's: accessories are not
    // the catalog's items.
    let feed = "<catalog><products>\
        <product><id>P1</id><name>Mug</name><price>9.50 EUR</price><url>https://shop.example/mug</url></product>\
        </products><accessories>\
        <product><id>A9</id><name>Lid</name><price>2 EUR</price><url>https://shop.example/lid</url></product>\
        </accessories></catalog>";
    let mut f = fixture();
    assert_eq!(import(&mut f, feed.as_bytes(), &eur()).imported, 1);
    assert!(f.catalog.lookup("A9").unwrap().is_none());

    // Offers three levels down, their id an attribute; a category level named with a slash.
    let feed = "<yml_catalog><shop><name>Boutique</name><currencies><currency id=\"EUR\"/></currencies>\
        <offers><offer id=\"Y1\" available=\"true\"><name>Bonnet</name><url>https://shop.example/bonnet</url>\
        <price>15</price><categoryText>Accessoires | T-shirts / Tops</categoryText></offer></offers></shop></yml_catalog>";
    let mut f = fixture();
    assert_eq!(import(&mut f, feed.as_bytes(), &eur()).imported, 1);
    let sheet = f
        .catalog
        .product("fr", "Y1", "")
        .unwrap()
        .expect("the offer's id attribute");
    assert_eq!(sheet.category.as_deref(), Some("Accessoires > T-shirts / Tops"));

    let refused = |text: &str| ProductFeed::parse(text.as_bytes(), &eur()).unwrap_err().to_string();
    for page in [
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>Sign in</body>",
        "<!-- served by the shop's platform -->\n<html lang=\"fr\"><body><p>Erreur</p></body></html>",
    ] {
        let refusal = refused(page);
        assert!(
            refusal.contains("this is a web page (HTML), not a product feed"),
            "{refusal}"
        );
    }
    let other = refused("<?xml version=\"1.0\"?><response><error>Not authorised</error></response>");
    assert!(
        other.contains("<response> lists no <item>, <entry>, <product>, <offer> or <shopitem> elements"),
        "{other}"
    );
}

#[test]
fn recoverable_xml_damage_is_repaired_where_it_is_with_a_warning_at_its_line_and_column() {
    let mut f = fixture();
    let summary = import(&mut f, DAMAGED, &FeedOptions::default());
    assert_eq!((summary.imported, summary.rejected.len()), (3, 0), "{summary:?}");
    assert_eq!(
        lines(&summary.warnings),
        [
            "line 4:14: a bare '&' was read as text",
            "item 1 (line 8:12) id=X-1: a bare '&' was read as text",
            "item 1 (line 9:16) id=X-1: '&egrave;' is an HTML entity, not XML; read as 'è'",
            "item 1 (line 9:26) id=X-1: '&nbsp;' is an HTML entity, not XML; read as '\u{a0}'",
            "item 1 (line 9:35) id=X-1: '&hellip;' is an HTML entity, not XML; read as '…'",
            "item 1 (line 10:31) id=X-1: a bare '&' was read as text",
            "item 2 (line 16:13) id=X-2: the control character U+000B was read as a space",
            "item 2 (line 17:33) id=X-2: the bytes E9 are not UTF-8; read as 'é'",
            "item 3 (line 25:19) id=X-3: a bare '<' was read as text",
        ]
    );
    let mug = f.catalog.product("fr", "X-1", "S1").unwrap().unwrap();
    assert_eq!(mug.title, "Tom & Jerry mug");
    assert_eq!(mug.description, "Grès mat…");
    assert_eq!(mug.link.as_deref(), Some("https://x.example/p?id=1&ref=feed"));
    let plaid = f.catalog.product("fr", "X-2", "S1").unwrap().unwrap();
    assert_eq!(plaid.title, "Plaid carreaux");
    assert_eq!(plaid.description, "Laine d'agneau, café crème.");
    let candle = f.catalog.product("fr", "X-3", "S1").unwrap().unwrap();
    assert_eq!(candle.description, "Prix < 20 EUR, brûlage 40 h.");
}

#[test]
fn a_damaged_feed_cut_short_is_still_refused_whole_and_the_catalog_stays() {
    let mut f = fixture();
    import(&mut f, DAMAGED, &FeedOptions::default());
    let before = f.catalog.product("fr", "X-3", "S1").unwrap();
    // Cut inside the last item, inside a multi-byte character, and right before the root's end.
    let cuts = [
        DAMAGED.len() - 40,
        DAMAGED.iter().rposition(|b| *b == 0xC3).unwrap() + 1,
        DAMAGED.len() - "</rss>\n".len(),
    ];
    for cut in cuts {
        match ProductFeed::parse(&DAMAGED[..cut], &FeedOptions::default()) {
            Err(FeedError::Malformed { reason, .. }) => assert!(reason.contains("cut off"), "{reason}"),
            other => panic!("a feed cut at {cut} was not refused: {other:?}"),
        }
    }
    assert_eq!(f.catalog.product("fr", "X-3", "S1").unwrap(), before);
    // A delimited file cut anywhere inside a row, quoted cells included, is refused too.
    for cut in [WOOCOMMERCE.len() / 2, WOOCOMMERCE.len() / 3, WOOCOMMERCE.len() - 3] {
        let error = ProductFeed::parse(&WOOCOMMERCE[..cut], &eur()).unwrap_err().to_string();
        assert!(
            error.contains("cut off") || error.contains("never closed"),
            "cut at {cut}: {error}"
        );
    }
}

#[test]
fn every_catalog_survives_hostile_bytes_without_a_panic() {
    // Arbitrary damage to real shapes: truncated, shuffled, zero bytes, lone quotes.
    let mut seeds: Vec<Vec<u8>> = vec![
        WOOCOMMERCE.to_vec(),
        PRESTASHOP.to_vec(),
        HANDMADE.to_vec(),
        DAMAGED.to_vec(),
    ];
    for seed in seeds.clone() {
        for step in [3usize, 7, 13] {
            let mut bytes = seed.clone();
            for i in (0..bytes.len()).step_by(step) {
                bytes[i] = [b'"', b'&', b'<', 0, 0xFF, b';', b'\n', b'>'][i % 8];
            }
            seeds.push(bytes);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("c.db")).unwrap();
    for bytes in seeds {
        if let Ok(feed) = ProductFeed::parse(&bytes, &eur()) {
            catalog.import(Some(&feed), None, now()).unwrap();
        }
    }
}
