//! Search as shoppers type it, on real SQLite files: typos in both languages,
//! compounds and synonyms, and the ranking every query gets (exact codes, fields,
//! exact words before prefixes, stock here, popularity).

use vitrine::catalog::{Catalog, FeedOptions, ProductFeed, Query};
use vitrine::protocol::measure::PopularGroup;

use crate::importer::{Fixture, fixture, now};

const LINK: &str = "https://shop.example/p";

/// A French and an English catalog; `rows` are `id, title, description, group`.
fn catalog(lang: &str, rows: &[(&str, &str, &str, &str)]) -> Fixture {
    let mut f = fixture();
    let mut feed = String::from("id\ttitle\tdescription\tprice\tavailability\tlink\titem_group_id\tbrand\n");
    for (id, title, description, group) in rows {
        feed.push_str(&format!(
            "{id}\t{title}\t{description}\t10 EUR\tin stock\t{LINK}\t{group}\tMaison\n"
        ));
    }
    let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::lang(lang)).unwrap();
    f.catalog.import(Some(&feed), None, now()).unwrap();
    f
}

fn search(catalog: &Catalog, lang: &str, text: &str, store: Option<&str>) -> Vec<String> {
    let mut q = Query::new(lang, now());
    q.text = text.to_owned();
    q.rank_store = store.map(str::to_owned);
    catalog.search(&q).unwrap().into_iter().map(|c| c.title).collect()
}

fn french() -> Fixture {
    catalog(
        "fr",
        &[
            ("C1", "Chemise Rivoli", "Popeline de coton.", "C1"),
            ("P1", "Pantalon à pinces", "Laine froide.", "P1"),
            ("R1", "Robe portefeuille", "Lin lavé.", "R1"),
            ("K1", "Pull cachemire", "Maille douce.", "K1"),
            ("T1", "T-shirt col rond", "Jersey de coton.", "T1"),
            ("T2", "Tee shirt rayé", "Coton bio.", "T2"),
            ("E1", "Écharpe légère", "Laine et soie.", "E1"),
        ],
    )
}

#[test]
fn french_typos_a_shopper_makes_on_a_touch_keyboard_still_find() {
    let f = french();
    let find = |text: &str| search(&f.catalog, "fr", text, None);
    assert_eq!(find("chmise"), ["Chemise Rivoli"], "a missing letter");
    assert_eq!(find("chemsie"), ["Chemise Rivoli"], "two letters swapped");
    assert_eq!(find("chemmise"), ["Chemise Rivoli"], "a doubled letter");
    assert_eq!(find("pantalom"), ["Pantalon à pinces"], "a neighbouring key");
    assert_eq!(find("echarpe legere"), ["Écharpe légère"], "diacritics folded");
    assert_eq!(find("cachemirre"), ["Pull cachemire"]);
    assert_eq!(
        find("cahcemrie"),
        ["Pull cachemire"],
        "nine letters and more: two typos"
    );
    assert_eq!(
        find("portfeuil"),
        ["Robe portefeuille"],
        "two typos while typing a long word"
    );
    assert!(
        find("xhemise").is_empty(),
        "never the first letter of a word under nine letters"
    );
    assert!(find("rbe").is_empty(), "no typo in a word under five letters");
    assert!(find("chmxxe").is_empty(), "two typos in six letters are too many");
}

#[test]
fn english_typos_find_too() {
    let f = catalog(
        "en",
        &[
            ("S1", "Wool sweater", "Warm knit.", "S1"),
            ("TR1", "Pleated trousers", "Cool wool.", "TR1"),
            ("J1", "Denim jacket", "Washed cotton.", "J1"),
        ],
    );
    let find = |text: &str| search(&f.catalog, "en", text, None);
    assert_eq!(find("sweatr"), ["Wool sweater"]);
    assert_eq!(find("trosuers"), ["Pleated trousers"]);
    assert_eq!(find("denim jakcet"), ["Denim jacket"]);
    assert_eq!(find("jumper"), ["Wool sweater"], "a built-in English synonym");
    assert_eq!(find("pants"), ["Pleated trousers"]);
}

