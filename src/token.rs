//! Customer QR tokens: who the shopper is, signed so that a kiosk can believe it offline.
//!
//! A token is 202 decimal digits: `01` (the format) and then 83 bytes written as one
//! big-endian number, zero-padded to 200 digits. Digits put the QR code in numeric mode,
//! the densest there is: 202 digits is exactly what a version 5 code holds at error
//! correction M, the size a phone held at arm's length still reads. `ARCHITECTURE.md`
//! says why not PASETO or COSE with base45 (neither fits). The 83 bytes, big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 2 | key id |
//! | 4 | issued at, unix seconds |
//! | 1 | lifetime, minutes (1–60) |
//! | 2 | audience: the first two bytes of its SHA-256 |
//! | 2 | nonce, random: with the rest, it makes each token unique |
//! | 8 | customer: the hub's alias for the web store's customer reference |
//! | 64 | Ed25519 signature of `01` and the 19 bytes above |
//!
//! The customer is an alias because a web store's own reference (often a UUID) would not
//! fit beside a signature: the hub maps one to the other, so the kiosk only ever holds
//! the alias. [`Verifier::verify`] takes `now` as input and does no I/O.

use std::collections::HashMap;
use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jiff::{SignedDuration, Timestamp};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

/// The first two digits of every token of this format.
pub const FORMAT: &str = "01";
/// Digits in a token, format included.
pub const DIGITS: usize = 202;
/// The longest lifetime a token may claim.
pub const MAX_LIFETIME_MINUTES: u8 = 60;
/// How far the kiosk's clock may be from the issuer's.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(90);
const CLAIMS: usize = 19;
const BYTES: usize = CLAIMS + 64;
/// Digit strings longer than this are meant as tokens, not product numbers (a GTIN has 14).
const LONGEST_PRODUCT_NUMBER: usize = 14;

/// The hub's alias for a customer: 8 random bytes, written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Alias(pub u64);

impl Alias {
    pub fn random() -> Alias {
        Alias(rand::random())
    }

    /// Exactly 16 lowercase hex digits, as [`Alias`]'s `Display` writes them.
    pub fn parse(text: &str) -> Option<Alias> {
        let hex = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| u64::from_str_radix(text, 16).ok().map(Alias)).flatten()
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub key_id: u16,
    pub customer: Alias,
    pub issued_at: Timestamp,
    pub lifetime_minutes: u8,
    /// Who the token is for: a kiosk of this brand. Only a hash of it is in the token.
    pub audience: String,
    pub nonce: u16,
}

impl Claims {
    /// Claims for `customer`, issued `now`, with a fresh random nonce.
    pub fn new(key_id: u16, customer: Alias, audience: &str, now: Timestamp, lifetime_minutes: u8) -> Claims {
        Claims {
            key_id,
            customer,
            issued_at: now,
            lifetime_minutes,
            audience: audience.to_owned(),
            nonce: rand::random(),
        }
    }

    pub fn expires_at(&self) -> Timestamp {
        self.issued_at + SignedDuration::from_mins(i64::from(self.lifetime_minutes))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    #[error("a token lives 1 to {MAX_LIFETIME_MINUTES} minutes")]
    Lifetime,
    #[error("the issue time does not fit a token (1970 to 2106)")]
    IssuedAt,
}

/// Why a token was refused. The kiosk shows each its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("not a customer code")]
    NotAToken,
    #[error("the code is damaged or incomplete")]
    Malformed,
    #[error("signed with a key this kiosk does not trust")]
    UnknownKey,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the code has expired")]
    Expired,
    #[error("the code is not valid yet")]
    NotYetValid,
    #[error("the code is for another brand's kiosks")]
    WrongAudience,
    #[error("the code was already used")]
    Replayed,
}

fn audience_tag(audience: &str) -> [u8; 2] {
    let digest = Sha256::digest(audience.as_bytes());
    [digest[0], digest[1]]
}

fn signed_message(claims: &[u8]) -> Vec<u8> {
    [FORMAT.as_bytes(), claims].concat()
}

