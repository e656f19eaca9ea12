//! Alerts on kiosks: which conditions hold, as a pure function of what the kiosk last
//! said and when ([`conditions`]), and their opening and clearing in the database, each
//! change announced as a `kiosk.alert` webhook in the same transaction.
//!
//! An alert is open while its condition holds and clears itself when it no longer does.
//! At most one alert of a kind is open per kiosk (a unique index), so two hubs
//! evaluating at once cannot open it twice.

use jiff::{SignedDuration, Timestamp};

use crate::db::{self, Sql, params};
use crate::hub::webhooks;
use crate::protocol::fleet::{CameraState, Heartbeat};
use crate::protocol::webhooks::{KIOSK_ALERT, KioskAlert};

/// No heartbeat for this long: the kiosk is offline.
pub const OFFLINE_AFTER: SignedDuration = SignedDuration::from_mins(15);
/// Edits waiting from this many: a backlog worth a look if it grows or stays stuck.
pub const BACKLOG_MIN: u64 = 20;
/// A backlog whose last accepted push is older than this is stuck.
pub const BACKLOG_STUCK: SignedDuration = SignedDuration::from_mins(30);
/// A kiosk clock further than this from the hub's (the hub refuses edits five minutes ahead).
pub const CLOCK_OFF_MS: i64 = 60_000;
/// A camera waiting for frames this long.
pub const CAMERA_WAITING_SECONDS: u64 = 300;
/// Less free disk than this.
pub const DISK_LOW_BYTES: u64 = 500 * 1024 * 1024;
/// An alert cleared this recently does not open again: a kiosk sitting at a threshold
/// (or sending heartbeats that flip) would otherwise open and clear it every minute.
pub const QUIET_AFTER_CLEARING: SignedDuration = SignedDuration::from_mins(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Offline,
    BacklogGrowing,
    ClockOff,
    CameraWaiting,
    DiskLow,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Offline,
        Kind::BacklogGrowing,
        Kind::ClockOff,
        Kind::CameraWaiting,
        Kind::DiskLow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Offline => "offline",
            Kind::BacklogGrowing => "backlog_growing",
            Kind::ClockOff => "clock_off",
            Kind::CameraWaiting => "camera_waiting",
            Kind::DiskLow => "disk_low",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What alerts are judged from: the last heartbeat, when it came, the kiosk's clock
/// offset then, and the backlog an hour before.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub heartbeat: &'a Heartbeat,
    pub received_at: Timestamp,
    /// The kiosk's clock minus the hub's, when the heartbeat came.
    pub clock_offset_ms: i64,
    /// Edits waiting an hour before the last heartbeat, if the hub heard from it then.
    pub pending_hour_before: Option<u64>,
}

/// The conditions that hold at `now`, each with what was seen.
pub fn conditions(facts: &Facts<'_>, now: Timestamp) -> Vec<(Kind, String)> {
    let mut found = Vec::new();
    let silent = now.duration_since(facts.received_at);
    if silent >= OFFLINE_AFTER {
        found.push((Kind::Offline, format!("no heartbeat for {} min", silent.as_secs() / 60)));
        // What it said before going quiet is stale: only the silence counts.
        return found;
    }
    let beat = facts.heartbeat;
    let pending = beat.outbox_pending;
    let growing = facts.pending_hour_before.is_some_and(|before| pending > before);
    let stuck = beat
        .last_push
        .is_none_or(|at| facts.received_at.duration_since(at) >= BACKLOG_STUCK);
    if pending >= BACKLOG_MIN && (growing || stuck) {
        let how = match facts.pending_hour_before {
            Some(before) if growing => format!("{pending} edits waiting, {before} an hour before"),
            _ => format!("{pending} edits waiting, none sent for 30 min"),
        };
        found.push((Kind::BacklogGrowing, how));
    }
    if facts.clock_offset_ms.abs() > CLOCK_OFF_MS {
        let side = if facts.clock_offset_ms > 0 {
            "ahead of"
        } else {
            "behind"
        };
        found.push((
            Kind::ClockOff,
            format!("clock {} s {side} the hub's", facts.clock_offset_ms.abs() / 1000),
        ));
    }
    if beat.camera.state == CameraState::Waiting && beat.camera.waiting_seconds >= CAMERA_WAITING_SECONDS {
        found.push((
            Kind::CameraWaiting,
            format!("camera waiting for frames for {} min", beat.camera.waiting_seconds / 60),
        ));
    }
    if let Some(free) = beat.disk_free_bytes.filter(|&free| free < DISK_LOW_BYTES) {
        found.push((Kind::DiskLow, format!("{} MB free", free / (1024 * 1024))));
    }
    found
}

