//! Who the shopper is, on the hub's side: the keys that sign customer tokens, the
//! aliases tokens name customers by, and the visits customers signed in to at a kiosk
//! (`src/db/hub_v3.sql`).
//!
//! The hub keeps one signing key of its own at a time; `rotate` starts the next one a
//! little ahead, so that every kiosk has fetched it before the first token it signs is
//! shown. A web store may register its own public keys instead. Kiosks fetch the list of
//! keys (`published`) with their catalog and check tokens offline.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use jiff::{SignedDuration, Timestamp};

use super::store;
use crate::db::{self, Sql, params};
use crate::protocol::{MintResponse, TokenKey, Visit};
use crate::token::{self, Alias};

/// The hub's own key has no end until the next rotation.
const OPEN_END: i64 = 4_102_444_800; // 2100-01-01
/// Keys whose window closed longer ago than the longest token lifetime verify nothing.
const KEPT_AFTER_WINDOW: SignedDuration = SignedDuration::from_mins(token::MAX_LIFETIME_MINUTES as i64 + 2);
/// The longest window a web store's own key may have.
pub const MAX_KEY_YEARS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("public_key must be 32 bytes of a valid Ed25519 key, base64url without padding")]
    PublicKey,
    #[error(
        "public_key is a weak Ed25519 key (a point of small order): a signature that verifies under it \
         can be made without any secret, so anyone could sign in as any customer; generate the key pair \
         with an Ed25519 library"
    )]
    Weak,
    #[error("not_after must be after not_before, at most {MAX_KEY_YEARS} years later, and in the future")]
    Window,
    #[error("every key id is in use")]
    Exhausted,
}

impl KeyError {
    /// The `Problem` code the API answers with. A weak key has its own: the web store sent
    /// a well-formed key that no one may sign with, a bug in how it made the key.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Weak => "weak_key",
            KeyError::PublicKey | KeyError::Window | KeyError::Exhausted => "invalid_key",
        }
    }
}

/// The 32 bytes of a web store's public key, if kiosks may trust it: a valid Ed25519
/// point, and not one of small order (kiosks that verify without the strict check would
/// accept signatures forged for it).
fn public_key_bytes(public_key: &str) -> Result<[u8; 32], KeyError> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(KeyError::PublicKey)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::PublicKey)?;
    if key.is_weak() {
        return Err(KeyError::Weak);
    }
    Ok(bytes)
}

fn timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The next free key id, `None` once all 65 535 are used.
fn next_id(conn: &dyn Sql) -> db::Result<Option<u16>> {
    let max: i64 = conn.one("SELECT COALESCE(MAX(id), 0) FROM signing_key", params![])?;
    Ok(u16::try_from(max + 1).ok())
}

fn exhausted() -> db::Error {
    db::Error::value(KeyError::Exhausted)
}

fn insert_hub_key(conn: &dyn Sql, not_before: Timestamp, now: Timestamp) -> db::Result<u16> {
    let secret = SigningKey::from_bytes(&rand::random());
    let id = next_id(conn)?.ok_or_else(exhausted)?;
    conn.execute(
        "INSERT INTO signing_key (id, public_key, secret, not_before, not_after, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            secret.verifying_key().as_bytes(),
            secret.to_bytes(),
            not_before.as_second(),
            OPEN_END,
            now.as_second()
        ],
    )?;
    Ok(id)
}

/// Makes sure the hub has a key of its own to sign with; called when the hub opens.
pub fn ensure_hub_key(conn: &dyn Sql, now: Timestamp) -> db::Result<()> {
    let tx = conn.begin()?;
    db::lock_feed(&*tx, db::LOCK_SIGNING_KEYS)?;
    if hub_key(&*tx, now)?.is_none() {
        insert_hub_key(&*tx, now, now)?;
    }
    tx.commit()
}

/// Starts a new hub key at `now + ahead` and ends the current one there. Tokens signed
/// before stay good until they expire. Returns the new key's id.
pub fn rotate(conn: &dyn Sql, now: Timestamp, ahead: SignedDuration) -> db::Result<u16> {
    let tx = conn.begin()?;
    db::lock_feed(&*tx, db::LOCK_SIGNING_KEYS)?;
    let switch = now + ahead;
    tx.execute(
        "UPDATE signing_key SET not_after = ?1
         WHERE secret IS NOT NULL AND revoked_at IS NULL AND not_after > ?1",
        params![switch.as_second()],
    )?;
    let id = insert_hub_key(&*tx, switch, now)?;
    tx.commit()?;
    Ok(id)
}

/// The hub key to sign with `now`: the newest whose window has begun.
pub fn hub_key(conn: &dyn Sql, now: Timestamp) -> db::Result<Option<(u16, SigningKey)>> {
    conn.query_opt(
        "SELECT id, secret FROM signing_key
         WHERE secret IS NOT NULL AND revoked_at IS NULL AND not_before <= ?1 AND not_after >= ?1
         ORDER BY not_before DESC, id DESC LIMIT 1",
        params![now.as_second()],
        |r| {
            let secret: [u8; 32] = r.get(1)?;
            Ok((r.get::<u16>(0)?, SigningKey::from_bytes(&secret)))
        },
    )
}

