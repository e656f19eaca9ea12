//! Plain catalog types shared by the importer, the store and the UI adapters.
//!
//! Nothing here does I/O. Parsing functions are lenient about the spellings that real
//! Merchant Center feeds use, and strict about meaning: a value is either understood or
//! refused with a reason a merchant can act on.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Merchant Center limits (product data specification) that also bound what we store.
pub mod limits {
    pub const ID_CHARS: usize = 50;
    pub const TITLE_CHARS: usize = 150;
    pub const DESCRIPTION_CHARS: usize = 5_000;
    pub const SHORT_TEXT_CHARS: usize = 750;
    pub const URL_CHARS: usize = 2_000;
    pub const ADDITIONAL_IMAGES: usize = 10;
}

/// A Global Trade Item Number, normalised to 14 digits (GTIN-14) so that the
/// EAN-13 `4006381333931`, its GTIN-14 form `04006381333931` and a UPC written
/// without its leading zero all find the same product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gtin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("'{0}' is not a GTIN: it must be 8 to 14 digits")]
    NotDigits(String),
    #[error("'{0}' is not a GTIN: its check digit is wrong")]
    CheckDigit(String),
}

impl Gtin {
    pub fn parse(text: &str) -> Result<Gtin, GtinError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(8..=14).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::NotDigits(text.to_owned()));
        }
        let padded = format!("{digits:0>14}");
        if padded.bytes().all(|b| b == b'0') || !check_digit_ok(&padded) {
            return Err(GtinError::CheckDigit(text.to_owned()));
        }
        Ok(Gtin(padded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 mod-10 check digit of a run of digits (weights 3,1,3,1… from the right).
pub fn gs1_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

fn check_digit_ok(gtin14: &str) -> bool {
    let (body, check) = gtin14.split_at(13);
    gs1_check_digit(body) == u32::from(check.as_bytes()[0] - b'0')
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Price {
    pub minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("'{0}' is not a price: write it like '19.99 EUR'")]
    Format(String),
    #[error("'{0}' has no currency: write it like '19.99 EUR'")]
    NoCurrency(String),
    #[error("'{code}' in '{text}' is not an ISO 4217 currency code")]
    UnknownCurrency { text: String, code: String },
    #[error("'{0}' has more decimals than its currency allows")]
    Precision(String),
    #[error("'{0}' is negative or too large")]
    Range(String),
}

impl Price {
    /// Parses `19.99 EUR`, `19,99 EUR`, `EUR 19.99`, `1 299,00 EUR`, `1,299.00 EUR`,
    /// `19,99 €`, `€19.99`.
    pub fn parse(text: &str) -> Result<Price, PriceError> {
        Price::parse_in(text, None).map(|(price, _)| price)
    }

    /// Parses a price, reading one written without a currency (`69.9`) in `default` if
    /// given. The flag says the default was used.
    pub fn parse_in(text: &str, default: Option<&str>) -> Result<(Price, bool), PriceError> {
        let trimmed = text.trim();
        // `19.90 Fr.`: an abbreviation's dot is not the amount's.
        let trimmed = match trimmed.strip_suffix('.') {
            Some(rest) if rest.ends_with(|c: char| c.is_alphabetic()) => rest,
            _ => trimmed,
        };
        let (amount, written) = split_currency(trimmed)?;
        let (code, defaulted) = match (written, default) {
            (Some(token), default) => (currency_code(trimmed, token, default)?, false),
            (None, Some(default)) => (default.to_ascii_uppercase(), true),
            (None, None) => return Err(PriceError::NoCurrency(trimmed.to_owned())),
        };
        let currency = iso_currency::Currency::from_code(&code).ok_or_else(|| PriceError::UnknownCurrency {
            text: trimmed.to_owned(),
            code: code.clone(),
        })?;
        let exponent = u32::from(currency.exponent().unwrap_or(0));
        let minor = parse_amount(amount, exponent).ok_or_else(|| {
            if amount
                .chars()
                .all(|c| c.is_ascii_digit() || ".,' \u{a0}\u{202f}".contains(c))
            {
                PriceError::Precision(trimmed.to_owned())
            } else {
                PriceError::Format(trimmed.to_owned())
            }
        })?;
        if !(0..=1_000_000_000_000).contains(&minor) {
            return Err(PriceError::Range(trimmed.to_owned()));
        }
        Ok((Price { minor, currency: code }, defaulted))
    }

    /// How many minor units make one major unit (100 for EUR, 1 for JPY).
    pub fn scale(&self) -> i64 {
        let exponent = iso_currency::Currency::from_code(&self.currency)
            .and_then(|c| c.exponent())
            .unwrap_or(2);
        10_i64.pow(u32::from(exponent))
    }
}

/// Checks an ISO 4217 code as configuration gives it (`eur` is `EUR`).
pub fn currency(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    match iso_currency::Currency::from_code(&upper) {
        Some(_) => Ok(upper),
        None => Err(format!("'{code}' is not an ISO 4217 currency code (EUR, GBP, CHF…)")),
    }
}

/// The amount and the currency written before or after it (`EUR`, `€`), if any.
fn split_currency(text: &str) -> Result<(&str, Option<&str>), PriceError> {
    let amount_char = |c: char| c.is_ascii_digit() || matches!(c, '.' | ',' | '\'' | ' ' | '\u{a0}' | '\u{202f}' | '-');
    let start = text.find(amount_char).unwrap_or(text.len());
    let end = text.rfind(amount_char).map_or(start, |i| i + 1);
    let (before, amount, after) = (text[..start].trim(), text[start..end].trim(), text[end..].trim());
    if amount.is_empty() || !amount.chars().any(|c| c.is_ascii_digit()) {
        return Err(PriceError::Format(text.to_owned()));
    }
    match (before.is_empty(), after.is_empty()) {
        (true, true) => Ok((amount, None)),
        (false, true) => Ok((amount, Some(before))),
        (true, false) => Ok((amount, Some(after))),
        (false, false) => Err(PriceError::Format(text.to_owned())),
    }
}

/// The ISO code a written currency stands for. Symbols shared by several currencies
/// (`$`, `kr`, `¥`) stand for the feed's configured one when it uses that symbol.
fn currency_code(text: &str, token: &str, default: Option<&str>) -> Result<String, PriceError> {
    if token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic()) {
        return Ok(token.to_ascii_uppercase());
    }
    let shared = |codes: &[&str], otherwise: &str| {
        default
            .map(str::to_ascii_uppercase)
            .filter(|d| codes.contains(&d.as_str()))
            .unwrap_or_else(|| otherwise.to_owned())
    };
    let code = match token.to_lowercase().as_str() {
        "€" => "EUR".to_owned(),
        "£" => "GBP".to_owned(),
        "us$" => "USD".to_owned(),
        "円" => "JPY".to_owned(),
        "$" => match default.map(str::to_ascii_uppercase) {
            Some(d) if ["USD", "CAD", "AUD", "NZD", "MXN", "SGD", "HKD"].contains(&d.as_str()) => d,
            _ => {
                return Err(PriceError::UnknownCurrency {
                    text: text.to_owned(),
                    code: token.to_owned(),
                });
            }
        },
        "¥" => shared(&["JPY", "CNY"], "JPY"),
        "kč" => "CZK".to_owned(),
        "zł" => "PLN".to_owned(),
        "fr." | "fr" => "CHF".to_owned(),
        "kr" | "kr." => match default.map(str::to_ascii_uppercase) {
            Some(d) if ["SEK", "NOK", "DKK", "ISK"].contains(&d.as_str()) => d,
            _ => {
                return Err(PriceError::UnknownCurrency {
                    text: text.to_owned(),
                    code: token.to_owned(),
                });
            }
        },
        _ if token.chars().all(|c| c.is_ascii_alphabetic()) => return Err(PriceError::Format(text.to_owned())),
        _ => {
            return Err(PriceError::UnknownCurrency {
                text: text.to_owned(),
                code: token.to_owned(),
            });
        }
    };
    Ok(code)
}

/// Decimal amount to minor units. The last `.` or `,` is the decimal separator unless
/// exactly three digits follow it (`1,299` and `19.999` group thousands, as shoppers
/// read them); spaces, no-break spaces and apostrophes group thousands too.
fn parse_amount(amount: &str, exponent: u32) -> Option<i64> {
    let cleaned: String = amount
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let (int_part, frac_part) = match cleaned.rfind(['.', ',']) {
        Some(i) if cleaned.len() - i - 1 == 3 && exponent != 3 => (cleaned.as_str(), ""),
        Some(i) => (&cleaned[..i], &cleaned[i + 1..]),
        None => (cleaned.as_str(), ""),
    };
    let int_digits: String = int_part.chars().filter(|c| !matches!(c, '.' | ',')).collect();
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int_digits.is_empty() && frac_part.is_empty())
        || !all_digits(&int_digits)
        || !all_digits(frac_part)
        || frac_part.len() > exponent as usize
        || int_digits.len() > 13
    {
        return None;
    }
    let major: i64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let frac: i64 = format!("{frac_part:0<width$}", width = exponent as usize)
        .parse()
        .unwrap_or(0);
    Some(major * 10_i64.pow(exponent) + frac)
}

