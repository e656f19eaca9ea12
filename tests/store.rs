//! Catalog queries on real SQLite files: search as a shopper types, lookups, filters.

use crate::importer::{fixture, item, now, rss};
use vitrine::catalog::{Catalog, Query};

pub(crate) fn demo_like() -> crate::importer::Fixture {
    let mut f = fixture();
    let items = [
        item("E1", "Robe d'Été Lina", "<g:item_group_id>ETE</g:item_group_id><g:size>S</g:size><g:color>Rouge</g:color><g:product_type>Femme &gt; Robes</g:product_type>"),
        item("E2", "Robe d'Été Lina", "<g:item_group_id>ETE</g:item_group_id><g:size>M</g:size><g:color>Bleu</g:color><g:product_type>Femme &gt; Robes</g:product_type>"),
        item("J1", "Jeans droit", "<g:size>40</g:size><g:color>Bleu</g:color><g:product_type>Homme &gt; Jeans</g:product_type><g:mpn>MPN-77</g:mpn>").replace("10.00 EUR", "120.00 EUR"),
        item("C1", "Chemise Rivoli", "<g:product_type>Homme &gt; Chemises</g:product_type><g:sale_price>5.00 EUR</g:sale_price>"),
    ];
    f.products(&rss(&items.concat()));
    f.inventory("store_code\tid\tquantity\tavailability\nHERE\tE1\t0\tout_of_stock\nHERE\tE2\t2\tin_stock\nHERE\tJ1\t0\tout_of_stock\nTHERE\tJ1\t5\tin_stock\n");
    f
}

#[test]
fn search_folds_diacritics_and_matches_prefixes() {
    let f = demo_like();
    assert_eq!(f.search("fr", "ete"), ["Robe d'Été Lina"]);
    assert_eq!(f.search("fr", "ÉTÉ"), ["Robe d'Été Lina"]);
    assert_eq!(f.search("fr", "jea"), ["Jeans droit"]);
    assert_eq!(f.search("fr", "robe li"), ["Robe d'Été Lina"]);
    assert_eq!(
        f.search("fr", "robe jea"),
        Vec::<String>::new(),
        "every word must match"
    );
    // Colours and categories are searchable too.
    assert_eq!(f.search("fr", "rouge"), ["Robe d'Été Lina"]);
    assert_eq!(f.search("fr", "chemises"), ["Chemise Rivoli"]);
}

#[test]
fn search_text_cannot_break_the_query() {
    let f = demo_like();
    for text in [
        "\"",
        "robe*",
        "NEAR(a b)",
        "a OR b",
        "-",
        "' OR 1=1 --",
        "^robe",
        &"x".repeat(10_000),
    ] {
        let _ = f.search("fr", text);
    }
    assert_eq!(
        f.search("fr", "  "),
        ["Chemise Rivoli", "Jeans droit", "Robe d'Été Lina"],
        "no text lists everything"
    );
}

#[test]
fn lookup_by_sku_gtin_and_mpn() {
    let f = demo_like();
    assert_eq!(f.catalog.lookup("E2").unwrap().unwrap().group_id, "ETE");
    // Typed in lower case, as the kiosk's keyboards do.
    assert_eq!(f.catalog.lookup("e2").unwrap().unwrap().sku, "E2");
    assert_eq!(f.catalog.lookup("MPN-77").unwrap().unwrap().sku, "J1");
    assert_eq!(f.catalog.lookup("nothing").unwrap(), None);
    assert_eq!(f.catalog.lookup("").unwrap(), None);
}

#[test]
fn filters_by_size_colour_price_band_and_stock_here() {
    let f = demo_like();
    let run = |edit: &dyn Fn(&mut Query)| {
        let mut q = Query::new("fr", now());
        edit(&mut q);
        let mut titles: Vec<String> = f.catalog.search(&q).unwrap().into_iter().map(|c| c.title).collect();
        titles.sort();
        titles
    };
    assert_eq!(run(&|q| q.size = Some("M".into())), ["Robe d'Été Lina"]);
    assert_eq!(
        run(&|q| q.color = Some("Bleu".into())),
        ["Jeans droit", "Robe d'Été Lina"]
    );
    assert_eq!(
        run(&|q| {
            q.color = Some("Rouge".into());
            q.size = Some("M".into())
        }),
        Vec::<String>::new(),
        "one variant must match both"
    );
    assert_eq!(run(&|q| q.price_band = Some((10_000, 20_000))), ["Jeans droit"]);
    assert_eq!(
        run(&|q| q.price_band = Some((0, 900))),
        ["Chemise Rivoli"],
        "sale price counts"
    );
    assert_eq!(run(&|q| q.in_stock_at = Some("HERE".into())), ["Robe d'Été Lina"]);
    assert_eq!(run(&|q| q.in_stock_at = Some("THERE".into())), ["Jeans droit"]);
    assert_eq!(
        run(&|q| q.category = Some("Homme".into())),
        ["Chemise Rivoli", "Jeans droit"]
    );
    assert_eq!(run(&|q| q.category = Some("Homme > Jeans".into())), ["Jeans droit"]);

    let mut q = Query::new("fr", now());
    q.category = Some("Femme".into());
    assert_eq!(f.catalog.count(&q).unwrap(), 1);
    let facets = f.catalog.facets(&q).unwrap();
    assert_eq!(
        (facets.sizes, facets.colors),
        (
            vec!["S".to_owned(), "M".to_owned()],
            vec!["Bleu".to_owned(), "Rouge".to_owned()]
        )
    );
}

