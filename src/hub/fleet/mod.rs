//! The fleet (`src/db/hub_v8.sql`): what each kiosk last said of its health, an hour by
//! hour history of it, and the kiosks as the console lists them (online, offline,
//! outdated, alerts).
//!
//! - [`alerts`]: the conditions that open and clear alerts, and their webhooks.
//!
//! A heartbeat is stored whole (its JSON) as the kiosk's latest, and as the last of its
//! hour; the history keeps 90 days of hours.

pub mod alerts;

use jiff::{SignedDuration, Timestamp};

use crate::db::{self, Dialect, Sql, params};
use crate::protocol::fleet::{Heartbeat, MAX_HEARTBEAT_TEXT};

/// A kiosk heard from within this is online.
pub const ONLINE_WITHIN: SignedDuration = SignedDuration::from_mins(5);
/// Hours of history kept.
pub const HISTORY_HOURS: i64 = 90 * 24;

/// Refuses a heartbeat with an oversized text; the message says which field.
pub fn check(beat: &Heartbeat) -> Result<(), String> {
    let texts = [
        ("app_version", Some(beat.app_version.as_str())),
        ("last_error", beat.last_error.as_deref()),
        ("camera.name", beat.camera.name.as_deref()),
    ];
    for (field, text) in texts {
        if text.is_some_and(|t| t.chars().count() > MAX_HEARTBEAT_TEXT) {
            return Err(format!("{field} is longer than {MAX_HEARTBEAT_TEXT} characters"));
        }
    }
    if !beat.camera.fps.is_finite() || beat.camera.fps < 0.0 {
        return Err("camera.fps must be a number of frames per second".to_owned());
    }
    let counts = [
        ("outbox_pending", Some(beat.outbox_pending)),
        ("outbox_rejected", Some(beat.outbox_rejected)),
        ("events_pending", Some(beat.events_pending)),
        ("products", Some(beat.products)),
        ("camera.waiting_seconds", Some(beat.camera.waiting_seconds)),
        ("camera.frames_given_up", Some(beat.camera.frames_given_up)),
        ("camera.minutes_since_read", beat.camera.minutes_since_read),
        ("disk_free_bytes", beat.disk_free_bytes),
        ("data_bytes", beat.data_bytes),
    ];
    for (field, count) in counts {
        if count.is_some_and(|n| i64::try_from(n).is_err()) {
            return Err(format!("{field} is larger than {}", i64::MAX));
        }
    }
    Ok(())
}

/// The edits a kiosk had waiting at the end of `hour`, if the hub heard from it then.
fn pending_in(conn: &dyn Sql, device_id: i64, hour: i64) -> db::Result<Option<u64>> {
    conn.query_opt(
        "SELECT outbox_pending FROM kiosk_health_hour WHERE device_id = ?1 AND hour = ?2",
        params![device_id, hour],
        |r| r.get(0),
    )
}

/// The shop of kiosk `id`, unless it is unknown or revoked.
pub fn store_of(conn: &dyn Sql, id: i64) -> db::Result<Option<String>> {
    conn.query_opt(
        "SELECT store_code FROM device WHERE id = ?1 AND revoked_at IS NULL",
        params![id],
        |r| r.get(0),
    )
}

