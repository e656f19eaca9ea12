//! Reading Merchant Center feeds: the product feed (RSS 2.0, Atom or TSV) and the local
//! inventory feed (TSV or XML).
//!
//! A feed is read in two steps. A format reader ([`xml`](super::xml), [`tsv`](super::tsv))
//! turns the bytes into [`RawItem`]s — field names and values with their position — or
//! refuses the whole feed when it is not well-formed. Then [`normalise_product`] and
//! [`normalise_stock`] give each item its meaning, or a reason to reject that one item.

use std::fmt;

use crate::domain::{Availability, Gtin, Price, Sale, StockLevel, Variant, limits, parse_date_range};

/// Largest feed accepted, in bytes. A 500,000-variant TSV feed is about 250 MB.
pub const MAX_FEED_BYTES: usize = 1 << 30;
/// Largest number of items in one feed: a local inventory feed lists every SKU in every
/// shop (500,000 SKUs in 20 shops is 10 million rows).
pub const MAX_ITEMS: usize = 10_000_000;

/// Where an item stands in its feed, for messages a merchant can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based item number (data row for TSV).
    pub item: usize,
    /// 1-based line where the item starts.
    pub line: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} (line {})", self.item, self.line)
    }
}

/// An item as written in the feed: normalised field names (`g:` prefix dropped,
/// lower case, spaces as `_`) and raw text values, repeated fields kept in order.
#[derive(Debug, Clone, Default)]
pub struct RawItem {
    pub position: Option<Position>,
    pub fields: Vec<(String, String)>,
}

impl RawItem {
    pub fn new(position: Position) -> RawItem {
        RawItem {
            position: Some(position),
            fields: Vec::new(),
        }
    }