#[test]
fn categories_and_featured_for_the_home_screen() {
    let f = demo_like();
    let categories: Vec<(String, usize)> = f
        .catalog
        .categories("fr")
        .unwrap()
        .into_iter()
        .map(|c| (c.path, c.products))
        .collect();
    assert_eq!(
        categories,
        [
            ("Femme > Robes".into(), 1),
            ("Homme > Chemises".into(), 1),
            ("Homme > Jeans".into(), 1)
        ]
    );
    let featured = f.catalog.featured("fr", 2, now()).unwrap();
    assert_eq!(featured[0].title, "Chemise Rivoli", "products on sale come first");
    assert_eq!(featured.len(), 2);
}

#[test]
fn the_catalog_speaks_the_language_it_has() {
    let f = demo_like();
    assert_eq!(f.catalog.content_lang("fr").unwrap(), "fr");
    assert_eq!(
        f.catalog.content_lang("en").unwrap(),
        "fr",
        "a French-only catalog is shown in French"
    );
}

#[test]
fn a_new_file_is_migrated_and_reopening_keeps_the_data() {
    let mut f = fixture();
    f.products(&rss(&item("A", "Robe", "")));
    let path = f.dir.path().join("catalog.db");
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version, 10,
        "catalog, the kiosk's sync tables, its token keys, the web store's pages and used codes, staff mode, \
         sign-ins with their tokens, measurement's events, the remote settings, the brand, then search"
    );
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(f.catalog);
    let reopened = Catalog::open(&path).unwrap();
    assert!(!reopened.is_empty().unwrap());
}

#[test]
fn the_demo_store_imports_cleanly_and_is_big_enough() {
    let mut f = fixture();
    vitrine::demo::import_into(&mut f.catalog, now()).unwrap();
    let mut q = Query::new("fr", now());
    q.limit = 500;
    assert!(f.catalog.count(&q).unwrap() >= 60);
    q.lang = "en".into();
    assert!(f.catalog.count(&q).unwrap() >= 60);
    let sheet = f
        .catalog
        .product("fr", "ML-DRESS-01", vitrine::demo::HOME_STORE)
        .unwrap()
        .unwrap();
    assert!(sheet.variants.len() >= 10);
    // Some variants are sold out here but available in another shop.
    let conn = rusqlite::Connection::open(f.dir.path().join("catalog.db")).unwrap();
    let out_here_in_elsewhere: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM stock h JOIN stock o ON o.sku = h.sku AND o.store_code <> h.store_code
             WHERE h.store_code = ?1 AND h.quantity = 0 AND o.quantity > 0",
            [vitrine::demo::HOME_STORE],
            |r| r.get(0),
        )
        .unwrap();
    assert!(out_here_in_elsewhere > 20);
}

#[test]
fn broad_prefixes_on_a_large_catalog_still_return_title_matches() {
    let mut f = fixture();
    let generated = vitrine::bench::catalog::generate(700, 1);
    let feed =
        vitrine::catalog::ProductFeed::parse(generated.tsv.as_bytes(), &vitrine::catalog::FeedOptions::lang("fr"))
            .unwrap();
    f.catalog.import(Some(&feed), None, now()).unwrap();
    for prefix in ["s", "r", "ma"] {
        let mut q = Query::new("fr", now());
        q.text = prefix.to_owned();
        let cards = f.catalog.search(&q).unwrap();
        assert_eq!(cards.len(), q.limit, "{prefix}: a full page");
        for card in cards {
            let words = format!("{} {}", card.title, card.brand.unwrap_or_default()).to_lowercase();
            assert!(
                words
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w.starts_with(prefix)),
                "{prefix}: {words}"
            );
        }
    }
    // A specific query is still ranked: the exact title comes first.
    let title = generated.titles[generated.titles.len() / 2].clone();
    let mut q = Query::new("fr", now());
    q.text = title.clone();
    assert_eq!(f.catalog.search(&q).unwrap()[0].title, title);
}
