//! Webhooks on the wire: what a web store registers, and what the hub posts to it
//! (Standard Webhooks 1.0: `webhook-id`, `webhook-timestamp`, `webhook-signature`, and a
//! body `{"type", "timestamp", "data"}`). Payloads are thin: ids, and where to pull.

use serde::{Deserialize, Serialize};

#[cfg(feature = "hub")]
use utoipa::ToSchema;

/// Wishlist lines changed: pull the changes feed from `from_cursor` (or from yours).
pub const WISHLIST_CHANGED: &str = "wishlist.changed";
/// A customer signed in at a kiosk (as `GET /v1/webstore/visits` lists it).
pub const VISIT_SIGNED_IN: &str = "visit.signed_in";
/// The hub recorded a customer's consent (or its withdrawal).
pub const CONSENT_CHANGED: &str = "consent.changed";
/// A customer was erased.
pub const CUSTOMER_ERASED: &str = "customer.erased";
/// Every event type, for an endpoint's `events`.
/// An alert on a kiosk opened or cleared (offline, backlog, clock, camera, disk).
pub const KIOSK_ALERT: &str = "kiosk.alert";
pub const EVENT_TYPES: [&str; 5] = [
    WISHLIST_CHANGED,
    VISIT_SIGNED_IN,
    CONSENT_CHANGED,
    CUSTOMER_ERASED,
    KIOSK_ALERT,
];

/// Most endpoints one API key may register.
pub const MAX_ENDPOINTS: usize = 10;

/// `POST /v1/webstore/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// Where to post: http(s), and a host the hub may reach (the public internet, or the
    /// hub's `[webhooks] hosts_allowed`).
    pub url: String,
    /// The event types to send; empty or absent for all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub created_at: jiff::Timestamp,
    /// Since when deliveries fail, if they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub failing_since: Option<jiff::Timestamp>,
    /// Set when the hub stopped sending: the endpoint answered 410, or failed for days.
    /// A replay starts it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub disabled_at: Option<jiff::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

/// `GET /v1/webstore/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct EndpointList {
    pub endpoints: Vec<Endpoint>,
}

/// A new endpoint, or a rotated secret: the signing secret (`whsec_…`, base64), shown
/// this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct EndpointSecret {
    pub endpoint: Endpoint,
    pub secret: String,
    /// After a rotation: until when the previous secret also signs (both signatures are
    /// sent), so the receiver can switch without losing a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub previous_valid_until: Option<jiff::Timestamp>,
}

/// One message's delivery to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Delivery {
    /// The `webhook-id`.
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub created_at: jiff::Timestamp,
    /// `pending`, `delivered` or `failed` (given up).
    pub state: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub next_at: Option<jiff::Timestamp>,
}

/// `GET /v1/webstore/webhooks/{id}/deliveries`: the latest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct DeliveryLog {
    pub deliveries: Vec<Delivery>,
}

/// `POST /v1/webstore/webhooks/{id}/replay`: every message since then is sent again
/// (and the endpoint, if disabled, started again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub since: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ReplayResponse {
    pub queued: usize,
}

/// The body of every webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: jiff::Timestamp,
    pub data: serde_json::Value,
}

/// `wishlist.changed`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishlistChanged {
    /// A changes feed cursor from which these changes are pulled.
    pub from_cursor: String,
    pub changes: u64,
}

/// `visit.signed_in`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSignedIn {
    pub visit: String,
    pub customer: String,
    pub store_code: String,
    pub device_id: i64,
}

/// `consent.changed`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChanged {
    pub customer: String,
    pub measurement: bool,
}

/// `customer.erased`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerErased {
    pub customer: String,
}

/// `kiosk.alert`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskAlert {
    pub alert_id: i64,
    pub device_id: i64,
    pub store_code: String,
    /// `offline`, `backlog_growing`, `clock_off`, `camera_waiting` or `disk_low`.
    pub kind: String,
    /// `opened` or `cleared`.
    pub state: String,
    /// What was seen, in a few words.
    pub detail: String,
}
