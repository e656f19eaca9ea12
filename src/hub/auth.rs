//! Secrets the hub hands out and how it recognises them.
//!
//! Device credentials and web store keys are 256-bit random tokens; the hub stores only
//! their SHA-256 (a slow hash buys nothing for a secret nobody chose). Enrollment codes
//! are short enough to type, single use, and expire. Prefixes tell the two kinds of
//! token apart, so a kiosk credential sent to a web store endpoint gets a precise answer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Prefix of a kiosk's credential.
pub const DEVICE_PREFIX: &str = "vtk_";
/// Prefix of a web store API key.
pub const KEY_PREFIX: &str = "vws_";
/// How long an enrollment code can be used.
pub const ENROLL_CODE_HOURS: i64 = 72;

/// What a web store key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Upload product and inventory feeds.
    CatalogWrite,
    /// Pull wishlist changes and snapshots, read a customer's wishlist.
    WishlistRead,
    /// Push the web store's own wishlist edits.
    WishlistWrite,
    /// Erase a customer.
    CustomersErase,
    /// Mint customer tokens, get customer aliases, register signing keys.
    TokensIssue,
    /// Say whether a customer consented to measurement.
    ConsentWrite,
    /// Post orders, refunds and cancellations.
    OrdersWrite,
    /// Read the figures and how an order is credited.
    ReportsRead,
    /// Register webhook endpoints, read their deliveries, replay.
    WebhooksManage,
    /// Be told of the kiosks' alerts.
    FleetRead,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::CatalogWrite,
        Scope::WishlistRead,
        Scope::WishlistWrite,
        Scope::CustomersErase,
        Scope::TokensIssue,
        Scope::ConsentWrite,
        Scope::OrdersWrite,
        Scope::ReportsRead,
        Scope::WebhooksManage,
        Scope::FleetRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogWrite => "catalog:write",
            Scope::WishlistRead => "wishlist:read",
            Scope::WishlistWrite => "wishlist:write",
            Scope::CustomersErase => "customers:erase",
            Scope::TokensIssue => "tokens:issue",
            Scope::ConsentWrite => "consent:write",
            Scope::OrdersWrite => "orders:write",
            Scope::ReportsRead => "reports:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::FleetRead => "fleet:read",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A new random token with its prefix.
pub fn new_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new enrollment code: 12 characters of Crockford's base32 (no I, L, O, U), in three
/// groups, about 60 bits.
pub fn new_enroll_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// An enrollment code as typed: case, dashes, spaces and look-alike letters forgiven.
pub fn normalise_enroll_code(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_being_typed_sloppily() {
        let code = new_enroll_code();
        assert_eq!(code.len(), 14);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_enroll_code(&typed), normalise_enroll_code(&code));
        assert_eq!(normalise_enroll_code("abcd-efgh-ijkl"), "ABCDEFGH1JK1");
    }

    #[test]
    fn tokens_are_distinct_and_prefixed() {
        let a = new_token(DEVICE_PREFIX);
        let b = new_token(DEVICE_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("vtk_") && a.len() == 4 + 43);
        assert_eq!(hash(&a).len(), 32);
    }
}