/// Online (product feed) or in-store (local inventory feed) availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    OutOfStock,
    Preorder,
    Backorder,
    LimitedAvailability,
    OnDisplayToOrder,
}

impl Availability {
    /// Accepts `in stock`, `in_stock`, `In-Stock` and the older `available for order`.
    pub fn parse(text: &str) -> Option<Availability> {
        let key: String = text
            .trim()
            .chars()
            .flat_map(|c| {
                if c == ' ' || c == '-' {
                    vec!['_']
                } else {
                    c.to_lowercase().collect()
                }
            })
            .collect();
        Some(match key.as_str() {
            "in_stock"
            | "instock"
            | "available_for_order"
            | "available"
            | "en_stock"
            | "disponible"
            | "yes"
            | "true"
            | "oui"
            | "1" => Availability::InStock,
            "out_of_stock" | "outofstock" | "sold_out" | "discontinued" | "rupture_de_stock" | "épuisé" | "epuise"
            | "indisponible" | "no" | "false" | "non" | "0" => Availability::OutOfStock,
            "preorder" | "pre_order" | "précommande" | "precommande" => Availability::Preorder,
            "backorder" | "back_order" | "onbackorder" | "on_backorder" => Availability::Backorder,
            "limited_availability" | "limited" => Availability::LimitedAvailability,
            "on_display_to_order" => Availability::OnDisplayToOrder,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
            Availability::Preorder => "preorder",
            Availability::Backorder => "backorder",
            Availability::LimitedAvailability => "limited_availability",
            Availability::OnDisplayToOrder => "on_display_to_order",
        }
    }

    /// Whether a shopper can walk out with it (in a shop) or order it now (online).
    pub fn is_available(self) -> bool {
        matches!(self, Availability::InStock | Availability::LimitedAvailability)
    }

    /// A shop's stock line is available when its status says so and its count, if
    /// given, is not zero. (The "in stock here" filter in `catalog` is the same rule in SQL.)
    pub fn with_quantity(self, quantity: Option<u32>) -> bool {
        self.is_available() && quantity != Some(0)
    }
}

/// A sale price and, when the feed gives one, the window in which it applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sale {
    pub price: Price,
    pub starts: Option<Timestamp>,
    pub ends: Option<Timestamp>,
}

