//! The bundled demo store, "Maison Lumen": a Merchant Center feed pair in French (RSS)
//! and English (TSV), a local inventory feed for five shops, and flat illustrations.
//!
//! The files under `assets/demo/` are written by [`write_assets`] from the tables below
//! (`vitrine demo --write-assets assets/demo`); a test keeps them in step. They are
//! embedded in the binary, so the demo needs no files and no network at run time, and
//! they go through the same importer as any retailer's feeds.

pub mod art;
#[cfg(feature = "hub")]
pub mod history;

use std::fmt::Write as _;
use std::path::Path;

use include_dir::{Dir, include_dir};

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

/// The shop the demo kiosk stands in.
pub const HOME_STORE: &str = "PARIS-MARAIS";
/// Where the demo feeds say their pictures are; the kiosk serves them from the binary.
pub const IMAGE_BASE: &str = "https://demo.vitrine.example/images/";
pub const PRODUCTS_FR: &str = "products-fr.xml";
pub const PRODUCTS_EN: &str = "products-en.tsv";
pub const INVENTORY: &str = "local-inventory.tsv";

/// A file of the embedded demo assets (`images/…` for pictures).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    ASSETS.get_file(path).map(|f| f.contents())
}

/// The embedded bytes of a demo image URL.
pub fn image(url: &str) -> Option<&'static [u8]> {
    url.strip_prefix(IMAGE_BASE)
        .and_then(|name| asset(&format!("images/{name}")))
}

pub const STORES: [(&str, &str); 5] = [
    ("PARIS-MARAIS", "Paris Marais"),
    ("PARIS-OPERA", "Paris Opéra"),
    ("LYON-CONFLUENCE", "Lyon Confluence"),
    ("BORDEAUX-CHARTRONS", "Bordeaux Chartrons"),
    ("LILLE-VIEUX", "Lille Vieux-Lille"),
];

/// Where the demo's shops are (latitude, longitude), in the order of [`STORES`].
const POSITIONS: [(f64, f64); 5] = [
    (48.8575, 2.3600),
    (48.8720, 2.3316),
    (45.7405, 4.8180),
    (44.8550, -0.5700),
    (50.6400, 3.0630),
];

/// The demo's brand: the only place a kiosk learns to say Maison Lumen. Its colours are
/// the kiosk's own.
pub fn brand() -> crate::protocol::brand::Brand {
    crate::protocol::brand::Brand {
        name: "MAISON LUMEN".to_owned(),
        welcome: [
            ("fr", "Prêt-à-porter parisien, depuis 1987"),
            ("en", "Parisian ready-to-wear, since 1987"),
        ]
        .into_iter()
        .map(|(lang, words)| (lang.to_owned(), words.to_owned()))
        .collect(),
        ..Default::default()
    }
}

/// The demo's shops, as a hub's `[[shop]]` config lists them.
pub fn shops() -> Vec<crate::protocol::Shop> {
    STORES
        .iter()
        .zip(POSITIONS)
        .map(|((code, name), (lat, lon))| crate::protocol::Shop {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            latitude: Some(lat),
            longitude: Some(lon),
        })
        .collect()
}

/// The demo's sales assistants: (shop, name, PIN). For demos only, like the passes.
pub const DEMO_STAFF: [(&str, &str, &str); 3] = [
    ("PARIS-MARAIS", "Léa", "246810"),
    ("PARIS-MARAIS", "Marc", "135790"),
    ("LYON-CONFLUENCE", "Inès", "112233"),
];

struct Kind {
    key: &'static str,
    category: (&'static str, &'static str),
    noun: (&'static str, &'static str),
    sizes: &'static [&'static str],
    /// Base price in euros.
    price: i64,
    /// Model names; each makes one product group.
    models: &'static [&'static str],
    material: (&'static str, &'static str),
}

const APPAREL: &[&str] = &["XS", "S", "M", "L", "XL"];
const TROUSERS: &[&str] = &["34", "36", "38", "40", "42", "44"];
const SHOES: &[&str] = &["36", "37", "38", "39", "40", "41", "42", "43", "44"];
const ONE_SIZE: &[&str] = &["TU"];

