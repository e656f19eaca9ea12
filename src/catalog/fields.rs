//! The names exporters give Merchant Center's attributes.
//!
//! Feed names are compared after [`field_name`](super::feed::field_name) (case, spaces,
//! the `g:` prefix). A name below stands for its attribute only when the feed has no
//! column or element by the attribute's own name, so `sku` is read as `id` in a feed
//! without `id` and ignored in one with it. The mapping used is reported once per
//! import, as a warning, for the merchant to check.

use std::collections::BTreeSet;

/// Each attribute with the names exporters write for it, the likeliest first.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "id",
        &[
            "item_id",
            "sku",
            "offer_id",
            "product_id",
            "variant_sku",
            "product_sku",
            "reference",
            "référence",
            "article_number",
            "guid",
        ],
    ),
    (
        "title",
        &[
            "name",
            "product_name",
            "product_title",
            "item_name",
            "titre",
            "nom",
            "nom_du_produit",
            "productname",
        ],
    ),
    (
        "description",
        &[
            "body_html",
            "body_(html)",
            "product_description",
            "long_description",
            "body",
            "short_description",
            "description_longue",
            "summary",
            "content",
        ],
    ),
    (
        "link",
        &[
            "url",
            "product_url",
            "product_link",
            "link_url",
            "permalink",
            "page_url",
            "landing_page",
            "lien",
            "url_produit",
        ],
    ),
    (
        "image_link",
        &[
            "image",
            "image_url",
            "image_src",
            "main_image",
            "main_image_url",
            "imageurl",
            "picture",
            "picture_url",
            "photo",
            "image_1",
            "image_principale",
            "imgurl",
        ],
    ),
    (
        "additional_image_link",
        &[
            "additional_image_links",
            "additional_images",
            "additional_image_url",
            "images",
            "other_images",
            "gallery",
            "imgurl_alternative",
        ],
    ),
    (
        "price",
        &[
            "regular_price",
            "base_price",
            "list_price",
            "retail_price",
            "price_ttc",
            "prix",
            "prix_ttc",
            "price_vat",
        ],
    ),
    (
        "sale_price",
        &[
            "special_price",
            "discount_price",
            "promo_price",
            "promotional_price",
            "reduced_price",
            "prix_promo",
            "prix_soldé",
        ],
    ),
    (
        "availability",
        &[
            "stock_status",
            "availability_status",
            "disponibilité",
            "disponibilite",
            "in_stock",
        ],
    ),
    (
        "quantity",
        &[
            "qty",
            "stock",
            "stock_quantity",
            "quantity_in_stock",
            "inventory",
            "stock_level",
            "on_hand",
            "quantité",
            "quantite",
        ],
    ),
    (
        "brand",
        &["vendor", "manufacturer", "brand_name", "marque", "fabricant"],
    ),
    (
        "gtin",
        &[
            "ean",
            "ean13",
            "ean_13",
            "upc",
            "isbn",
            "barcode",
            "jan",
            "gtin13",
            "gtin14",
            "gtin12",
            "gtin8",
            "ean/upc",
            "code_barre",
            "code_ean",
        ],
    ),
    ("mpn", &["manufacturer_part_number", "part_number", "mfr_part_number"]),
    (
        "product_type",
        &[
            "category",
            "categories",
            "product_category",
            "category_path",
            "product_categories",
            "category_name",
            "catégorie",
            "categorie",
            "categorytext",
        ],
    ),
    (
        "google_product_category",
        &["google_category", "google_product_category_id", "google_taxonomy"],
    ),
    (
        "item_group_id",
        &[
            "group_id",
            "item_group",
            "parent_id",
            "parent_sku",
            "product_group_id",
            "parent",
            "itemgroup_id",
        ],
    ),
    ("color", &["colour", "color_name", "couleur"]),
    ("size", &["size_name", "taille"]),
    ("gender", &["sexe", "genre"]),
    ("age_group", &["age"]),
    ("condition", &["état", "etat"]),
    (
        "store_code",
        &[
            "store",
            "store_id",
            "shop_code",
            "location_id",
            "magasin",
            "code_magasin",
        ],
    ),
];

/// For the names a feed uses, which of them to read as which attribute.
pub fn mapping<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, &'static str)> {
    let present: BTreeSet<&str> = names.into_iter().collect();
    let mut mapping = Vec::new();
    for (attribute, synonyms) in SYNONYMS {
        if present.contains(attribute) {
            continue;
        }
        if let Some(name) = synonyms.iter().find(|s| present.contains(*s)) {
            mapping.push(((*name).to_owned(), *attribute));
        }
    }
    mapping
}

/// The attribute a name is read as under `mapping`.
pub fn renamed<'m>(mapping: &'m [(String, &'static str)], name: &'m str) -> &'m str {
    mapping.iter().find(|(from, _)| from == name).map_or(name, |(_, to)| to)
}

/// The warning that reports a mapping, if there is one.
pub fn describe(mapping: &[(String, &'static str)]) -> Option<String> {
    if mapping.is_empty() {
        return None;
    }
    let pairs: Vec<String> = mapping.iter().map(|(from, to)| format!("'{from}' as {to}")).collect();
    Some(format!("fields read by another name: {}", pairs.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_stand_in_only_for_a_missing_attribute() {
        let map = mapping(["sku", "name", "url", "image", "category", "price"]);
        assert_eq!(renamed(&map, "sku"), "id");
        assert_eq!(renamed(&map, "name"), "title");
        assert_eq!(renamed(&map, "image"), "image_link");
        assert_eq!(renamed(&map, "category"), "product_type");
        assert_eq!(renamed(&map, "price"), "price");
        let map = mapping(["id", "sku", "title"]);
        assert!(map.is_empty(), "{map:?}");
        assert_eq!(
            describe(&mapping(["item_id", "colour"])).as_deref(),
            Some("fields read by another name: 'item_id' as id, 'colour' as color")
        );
    }

    #[test]
    fn every_synonym_belongs_to_one_attribute() {
        let mut seen = BTreeSet::new();
        for (attribute, synonyms) in SYNONYMS {
            assert!(seen.insert(*attribute), "{attribute}");
            for s in *synonyms {
                assert!(seen.insert(*s), "{s} is listed twice");
                assert_eq!(super::super::feed::field_name(s), *s, "{s} is not a normalised name");
            }
        }
    }
}
