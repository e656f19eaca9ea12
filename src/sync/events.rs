//! Measurement events, kiosk side, in its SQLite file (`src/db/kiosk_v6.sql`): what
//! happened at the kiosk (a visit began or ended, a product was viewed, scanned or
//! saved, a code was shown, a search was made), kept until the hub has them, as the
//! staff keypad's audit events are. No network here: `sync::driver` hands them over.
//!
//! At most [`MAX_KEPT`] events wait. When one more would pass that (a kiosk cut off from
//! its hub for weeks), the oldest are deleted and counted in `sync_state.events_dropped`;
//! the count goes to the hub with the next push (`KioskEvents::dropped`) and comes off
//! once the hub acknowledged it. So the newest events are kept, and the hub knows how
//! many it never got. Recording is one insert and, past the bound, one delete of a range
//! of keys: the table is never counted.
//!
//! An event names its visit by the visit's random id, never the shopper; searches and
//! staff look-ups name no visit.
//!
//! An event alone is committed without waiting for the disk to flush (WAL,
//! `synchronous = NORMAL`): a power cut may lose the last seconds of events, never a
//! wishlist edit, whose commit flushes the events before it too.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use crate::db::from_ms;
use crate::protocol::measure::{EventDetail, KioskEvent, KioskEvents};

/// Events kept unsent at most.
pub const MAX_KEPT: u64 = 100_000;

/// A new event, with its own random id.
pub fn new_event(now: Timestamp, visit: Option<&str>, detail: EventDetail) -> KioskEvent {
    KioskEvent {
        id: crate::protocol::new_id(),
        at: now,
        visit: visit.map(str::to_owned),
        detail,
    }
}

/// Records one event; inside the caller's transaction if there is one (a heart's edit
/// and its event are one transaction).
pub fn record(conn: &Connection, event: &KioskEvent) -> rusqlite::Result<()> {
    record_bounded(conn, event, MAX_KEPT)
}

/// [`record`], keeping at most `max_kept` events.
pub fn record_bounded(conn: &Connection, event: &KioskEvent, max_kept: u64) -> rusqlite::Result<()> {
    let body =
        serde_json::to_string(&event.detail).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    if !conn.is_autocommit() {
        return insert(conn, event, &body, max_kept);
    }
    // Not waiting on the disk's flush: the catalog thread that writes this also answers
    // the shopper's searches. The next wishlist edit's commit (FULL) flushes it too.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let written = conn
        .unchecked_transaction()
        .and_then(|tx| insert(&tx, event, &body, max_kept).and_then(|()| tx.commit()));
    conn.pragma_update(None, "synchronous", "FULL")?;
    written
}

fn insert(conn: &Connection, event: &KioskEvent, body: &str, max_kept: u64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO event (id, at, visit, body) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![event.id, event.at.as_millisecond(), event.visit, body])?;
    // A new key is one past the newest kept, so no more than `max_kept` events have a
    // key above the new one's minus `max_kept`: a seek past the bound, not a count.
    let newest = conn.last_insert_rowid();
    let max_kept = i64::try_from(max_kept).unwrap_or(i64::MAX);
    if newest <= max_kept {
        return Ok(());
    }
    let dropped = conn
        .prepare_cached("DELETE FROM event WHERE seq <= ?1")?
        .execute([newest - max_kept])?;
    if dropped > 0 {
        conn.prepare_cached("UPDATE sync_state SET events_dropped = events_dropped + ?1 WHERE id = 1")?
            .execute([dropped as i64])?;
        tracing::debug!(dropped, "the oldest measurement events were deleted unsent");
    }
    Ok(())
}