impl Sale {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts.is_none_or(|s| s <= now) && self.ends.is_none_or(|e| now < e)
    }
}

/// Parses an ISO 8601 interval `start/end` as Merchant Center writes it
/// (`2026-11-01T00:00+01:00/2026-11-30T23:59+01:00`, seconds optional, `Z` allowed;
/// a bare date starts at 00:00 UTC and an end date covers its whole day).
pub fn parse_date_range(text: &str) -> Result<(Timestamp, Timestamp), String> {
    let (start, end) = text.trim().split_once('/').ok_or_else(|| {
        format!("'{text}' is not a date range: write it like 2026-11-01T00:00+01:00/2026-11-30T23:59+01:00")
    })?;
    let start = parse_instant(start, false)?;
    let end = parse_instant(end, true)?;
    if end <= start {
        return Err(format!("'{text}' ends before it starts"));
    }
    Ok((start, end))
}

fn parse_instant(text: &str, end_of_day: bool) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let day = if end_of_day {
            date.tomorrow().map_err(|e| e.to_string())?
        } else {
            date
        };
        return day
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!("'{text}' is not an ISO 8601 date and time"))
}

/// One purchasable item (a SKU) as the product feed describes it, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    pub sku: String,
    /// `item_group_id`, or the SKU itself for a product with a single variant.
    pub group_id: String,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    pub gtin: Option<Gtin>,
    pub mpn: Option<String>,
    /// `product_type` if given (the merchant's own taxonomy), else a textual
    /// `google_product_category`; levels separated by ` > `.
    pub category: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    pub gender: Option<String>,
    pub age_group: Option<String>,
    pub price: Price,
    pub sale: Option<Sale>,
    pub availability: Availability,
    pub link: Option<String>,
    pub image_link: Option<String>,
    pub additional_images: Vec<String>,
}

/// One row of the local inventory feed: how many of a SKU one shop holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockLevel {
    pub store_code: String,
    pub sku: String,
    pub quantity: Option<u32>,
    pub availability: Availability,
    /// A shop-specific price overriding the online one.
    pub price: Option<Price>,
    pub sale: Option<Sale>,
}

