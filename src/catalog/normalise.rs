//! Giving feed items their meaning: a product item becomes a [`Variant`], a local
//! inventory row a [`StockLevel`].
//!
//! As Merchant Center does, only what makes an item unusable rejects it: a product
//! without an id, a title, a price or a link; a stock row without a shop, an id, or any
//! stock; a delimited row whose cells do not line up with its header. An invalid
//! optional field (a GTIN with a wrong check digit, a sale price above the price, a
//! picture URL that is not one) is dropped, with a warning, and the item lands.

use url::Url;

use super::feed::{Notice, RawItem, clean_text};
use crate::domain::{Availability, Gtin, Price, PriceError, Sale, StockLevel, Variant, limits, parse_date_range};

/// What a feed's configuration adds to what it says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defaults<'a> {
    /// The currency of prices written without one (`69.9`).
    pub currency: Option<&'a str>,
}

/// An item given its meaning, with what was dropped or assumed on the way.
#[derive(Debug)]
pub struct Normalised<T> {
    pub value: T,
    pub warnings: Vec<Notice>,
    /// A price was written without a currency and read in the configured one.
    pub defaulted_currency: bool,
    /// No availability and no quantity: read as in stock. Counted once per feed, as a
    /// feed without the column would otherwise warn once per item.
    pub assumed_in_stock: bool,
}

/// One item being read: its fields, and the warnings kept if it lands.
struct Reader<'a> {
    item: &'a RawItem,
    defaults: Defaults<'a>,
    warnings: Vec<Notice>,
    defaulted_currency: bool,
    assumed_in_stock: bool,
}