#[test]
fn compounds_hyphens_and_synonyms_meet() {
    let f = french();
    let find = |text: &str| {
        let mut titles = search(&f.catalog, "fr", text, None);
        titles.sort();
        titles
    };
    let both = ["T-shirt col rond", "Tee shirt rayé"];
    for text in ["tshirt", "t-shirt", "tee shirt", "teeshirt", "tee-shirt", "T-Shirt"] {
        assert_eq!(find(text), both, "{text}");
    }
    assert_eq!(find("t shirt col"), ["T-shirt col rond"]);
}

#[test]
fn the_shop_extends_the_synonyms_and_a_bad_rule_changes_nothing() {
    let mut f = catalog("fr", &[("G1", "Gilet en laine", "Boutonné.", "G1")]);
    assert!(search(&f.catalog, "fr", "cardigan", None).is_empty());
    f.catalog.set_synonyms(&["fr: gilet = cardigan".to_owned()]).unwrap();
    assert_eq!(search(&f.catalog, "fr", "cardigan", None), ["Gilet en laine"]);
    let error = f.catalog.set_synonyms(&["gilet".to_owned()]).unwrap_err();
    assert!(error.contains("not a synonym rule"), "{error}");
    assert_eq!(
        search(&f.catalog, "fr", "cardigan", None),
        ["Gilet en laine"],
        "the rules are as they were"
    );
    f.catalog.set_synonyms(&[]).unwrap();
    assert!(search(&f.catalog, "fr", "cardigan", None).is_empty());
}

#[test]
fn exact_words_come_before_prefixes_titles_before_descriptions_and_typos_last() {
    let f = catalog(
        "fr",
        &[
            ("D", "Veste en lin", "Doublure en coton.", "D"),
            ("B", "Chemise cotonnade", "Rayures.", "B"),
            ("C", "Robe cotton", "Fluide.", "C"),
            ("A", "Pull coton", "Maille.", "A"),
        ],
    );
    assert_eq!(
        search(&f.catalog, "fr", "coton", None),
        ["Pull coton", "Chemise cotonnade", "Veste en lin", "Robe cotton"],
        "exact in a title, prefix in a title, exact in a description, then a typo"
    );
    // A word finished with a space is not a prefix any more.
    assert_eq!(
        search(&f.catalog, "fr", "coton ", None),
        ["Pull coton", "Veste en lin", "Robe cotton"]
    );
}

#[test]
fn what_is_in_stock_here_comes_first_then_what_is_popular_here() {
    let mut f = catalog(
        "fr",
        &[
            ("A", "Robe Alba", "", "A"),
            ("B", "Robe Berta", "", "B"),
            ("C", "Robe Carla", "", "C"),
            ("D", "Robe Dora", "", "D"),
        ],
    );
    f.inventory("store_code\tid\tquantity\nICI\tA\t0\nICI\tB\t3\nICI\tC\t0\nICI\tD\t1\nLA\tA\t5\n");
    assert_eq!(
        search(&f.catalog, "fr", "robe", None),
        ["Robe Alba", "Robe Berta", "Robe Carla", "Robe Dora"],
        "without a shop: the catalog's order"
    );
    assert_eq!(
        search(&f.catalog, "fr", "robe", Some("ICI")),
        ["Robe Berta", "Robe Dora", "Robe Alba", "Robe Carla"]
    );
    let popular = |group: &str, score| PopularGroup {
        group_id: group.to_owned(),
        score,
    };
    f.catalog.save_popular(&[popular("D", 9), popular("C", 4)]).unwrap();
    assert_eq!(
        search(&f.catalog, "fr", "rob", Some("ICI")),
        ["Robe Dora", "Robe Berta", "Robe Carla", "Robe Alba"],
        "in stock first, then popular"
    );
    assert_eq!(search(&f.catalog, "fr", "robe", Some("LA"))[0], "Robe Alba");
}

