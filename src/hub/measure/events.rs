//! Kiosks' events, stored once each (`(device, id)`), on the writer: the event itself,
//! its count for the day, and its visit's summary, in one transaction per batch.

use jiff::Timestamp;

use super::Settings;
use crate::db::{self, Sql, params};
use crate::protocol::measure::{EventDetail, KioskEvent, KioskEvents, MAX_QUERY_CHARS, normalise_query};
use crate::protocol::valid_ref;

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recorded {
    /// Events the hub did not have yet.
    pub stored: usize,
    /// Events refused for good (malformed): the kiosk forgets them like the others.
    pub rejected: usize,
}

/// The longest visit counted, in seconds: a kiosk's maximum is far below.
const MAX_VISIT_SECONDS: u32 = 24 * 3600;
/// The oldest event taken: a kiosk offline longer (or with a clock gone back) would
/// change days long reported.
pub const MAX_AGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 60);
/// The most events a kiosk may say it dropped in one batch.
const MAX_DROPPED: u64 = 10_000_000;

/// Why an event is refused, or `None` if it is well-formed.
fn malformed(event: &KioskEvent, now: Timestamp) -> Option<&'static str> {
    if !valid_ref(&event.id) || event.id.len() > 64 {
        return Some("an event id is 1 to 64 bytes of printable characters");
    }
    if event.at < now - MAX_AGE {
        return Some("an event older than 60 days is not counted");
    }
    if event.visit.as_deref().is_some_and(|v| !valid_ref(v)) {
        return Some("a visit id is 1 to 128 printable characters");
    }
    if event.detail.sku().is_some_and(|s| !valid_ref(s)) {
        return Some("a SKU is 1 to 128 printable characters");
    }
    match &event.detail {
        EventDetail::VisitEnded { seconds, .. } if *seconds > MAX_VISIT_SECONDS => Some("a visit lasts at most a day"),
        EventDetail::Searched { query, .. } if query.chars().count() > 4 * MAX_QUERY_CHARS => {
            Some("a search's text is too long")
        }
        EventDetail::VisitStarted | EventDetail::VisitEnded { .. } | EventDetail::SignedIn { .. }
            if event.visit.is_none() =>
        {
            Some("a visit's event names its visit")
        }
        _ => None,
    }
}

/// The event's `detail` and `value` columns.
fn columns(detail: &EventDetail) -> (Option<&'static str>, Option<i64>) {
    match detail {
        EventDetail::VisitEnded { seconds, reason } => (Some(reason.as_str()), Some(i64::from(*seconds))),
        EventDetail::SignedIn { method } => (
            Some(match method {
                crate::protocol::measure::SignInMethod::AppCode => "app_code",
                crate::protocol::measure::SignInMethod::Phone => "phone",
            }),
            None,
        ),
        EventDetail::ProductViewed { source, .. } => (Some(source.as_str()), None),
        EventDetail::ListCodeShown { items } => (None, Some(i64::from(*items))),
        EventDetail::Searched { results, .. } => (None, Some(i64::from(*results))),
        _ => (None, None),
    }
}

/// Stores a kiosk's batch of events (see the module documentation). An event dated
/// after `now` is taken as of `now`: a kiosk's clock cannot put figures in the future.
pub fn record(
    conn: &dyn Sql,
    settings: &Settings,
    device_id: i64,
    store: &str,
    batch: &KioskEvents,
    now: Timestamp,
) -> db::Result<Recorded> {
    let tx = conn.begin()?;
    // Seqs are the exports' cursor: they must commit in order, whichever hub inserts them.
    // The wishlist's lock first (the order every transaction takes them in): a visit's
    // sign-in, recorded by a push, and its kiosk event each see the other's row.
    db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST)?;
    db::lock_feed(&*tx, db::FEED_LOCK_EVENTS)?;
    let mut recorded = Recorded::default();
    for event in &batch.events {
        if let Some(why) = malformed(event, now) {
            tracing::warn!(device_id, id = event.id, why, "a kiosk event was refused");
            recorded.rejected += 1;
            continue;
        }
        let at = event.at.min(now);
        let day = settings.day(store, at);
        // A search keeps only its hour: its time would tie it to the visit's events.
        let at = match event.detail {
            EventDetail::Searched { .. } => {
                Timestamp::from_second(at.as_second() - at.as_second().rem_euclid(3600)).unwrap_or(at)
            }
            _ => at,
        };
        let kind = event.detail.kind();
        let sku = event.detail.sku();
        // A search is never tied to a visit; its text goes only to the shop's counts.
        let visit = match event.detail {
            EventDetail::Searched { .. } => None,
            _ => event.visit.as_deref(),
        };
        let (detail, value) = columns(&event.detail);
        let inserted = tx.execute(
            "INSERT INTO kiosk_event (device_id, event_id, store_code, day, at, visit, kind, sku, detail, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT DO NOTHING",
            params![
                device_id,
                event.id,
                store,
                day,
                at.as_millisecond(),
                visit,
                kind,
                sku,
                detail,
                value
            ],
        )?;
        if inserted == 0 {
            continue;
        }
        recorded.stored += 1;
        tx.execute(
            "INSERT INTO event_count (day, store_code, device_id, kind, sku, n) VALUES (?1, ?2, ?3, ?4, ?5, 1)
             ON CONFLICT (day, store_code, device_id, kind, sku) DO UPDATE SET n = event_count.n + 1",
            params![day, store, device_id, kind, sku.unwrap_or("")],
        )?;
        if let EventDetail::Searched { query, .. } = &event.detail {
            let query = normalise_query(query);
            if !query.is_empty() {
                tx.execute(
                    "INSERT INTO search_term (day, store_code, query, n) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (day, store_code, query) DO UPDATE SET n = search_term.n + 1",
                    params![day, store, query],
                )?;
            }
        }
        if let Some(visit) = visit {
            summarise(&*tx, device_id, store, &day, at, visit, &event.detail)?;
        }
    }
    if batch.dropped > 0 {
        tracing::warn!(
            device_id,
            dropped = batch.dropped,
            "a kiosk dropped events it could not keep"
        );
        tx.execute(
            "INSERT INTO events_dropped (device_id, n, last_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO UPDATE SET n = events_dropped.n + excluded.n, last_at = excluded.last_at",
            params![device_id, batch.dropped.min(MAX_DROPPED) as i64, now.as_millisecond()],
        )?;
    }
    tx.commit()?;
    Ok(recorded)
}

