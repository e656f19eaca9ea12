//! Domain data to UI structs: the one place catalog types become Slint types.

use jiff::Timestamp;
use slint::{Color, Image, ModelRc, SharedString, VecModel};

use super::setup::{Field, Problem};
use super::ui::{
    CategoryData, ChipData, ProductCardData, SetupField, SetupProblem, ShopStockData, StockCellData, StockRowData,
    StockState, WishlistItemData,
};
use crate::catalog::{Category, ProductCard, ProductSheet, ShopStock, VariantInfo};
use crate::domain::format_price;

/// Below this many pieces, "only N left" rather than "in stock".
const LOW_STOCK: u32 = 3;

pub fn card(card: &ProductCard, lang: &str, saved: bool) -> ProductCardData {
    ProductCardData {
        id: card.group_id.as_str().into(),
        title: card.title.as_str().into(),
        brand: card.brand.as_deref().unwrap_or_default().to_uppercase().into(),
        price: format_price(&card.price, lang).into(),
        sale_price: card
            .sale_price
            .as_ref()
            .map(|p| format_price(p, lang))
            .unwrap_or_default()
            .into(),
        colors: card.colors.join(", ").into(),
        image: Image::default(),
        saved,
    }
}

/// A wishlist line: the saved SKU with its product, or alone when the catalog no longer
/// has it.
pub fn wishlist_item(
    sku: &str,
    found: Option<(&ProductSheet, &VariantInfo)>,
    lang: &str,
    now: Timestamp,
) -> WishlistItemData {
    let Some((sheet, variant)) = found else {
        return WishlistItemData {
            sku: sku.into(),
            title: sku.into(),
            ..WishlistItemData::default()
        };
    };
    let stock = stock(variant);
    let chosen: Vec<&str> = [variant.color.as_deref(), variant.size.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    WishlistItemData {
        sku: sku.into(),
        title: sheet.title.as_str().into(),
        brand: sheet.brand.as_deref().unwrap_or_default().to_uppercase().into(),
        variant: chosen.join(" · ").into(),
        price: format_price(&variant.price, lang).into(),
        sale_price: variant
            .active_sale(now)
            .map(|s| format_price(&s.price, lang))
            .unwrap_or_default()
            .into(),
        stock: stock.state,
        stock_here: stock.here,
        other_shops: stock.other_shops,
        known: true,
        image: Image::default(),
    }
}

pub fn category(category: &Category) -> CategoryData {
    let mut levels = category.path.rsplitn(2, " > ");
    let name = levels.next().unwrap_or_default();
    let parent = levels
        .next()
        .map(|p| p.rsplit(" > ").next().unwrap_or(p))
        .unwrap_or_default();
    CategoryData {
        path: category.path.as_str().into(),
        name: name.into(),
        parent: parent.to_uppercase().into(),
        count: category.products as i32,
        image: Image::default(),
    }
}

/// The last level of a category path ("Femme > Robes" → "Robes").
pub fn category_name(path: &str) -> &str {
    path.rsplit(" > ").next().unwrap_or(path)
}

/// A swatch for a colour name as feeds write them, in French or English. Names we do not
/// know get no swatch rather than a wrong one.
pub fn swatch(name: &str) -> Option<Color> {
    let lower = name.to_lowercase();
    const NAMES: &[(&[&str], u32)] = &[
        (&["marine", "navy"], 0x23304d),
        (&["denim"], 0x3f5b7e),
        (&["bordeaux", "burgundy"], 0x6b2130),
        (&["terracotta", "rust", "rouille"], 0xbf5b3a),
        (&["sauge", "sage", "kaki", "khaki", "olive"], 0x8f9d7e),
        (&["camel", "cognac", "caramel"], 0xb8864f),
        (&["ocre", "ochre", "moutarde", "mustard"], 0xc4922f),
        (&["rose", "pink"], 0xdcaea6),
        (&["écru", "ecru", "crème", "cream", "beige", "sable", "sand"], 0xeae1cf),
        (&["gris", "grey", "gray", "anthracite"], 0xa3a2a0),
        (&["noir", "black"], 0x1f1e1d),
        (&["blanc", "white"], 0xf7f5f0),
        (&["rouge", "red"], 0xb3261e),
        (&["vert", "green"], 0x3f6b4b),
        (&["bleu", "blue"], 0x35609c),
        (&["jaune", "yellow"], 0xe3c04a),
        (&["orange"], 0xd9782d),
        (&["violet", "purple", "prune", "plum"], 0x5e3a6e),
        (&["marron", "brown", "chocolat", "chocolate"], 0x5b3a29),
    ];
    NAMES
        .iter()
        .find(|(words, _)| words.iter().any(|w| lower.contains(w)))
        .map(|(_, rgb)| Color::from_rgb_u8((rgb >> 16) as u8, (rgb >> 8) as u8, *rgb as u8))
}

/// A chip for a choice, with a swatch when the label names a colour.
pub fn chip(label: &str, selected: bool, available: bool, with_swatch: bool) -> ChipData {
    let swatch = if with_swatch { swatch(label) } else { None };
    ChipData {
        label: label.into(),
        selected,
        available,
        swatch: swatch.unwrap_or_default(),
        has_swatch: swatch.is_some(),
    }
}

/// Where the chosen variant can be had.
pub struct StockView {
    pub state: StockState,
    pub here: i32,
    pub other_shops: i32,
    pub online: bool,
}

pub fn stock(variant: &VariantInfo) -> StockView {
    let (state, here) = match &variant.here {
        None => (StockState::Unknown, 0),
        Some(level) if !level.is_available() => (StockState::OutHere, 0),
        Some(level) => match level.quantity {
            Some(q) if q <= LOW_STOCK => (StockState::Low, q as i32),
            Some(q) => (StockState::InStock, q as i32),
            None => (StockState::InStock, 0),
        },
    };
    StockView {
        state,
        here,
        other_shops: variant.elsewhere.len() as i32,
        online: variant.online.is_available(),
    }
}

/// A sale's end date written the way the shopper's language writes dates.
pub fn sale_end(variant: &VariantInfo, now: Timestamp, lang: &str) -> SharedString {
    let Some(end) = variant.active_sale(now).and_then(|s| s.ends) else {
        return SharedString::new();
    };
    // Shown in the shop's local time; the last instant of the sale is the day it ends.
    let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    let last = end
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap_or(end)
        .to_zoned(zone)
        .date();
    let text = if lang == "fr" {
        last.strftime("%d/%m/%Y").to_string()
    } else {
        last.strftime("%B %-d, %Y").to_string()
    };
    text.into()
}

/// The colour and size chips of a sheet for the chosen variant: sizes are marked
/// available when that size in that colour is in stock here.
pub fn variant_chips(sheet: &ProductSheet, chosen: &VariantInfo) -> (Vec<ChipData>, Vec<ChipData>) {
    let colors = sheet
        .colors()
        .iter()
        .map(|c| {
            let any_here = sheet
                .variants
                .iter()
                .any(|v| v.color.as_ref() == Some(c) && v.in_stock_here());
            chip(c, chosen.color.as_ref() == Some(c), any_here, true)
        })
        .collect();
    let sizes = sheet
        .sizes()
        .iter()
        .map(|s| {
            let variant = sheet
                .variants
                .iter()
                .find(|v| v.color == chosen.color && v.size.as_ref() == Some(s));
            let here = variant.is_some_and(VariantInfo::in_stock_here);
            chip(s, chosen.size.as_ref() == Some(s), here, false)
        })
        .collect();
    (colors, sizes)
}

// ----- staff mode -----

/// The state of one shop's figure: the same scale the shopper side uses.
fn level_state(level: Option<&ShopStock>) -> (StockState, i32, bool) {
    match level {
        None => (StockState::Unknown, 0, false),
        Some(l) if !l.is_available() => (
            StockState::OutHere,
            l.quantity.unwrap_or(0) as i32,
            l.quantity.is_some(),
        ),
        Some(l) => match l.quantity {
            Some(q) if q <= LOW_STOCK => (StockState::Low, q as i32, true),
            Some(q) => (StockState::InStock, q as i32, true),
            None => (StockState::InStock, 0, false),
        },
    }
}

/// The staff stock matrix of `sheet`: sizes across, one row per colour, each cell this
/// shop's figure for that variant (`here` gives a SKU's figure).
pub fn stock_matrix<'a>(
    sheet: &ProductSheet,
    here: impl Fn(&str) -> Option<&'a ShopStock>,
    selected: &str,
) -> (Vec<SharedString>, Vec<StockRowData>) {
    let mut sizes = sheet.sizes();
    if sizes.is_empty() || sheet.variants.iter().any(|v| v.size.is_none()) {
        sizes.insert(0, String::new());
    }
    let mut colors = sheet.colors();
    if colors.is_empty() || sheet.variants.iter().any(|v| v.color.is_none()) {
        colors.push(String::new());
    }
    let rows = colors
        .iter()
        .map(|color| {
            let cells: Vec<StockCellData> = sizes
                .iter()
                .map(|size| {
                    let variant = sheet.variants.iter().find(|v| {
                        v.color.as_deref().unwrap_or_default() == color && v.size.as_deref().unwrap_or_default() == size
                    });
                    let Some(variant) = variant else {
                        return StockCellData::default();
                    };
                    let (state, quantity, known) = level_state(here(&variant.sku));
                    StockCellData {
                        sku: variant.sku.as_str().into(),
                        quantity,
                        known,
                        state,
                        selected: variant.sku == selected,
                        exists: true,
                    }
                })
                .collect();
            StockRowData {
                color: if color.is_empty() {
                    "—".into()
                } else {
                    color.as_str().into()
                },
                cells: ModelRc::new(VecModel::from(cells)),
            }
        })
        .collect();
    let sizes = sizes
        .into_iter()
        .map(|s| if s.is_empty() { "—".into() } else { s.into() })
        .collect();
    (sizes, rows)
}

