//! Feed import against real SQLite files: one test per real-world quirk.

use jiff::Timestamp;
use vitrine::catalog::feed::FeedError;
use vitrine::catalog::{Catalog, FeedOptions, InventoryFeed, ProductFeed, Query, Summary};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub catalog: Catalog,
}

pub fn now() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    Fixture { dir, catalog }
}

impl Fixture {
    pub fn products(&mut self, feed: &str) -> Summary {
        let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::default()).unwrap();
        self.catalog.import(Some(&feed), None, now()).unwrap().products.unwrap()
    }

    pub fn inventory(&mut self, feed: &str) -> Summary {
        let feed = InventoryFeed::parse(feed.as_bytes(), &FeedOptions::default()).unwrap();
        self.catalog
            .import(None, Some(&feed), now())
            .unwrap()
            .inventory
            .unwrap()
    }

    pub fn search(&self, lang: &str, text: &str) -> Vec<String> {
        let mut q = Query::new(lang, now());
        q.text = text.to_owned();
        self.catalog.search(&q).unwrap().into_iter().map(|c| c.title).collect()
    }
}

pub fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>t</title>\n<language>fr</language>\n{items}</channel>\n</rss>\n"
    )
}

pub fn item(id: &str, title: &str, extra: &str) -> String {
    format!(
        "<item>\n<g:id>{id}</g:id>\n<title>{title}</title>\n<g:price>10.00 EUR</g:price>\n<g:availability>in stock</g:availability><link>https://shop.example/p/{id}</link>\n{extra}</item>\n"
    )
}

const TSV_HEADER: &str = "id\ttitle\tdescription\tprice\tavailability\titem_group_id\tsize\tcolor\tgtin\tlink";
const LINK: &str = "https://shop.example/p";

#[test]
fn rss_cdata_html_and_entities_become_clean_text() {
    let mut f = fixture();
    let feed = rss(&item(
        "A1",
        "Robe d&#39;&#233;t&#233; &amp; ceinture",
        "<description><![CDATA[<p>Lin <b>lav&eacute;</b>.</p><ul><li>Coupe droite</li></ul>]]></description>\n",
    ));
    assert_eq!(f.products(&feed).imported, 1);
    let sheet = f.catalog.product("fr", "A1", "S1").unwrap().unwrap();
    assert_eq!(sheet.title, "Robe d'été & ceinture");
    assert_eq!(sheet.description, "Lin lavé.\n• Coupe droite");
}

#[test]
fn html_entities_outside_cdata_are_kept_for_the_html_cleaner() {
    let mut f = fixture();
    // `&eacute;` is not an XML entity: exporters leave it anyway. It must not refuse the
    // feed; it is read as its character, with a warning.
    let feed = rss(&item(
        "A1",
        "Robe",
        "<description>Robe d&eacute;collet&eacute;e</description>\n",
    ));
    f.products(&feed);
    assert_eq!(
        f.catalog.product("fr", "A1", "S1").unwrap().unwrap().description,
        "Robe décolletée"
    );
}

#[test]
fn atom_feed_with_link_href_and_google_namespace() {
    let mut f = fixture();
    let feed = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0" xml:lang="en-GB">
  <title>Shop</title>
  <entry>
    <g:id>AT-1</g:id>
    <title>Wool coat</title>
    <link href="https://shop.example/coat"/>
    <summary>Warm.</summary>
    <g:price>199.00 GBP</g:price>
    <g:availability>in_stock</g:availability>
    <g:shipping><g:price>0 GBP</g:price></g:shipping>
  </entry>
</feed>"#;
    let parsed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::default()).unwrap();
    assert_eq!(parsed.lang, "en");
    let summary = f.catalog.import(Some(&parsed), None, now()).unwrap().products.unwrap();
    assert_eq!((summary.imported, summary.rejected.len()), (1, 0));
    let sheet = f.catalog.product("en", "AT-1", "S1").unwrap().unwrap();
    assert_eq!(sheet.link.as_deref(), Some("https://shop.example/coat"));
    // The shipping price nested in g:shipping is not the product's price.
    assert_eq!(sheet.variants[0].price.minor, 19_900);
    assert_eq!(sheet.variants[0].price.currency, "GBP");
}

#[test]
fn tsv_with_bom_crlf_and_quoted_fields() {
    let mut f = fixture();
    let feed = format!(
        "\u{feff}{TSV_HEADER}\r\nT1\t\"Jean \"\"brut\"\"\"\t\"Deux lignes\r\nde description\"\t19,99 EUR\tin stock\t\t\t\t\t{LINK}\r\n"
    );
    assert_eq!(f.products(&feed).imported, 1);
    let sheet = f.catalog.product("en", "T1", "S1").unwrap().unwrap();
    assert_eq!(sheet.title, "Jean \"brut\"");
    assert_eq!(sheet.description, "Deux lignes de description");
    assert_eq!(sheet.variants[0].price.minor, 1999);
}

