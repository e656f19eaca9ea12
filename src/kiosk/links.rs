//! The web store links a kiosk shows as QR codes ("view on your phone", "take my list"),
//! each carrying where it came from so the web store can credit the shop: `utm_source`
//! `vitrine`, `utm_medium` `kiosk`, a `utm_campaign` per kind of link, and the `store`.

use reqwest::Url;

/// The longest link a kiosk shows: a QR code a phone reads off a screen at arm's length.
pub const MAX_LINK_BYTES: usize = 400;

/// What a link is for, as its `utm_campaign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Campaign {
    ViewOnPhone,
    TakeMyList,
}

impl Campaign {
    fn as_str(self) -> &'static str {
        match self {
            Campaign::ViewOnPhone => "view_on_phone",
            Campaign::TakeMyList => "take_my_list",
        }
    }
}

fn web_page(url: &str) -> Option<Url> {
    Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn attribute(url: &mut Url, store: &str, campaign: Campaign) {
    url.query_pairs_mut()
        .append_pair("utm_source", "vitrine")
        .append_pair("utm_medium", "kiosk")
        .append_pair("utm_campaign", campaign.as_str())
        .append_pair("store", store);
}

/// A product's page on the web store, attributed; `None` if the feed's link is not a
/// web page or is too long to show.
pub fn product(link: &str, store: &str) -> Option<String> {
    let mut url = web_page(link)?;
    attribute(&mut url, store, Campaign::ViewOnPhone);
    Some(url.to_string()).filter(|u| u.len() <= MAX_LINK_BYTES)
}

/// The web store's list page naming `skus` (newest first, one `sku` parameter each),
/// attributed, and how many of them fit: a long list keeps its newest pieces.
pub fn list(page: &str, skus: &[String], store: &str) -> Option<(String, usize)> {
    let mut url = web_page(page)?;
    attribute(&mut url, store, Campaign::TakeMyList);
    let mut link = url.to_string();
    if link.len() > MAX_LINK_BYTES {
        return None;
    }
    let mut fitted = 0;
    for sku in skus {
        url.query_pairs_mut().append_pair("sku", sku);
        let longer = url.to_string();
        if longer.len() > MAX_LINK_BYTES {
            break;
        }
        (link, fitted) = (longer, fitted + 1);
    }
    Some((link, fitted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_links_carry_the_shop() {
        let link = product("https://shop.example/fr/p/robe?variant=A-1", "PARIS 01").unwrap();
        assert_eq!(
            link,
            "https://shop.example/fr/p/robe?variant=A-1&utm_source=vitrine&utm_medium=kiosk\
             &utm_campaign=view_on_phone&store=PARIS+01"
        );
        for bad in ["javascript:alert(1)", "/fr/p/robe", "", "mailto:a@b.c"] {
            assert_eq!(product(bad, "PARIS"), None, "{bad}");
        }
        assert_eq!(
            product(&format!("https://shop.example/{}", "a".repeat(400)), "PARIS"),
            None
        );
    }

    #[test]
    fn list_links_name_the_skus_that_fit() {
        let skus: Vec<String> = ["A&1", "B,2"].map(String::from).to_vec();
        let (link, n) = list("https://shop.example/list", &skus, "PARIS").unwrap();
        assert_eq!(n, 2);
        let parsed = Url::parse(&link).unwrap();
        let named: Vec<String> = parsed
            .query_pairs()
            .filter(|(k, _)| k == "sku")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(named, skus);
        // An empty list (an anonymous shopper who saved nothing yet) is still a link.
        assert_eq!(list("https://shop.example/list", &[], "PARIS").unwrap().1, 0);

        let many: Vec<String> = (0..500).map(|i| format!("SKU-{i:05}")).collect();
        let (link, n) = list("https://shop.example/list", &many, "PARIS").unwrap();
        assert!(link.len() <= MAX_LINK_BYTES && n > 10 && n < 500, "{n}");
        assert!(list(&format!("https://shop.example/{}", "a".repeat(400)), &many, "PARIS").is_none());
        assert!(link.contains("SKU-00000"), "the newest pieces are kept");
    }
}
