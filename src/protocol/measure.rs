//! Measurement on the wire: what kiosks report of their visits, what the web store tells
//! of its customers' consent and orders, and the reports the hub answers with.
//!
//! A kiosk's events name a visit by its random id, never a shopper: a visit nobody
//! signed in to stays anonymous. The hub links a visit to a customer only when that
//! customer consented (`PUT /v1/webstore/customers/{customer}/consent`).

use serde::{Deserialize, Serialize};

#[cfg(feature = "hub")]
use utoipa::ToSchema;

/// Most events in one push.
pub const MAX_EVENTS: usize = 500;
/// The longest search text a kiosk reports (longer text is cut there).
pub const MAX_QUERY_CHARS: usize = 100;
/// Most lines in one order.
pub const MAX_ORDER_LINES: usize = 1_000;

/// A search's text as it is sent and counted: trimmed, lower case, spaces collapsed, cut
/// to [`MAX_QUERY_CHARS`].
pub fn normalise_query(query: &str) -> String {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    words.join(" ").chars().take(MAX_QUERY_CHARS).collect()
}

/// One thing that happened at a kiosk. `id` (random, per event) makes a resend
/// harmless; `visit` is the visit's random id, absent for staff look-ups (and ignored for
/// searches, which the hub never ties to a visit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KioskEvent {
    pub id: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub at: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    pub detail: EventDetail,
}

/// What happened, by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventDetail {
    /// A shopper started a visit (a tap on the attract screen, or a code scanned there).
    VisitStarted,
    /// The visit ended, after `seconds`.
    VisitEnded {
        seconds: u32,
        reason: VisitEnd,
    },
    /// The shopper signed in to the visit. Who they are is in the wishlist sync's
    /// `sign_in` op, not here.
    SignedIn {
        method: SignInMethod,
    },
    /// A product sheet was opened on this variant.
    ProductViewed {
        sku: String,
        source: ViewSource,
    },
    /// A product's code was read by the camera; `sku` is absent when it is not one of
    /// the catalog's.
    CodeScanned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sku: Option<String>,
    },
    WishlistAdded {
        sku: String,
    },
    WishlistRemoved {
        sku: String,
    },
    /// "View on your phone": the product's code was shown.
    ProductCodeShown {
        sku: String,
    },
    /// "Take my list": the list's code was shown, with `items` lines.
    ListCodeShown {
        items: u32,
    },
    /// A search. The hub keeps `query` only in a per-shop count of searches, never with
    /// the visit.
    Searched {
        query: String,
        results: u32,
    },
    /// A sales assistant looked up a product's stock (staff mode: no visit).
    StockLookedUp {
        sku: String,
    },
}

impl EventDetail {
    /// The `kind` as the JSON and the databases spell it.
    pub fn kind(&self) -> &'static str {
        match self {
            EventDetail::VisitStarted => "visit_started",
            EventDetail::VisitEnded { .. } => "visit_ended",
            EventDetail::SignedIn { .. } => "signed_in",
            EventDetail::ProductViewed { .. } => "product_viewed",
            EventDetail::CodeScanned { .. } => "code_scanned",
            EventDetail::WishlistAdded { .. } => "wishlist_added",
            EventDetail::WishlistRemoved { .. } => "wishlist_removed",
            EventDetail::ProductCodeShown { .. } => "product_code_shown",
            EventDetail::ListCodeShown { .. } => "list_code_shown",
            EventDetail::Searched { .. } => "searched",
            EventDetail::StockLookedUp { .. } => "stock_looked_up",
        }
    }

    /// The SKU the event is about, if any.
    pub fn sku(&self) -> Option<&str> {
        match self {
            EventDetail::ProductViewed { sku, .. }
            | EventDetail::WishlistAdded { sku }
            | EventDetail::WishlistRemoved { sku }
            | EventDetail::ProductCodeShown { sku }
            | EventDetail::StockLookedUp { sku } => Some(sku),
            EventDetail::CodeScanned { sku } => sku.as_deref(),
            _ => None,
        }
    }
}

/// How a visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitEnd {
    /// The shopper tapped "I'm done".
    Done,
    /// Nobody touched the screen until the idle warning ran out.
    Idle,
    /// Another shopper's code was scanned.
    NextShopper,
    /// The visit reached its maximum length.
    Maximum,
}