#[test]
fn price_spellings_in_a_feed() {
    let mut f = fixture();
    let items: String = [("P1", "19.99 EUR"), ("P2", "19,99 EUR"), ("P3", "EUR 19.99")]
        .iter()
        .map(|(id, price)| format!("{id}\tItem {id}\t\t{price}\tin_stock\t\t\t\t\t{LINK}\n"))
        .collect();
    assert_eq!(f.products(&format!("{TSV_HEADER}\n{items}")).imported, 3);
    for id in ["P1", "P2", "P3"] {
        assert_eq!(
            f.catalog.product("en", id, "S1").unwrap().unwrap().variants[0]
                .price
                .minor,
            1999
        );
    }
}

#[test]
fn sale_price_with_an_effective_date_range() {
    let mut f = fixture();
    let feed = rss(&item(
        "S1",
        "Pull",
        "<g:sale_price>7.00 EUR</g:sale_price>\n<g:sale_price_effective_date>2026-11-01T00:00+01:00/2026-11-30T23:59+01:00</g:sale_price_effective_date>\n",
    ));
    f.products(&feed);
    let sheet = f.catalog.product("fr", "S1", "X").unwrap().unwrap();
    let variant = &sheet.variants[0];
    assert_eq!(variant.active_sale(now()).map(|s| s.price.minor), Some(700));
    assert!(variant.active_sale("2026-12-01T00:00:00Z".parse().unwrap()).is_none());
    let mut q = Query::new("fr", now());
    q.text = "pull".into();
    assert_eq!(
        f.catalog.search(&q).unwrap()[0].sale_price.as_ref().map(|p| p.minor),
        Some(700)
    );
    q.now = "2027-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(f.catalog.search(&q).unwrap()[0].sale_price, None);
}

#[test]
fn up_to_ten_additional_images_in_xml_and_tsv() {
    let mut f = fixture();
    let links: String = (1..=12)
        .map(|i| format!("<g:additional_image_link>https://i.example/{i}.jpg</g:additional_image_link>\n"))
        .collect();
    f.products(&rss(&item(
        "X1",
        "Sac",
        &format!("<g:image_link>https://i.example/0.jpg</g:image_link>\n{links}"),
    )));
    let images = &f.catalog.product("fr", "X1", "S").unwrap().unwrap().variants[0].images;
    assert_eq!(images.len(), 11, "main picture and the first ten additional ones");
    assert_eq!(images[10], "https://i.example/10.jpg");

    let mut f = fixture();
    let list: Vec<String> = (1..=12).map(|i| format!("https://i.example/{i}.jpg")).collect();
    let feed = format!(
        "id\ttitle\tprice\tavailability\tlink\tadditional_image_link\nX2\tSac\t5 EUR\tin stock\t{LINK}\t{}\n",
        list.join(",")
    );
    f.products(&feed);
    assert_eq!(
        f.catalog.product("en", "X2", "S").unwrap().unwrap().variants[0]
            .images
            .len(),
        10
    );
}

#[test]
fn gtins_with_or_without_leading_zeros_find_the_same_product() {
    let mut f = fixture();
    f.products(&rss(&item("G1", "Basket", "<g:gtin>4006381333931</g:gtin>\n")));
    f.products(&format!(
        "{TSV_HEADER}\nG2\tCourt\t\t10 EUR\tin stock\t\t\t\t036000291452\t{LINK}\n"
    ));
    for code in ["4006381333931", "04006381333931", "00004006381333931"] {
        let hit = f.catalog.lookup(code).unwrap();
        assert_eq!(
            hit.map(|h| h.sku),
            (code.len() <= 14).then(|| "G1".to_owned()),
            "{code}"
        );
    }
    assert_eq!(f.catalog.lookup("36000291452").unwrap().unwrap().sku, "G2");
    assert_eq!(f.catalog.lookup("G2").unwrap().unwrap().sku, "G2");
}

#[test]
fn item_groups_gather_variants_with_their_attributes() {
    let mut f = fixture();
    let variants: String = [("V-S", "S", "Noir"), ("V-M", "M", "Noir"), ("V-L", "L", "Écru")]
        .iter()
        .map(|(id, size, color)| {
            item(id, "Pull Hélène", &format!(
                "<g:item_group_id>PULL-1</g:item_group_id><g:size>{size}</g:size><g:color>{color}</g:color><g:gender>female</g:gender><g:age_group>adult</g:age_group>\n"
            ))
        })
        .collect();
    assert_eq!(f.products(&rss(&variants)).imported, 3);
    let sheet = f.catalog.product("fr", "PULL-1", "S1").unwrap().unwrap();
    assert_eq!(sheet.variants.len(), 3);
    let mut colors = sheet.colors();
    colors.sort();
    assert_eq!(colors, ["Noir", "Écru"]);
    assert_eq!(sheet.sizes(), ["S", "M", "L"]);
    assert_eq!(f.search("fr", "pull"), ["Pull Hélène"], "one card per group");
}