impl<'a> Reader<'a> {
    fn new(item: &'a RawItem, defaults: Defaults<'a>) -> Result<Reader<'a>, Notice> {
        // A row whose cells do not line up with the header cannot be trusted field by field.
        if let Some(problem) = item.get("_shape_error") {
            return Err(Notice::about(item, format!("the row {problem}")));
        }
        Ok(Reader {
            item,
            defaults,
            warnings: Vec::new(),
            defaulted_currency: false,
            assumed_in_stock: false,
        })
    }

    fn reject(&self, reason: impl Into<String>) -> Notice {
        Notice::about(self.item, reason)
    }

    fn warn(&mut self, reason: impl Into<String>) {
        self.warnings.push(Notice::about(self.item, reason));
    }

    fn done<T>(self, value: T) -> Normalised<T> {
        Normalised {
            value,
            warnings: self.warnings,
            defaulted_currency: self.defaulted_currency,
            assumed_in_stock: self.assumed_in_stock,
        }
    }

    fn id(&self, name: &str) -> Result<String, Notice> {
        let id = self
            .item
            .get(name)
            .ok_or_else(|| self.reject(format!("{name} is missing")))?;
        if id.chars().count() > limits::ID_CHARS {
            return Err(self.reject(format!("{name} is longer than {} characters", limits::ID_CHARS)));
        }
        Ok(id.to_owned())
    }

    /// Text as shoppers read it; longer than `max` is cut at a word, with a warning.
    fn text(&mut self, name: &str, max: usize) -> Option<String> {
        let text = clean_text(self.item.get(name)?);
        if text.is_empty() {
            return None;
        }
        if text.chars().count() <= max {
            return Some(text);
        }
        let mut cut: String = text.chars().take(max - 1).collect();
        if let Some(space) = cut.rfind(char::is_whitespace).filter(|i| *i > cut.len() / 2) {
            cut.truncate(space);
        }
        cut.push('…');
        self.warn(format!("{name} is longer than {max} characters; cut"));
        Some(cut)
    }

    fn short(&mut self, name: &str) -> Option<String> {
        self.text(name, limits::SHORT_TEXT_CHARS)
    }

    /// A price; one written without a currency is in the item's own `currency` field
    /// (older Google Base feeds, some CSV exports), else in the configured one.
    fn price(&mut self, name: &str) -> Option<Result<Price, String>> {
        let text = self.item.get(name)?;
        let own = self.item.get("currency").filter(|c| crate::domain::currency(c).is_ok());
        Some(match Price::parse_in(text, own.or(self.defaults.currency)) {
            Ok((price, defaulted)) => {
                self.defaulted_currency |= defaulted && own.is_none();
                Ok(price)
            }
            Err(e @ PriceError::NoCurrency(_)) => Err(format!(
                "{name}: {e}, or give the feed's currency (catalog import --currency, [[feed]] currency, ?currency=)"
            )),
            Err(e) => Err(format!("{name}: {e}")),
        })
    }

    /// An optional price: dropped with a warning when it cannot be read.
    fn optional_price(&mut self, name: &str) -> Option<Price> {
        match self.price(name)? {
            Ok(price) => Some(price),
            Err(e) => {
                self.warn(format!("{e}; ignored"));
                None
            }
        }
    }

    /// The sale, when there is one and it makes sense; dropped with a warning if not.
    fn sale(&mut self, price: Option<&Price>) -> Option<Sale> {
        let sale_price = self.optional_price("sale_price")?;
        let problem = match price {
            Some(p) if sale_price.currency != p.currency => Some("sale_price and price are in different currencies"),
            Some(p) if sale_price.minor >= p.minor => Some("sale_price is not lower than price"),
            _ => None,
        };
        if let Some(problem) = problem {
            self.warn(format!("{problem}; the sale is ignored"));
            return None;
        }
        let (starts, ends) = match self.item.get("sale_price_effective_date") {
            Some(range) => match parse_date_range(range) {
                Ok((s, e)) => (Some(s), Some(e)),
                Err(e) => {
                    // A sale without its dates could show a price that has ended.
                    self.warn(format!("sale_price_effective_date: {e}; the sale is ignored"));
                    return None;
                }
            },
            None => (None, None),
        };
        Some(Sale {
            price: sale_price,
            starts,
            ends,
        })
    }

    /// `quantity` as a count; a negative stock (oversold) is 0, with a warning. A
    /// quantity column that holds words (`in stock`) says the availability instead.
    fn quantity(&mut self) -> Option<u32> {
        let text = self.item.get("quantity")?;
        if Availability::parse(text).is_some() && !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let grouped = text.len() > 4
            && text
                .split(',')
                .skip(1)
                .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
        let number = if grouped {
            text.replace(',', "")
        } else {
            text.replace(',', ".")
        };
        match number.parse::<f64>() {
            Ok(q) if q.is_finite() && q >= 0.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX) => Some(q as u32),
            Ok(q) if q.is_finite() && q < 0.0 => {
                self.warn(format!("quantity '{text}' is negative; read as 0"));
                Some(0)
            }
            _ => {
                self.warn(format!("quantity '{text}' is not a whole number ≥ 0; ignored"));
                None
            }
        }
    }

    /// A URL as written, or read against `base` when relative; the reason when it is not one.
    fn url(&mut self, name: &str, value: &str, base: Option<&str>) -> Result<String, String> {
        if value.len() > limits::URL_CHARS {
            return Err(format!("{name} is longer than {} characters", limits::URL_CHARS));
        }
        let absolute = |v: &str| {
            let scheme = v.get(..8).unwrap_or(v).to_ascii_lowercase();
            scheme.starts_with("https://") || scheme.starts_with("http://")
        };
        let plain = value.starts_with("https://") || value.starts_with("http://");
        if plain && !value.contains(char::is_whitespace) {
            return Ok(value.to_owned());
        }
        let guess = if absolute(value) {
            Url::parse(value).ok()
        } else if let Some(rest) = value.strip_prefix("//") {
            Url::parse(&format!("https://{rest}")).ok()
        } else if value.starts_with("www.") {
            Url::parse(&format!("https://{value}")).ok()
        } else if value.contains(':') && !value.starts_with('/') {
            None // another scheme: data:, javascript:, ftp:
        } else {
            base.and_then(|b| Url::parse(b).ok()).and_then(|b| b.join(value).ok())
        };
        match guess.filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
            Some(url) if url.as_str().len() <= limits::URL_CHARS => {
                if url.as_str() != value {
                    self.warn(format!("{name} '{value}' was read as {url}"));
                }
                Ok(url.into())
            }
            _ => Err(format!("{name} '{value}' is not an http(s) URL")),
        }
    }

    /// Pictures: `image_link` and `additional_image_link`; an invalid one is dropped.
    /// A cell may list several URLs separated by commas (which URLs may hold too).
    fn images(&mut self, link: Option<&str>) -> (Option<String>, Vec<String>) {
        let mut main = self.item.get("image_link").map(split_urls).unwrap_or_default();
        let extra = if main.len() > 1 { main.split_off(1) } else { Vec::new() };
        let listed: Vec<&str> = self.item.all("additional_image_link").flat_map(split_urls).collect();
        let valid = |reader: &mut Self, name: &str, v: &str| match reader.url(name, v, link) {
            Ok(url) => Some(url),
            Err(e) => {
                reader.warn(format!("{e}; ignored"));
                None
            }
        };
        let image = main.first().and_then(|v| valid(self, "image_link", v));
        // Merchant Center uses the first ten additional pictures and ignores the rest.
        let additional = extra
            .into_iter()
            .chain(listed)
            .take(limits::ADDITIONAL_IMAGES)
            .filter_map(|v| valid(self, "additional_image_link", v))
            .collect();
        (image, additional)
    }

    fn availability(&mut self, values: &str, quantity: Option<u32>) -> Option<Availability> {
        let from_quantity = quantity.map(|q| {
            if q == 0 {
                Availability::OutOfStock
            } else {
                Availability::InStock
            }
        });
        // A quantity column of words (`out of stock`) says it too.
        let from_words = self.item.get("quantity").and_then(Availability::parse);
        match self.item.get("availability") {
            Some(v) => match Availability::parse(v) {
                Some(a) => Some(a),
                None => {
                    // Nothing is promised that the feed does not say.
                    let read = from_quantity.or(from_words).unwrap_or(Availability::OutOfStock);
                    self.warn(format!(
                        "availability '{v}' is not one of {values}; read as {}",
                        read.as_str()
                    ));
                    Some(read)
                }
            },
            None => from_quantity.or(from_words),
        }
    }
}

