//! What crosses the wire between kiosks, the hub and the web store: every request and
//! response body, in one place. The hub publishes these as its OpenAPI document; the
//! kiosk's sync driver and `vitrine webstore` send and read them.
//!
//! Unknown fields are refused (`deny_unknown_fields`) on everything the hub receives, so
//! a typo in a client is an error rather than a silently ignored field.

use serde::{Deserialize, Serialize};

use crate::domain::{StockLevel, Variant};

#[cfg(feature = "hub")]
use utoipa::ToSchema;

pub mod brand;
pub mod fleet;
pub mod measure;
pub mod params;
pub mod webhooks;

/// Most ops in one push.
pub const MAX_BATCH_OPS: usize = 500;
/// Most items in one page of a changes feed.
pub const MAX_PAGE: usize = 5_000;
/// Longest customer reference, visit id, stream id or SKU accepted.
pub const MAX_REF_CHARS: usize = 128;
/// The largest catalog picture the hub passes on to kiosks.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// The longest picture URL the hub accepts.
pub const MAX_IMAGE_URL_CHARS: usize = 2048;

/// An error body: a stable machine `code` and a sentence for the developer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Problem {
    pub code: String,
    pub message: String,
    /// With `code = "seq_gap"`: the sequence number the hub expects next on this stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// With `code = "seq_diverged"`: the sequence number whose content differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// With `code = "internal"` or `"unavailable"`: the id the hub logged the cause under,
    /// for its operator. The cause itself never leaves the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

// ---- devices -------------------------------------------------------------------------

/// What an enrollment QR code holds (the console shows it; a kiosk's first-start screen
/// reads it): `VITRINE-ENROLL:<code>@<hub URL>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollLink {
    pub code: String,
    pub hub_url: String,
}

impl EnrollLink {
    pub const PREFIX: &'static str = "VITRINE-ENROLL:";

    pub fn text(&self) -> String {
        format!("{}{}@{}", Self::PREFIX, self.code, self.hub_url)
    }

    /// The code and hub a scanned text names, if it is an enrollment code: the URL is an
    /// absolute http(s) URL of at most 512 characters naming a host and nothing else (no
    /// user, path, query or fragment, which could make a URL read as another host's),
    /// the code 1 to 32 characters.
    pub fn parse(text: &str) -> Option<EnrollLink> {
        let rest = text.trim().strip_prefix(Self::PREFIX)?;
        let (code, url) = rest.split_once('@')?;
        let code_ok = (1..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let bare_host = |u: &reqwest::Url| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.path() == "/"
                && u.query().is_none()
                && u.fragment().is_none()
        };
        let url_ok = url.len() <= 512 && reqwest::Url::parse(url).is_ok_and(|u| bare_host(&u));
        (code_ok && url_ok).then(|| EnrollLink {
            code: code.to_owned(),
            hub_url: url.to_owned(),
        })
    }
}

/// `POST /v1/kiosk/enroll`: a one-time code for a per-device credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub code: String,
    /// A name for the tablet, shown to store ops (e.g. its host name).
    #[serde(default)]
    pub name: Option<String>,
    /// The shop the kiosk is set up for (its `kiosk.toml` names it): a code for another
    /// shop is refused and stays unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct EnrollResponse {
    pub device_id: i64,
    pub store_code: String,
    /// The device's bearer credential. The hub keeps only its hash: this is the one copy.
    pub token: String,
}

// ---- wishlist ops --------------------------------------------------------------------

/// Whose wishlist an op changes: a signed-in customer, or an anonymous visit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The web store's opaque customer reference.
    Customer(String),
    /// A customer as a kiosk knows them: the alias their QR token carried (16 hex
    /// digits). The hub stores and reports the line under the customer's reference.
    Alias(String),
    /// A kiosk visit nobody has signed in to (yet).
    Visit(String),
}