#[test]
fn only_unusable_items_are_rejected_and_invalid_optional_fields_are_warnings() {
    let mut f = fixture();
    let feed = rss(&[
        item("OK1", "Bon", ""),
        item("BAD1", "Prix", "").replace("10.00 EUR", "dix euros"),
        "<item>\n<title>Sans id</title>\n<g:price>5 EUR</g:price>\n<g:availability>in stock</g:availability>\n</item>\n".to_owned(),
        item("GTIN", "Gtin", "<g:gtin>4006381333932</g:gtin>\n"),
        item("OK1", "Doublon", ""),
        item("DISPO", "Dispo", "").replace("in stock", "bientôt"),
        item("NOLINK", "Sans lien", "").replace("<link>https://shop.example/p/NOLINK</link>", ""),
    ]
    .concat());
    let summary = f.products(&feed);
    assert_eq!(summary.imported, 3, "OK1, GTIN and DISPO land");
    let lines: Vec<String> = summary.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines[0].starts_with("item 2 (line 12) id=BAD1: price:"), "{}", lines[0]);
    assert!(
        lines[1].contains("item 3") && lines[1].contains("id is missing"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("id=OK1") && lines[2].contains("already listed at item 1"),
        "{}",
        lines[2]
    );
    assert!(lines[3].contains("id=NOLINK: link is missing"), "{}", lines[3]);
    let warnings: Vec<String> = summary.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("item 4 (line 23) id=GTIN: gtin:") && warnings[0].contains("check digit"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("id=DISPO: availability 'bientôt'"),
        "{}",
        warnings[1]
    );
    let sheet = f.catalog.product("fr", "GTIN", "S1").unwrap().unwrap();
    assert_eq!(sheet.variants[0].gtin, None, "the invalid GTIN is dropped");
    assert!(summary.to_string().ends_with("rejected=4 warnings=2"), "{summary}");
}

#[test]
fn a_tsv_row_with_missing_cells_is_rejected_with_its_line() {
    let mut f = fixture();
    let summary = f.products(&format!(
        "{TSV_HEADER}\nA\tOk\t\t5 EUR\tin stock\t\t\t\t\t{LINK}\nB\tShort row\nC\tOk\t\t5 EUR\tin stock\t\t\t\t\t{LINK}\n"
    ));
    assert_eq!(summary.imported, 2);
    assert_eq!(
        summary.rejected[0].to_string(),
        "item 2 (line 3) id=B: the row has 2 cells but the header row has 10"
    );
    // The same short row last is a file cut off: refused whole.
    let cut = format!("{TSV_HEADER}\nA\tOk\t\t5 EUR\tin stock\t\t\t\t\t{LINK}\nB\tShort row\n");
    let error = ProductFeed::parse(cut.as_bytes(), &FeedOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("the file may have been cut off"), "{error}");
}

fn assert_untouched(f: &Fixture) {
    assert_eq!(f.search("fr", "robe"), ["Robe"]);
}

#[test]
fn broken_xml_is_refused_with_line_and_column_and_the_catalog_stays() {
    let mut f = fixture();
    f.products(&rss(&item("R1", "Robe", "")));
    let broken = rss(&item("R2", "Jupe", "")).replace("</title>\n<g:price>", "</titl>\n<g:price>");
    let err = ProductFeed::parse(broken.as_bytes(), &FeedOptions::default()).unwrap_err();
    match err {
        FeedError::Malformed { line, column, .. } => assert_eq!((line, column), (8, 12), "{err}"),
        other => panic!("expected a malformed feed, got {other}"),
    }
    let truncated = &rss(&item("R2", "Jupe", ""))[..150];
    assert!(matches!(
        ProductFeed::parse(truncated.as_bytes(), &FeedOptions::default()),
        Err(FeedError::Malformed { .. })
    ));
    assert_untouched(&f);
}

#[test]
fn invalid_utf8_is_read_as_windows_1252_with_its_position() {
    let mut f = fixture();
    let mut bytes = format!("{TSV_HEADER}\nA\tT").into_bytes();
    bytes.push(0xE9);
    bytes.extend_from_slice(format!("\tx\t5 EUR\tin stock\t\t\t\t\t{LINK}\n").as_bytes());
    let feed = ProductFeed::parse(&bytes, &FeedOptions::default()).unwrap();
    let summary = f.catalog.import(Some(&feed), None, now()).unwrap().products.unwrap();
    assert_eq!(summary.imported, 1);
    assert_eq!(f.catalog.product("en", "A", "S").unwrap().unwrap().title, "Té");
    assert_eq!(
        summary.warnings[0].to_string(),
        "item 1 (line 2:4) id=A: the bytes E9 are not UTF-8; read as 'é'"
    );
}