impl VisitEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitEnd::Done => "done",
            VisitEnd::Idle => "idle",
            VisitEnd::NextShopper => "next_shopper",
            VisitEnd::Maximum => "maximum",
        }
    }
}

/// How a shopper signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// The web store app's code, read by the camera.
    AppCode,
    /// Confirmed on their phone (the pairing code).
    Phone,
}

/// Where a product sheet was opened from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ViewSource {
    Search,
    Browse,
    Scan,
    Wishlist,
    Featured,
}

impl ViewSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ViewSource::Search => "search",
            ViewSource::Browse => "browse",
            ViewSource::Scan => "scan",
            ViewSource::Wishlist => "wishlist",
            ViewSource::Featured => "featured",
        }
    }
}

/// `POST /v1/kiosk/events`: at most [`MAX_EVENTS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KioskEvents {
    pub events: Vec<KioskEvent>,
    /// Events the kiosk deleted unsent since its last push, to stay within its bound on
    /// disk (a kiosk offline for weeks keeps the newest ones).
    #[serde(default)]
    pub dropped: u64,
}

/// [`KioskEvents`] as the hub reads it: each event on its own, so that one it cannot
/// read (a kind a newer kiosk sends, a field out of range) is refused alone and the rest
/// of the batch is stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKioskEvents {
    pub events: Vec<serde_json::Value>,
    #[serde(default)]
    pub dropped: u64,
}

impl RawKioskEvents {
    /// The events that read as [`KioskEvent`]s, and how many did not.
    pub fn parse(self) -> (KioskEvents, usize) {
        let total = self.events.len();
        let events: Vec<KioskEvent> = self
            .events
            .into_iter()
            .filter_map(|e| serde_json::from_value(e).ok())
            .collect();
        let unreadable = total - events.len();
        (
            KioskEvents {
                events,
                dropped: self.dropped,
            },
            unreadable,
        )
    }
}

/// The answer to [`KioskEvents`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct EventsAck {
    /// Events the hub did not have yet (a resend counts 0).
    pub stored: usize,
    /// Malformed events, refused for good: forget them like the others.
    #[serde(default)]
    pub rejected: usize,
}

// ---- consent -------------------------------------------------------------------------

/// `PUT /v1/webstore/customers/{customer}/consent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// Whether the customer agreed that their kiosk visits be linked to their orders.
    pub measurement: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Consent {
    pub customer: String,
    pub measurement: bool,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub updated_at: jiff::Timestamp,
}

// ---- orders --------------------------------------------------------------------------

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub sku: String,
    /// 1 to 10,000.
    pub quantity: u32,
    /// A decimal string in the order's currency, e.g. `"59.90"`: no more decimals than
    /// the currency has.
    pub unit_price: String,
}

/// Where an order was placed: online (the default), or in a shop, reported by the web
/// store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderChannel {
    #[default]
    Online,
    Shop,
}

/// `POST /v1/webstore/orders`: an order placed with the web store. Posting the same
/// `order_id` again changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub order_id: String,
    /// The web store's customer reference.
    pub customer: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub placed_at: jiff::Timestamp,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// 1 to [`MAX_ORDER_LINES`].
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub channel: OrderChannel,
    /// The landing parameters of the session the order was placed in, as the web store
    /// recorded them. A kiosk's codes carry `utm_source=vitrine`, `store` and `visit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    /// The shop code a kiosk's link carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// The visit reference a kiosk's link carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
}

/// Whether the hub stored an order (or a refund) now or already had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Received {
    Created,
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct OrderReceipt {
    pub order_id: String,
    pub status: Received,
}

/// Some units of one line given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundLine {
    pub sku: String,
    pub quantity: u32,
}

/// `POST /v1/webstore/orders/{order_id}/refunds`: a refund or a cancellation. Without
/// `lines`, the whole order (a cancellation). Posting the same `refund_id` again changes
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub refund_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<RefundLine>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct RefundReceipt {
    pub order_id: String,
    pub refund_id: String,
    pub status: Received,
}

/// A kiosk touch an order was credited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Touch {
    pub store_code: String,
    /// Absent for a landing whose link named the shop alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub at: jiff::Timestamp,
}