impl Owner {
    /// `("customer" | "alias" | "visit", id)`, as the databases store an owner.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Owner::Customer(c) => ("customer", c),
            Owner::Alias(a) => ("alias", a),
            Owner::Visit(v) => ("visit", v),
        }
    }

    /// The inverse of [`Owner::parts`].
    pub fn from_parts(kind: &str, id: String) -> Owner {
        match kind {
            "customer" => Owner::Customer(id),
            "alias" => Owner::Alias(id),
            _ => Owner::Visit(id),
        }
    }

    pub fn customer(&self) -> Option<&str> {
        match self {
            Owner::Customer(c) => Some(c),
            Owner::Alias(_) | Owner::Visit(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Add,
    Remove,
    /// The customer (`owner`, an alias) signed in at a kiosk during the visit `session`;
    /// `sku` is empty. The hub records the visit for the web store.
    SignIn,
}

/// One wishlist edit, as a stream sends it. `(stream, seq)` names it; `hlc` orders it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// Gap-free, from 1, per stream.
    pub seq: u64,
    /// Hybrid logical clock: milliseconds since the Unix epoch << 16 | counter.
    pub hlc: u64,
    pub owner: Owner,
    pub sku: String,
    pub action: Action,
    /// The kiosk visit the edit was made in (absent for the web store's own edits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// A `sign_in`'s proof: the customer's token as the kiosk read it. The hub checks it
    /// itself; only then may the kiosk write and read that customer's list, for this
    /// visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `GET /v1/kiosk/erasures`: aliases of customers the web store erased, for kiosks to
/// delete every trace of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ErasurePage {
    pub aliases: Vec<String>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// The header a kiosk sends a signed-in customer's token in, to read their list.
pub const CUSTOMER_TOKEN_HEADER: &str = "vitrine-customer-token";

/// `POST /v1/kiosk/ops` and `POST /v1/webstore/ops`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The sender's stream: random, chosen once per kiosk database.
    pub stream: String,
    /// In sequence order, at most [`MAX_BATCH_OPS`].
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Merged into the wishlist (it may have lost to a later edit: last writer wins).
    Applied,
    /// Already received with the same content: no effect.
    Duplicate,
    /// Refused for good; the reason says why. The stream moves on.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct OpResult {
    pub seq: u64,
    pub status: OpStatus,
    /// With `rejected`: `unknown_sku`, `unknown_customer`, `customer_erased` or `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct PushResponse {
    /// Every op up to this sequence number is stored (or was rejected for good).
    pub acked_seq: u64,
    pub results: Vec<OpResult>,
    /// The hub's clock, for the sender's hybrid logical clock.
    pub hub_hlc: u64,
}

// ---- wishlists, as the web store reads them ------------------------------------------

/// Where a wishlist line was last written from, so a later purchase can be credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Origin {
    /// `kiosk` or `webstore`.
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// One wishlist line's current state, as the changes feed and snapshots give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct WishlistLine {
    pub owner: Owner,
    pub sku: String,
    /// `false` is a removal (a tombstone).
    pub present: bool,
    pub hlc: u64,
    pub stream: String,
    pub seq: u64,
    pub origin: Origin,
    /// When the hub stored this state (RFC 3339).
    pub changed_at: String,
}

/// A page of the wishlist changes feed or of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct WishlistPage {
    pub changes: Vec<WishlistLine>,
    /// Opaque: give it back to continue after this page.
    pub next_cursor: String,
    /// Whether another page is ready now.
    pub has_more: bool,
}

/// `GET /v1/webstore/customers/{customer}/wishlist` and the kiosk's equivalent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct CustomerWishlist {
    pub customer: String,
    pub items: Vec<WishlistLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct EraseResponse {
    pub customer: String,
    pub removed_lines: u64,
}

// ---- customer tokens and visits ------------------------------------------------------