/// Signs `claims` into the digits a QR code carries.
pub fn mint(claims: &Claims, key: &SigningKey) -> Result<String, MintError> {
    if !(1..=MAX_LIFETIME_MINUTES).contains(&claims.lifetime_minutes) {
        return Err(MintError::Lifetime);
    }
    let issued = u32::try_from(claims.issued_at.as_second()).map_err(|_| MintError::IssuedAt)?;
    let mut bytes = Vec::with_capacity(BYTES);
    bytes.extend_from_slice(&claims.key_id.to_be_bytes());
    bytes.extend_from_slice(&issued.to_be_bytes());
    bytes.push(claims.lifetime_minutes);
    bytes.extend_from_slice(&audience_tag(&claims.audience));
    bytes.extend_from_slice(&claims.nonce.to_be_bytes());
    bytes.extend_from_slice(&claims.customer.0.to_be_bytes());
    let signature = key.sign(&signed_message(&bytes));
    bytes.extend_from_slice(&signature.to_bytes());
    let number = BigUint::from_bytes_be(&bytes).to_str_radix(10);
    Ok(format!("{FORMAT}{number:0>width$}", width = DIGITS - FORMAT.len()))
}

/// The 83 bytes of a token's text, or why it is not one.
fn token_bytes(text: &str) -> Result<[u8; BYTES], Rejection> {
    if text.len() <= LONGEST_PRODUCT_NUMBER || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::NotAToken);
    }
    let digits = match text.strip_prefix(FORMAT) {
        Some(digits) if text.len() == DIGITS => digits,
        _ => return Err(Rejection::Malformed),
    };
    let number = BigUint::parse_bytes(digits.as_bytes(), 10).ok_or(Rejection::Malformed)?;
    let packed = number.to_bytes_be();
    let mut bytes = [0; BYTES];
    let start = BYTES.checked_sub(packed.len()).ok_or(Rejection::Malformed)?;
    bytes[start..].copy_from_slice(&packed);
    Ok(bytes)
}

/// A public key the kiosk trusts, and the window in which tokens it signs may be issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: VerifyingKey,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// Checks tokens offline: format, key, signature, dates, audience, and that each token is
/// used once.
pub struct Verifier {
    audience: String,
    keys: HashMap<u16, TrustedKey>,
    /// A hash of each token accepted (not the token: it names the customer), until it
    /// expires.
    seen: HashMap<[u8; 32], Timestamp>,
}

impl Verifier {
    pub fn new(audience: &str, keys: HashMap<u16, TrustedKey>) -> Verifier {
        Verifier {
            audience: audience.to_owned(),
            keys,
            seen: HashMap::new(),
        }
    }

    /// Takes the keys and audience the hub published last; the replay cache stays.
    pub fn update(&mut self, audience: &str, keys: HashMap<u16, TrustedKey>) {
        audience.clone_into(&mut self.audience);
        self.keys = keys;
    }

    /// What the replay cache holds (a hash of each token accepted, and when it expires),
    /// to keep it across a restart.
    pub fn replay_cache(&self) -> Vec<([u8; 32], Timestamp)> {
        self.seen.iter().map(|(hash, until)| (*hash, *until)).collect()
    }

    /// Takes back what [`Verifier::replay_cache`] gave: those tokens stay refused.
    pub fn restore(&mut self, entries: impl IntoIterator<Item = ([u8; 32], Timestamp)>) {
        self.seen.extend(entries);
    }

    /// The claims of a token that is good `now`. Each token is accepted once.
    pub fn verify(&mut self, text: &str, now: Timestamp) -> Result<Claims, Rejection> {
        let claims = self.check(text, now)?;
        self.seen.retain(|_, until| *until + CLOCK_SKEW >= now);
        if self.seen.insert(seen_hash(text), claims.expires_at()).is_some() {
            return Err(Rejection::Replayed);
        }
        Ok(claims)
    }

