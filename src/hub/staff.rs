//! Sales assistants and their PINs (`src/db/hub_v4.sql`). A PIN is stored as an
//! Argon2id hash only ([`crate::staff::pin`]), and sent only to the kiosks of the assistant's
//! own shop, which check PINs offline against it.

use jiff::Timestamp;

use crate::db::{self, Sql, params};
use crate::protocol::{StaffEvent, StaffMember};
use crate::staff::pin;

/// Why a PIN or a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("a PIN is 6 to 12 digits")]
    BadPin,
    #[error("a name is 1 to 64 printable characters")]
    BadName,
    #[error("the shop {store} already has an assistant named {name}")]
    Taken { store: String, name: String },
    #[error("the shop {store} has no assistant named {name}")]
    Unknown { store: String, name: String },
}

fn check_name(name: &str) -> Result<(), StaffError> {
    let ok = (1..=64).contains(&name.chars().count()) && !name.chars().any(char::is_control) && name.trim() == name;
    ok.then_some(()).ok_or(StaffError::BadName)
}

/// The Argon2id hash of a PIN, made off the writer: hashing is slow on purpose.
pub fn hash_pin(pin: &str) -> Result<String, StaffError> {
    pin::hash(pin).ok_or(StaffError::BadPin)
}

/// Adds an assistant to a shop.
pub fn add(conn: &dyn Sql, store: &str, name: &str, pin: &str, now: Timestamp) -> db::Result<Result<i64, StaffError>> {
    match hash_pin(pin) {
        Ok(hash) => add_hashed(conn, store, name, &hash, now),
        Err(e) => Ok(Err(e)),
    }
}

/// Adds an assistant whose PIN [`hash_pin`] hashed.
pub fn add_hashed(
    conn: &dyn Sql,
    store: &str,
    name: &str,
    pin_hash: &str,
    now: Timestamp,
) -> db::Result<Result<i64, StaffError>> {
    if let Err(e) = check_name(name) {
        return Ok(Err(e));
    }
    // A name taken inserts nothing, rather than failing: a failed statement would end
    // PostgreSQL's transaction (the audit line written with it).
    let id: Option<i64> = conn.query_opt(
        "INSERT INTO staff (store_code, name, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING RETURNING id",
        params![store, name, pin_hash, now.as_second()],
        |r| r.get(0),
    )?;
    Ok(id.ok_or_else(|| StaffError::Taken {
        store: store.to_owned(),
        name: name.to_owned(),
    }))
}

/// Gives an assistant a new PIN (hashed by [`hash_pin`]): the shop's kiosks take it at
/// their next pull, and the old one stops working there.
pub fn set_pin_hash(conn: &dyn Sql, store: &str, name: &str, pin_hash: &str) -> db::Result<Result<(), StaffError>> {
    let changed = conn.execute(
        "UPDATE staff SET pin_hash = ?3 WHERE store_code = ?1 AND name = ?2 AND removed_at IS NULL",
        params![store, name, pin_hash],
    )?;
    Ok(one_assistant(changed, store, name))
}

