//! Query and path parameters of the hub API, defined once: the hub extracts them (and
//! describes them in its OpenAPI document), the kiosk's and the web store's clients send
//! them.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

#[cfg(feature = "hub")]
use utoipa::IntoParams;

/// Which Merchant Center feed: a feed upload's path (`/v1/webstore/feeds/{kind}`) and a
/// hub config's `[[feed]] kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Products,
    Inventory,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Products => "products",
            FeedKind::Inventory => "inventory",
        }
    }
}

/// A page of a changes feed: `?cursor=…&limit=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Where to continue; absent or empty to start from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Items per page, 1 to 5000 (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// A feed upload: `?lang=fr`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Language of a product feed if it does not declare one (e.g. `fr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// ISO 4217 currency of prices the feed writes without one (`69.9`), e.g. `EUR`.
    /// Without it, such prices reject their items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A catalog picture through the hub: `?url=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Query))]
pub struct ImageQuery {
    /// The picture's URL, as the catalog names it.
    pub url: String,
}

/// `{customer}`: the web store's customer reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct CustomerPath {
    /// The web store's customer reference.
    pub customer: String,
}

/// `{alias}`: a customer's alias, as their QR token carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct AliasPath {
    /// The customer's alias, from their QR token.
    pub alias: String,
}

/// `{user_code}`: a pairing's code as the kiosk shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct UserCodePath {
    /// As the kiosk shows it; case and dashes do not matter.
    pub user_code: String,
}

/// `{device_code}`: a pairing, as the kiosk that started it knows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct DeviceCodePath {
    /// The `device_code` the hub answered when the pairing started.
    pub device_code: String,
}

/// `{sha256}`: one of the brand's fonts, by the digest its settings name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct FontPath {
    /// The font file's SHA-256, in hex.
    pub sha256: String,
}

/// `{key_id}`: a signing key the web store registered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct SigningKeyPath {
    /// The key id the registration answered.
    pub key_id: u16,
}

/// `{order_id}`: an order the web store posted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct OrderPath {
    /// The web store's order reference.
    pub order_id: String,
}

/// A report's period and scope: `?from=2026-11-01&to=2026-11-30&store=PARIS-MARAIS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD`, in each shop's time zone.
    pub from: String,
    /// Last day, included; at most 400 days after `from`.
    pub to: String,
    /// Only this shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// `{id}`: a webhook endpoint the web store registered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Path))]
pub struct EndpointPath {
    /// The id the registration answered.
    pub id: i64,
}

/// How many of the latest items: `?limit=100`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// 1 to 1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Everything but letters, digits and `-._~` is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `text` as one path segment: a reference holding `/`, `?` or `%` stays one segment.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_one_segment_whatever_it_holds() {
        assert_eq!(segment("c-42_x.y~z"), "c-42_x.y~z");
        assert_eq!(segment("a/b?c=d%"), "a%2Fb%3Fc%3Dd%25");
        assert_eq!(segment("Zoé"), "Zo%C3%A9");
    }

    #[test]
    fn absent_query_parameters_are_left_out() {
        let query = PageQuery {
            cursor: None,
            limit: Some(10),
        };
        assert_eq!(
            serde_json::to_value(&query).unwrap(),
            serde_json::json!({ "limit": 10 })
        );
    }
}
