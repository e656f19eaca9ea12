//! What the hub tells a kiosk about customers, as it said last: the customer-token keys
//! it trusts (`src/db/kiosk_v2.sql`) and the web store's pages it links to
//! (`kiosk_v3.sql`) with the chain's shops (`kiosk_v4.sql`). The sync driver refreshes
//! both with each catalog pull; the kiosk
//! checks tokens against the keys offline, so a key rotation needs no redeploy. The
//! tokens the kiosk accepted are kept too (by hash, until they expire), so a restart
//! does not make a used code good again.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::protocol::{KioskSettings, Shop, TokenKeys};
use crate::token::TrustedKey;

/// A key tokens may be checked with, or why not: it must be an Ed25519 point, and not
/// one of small order, for which signatures can be forged without a secret (the hub
/// refuses to register such keys; a kiosk does not count on it).
fn trustworthy(bytes: &[u8; 32]) -> Result<VerifyingKey, &'static str> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| "not an Ed25519 key")?;
    if key.is_weak() {
        return Err("a weak Ed25519 key (a point of small order)");
    }
    Ok(key)
}

/// Replaces the trusted keys with the hub's list. Keys that are not valid Ed25519 keys,
/// or are weak ones, are left out (and logged); the rest still count.
pub fn save(conn: &mut Connection, published: &TokenKeys, now: Timestamp) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM token_key", [])?;
    for key in &published.keys {
        let bytes = URL_SAFE_NO_PAD
            .decode(&key.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or("not an Ed25519 key")
            .and_then(|bytes| trustworthy(&bytes).map(|_| bytes));
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                tracing::warn!(key_id = key.key_id, why, "the hub published a key the kiosk leaves out");
                continue;
            }
        };
        tx.execute(
            "INSERT INTO token_key (key_id, public_key, not_before, not_after) VALUES (?1, ?2, ?3, ?4)",
            params![key.key_id, bytes, key.not_before.as_second(), key.not_after.as_second()],
        )?;
    }
    tx.execute(
        "INSERT INTO token_trust (id, audience, fetched_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET audience = excluded.audience, fetched_at = excluded.fetched_at",
        params![published.audience, now.as_millisecond()],
    )?;
    tx.commit()
}