/// A public key kiosks accept customer tokens from, for tokens issued inside its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct TokenKey {
    pub key_id: u16,
    /// The Ed25519 public key, 32 bytes, base64url without padding.
    pub public_key: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub not_before: jiff::Timestamp,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub not_after: jiff::Timestamp,
}

/// `GET /v1/kiosk/token-keys`: what a kiosk needs to check customer tokens offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct TokenKeys {
    /// The audience tokens for this brand's kiosks name.
    pub audience: String,
    pub keys: Vec<TokenKey>,
}

/// `POST /v1/webstore/tokens`: a token for the customer's app to show as a QR code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The web store's customer reference.
    pub customer: String,
    /// 1 to 60; default 5. The app shows a new token every ~30 s anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_minutes: Option<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct MintResponse {
    /// 202 digits: put them in a QR code as they are (numeric mode, version 5, level M).
    pub token: String,
    pub key_id: u16,
    /// The alias the token names the customer by.
    pub customer_alias: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub expires_at: jiff::Timestamp,
}

/// `POST /v1/webstore/customers/{customer}/alias`: for a web store that signs tokens with
/// its own key, the alias to put in them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct AliasResponse {
    pub customer: String,
    pub alias: String,
}

/// `POST /v1/webstore/signing-keys`: a web store's own Ed25519 key for customer tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterKeyRequest {
    /// 32 bytes, base64url without padding.
    pub public_key: String,
    /// Default: now. Kiosks fetch keys every few minutes: start a new key an hour ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub not_before: Option<jiff::Timestamp>,
    /// Default: one year after `not_before`; at most five years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub not_after: Option<jiff::Timestamp>,
}

/// A customer who signed in at a kiosk, for the web store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Visit {
    /// The kiosk visit: the `session` of the wishlist lines saved during it.
    pub session: String,
    pub customer: String,
    pub store_code: String,
    pub device_id: i64,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub signed_in_at: jiff::Timestamp,
}

/// `GET /v1/webstore/visits`: visits in the order the hub learnt of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct VisitPage {
    pub visits: Vec<Visit>,
    pub next_cursor: String,
    pub has_more: bool,
}

// ---- sign-in with the phone -----------------------------------------------------------

/// `POST /v1/kiosk/pairings`: a pairing for the kiosk to show as a QR code and a short code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct PairingStarted {
    /// The kiosk's secret handle for polling; never shown.
    pub device_code: String,
    /// What the shopper types if they do not scan, e.g. `BCDF-GHJK`.
    pub user_code: String,
    /// The web store's confirmation page.
    pub verification_uri: String,
    /// The same page with the code filled in: the QR code's content.
    pub verification_uri_complete: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub expires_at: jiff::Timestamp,
    /// Seconds to wait between two polls.
    pub interval: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairingState {
    Pending,
    Approved,
    Denied,
    Expired,
}

/// `GET /v1/kiosk/pairings/{device_code}`: how the pairing stands. With `approved`, a
/// customer token (once): the kiosk checks it and signs the shopper in with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct PairingStatus {
    pub status: PairingState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `GET /v1/webstore/pairings/{user_code}`: the pairing a shopper typed or scanned, for
/// the confirmation page ("Sign in at the kiosk in your Lyon shop?").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct PairingInfo {
    pub user_code: String,
    pub store_code: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub expires_at: jiff::Timestamp,
}

/// `POST /v1/webstore/pairings/{user_code}/approve`: the signed-in customer confirmed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The web store's customer reference.
    pub customer: String,
}

/// `GET /v1/kiosk/settings`: the web store's pages a kiosk links to, and the chain's shops.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct KioskSettings {
    /// Where a kiosk's "take my list" code leads; the kiosk adds `skus` and attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_url: Option<String>,
    /// Whether shoppers can sign in with their phone (the hub knows a page to confirm on).
    #[serde(default)]
    pub pairing: bool,
    /// The chain's shops, for names and "nearest first" on the staff stock screen.
    #[serde(default)]
    pub shops: Vec<Shop>,
    /// What store ops set in the console for the chain, the kiosk's shop and the kiosk
    /// itself, merged (the kiosk's over the shop's over the chain's).
    #[serde(default)]
    pub remote: RemoteSettings,
    /// The chain's brand: the name, logo, colours and words kiosks show.
    #[serde(default)]
    pub brand: brand::Brand,
}