/// Stores a kiosk's heartbeat and opens or clears its alerts. `now` is the hub's clock.
pub fn record(conn: &dyn Sql, device_id: i64, store_code: &str, beat: &Heartbeat, now: Timestamp) -> db::Result<()> {
    let offset = beat.sent_at.duration_since(now).as_millis();
    let offset = i64::try_from(offset).unwrap_or(if offset > 0 { i64::MAX } else { i64::MIN });
    let report = serde_json::to_string(beat).map_err(db::Error::value)?;
    let hour = now.as_second().div_euclid(3600);
    let pending_hour_before = pending_in(conn, device_id, hour - 1)?;
    let tx = conn.begin()?;
    tx.execute(
        "INSERT INTO kiosk_health (device_id, received_at, app_version, settings_version, clock_offset_ms, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (device_id) DO UPDATE SET received_at = excluded.received_at,
             app_version = excluded.app_version, settings_version = excluded.settings_version,
             clock_offset_ms = excluded.clock_offset_ms, report = excluded.report",
        params![
            device_id,
            now.as_second(),
            beat.app_version,
            beat.settings_version,
            offset,
            report
        ],
    )?;
    tx.execute(
        "INSERT INTO kiosk_health_hour (device_id, hour, received_at, outbox_pending, outbox_rejected, camera,
             disk_free_mb, clock_offset_ms, heartbeats)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)
         ON CONFLICT (device_id, hour) DO UPDATE SET received_at = excluded.received_at,
             outbox_pending = excluded.outbox_pending, outbox_rejected = excluded.outbox_rejected,
             camera = excluded.camera, disk_free_mb = excluded.disk_free_mb,
             clock_offset_ms = excluded.clock_offset_ms, heartbeats = kiosk_health_hour.heartbeats + 1",
        params![
            device_id,
            hour,
            now.as_second(),
            beat.outbox_pending,
            beat.outbox_rejected,
            beat.camera.state.as_str(),
            beat.disk_free_bytes.map(|b| b / (1024 * 1024)),
            offset
        ],
    )?;
    let facts = alerts::Facts {
        heartbeat: beat,
        received_at: now,
        clock_offset_ms: offset,
        pending_hour_before,
    };
    alerts::apply(&*tx, device_id, store_code, &alerts::conditions(&facts, now), now)?;
    tx.commit()
}

/// Judges every kiosk's alerts again at `now` (those that went quiet open `offline`).
/// Silence counts from `since` at the earliest (the hub's start): a hub that was down
/// heard nothing, and must not call its whole fleet offline. Returns how many alerts
/// opened or cleared.
pub fn evaluate_all(conn: &dyn Sql, now: Timestamp, since: Timestamp) -> db::Result<usize> {
    let rows: Vec<(i64, String, i64, i64, String)> = conn.query_map(
        "SELECT d.id, d.store_code, h.received_at, h.clock_offset_ms, h.report
         FROM kiosk_health h JOIN device d ON d.id = h.device_id WHERE d.revoked_at IS NULL",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let tx = conn.begin()?;
    let mut changed = 0;
    for (device_id, store, received_at, offset, report) in rows {
        let Ok(beat) = serde_json::from_str::<Heartbeat>(&report) else {
            continue;
        };
        let received_at = Timestamp::from_second(received_at).unwrap_or(now);
        let hour = received_at.as_second().div_euclid(3600);
        let heard = received_at.max(since);
        let pending_hour_before = pending_in(&*tx, device_id, hour - 1)?;
        let facts = alerts::Facts {
            heartbeat: &beat,
            received_at: heard,
            clock_offset_ms: offset,
            pending_hour_before,
        };
        changed += alerts::apply(&*tx, device_id, &store, &alerts::conditions(&facts, now), now)?;
    }
    tx.commit()?;
    Ok(changed)
}

/// Whether a kiosk is heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Online,
    Offline,
    /// Enrolled, never heard from.
    Never,
}

/// An open (or past) alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub kind: alerts::Kind,
    pub detail: String,
    pub opened_at: Timestamp,
    pub cleared_at: Option<Timestamp>,
}

/// A kiosk as the console lists it.
#[derive(Debug, Clone)]
pub struct Kiosk {
    pub id: i64,
    pub store_code: String,
    pub name: Option<String>,
    pub enrolled_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub heartbeat: Option<Heartbeat>,
    pub clock_offset_ms: i64,
    pub presence: Presence,
    /// Older than the newest version in the fleet.
    pub outdated: bool,
    pub open_alerts: Vec<Alert>,
}

const KIOSK_COLUMNS: &str = "d.id, d.store_code, d.name, d.enrolled_at, h.received_at, h.clock_offset_ms, h.report";