/// Opens the alerts of `device` that now hold and clears those that no longer do; each
/// change is announced. While a kiosk is offline its other alerts stay as they were
/// (nothing is known of them), and one cleared in the last [`QUIET_AFTER_CLEARING`] does
/// not open again. Returns how many changed.
pub fn apply(
    conn: &dyn Sql,
    device_id: i64,
    store_code: &str,
    holding: &[(Kind, String)],
    now: Timestamp,
) -> db::Result<usize> {
    let open: Vec<(i64, String, String)> = conn.query_map(
        "SELECT id, kind, detail FROM kiosk_alert WHERE device_id = ?1 AND cleared_at IS NULL",
        params![device_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut changed = 0;
    let offline = holding.iter().any(|(k, _)| *k == Kind::Offline);
    for (id, kind, detail) in &open {
        let stale = offline && kind != Kind::Offline.as_str();
        if !stale && !holding.iter().any(|(k, _)| k.as_str() == kind) {
            conn.execute(
                "UPDATE kiosk_alert SET cleared_at = ?2 WHERE id = ?1",
                params![id, now.as_second()],
            )?;
            announce(conn, *id, device_id, store_code, kind, "cleared", detail, now)?;
            changed += 1;
        }
    }
    for (kind, detail) in holding {
        if open.iter().any(|(_, k, _)| k == kind.as_str()) {
            continue;
        }
        let cleared_lately: bool = conn.one(
            "SELECT EXISTS (SELECT 1 FROM kiosk_alert WHERE device_id = ?1 AND kind = ?2 AND cleared_at > ?3)",
            params![device_id, kind.as_str(), (now - QUIET_AFTER_CLEARING).as_second()],
        )?;
        if cleared_lately {
            continue;
        }
        let inserted: Option<i64> = conn.query_opt(
            "INSERT INTO kiosk_alert (device_id, store_code, kind, detail, opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING id",
            params![device_id, store_code, kind.as_str(), detail, now.as_second()],
            |r| r.get(0),
        )?;
        if let Some(id) = inserted {
            announce(conn, id, device_id, store_code, kind.as_str(), "opened", detail, now)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[allow(clippy::too_many_arguments)]
fn announce(
    conn: &dyn Sql,
    alert_id: i64,
    device_id: i64,
    store_code: &str,
    kind: &str,
    state: &str,
    detail: &str,
    now: Timestamp,
) -> db::Result<()> {
    let body = KioskAlert {
        alert_id,
        device_id,
        store_code: store_code.to_owned(),
        kind: kind.to_owned(),
        state: state.to_owned(),
        detail: detail.to_owned(),
    };
    webhooks::enqueue(conn, KIOSK_ALERT, &body, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fleet::CameraHealth;

    fn beat() -> Heartbeat {
        Heartbeat {
            app_version: "1.0.0".into(),
            sent_at: Timestamp::from_second(1_700_000_000).unwrap(),
            last_push: Some(Timestamp::from_second(1_700_000_000).unwrap()),
            last_pull: None,
            last_error: None,
            outbox_pending: 0,
            outbox_rejected: 0,
            events_pending: 0,
            products: 10,
            inventory_as_of: None,
            camera: CameraHealth {
                state: CameraState::Running,
                name: None,
                fps: 15.0,
                waiting_seconds: 0,
                frames_given_up: 0,
                minutes_since_read: None,
            },
            disk_free_bytes: Some(10 << 30),
            data_bytes: None,
            settings_version: None,
        }
    }

    fn kinds(facts: &Facts<'_>, now: Timestamp) -> Vec<Kind> {
        conditions(facts, now).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn a_healthy_kiosk_has_no_alert_and_a_silent_one_only_offline() {
        let beat = beat();
        let at = beat.sent_at;
        let facts = Facts {
            heartbeat: &beat,
            received_at: at,
            clock_offset_ms: 0,
            pending_hour_before: Some(0),
        };
        assert!(kinds(&facts, at + SignedDuration::from_mins(14)).is_empty());
        let mut bad = beat.clone();
        bad.disk_free_bytes = Some(1);
        let facts = Facts {
            heartbeat: &bad,
            ..facts
        };
        assert_eq!(kinds(&facts, at), [Kind::DiskLow]);
        assert_eq!(
            kinds(&facts, at + OFFLINE_AFTER),
            [Kind::Offline],
            "silence hides what it said before"
        );
    }

    #[test]
    fn a_backlog_alerts_when_it_grows_or_nothing_is_sent() {
        let mut beat = beat();
        let at = beat.sent_at;
        beat.outbox_pending = 40;
        let facts = |before, beat: &Heartbeat| {
            kinds(
                &Facts {
                    heartbeat: beat,
                    received_at: at,
                    clock_offset_ms: 0,
                    pending_hour_before: before,
                },
                at,
            )
        };
        assert_eq!(facts(Some(10), &beat), [Kind::BacklogGrowing], "growing");
        assert!(facts(Some(60), &beat).is_empty(), "shrinking, and pushes go through");
        beat.last_push = Some(at - BACKLOG_STUCK);
        assert_eq!(facts(Some(60), &beat), [Kind::BacklogGrowing], "stuck");
        beat.outbox_pending = BACKLOG_MIN - 1;
        assert!(facts(Some(0), &beat).is_empty(), "too small to matter");
    }

    #[test]
    fn clock_and_camera_alerts_need_more_than_a_moment() {
        let mut beat = beat();
        let at = beat.sent_at;
        beat.camera.state = CameraState::Waiting;
        beat.camera.waiting_seconds = 30;
        let facts = |offset, beat: &Heartbeat| {
            kinds(
                &Facts {
                    heartbeat: beat,
                    received_at: at,
                    clock_offset_ms: offset,
                    pending_hour_before: None,
                },
                at,
            )
        };
        assert!(facts(CLOCK_OFF_MS, &beat).is_empty());
        beat.camera.waiting_seconds = CAMERA_WAITING_SECONDS;
        assert_eq!(facts(-CLOCK_OFF_MS - 1, &beat), [Kind::ClockOff, Kind::CameraWaiting]);
    }
}

#[cfg(test)]
mod applied {
    use super::*;

    #[test]
    fn an_alert_clears_then_stays_quiet_a_while_and_going_offline_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let file = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let conn: &dyn Sql = &file;
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let disk = vec![(Kind::DiskLow, "1 MB free".to_owned())];
        let offline = vec![(Kind::Offline, "no heartbeat".to_owned())];
        let open = |conn: &dyn Sql| -> Vec<String> {
            conn.query_map(
                "SELECT kind FROM kiosk_alert WHERE cleared_at IS NULL ORDER BY kind",
                params![],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(apply(conn, 1, "PARIS", &disk, now).unwrap(), 1);
        assert_eq!(
            apply(conn, 1, "PARIS", &offline, now).unwrap(),
            1,
            "offline opens, disk stays"
        );
        assert_eq!(open(conn), ["disk_low", "offline"]);
        assert_eq!(
            apply(conn, 1, "PARIS", &[], now).unwrap(),
            2,
            "back, and the disk was freed"
        );
        let soon = now + SignedDuration::from_mins(1);
        assert_eq!(apply(conn, 1, "PARIS", &disk, soon).unwrap(), 0, "no flapping");
        let later = now + QUIET_AFTER_CLEARING + SignedDuration::from_secs(1);
        assert_eq!(apply(conn, 1, "PARIS", &disk, later).unwrap(), 1);
    }
}