    /// The claims of a token that is (or was) good at `at`, without the replay cache:
    /// the hub checks a sign-in's token at the time the kiosk read it, and keeps its own
    /// record of tokens used.
    pub fn check(&self, text: &str, at: Timestamp) -> Result<Claims, Rejection> {
        let now = at;
        let bytes = token_bytes(text)?;
        let (signed, signature) = bytes.split_at(CLAIMS);
        let field = |at: usize, n: usize| &signed[at..at + n];
        let key_id = u16::from_be_bytes([signed[0], signed[1]]);
        let issued = u32::from_be_bytes(field(2, 4).try_into().map_err(|_| Rejection::Malformed)?);
        let lifetime_minutes = signed[6];
        let trusted = self.keys.get(&key_id).ok_or(Rejection::UnknownKey)?;
        let signature = Signature::from_slice(signature).map_err(|_| Rejection::Malformed)?;
        // Strict: a weak (small-order) key or a non-canonical signature verifies nothing.
        trusted
            .key
            .verify_strict(&signed_message(signed), &signature)
            .map_err(|_| Rejection::BadSignature)?;
        // Signed, so the fields below are the issuer's: what is wrong now is their value.
        let issued_at = Timestamp::from_second(i64::from(issued)).map_err(|_| Rejection::Malformed)?;
        if !(1..=MAX_LIFETIME_MINUTES).contains(&lifetime_minutes) {
            return Err(Rejection::Malformed);
        }
        if issued_at < trusted.not_before || issued_at > trusted.not_after {
            return Err(Rejection::UnknownKey);
        }
        if field(7, 2) != audience_tag(&self.audience) {
            return Err(Rejection::WrongAudience);
        }
        let claims = Claims {
            key_id,
            customer: Alias(u64::from_be_bytes(
                field(11, 8).try_into().map_err(|_| Rejection::Malformed)?,
            )),
            issued_at,
            lifetime_minutes,
            audience: self.audience.clone(),
            nonce: u16::from_be_bytes([signed[9], signed[10]]),
        };
        if issued_at > now + CLOCK_SKEW {
            return Err(Rejection::NotYetValid);
        }
        if claims.expires_at() + CLOCK_SKEW < now {
            return Err(Rejection::Expired);
        }
        Ok(claims)
    }
}

