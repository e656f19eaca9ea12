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

/// Replaces the trusted keys with the hub's list. Keys that are not valid Ed25519 keys
/// are left out (and logged); the rest still count.
pub fn save(conn: &mut Connection, published: &TokenKeys, now: Timestamp) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM token_key", [])?;
    for key in &published.keys {
        let bytes: Option<[u8; 32]> = URL_SAFE_NO_PAD
            .decode(&key.public_key)
            .ok()
            .and_then(|b| b.try_into().ok());
        let Some(bytes) = bytes.filter(|b| VerifyingKey::from_bytes(b).is_ok()) else {
            tracing::warn!(
                key_id = key.key_id,
                "the hub published a key that is not an Ed25519 key"
            );
            continue;
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
            Ok((id, bytes, not_before, not_after)) => VerifyingKey::from_bytes(&bytes).ok().map(|key| {
                Ok((
                    id,
                    TrustedKey {
                        key,
                        not_before,
                        not_after,
                    },
                ))
            }),
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(Some((audience, keys)))
}

/// Replaces the web store's pages and the chain's shops with the hub's.
pub fn save_settings(conn: &mut Connection, settings: &KioskSettings, now: Timestamp) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO hub_settings (id, list_url, pairing, fetched_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET list_url = excluded.list_url, pairing = excluded.pairing,
             fetched_at = excluded.fetched_at",
        params![settings.list_url, settings.pairing, now.as_millisecond()],
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
        .query_row("SELECT list_url, pairing FROM hub_settings WHERE id = 1", [], |r| {
            Ok(KioskSettings {
                list_url: r.get(0)?,
                pairing: r.get(1)?,
                shops: Vec::new(),
            })
        })
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