impl StockLevel {
    pub fn is_available(&self) -> bool {
        self.availability.with_quantity(self.quantity)
    }
}

/// The great-circle distance in kilometres between two points given as (latitude,
/// longitude) in degrees (haversine, on a sphere of the Earth's mean radius): enough to
/// list shops nearest first.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_KM: f64 = 6371.0;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.1 - a.1).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_KM * h.sqrt().min(1.0).asin()
}

/// The order shoppers expect sizes in: letter sizes by size, numbers by value, the rest
/// alphabetically after them.
pub fn size_order(size: &str) -> (u8, i64, String) {
    const LETTERS: [&str; 11] = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "2XL", "XXXL", "3XL", "4XL"];
    let upper = size.trim().to_uppercase();
    if let Some(i) = LETTERS.iter().position(|l| *l == upper) {
        return (0, i as i64, upper);
    }
    let numeric: String = upper.chars().take_while(|c| c.is_ascii_digit()).collect();
    if let Ok(n) = numeric.parse::<i64>() {
        return (1, n, upper);
    }
    if upper == "TU" || upper == "ONE SIZE" || upper == "OS" {
        return (2, 0, upper);
    }
    (3, 0, upper)
}

/// Formats a price for a shopper: `129,00 €` in French, `€129.00` in English.
pub fn format_price(price: &Price, lang: &str) -> String {
    let scale = price.scale();
    let major = price.minor / scale;
    let minor = price.minor % scale;
    let digits = scale.to_string().len() - 1;
    let symbol = iso_currency::Currency::from_code(&price.currency)
        .map(|c| c.symbol().to_string())
        .unwrap_or_else(|| price.currency.clone());
    let grouped = group_thousands(major, if lang == "fr" { '\u{202f}' } else { ',' });
    let amount = if digits == 0 {
        grouped
    } else if lang == "fr" {
        format!("{grouped},{minor:0digits$}")
    } else {
        format!("{grouped}.{minor:0digits$}")
    };
    if lang == "fr" {
        format!("{amount}\u{a0}{symbol}")
    } else {
        format!("{symbol}{amount}")
    }
}