/// `Ok` when a change reached the shop's current assistant of that name, else who was
/// not found.
fn one_assistant(changed: u64, store: &str, name: &str) -> Result<(), StaffError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StaffError::Unknown {
            store: store.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// Removes an assistant: their hash stops reaching the shop's kiosks at their next pull.
pub fn remove(conn: &dyn Sql, store: &str, name: &str, now: Timestamp) -> db::Result<Result<(), StaffError>> {
    let changed = conn.execute(
        "UPDATE staff SET removed_at = ?3 WHERE store_code = ?1 AND name = ?2 AND removed_at IS NULL",
        params![store, name, now.as_second()],
    )?;
    Ok(one_assistant(changed, store, name))
}

/// A shop's current assistants with their PIN hashes, by name: what its kiosks get.
pub fn of_store(conn: &dyn Sql, store: &str) -> db::Result<Vec<StaffMember>> {
    conn.query_map(
        "SELECT id, name, pin_hash FROM staff WHERE store_code = ?1 AND removed_at IS NULL ORDER BY name",
        params![store],
        |r| {
            Ok(StaffMember {
                id: r.get(0)?,
                name: r.get(1)?,
                pin_hash: r.get(2)?,
            })
        },
    )
}

/// The id of a shop's current assistant, for their badge.
pub fn id_of(conn: &dyn Sql, store: &str, name: &str) -> db::Result<Result<i64, StaffError>> {
    let id: Option<i64> = conn.query_opt(
        "SELECT id FROM staff WHERE store_code = ?1 AND name = ?2 AND removed_at IS NULL",
        params![store, name],
        |r| r.get(0),
    )?;
    Ok(id.ok_or_else(|| StaffError::Unknown {
        store: store.to_owned(),
        name: name.to_owned(),
    }))
}

/// Every current assistant, for `vitrine hub staff list`: (shop, name, added).
pub fn list(conn: &dyn Sql) -> db::Result<Vec<(String, String, Timestamp)>> {
    conn.query_map(
        "SELECT store_code, name, created_at FROM staff WHERE removed_at IS NULL ORDER BY store_code, name",
        params![],
        |r| {
            let at = Timestamp::from_second(r.get(2)?).unwrap_or(Timestamp::UNIX_EPOCH);
            Ok((r.get(0)?, r.get(1)?, at))
        },
    )
}

/// Stores a kiosk's staff audit events; returns how many were new (a resend is ignored).
pub fn record_events(
    conn: &dyn Sql,
    device_id: i64,
    store: &str,
    events: &[StaffEvent],
    now: Timestamp,
) -> db::Result<usize> {
    let mut stored = 0;
    for e in events {
        let inserted = conn.execute(
            "INSERT INTO staff_event
                 (device_id, event_id, store_code, at, kind, staff_id, locked_until, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT DO NOTHING",
            params![
                device_id,
                e.id,
                store,
                e.at.as_millisecond(),
                e.kind.as_str(),
                e.staff_id,
                e.locked_until.map(|t| t.as_millisecond()),
                now.as_millisecond()
            ],
        )?;
        stored += usize::from(inserted > 0);
    }
    Ok(stored)
}

/// A line of the staff audit log, as `vitrine hub staff log` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: Timestamp,
    pub store_code: String,
    pub device_id: i64,
    pub kind: String,
    /// The assistant's name, when the event names one the hub knows.
    pub name: Option<String>,
    pub locked_until: Option<Timestamp>,
}

/// The latest `limit` audit events, of one shop or all, oldest first.
pub fn log(conn: &dyn Sql, store: Option<&str>, limit: usize) -> db::Result<Vec<LogLine>> {
    let ms = |v: Option<i64>| v.and_then(|v| Timestamp::from_millisecond(v).ok());
    let mut lines = conn.query_map(
        "SELECT e.at, e.store_code, e.device_id, e.kind, s.name, e.locked_until
         FROM staff_event e LEFT JOIN staff s ON s.id = e.staff_id AND s.store_code = e.store_code
         WHERE CAST(?1 AS TEXT) IS NULL OR e.store_code = ?1
         ORDER BY e.at DESC, e.id DESC LIMIT ?2",
        params![store, limit as i64],
        |r| {
            Ok(LogLine {
                at: ms(r.get(0)?).unwrap_or(Timestamp::UNIX_EPOCH),
                store_code: r.get(1)?,
                device_id: r.get(2)?,
                kind: r.get(3)?,
                name: r.get(4)?,
                locked_until: ms(r.get(5)?),
            })
        },
    )?;
    lines.reverse();
    Ok(lines)
}

/// An assistant's badge as an SVG: a QR code (level M, 400 px at the least) that picks
/// their name on their shop's keypads. Not a credential: the PIN is still asked.
pub fn badge_svg(id: i64) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(pin::badge(id), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(400, 400)
        .build())
}