fn kiosk_row(r: &db::Row<'_>, now: Timestamp) -> db::Result<Kiosk> {
    let last_seen = r.get::<Option<i64>>(4)?.and_then(|s| Timestamp::from_second(s).ok());
    let heartbeat = r
        .get::<Option<String>>(6)?
        .and_then(|j| serde_json::from_str::<Heartbeat>(&j).ok());
    let presence = match last_seen {
        None => Presence::Never,
        Some(at) if now.duration_since(at) <= ONLINE_WITHIN => Presence::Online,
        Some(_) => Presence::Offline,
    };
    Ok(Kiosk {
        id: r.get(0)?,
        store_code: r.get(1)?,
        name: r.get(2)?,
        enrolled_at: Timestamp::from_second(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
        last_seen,
        heartbeat,
        clock_offset_ms: r.get::<Option<i64>>(5)?.unwrap_or(0),
        presence,
        outdated: false,
        open_alerts: Vec::new(),
    })
}

fn alert_row(r: &db::Row<'_>) -> db::Result<Option<Alert>> {
    let kind: String = r.get(1)?;
    Ok(alerts::Kind::parse(&kind).map(|kind| Alert {
        id: r.get(0).unwrap_or_default(),
        kind,
        detail: r.get(2).unwrap_or_default(),
        opened_at: Timestamp::from_second(r.get(3).unwrap_or_default()).unwrap_or(Timestamp::UNIX_EPOCH),
        cleared_at: r
            .get::<Option<i64>>(4)
            .ok()
            .flatten()
            .and_then(|s| Timestamp::from_second(s).ok()),
    }))
}

/// The kiosks (not revoked) of `shops` (every shop when `None`), by shop then id, with
/// their open alerts and whether they run an older version than the fleet's newest.
pub fn list(conn: &dyn Sql, shops: Option<&[String]>, now: Timestamp) -> db::Result<Vec<Kiosk>> {
    let shops_json = shops.map(|s| serde_json::to_string(s).unwrap_or_default());
    let mut kiosks: Vec<Kiosk> = conn.query_map(
        &format!(
            "SELECT {KIOSK_COLUMNS} FROM device d LEFT JOIN kiosk_health h ON h.device_id = d.id
             WHERE d.revoked_at IS NULL AND {} ORDER BY d.store_code, d.id",
            in_shops(conn, "d.store_code")
        ),
        params![shops_json],
        |r| kiosk_row(r, now),
    )?;
    let mut by_device: std::collections::HashMap<i64, Vec<Alert>> = std::collections::HashMap::new();
    let open: Vec<(i64, Option<Alert>)> = conn.query_map(
        &format!(
            "SELECT id, kind, detail, opened_at, cleared_at, device_id FROM kiosk_alert
             WHERE cleared_at IS NULL AND {}",
            in_shops(conn, "store_code")
        ),
        params![shops_json],
        |r| Ok((r.get(5)?, alert_row(r)?)),
    )?;
    for row in open {
        if let (device, Some(alert)) = row {
            by_device.entry(device).or_default().push(alert);
        }
    }
    let newest = newest_version(conn)?;
    for kiosk in &mut kiosks {
        kiosk.open_alerts = by_device.remove(&kiosk.id).unwrap_or_default();
        kiosk.open_alerts.sort_by_key(|a| a.kind);
        kiosk.outdated = is_older(
            kiosk.heartbeat.as_ref().map(|h| h.app_version.as_str()),
            newest.as_ref(),
        );
    }
    Ok(kiosks)
}

/// `column` is one of the shops listed in `?1` (JSON), or `?1` is NULL (every shop).
fn in_shops(conn: &dyn Sql, column: &str) -> String {
    match conn.dialect() {
        Dialect::Sqlite => format!("(?1 IS NULL OR {column} IN (SELECT value FROM json_each(?1)))"),
        Dialect::Postgres => format!(
            "(CAST(?1 AS TEXT) IS NULL OR {column} IN (SELECT jsonb_array_elements_text(CAST(?1 AS TEXT)::jsonb)))"
        ),
    }
}

/// The newest app version any kiosk of the fleet runs.
fn newest_version(conn: &dyn Sql) -> db::Result<Option<semver::Version>> {
    let versions: Vec<String> = conn.query_map(
        "SELECT DISTINCT h.app_version FROM kiosk_health h JOIN device d ON d.id = h.device_id
         WHERE d.revoked_at IS NULL",
        params![],
        |r| r.get(0),
    )?;
    Ok(versions.iter().filter_map(|v| semver::Version::parse(v).ok()).max())
}

fn is_older(version: Option<&str>, newest: Option<&semver::Version>) -> bool {
    match (version.and_then(|v| semver::Version::parse(v).ok()), newest) {
        (Some(version), Some(newest)) => version < *newest,
        _ => false,
    }
}

/// One kiosk, with its open alerts.
pub fn kiosk(conn: &dyn Sql, id: i64, now: Timestamp) -> db::Result<Option<Kiosk>> {
    let found = conn.query_opt(
        &format!(
            "SELECT {KIOSK_COLUMNS} FROM device d LEFT JOIN kiosk_health h ON h.device_id = d.id
             WHERE d.id = ?1 AND d.revoked_at IS NULL"
        ),
        params![id],
        |r| kiosk_row(r, now),
    )?;
    let Some(mut kiosk) = found else {
        return Ok(None);
    };
    kiosk.open_alerts = alerts_of(conn, id, 50)?
        .into_iter()
        .filter(|a| a.cleared_at.is_none())
        .collect();
    kiosk.outdated = is_older(
        kiosk.heartbeat.as_ref().map(|h| h.app_version.as_str()),
        newest_version(conn)?.as_ref(),
    );
    Ok(Some(kiosk))
}

/// A kiosk's alerts, open and past, newest first.
pub fn alerts_of(conn: &dyn Sql, device_id: i64, limit: usize) -> db::Result<Vec<Alert>> {
    let rows = conn.query_map(
        "SELECT id, kind, detail, opened_at, cleared_at FROM kiosk_alert WHERE device_id = ?1
         ORDER BY id DESC LIMIT ?2",
        params![device_id, limit as i64],
        alert_row,
    )?;
    Ok(rows.into_iter().flatten().collect())
}

/// One hour of a kiosk's history: the last heartbeat of that hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hour {
    pub at: Timestamp,
    pub outbox_pending: u64,
    pub outbox_rejected: u64,
    pub camera: String,
    pub disk_free_mb: Option<u64>,
    pub clock_offset_ms: Option<i64>,
    pub heartbeats: u64,
}