/// URLs in one field: split at commas that start another URL, not at a comma inside one
/// (`…/w_400,h_400/…`).
fn split_urls(value: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut start = 0;
    for (i, _) in value.match_indices(',') {
        let next = value[i + 1..].trim_start();
        if next.starts_with("http://") || next.starts_with("https://") || next.starts_with("//") {
            urls.push(value[start..i].trim());
            start = i + 1;
        }
    }
    urls.push(value[start..].trim());
    urls.retain(|u| !u.is_empty());
    urls
}

/// A product feed item as a [`Variant`], or the reason it cannot be one.
pub fn product(item: &RawItem, defaults: Defaults<'_>) -> Result<Normalised<Variant>, Notice> {
    let mut r = Reader::new(item, defaults)?;
    let sku = r.id("id")?;
    let title = r
        .text("title", limits::TITLE_CHARS)
        .ok_or_else(|| r.reject("title is missing"))?;
    let price = r
        .price("price")
        .ok_or_else(|| r.reject("price is missing"))?
        .map_err(|e| r.reject(e))?;
    let written_link = item.get("link").ok_or_else(|| r.reject("link is missing"))?;
    let link = r.url("link", written_link, None).map_err(|e| r.reject(e))?;
    let description = r.text("description", limits::DESCRIPTION_CHARS).unwrap_or_default();
    let sale = r.sale(Some(&price));
    let quantity = r.quantity();
    let availability = r
        .availability("in_stock, out_of_stock, preorder, backorder", quantity)
        .unwrap_or_else(|| {
            r.assumed_in_stock = true;
            Availability::InStock
        });
    let gtin = item.get("gtin").and_then(|v| match Gtin::parse(v) {
        Ok(gtin) => Some(gtin),
        Err(e) => {
            r.warn(format!("gtin: {e}; ignored"));
            None
        }
    });
    let group_id = match item.get("item_group_id") {
        Some(g) if g.chars().count() > limits::ID_CHARS => {
            r.warn(format!(
                "item_group_id is longer than {} characters; the item stands alone",
                limits::ID_CHARS
            ));
            sku.clone()
        }
        Some(g) => g.to_owned(),
        None => sku.clone(),
    };
    let category = match r.short("product_type") {
        // Merchant Center's levels are ` > `; comparison-site exports write ` | `. (Not
        // ` / `: it is inside names, "T-shirts / Tops".)
        Some(t) if !t.contains(" > ") => Some(t.replace(" | ", " > ")),
        Some(t) => Some(t),
        // A numeric Google category id means nothing to a shopper.
        None => r
            .short("google_product_category")
            .filter(|c| !c.chars().all(|ch| ch.is_ascii_digit())),
    };
    let (image_link, additional_images) = r.images(Some(&link));
    let variant = Variant {
        group_id,
        title,
        description,
        brand: r.short("brand"),
        gtin,
        mpn: r.short("mpn"),
        category,
        size: r.short("size"),
        color: r.short("color"),
        gender: r.short("gender"),
        age_group: r.short("age_group"),
        price,
        sale,
        availability,
        link: Some(link),
        image_link,
        additional_images,
        sku,
    };
    Ok(r.done(variant))
}