#[test]
fn an_empty_feed_is_refused_rather_than_emptying_the_catalog() {
    assert!(matches!(
        ProductFeed::parse(rss("").as_bytes(), &FeedOptions::default()),
        Err(FeedError::Empty)
    ));
    assert!(matches!(
        ProductFeed::parse(b"   \n", &FeedOptions::default()),
        Err(FeedError::Empty)
    ));
    assert!(matches!(
        ProductFeed::parse(b"name\tprice\nx\t1 EUR\n", &FeedOptions::default()),
        Err(FeedError::Malformed { .. })
    ));
}

#[test]
fn reimporting_the_same_feed_changes_nothing_and_a_full_feed_removes_the_rest() {
    let mut f = fixture();
    let three = rss(&[item("A", "Robe", ""), item("B", "Jupe", ""), item("C", "Pull", "")].concat());
    assert_eq!(f.products(&three).imported, 3);
    let again = f.products(&three);
    assert_eq!(
        (again.imported, again.updated, again.unchanged, again.removed),
        (0, 0, 3, 0)
    );

    let changed = rss(&[item("A", "Robe longue", ""), item("B", "Jupe", "")].concat());
    let summary = f.products(&changed);
    assert_eq!(
        (summary.imported, summary.updated, summary.unchanged, summary.removed),
        (0, 1, 1, 1)
    );
    assert_eq!(f.search("fr", "pull"), Vec::<String>::new());
    assert_eq!(f.search("fr", "longue"), ["Robe longue"]);
    assert_eq!(
        f.search("fr", "robe"),
        ["Robe longue"],
        "the search index follows updates"
    );
}

#[test]
fn inventory_tsv_with_old_header_names_joins_by_shop() {
    let mut f = fixture();
    f.products(&rss(&[
        item("A", "Robe", "<g:item_group_id>G</g:item_group_id><g:size>S</g:size>"),
        item("B", "Robe", "<g:item_group_id>G</g:item_group_id><g:size>M</g:size>"),
    ]
    .concat()));
    let summary = f.inventory("store code\titem_id\tquantity\tavailability\nPARIS\tA\t4\tin stock\nLYON\tA\t2\tin_stock\nLILLE\tA\t0\tout of stock\nPARIS\tB\t0\tout_of_stock\nPARIS\tZ\t-1\tin stock\n");
    assert_eq!((summary.imported, summary.rejected.len()), (5, 0));
    let warnings: Vec<String> = summary.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "feed: fields read by another name: 'item_id' as id",
            "item 5 (line 6) id=Z: quantity '-1' is negative; read as 0"
        ]
    );
    let sheet = f.catalog.product("fr", "G", "PARIS").unwrap().unwrap();
    let a = sheet.variants.iter().find(|v| v.sku == "A").unwrap();
    assert_eq!(a.here.as_ref().and_then(|h| h.quantity), Some(4));
    assert_eq!(
        a.elsewhere.iter().map(|s| s.store_code.as_str()).collect::<Vec<_>>(),
        ["LYON"]
    );
    let b = sheet.variants.iter().find(|v| v.sku == "B").unwrap();
    assert!(!b.here.as_ref().unwrap().is_available());

    // A full inventory feed replaces the previous one.
    let summary = f.inventory("store_code\tid\tquantity\tavailability\nPARIS\tA\t3\tin_stock\n");
    assert_eq!((summary.updated, summary.removed), (1, 4));
}

#[test]
fn inventory_as_xml() {
    let mut f = fixture();
    f.products(&rss(&item("A", "Robe", "")));
    let feed = rss(
        "<item><g:store_code>PARIS</g:store_code><g:id>A</g:id><g:quantity>7</g:quantity><g:availability>in_stock</g:availability></item>\n",
    );
    assert_eq!(f.inventory(&feed).imported, 1);
    let sheet = f.catalog.product("fr", "A", "PARIS").unwrap().unwrap();
    assert_eq!(sheet.variants[0].here.as_ref().and_then(|h| h.quantity), Some(7));
}

#[test]
fn a_broken_inventory_feed_leaves_products_and_stock_as_they_were() {
    let mut f = fixture();
    f.products(&rss(&item("A", "Robe", "")));
    f.inventory("store_code\tid\tquantity\tavailability\nPARIS\tA\t3\tin_stock\n");
    assert!(
        InventoryFeed::parse(
            b"<rss><channel><item><g:id>A</item></channel></rss>",
            &FeedOptions::default()
        )
        .is_err()
    );
    let sheet = f.catalog.product("fr", "A", "PARIS").unwrap().unwrap();
    assert_eq!(sheet.variants[0].here.as_ref().and_then(|h| h.quantity), Some(3));
}