/// The keys kiosks should trust now: every key not revoked whose window has not long
/// closed, including those that start later (so kiosks have them in time).
pub fn published(conn: &dyn Sql, now: Timestamp) -> db::Result<Vec<TokenKey>> {
    let oldest = (now - KEPT_AFTER_WINDOW).as_second();
    conn.query_map(
        "SELECT id, public_key, not_before, not_after FROM signing_key
         WHERE revoked_at IS NULL AND not_after >= ?1 ORDER BY id",
        params![oldest],
        |r| {
            let public: Vec<u8> = r.get(1)?;
            Ok(TokenKey {
                key_id: r.get(0)?,
                public_key: URL_SAFE_NO_PAD.encode(public),
                not_before: timestamp(r.get(2)?),
                not_after: timestamp(r.get(3)?),
            })
        },
    )
}

/// Why the hub signs no token for a customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintRefused {
    #[error("this customer was erased")]
    Erased,
    #[error("the hub has no key valid now")]
    NoKey,
    #[error(transparent)]
    Claims(#[from] token::MintError),
}

/// Signs a token for `customer` with the hub's current key (making their alias on first
/// use); the outer error is the database's.
pub fn mint(
    conn: &dyn Sql,
    customer: &str,
    audience: &str,
    lifetime_minutes: u8,
    now: Timestamp,
) -> db::Result<Result<MintResponse, MintRefused>> {
    let Some(alias) = alias(conn, customer, now)? else {
        return Ok(Err(MintRefused::Erased));
    };
    let Some((key_id, key)) = hub_key(conn, now)? else {
        return Ok(Err(MintRefused::NoKey));
    };
    let claims = token::Claims::new(key_id, alias, audience, now, lifetime_minutes);
    Ok(token::mint(&claims, &key)
        .map(|token| MintResponse {
            token,
            key_id,
            customer_alias: alias.to_string(),
            expires_at: claims.expires_at(),
        })
        .map_err(MintRefused::from))
}

/// Registers a web store's own public key; the outer error is the web store's mistake.
pub fn register(
    conn: &dyn Sql,
    api_key_id: i64,
    public_key: &str,
    not_before: Option<Timestamp>,
    not_after: Option<Timestamp>,
    now: Timestamp,
) -> db::Result<Result<TokenKey, KeyError>> {
    let bytes = match public_key_bytes(public_key) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(e)),
    };
    // Whole seconds, as stored and published.
    let not_before = timestamp(not_before.unwrap_or(now).as_second());
    let not_after = timestamp(
        not_after
            .unwrap_or(not_before + SignedDuration::from_hours(24 * 365))
            .as_second(),
    );
    let longest = SignedDuration::from_hours(24 * 366 * MAX_KEY_YEARS);
    if not_after <= not_before || not_after <= now || not_after - longest > not_before {
        return Ok(Err(KeyError::Window));
    }
    let tx = conn.begin()?;
    db::lock_feed(&*tx, db::LOCK_SIGNING_KEYS)?;
    let Some(id) = next_id(&*tx)? else {
        return Ok(Err(KeyError::Exhausted));
    };
    tx.execute(
        "INSERT INTO signing_key (id, public_key, api_key_id, not_before, not_after, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            bytes,
            api_key_id,
            not_before.as_second(),
            not_after.as_second(),
            now.as_second()
        ],
    )?;
    tx.commit()?;
    Ok(Ok(TokenKey {
        key_id: id,
        public_key: public_key.to_owned(),
        not_before,
        not_after,
    }))
}

/// Revokes a key the web store registered: kiosks drop it at their next fetch. Whether
/// there was such a key.
pub fn revoke(conn: &dyn Sql, api_key_id: i64, key_id: u16, now: Timestamp) -> db::Result<bool> {
    Ok(conn.execute(
        "UPDATE signing_key SET revoked_at = ?1 WHERE id = ?2 AND api_key_id = ?3 AND revoked_at IS NULL",
        params![now.as_second(), key_id, api_key_id],
    )? > 0)
}

/// The alias of a customer, made on first use. `None` if the customer was erased.
/// [`alias_for`] in a transaction of its own, under the lock an erasure takes: on
/// PostgreSQL another hub's erasure cannot slip between the check and the new alias,
/// and two hubs cannot make two aliases for one customer.
pub fn alias(conn: &dyn Sql, customer: &str, now: Timestamp) -> db::Result<Option<Alias>> {
    let tx = conn.begin()?;
    db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST)?;
    let alias = alias_for(&*tx, customer, now)?;
    tx.commit()?;
    Ok(alias)
}