const KINDS: &[Kind] = &[
    Kind {
        key: "dress",
        category: ("Femme > Robes", "Women > Dresses"),
        noun: ("Robe", "dress"),
        sizes: APPAREL,
        price: 129,
        models: &["Lina", "Céleste", "Margaux", "Anaïs", "Solène", "Suzanne"],
        material: ("lin lavé", "washed linen"),
    },
    Kind {
        key: "blouse",
        category: ("Femme > Chemisiers", "Women > Blouses"),
        noun: ("Chemisier", "blouse"),
        sizes: APPAREL,
        price: 89,
        models: &["Éloïse", "Joséphine", "Iris", "Romane", "Clémence"],
        material: ("voile de coton", "cotton voile"),
    },
    Kind {
        key: "skirt",
        category: ("Femme > Jupes", "Women > Skirts"),
        noun: ("Jupe", "skirt"),
        sizes: APPAREL,
        price: 95,
        models: &["Capucine", "Alma", "Rosalie", "Nina", "Léonie"],
        material: ("crêpe fluide", "fluid crepe"),
    },
    Kind {
        key: "sweater",
        category: ("Femme > Mailles", "Women > Knitwear"),
        noun: ("Pull", "sweater"),
        sizes: APPAREL,
        price: 119,
        models: &["Hélène", "Maëlle", "Garance", "Louise", "Agathe"],
        material: ("laine mérinos", "merino wool"),
    },
    Kind {
        key: "coat",
        category: ("Femme > Manteaux", "Women > Coats"),
        noun: ("Manteau", "coat"),
        sizes: APPAREL,
        price: 289,
        models: &["Victoire", "Blanche", "Constance", "Apolline"],
        material: ("drap de laine", "wool broadcloth"),
    },
    Kind {
        key: "shirt",
        category: ("Homme > Chemises", "Men > Shirts"),
        noun: ("Chemise", "shirt"),
        sizes: APPAREL,
        price: 85,
        models: &["Rivoli", "Oberkampf", "Lepic", "Martyrs", "Turenne"],
        material: ("popeline de coton", "cotton poplin"),
    },
    Kind {
        key: "tshirt",
        category: ("Homme > T-shirts", "Men > T-shirts"),
        noun: ("T-shirt", "T-shirt"),
        sizes: APPAREL,
        price: 39,
        models: &["Essentiel", "Bastille", "Canal", "Ménilmontant", "Belleville"],
        material: ("jersey de coton bio", "organic cotton jersey"),
    },
    Kind {
        key: "jeans",
        category: ("Homme > Jeans", "Men > Jeans"),
        noun: ("Jean", "jeans"),
        sizes: TROUSERS,
        price: 110,
        models: &["Droit 501", "Fuselé Étienne", "Large Gaston", "Slim Marcel"],
        material: ("denim japonais", "Japanese denim"),
    },
    Kind {
        key: "jacket",
        category: ("Homme > Vestes", "Men > Jackets"),
        noun: ("Veste", "jacket"),
        sizes: APPAREL,
        price: 219,
        models: &["Saint-Germain", "Montmartre", "Batignolles", "Odéon"],
        material: ("velours côtelé", "corduroy"),
    },
    Kind {
        key: "sneaker",
        category: ("Chaussures > Baskets", "Shoes > Sneakers"),
        noun: ("Baskets", "sneakers"),
        sizes: SHOES,
        price: 139,
        models: &["Court", "Runner 72", "Montante", "Tennis"],
        material: ("cuir pleine fleur", "full-grain leather"),
    },
    Kind {
        key: "boot",
        category: ("Chaussures > Bottines", "Shoes > Boots"),
        noun: ("Bottines", "boots"),
        sizes: SHOES,
        price: 195,
        models: &["Chelsea", "Lacées", "Western", "Rangers"],
        material: ("daim", "suede"),
    },
    Kind {
        key: "bag",
        category: ("Accessoires > Sacs", "Accessories > Bags"),
        noun: ("Sac", "bag"),
        sizes: ONE_SIZE,
        price: 175,
        models: &["Cabas Seine", "Besace Loire", "Mini Rhône", "Tote Garonne"],
        material: ("cuir tannage végétal", "vegetable-tanned leather"),
    },
    Kind {
        key: "scarf",
        category: ("Accessoires > Écharpes", "Accessories > Scarves"),
        noun: ("Écharpe", "scarf"),
        sizes: ONE_SIZE,
        price: 65,
        models: &["Cachemire", "Brume", "Fjord", "Tweed"],
        material: ("cachemire recyclé", "recycled cashmere"),
    },
    Kind {
        key: "hat",
        category: ("Accessoires > Chapeaux", "Accessories > Hats"),
        noun: ("Chapeau", "hat"),
        sizes: &["S/M", "L/XL"],
        price: 79,
        models: &["Fedora Brume", "Cloche Lune", "Panama Sable", "Béret Aube"],
        material: ("feutre de laine", "wool felt"),
    },
];