/// `GET /v1/webstore/orders/{order_id}`: how an order is credited now. `attributed` is
/// absent when no kiosk touched it (or its customer did not consent, or it was refunded
/// whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct OrderCredit {
    pub order_id: String,
    /// Net of refunds.
    pub revenue: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributed: Option<Touch>,
    pub assisted: Vec<Touch>,
    pub attribution: Attribution,
}

// ---- reports -------------------------------------------------------------------------

/// An amount in one currency, as a decimal string. Currencies are never added together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Money {
    pub currency: String,
    pub amount: String,
}

/// How orders were credited, printed with every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Attribution {
    /// `last_touch`: each order line goes to the latest touch; `orders_assisted` and
    /// `revenue_assisted` count every touch.
    pub rule: String,
    pub window_days: u32,
    /// The rule in a sentence.
    pub description: String,
}

/// What a shop, a kiosk or a day brought.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Figures {
    pub visits: u64,
    /// Visits a customer signed in to.
    pub identified_visits: u64,
    /// Of the visits that ended.
    pub median_visit_seconds: u32,
    pub product_views: u64,
    pub scans: u64,
    pub wishlist_adds: u64,
    /// "Take my list" codes shown.
    pub lists_taken: u64,
    pub searches: u64,
    pub orders_attributed: u64,
    pub revenue_attributed: Vec<Money>,
    pub orders_assisted: u64,
    pub revenue_assisted: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ShopFigures {
    pub store_code: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct KioskFigures {
    pub store_code: String,
    pub device_id: i64,
    /// Events this kiosk ever had to delete unsent (offline past its bound on disk): its
    /// figures are short by as many.
    pub events_dropped: u64,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct DayFigures {
    /// The shop's local day, `YYYY-MM-DD`.
    pub day: String,
    pub store_code: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A product's figures: its views and saves, and the orders credited to kiosks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ProductFigures {
    pub sku: String,
    pub product_views: u64,
    pub wishlist_adds: u64,
    pub orders_attributed: u64,
    pub units_attributed: u64,
    pub revenue_attributed: Vec<Money>,
}

/// What shoppers searched for in one shop, most searched first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ShopSearches {
    pub store_code: String,
    pub terms: Vec<SearchTerm>,
}

/// A search text (trimmed, lower case) and how many times it was searched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct SearchTerm {
    pub query: String,
    pub searches: u64,
}

/// `GET /v1/webstore/reports/searches`: per shop, its most searched texts. A text
/// searched fewer than `min_searches` times in a shop over the period is left out: what
/// one shopper typed (a name, an address) is never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct SearchesReport {
    pub from: String,
    pub to: String,
    pub min_searches: u64,
    pub shops: Vec<ShopSearches>,
}

/// The reports' answers: the days covered (`YYYY-MM-DD`, both included, in each shop's
/// time zone), the rule orders were credited under, and one row per shop, kiosk, day
/// or product.
macro_rules! report {
    ($(#[$doc:meta])* $name:ident, $field:ident, $row:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "hub", derive(ToSchema))]
        pub struct $name {
            pub from: String,
            pub to: String,
            pub attribution: Attribution,
            pub $field: Vec<$row>,
        }
    };
}

report!(
    /// `GET /v1/webstore/reports/shops`.
    ShopsReport, shops, ShopFigures
);
report!(
    /// `GET /v1/webstore/reports/kiosks`.
    KiosksReport, kiosks, KioskFigures
);
report!(
    /// `GET /v1/webstore/reports/days`.
    DaysReport, days, DayFigures
);
report!(
    /// `GET /v1/webstore/reports/products`.
    ProductsReport, products, ProductFigures
);

// ---- popularity ----------------------------------------------------------------------

/// Most product groups in a shop's popularity.
pub const MAX_POPULAR: usize = 50;

/// A product group and how popular it is in one shop: its views plus three times its
/// wishlist adds over the last 30 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct PopularGroup {
    pub group_id: String,
    pub score: u64,
}

/// `GET /v1/kiosk/popular`: the kiosk's own shop's most popular product groups, highest
/// first (at most [`MAX_POPULAR`]). Counted per shop, never per person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Popular {
    pub store_code: String,
    pub groups: Vec<PopularGroup>,
}