    pub fn push(&mut self, name: &str, value: String) {
        self.fields.push((field_name(name), value));
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// `g:Item_Group_ID`, `item group id` and `item_group_id` are the same field.
pub fn field_name(name: &str) -> String {
    let name = name.trim().trim_start_matches('\u{feff}');
    let name = name.strip_prefix("g:").unwrap_or(name);
    name.chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Why a whole feed was refused. Nothing is imported from a refused feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is not well-formed at {line}:{column}: {reason}")]
    Malformed { line: usize, column: usize, reason: String },
    #[error("the feed is {size} bytes, more than the {MAX_FEED_BYTES} accepted; split it")]
    TooLarge { size: u64 },
    #[error("the feed has more than {MAX_ITEMS} items; split it")]
    TooManyItems,
    #[error("the feed lists no items; an empty export is refused rather than allowed to empty the catalog")]
    Empty,
    #[error("{0}")]
    Unsupported(String),
}

impl FeedError {
    /// A malformed-feed error at a byte offset of `text`.
    pub fn at(text: &[u8], offset: usize, reason: impl Into<String>) -> FeedError {
        let (line, column) = line_column(text, offset);
        FeedError::Malformed {
            line,
            column,
            reason: reason.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// Checks that the feed is UTF-8 (after an optional BOM) and returns its text.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, FeedError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = e.valid_up_to() + (bytes.len() - body.len());
        FeedError::at(bytes, offset, "invalid UTF-8; save the feed as UTF-8")
    })?;
    if text.trim().is_empty() {
        return Err(FeedError::Empty);
    }
    Ok(text)
}

/// A product feed read into items, with the language it declares if any.
#[derive(Debug, Default)]
pub struct ParsedFeed {
    pub language: Option<String>,
    pub items: Vec<RawItem>,
}

/// Reads a feed in whichever format its first bytes announce.
pub fn read(bytes: &[u8]) -> Result<ParsedFeed, FeedError> {
    if bytes.len() > MAX_FEED_BYTES {
        return Err(FeedError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    let text = utf8_text(bytes)?;
    let feed = if text.trim_start().starts_with('<') {
        super::xml::read(text)?
    } else {
        super::tsv::read(text)?
    };
    if feed.items.len() > MAX_ITEMS {
        return Err(FeedError::TooManyItems);
    }
    // An empty full feed would remove the whole catalog: far more likely a broken export.
    if feed.items.is_empty() {
        return Err(FeedError::Empty);
    }
    Ok(feed)
}

/// An item refused on its own; the rest of the feed still lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub position: Option<Position>,
    pub id: Option<String>,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{p}")?,
            None => f.write_str("item")?,
        }
        if let Some(id) = &self.id {
            write!(f, " id={id}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

fn reject(item: &RawItem, reason: impl Into<String>) -> Rejection {
    Rejection {
        position: item.position,
        id: item.get("id").or_else(|| item.get("item_id")).map(str::to_owned),
        reason: reason.into(),
    }
}

/// Text as a shopper should read it: HTML tags dropped, entities decoded, white space
/// collapsed. Feeds carry descriptions as escaped HTML, CDATA HTML, or plain text.
pub fn clean_text(raw: &str) -> String {
    let text = if raw.contains(['<', '&']) {
        html2text::config::plain_no_decorate()
            .string_from_read(raw.as_bytes(), 100_000)
            .unwrap_or_else(|_| raw.to_owned())
    } else {
        raw.to_owned()
    };
    // Paragraphs stay apart, list items get a bullet, other white space collapses.
    let mut out = String::with_capacity(text.len());
    for paragraph in text.split("\n\n") {
        let mut lines: Vec<String> = Vec::new();
        for line in paragraph.lines() {
            let line = line.trim();
            let (bullet, rest) = match line.strip_prefix("* ").or_else(|| line.strip_prefix("- ")) {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let words = rest.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.is_empty() {
                continue;
            }
            match lines.last_mut() {
                Some(last) if !bullet && !last_is_bullet(last) => {
                    *last = format!("{last} {words}");
                }
                _ => lines.push(if bullet { format!("• {words}") } else { words }),
            }
        }
        if lines.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&lines.join("\n"));
    }
    out
}

fn last_is_bullet(line: &str) -> bool {
    line.starts_with("• ")
}

/// A TSV row whose cells do not line up with the header cannot be trusted field by field.
fn check_shape(item: &RawItem) -> Result<(), Rejection> {
    match item.get("_shape_error") {
        Some(problem) => Err(reject(item, format!("the row {problem}"))),
        None => Ok(()),
    }
}

fn text_field(item: &RawItem, name: &str, max: usize) -> Result<Option<String>, Rejection> {
    match item.get(name) {
        None => Ok(None),
        Some(raw) => {
            let text = clean_text(raw);
            if text.chars().count() > max {
                Err(reject(item, format!("{name} is longer than {max} characters")))
            } else if text.is_empty() {
                Ok(None)
            } else {
                Ok(Some(text))
            }
        }
    }
}

fn url_field(item: &RawItem, value: &str, name: &str) -> Result<String, Rejection> {
    if value.len() > limits::URL_CHARS {
        return Err(reject(
            item,
            format!("{name} is longer than {} characters", limits::URL_CHARS),
        ));
    }
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(reject(item, format!("{name} '{value}' is not an http(s) URL")));
    }
    Ok(value.to_owned())
}

fn price_field(item: &RawItem, name: &str) -> Result<Option<Price>, Rejection> {
    item.get(name)
        .map(|v| Price::parse(v).map_err(|e| reject(item, format!("{name}: {e}"))))
        .transpose()
}

fn sale_fields(item: &RawItem, price: Option<&Price>) -> Result<Option<Sale>, Rejection> {
    let Some(sale_price) = price_field(item, "sale_price")? else {
        return Ok(None);
    };
    if let Some(price) = price {
        if sale_price.currency != price.currency {
            return Err(reject(item, "sale_price and price are in different currencies"));
        }
        if sale_price.minor >= price.minor {
            return Err(reject(item, "sale_price is not lower than price"));
        }
    }
    let (starts, ends) = match item.get("sale_price_effective_date") {
        Some(range) => {
            let (s, e) =
                parse_date_range(range).map_err(|e| reject(item, format!("sale_price_effective_date: {e}")))?;
            (Some(s), Some(e))
        }
        None => (None, None),
    };
    Ok(Some(Sale {
        price: sale_price,
        starts,
        ends,
    }))
}

/// A product feed item as a [`Variant`], or the reason it cannot be one.
pub fn normalise_product(item: &RawItem) -> Result<Variant, Rejection> {
    check_shape(item)?;
    let sku = item.get("id").ok_or_else(|| reject(item, "id is missing"))?.to_owned();
    if sku.chars().count() > limits::ID_CHARS {
        return Err(reject(
            item,
            format!("id is longer than {} characters", limits::ID_CHARS),
        ));
    }
    let title = text_field(item, "title", limits::TITLE_CHARS)?.ok_or_else(|| reject(item, "title is missing"))?;
    let description = text_field(item, "description", limits::DESCRIPTION_CHARS)?.unwrap_or_default();
    let price = price_field(item, "price")?.ok_or_else(|| reject(item, "price is missing"))?;
    let sale = sale_fields(item, Some(&price))?;
    let availability = match item.get("availability") {
        None => return Err(reject(item, "availability is missing")),
        Some(v) => Availability::parse(v).ok_or_else(|| {
            reject(
                item,
                format!("availability '{v}' is not one of in_stock, out_of_stock, preorder, backorder"),
            )
        })?,
    };
    let gtin = item
        .get("gtin")
        .map(|v| Gtin::parse(v).map_err(|e| reject(item, format!("gtin: {e}"))))
        .transpose()?;
    let short = |name: &str| text_field(item, name, limits::SHORT_TEXT_CHARS);
    let group_id = short("item_group_id")?.unwrap_or_else(|| sku.clone());
    let category = match short("product_type")? {
        Some(t) => Some(t),
        // A numeric Google category id means nothing to a shopper.
        None => short("google_product_category")?.filter(|c| !c.chars().all(|ch| ch.is_ascii_digit())),
    };
    let link = item.get("link").map(|v| url_field(item, v, "link")).transpose()?;
    let image_link = item
        .get("image_link")
        .map(|v| url_field(item, v, "image_link"))
        .transpose()?;
    // TSV feeds list additional images comma-separated; XML repeats the element.
    // Merchant Center uses the first ten and ignores the rest; so do we.
    let additional_images = item
        .all("additional_image_link")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(limits::ADDITIONAL_IMAGES)
        .map(|v| url_field(item, v, "additional_image_link"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Variant {
        sku,
        group_id,
        title,
        description,
        brand: short("brand")?,
        gtin,
        mpn: short("mpn")?,
        category,
        size: short("size")?,
        color: short("color")?.or(short("colour")?),
        gender: short("gender")?,
        age_group: short("age_group")?,
        price,
        sale,
        availability,
        link,
        image_link,
        additional_images,
    })
}

/// A local inventory feed item as a [`StockLevel`], or the reason it cannot be one.
/// `item_id` (the older name) is accepted for `id`.
pub fn normalise_stock(item: &RawItem) -> Result<StockLevel, Rejection> {
    check_shape(item)?;
    let store_code = item
        .get("store_code")
        .ok_or_else(|| reject(item, "store_code is missing"))?
        .to_owned();
    let sku = item
        .get("id")
        .or_else(|| item.get("item_id"))
        .ok_or_else(|| reject(item, "id is missing"))?
        .to_owned();
    if sku.chars().count() > limits::ID_CHARS || store_code.chars().count() > limits::ID_CHARS {
        return Err(reject(
            item,
            format!("id or store_code is longer than {} characters", limits::ID_CHARS),
        ));
    }
    let quantity = item
        .get("quantity")
        .map(|q| {
            q.parse::<u32>()
                .map_err(|_| reject(item, format!("quantity '{q}' is not a whole number ≥ 0")))
        })
        .transpose()?;
    let availability = match (item.get("availability"), quantity) {
        (Some(v), _) => Availability::parse(v).ok_or_else(|| {
            reject(
                item,
                format!(
                    "availability '{v}' is not one of in_stock, limited_availability, on_display_to_order, out_of_stock"
                ),
            )
        })?,
        (None, Some(0)) => Availability::OutOfStock,
        (None, Some(_)) => Availability::InStock,
        (None, None) => return Err(reject(item, "give availability or quantity")),
    };
    let price = price_field(item, "price")?;
    let sale = sale_fields(item, price.as_ref())?;
    Ok(StockLevel {
        store_code,
        sku,
        quantity,
        availability,
        price,
        sale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_descriptions_become_clean_text() {
        assert_eq!(
            clean_text("<p>Robe d&#39;&eacute;t&eacute; en <b>lin</b>.</p><ul><li>Coupe droite</li></ul>"),
            "Robe d'été en lin.\n• Coupe droite"
        );
        assert_eq!(clean_text("  plain\n text  "), "plain text");
        assert_eq!(clean_text("Tom &amp; Jerry"), "Tom & Jerry");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column(b"ab\ncd\xC3\xA9f", 8), (2, 5));
        assert_eq!(line_column(b"abc", 0), (1, 1));
    }

    #[test]
    fn field_names_are_normalised() {
        assert_eq!(field_name("g:item_group_id"), "item_group_id");
        assert_eq!(field_name("Store Code"), "store_code");
        assert_eq!(field_name("\u{feff}id"), "id");
    }
}
