//! What a scanned code asks for. Product codes in a shop carry a bare SKU, a link to the
//! product on the web store, or a GS1 Digital Link (`https://…/01/<GTIN>[/22/…][/10/…]`);
//! each becomes a code the catalog's lookup understands.

use reqwest::Url;

use crate::domain::Gtin;

/// The longest payload understood; longer ones are no code of ours.
pub const MAX_PAYLOAD_CHARS: usize = 1024;
/// The longest bare reference (SKU or MPN) taken as such.
const MAX_REFERENCE_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A product, by GTIN or by reference (SKU, MPN).
    Product(ProductCode),
    /// A code that is not one of ours: the kiosk says so, kindly.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductCode {
    Gtin(Gtin),
    Reference(String),
}

impl ProductCode {
    /// The text to give `Catalog::lookup`.
    pub fn as_lookup(&self) -> &str {
        match self {
            ProductCode::Gtin(gtin) => gtin.as_str(),
            ProductCode::Reference(text) => text,
        }
    }
}

pub fn classify(text: &str) -> Payload {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_PAYLOAD_CHARS || text.chars().any(char::is_control) {
        return Payload::Unknown;
    }
    if let Ok(url) = Url::parse(text)
        && matches!(url.scheme(), "http" | "https")
    {
        return from_url(&url).map_or(Payload::Unknown, Payload::Product);
    }
    if let Ok(gtin) = Gtin::parse(text) {
        return Payload::Product(ProductCode::Gtin(gtin));
    }
    let reference = text.chars().count() <= MAX_REFERENCE_CHARS
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if reference {
        Payload::Product(ProductCode::Reference(text.to_owned()))
    } else {
        Payload::Unknown
    }
}

/// A GS1 Digital Link (`…/01/<GTIN>…`, or `…/gtin/<GTIN>…`), else a web store product
/// link naming its variant (`?variant=` or `?sku=`), else the link's last path segment.
fn from_url(url: &Url) -> Option<ProductCode> {
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    for pair in segments.windows(2) {
        if matches!(pair[0], "01" | "gtin") {
            return Gtin::parse(pair[1]).ok().map(ProductCode::Gtin);
        }
    }
    let named = url
        .query_pairs()
        .find(|(key, _)| matches!(key.as_ref(), "variant" | "sku"))
        .map(|(_, value)| value.into_owned());
    let last = segments.last().map(|s| (*s).to_owned());
    let reference = named.or(last)?;
    match classify(&reference) {
        Payload::Product(code) => Some(code),
        Payload::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(text: &str) -> Option<String> {
        match classify(text) {
            Payload::Product(code) => Some(code.as_lookup().to_owned()),
            Payload::Unknown => None,
        }
    }

    #[test]
    fn shop_codes_become_catalog_lookups() {
        assert_eq!(
            product("ML-DRESS-01-TERRACOTTA-M").as_deref(),
            Some("ML-DRESS-01-TERRACOTTA-M")
        );
        // GTINs in any length come out as GTIN-14, check digit verified.
        assert_eq!(product("9506000134352").as_deref(), Some("09506000134352"));
        assert_eq!(
            product("https://id.gs1.org/01/09506000134352/22/2A/10/ABC1?17=180426").as_deref(),
            Some("09506000134352")
        );
        assert_eq!(
            product("https://shop.example/brand/gtin/9506000134352").as_deref(),
            Some("09506000134352")
        );
        assert_eq!(
            product("https://demo.vitrine.example/fr/p/ML-DRESS-01?variant=ML-DRESS-01-NOIR-S").as_deref(),
            Some("ML-DRESS-01-NOIR-S")
        );
        assert_eq!(
            product("https://shop.example/products/ML-BAG-03").as_deref(),
            Some("ML-BAG-03")
        );
    }

    #[test]
    fn anything_else_is_not_ours() {
        assert_eq!(classify(""), Payload::Unknown);
        assert_eq!(
            classify("https://id.gs1.org/01/09506000134353"),
            Payload::Unknown,
            "bad check digit"
        );
        assert_eq!(classify("MECARD:N:Google 411,;TEL:18665881077;;"), Payload::Unknown);
        assert_eq!(classify("WIFI:S:shop;T:WPA;P:secret;;"), Payload::Unknown);
        assert_eq!(classify("javascript:alert(1)"), Payload::Unknown);
        assert_eq!(classify("https://shop.example/"), Payload::Unknown);
        assert_eq!(classify(&"A".repeat(MAX_PAYLOAD_CHARS + 1)), Payload::Unknown);
        assert_eq!(classify("line\nbreak"), Payload::Unknown);
    }
}