pub fn alias_for(conn: &dyn Sql, customer: &str, now: Timestamp) -> db::Result<Option<Alias>> {
    if store::is_erased(conn, customer)? {
        return Ok(None);
    }
    let known: Option<String> = conn.query_opt(
        "SELECT alias FROM customer_alias WHERE customer = ?1",
        params![customer],
        |r| r.get(0),
    )?;
    if let Some(alias) = known.as_deref().and_then(Alias::parse) {
        return Ok(Some(alias));
    }
    let alias = Alias::random();
    conn.execute(
        "INSERT INTO customer_alias (alias, customer, created_at) VALUES (?1, ?2, ?3)",
        params![alias.to_string(), customer, now.as_second()],
    )?;
    Ok(Some(alias))
}

/// The web store's reference for an alias a kiosk sent.
pub fn customer_of(conn: &dyn Sql, alias: &str) -> db::Result<Option<String>> {
    conn.query_opt(
        "SELECT customer FROM customer_alias WHERE alias = ?1",
        params![alias],
        |r| r.get(0),
    )
}

/// Visits after position `after`, the last one's position, and whether more follow.
pub fn visits_page(conn: &dyn Sql, after: i64, limit: usize) -> db::Result<(Vec<Visit>, i64, bool)> {
    let mut rows: Vec<(i64, Visit)> = conn.query_map(
        "SELECT id, session, customer, store_code, device_id, signed_in_at FROM visit
         WHERE id > ?1 ORDER BY id LIMIT ?2",
        params![after, limit as i64 + 1],
        |r| {
            Ok((
                r.get(0)?,
                Visit {
                    session: r.get(1)?,
                    customer: r.get(2)?,
                    store_code: r.get(3)?,
                    device_id: r.get(4)?,
                    signed_in_at: Timestamp::from_millisecond(r.get(5)?).unwrap_or(Timestamp::UNIX_EPOCH),
                },
            ))
        },
    )?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map_or(after, |(id, _)| *id);
    Ok((rows.into_iter().map(|(_, v)| v).collect(), last, has_more))
}

/// Forgets a customer's alias and visits (part of erasing them).
pub fn forget(conn: &dyn Sql, customer: &str) -> db::Result<()> {
    conn.execute("DELETE FROM customer_alias WHERE customer = ?1", params![customer])?;
    conn.execute("DELETE FROM visit WHERE customer = ?1", params![customer])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight points of small order, as compressed Ed25519 keys: the identity, the
    /// point of order 2, two of order 4 and four of order 8.
    const SMALL_ORDER: [[u8; 32]; 8] = [
        [
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
        [
            236, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
            255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 127,
        ],
        [0; 32],
        [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128,
        ],
        [
            38, 232, 149, 143, 194, 178, 39, 176, 69, 195, 244, 137, 242, 239, 152, 240, 213, 223, 172, 5, 211, 198,
            51, 57, 177, 56, 2, 136, 109, 83, 252, 5,
        ],
        [
            38, 232, 149, 143, 194, 178, 39, 176, 69, 195, 244, 137, 242, 239, 152, 240, 213, 223, 172, 5, 211, 198,
            51, 57, 177, 56, 2, 136, 109, 83, 252, 133,
        ],
        [
            199, 23, 106, 112, 61, 77, 216, 79, 186, 60, 11, 118, 13, 16, 103, 15, 42, 32, 83, 250, 44, 57, 204, 198,
            78, 199, 253, 119, 146, 172, 3, 122,
        ],
        [
            199, 23, 106, 112, 61, 77, 216, 79, 186, 60, 11, 118, 13, 16, 103, 15, 42, 32, 83, 250, 44, 57, 204, 198,
            78, 199, 253, 119, 146, 172, 3, 250,
        ],
    ];

    #[test]
    fn small_order_points_are_valid_keys_that_are_weak() {
        for bytes in SMALL_ORDER {
            let key = VerifyingKey::from_bytes(&bytes).expect("a point on the curve");
            assert!(key.is_weak(), "{bytes:?}");
        }
        assert!(!SigningKey::from_bytes(&[7; 32]).verifying_key().is_weak());
    }

    #[test]
    fn weak_keys_are_refused_with_their_own_code() {
        for bytes in SMALL_ORDER {
            let refused = public_key_bytes(&URL_SAFE_NO_PAD.encode(bytes));
            assert_eq!(refused, Err(KeyError::Weak), "{bytes:?}");
        }
        assert_eq!(KeyError::Weak.code(), "weak_key");
        assert!(KeyError::Weak.to_string().contains("small order"));
        assert_eq!(KeyError::PublicKey.code(), "invalid_key");
        let strong = SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes();
        assert_eq!(public_key_bytes(&URL_SAFE_NO_PAD.encode(strong)), Ok(strong));
        assert_eq!(public_key_bytes("AAAA"), Err(KeyError::PublicKey));
    }

    #[test]
    fn a_weak_key_is_not_registered() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let identity = URL_SAFE_NO_PAD.encode(SMALL_ORDER[0]);
        assert_eq!(
            register(&conn, 1, &identity, None, None, now).unwrap(),
            Err(KeyError::Weak)
        );
        assert!(published(&conn, now).unwrap().is_empty());
    }
}