/// Settings store ops change in the console; each absent one keeps the kiosk's own
/// (`kiosk.toml`) or built-in value. Kiosks apply them at their next pull, without a
/// restart. Unknown fields are ignored here (kiosks receive this): a newer hub's setting
/// must not stop an older kiosk's pull.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct RemoteSettings {
    /// Grows with every change that reaches this kiosk; 0 when nothing was ever set. The
    /// kiosk reports the version it applies in its heartbeat.
    pub version: i64,
    /// Seconds without a tap before "Are you still there?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_seconds: Option<u32>,
    /// Seconds the warning counts down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_seconds: Option<u32>,
    /// A visit ends after this long, whatever happens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_max_minutes: Option<u32>,
    /// The language a visit starts in (`fr` or `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Products (ids or SKUs) shown first on the attract and home screens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub featured: Vec<String>,
    /// A line the attract screen shows (the current campaign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Whether shoppers may sign in with their phone (when the web store allows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_sign_in: Option<bool>,
    /// The shop's search synonym rules (`fr: gilet = cardigan`), on top of the built-in ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// A shop of the chain, as the hub's `[[shop]]` config describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Shop {
    /// The store code the local inventory feed uses.
    pub code: String,
    pub name: String,
    /// Where it is (WGS 84 degrees), to list other shops nearest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

// ---- staff ---------------------------------------------------------------------------

/// Most staff events in one push, and most SKUs in one live stock question.
pub const MAX_STAFF_EVENTS: usize = 500;
pub const MAX_STOCK_SKUS: usize = 200;

/// A sales assistant of the kiosk's shop, with the Argon2id hash of their PIN (a PHC
/// string) for the kiosk to check PINs offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub pin_hash: String,
}

/// `GET /v1/kiosk/staff`: the assistants of the kiosk's own shop, and no other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct StaffList {
    pub store_code: String,
    pub staff: Vec<StaffMember>,
}

/// What happened at a kiosk's staff keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffEventKind {
    /// The right PIN: staff mode opened.
    Login,
    /// A wrong PIN.
    Failure,
    /// Too many wrong PINs: the keypad locked until `locked_until`.
    Lockout,
}

impl StaffEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffEventKind::Login => "login",
            StaffEventKind::Failure => "failure",
            StaffEventKind::Lockout => "lockout",
        }
    }

    pub fn parse(text: &str) -> Option<StaffEventKind> {
        [StaffEventKind::Login, StaffEventKind::Failure, StaffEventKind::Lockout]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One audit event of a kiosk's staff keypad. `id` (random, per event) makes a resend
/// harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffEvent {
    pub id: String,
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub at: jiff::Timestamp,
    pub kind: StaffEventKind,
    /// The assistant whose name was chosen on the keypad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub locked_until: Option<jiff::Timestamp>,
}

/// `POST /v1/kiosk/staff/events`: at most [`MAX_STAFF_EVENTS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffEvents {
    pub events: Vec<StaffEvent>,
}

/// The answer to [`StaffEvents`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct StaffEventsAck {
    /// Events the hub did not have yet (a resend counts 0).
    pub stored: usize,
}

/// `POST /v1/kiosk/stock`: the live stock of some SKUs in every shop (a read; a body
/// because SKUs may hold any printable character).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// At most [`MAX_STOCK_SKUS`].
    pub skus: Vec<String>,
}

/// One SKU's stock in one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ShopLevel {
    pub store_code: String,
    pub sku: String,
    /// Absent when the feed gives only an availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// The feed's availability, e.g. `in_stock`, `out_of_stock`.
    pub availability: String,
}