/// A local inventory feed row as a [`StockLevel`], or the reason it cannot be one.
pub fn stock(item: &RawItem, defaults: Defaults<'_>) -> Result<Normalised<StockLevel>, Notice> {
    let mut r = Reader::new(item, defaults)?;
    let store_code = r.id("store_code")?;
    let sku = r.id("id")?;
    let quantity = r.quantity();
    let availability = r
        .availability(
            "in_stock, limited_availability, on_display_to_order, out_of_stock",
            quantity,
        )
        .ok_or_else(|| r.reject("give availability or quantity"))?;
    let price = r.optional_price("price");
    let sale = r.sale(price.as_ref());
    let level = StockLevel {
        store_code,
        sku,
        quantity,
        availability,
        price,
        sale,
    };
    Ok(r.done(level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::feed::Position;

    fn item(fields: &[(&str, &str)]) -> RawItem {
        let mut item = RawItem::new(Position { item: 1, line: 2 });
        for (name, value) in fields {
            item.push(name, (*value).to_owned());
        }
        item
    }

    const BASE: &[(&str, &str)] = &[
        ("id", "A1"),
        ("title", "Robe"),
        ("price", "59 EUR"),
        ("link", "https://shop.example/robe"),
        ("availability", "in stock"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> RawItem {
        let mut fields = BASE.to_vec();
        fields.extend_from_slice(extra);
        item(&fields)
    }

    #[test]
    fn an_invalid_optional_field_is_dropped_with_a_warning() {
        let n = product(
            &with(&[
                ("gtin", "FALSE"),
                ("sale_price", "80 EUR"),
                ("image_link", "ftp://x/y.jpg"),
            ]),
            Defaults::default(),
        )
        .unwrap();
        assert_eq!(n.value.gtin, None);
        assert_eq!(n.value.sale, None);
        assert_eq!(n.value.image_link, None);
        assert_eq!(n.warnings.len(), 3, "{:?}", n.warnings);
        assert!(n.warnings[0].to_string().starts_with("item 1 (line 2) id=A1: "));
    }

    #[test]
    fn only_a_missing_id_title_price_or_link_rejects() {
        for missing in ["id", "title", "price", "link"] {
            let fields: Vec<_> = BASE.iter().copied().filter(|(n, _)| *n != missing).collect();
            let e = product(&item(&fields), Defaults::default()).unwrap_err();
            assert!(e.reason.starts_with(missing), "{e}");
        }
        let fields: Vec<_> = BASE.iter().copied().filter(|(n, _)| *n != "availability").collect();
        let n = product(&item(&fields), Defaults::default()).unwrap();
        assert_eq!(n.value.availability, Availability::InStock);
        assert!(n.assumed_in_stock && n.warnings.is_empty());
    }

    #[test]
    fn prices_without_currency_need_the_configured_one() {
        let bare = with(&[]);
        let mut bare = bare.clone();
        bare.fields.retain(|(n, _)| n != "price");
        bare.push("price", "69.9".into());
        let e = product(&bare, Defaults::default()).unwrap_err();
        assert!(e.reason.contains("--currency"), "{e}");
        let n = product(&bare, Defaults { currency: Some("EUR") }).unwrap();
        assert_eq!(n.value.price.minor, 6990);
        assert!(n.defaulted_currency);
    }

    #[test]
    fn pictures_are_split_at_urls_and_relative_ones_read_against_the_link() {
        assert_eq!(
            split_urls("https://c.example/w_4,h_4/a.jpg, https://c.example/b.jpg,//c.example/c.jpg"),
            [
                "https://c.example/w_4,h_4/a.jpg",
                "https://c.example/b.jpg",
                "//c.example/c.jpg"
            ]
        );
        let n = product(
            &with(&[("image_link", "/img/a b.jpg, https://c.example/b.jpg")]),
            Defaults::default(),
        )
        .unwrap();
        assert_eq!(
            n.value.image_link.as_deref(),
            Some("https://shop.example/img/a%20b.jpg")
        );
        assert_eq!(n.value.additional_images, ["https://c.example/b.jpg"]);
        assert_eq!(n.warnings.len(), 1, "{:?}", n.warnings);
    }

    #[test]
    fn stock_from_quantity_and_negative_stock_is_zero() {
        let row = |fields: &[(&str, &str)]| stock(&item(fields), Defaults::default());
        let n = row(&[("store_code", "P1"), ("id", "A1"), ("quantity", "-2")]).unwrap();
        assert_eq!(
            (n.value.quantity, n.value.availability),
            (Some(0), Availability::OutOfStock)
        );
        let n = row(&[("store_code", "P1"), ("id", "A1"), ("quantity", "3.0"), ("price", "x")]).unwrap();
        assert_eq!((n.value.quantity, n.value.price), (Some(3), None));
        let n = row(&[("store_code", "P1"), ("id", "A1"), ("quantity", "1,200")]).unwrap();
        assert_eq!(n.value.quantity, Some(1200));
        let n = row(&[("store_code", "P1"), ("id", "A1"), ("quantity", "Rupture de stock")]).unwrap();
        assert_eq!(
            (n.value.quantity, n.value.availability),
            (None, Availability::OutOfStock)
        );
        let n = row(&[("store_code", "P1"), ("id", "A1"), ("availability", "bientôt")]).unwrap();
        assert_eq!(n.value.availability, Availability::OutOfStock, "nothing promised");
        assert!(row(&[("store_code", "P1"), ("id", "A1"), ("quantity", "lots")]).is_err());
    }
}
