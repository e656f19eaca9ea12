//! Sign-in with the phone's pairings in the database (`pairing`), so any hub of a chain
//! answers a kiosk's poll or the web store's confirmation. The rules are
//! [`crate::hub::pairing`]'s; this file reads and writes. Each change is one statement
//! that checks what it changes, so two hubs acting on one pairing at once cannot both
//! succeed (a token is handed over once, a pairing decided once).

use jiff::{SignedDuration, Timestamp};

use crate::db::{self, Sql, params};
use crate::hub::auth;
use crate::hub::pairing::{self, DecideRefused, Decision, Poll, StartRefused, Started, Stored};

const COLUMNS: &str = "device_id, store_code, expires_at, last_poll, decision, token";

fn stored(r: &db::Row<'_>) -> db::Result<Stored> {
    let decision: String = r.get(4)?;
    let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(Stored {
        device_id: r.get(0)?,
        store_code: r.get(1)?,
        expires_at: at(r.get(2)?),
        last_poll: r.get::<Option<i64>>(3)?.map(at),
        // A replaced pairing is as good as gone.
        decision: Decision::parse(&decision).unwrap_or(Decision::Denied),
        token: r.get(5)?,
    })
}

/// A new pairing for a kiosk; the pairings it had pending are replaced (it shows one
/// code).
pub fn start(
    conn: &dyn Sql,
    device_id: i64,
    store_code: &str,
    lifetime: SignedDuration,
    now: Timestamp,
) -> db::Result<Result<Started, StartRefused>> {
    let tx = conn.begin()?;
    let ms = now.as_millisecond();
    tx.execute(
        "DELETE FROM pairing WHERE expires_at < ?1",
        params![(now - lifetime).as_millisecond()],
    )?;
    let recent: u64 = tx.one(
        "SELECT COUNT(*) FROM pairing WHERE device_id = ?1 AND started_at > ?2",
        params![device_id, ms - 60_000],
    )?;
    let pending: u64 = tx.one("SELECT COUNT(*) FROM pairing WHERE expires_at > ?1", params![ms])?;
    if let Err(refused) = pairing::may_start(recent, pending) {
        return Ok(Err(refused));
    }
    tx.execute(
        "UPDATE pairing SET decision = 'replaced', token = NULL WHERE device_id = ?1 AND decision <> 'replaced'",
        params![device_id],
    )?;
    let device_code = pairing::new_device_code();
    let expires_at = now + lifetime;
    // A user code already in use is rare (20^8 codes): draw again.
    let user_code = loop {
        let code = pairing::new_user_code();
        let taken: bool = tx.one(
            "SELECT EXISTS (SELECT 1 FROM pairing WHERE user_code = ?1)",
            params![code],
        )?;
        if !taken {
            break code;
        }
    };
    tx.execute(
        "INSERT INTO pairing (device_code, user_code, device_id, store_code, started_at, expires_at, decision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
        params![
            auth::hash(&device_code),
            user_code,
            device_id,
            store_code,
            ms,
            expires_at.as_millisecond()
        ],
    )?;
    tx.commit()?;
    Ok(Ok(Started {
        device_code,
        user_code,
        expires_at,
    }))
}

/// The kiosk asks how its pairing stands. An approval is handed over once: the row goes
/// with it, and a second poll (on any hub) finds nothing.
pub fn poll(conn: &dyn Sql, device_id: i64, device_code: &str, now: Timestamp) -> db::Result<Poll> {
    let hash = auth::hash(device_code);
    let found = conn.query_opt(
        &format!("SELECT {COLUMNS} FROM pairing WHERE device_code = ?1"),
        params![hash],
        stored,
    )?;
    match pairing::poll(found.as_ref(), device_id, now) {
        Poll::Approved { .. } => {
            let token: Option<Option<String>> = conn.query_opt(
                "DELETE FROM pairing WHERE device_code = ?1 AND device_id = ?2 AND decision = 'approved'
                 RETURNING token",
                params![hash, device_id],
                |r| r.get(0),
            )?;
            Ok(match token.flatten() {
                Some(token) => Poll::Approved { token },
                None => Poll::Unknown,
            })
        }
        answer @ (Poll::Pending | Poll::SlowDown) => {
            conn.execute(
                "UPDATE pairing SET last_poll = ?2 WHERE device_code = ?1",
                params![hash, now.as_millisecond()],
            )?;
            Ok(answer)
        }
        answer => Ok(answer),
    }
}

/// The pairing a user code names, if it is still waiting for the shopper.
pub fn pending(conn: &dyn Sql, user_code: &str, now: Timestamp) -> db::Result<Result<pairing::Pending, DecideRefused>> {
    let found = conn.query_opt(
        &format!("SELECT {COLUMNS} FROM pairing WHERE user_code = ?1 AND decision <> 'replaced'"),
        params![user_code],
        stored,
    )?;
    Ok(pairing::pending(found.as_ref(), now))
}

/// The shopper confirmed (with the token to sign them in with) or declined. Only a
/// pending, unexpired pairing changes; otherwise, why not.
pub fn decide(
    conn: &dyn Sql,
    user_code: &str,
    token: Option<&str>,
    now: Timestamp,
) -> db::Result<Result<(), DecideRefused>> {
    let decision = if token.is_some() {
        Decision::Approved
    } else {
        Decision::Denied
    };
    let changed = conn.execute(
        "UPDATE pairing SET decision = ?2, token = ?3
         WHERE user_code = ?1 AND decision = 'pending' AND expires_at > ?4",
        params![user_code, decision.as_str(), token, now.as_millisecond()],
    )?;
    if changed == 1 {
        return Ok(Ok(()));
    }
    Ok(pending(conn, user_code, now)?.and(Err(DecideRefused::Decided)))
}

/// The kiosk gave up (the shopper closed the code, or left).
pub fn cancel(conn: &dyn Sql, device_id: i64, device_code: &str) -> db::Result<bool> {
    let removed = conn.execute(
        "DELETE FROM pairing WHERE device_code = ?1 AND device_id = ?2 AND decision <> 'replaced'",
        params![auth::hash(device_code), device_id],
    )?;
    Ok(removed > 0)
}

/// Forgets pairings a day past their expiry, with any token a kiosk never collected (a
/// new pairing also sweeps; this is for hubs where none starts).
pub fn prune(conn: &dyn Sql, now: Timestamp) -> db::Result<u64> {
    conn.execute(
        "DELETE FROM pairing WHERE expires_at < ?1",
        params![(now - SignedDuration::from_hours(24)).as_millisecond()],
    )
}