/// What the replay cache keeps of a token: a hash of its signed claims (not the token,
/// which names the customer).
pub fn seen_hash(text: &str) -> [u8; 32] {
    match token_bytes(text) {
        Ok(bytes) => Sha256::digest(&bytes[..CLAIMS]).into(),
        Err(_) => Sha256::digest(text.as_bytes()).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIENCE: &str = "maison-lumen";
    const ALICE: Alias = Alias(0x0123_4567_89ab_cdef);

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn verifier() -> Verifier {
        let trusted = TrustedKey {
            key: key(1).verifying_key(),
            not_before: "2026-01-01T00:00:00Z".parse().unwrap(),
            not_after: "2027-01-01T00:00:00Z".parse().unwrap(),
        };
        Verifier::new(AUDIENCE, HashMap::from([(7, trusted)]))
    }

    fn token(issued: Timestamp) -> String {
        mint(&Claims::new(7, ALICE, AUDIENCE, issued, 5), &key(1)).unwrap()
    }

    #[test]
    fn a_token_round_trips_once() {
        let text = token(now());
        assert_eq!(text.len(), DIGITS);
        let mut v = verifier();
        let claims = v.verify(&text, now() + SignedDuration::from_mins(1)).unwrap();
        assert_eq!(
            (claims.customer, claims.audience.as_str(), claims.key_id),
            (ALICE, AUDIENCE, 7)
        );
        assert_eq!(claims.expires_at(), now() + SignedDuration::from_mins(5));
        assert_eq!(v.verify(&text, now()), Err(Rejection::Replayed));
        // Another token for the same customer, the same second, is a different token.
        let again = Claims {
            nonce: claims.nonce.wrapping_add(1),
            ..claims
        };
        assert!(v.verify(&mint(&again, &key(1)).unwrap(), now()).is_ok());
    }

    #[test]
    fn every_kind_of_bad_token_gets_its_reason() {
        let good = token(now());
        let mut v = verifier();
        let mut tampered = good.clone().into_bytes();
        tampered[40] = if tampered[40] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(matches!(
            v.verify(&tampered, now()),
            Err(Rejection::BadSignature | Rejection::UnknownKey)
        ));
        let forged = mint(&Claims::new(7, ALICE, AUDIENCE, now(), 5), &key(2)).unwrap();
        assert_eq!(v.verify(&forged, now()), Err(Rejection::BadSignature));
        let unknown = mint(&Claims::new(8, ALICE, AUDIENCE, now(), 5), &key(1)).unwrap();
        assert_eq!(v.verify(&unknown, now()), Err(Rejection::UnknownKey));
        let later: Timestamp = "2027-06-01T00:00:00Z".parse().unwrap();
        let outside_window = mint(&Claims::new(7, ALICE, AUDIENCE, later, 5), &key(1)).unwrap();
        assert_eq!(v.verify(&outside_window, later), Err(Rejection::UnknownKey));
        assert_eq!(
            v.verify(&good, now() + SignedDuration::from_mins(10)),
            Err(Rejection::Expired)
        );
        assert_eq!(
            v.verify(&good, now() - SignedDuration::from_mins(10)),
            Err(Rejection::NotYetValid)
        );
        let elsewhere = mint(&Claims::new(7, ALICE, "another-brand", now(), 5), &key(1)).unwrap();
        assert_eq!(v.verify(&elsewhere, now()), Err(Rejection::WrongAudience));
        assert_eq!(v.verify(&good[..150], now()), Err(Rejection::Malformed));
        assert_eq!(v.verify(&format!("{good}7"), now()), Err(Rejection::Malformed));
        assert_eq!(v.verify(&"9".repeat(DIGITS), now()), Err(Rejection::Malformed));
        assert_eq!(
            v.verify(&format!("01{}", "9".repeat(200)), now()),
            Err(Rejection::Malformed)
        );
        assert_eq!(v.verify("3614270000012", now()), Err(Rejection::NotAToken));
        assert_eq!(v.verify("https://shop.example/p/1", now()), Err(Rejection::NotAToken));
        // Within the clock skew either way, it is good.
        assert!(v.verify(&good, now() - SignedDuration::from_secs(60)).is_ok());
        let late = token(now());
        assert!(v.verify(&late, now() + SignedDuration::from_secs(5 * 60 + 60)).is_ok());
    }

    #[test]
    fn minting_refuses_what_a_token_cannot_carry() {
        let claims = |minutes, at| Claims::new(7, ALICE, AUDIENCE, at, minutes);
        assert_eq!(mint(&claims(0, now()), &key(1)), Err(MintError::Lifetime));
        assert_eq!(mint(&claims(61, now()), &key(1)), Err(MintError::Lifetime));
        let far = "2200-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(mint(&claims(5, far), &key(1)), Err(MintError::IssuedAt));
    }

    #[test]
    fn aliases_are_sixteen_hex_digits() {
        assert_eq!(ALICE.to_string(), "0123456789abcdef");
        assert_eq!(Alias::parse("0123456789abcdef"), Some(ALICE));
        for bad in ["0123456789ABCDEF", "0123456789abcde", "+123456789abcdef", ""] {
            assert_eq!(Alias::parse(bad), None, "{bad}");
        }
    }

    #[cfg(feature = "hub")]
    #[test]
    fn a_token_is_a_version_5_code_at_level_m() {
        let code = qrcode::QrCode::with_error_correction_level(token(now()), qrcode::EcLevel::M).unwrap();
        assert_eq!(code.version(), qrcode::Version::Normal(5));
    }

    proptest::proptest! {
        #[test]
        fn no_text_makes_the_verifier_panic(text in "\\PC{0,300}", digits in "[0-9]{0,260}") {
            let mut v = verifier();
            proptest::prop_assert!(v.verify(&text, now()).is_err());
            proptest::prop_assert!(v.verify(&digits, now()).is_err());
            let prefixed = format!("{FORMAT}{digits}");
            proptest::prop_assert!(v.verify(&prefixed, now()).is_err());
        }
    }

    #[test]
    fn a_small_order_key_verifies_no_forged_token() {
        // The identity point: under non-strict verification, with the signature (R = the
        // identity, s = 0), it verifies every message.
        let mut identity = [0_u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        assert!(weak.is_weak());
        let trusted = TrustedKey {
            key: weak,
            not_before: "2026-01-01T00:00:00Z".parse().unwrap(),
            not_after: "2027-01-01T00:00:00Z".parse().unwrap(),
        };
        let mut verifier = Verifier::new(AUDIENCE, HashMap::from([(7, trusted)]));
        let genuine = token(now());
        let bytes = token_bytes(&genuine).unwrap();
        let mut forged = bytes;
        forged[CLAIMS..].fill(0);
        forged[CLAIMS] = 1;
        let number = BigUint::from_bytes_be(&forged).to_str_radix(10);
        let forged = format!("{FORMAT}{number:0>width$}", width = DIGITS - FORMAT.len());
        assert_eq!(verifier.verify(&forged, now()), Err(Rejection::BadSignature));
    }

    #[test]
    fn a_restored_replay_cache_still_refuses_used_tokens() {
        let mut verifier = verifier();
        let token = token(now());
        verifier.verify(&token, now()).unwrap();
        let mut restarted = super::tests::verifier();
        restarted.restore(verifier.replay_cache());
        assert_eq!(restarted.verify(&token, now()), Err(Rejection::Replayed));
    }
}
