//! The kiosk's side of sync, in its SQLite file: the local wishlist view, the outbox of
//! ops for the hub, the sender's state and the device credential.
//!
//! A shopper's action is one transaction ([`edit`]): the view and the outbox change
//! together, so what the screen calls saved is saved, and what is saved will be sent.
//! A heart at a kiosk is also measured (`super::events`), in the same transaction.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::engine::{Effects, SenderState};
use super::events;
use crate::db::from_ms as ms;
use crate::hlc;
use crate::protocol::measure::EventDetail;
use crate::protocol::{Action, Op, Owner};

/// The hub a kiosk is enrolled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub hub_url: String,
    pub device_id: i64,
    pub store_code: String,
    pub token: String,
}

/// What `vitrine status` prints and the staff screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    pub pending: u64,
    pub rejected: u64,
    pub last_push: Option<Timestamp>,
    pub last_pull: Option<Timestamp>,
    pub last_error: Option<String>,
    pub retry_at: Option<Timestamp>,
    pub stream: String,
}

/// One line of a wishlist as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sku: String,
    pub hlc: u64,
}

/// Whether an edit changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// Saved locally and queued for the hub as this op.
    Queued { seq: u64 },
    /// The list already said so: nothing to save or send.
    Unchanged,
}

pub fn device(conn: &Connection) -> rusqlite::Result<Option<Device>> {
    conn.query_row(
        "SELECT hub_url, device_id, store_code, token FROM device WHERE id = 1",
        [],
        |r| {
            Ok(Device {
                hub_url: r.get(0)?,
                device_id: r.get(1)?,
                store_code: r.get(2)?,
                token: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Records the credential an enrollment gave. A kiosk re-enrolled (say, after it was
/// moved to another shop) keeps its stream: the hub binds the stream to the new device.
pub fn save_device(conn: &Connection, device: &Device, now: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO device (id, hub_url, device_id, store_code, token, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET hub_url = excluded.hub_url, device_id = excluded.device_id,
             store_code = excluded.store_code, token = excluded.token, enrolled_at = excluded.enrolled_at",
        params![
            device.hub_url,
            device.device_id,
            device.store_code,
            device.token,
            now.as_second()
        ],
    )?;
    Ok(())
}

/// Adds or removes a SKU on a wishlist: one transaction for the view and the outbox,
/// and, in a kiosk's visit (`session`), the event that measures it.
pub fn edit(
    conn: &mut Connection,
    now: Timestamp,
    owner: &Owner,
    sku: &str,
    action: Action,
    session: Option<&str>,
) -> rusqlite::Result<Edited> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if is_present(&tx, owner, sku)? == (action == Action::Add) {
        return Ok(Edited::Unchanged);
    }
    let seq = queue(&tx, now, owner, sku, action, session, None)?;
    let measured = match action {
        Action::Add => Some(EventDetail::WishlistAdded { sku: sku.to_owned() }),
        Action::Remove => Some(EventDetail::WishlistRemoved { sku: sku.to_owned() }),
        Action::SignIn => None,
    };
    if let (Some(visit), Some(detail)) = (session, measured) {
        events::record(&tx, &events::new_event(now, Some(visit), detail))?;
    }
    tx.commit()?;
    Ok(Edited::Queued { seq })
}

/// Signs `customer` in to the visit with the `token` they showed: one op for the hub
/// (which checks the token before it records the visit), the visit's lines moved to the
/// customer's list, and the sign-in kept for the visit, in one transaction.
pub fn sign_in(
    conn: &mut Connection,
    now: Timestamp,
    visit: &str,
    customer: &Owner,
    token: &str,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    queue(&tx, now, customer, "", Action::SignIn, Some(visit), Some(token))?;
    let clock: u64 = tx.query_row("SELECT hlc FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    tx.execute(
        "INSERT INTO signed_in (visit, alias, token, hlc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET token = excluded.token, hlc = excluded.hlc",
        params![visit, customer.parts().1, token, clock],
    )?;
    let anonymous = Owner::Visit(visit.to_owned());
    for line in wishlist(&tx, &anonymous)?.iter().rev() {
        if !is_present(&tx, customer, &line.sku)? {
            queue(&tx, now, customer, &line.sku, Action::Add, Some(visit), None)?;
        }
        queue(&tx, now, &anonymous, &line.sku, Action::Remove, Some(visit), None)?;
    }
    tx.commit()
}

/// The visit a customer is signed in to and the token they signed in with, if they
/// still are.
pub fn sign_in_token(conn: &Connection, customer: &Owner) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached("SELECT visit, token FROM signed_in WHERE alias = ?1 ORDER BY hlc DESC LIMIT 1")?
        .query_row([customer.parts().1], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// What a previous run left when it stopped in the middle of a visit (a crash, a power
/// cut, an update): at start no visit is under way, so every line of the local view and
/// every sign-in goes. Ops not yet sent stay in the outbox until the hub has them.
/// Returns the rows deleted.
pub fn end_leftover_visits(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let deleted = tx.execute("DELETE FROM wishlist", [])? + tx.execute("DELETE FROM signed_in", [])?;
    tx.commit()?;
    Ok(deleted)
}

/// Ends a visit on the kiosk: its lines and its signed-in customer's leave the local
/// view, with the sign-in, in one transaction. Ops not yet sent stay in the outbox until
/// the hub has them.
pub fn end_visit(conn: &mut Connection, visit: &str, customer: Option<&Owner>) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let owners = std::iter::once(Owner::Visit(visit.to_owned())).chain(customer.cloned());
    for owner in owners {
        let (kind, id) = owner.parts();
        tx.execute(
            "DELETE FROM wishlist WHERE owner_kind = ?1 AND owner = ?2",
            params![kind, id],
        )?;
    }
    tx.execute("DELETE FROM signed_in WHERE visit = ?1", [visit])?;
    tx.commit()
}

fn is_present(conn: &Connection, owner: &Owner, sku: &str) -> rusqlite::Result<bool> {
    let (kind, id) = owner.parts();
    conn.prepare_cached("SELECT present FROM wishlist WHERE owner_kind = ?1 AND owner = ?2 AND sku = ?3")?
        .query_row(params![kind, id, sku], |r| r.get(0))
        .optional()
        .map(|p| p.unwrap_or(false))
}

/// Appends one op to the outbox and applies it to the local view.
fn queue(
    tx: &Connection,
    now: Timestamp,
    owner: &Owner,
    sku: &str,
    action: Action,
    session: Option<&str>,
    token: Option<&str>,
) -> rusqlite::Result<u64> {
    let (kind, id) = owner.parts();
    let (stream, seq, last): (String, u64, u64) =
        tx.query_row("SELECT stream, next_seq, hlc FROM sync_state WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let clock = hlc::tick(last, now);
    tx.execute(
        "UPDATE sync_state SET next_seq = ?1, hlc = ?2 WHERE id = 1",
        params![seq + 1, clock],
    )?;
    if action != Action::SignIn {
        tx.execute(
            "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, session, local)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
             ON CONFLICT DO UPDATE SET present = excluded.present, hlc = excluded.hlc,
                 session = excluded.session, local = 1",
            params![kind, id, sku, action == Action::Add, clock, session],
        )?;
    }
    tx.execute(
        "INSERT INTO outbox (stream, seq, hlc, owner_kind, owner, sku, action, session, token, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending')",
        params![stream, seq, clock, kind, id, sku, action_name(action), session, token],
    )?;
    Ok(seq)
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Add => "add",
        Action::Remove => "remove",
        Action::SignIn => "sign_in",
    }
}

fn action_named(name: &str) -> Action {
    match name {
        "add" => Action::Add,
        "sign_in" => Action::SignIn,
        _ => Action::Remove,
    }
}

/// The SKUs on a wishlist, most recently added first.
pub fn wishlist(conn: &Connection, owner: &Owner) -> rusqlite::Result<Vec<Line>> {
    let (kind, id) = owner.parts();
    let mut stmt = conn.prepare_cached(
        "SELECT sku, hlc FROM wishlist WHERE owner_kind = ?1 AND owner = ?2 AND present
         ORDER BY hlc DESC",
    )?;
    stmt.query_map(params![kind, id], |r| {
        Ok(Line {
            sku: r.get(0)?,
            hlc: r.get(1)?,
        })
    })?
    .collect()
}

/// How many SKUs of one wishlist have edits the hub has not acknowledged yet.
pub fn waiting(conn: &Connection, owner: &Owner) -> rusqlite::Result<u64> {
    let (kind, id) = owner.parts();
    conn.prepare_cached(
        "SELECT COUNT(DISTINCT sku) FROM outbox
         WHERE state = 'pending' AND action != 'sign_in' AND owner_kind = ?1 AND owner = ?2",
    )?
    .query_row(params![kind, id], |r| r.get(0))
}

/// The oldest pending ops, in order, with the stream they belong to.
pub fn pending(conn: &Connection, max: usize) -> rusqlite::Result<(String, Vec<Op>)> {
    let stream: String = conn.query_row("SELECT stream FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hlc, owner_kind, owner, sku, action, session, token FROM outbox
         WHERE state = 'pending' ORDER BY seq LIMIT ?1",
    )?;
    let ops = stmt
        .query_map([max as i64], |r| {
            let kind: String = r.get(2)?;
            let action: String = r.get(5)?;
            Ok(Op {
                seq: r.get(0)?,
                hlc: r.get(1)?,
                owner: Owner::from_parts(&kind, r.get(3)?),
                sku: r.get(4)?,
                action: action_named(&action),
                session: r.get(6)?,
                token: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<Op>>>()?;
    Ok((stream, ops))
}

pub fn sender_state(conn: &Connection) -> rusqlite::Result<SenderState> {
    conn.query_row(
        "SELECT attempts, retry_at, last_push, last_error FROM sync_state WHERE id = 1",
        [],
        |r| {
            Ok(SenderState {
                attempts: r.get(0)?,
                retry_at: ms(r.get(1)?),
                last_push: ms(r.get(2)?),
                last_error: r.get(3)?,
            })
        },
    )
}

/// Refused ops kept (numbers and reasons only) for the staff screen.
const REJECTED_KEPT: i64 = 100;

/// Records the outcome of a push: the sender's new state and its effects, in one
/// transaction. `new_stream` is called only when the stream must restart.
pub fn record(
    conn: &mut Connection,
    state: &SenderState,
    effects: &Effects,
    new_stream: impl FnOnce() -> String,
) -> rusqlite::Result<()> {
    record_for(conn, None, state, effects, new_stream)
}

/// [`record`], for the answer to a push sent on `sent_on`: if the stream changed
/// meanwhile (another process restarted it), the answer's acknowledgements and
/// refusals name ops that have new numbers now, and are not applied.
pub fn record_for(
    conn: &mut Connection,
    sent_on: Option<&str>,
    state: &SenderState,
    effects: &Effects,
    new_stream: impl FnOnce() -> String,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE sync_state SET attempts = ?1, retry_at = ?2, last_push = COALESCE(?3, last_push),
             last_error = ?4 WHERE id = 1",
        params![
            state.attempts,
            state.retry_at.map(|t| t.as_millisecond()),
            state.last_push.map(|t| t.as_millisecond()),
            state.last_error,
        ],
    )?;
    if let Some(remote) = effects.observed_hlc {
        tx.execute(
            "UPDATE sync_state SET hlc = MAX(hlc, ?1) WHERE id = 1",
            [hlc::observe(0, remote)],
        )?;
    }
    let stream: String = tx.query_row("SELECT stream FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    if sent_on.is_some_and(|sent| sent != stream) {
        tracing::warn!(stream, "the stream changed during a push; its answer is not applied");
        return tx.commit();
    }
    // A refused op keeps its number and reason (for the staff screen and the logs),
    // not what names the shopper; the last REJECTED_KEPT are kept.
    for (seq, reason) in &effects.rejected {
        tx.execute(
            "UPDATE outbox SET state = 'rejected', reason = ?1, owner = '', sku = '', session = NULL,
                 token = NULL
             WHERE stream = ?2 AND seq = ?3",
            params![reason, stream, seq],
        )?;
        tracing::warn!(seq, reason, "the hub refused an op");
    }
    if !effects.rejected.is_empty() {
        tx.execute(
            "DELETE FROM outbox WHERE state = 'rejected' AND id NOT IN
                 (SELECT id FROM outbox WHERE state = 'rejected' ORDER BY id DESC LIMIT ?1)",
            [REJECTED_KEPT],
        )?;
    }
    if let Some(through) = effects.acked_through {
        tx.execute(
            "DELETE FROM outbox WHERE state = 'pending' AND stream = ?1 AND seq <= ?2",
            params![stream, through],
        )?;
    }
    if effects.restart_stream {
        restart_stream(&tx, &new_stream())?;
    }
    tx.commit()
}

/// Moves to a new stream. The sign-ins of the visit under way go first (unless one is
/// pending), so that the hub, if it lost them, grants the lines that follow; then the
/// pending ops, renumbered in their order; then every line this kiosk wrote and has no
/// pending op for, queued again with its original clock. The hub's last-writer-wins
/// merge makes the resent lines harmless where it already had them, and restores them
/// where it did not. What the kiosk still holds is the visit under way's lines and the
/// ops not yet acknowledged: a visit that ended left nothing to resend.
fn restart_stream(tx: &rusqlite::Transaction<'_>, stream: &str) -> rusqlite::Result<()> {
    let signed_in = tx.execute(
        "INSERT INTO outbox (stream, seq, hlc, owner_kind, owner, sku, action, session, token, state)
         SELECT ?1, ROW_NUMBER() OVER (ORDER BY s.hlc), s.hlc, 'alias', s.alias, '', 'sign_in', s.visit,
                s.token, 'pending'
         FROM signed_in s
         WHERE NOT EXISTS (
             SELECT 1 FROM outbox o WHERE o.state = 'pending' AND o.action = 'sign_in'
                 AND o.owner = s.alias AND o.session = s.visit)",
        [stream],
    )?;
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM outbox WHERE state = 'pending' AND stream != ?1 ORDER BY seq, id")?
        .query_map([stream], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut seq = signed_in as u64 + 1;
    {
        let mut renumber = tx.prepare("UPDATE outbox SET stream = ?1, seq = ?2 WHERE id = ?3")?;
        for id in ids {
            renumber.execute(params![stream, seq, id])?;
            seq += 1;
        }
    }
    let resent = tx.execute(
        "INSERT INTO outbox (stream, seq, hlc, owner_kind, owner, sku, action, session, state)
         SELECT ?1, ?2 + ROW_NUMBER() OVER (ORDER BY w.hlc) - 1, w.hlc, w.owner_kind, w.owner, w.sku,
                CASE WHEN w.present THEN 'add' ELSE 'remove' END, w.session, 'pending'
         FROM wishlist w
         WHERE w.local AND NOT EXISTS (
             SELECT 1 FROM outbox o WHERE o.state = 'pending' AND o.owner_kind = w.owner_kind
                 AND o.owner = w.owner AND o.sku = w.sku)",
        params![stream, seq],
    )?;
    tx.execute(
        "UPDATE sync_state SET stream = ?1, next_seq = ?2 WHERE id = 1",
        params![stream, seq + resent as u64],
    )?;
    tracing::warn!(stream, signed_in, resent, "restarted the op stream");
    Ok(())
}

/// Deletes every trace of customers the hub says were erased: their lines, their
/// sign-ins and their ops not yet sent (the stream restarts so the numbering has no
/// hole), and records `cursor`. Returns how many rows named them.
pub fn erase_aliases(
    conn: &mut Connection,
    aliases: &[String],
    cursor: &str,
    new_stream: impl FnOnce() -> String,
) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut lines = 0;
    let mut ops = 0;
    for alias in aliases {
        lines += tx.execute(
            "DELETE FROM wishlist WHERE owner_kind = 'alias' AND owner = ?1",
            [alias],
        )?;
        lines += tx.execute("DELETE FROM signed_in WHERE alias = ?1", [alias])?;
        ops += tx.execute(
            "DELETE FROM outbox WHERE state = 'pending' AND owner_kind = 'alias' AND owner = ?1",
            [alias],
        )?;
    }
    if ops > 0 {
        restart_stream(&tx, &new_stream())?;
    }
    tx.execute("UPDATE sync_state SET erasure_cursor = ?1 WHERE id = 1", [cursor])?;
    tx.commit()?;
    Ok(lines + ops)
}

/// Where the kiosk is in the hub's list of erased customers.
pub fn erasure_cursor(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT erasure_cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))
}

pub fn status(conn: &Connection) -> rusqlite::Result<Status> {
    let (pending, rejected): (u64, u64) = conn.query_row(
        "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'rejected')
         FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    conn.query_row(
        "SELECT last_push, last_pull, last_error, retry_at, stream FROM sync_state WHERE id = 1",
        [],
        |r| {
            Ok(Status {
                pending,
                rejected,
                last_push: ms(r.get(0)?),
                last_pull: ms(r.get(1)?),
                last_error: r.get(2)?,
                retry_at: ms(r.get(3)?),
                stream: r.get(4)?,
            })
        },
    )
}

/// Records a successful catalog pull.
pub fn pulled(conn: &Connection, now: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sync_state SET last_pull = ?1 WHERE id = 1",
        [now.as_millisecond()],
    )?;
    Ok(())
}

/// Replaces a customer's lines with the hub's (when they sign in at the kiosk), keeping
/// any line this kiosk has not yet sent. Nothing is written unless the customer is still
/// signed in to `visit` (it ended while the list was on its way): returns whether it was.
pub fn merge_remote(
    conn: &mut Connection,
    visit: &str,
    owner: &Owner,
    lines: &[(String, bool, u64)],
) -> rusqlite::Result<bool> {
    let (kind, id) = owner.parts();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let signed_in: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM signed_in WHERE visit = ?1 AND alias = ?2)",
        [visit, id],
        |r| r.get(0),
    )?;
    if !signed_in {
        return Ok(false);
    }
    for (sku, present, clock) in lines {
        tx.execute(
            "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, session, local)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0)
             ON CONFLICT DO UPDATE SET present = excluded.present, hlc = excluded.hlc,
                 session = NULL, local = 0
             WHERE excluded.hlc > wishlist.hlc",
            params![kind, id, sku, present, clock],
        )?;
    }
    tx.execute(
        "UPDATE sync_state SET hlc = MAX(hlc, ?1) WHERE id = 1",
        [hlc::observe(0, lines.iter().map(|l| l.2).max().unwrap_or(0))],
    )?;
    tx.commit()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, Schema};

    #[test]
    fn a_heart_in_a_visit_is_measured_with_its_edit_and_only_when_it_changed_something() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db::open(&dir.path().join("kiosk.sqlite"), Schema::Kiosk).unwrap();
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let owner = Owner::Visit("v1".into());
        edit(&mut conn, now, &owner, "A-S", Action::Add, Some("v1")).unwrap();
        let unchanged = edit(&mut conn, now, &owner, "A-S", Action::Add, Some("v1")).unwrap();
        assert_eq!(unchanged, Edited::Unchanged);
        edit(&mut conn, now, &owner, "A-S", Action::Remove, Some("v1")).unwrap();
        // Not a kiosk's visit (a tool's edit): nothing measured.
        edit(&mut conn, now, &owner, "B-M", Action::Add, None).unwrap();
        let measured = events::pending(&conn, 10).unwrap().events;
        let details: Vec<(Option<&str>, &EventDetail)> =
            measured.iter().map(|e| (e.visit.as_deref(), &e.detail)).collect();
        assert_eq!(
            details,
            vec![
                (Some("v1"), &EventDetail::WishlistAdded { sku: "A-S".into() }),
                (Some("v1"), &EventDetail::WishlistRemoved { sku: "A-S".into() }),
            ]
        );
        assert!(measured.iter().all(|e| e.at == now));
    }
}