fn group_thousands(n: i64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_between_shops() {
        let paris = (48.8566, 2.3522);
        let lyon = (45.7640, 4.8357);
        let km = distance_km(paris, lyon);
        assert!((390.0..395.0).contains(&km), "{km}");
        assert_eq!(distance_km(paris, paris), 0.0);
        assert!((distance_km((0.0, 0.0), (0.0, 180.0)) - 20015.1).abs() < 1.0);
    }

    #[test]
    fn gtin_forms_normalise_to_gtin14() {
        let ean13 = Gtin::parse("4006381333931").unwrap();
        assert_eq!(ean13.as_str(), "04006381333931");
        assert_eq!(Gtin::parse("04006381333931").unwrap(), ean13);
        assert_eq!(
            Gtin::parse("0004006381333931").unwrap_err(),
            GtinError::NotDigits("0004006381333931".into())
        );
        // UPC-A 036000291452 written with and without its leading zero.
        assert_eq!(
            Gtin::parse("36000291452").unwrap(),
            Gtin::parse("036000291452").unwrap()
        );
        assert!(matches!(Gtin::parse("4006381333932"), Err(GtinError::CheckDigit(_))));
        assert!(matches!(Gtin::parse("40063813339AB"), Err(GtinError::NotDigits(_))));
    }

    #[test]
    fn prices_in_merchant_spellings() {
        let p = |s: &str| Price::parse(s).map(|p| (p.minor, p.currency));
        assert_eq!(p("19.99 EUR"), Ok((1999, "EUR".into())));
        assert_eq!(p("19,99 EUR"), Ok((1999, "EUR".into())));
        assert_eq!(p("EUR 19.99"), Ok((1999, "EUR".into())));
        assert_eq!(p("19 eur"), Ok((1900, "EUR".into())));
        assert_eq!(p("1,299.00 USD"), Ok((129_900, "USD".into())));
        assert_eq!(p("1.299,50 EUR"), Ok((129_950, "EUR".into())));
        assert_eq!(p("1 299,50 EUR"), Ok((129_950, "EUR".into())));
        assert_eq!(p("1,299 USD"), Ok((129_900, "USD".into())));
        assert_eq!(p("1500 JPY"), Ok((1500, "JPY".into())));
        assert!(matches!(Price::parse("19.99"), Err(PriceError::NoCurrency(_))));
        assert!(matches!(Price::parse("19.99 EURO"), Err(PriceError::Format(_))));
        assert!(matches!(
            Price::parse("19.99 ABC"),
            Err(PriceError::UnknownCurrency { .. })
        ));
        assert!(matches!(Price::parse("free EUR"), Err(PriceError::Format(_))));
        assert_eq!(p("19.999 EUR"), Ok((1_999_900, "EUR".into())));
        assert!(matches!(Price::parse("19.9999 EUR"), Err(PriceError::Precision(_))));
        assert_eq!(p("19,99 €"), Ok((1999, "EUR".into())));
        assert_eq!(p("€19.99"), Ok((1999, "EUR".into())));
        assert_eq!(p("£5"), Ok((500, "GBP".into())));
        assert_eq!(p("19.99EUR"), Ok((1999, "EUR".into())));
        assert!(matches!(Price::parse("€ 19.99 EUR"), Err(PriceError::Format(_))));
        assert!(matches!(Price::parse("-5 EUR"), Err(PriceError::Format(_))));
    }

    #[test]
    fn prices_without_a_currency_take_the_configured_one() {
        let p = |s: &str, d: &str| Price::parse_in(s, Some(d)).map(|(p, defaulted)| (p.minor, p.currency, defaulted));
        assert_eq!(p("69.9", "EUR"), Ok((6990, "EUR".into(), true)));
        assert_eq!(p("12490", "CZK"), Ok((1_249_000, "CZK".into(), true)));
        assert_eq!(p("12 490 Kč", "CZK"), Ok((1_249_000, "CZK".into(), false)));
        assert_eq!(p("19.99 USD", "EUR"), Ok((1999, "USD".into(), false)));
        assert_eq!(p("$19.99", "CAD"), Ok((1999, "CAD".into(), false)));
        assert!(Price::parse_in("$19.99", Some("EUR")).is_err(), "which dollar?");
        assert_eq!(p("US$19.99", "CAD"), Ok((1999, "USD".into(), false)));
        assert_eq!(p("19.90 Fr.", "EUR"), Ok((1990, "CHF".into(), false)));
        assert_eq!(p("99 kr", "SEK"), Ok((9900, "SEK".into(), false)));
        assert!(matches!(Price::parse("99 kr"), Err(PriceError::UnknownCurrency { .. })));
        assert_eq!(currency("eur"), Ok("EUR".into()));
        assert!(currency("EURO").is_err());
    }

    #[test]
    fn availability_spellings() {
        assert_eq!(Availability::parse("in stock"), Some(Availability::InStock));
        assert_eq!(Availability::parse("in_stock"), Some(Availability::InStock));
        assert_eq!(Availability::parse("Out-Of-Stock"), Some(Availability::OutOfStock));
        assert_eq!(
            Availability::parse("limited availability"),
            Some(Availability::LimitedAvailability)
        );
        assert_eq!(Availability::parse("maybe"), None);
    }

    #[test]
    fn sale_windows() {
        let (s, e) = parse_date_range("2026-11-01T00:00+01:00/2026-11-30T23:59:59+01:00").unwrap();
        assert_eq!(s.to_string(), "2026-10-31T23:00:00Z");
        assert_eq!(e.to_string(), "2026-11-30T22:59:59Z");
        let (s, e) = parse_date_range("2026-11-01/2026-11-30").unwrap();
        assert_eq!(s.to_string(), "2026-11-01T00:00:00Z");
        assert_eq!(e.to_string(), "2026-12-01T00:00:00Z");
        assert!(parse_date_range("2026-11-30/2026-11-01").is_err());
        assert!(parse_date_range("next week").is_err());
        let sale = Sale {
            price: Price::parse("5 EUR").unwrap(),
            starts: Some(s),
            ends: Some(e),
        };
        assert!(sale.is_active("2026-11-15T12:00:00Z".parse().unwrap()));
        assert!(!sale.is_active("2026-12-01T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn sizes_sort_like_a_shop() {
        let mut sizes = vec!["XL", "S", "42", "M", "38", "TU", "XS"];
        sizes.sort_by_key(|s| size_order(s));
        assert_eq!(sizes, ["XS", "S", "M", "XL", "38", "42", "TU"]);
    }

    #[test]
    fn prices_format_per_language() {
        let p = Price::parse("1299.5 EUR").unwrap();
        assert_eq!(format_price(&p, "fr"), "1\u{202f}299,50\u{a0}€");
        assert_eq!(format_price(&p, "en"), "€1,299.50");
    }
}