#[test]
fn an_exact_sku_wins_over_every_text_match() {
    let f = catalog(
        "fr",
        &[
            ("A1", "Sac A1 édition", "", "A1-G"),
            ("ZZ9", "Sac cabas", "Modèle A1.", "ZZ9-G"),
            ("A10", "Sac A10", "", "A10-G"),
        ],
    );
    assert_eq!(search(&f.catalog, "fr", "ZZ9", None), ["Sac cabas"]);
    assert_eq!(search(&f.catalog, "fr", "a10", None)[0], "Sac A10");
    // The code's product is counted, and a filter leaves it out only if it fails it.
    let mut q = Query::new("fr", now());
    q.text = "ZZ9".into();
    assert_eq!(f.catalog.count(&q).unwrap(), 1);
    q.price_band = Some((0, 2_000));
    assert_eq!(f.catalog.count(&q).unwrap(), 1, "10 EUR is in the band");
    q.price_band = Some((5_000, 9_000));
    assert_eq!(f.catalog.count(&q).unwrap(), 0);
    assert!(f.catalog.search(&q).unwrap().is_empty());
}

#[test]
fn a_synonym_of_three_words_is_read_from_the_phrase() {
    let f = catalog(
        "fr",
        &[
            ("S1", "Sac cabas", "Cuir.", "S1"),
            ("L1", "Lunettes de soleil", "", "L1"),
        ],
    );
    assert_eq!(search(&f.catalog, "fr", "sac a main", None), ["Sac cabas"]);
    assert_eq!(search(&f.catalog, "fr", "solaires", None), ["Lunettes de soleil"]);
}

#[test]
fn every_query_is_ranked_however_many_it_matches() {
    let mut f = fixture();
    let generated = vitrine::bench::catalog::generate(1_500, 2);
    let feed = ProductFeed::parse(generated.tsv.as_bytes(), &FeedOptions::lang("fr")).unwrap();
    f.catalog.import(Some(&feed), None, now()).unwrap();
    let inventory =
        vitrine::catalog::InventoryFeed::parse(generated.inventory.as_bytes(), &FeedOptions::default()).unwrap();
    f.catalog.import(None, Some(&inventory), now()).unwrap();
    for text in ["r", "c", "p", "ma"] {
        let mut q = Query::new("fr", now());
        q.text = text.to_owned();
        q.rank_store = Some("S01".into());
        assert!(f.catalog.count(&q).unwrap() > 100, "{text}");
        let cards = f.catalog.search(&q).unwrap();
        assert_eq!(cards.len(), q.limit, "{text}: a full page");
        let in_title = |title: &str| {
            title
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(text))
        };
        assert!(cards.iter().all(|c| in_title(&c.title)), "{text}: title matches first");
        let stocked: Vec<bool> = cards
            .iter()
            .map(|c| {
                let sheet = f.catalog.product("fr", &c.group_id, "S01").unwrap().unwrap();
                sheet.variants.iter().any(|v| v.in_stock_here())
            })
            .collect();
        assert!(
            stocked.windows(2).all(|w| w[0] >= w[1]),
            "{text}: in stock here first: {stocked:?}"
        );
    }
}

#[test]
fn a_variant_joining_a_product_brings_its_stock_into_the_ranking() {
    let mut f = catalog("fr", &[("A", "Robe Alba", "", "A"), ("B1", "Robe Berta", "", "B")]);
    f.inventory("store_code\tid\tquantity\nICI\tA\t0\nICI\tB1\t0\nICI\tB2\t4\n");
    assert_eq!(
        search(&f.catalog, "fr", "robe", Some("ICI")),
        ["Robe Alba", "Robe Berta"]
    );
    // The same words: only the product's variants change, not its index entry.
    let feed = format!(
        "id\ttitle\tprice\tavailability\tlink\titem_group_id\tbrand\n\
         A\tRobe Alba\t10 EUR\tin stock\t{LINK}\tA\tMaison\n\
         B1\tRobe Berta\t10 EUR\tin stock\t{LINK}\tB\tMaison\n\
         B2\tRobe Berta\t10 EUR\tin stock\t{LINK}\tB\tMaison\n"
    );
    let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::lang("fr")).unwrap();
    f.catalog.import(Some(&feed), None, now()).unwrap();
    assert_eq!(
        search(&f.catalog, "fr", "robe", Some("ICI")),
        ["Robe Berta", "Robe Alba"],
        "the new size is in stock here"
    );
}

