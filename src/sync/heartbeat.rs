//! The heartbeat, kiosk side: what the staff health screen shows, sent to the hub every
//! [`HEARTBEAT_SECONDS`](crate::protocol::fleet::HEARTBEAT_SECONDS) so the hub's fleet
//! page sees every kiosk without anyone walking up to it.
//!
//! [`build`] makes it from plain values (no I/O, the time an input); [`read`] takes those
//! values from the kiosk database and [`disk_free`] from its file system. The camera's
//! health comes from the UI, which writes it into a [`CameraReport`] the sync thread
//! reads. Heartbeats are never stored or queued: the newest replaces the last, and
//! `sync::driver` sends them.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use rusqlite::Connection;

use super::events;
use super::outbox::{self, Status};
use crate::protocol::fleet::{CameraHealth, CameraState, Heartbeat, MAX_HEARTBEAT_TEXT};
use crate::staff::roster;

/// What the kiosk database says about the kiosk, for a heartbeat.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// The outbox and the last push, pull and failure.
    pub status: Status,
    /// Staff keypad events and measurement events waiting for the hub.
    pub events_pending: u64,
    /// Products in the kiosk's catalog.
    pub products: u64,
    /// The stock levels' date, from the last inventory feed the kiosk has.
    pub inventory_as_of: Option<Timestamp>,
    /// The remote settings' version the kiosk has (0: none set).
    pub settings_version: i64,
}

/// Reads the heartbeat's facts from the kiosk database.
pub fn read(conn: &Connection) -> crate::db::Result<Facts> {
    Ok(Facts {
        status: outbox::status(conn)?,
        events_pending: roster::events_waiting(conn)?.saturating_add(events::waiting(conn)?),
        products: crate::catalog::product_count(conn)?,
        inventory_as_of: crate::catalog::inventory_as_of(conn)?,
        settings_version: crate::trust::settings(conn)?.remote.version,
    })
}

/// Bytes free for the app on the file system holding `dir` (the kiosk's data), if the
/// system says. Only the kiosk build measures it (statvfs through rustix).
#[cfg(feature = "kiosk")]
pub fn disk_free(dir: &Path) -> Option<u64> {
    rustix::fs::statvfs(dir)
        .ok()
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
}

/// Bytes free for the app on the file system holding `dir`: not measured without the
/// `kiosk` feature (a build that runs no kiosk).
#[cfg(not(feature = "kiosk"))]
pub fn disk_free(_dir: &Path) -> Option<u64> {
    None
}

/// The heartbeat from what the kiosk knows at `now`. Texts are cut to what the hub
/// accepts ([`MAX_HEARTBEAT_TEXT`] characters), since it refuses a longer one whole, and
/// a frame rate that is not a number is sent as 0.
pub fn build(facts: Facts, now: Timestamp, camera: CameraHealth, disk_free_bytes: Option<u64>) -> Heartbeat {
    let status = facts.status;
    Heartbeat {
        app_version: cut(env!("CARGO_PKG_VERSION").to_owned()),
        sent_at: now,
        last_push: status.last_push,
        last_pull: status.last_pull,
        last_error: status.last_error.map(cut),
        outbox_pending: status.pending,
        outbox_rejected: status.rejected,
        events_pending: facts.events_pending,
        products: facts.products,
        inventory_as_of: facts.inventory_as_of,
        camera: CameraHealth {
            name: camera.name.map(cut),
            fps: if camera.fps.is_finite() && camera.fps >= 0.0 {
                camera.fps
            } else {
                0.0
            },
            ..camera
        },
        disk_free_bytes,
        // Walking the data directory every minute costs too much; the staff screen does
        // it when opened.
        data_bytes: None,
        settings_version: Some(facts.settings_version),
    }
}

/// `text`, at most [`MAX_HEARTBEAT_TEXT`] characters of it.
fn cut(text: String) -> String {
    if text.chars().count() <= MAX_HEARTBEAT_TEXT {
        return text;
    }
    text.chars().take(MAX_HEARTBEAT_TEXT).collect()
}