/// (slug, French, English, hex)
const COLORS: &[(&str, &str, &str, &str)] = &[
    ("noir", "Noir", "Black", "#1f1e1d"),
    ("ecru", "Écru", "Ecru", "#eae1cf"),
    ("marine", "Bleu marine", "Navy", "#23304d"),
    ("camel", "Camel", "Camel", "#b8864f"),
    ("terracotta", "Terracotta", "Terracotta", "#bf5b3a"),
    ("sauge", "Vert sauge", "Sage green", "#8f9d7e"),
    ("bordeaux", "Bordeaux", "Burgundy", "#6b2130"),
    ("gris", "Gris chiné", "Heather grey", "#a3a2a0"),
    ("rose", "Rose poudré", "Powder pink", "#dcaea6"),
    ("denim", "Bleu denim", "Denim blue", "#3f5b7e"),
    ("ocre", "Ocre", "Ochre", "#c4922f"),
    ("blanc", "Blanc", "White", "#f7f5f0"),
];

/// A stable pseudo-random number for a key, so the demo is the same on every build.
fn roll(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// A valid EAN-13 in France's GS1 prefix range, from a serial number.
fn ean13(serial: u64) -> String {
    let body = format!("376{:09}", serial % 1_000_000_000);
    format!("{body}{}", crate::domain::gs1_check_digit(&body))
}

/// One demo variant, before it is written to a feed.
struct Item {
    sku: String,
    group: String,
    kind: &'static Kind,
    model: &'static str,
    color: &'static (&'static str, &'static str, &'static str, &'static str),
    size: &'static str,
    gtin: String,
    price: i64,
    sale: Option<(i64, Option<&'static str>)>,
    online: &'static str,
}

fn items() -> Vec<Item> {
    let mut items = Vec::new();
    let mut serial = 1000;
    for kind in KINDS {
        for (m, model) in kind.models.iter().enumerate() {
            let group = format!("ML-{}-{:02}", kind.key.to_uppercase(), m + 1);
            let r = roll(&group);
            let color_count = 2 + (r % 3) as usize;
            let first = (r / 7) as usize % COLORS.len();
            let price = (kind.price + ((r / 13) % 4) as i64 * 10) * 100;
            // One group in four is on sale: some until the end of winter, some open-ended.
            let sale = match r % 8 {
                0 => Some((price * 7 / 10, Some("2026-11-01T00:00+01:00/2027-02-28T23:59+01:00"))),
                1 => Some((price * 8 / 10, None)),
                _ => None,
            };
            for c in 0..color_count {
                let color = &COLORS[(first + c * 5) % COLORS.len()];
                for size in kind.sizes {
                    serial += 1;
                    let sku = format!("{group}-{}-{}", color.0.to_uppercase(), size.replace('/', ""));
                    let online = if roll(&format!("{sku}/online")).is_multiple_of(9) {
                        "out_of_stock"
                    } else {
                        "in_stock"
                    };
                    items.push(Item {
                        sku,
                        group: group.clone(),
                        kind,
                        model,
                        color,
                        size,
                        gtin: ean13(serial),
                        price,
                        sale,
                        online,
                    });
                }
            }
        }
    }
    items
}

fn image_urls(item: &Item) -> (String, Vec<String>) {
    let name = |view: &str| format!("{IMAGE_BASE}{}-{}-{view}.svg", item.kind.key, item.color.0);
    (name("front"), vec![name("detail"), name("plinth")])
}

fn title(item: &Item, fr: bool) -> String {
    if fr {
        format!("{} {}", item.kind.noun.0, item.model)
    } else {
        format!("{} {}", item.model, item.kind.noun.1)
    }
}

fn description(item: &Item, fr: bool) -> String {
    let (material, noun) = if fr {
        (item.kind.material.0, item.kind.noun.0)
    } else {
        (item.kind.material.1, item.kind.noun.1)
    };
    if fr {
        format!(
            "<p>{noun} {model} en {material}, coupée et finie dans notre atelier.</p>\
             <ul><li>Coupe pensée pour durer, au-delà des saisons</li><li>Entretien : voir l&#39;étiquette</li>\
             <li>Fabriqué au Portugal</li></ul>",
            model = item.model
        )
    } else {
        format!(
            "<p>The {model} {noun} in {material}, cut and finished in our workshop.</p>\
             <ul><li>A cut made to outlast the seasons</li><li>Care: see the label</li>\
             <li>Made in Portugal</li></ul>",
            model = item.model
        )
    }
}

fn price_text(minor: i64, fr: bool) -> String {
    if fr {
        format!("{},{:02} EUR", minor / 100, minor % 100)
    } else {
        format!("{}.{:02} EUR", minor / 100, minor % 100)
    }
}

fn xml_escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The French product feed, as RSS 2.0 with descriptions in CDATA.
pub fn products_fr() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>Maison Lumen</title>\n<link>https://demo.vitrine.example/</link>\n<description>Maison Lumen — catalogue</description>\n<language>fr-FR</language>\n",
    );
    for item in items() {
        let (image, extra) = image_urls(&item);
        let _ = write!(
            out,
            "<item>\n<g:id>{sku}</g:id>\n<title>{title}</title>\n<description><![CDATA[{desc}]]></description>\n<link>https://demo.vitrine.example/fr/p/{group}?variant={sku}</link>\n<g:image_link>{image}</g:image_link>\n",
            sku = item.sku,
            title = xml_escape(&title(&item, true)),
            desc = description(&item, true),
            group = item.group,
        );
        for url in extra {
            let _ = writeln!(out, "<g:additional_image_link>{url}</g:additional_image_link>");
        }
        let _ = write!(
            out,
            "<g:availability>{avail}</g:availability>\n<g:price>{price}</g:price>\n",
            avail = item.online.replace('_', " "),
            price = price_text(item.price, true),
        );
        if let Some((sale, window)) = item.sale {
            let _ = writeln!(out, "<g:sale_price>{}</g:sale_price>", price_text(sale, true));
            if let Some(window) = window {
                let _ = writeln!(
                    out,
                    "<g:sale_price_effective_date>{window}</g:sale_price_effective_date>"
                );
            }
        }
        let _ = write!(
            out,
            "<g:brand>Maison Lumen</g:brand>\n<g:gtin>{gtin}</g:gtin>\n<g:item_group_id>{group}</g:item_group_id>\n<g:product_type>{category}</g:product_type>\n<g:color>{color}</g:color>\n<g:size>{size}</g:size>\n<g:gender>{gender}</g:gender>\n<g:age_group>adult</g:age_group>\n<g:condition>new</g:condition>\n<g:shipping>\n<g:country>FR</g:country>\n<g:price>0 EUR</g:price>\n</g:shipping>\n</item>\n",
            gtin = item.gtin,
            group = item.group,
            category = xml_escape(item.kind.category.0),
            color = xml_escape(item.color.1),
            size = item.size,
            gender = gender(item.kind),
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn gender(kind: &Kind) -> &'static str {
    match kind.category.1.split(' ').next() {
        Some("Women") => "female",
        Some("Men") => "male",
        _ => "unisex",
    }
}

/// The English product feed, as tab-separated text (GTINs without their leading zero
/// would be fine too; these are EAN-13).
pub fn products_en() -> String {
    let mut writer = csv::WriterBuilder::new().delimiter(b'\t').from_writer(Vec::new());
    let header = [
        "id",
        "title",
        "description",
        "link",
        "image_link",
        "additional_image_link",
        "availability",
        "price",
        "sale_price",
        "sale_price_effective_date",
        "brand",
        "gtin",
        "item_group_id",
        "product_type",
        "color",
        "size",
        "gender",
        "age_group",
        "condition",
    ];
    writer.write_record(header).expect("writing to memory");
    for item in items() {
        let (image, extra) = image_urls(&item);
        let (sale, window) = match item.sale {
            Some((sale, window)) => (price_text(sale, false), window.unwrap_or("").to_owned()),
            None => (String::new(), String::new()),
        };
        writer
            .write_record([
                item.sku.as_str(),
                &title(&item, false),
                &description(&item, false),
                &format!("https://demo.vitrine.example/en/p/{}?variant={}", item.group, item.sku),
                &image,
                &extra.join(","),
                item.online,
                &price_text(item.price, false),
                &sale,
                &window,
                "Maison Lumen",
                &item.gtin,
                &item.group,
                item.kind.category.1,
                item.color.2,
                item.size,
                gender(item.kind),
                "adult",
                "new",
            ])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("flushing to memory")).expect("feed text is UTF-8")
}

/// The local inventory feed: every SKU in every shop, some sold out here but not
/// elsewhere, with the "store code" header spelling many exports use.
pub fn inventory() -> String {
    let mut out = String::from("store code\titem_id\tquantity\tavailability\n");
    for item in items() {
        for (store, _) in STORES {
            let r = roll(&format!("{}/{store}", item.sku));
            let quantity = match r % 10 {
                0..=2 => 0,
                3..=5 => 1 + (r / 10) % 3,
                _ => 3 + (r / 10) % 9,
            };
            let availability = if quantity == 0 { "out_of_stock" } else { "in_stock" };
            let _ = writeln!(out, "{store}\t{}\t{quantity}\t{availability}", item.sku);
        }
    }
    out
}

/// Every illustration the feeds refer to: (file name, SVG).
pub fn images() -> Vec<(String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for item in items() {
        seen.insert((item.kind.key, item.color.0, item.color.3));
    }
    seen.into_iter()
        .flat_map(|(kind, slug, hex)| {
            art::VIEWS
                .iter()
                .map(move |view| (format!("{kind}-{slug}-{view}.svg"), art::illustration(kind, hex, view)))
        })
        .collect()
}

/// Writes the demo feeds and pictures under `dir` (normally `assets/demo`).
pub fn write_assets(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("images"))?;
    std::fs::write(dir.join(PRODUCTS_FR), products_fr())?;
    std::fs::write(dir.join(PRODUCTS_EN), products_en())?;
    std::fs::write(dir.join(INVENTORY), inventory())?;
    for (name, svg) in images() {
        std::fs::write(dir.join("images").join(name), svg)?;
    }
    Ok(())
}

/// Imports the embedded demo feeds into a catalog.
pub fn import_into(catalog: &mut crate::catalog::Catalog, now: jiff::Timestamp) -> anyhow::Result<()> {
    let (fr, en, inventory) = demo_feeds()?;
    catalog.import(Some(&fr), Some(&inventory), now)?;
    catalog.import(Some(&en), None, now)?;
    Ok(())
}

/// The demo store's feeds: products in French and English, and the shops' stock.
fn demo_feeds() -> anyhow::Result<(
    crate::catalog::ProductFeed,
    crate::catalog::ProductFeed,
    crate::catalog::InventoryFeed,
)> {
    use crate::catalog::{FeedOptions, InventoryFeed, ProductFeed};
    let file = |name: &str| asset(name).ok_or_else(|| anyhow::anyhow!("demo asset {name} is missing from the build"));
    Ok((
        ProductFeed::parse(file(PRODUCTS_FR)?, &FeedOptions::default())?,
        ProductFeed::parse(file(PRODUCTS_EN)?, &FeedOptions::lang("en"))?,
        InventoryFeed::parse(file(INVENTORY)?, &FeedOptions::default())?,
    ))
}

/// Imports the demo store (catalog, stock, staff) into the hub data directory `data`,
/// and gives `config` the demo's customer passes and, unless it names its own, its
/// shops. For `vitrine demo` and `vitrine hub --demo`; reusing `data` is fine.
#[cfg(feature = "hub")]
pub fn prepare_hub(data: &Path, config: crate::hub::Config) -> anyhow::Result<crate::hub::Config> {
    std::fs::create_dir_all(data)?;
    prepare_hub_at(&crate::hub::Place::File(crate::hub::db_path(data)), config)
}

/// [`prepare_hub`] on any of the hub's databases (`vitrine hub --demo --database …`).
#[cfg(feature = "hub")]
pub fn prepare_hub_at(place: &crate::hub::Place, mut config: crate::hub::Config) -> anyhow::Result<crate::hub::Config> {
    let conn = place.connect()?;
    let conn = conn.sql();
    let now = jiff::Timestamp::now();
    let (fr, en, inventory) = demo_feeds()?;
    let keep = crate::catalog::import::Keep {
        log_changes: true,
        index: false,
    };
    crate::catalog::import::import(conn, keep, Some(&fr), Some(&inventory), now)?;
    crate::catalog::import::import(conn, keep, Some(&en), None, now)?;
    for (store, name, pin) in DEMO_STAFF {
        // Already there when the demo's data directory is reused.
        let _ = crate::hub::staff::add(conn, store, name, pin, now)?;
    }
    config.demo_passes = DEMO_CUSTOMERS.iter().map(|c| (*c).to_owned()).collect();
    config.local_pictures = Some(hub_pictures());
    if config.shops.is_empty() {
        config.shops = shops().into_iter().map(Into::into).collect();
    }
    if config.measurement.time_zone.is_none() {
        config.measurement.time_zone = Some("Europe/Paris".to_owned());
    }
    let settings = crate::hub::measure::Settings::from_config(&config)?;
    history::seed(conn, &settings, now)?;
    // The console may change it; a reused data directory keeps what it was given.
    if crate::hub::brand::saved(conn)?.is_none() {
        let branding = crate::hub::brand::Branding::new(brand(), None)?;
        crate::hub::brand::save(conn, &branding, now)?;
    }
    let password = demo_console_account(conn, now)?;
    tracing::info!(
        "demo console at /console: sign in as {DEMO_CONSOLE_EMAIL} with the password {password} \
         (a new one at each start; `vitrine hub ops add` makes real accounts)"
    );
    tracing::info!(
        "demo store imported: kiosks enroll in {HOME_STORE}; staff mode: tap the attract screen's \
         top-left corner five times, then {} with PIN {}",
        DEMO_STAFF[0].1,
        DEMO_STAFF[0].2
    );
    Ok(config)
}

/// The demo hub's console account (an admin).
#[cfg(feature = "hub")]
pub const DEMO_CONSOLE_EMAIL: &str = "ops@demo.vitrine";

/// Gives the demo's console account a fresh random password, making the account if
/// needed, and returns the password: a demo hub may listen beyond loopback, so no fixed
/// password opens it.
#[cfg(feature = "hub")]
fn demo_console_account(conn: &dyn crate::db::Sql, now: jiff::Timestamp) -> anyhow::Result<String> {
    use crate::hub::{accounts, admin, audit::Actor};
    let password = crate::hub::auth::new_token("")[..16].to_owned();
    let hashed = accounts::Hashed::new(&password)?;
    if accounts::by_email(conn, DEMO_CONSOLE_EMAIL)?.is_some() {
        admin::set_password(conn, &Actor::Cli, DEMO_CONSOLE_EMAIL, &hashed, now)??;
    } else {
        admin::add_account(
            conn,
            &Actor::Cli,
            DEMO_CONSOLE_EMAIL,
            accounts::Role::Admin,
            &[],
            &hashed,
            now,
        )??;
    }
    Ok(password)
}

/// The demo's pictures, served by the hub from the binary (`hub::Config::local_pictures`).
#[cfg(feature = "hub")]
pub fn hub_pictures() -> std::sync::Arc<dyn crate::hub::images::LocalPictures> {
    std::sync::Arc::new(Pictures)
}

#[cfg(feature = "hub")]
#[derive(Debug)]
struct Pictures;

#[cfg(feature = "hub")]
impl crate::hub::images::LocalPictures for Pictures {
    fn get(&self, url: &str) -> Option<crate::hub::images::Picture> {
        image(url).map(|svg| crate::hub::images::Picture {
            bytes: svg.into(),
            content_type: "image/svg+xml".to_owned(),
        })
    }
}

/// Starts a hub on loopback with the demo store imported, for `vitrine demo`.
#[cfg(feature = "hub")]
pub fn start_hub(data: &Path) -> anyhow::Result<crate::hub::Running> {
    crate::hub::spawn_with(data, prepare_hub(data, crate::hub::Config::default())?)
}

/// The demo's customers: each has a pass page on the demo hub with their rotating code.
pub const DEMO_CUSTOMERS: [&str; 3] = ["camille", "hugo", "ines"];

/// Enrolls a kiosk of the demo's home store with `hub` and pulls its catalog over HTTP.
/// Returns the kiosk's database.
#[cfg(feature = "hub")]
pub fn enroll_kiosk(hub: &crate::hub::Running, data: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(data)?;
    let db = data.join(crate::db::KIOSK_DB);
    let conn = crate::hub::open_db(&hub.data)?;
    let code = crate::hub::store::create_enroll_code(&conn, HOME_STORE, jiff::Timestamp::now())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        crate::sync::driver::enroll(&db, &hub.url(), &code, Some("demo-kiosk")).await?;
        let syncer = crate::sync::driver::Syncer::open(&db, crate::sync::engine::Policy::default())?;
        syncer.pull_catalog().await
    })?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digits_are_valid() {
        for serial in [0, 1, 999, 123_456] {
            assert!(crate::domain::Gtin::parse(&ean13(serial)).is_ok());
        }
    }

    #[test]
    fn demo_store_is_big_enough() {
        let items = items();
        let groups: std::collections::BTreeSet<_> = items.iter().map(|i| i.group.clone()).collect();
        assert!(groups.len() >= 60, "{} groups", groups.len());
        assert!(items.len() >= 400, "{} variants", items.len());
        assert!(items.iter().any(|i| i.sale.is_some_and(|s| s.1.is_some())));
    }
}
