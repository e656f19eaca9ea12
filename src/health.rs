//! The kiosk's health (feature `kiosk`), as its staff screen shows it: sync state and
//! catalog from the database, disk use from a walk of the data directory (both off the
//! UI thread, on the catalog thread), and whether the hub looks reachable, decided from
//! those facts.

use std::path::Path;

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::staff::roster;
use crate::sync::outbox::{self, Device, Status};

/// What the kiosk's own files say about it.
#[derive(Debug, Clone)]
pub struct Health {
    pub status: Status,
    /// Staff keypad events not yet handed to the hub.
    pub events_waiting: u64,
    pub device: Option<Device>,
    pub products: u64,
    pub inventory_as_of: Option<Timestamp>,
}

/// Reads the kiosk's health from its database.
pub fn gather(catalog: &mut Catalog) -> crate::db::Result<Health> {
    let conn = catalog.connection();
    Ok(Health {
        status: outbox::status(conn)?,
        events_waiting: roster::events_waiting(conn)?,
        device: outbox::device(conn)?,
        products: crate::catalog::product_count(conn)?,
        inventory_as_of: crate::catalog::inventory_as_of(conn)?,
    })
}

/// Whether the hub looks reachable, before a probe answers: the last push did not fail,
/// the kiosk is enrolled, and a pull came in lately (every five minutes when all is well).
pub fn looks_reachable(health: &Health, now: Timestamp) -> bool {
    let pulled_lately = health
        .status
        .last_pull
        .is_some_and(|at| now.duration_since(at).as_secs().max(0) / 60 <= 15);
    health.status.last_error.is_none() && health.device.is_some() && pulled_lately
}

/// Bytes under `dir` (the kiosk's data: its database and picture cache), and bytes free
/// on its file system. A walk of every file: done when asked, not at each refresh.
pub fn disk_use(dir: &Path) -> (u64, u64) {
    fn size(path: &Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let free = rustix::fs::statvfs(dir)
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
        .unwrap_or(0);
    (size(dir), free)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(last_pull: Option<Timestamp>, last_error: Option<&str>, enrolled: bool) -> Health {
        Health {
            status: Status {
                pending: 0,
                rejected: 0,
                last_push: None,
                last_pull,
                last_error: last_error.map(str::to_owned),
                retry_at: None,
                stream: "s".into(),
            },
            events_waiting: 0,
            device: enrolled.then(|| Device {
                hub_url: "http://hub".into(),
                device_id: 1,
                store_code: "PARIS".into(),
                token: "vtk_x".into(),
            }),
            products: 0,
            inventory_as_of: None,
        }
    }

    #[test]
    fn the_hub_looks_reachable_after_a_recent_pull_and_no_failed_push() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let minutes_ago = |m: i64| Some(now - jiff::SignedDuration::from_mins(m));
        assert!(looks_reachable(&health(minutes_ago(4), None, true), now));
        assert!(
            !looks_reachable(&health(minutes_ago(40), None, true), now),
            "no pull lately"
        );
        assert!(!looks_reachable(&health(minutes_ago(4), Some("timed out"), true), now));
        assert!(
            !looks_reachable(&health(minutes_ago(4), None, false), now),
            "not enrolled"
        );
        assert!(!looks_reachable(&health(None, None, true), now), "never pulled");
    }

    #[test]
    fn disk_use_counts_every_file_under_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pictures")).unwrap();
        std::fs::write(dir.path().join("pictures/a"), [0u8; 300]).unwrap();
        std::fs::write(dir.path().join("kiosk.sqlite"), [0u8; 200]).unwrap();
        assert_eq!(disk_use(dir.path()).0, 500);
    }
}