/// A kiosk's camera when the UI has said nothing of it: none.
pub fn no_camera() -> CameraHealth {
    CameraHealth {
        state: CameraState::Absent,
        name: None,
        fps: 0.0,
        waiting_seconds: 0,
        frames_given_up: 0,
        minutes_since_read: None,
    }
}

/// The camera's latest health, shared between the UI, which writes it every few
/// seconds, and the sync thread, which reads it for each heartbeat. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct CameraReport(Arc<Mutex<Option<CameraHealth>>>);

impl CameraReport {
    /// Replaces what was said of the camera.
    pub fn set(&self, camera: CameraHealth) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(camera);
    }

    /// The camera as last said, or [`no_camera`] when nothing was.
    pub fn latest(&self) -> CameraHealth {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(no_camera)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            status: Status {
                pending: 3,
                rejected: 1,
                last_push: Some(at(1_700_000_000)),
                last_pull: Some(at(1_700_000_100)),
                last_error: Some("timed out".into()),
                retry_at: None,
                stream: "s".into(),
            },
            events_pending: 7,
            products: 42,
            inventory_as_of: Some(at(1_699_999_000)),
            settings_version: 0,
        }
    }

    fn running() -> CameraHealth {
        CameraHealth {
            state: CameraState::Running,
            name: Some("USB camera".into()),
            fps: 14.5,
            waiting_seconds: 0,
            frames_given_up: 2,
            minutes_since_read: Some(5),
        }
    }

    #[test]
    fn the_heartbeat_carries_what_the_kiosk_knows() {
        let now = at(1_700_000_200);
        let beat = build(facts(), now, running(), Some(1 << 30));
        assert_eq!(beat.app_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(beat.sent_at, now);
        assert_eq!(beat.last_push, Some(at(1_700_000_000)));
        assert_eq!(beat.last_pull, Some(at(1_700_000_100)));
        assert_eq!(beat.last_error.as_deref(), Some("timed out"));
        assert_eq!((beat.outbox_pending, beat.outbox_rejected), (3, 1));
        assert_eq!(beat.events_pending, 7);
        assert_eq!(beat.products, 42);
        assert_eq!(beat.inventory_as_of, Some(at(1_699_999_000)));
        assert_eq!(beat.camera, running());
        assert_eq!(beat.disk_free_bytes, Some(1 << 30));
        assert_eq!((beat.data_bytes, beat.settings_version), (None, Some(0)));
    }

    #[test]
    fn long_texts_are_cut_to_what_the_hub_accepts() {
        let mut facts = facts();
        facts.status.last_error = Some("é".repeat(MAX_HEARTBEAT_TEXT + 50));
        let camera = CameraHealth {
            name: Some("c".repeat(MAX_HEARTBEAT_TEXT + 1)),
            ..running()
        };
        let beat = build(facts, at(1_700_000_200), camera, None);
        assert_eq!(beat.last_error, Some("é".repeat(MAX_HEARTBEAT_TEXT)));
        assert_eq!(beat.camera.name, Some("c".repeat(MAX_HEARTBEAT_TEXT)));
        let exact = "x".repeat(MAX_HEARTBEAT_TEXT);
        assert_eq!(cut(exact.clone()), exact, "a text at the limit stays whole");
    }

    #[test]
    fn a_frame_rate_that_is_not_a_number_is_sent_as_zero() {
        for fps in [f32::NAN, f32::INFINITY, -1.0] {
            let camera = CameraHealth { fps, ..running() };
            assert_eq!(build(facts(), at(1_700_000_200), camera, None).camera.fps, 0.0);
        }
    }

    #[test]
    fn without_a_report_the_camera_is_absent_and_the_newest_report_wins() {
        let report = CameraReport::default();
        assert_eq!(report.latest(), no_camera());
        let shared = report.clone();
        shared.set(CameraHealth {
            state: CameraState::Waiting,
            ..no_camera()
        });
        shared.set(running());
        assert_eq!(report.latest(), running());
    }

    #[test]
    fn the_facts_are_read_from_a_kiosk_database() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("kiosk.sqlite"), crate::db::Schema::Kiosk).unwrap();
        let facts = read(&conn).unwrap();
        assert_eq!((facts.status.pending, facts.events_pending, facts.products), (0, 0, 0));
        assert_eq!(facts.inventory_as_of, None);
    }
}