#[test]
fn a_second_connection_sees_what_the_first_imported() {
    let f = french();
    let path = f.dir.path().join("catalog.db");
    let reader = Catalog::open(&path).unwrap();
    assert_eq!(search(&reader, "fr", "chemise", None), ["Chemise Rivoli"]);
    assert!(
        search(&reader, "fr", "oscar", None).is_empty(),
        "a word the vocabulary does not have yet"
    );
    let mut writer = Catalog::open(&path).unwrap();
    let feed = format!(
        "id\ttitle\tprice\tavailability\tlink\nC1\tChemise Oscar\t10 EUR\tin stock\t{LINK}\nN1\tNouvelle chemise\t10 EUR\tin stock\t{LINK}\n"
    );
    let feed = ProductFeed::parse(feed.as_bytes(), &FeedOptions::lang("fr")).unwrap();
    writer.import(Some(&feed), None, now()).unwrap();
    assert_eq!(
        search(&reader, "fr", "chemise", None),
        ["Chemise Oscar", "Nouvelle chemise"]
    );
    assert!(
        search(&reader, "fr", "rivoli", None).is_empty(),
        "a changed title leaves the index"
    );
    assert!(
        search(&reader, "fr", "pantalon", None).is_empty(),
        "a removed product leaves the index"
    );
}

#[test]
fn count_and_facets_follow_the_ranked_matches() {
    let f = crate::store::demo_like();
    let mut q = Query::new("fr", now());
    q.text = "robe".into();
    assert_eq!(f.catalog.count(&q).unwrap(), 1);
    let facets = f.catalog.facets(&q).unwrap();
    assert_eq!((facets.sizes.len(), facets.colors.len()), (2, 2));
    q.size = Some("S".into());
    assert_eq!(f.catalog.count(&q).unwrap(), 1);
    q.size = Some("XXL".into());
    assert_eq!(f.catalog.count(&q).unwrap(), 0);
    assert!(f.catalog.search(&q).unwrap().is_empty());
}

#[test]
fn a_catalog_indexed_before_or_by_an_older_index_is_indexed_again_at_its_first_search() {
    let f = french();
    let path = f.dir.path().join("catalog.db");
    for (marker, stale) in [
        ("DELETE FROM catalog_meta WHERE key = 'search_index'", false),
        ("UPDATE catalog_meta SET value = 'v0' WHERE key = 'search_index'", true),
    ] {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM search_posting").unwrap();
        if stale {
            // An older index left a term no product has any more.
            conn.execute(
                "INSERT INTO search_posting (lang, term, postings) VALUES ('fr', 'fantome', x'08')",
                [],
            )
            .unwrap();
        }
        conn.execute_batch(marker).unwrap();
        drop(conn);
        let catalog = Catalog::open(&path).unwrap();
        assert_eq!(search(&catalog, "fr", "chmise", None), ["Chemise Rivoli"]);
        assert!(search(&catalog, "fr", "fantome", None).is_empty());
    }
}

#[test]
fn a_typo_on_a_whole_word_ranks_before_a_typo_on_a_longer_one_begun() {
    let f = catalog(
        "fr",
        &[("S1", "Chemisier Iris", "", "S1"), ("C1", "Chemise Oscar", "", "C1")],
    );
    assert_eq!(
        search(&f.catalog, "fr", "chemsie", None),
        ["Chemise Oscar", "Chemisier Iris"]
    );
}
