//! The web store links a kiosk shows as QR codes ("view on your phone", "take my list"),
//! each carrying where it came from so the web store can credit the shop: `utm_source`
//! `vitrine`, `utm_medium` `kiosk`, a `utm_campaign` per kind of link, the `store`, and
//! the `visit`'s random id when a visit is under way. The web store posts those back with
//! an order as its landing (`store`, `visit`), which the hub credits to that kiosk visit;
//! the id names a visit, never a shopper.

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

fn attribute(url: &mut Url, store: &str, visit: Option<&str>, campaign: Campaign) {
    let mut query = url.query_pairs_mut();
    query
        .append_pair("utm_source", "vitrine")
        .append_pair("utm_medium", "kiosk")
        .append_pair("utm_campaign", campaign.as_str())
        .append_pair("store", store);
    if let Some(visit) = visit {
        query.append_pair("visit", visit);
    }
}

/// A product's page on the web store, attributed to the shop and the visit under way
/// (`visit`, if any); `None` if the feed's link is not a web page or is too long to show.
pub fn product(link: &str, store: &str, visit: Option<&str>) -> Option<String> {
    let mut url = web_page(link)?;
    attribute(&mut url, store, visit, Campaign::ViewOnPhone);
    Some(url.to_string()).filter(|u| u.len() <= MAX_LINK_BYTES)
}

/// The web store's list page naming `skus` (newest first, one `sku` parameter each),
/// attributed to the shop and the visit under way (`visit`, if any), and how many of
/// them fit: a long list keeps its newest pieces.
pub fn list(page: &str, skus: &[String], store: &str, visit: Option<&str>) -> Option<(String, usize)> {
    let mut url = web_page(page)?;
    attribute(&mut url, store, visit, Campaign::TakeMyList);
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

    /// A visit id as `protocol::new_id` makes them: 32 hex digits.
    const VISIT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn product_links_carry_the_shop_and_the_visit() {
        let link = product("https://shop.example/fr/p/robe?variant=A-1", "PARIS 01", Some(VISIT)).unwrap();
        assert_eq!(
            link,
            "https://shop.example/fr/p/robe?variant=A-1&utm_source=vitrine&utm_medium=kiosk\
             &utm_campaign=view_on_phone&store=PARIS+01&visit=0123456789abcdef0123456789abcdef"
        );
        // No visit under way (staff mode): the shop alone.
        assert_eq!(
            product("https://shop.example/fr/p/robe", "PARIS", None).unwrap(),
            "https://shop.example/fr/p/robe?utm_source=vitrine&utm_medium=kiosk&utm_campaign=view_on_phone&store=PARIS"
        );
        for bad in ["javascript:alert(1)", "/fr/p/robe", "", "mailto:a@b.c"] {
            assert_eq!(product(bad, "PARIS", Some(VISIT)), None, "{bad}");
        }
        assert_eq!(
            product(
                &format!("https://shop.example/{}", "a".repeat(400)),
                "PARIS",
                Some(VISIT)
            ),
            None
        );
    }

    #[test]
    fn list_links_name_the_skus_that_fit() {
        let skus: Vec<String> = ["A&1", "B,2"].map(String::from).to_vec();
        let (link, n) = list("https://shop.example/list", &skus, "PARIS", Some(VISIT)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            link,
            "https://shop.example/list?utm_source=vitrine&utm_medium=kiosk&utm_campaign=take_my_list\
             &store=PARIS&visit=0123456789abcdef0123456789abcdef&sku=A%261&sku=B%2C2"
        );
        let parsed = Url::parse(&link).unwrap();
        let named: Vec<String> = parsed
            .query_pairs()
            .filter(|(k, _)| k == "sku")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(named, skus);
        // An empty list (an anonymous shopper who saved nothing yet) is still a link.
        assert_eq!(
            list("https://shop.example/list", &[], "PARIS", Some(VISIT)).unwrap().1,
            0
        );
        assert!(
            !list("https://shop.example/list", &[], "PARIS", None)
                .unwrap()
                .0
                .contains("visit=")
        );

        let many: Vec<String> = (0..500).map(|i| format!("SKU-{i:05}")).collect();
        let (link, n) = list("https://shop.example/list", &many, "PARIS", Some(VISIT)).unwrap();
        assert!(link.len() <= MAX_LINK_BYTES && n > 10 && n < 500, "{n}");
        assert!(
            list(
                &format!("https://shop.example/{}", "a".repeat(400)),
                &many,
                "PARIS",
                Some(VISIT)
            )
            .is_none()
        );
        assert!(link.contains("SKU-00000"), "the newest pieces are kept");
    }
}