/// Other shops' figures for one variant, nearest first (then by name); `distance_km`
/// gives a shop's distance from this one when both positions are known.
pub fn shop_rows(
    levels: &[&ShopStock],
    name_of: impl Fn(&str) -> String,
    distance_km: impl Fn(&str) -> Option<f64>,
    minutes: i32,
) -> Vec<ShopStockData> {
    let mut rows: Vec<(Option<f64>, String, ShopStockData)> = levels
        .iter()
        .map(|level| {
            let name = name_of(&level.store_code);
            let distance = distance_km(&level.store_code);
            let (_, quantity, known) = level_state(Some(level));
            let row = ShopStockData {
                name: name.as_str().into(),
                distance: distance.map(format_km).unwrap_or_default().into(),
                quantity,
                known,
                available: level.is_available(),
                minutes,
            };
            (distance, name, row)
        })
        .collect();
    rows.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.1.cmp(&b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    rows.into_iter().map(|(_, _, row)| row).collect()
}

fn format_km(km: f64) -> String {
    if km < 10.0 {
        format!("{km:.1} km")
    } else {
        format!("{km:.0} km")
    }
}

/// "Paris Opéra (3), Lyon Confluence (1)": the shops (already nearest first) that have
/// the variant, for "out of stock here — available at …".
pub fn available_at(rows: &[ShopStockData]) -> SharedString {
    rows.iter()
        .filter(|r| r.available)
        .take(3)
        .map(|r| {
            if r.known {
                format!("{} ({})", r.name, r.quantity)
            } else {
                r.name.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
        .into()
}

/// Whole minutes from `then` to `now`; -1 when `then` is unknown.
pub fn minutes_since(then: Option<Timestamp>, now: Timestamp) -> i32 {
    then.map_or(-1, |t| {
        i32::try_from(now.duration_since(t).as_secs().max(0) / 60).unwrap_or(i32::MAX)
    })
}

/// A byte count as staff read it: "48 MB", "12.4 GB".
pub fn bytes(n: u64) -> SharedString {
    const MB: f64 = 1024.0 * 1024.0;
    let mb = n as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0).into()
    } else {
        format!("{mb:.0} MB").into()
    }
}

/// Why the first-start screen has not enrolled, as its view names it.
pub fn setup_problem(problem: Option<Problem>) -> SetupProblem {
    match problem {
        None => SetupProblem::None,
        Some(Problem::NotACode) => SetupProblem::NotACode,
        Some(Problem::NoCode) => SetupProblem::NoCode,
        Some(Problem::NoHub) => SetupProblem::NoHub,
        Some(Problem::BadHub) => SetupProblem::BadHub,
        Some(Problem::UnknownCode) => SetupProblem::UnknownCode,
        Some(Problem::ExpiredCode) => SetupProblem::ExpiredCode,
        Some(Problem::UsedCode) => SetupProblem::UsedCode,
        Some(Problem::Unreachable) => SetupProblem::Unreachable,
        Some(Problem::NotAHub) => SetupProblem::NotAHub,
        Some(Problem::TooManyTries) => SetupProblem::TooManyTries,
        Some(Problem::HubFailed) => SetupProblem::HubFailed,
        Some(Problem::KioskFailed) => SetupProblem::KioskFailed,
        Some(Problem::OtherHub) => SetupProblem::OtherHub,
        Some(Problem::OtherShop) => SetupProblem::OtherShop,
    }
}

/// The field the first-start screen's keyboard types into, both ways.
pub fn setup_field(field: Field) -> SetupField {
    match field {
        Field::None => SetupField::None,
        Field::Code => SetupField::Code,
        Field::Hub => SetupField::Hub,
    }
}

pub fn field_of(field: SetupField) -> Field {
    match field {
        SetupField::Code => Field::Code,
        SetupField::Hub => Field::Hub,
        _ => Field::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_shops_are_listed_nearest_first_then_by_name() {
        let level = |code: &str, quantity: Option<u32>, availability| ShopStock {
            store_code: code.to_owned(),
            quantity,
            availability,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        use crate::domain::Availability::{InStock, OutOfStock};
        let levels = [
            level("FAR", Some(2), InStock),
            level("NOWHERE-B", Some(1), InStock),
            level("NEAR", Some(0), OutOfStock),
            level("NOWHERE-A", None, InStock),
        ];
        let refs: Vec<&ShopStock> = levels.iter().collect();
        let distance = |code: &str| match code {
            "FAR" => Some(412.4),
            "NEAR" => Some(2.61),
            _ => None,
        };
        let rows = shop_rows(&refs, |code| code.to_owned(), distance, 12);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["NEAR", "FAR", "NOWHERE-A", "NOWHERE-B"]);
        assert_eq!(
            rows.iter().map(|r| r.distance.as_str()).collect::<Vec<_>>(),
            ["2.6 km", "412 km", "", ""]
        );
        assert!(!rows[0].available && rows[1].available && !rows[2].known);
        // "Available at": the shops that have it, nearest first, with their figure.
        assert_eq!(available_at(&rows), "FAR (2), NOWHERE-A, NOWHERE-B (1)");
    }

    #[test]
    fn colour_names_in_both_languages_get_swatches() {
        assert_eq!(swatch("Bleu marine"), swatch("Navy"));
        assert!(swatch("Vert sauge").is_some());
        assert_eq!(swatch("Plaid tartan"), None);
    }

    #[test]
    fn category_paths_split_into_name_and_parent() {
        let data = category(&Category {
            path: "Femme > Robes".into(),
            products: 3,
            image_link: None,
        });
        assert_eq!((data.name.as_str(), data.parent.as_str()), ("Robes", "FEMME"));
        assert_eq!(category_name("Robes"), "Robes");
    }
}