/// The audience and keys to check tokens with; `None` before the first fetch.
pub fn load(conn: &Connection) -> rusqlite::Result<Option<(String, HashMap<u16, TrustedKey>)>> {
    let Some(audience) = conn
        .query_row("SELECT audience FROM token_trust WHERE id = 1", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached("SELECT key_id, public_key, not_before, not_after FROM token_key")?;
    let keys = stmt
        .query_map([], |r| {
            let bytes: [u8; 32] = r.get(1)?;
            let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
            Ok((r.get::<_, u16>(0)?, bytes, at(r.get(2)?), at(r.get(3)?)))
        })?
        .filter_map(|row| match row {
            Ok((id, bytes, not_before, not_after)) => match trustworthy(&bytes) {
                Ok(key) => Some(Ok((
                    id,
                    TrustedKey {
                        key,
                        not_before,
                        not_after,
                    },
                ))),
                // Saved before kiosks checked for weak keys: never checked against.
                Err(why) => {
                    tracing::warn!(key_id = id, why, "a saved token key is left out");
                    None
                }
            },
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(Some((audience, keys)))
}

/// Replaces the web store's pages, the chain's shops and the remote settings with the hub's.
pub fn save_settings(conn: &mut Connection, settings: &KioskSettings, now: Timestamp) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO hub_settings (id, list_url, pairing, fetched_at, remote, brand) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET list_url = excluded.list_url, pairing = excluded.pairing,
             fetched_at = excluded.fetched_at, remote = excluded.remote, brand = excluded.brand",
        params![
            settings.list_url,
            settings.pairing,
            now.as_millisecond(),
            serde_json::to_string(&settings.remote).unwrap_or_default(),
            serde_json::to_string(&settings.brand).unwrap_or_default()
        ],
    )?;
    tx.execute("DELETE FROM shop", [])?;
    for shop in &settings.shops {
        tx.execute(
            "INSERT OR REPLACE INTO shop (code, name, latitude, longitude) VALUES (?1, ?2, ?3, ?4)",
            params![shop.code, shop.name, shop.latitude, shop.longitude],
        )?;
    }
    tx.commit()
}

/// The web store's pages and the chain's shops; all absent before the first fetch.
pub fn settings(conn: &Connection) -> rusqlite::Result<KioskSettings> {
    let mut settings = conn
        .query_row(
            "SELECT list_url, pairing, remote, brand FROM hub_settings WHERE id = 1",
            [],
            |r| {
                let remote: Option<String> = r.get(2)?;
                let brand: Option<String> = r.get(3)?;
                Ok(KioskSettings {
                    list_url: r.get(0)?,
                    pairing: r.get(1)?,
                    shops: Vec::new(),
                    // Unreadable (written by a newer app): the kiosk's own values until the next pull.
                    remote: remote.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
                    brand: brand.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
                })
            },
        )
        .optional()?
        .unwrap_or_default();
    let mut stmt = conn.prepare_cached("SELECT code, name, latitude, longitude FROM shop ORDER BY name")?;
    settings.shops = stmt
        .query_map([], |r| {
            Ok(Shop {
                code: r.get(0)?,
                name: r.get(1)?,
                latitude: r.get(2)?,
                longitude: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(settings)
}

/// The brand's logo the kiosk keeps, if it is the one with this digest.
pub fn brand_logo(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT bytes FROM brand_logo WHERE id = 1 AND sha256 = ?1",
        [sha256],
        |r| r.get(0),
    )
    .optional()
}

/// Keeps the brand's logo (only the latest: a kiosk shows one brand).
pub fn save_brand_logo(conn: &Connection, sha256: &str, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO brand_logo (id, sha256, bytes) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes",
        params![sha256, bytes],
    )?;
    Ok(())
}

/// Whether the kiosk keeps the brand's font with this digest.
pub fn has_brand_font(conn: &Connection, sha256: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT 1 FROM brand_font WHERE sha256 = ?1", [sha256], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// The brand's font with this digest, if the kiosk keeps it.
pub fn brand_font(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT bytes FROM brand_font WHERE sha256 = ?1", [sha256], |r| r.get(0))
        .optional()
}

pub fn save_brand_font(conn: &Connection, sha256: &str, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO brand_font (sha256, bytes) VALUES (?1, ?2)",
        params![sha256, bytes],
    )?;
    Ok(())
}

/// Forgets the fonts the brand no longer names.
pub fn keep_brand_fonts(conn: &Connection, named: &[String]) -> rusqlite::Result<()> {
    // At most two are named: the titles' and the text's.
    let [a, b] = [named.first(), named.get(1)].map(|s| s.map_or("", String::as_str));
    conn.execute("DELETE FROM brand_font WHERE sha256 NOT IN (?1, ?2)", [a, b])?;
    Ok(())
}

/// Keeps the verifier's replay cache: replaces what was kept with `entries`.
pub fn save_seen(conn: &mut Connection, entries: &[([u8; 32], Timestamp)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM token_seen", [])?;
    for (hash, expires_at) in entries {
        tx.execute(
            "INSERT INTO token_seen (hash, expires_at) VALUES (?1, ?2)",
            params![hash, expires_at.as_second()],
        )?;
    }
    tx.commit()
}

/// The replay cache kept, without what expired before `now`.
pub fn load_seen(conn: &Connection, now: Timestamp) -> rusqlite::Result<Vec<([u8; 32], Timestamp)>> {
    let mut stmt = conn.prepare_cached("SELECT hash, expires_at FROM token_seen WHERE expires_at >= ?1")?;
    stmt.query_map([now.as_second()], |r| {
        let at = Timestamp::from_second(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH);
        Ok((r.get::<_, [u8; 32]>(0)?, at))
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::protocol::TokenKey;

    /// The identity point: a valid Ed25519 key of small order.
    const IDENTITY: [u8; 32] = {
        let mut bytes = [0; 32];
        bytes[0] = 1;
        bytes
    };

    fn kiosk_db(dir: &tempfile::TempDir) -> Connection {
        crate::db::open(&dir.path().join("kiosk.sqlite"), crate::db::Schema::Kiosk).unwrap()
    }

    fn published(key_id: u16, bytes: [u8; 32]) -> TokenKey {
        TokenKey {
            key_id,
            public_key: URL_SAFE_NO_PAD.encode(bytes),
            not_before: Timestamp::UNIX_EPOCH,
            not_after: Timestamp::from_second(4_102_444_800).unwrap(),
        }
    }

    #[test]
    fn weak_keys_the_hub_publishes_are_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = kiosk_db(&dir);
        let strong = SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes();
        let keys = TokenKeys {
            audience: "vitrine".into(),
            keys: vec![published(1, strong), published(2, IDENTITY)],
        };
        save(&mut conn, &keys, Timestamp::now()).unwrap();
        let saved: Vec<u16> = conn
            .prepare("SELECT key_id FROM token_key ORDER BY key_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(saved, [1]);
        let (_, trusted) = load(&conn).unwrap().unwrap();
        assert_eq!(trusted.keys().copied().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn weak_keys_saved_before_are_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = kiosk_db(&dir);
        let keys = TokenKeys {
            audience: "vitrine".into(),
            keys: Vec::new(),
        };
        save(&mut conn, &keys, Timestamp::now()).unwrap();
        conn.execute(
            "INSERT INTO token_key (key_id, public_key, not_before, not_after) VALUES (3, ?1, 0, 4102444800)",
            [IDENTITY],
        )
        .unwrap();
        let (_, trusted) = load(&conn).unwrap().unwrap();
        assert!(trusted.is_empty());
    }
}