/// The answer to a [`StockQuery`]: every shop that lists the SKUs, as of the hub's last
/// inventory import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct StockAnswer {
    /// When the hub last read the inventory feed: the figures were true then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub as_of: Option<jiff::Timestamp>,
    pub levels: Vec<ShopLevel>,
}

// ---- catalog -------------------------------------------------------------------------

/// One change of the catalog since a cursor: the new state of a row, or its removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogChange {
    Variant {
        lang: String,
        #[cfg_attr(feature = "hub", schema(value_type = Object))]
        variant: Box<Variant>,
    },
    VariantRemoved {
        lang: String,
        sku: String,
    },
    Stock {
        #[cfg_attr(feature = "hub", schema(value_type = Object))]
        stock: StockLevel,
    },
    StockRemoved {
        store_code: String,
        sku: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct CatalogPage {
    pub changes: Vec<CatalogChange>,
    pub next_cursor: String,
    pub has_more: bool,
    /// When the hub last read the inventory feed: the age of the stock figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub inventory_as_of: Option<jiff::Timestamp>,
}

/// A feed file's bytes as an upload's body: a binary string to OpenAPI, so client
/// generators send a file.
#[cfg(feature = "hub")]
pub struct FeedFile;

#[cfg(feature = "hub")]
impl utoipa::PartialSchema for FeedFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

#[cfg(feature = "hub")]
impl utoipa::ToSchema for FeedFile {}

/// What one uploaded feed did, as `vitrine catalog import` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct ImportSummary {
    pub feed: String,
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// How many items were left out, and the first thousand, each with its position and why.
    #[serde(default)]
    pub rejected_count: usize,
    pub rejected: Vec<String>,
    /// How many things were dropped, repaired or read differently so items could land
    /// (a GTIN with a wrong check digit, a stray `&`, a price read in the configured
    /// currency), and the first thousand.
    #[serde(default)]
    pub warning_count: usize,
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} imported={} updated={} unchanged={} removed={} rejected={} warnings={}",
            self.feed,
            self.imported,
            self.updated,
            self.unchanged,
            self.removed,
            self.rejected_count.max(self.rejected.len()),
            self.warning_count.max(self.warnings.len())
        )
    }
}

/// Checks a reference (customer, visit, stream, SKU): not empty, not too long, printable.
pub fn valid_ref(text: &str) -> bool {
    !text.is_empty() && text.chars().count() <= MAX_REF_CHARS && !text.chars().any(char::is_control)
}

/// A fresh random id, 128 bits in hex: stream ids, visit ids, staff event ids.
pub fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::EnrollLink;

    #[test]
    fn an_enrollment_link_round_trips_and_refuses_what_is_not_one() {
        let link = EnrollLink {
            code: "ABCD-EFGH-JKMN".into(),
            hub_url: "http://192.168.1.10:8080".into(),
        };
        assert_eq!(EnrollLink::parse(&link.text()), Some(link));
        for bad in [
            "ABCD-EFGH-JKMN",
            "VITRINE-ENROLL:ABCD@ftp://hub",
            "VITRINE-ENROLL:@http://hub",
            "VITRINE-ENROLL:AB CD@http://hub",
            "VITRINE-ENROLL:ABCD@not a url",
            "VITRINE-ENROLL:ABCD@https://hub.chain.com@evil.example",
            "VITRINE-ENROLL:ABCD@https://evil.example/hub.chain.com",
            "VITRINE-ENROLL:ABCD@https://evil.example?hub.chain.com",
            "VITRINE-ENROLL:ABCD@https://evil.example#hub.chain.com",
            "VITRINE-ENROLL:ABCD@file:///etc/passwd",
        ] {
            assert_eq!(EnrollLink::parse(bad), None, "{bad}");
        }
    }
}
