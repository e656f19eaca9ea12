//! Staff mode, kiosk side, in its SQLite file (`src/db/kiosk_v4.sql`): the shop's
//! assistants as the hub sent them last, the keypad's lock, and the audit events kept
//! until the hub has them. A PIN is checked here, offline, against the stored hash.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::pin::{self, Guard};
use crate::db::from_ms as ms;
use crate::protocol::{StaffEvent, StaffEventKind, StaffMember};

/// An assistant as the keypad lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assistant {
    pub id: i64,
    pub name: String,
}

/// What a PIN typed on the keypad opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Welcome(Assistant),
    /// A wrong PIN; `left` more before the keypad locks.
    Wrong {
        left: u32,
    },
    /// Locked until then (by this PIN, or earlier ones: it was not checked).
    Locked {
        until: Timestamp,
    },
    /// The assistant is no longer on the hub's list.
    Unknown,
}

/// Replaces the shop's assistants with the hub's list.
pub fn save_staff(conn: &mut Connection, staff: &[StaffMember]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM staff", [])?;
    for member in staff {
        tx.execute(
            "INSERT OR REPLACE INTO staff (id, name, pin_hash) VALUES (?1, ?2, ?3)",
            params![member.id, member.name, member.pin_hash],
        )?;
    }
    tx.commit()
}

/// The shop's assistants by name.
pub fn assistants(conn: &Connection) -> rusqlite::Result<Vec<Assistant>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM staff ORDER BY name COLLATE NOCASE")?;
    stmt.query_map([], |r| {
        Ok(Assistant {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?
    .collect()
}

/// The keypad's lock as it stands.
pub fn guard(conn: &Connection) -> rusqlite::Result<Guard> {
    Ok(conn
        .query_row("SELECT failures, locked_until FROM staff_guard WHERE id = 1", [], |r| {
            Ok(Guard {
                failures: r.get(0)?,
                locked_until: ms(r.get(1)?),
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// Checks `pin` for the assistant `staff_id` at `now`, unless the keypad is locked;
/// records the outcome in the keypad's lock and the audit events, in one transaction.
pub fn check(conn: &mut Connection, staff_id: i64, pin: &str, now: Timestamp) -> rusqlite::Result<Checked> {
    let mut guard = guard(conn)?;
    if let Some(until) = guard.locked(now) {
        return Ok(Checked::Locked { until });
    }
    let found: Option<(String, String)> = conn
        .query_row("SELECT name, pin_hash FROM staff WHERE id = ?1", [staff_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((name, hash)) = found else {
        return Ok(Checked::Unknown);
    };
    let tx = conn.transaction()?;
    let record = |kind: StaffEventKind, locked_until: Option<Timestamp>| {
        tx.execute(
            "INSERT INTO staff_event (id, at, kind, staff_id, locked_until) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                crate::protocol::new_id(),
                now.as_millisecond(),
                kind.as_str(),
                staff_id,
                locked_until.map(|t| t.as_millisecond())
            ],
        )
    };
    let checked = if pin::matches(pin, &hash) {
        guard.succeeded();
        record(StaffEventKind::Login, None)?;
        Checked::Welcome(Assistant { id: staff_id, name })
    } else {
        let lock = guard.failed(now);
        record(StaffEventKind::Failure, None)?;
        match lock {
            Some(until) => {
                record(StaffEventKind::Lockout, Some(until))?;
                Checked::Locked { until }
            }
            None => Checked::Wrong {
                left: guard.attempts_left(),
            },
        }
    };
    tx.execute(
        "INSERT INTO staff_guard (id, failures, locked_until) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
        params![guard.failures, guard.locked_until.map(|t| t.as_millisecond())],
    )?;
    tx.commit()?;
    Ok(checked)
}

/// The oldest audit events not yet on the hub, at most `max`.
pub fn pending_events(conn: &Connection, max: usize) -> rusqlite::Result<Vec<StaffEvent>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, at, kind, staff_id, locked_until FROM staff_event ORDER BY at, rowid LIMIT ?1")?;
    stmt.query_map([max as i64], |r| {
        let kind: String = r.get(2)?;
        let kind = StaffEventKind::parse(&kind).ok_or_else(|| {
            let why = format!("unknown staff event kind {kind:?}");
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, why.into())
        })?;
        Ok(StaffEvent {
            id: r.get(0)?,
            at: ms(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
            kind,
            staff_id: r.get(3)?,
            locked_until: ms(r.get(4)?),
        })
    })?
    .collect()
}

/// Forgets events the hub acknowledged.
pub fn sent_events(conn: &mut Connection, ids: &[String]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for id in ids {
        tx.execute("DELETE FROM staff_event WHERE id = ?1", [id])?;
    }
    tx.commit()
}

/// How many audit events wait for the hub.
pub fn events_waiting(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM staff_event", [], |r| r.get(0))
}