/// Keeps a visit's summary: started (its earliest event), how long and how it ended,
/// whether someone signed in. A visit belongs to the kiosk that reported it first.
fn summarise(
    tx: &dyn Sql,
    device_id: i64,
    store: &str,
    day: &str,
    at: Timestamp,
    visit: &str,
    detail: &EventDetail,
) -> db::Result<()> {
    // An earlier event moves the start (and its day); a later one leaves them.
    tx.execute(
        "INSERT INTO kiosk_visit (visit, device_id, store_code, day, started_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (visit) DO UPDATE SET day = excluded.day, started_at = excluded.started_at
         WHERE kiosk_visit.device_id = excluded.device_id AND excluded.started_at < kiosk_visit.started_at",
        params![visit, device_id, store, day, at.as_millisecond()],
    )?;
    match detail {
        EventDetail::VisitEnded { seconds, reason } => {
            tx.execute(
                "UPDATE kiosk_visit SET seconds = ?1, reason = ?2 WHERE visit = ?3 AND device_id = ?4",
                params![seconds, reason.as_str(), visit, device_id],
            )?;
        }
        // Identified once the hub accepted the sign-in too (its token checked): whichever
        // of the event and the sign-in op comes second marks it.
        EventDetail::SignedIn { .. } => {
            tx.execute(
                "UPDATE kiosk_visit SET signed_in = 1 WHERE visit = ?1 AND device_id = ?2
                     AND EXISTS (SELECT 1 FROM visit WHERE session = ?1 AND device_id = ?2)",
                params![visit, device_id],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// A sign-in the hub accepted (its token checked): the visit counts as identified once
/// its events are in. Runs in the sign-in op's transaction.
pub fn sign_in_accepted(conn: &dyn Sql, visit: &str, device_id: i64) -> db::Result<()> {
    conn.execute(
        "UPDATE kiosk_visit SET signed_in = 1 WHERE visit = ?1 AND device_id = ?2",
        params![visit, device_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::measure::{SignInMethod, ViewSource, VisitEnd};

    fn event(id: &str, at: Timestamp, visit: Option<&str>, detail: EventDetail) -> KioskEvent {
        KioskEvent {
            id: id.to_owned(),
            at,
            visit: visit.map(str::to_owned),
            detail,
        }
    }

    #[test]
    fn a_batch_counts_once_and_a_search_keeps_no_visit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let db: &dyn Sql = &conn;
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        let settings = Settings::default();
        let batch = KioskEvents {
            events: vec![
                event("1", now, Some("v1"), EventDetail::VisitStarted),
                event(
                    "2",
                    now,
                    Some("v1"),
                    EventDetail::ProductViewed {
                        sku: "S1".into(),
                        source: ViewSource::Search,
                    },
                ),
                event(
                    "3",
                    now,
                    Some("v1"),
                    EventDetail::Searched {
                        query: "  Robe   ROUGE ".into(),
                        results: 4,
                    },
                ),
                event(
                    "4",
                    now,
                    Some("v1"),
                    EventDetail::SignedIn {
                        method: SignInMethod::AppCode,
                    },
                ),
                event(
                    "5",
                    now + jiff::SignedDuration::from_secs(90),
                    Some("v1"),
                    EventDetail::VisitEnded {
                        seconds: 90,
                        reason: VisitEnd::Done,
                    },
                ),
                event("6", now, None, EventDetail::VisitStarted),
            ],
            dropped: 0,
        };
        let first = record(db, &settings, 7, "PARIS", &batch, now).unwrap();
        assert_eq!(first, Recorded { stored: 5, rejected: 1 });
        let again = record(db, &settings, 7, "PARIS", &batch, now).unwrap();
        assert_eq!(again, Recorded { stored: 0, rejected: 1 });
        let views: i64 = db
            .one(
                "SELECT n FROM event_count WHERE kind = 'product_viewed' AND sku = 'S1'",
                params![],
            )
            .unwrap();
        assert_eq!(views, 1);
        let (visit, query): (Option<String>, String) = db
            .query_row(
                "SELECT e.visit, t.query FROM kiosk_event e, search_term t WHERE e.kind = 'searched'",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((visit, query.as_str()), (None, "robe rouge"));
        let (seconds, signed_in, ended_at_now): (i64, bool, i64) = db
            .query_row(
                "SELECT v.seconds, v.signed_in, e.at FROM kiosk_visit v, kiosk_event e
                 WHERE v.visit = 'v1' AND e.event_id = '5'",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        // The kiosk said someone signed in, but the hub accepted no sign-in for it (yet).
        assert_eq!((seconds, signed_in), (90, false));
        // Dated after the hub's clock: taken as of the hub's clock.
        assert_eq!(ended_at_now, now.as_millisecond());
        // Once it does, the visit counts as identified.
        sign_in_accepted(db, "v1", 7).unwrap();
        let signed_in: bool = db
            .one("SELECT signed_in FROM kiosk_visit WHERE visit = 'v1'", params![])
            .unwrap();
        assert!(signed_in);
    }
}