/// A kiosk's last `hours` of history, oldest first.
pub fn history(conn: &dyn Sql, device_id: i64, hours: i64, now: Timestamp) -> db::Result<Vec<Hour>> {
    let since = now.as_second().div_euclid(3600) - hours;
    conn.query_map(
        "SELECT received_at, outbox_pending, outbox_rejected, camera, disk_free_mb, clock_offset_ms, heartbeats
         FROM kiosk_health_hour WHERE device_id = ?1 AND hour > ?2 ORDER BY hour",
        params![device_id, since],
        |r| {
            Ok(Hour {
                at: Timestamp::from_second(r.get(0)?).unwrap_or(Timestamp::UNIX_EPOCH),
                outbox_pending: r.get(1)?,
                outbox_rejected: r.get(2)?,
                camera: r.get(3)?,
                disk_free_mb: r.get(4)?,
                clock_offset_ms: r.get(5)?,
                heartbeats: r.get(6)?,
            })
        },
    )
}

/// Deletes history and cleared alerts older than [`HISTORY_HOURS`].
pub fn prune(conn: &dyn Sql, now: Timestamp) -> db::Result<u64> {
    let hour = now.as_second().div_euclid(3600) - HISTORY_HOURS;
    Ok(
        conn.execute("DELETE FROM kiosk_health_hour WHERE hour < ?1", params![hour])?
            + conn.execute(
                "DELETE FROM kiosk_alert WHERE cleared_at IS NOT NULL AND cleared_at < ?1",
                params![hour * 3600],
            )?,
    )
}