/// The oldest events not yet on the hub, at most `max`, and how many were deleted unsent
/// since the hub last heard. An event that no longer reads (a kind this version does not
/// know) is deleted, so it never holds up the ones after it.
pub fn pending(conn: &Connection, max: usize) -> rusqlite::Result<KioskEvents> {
    let mut events = Vec::new();
    let mut after = 0_i64;
    let mut stmt =
        conn.prepare_cached("SELECT seq, id, at, visit, body FROM event WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    while events.len() < max {
        let wanted = max - events.len();
        let rows = stmt
            .query_map(params![after, wanted as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let fetched = rows.len();
        let mut unreadable = Vec::new();
        for (seq, id, at, visit, body) in rows {
            after = seq;
            let read = serde_json::from_str::<EventDetail>(&body)
                .map_err(|e| e.to_string())
                .and_then(|detail| {
                    let at = from_ms(Some(at)).ok_or_else(|| format!("its time {at} is out of range"))?;
                    Ok((at, detail))
                });
            match read {
                Ok((at, detail)) => events.push(KioskEvent { id, at, visit, detail }),
                Err(why) => {
                    tracing::warn!(%id, %why, "an unreadable measurement event was deleted");
                    unreadable.push(seq);
                }
            }
        }
        for seq in unreadable {
            conn.prepare_cached("DELETE FROM event WHERE seq = ?1")?
                .execute([seq])?;
        }
        if fetched < wanted {
            break;
        }
    }
    let dropped = conn.query_row("SELECT events_dropped FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    Ok(KioskEvents { events, dropped })
}

/// Forgets the events the hub acknowledged, and the dropped count it was told of, in one
/// transaction. Events dropped since that push stay counted for the next one.
pub fn sent(conn: &mut Connection, ids: &[String], dropped_reported: u64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut delete = tx.prepare_cached("DELETE FROM event WHERE id = ?1")?;
        for id in ids {
            delete.execute([id])?;
        }
    }
    tx.execute(
        "UPDATE sync_state SET events_dropped = MAX(events_dropped - ?1, 0) WHERE id = 1",
        [i64::try_from(dropped_reported).unwrap_or(i64::MAX)],
    )?;
    tx.commit()
}

/// How many events wait for the hub.
pub fn waiting(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM event", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, Schema};
    use crate::protocol::measure::MAX_QUERY_CHARS;
    use crate::protocol::measure::{ViewSource, VisitEnd};

    fn open() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = db::open(&dir.path().join("kiosk.sqlite"), Schema::Kiosk).unwrap();
        (dir, conn)
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap()
    }

    fn ids(events: &[KioskEvent]) -> Vec<String> {
        events.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn events_wait_oldest_first_until_the_hub_has_them() {
        let (_dir, mut conn) = open();
        let started = new_event(at(1_000), Some("v1"), EventDetail::VisitStarted);
        let viewed = new_event(
            at(2_000),
            Some("v1"),
            EventDetail::ProductViewed {
                sku: "A-S".into(),
                source: ViewSource::Search,
            },
        );
        let ended = new_event(
            at(3_000),
            Some("v1"),
            EventDetail::VisitEnded {
                seconds: 2,
                reason: VisitEnd::Done,
            },
        );
        record(&conn, &started).unwrap();
        // Inside a caller's transaction too.
        let tx = conn.transaction().unwrap();
        record(&tx, &viewed).unwrap();
        tx.commit().unwrap();
        record(&conn, &ended).unwrap();
        assert_eq!(waiting(&conn).unwrap(), 3);
        // An event alone skips the flush; the connection is back to flushing after.
        let synchronous: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(synchronous, 2, "FULL");

        let batch = pending(&conn, 2).unwrap();
        assert_eq!(batch.events, vec![started, viewed]);
        assert_eq!(batch.dropped, 0);
        sent(&mut conn, &ids(&batch.events), batch.dropped).unwrap();
        assert_eq!(pending(&conn, 10).unwrap().events, vec![ended.clone()]);
        sent(&mut conn, &[ended.id], 0).unwrap();
        assert_eq!(waiting(&conn).unwrap(), 0);
        assert!(pending(&conn, 10).unwrap().events.is_empty());
    }

    #[test]
    fn past_the_bound_the_oldest_go_and_are_counted_until_the_hub_heard() {
        let (_dir, mut conn) = open();
        let events: Vec<KioskEvent> = (0..5)
            .map(|i| new_event(at(i * 1_000), Some("v"), EventDetail::VisitStarted))
            .collect();
        for event in &events {
            record_bounded(&conn, event, 3).unwrap();
        }
        assert_eq!(waiting(&conn).unwrap(), 3);
        let batch = pending(&conn, 10).unwrap();
        assert_eq!(batch.events, events[2..].to_vec(), "the newest are kept");
        assert_eq!(batch.dropped, 2);
        sent(&mut conn, &ids(&batch.events), batch.dropped).unwrap();
        let next = pending(&conn, 10).unwrap();
        assert_eq!((next.events.len(), next.dropped), (0, 0));
    }

    #[test]
    fn an_unreadable_event_is_deleted_and_holds_up_nothing() {
        let (_dir, conn) = open();
        conn.execute(
            "INSERT INTO event (id, at, visit, body) VALUES ('old', 1000, NULL, '{\"kind\":\"teleported\"}')",
            [],
        )
        .unwrap();
        let looked_up = new_event(at(2_000), None, EventDetail::StockLookedUp { sku: "A-S".into() });
        record(&conn, &looked_up).unwrap();
        assert_eq!(pending(&conn, 1).unwrap().events, vec![looked_up]);
        assert_eq!(waiting(&conn).unwrap(), 1, "the unreadable one is gone");
    }

    #[test]
    fn a_search_is_counted_trimmed_in_lower_case_and_cut() {
        assert_eq!(crate::protocol::measure::normalise_query("  Robe Rouge "), "robe rouge");
        let long = "É".repeat(MAX_QUERY_CHARS + 10);
        assert_eq!(
            crate::protocol::measure::normalise_query(&long),
            "é".repeat(MAX_QUERY_CHARS)
        );
    }
}
