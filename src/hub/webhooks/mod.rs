//! Webhooks to the web store (Standard Webhooks 1.0), at least once.
//!
//! - this module: endpoints (registered by a web store key, each with its secret), the
//!   transactional outbox ([`enqueue`] writes a message and its deliveries in the
//!   transaction of the change it announces, so a change is announced if and only if it
//!   is committed), the retry schedule, and each attempt's outcome;
//! - [`deliver`]: the task that posts due deliveries, signed, and records what happened.
//!
//! An endpoint gets only the types its key's scopes would let it read through the API
//! (`wishlist.changed` and `visit.signed_in`: `wishlist:read`; `consent.changed`:
//! `consent:write`; `customer.erased`: `customers:erase`), and nothing once the key is
//! revoked.
//!
//! A delivery is retried on the configured schedule (Standard Webhooks': 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 10 h), waiting longer when the endpoint says `Retry-After`,
//! then given up. An endpoint that answers 410 Gone, or fails every delivery for
//! `disable_after_hours`, is disabled; a replay starts it again. Receivers deduplicate
//! by `webhook-id`: a message keeps its id across retries and replays.

pub mod deliver;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use rand::Rng as _;
use serde::Serialize;

use super::auth::Scope;
use super::images::Targets;
use crate::db::{self, Dialect, Sql, params};
use crate::protocol::webhooks::{
    CONSENT_CHANGED, CUSTOMER_ERASED, Delivery, EVENT_TYPES, Endpoint, EndpointRequest, EndpointSecret, KIOSK_ALERT,
    MAX_ENDPOINTS, VISIT_SIGNED_IN, WISHLIST_CHANGED, WebhookBody,
};

/// How long a rotated-out secret still signs.
pub const ROTATION_OVERLAP: SignedDuration = SignedDuration::from_hours(24);
/// How long messages (and their deliveries) are kept for replays.
pub const KEPT_DAYS: i64 = 30;
/// How long a delivery one hub took is hidden from the others sharing its PostgreSQL
/// database: well past an attempt (a 15 s timeout) and its record, and a hub that stops
/// mid-attempt leaves it to another after this.
pub const CLAIM_LEASE: SignedDuration = SignedDuration::from_secs(60);

/// Why an endpoint was not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Invalid(String),
    #[error("a key registers at most {MAX_ENDPOINTS} endpoints")]
    TooMany,
}

/// The scope a key needs to be sent an event type: the one that reads the same through
/// the API.
pub fn required_scope(kind: &str) -> Option<Scope> {
    match kind {
        WISHLIST_CHANGED | VISIT_SIGNED_IN => Some(Scope::WishlistRead),
        CONSENT_CHANGED => Some(Scope::ConsentWrite),
        CUSTOMER_ERASED => Some(Scope::CustomersErase),
        KIOSK_ALERT => Some(Scope::FleetRead),
        _ => None,
    }
}

/// Whether a key with `scopes` (as stored: space separated) may be sent `kind`.
fn allowed(scopes: &str, kind: &str) -> bool {
    required_scope(kind).is_some_and(|needed| scopes.split_whitespace().any(|s| s == needed.as_str()))
}

fn new_secret() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn ms(value: Option<i64>) -> Option<Timestamp> {
    value.and_then(|v| Timestamp::from_millisecond(v).ok())
}

const ENDPOINT_COLUMNS: &str = "id, url, events, created_at, failing_since, disabled_at, disabled_reason";

fn endpoint(r: &db::Row<'_>) -> db::Result<Endpoint> {
    let events: String = r.get(2)?;
    Ok(Endpoint {
        id: r.get(0)?,
        url: r.get(1)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        created_at: ms(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
        failing_since: ms(r.get(4)?),
        disabled_at: ms(r.get(5)?),
        disabled_reason: r.get(6)?,
    })
}

/// Registers an endpoint for `api_key`: its URL checked (http(s), an address the hub
/// may reach when it is one; a host name is checked on what it resolves to, at each
/// delivery), its event types known.
pub fn register(
    conn: &dyn Sql,
    targets: &Targets,
    api_key: i64,
    scopes: &[Scope],
    request: &EndpointRequest,
    now: Timestamp,
) -> db::Result<Result<EndpointSecret, Refused>> {
    if request.url.len() > 2048 {
        return Ok(Err(Refused::Invalid("a URL is at most 2048 characters".to_owned())));
    }
    let url = match reqwest::Url::parse(&request.url) {
        Ok(url) => url,
        Err(e) => return Ok(Err(Refused::Invalid(format!("'{}' is not a URL: {e}", request.url)))),
    };
    if let Err(e) = targets.check(&url) {
        return Ok(Err(Refused::Invalid(e.to_string())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Ok(Err(Refused::Invalid(
            "a URL with credentials in it would be logged; the signature authenticates the hub".to_owned(),
        )));
    }
    if let Some(unknown) = request.events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Ok(Err(Refused::Invalid(format!(
            "unknown event type '{unknown}'; types are {}",
            EVENT_TYPES.join(", ")
        ))));
    }
    if let Some(kind) = request
        .events
        .iter()
        .find(|e| required_scope(e).is_some_and(|needed| !scopes.contains(&needed)))
    {
        let needed = required_scope(kind).map_or("", Scope::as_str);
        return Ok(Err(Refused::Invalid(format!(
            "this key may not be sent {kind}: it needs the scope {needed}"
        ))));
    }
    let mut events = request.events.clone();
    events.sort();
    events.dedup();
    let count: usize = conn.one(
        "SELECT COUNT(*) FROM webhook_endpoint WHERE api_key_id = ?1",
        params![api_key],
    )?;
    if count >= MAX_ENDPOINTS {
        return Ok(Err(Refused::TooMany));
    }
    let secret = new_secret();
    let id: i64 = conn.one(
        "INSERT INTO webhook_endpoint (api_key_id, url, events, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         RETURNING id",
        params![
            api_key,
            url.as_str(),
            serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_owned()),
            secret,
            now.as_millisecond()
        ],
    )?;
    let endpoint = find(conn, api_key, id)?.expect("just inserted");
    Ok(Ok(EndpointSecret {
        endpoint,
        secret,
        previous_valid_until: None,
    }))
}

/// An endpoint of `api_key`.
pub fn find(conn: &dyn Sql, api_key: i64, id: i64) -> db::Result<Option<Endpoint>> {
    conn.query_opt(
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE id = ?1 AND api_key_id = ?2"),
        params![id, api_key],
        endpoint,
    )
}

/// The endpoints `api_key` registered.
pub fn list(conn: &dyn Sql, api_key: i64) -> db::Result<Vec<Endpoint>> {
    conn.query_map(
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE api_key_id = ?1 ORDER BY id"),
        params![api_key],
        endpoint,
    )
}

/// Deletes an endpoint of `api_key` and its deliveries; whether there was one.
pub fn remove(conn: &dyn Sql, api_key: i64, id: i64) -> db::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM webhook_endpoint WHERE id = ?1 AND api_key_id = ?2",
        params![id, api_key],
    )? > 0)
}

/// A new secret for an endpoint; the old one keeps signing beside it for a day.
pub fn rotate(conn: &dyn Sql, api_key: i64, id: i64, now: Timestamp) -> db::Result<Option<EndpointSecret>> {
    let secret = new_secret();
    let until = now + ROTATION_OVERLAP;
    let changed = conn.execute(
        "UPDATE webhook_endpoint SET previous_secret = secret, previous_until = ?1, secret = ?2
         WHERE id = ?3 AND api_key_id = ?4",
        params![until.as_millisecond(), secret, id, api_key],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    Ok(find(conn, api_key, id)?.map(|endpoint| EndpointSecret {
        endpoint,
        secret,
        previous_valid_until: Some(until),
    }))
}

/// Whether an endpoint subscribed to `events` (JSON, `[]` for all) gets `kind`.
fn subscribed(events: &str, kind: &str) -> bool {
    let events: Vec<String> = serde_json::from_str(events).unwrap_or_default();
    events.is_empty() || events.iter().any(|e| e == kind)
}

/// Announces a change: a message and a delivery per enabled endpoint that wants it, in
/// the caller's transaction. Nothing is written when no endpoint wants it. Returns the
/// deliveries queued.
pub fn enqueue(conn: &dyn Sql, kind: &str, data: &impl Serialize, now: Timestamp) -> db::Result<usize> {
    let enabled: Vec<(i64, String, String)> = conn.query_map(
        "SELECT e.id, e.events, k.scopes FROM webhook_endpoint e JOIN api_key k ON k.id = e.api_key_id
         WHERE e.disabled_at IS NULL AND k.revoked_at IS NULL",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let endpoints: Vec<i64> = enabled
        .into_iter()
        .filter(|(_, events, scopes)| subscribed(events, kind) && allowed(scopes, kind))
        .map(|(id, _, _)| id)
        .collect();
    if endpoints.is_empty() {
        return Ok(0);
    }
    let body = WebhookBody {
        kind: kind.to_owned(),
        timestamp: now,
        data: serde_json::to_value(data).unwrap_or_default(),
    };
    let message: i64 = conn.one(
        "INSERT INTO webhook_message (msg_id, type, payload, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![
            format!("msg_{}", crate::protocol::new_id()),
            kind,
            serde_json::to_string(&body).unwrap_or_default(),
            now.as_millisecond()
        ],
    )?;
    for endpoint in &endpoints {
        conn.execute(
            "INSERT INTO webhook_delivery (message_id, endpoint_id, state, next_at) VALUES (?1, ?2, 'pending', ?3)",
            params![message, endpoint, now.as_millisecond()],
        )?;
    }
    Ok(endpoints.len())
}

/// The latest deliveries to an endpoint of `api_key`, newest first.
pub fn deliveries(conn: &dyn Sql, api_key: i64, id: i64, limit: usize) -> db::Result<Option<Vec<Delivery>>> {
    if find(conn, api_key, id)?.is_none() {
        return Ok(None);
    }
    let rows = conn.query_map(
        "SELECT m.msg_id, m.type, m.created_at, d.state, d.attempts, d.last_status, d.last_error, d.next_at
         FROM webhook_delivery d JOIN webhook_message m ON m.id = d.message_id
         WHERE d.endpoint_id = ?1 ORDER BY m.id DESC LIMIT ?2",
        params![id, limit as i64],
        |r| {
            Ok(Delivery {
                message_id: r.get(0)?,
                kind: r.get(1)?,
                created_at: ms(r.get(2)?).unwrap_or(Timestamp::UNIX_EPOCH),
                state: r.get(3)?,
                attempts: r.get(4)?,
                last_status: r.get(5)?,
                last_error: r.get(6)?,
                next_at: ms(r.get(7)?),
            })
        },
    )?;
    Ok(Some(rows))
}

/// Sends every message since `since` (and since the endpoint was registered) to an
/// endpoint of `api_key` again, those it wants and its key may read, and starts it again
/// if it was disabled. Returns the deliveries queued.
pub fn replay(conn: &dyn Sql, api_key: i64, id: i64, since: Timestamp, now: Timestamp) -> db::Result<Option<usize>> {
    let tx = conn.begin()?;
    let endpoint: Option<(String, String, i64)> = tx.query_opt(
        "SELECT e.events, k.scopes, e.created_at FROM webhook_endpoint e JOIN api_key k ON k.id = e.api_key_id
         WHERE e.id = ?1 AND e.api_key_id = ?2",
        params![id, api_key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((events, scopes, created_at)) = endpoint else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE webhook_endpoint SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL,
             last_failure_at = NULL WHERE id = ?1",
        params![id],
    )?;
    let messages: Vec<(i64, String)> = tx.query_map(
        "SELECT id, type FROM webhook_message WHERE created_at >= ?1 ORDER BY id",
        params![since.as_millisecond().max(created_at)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut queued = 0;
    let wanted = |kind: &String| subscribed(&events, kind) && allowed(&scopes, kind);
    for (message, _) in messages.iter().filter(|(_, kind)| wanted(kind)) {
        tx.execute(
            "INSERT INTO webhook_delivery (message_id, endpoint_id, state, attempts, next_at)
             VALUES (?1, ?2, 'pending', 0, ?3)
             ON CONFLICT (message_id, endpoint_id) DO UPDATE SET state = 'pending', attempts = 0,
                 next_at = excluded.next_at",
            params![message, id, now.as_millisecond()],
        )?;
        queued += 1;
    }
    tx.commit()?;
    Ok(Some(queued))
}

/// A delivery whose time has come, with what posting it needs.
#[derive(Debug, Clone)]
pub struct Due {
    pub message: i64,
    pub endpoint: i64,
    pub msg_id: String,
    pub url: String,
    pub payload: String,
    /// The secrets that sign it: the current one, and a rotated-out one still valid.
    pub secrets: Vec<String>,
    pub attempts: u32,
}

/// The deliveries due at `now` (at most `max` looked at, oldest first) that `take`
/// wants to post now.
///
/// Several hubs may share one PostgreSQL database: there the rows looked at are locked
/// (`FOR UPDATE SKIP LOCKED`: those another hub is taking are passed over) and the ones
/// taken are claimed for [`CLAIM_LEASE`] (their `next_at` pushed past it) before the
/// transaction ends, so no other hub posts them meanwhile; [`record`] then sets the
/// real next time. SQLite has one hub (its writer lock): nothing is claimed there.
pub fn due(conn: &dyn Sql, now: Timestamp, max: usize, mut take: impl FnMut(&Due) -> bool) -> db::Result<Vec<Due>> {
    const DUE: &str = "SELECT d.message_id, d.endpoint_id, m.msg_id, e.url, m.payload, e.secret, e.previous_secret,
             e.previous_until, d.attempts
         FROM webhook_delivery d
         JOIN webhook_message m ON m.id = d.message_id
         JOIN webhook_endpoint e ON e.id = d.endpoint_id
         JOIN api_key k ON k.id = e.api_key_id
         WHERE d.state = 'pending' AND d.next_at <= ?1 AND e.disabled_at IS NULL AND k.revoked_at IS NULL
         ORDER BY d.next_at LIMIT ?2";
    let claiming = conn.dialect() == Dialect::Postgres;
    let tx = if claiming { Some(conn.begin()?) } else { None };
    let locked = format!("{DUE} FOR UPDATE OF d SKIP LOCKED");
    let found = conn.query_map(
        conn.pick(DUE, &locked),
        params![now.as_millisecond(), max as i64],
        |r| {
            let mut secrets = vec![r.get::<String>(5)?];
            let previous: Option<String> = r.get(6)?;
            let until: Option<i64> = r.get(7)?;
            if let (Some(previous), Some(until)) = (previous, until)
                && until > now.as_millisecond()
            {
                secrets.push(previous);
            }
            Ok(Due {
                message: r.get(0)?,
                endpoint: r.get(1)?,
                msg_id: r.get(2)?,
                url: r.get(3)?,
                payload: r.get(4)?,
                secrets,
                attempts: r.get(8)?,
            })
        },
    )?;
    let taken: Vec<Due> = found.into_iter().filter(|d| take(d)).collect();
    if let Some(tx) = tx {
        let until = (now + CLAIM_LEASE).as_millisecond();
        for d in &taken {
            tx.execute(
                "UPDATE webhook_delivery SET next_at = ?1 WHERE message_id = ?2 AND endpoint_id = ?3",
                params![until, d.message, d.endpoint],
            )?;
        }
        tx.commit()?;
    }
    Ok(taken)
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered { status: u16 },
    /// 410 Gone: the receiver wants no more.
    Gone,
    /// Anything else; `retry_after` when the endpoint asked for a wait.
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<SignedDuration>,
    },
}

/// The wait before the next attempt after `attempts` failed ones, or `None` to give up:
/// the schedule's, lengthened to the endpoint's `Retry-After` (at most a day).
pub fn next_wait(schedule: &[u32], attempts: u32, retry_after: Option<SignedDuration>) -> Option<SignedDuration> {
    let planned = SignedDuration::from_secs(i64::from(*schedule.get(attempts as usize - 1)?));
    let asked = retry_after
        .unwrap_or(SignedDuration::ZERO)
        .clamp(SignedDuration::ZERO, SignedDuration::from_hours(24));
    Some(planned.max(asked))
}

/// Records an attempt's outcome: the delivery's state, and the endpoint's health
/// (disabled on 410, or when it has failed for longer than `disable_after`).
pub fn record(
    conn: &dyn Sql,
    due: &Due,
    outcome: &Outcome,
    schedule: &[u32],
    disable_after: SignedDuration,
    now: Timestamp,
) -> db::Result<()> {
    let tx = conn.begin()?;
    let attempts = due.attempts + 1;
    let at = now.as_millisecond();
    match outcome {
        Outcome::Delivered { status } => {
            tx.execute(
                "UPDATE webhook_delivery SET state = 'delivered', attempts = ?1, next_at = NULL, last_status = ?2,
                     last_error = NULL, last_at = ?3 WHERE message_id = ?4 AND endpoint_id = ?5",
                params![attempts, status, at, due.message, due.endpoint],
            )?;
            tx.execute(
                "UPDATE webhook_endpoint SET failing_since = NULL, last_failure_at = NULL WHERE id = ?1",
                params![due.endpoint],
            )?;
        }
        Outcome::Gone => {
            tx.execute(
                "UPDATE webhook_delivery SET state = 'failed', attempts = ?1, next_at = NULL, last_status = 410,
                     last_error = 'gone', last_at = ?2 WHERE message_id = ?3 AND endpoint_id = ?4",
                params![attempts, at, due.message, due.endpoint],
            )?;
            tx.execute(
                "UPDATE webhook_endpoint SET disabled_at = ?1, disabled_reason = 'the endpoint answered 410 Gone'
                 WHERE id = ?2",
                params![at, due.endpoint],
            )?;
            tracing::warn!(
                endpoint = due.endpoint,
                "a webhook endpoint answered 410 Gone: disabled"
            );
        }
        Outcome::Failed {
            status,
            error,
            retry_after,
        } => {
            let next = next_wait(schedule, attempts, *retry_after).map(|wait| (now + wait).as_millisecond());
            let state = if next.is_some() { "pending" } else { "failed" };
            tx.execute(
                "UPDATE webhook_delivery SET state = ?1, attempts = ?2, next_at = ?3, last_status = ?4,
                     last_error = ?5, last_at = ?6 WHERE message_id = ?7 AND endpoint_id = ?8",
                params![state, attempts, next, status, error, at, due.message, due.endpoint],
            )?;
            tx.execute(
                "UPDATE webhook_endpoint SET
                     failing_since = CASE WHEN failing_since IS NULL OR last_failure_at < CAST(?1 AS BIGINT) - 86400000
                         THEN CAST(?1 AS BIGINT) ELSE failing_since END,
                     last_failure_at = ?1
                 WHERE id = ?2",
                params![at, due.endpoint],
            )?;
            let disabled = tx.execute(
                "UPDATE webhook_endpoint SET disabled_at = ?1,
                     disabled_reason = 'every delivery failed for ' || CAST(?2 AS TEXT) || ' hours'
                 WHERE id = ?3 AND disabled_at IS NULL AND failing_since <= CAST(?1 AS BIGINT) - CAST(?4 AS BIGINT)",
                params![
                    at,
                    disable_after.as_hours().to_string(),
                    due.endpoint,
                    disable_after.as_millis() as i64
                ],
            )?;
            if disabled > 0 {
                tracing::warn!(endpoint = due.endpoint, "a webhook endpoint failed for days: disabled");
            }
        }
    }
    tx.commit()
}

/// Deletes messages older than [`KEPT_DAYS`], with their deliveries.
pub fn prune(conn: &dyn Sql, now: Timestamp) -> db::Result<u64> {
    let cutoff = now - SignedDuration::from_hours(24 * KEPT_DAYS);
    conn.execute(
        "DELETE FROM webhook_message WHERE created_at < ?1",
        params![cutoff.as_millisecond()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_waits_longer_each_time_then_gives_up() {
        let schedule = [5, 300, 1_800];
        let secs = |s: i64| Some(SignedDuration::from_secs(s));
        assert_eq!(next_wait(&schedule, 1, None), secs(5));
        assert_eq!(next_wait(&schedule, 3, None), secs(1_800));
        assert_eq!(next_wait(&schedule, 4, None), None);
        // Retry-After lengthens a wait, never shortens it, and is capped at a day.
        assert_eq!(next_wait(&schedule, 1, secs(60)), secs(60));
        assert_eq!(next_wait(&schedule, 2, secs(60)), secs(300));
        assert_eq!(next_wait(&schedule, 1, secs(10_000_000)), secs(86_400));
        assert_eq!(next_wait(&[], 1, None), None);
    }

    #[test]
    fn an_endpoint_gets_the_types_it_asked_for_or_all() {
        assert!(subscribed("[]", "wishlist.changed"));
        assert!(subscribed(r#"["visit.signed_in"]"#, "visit.signed_in"));
        assert!(!subscribed(r#"["visit.signed_in"]"#, "wishlist.changed"));
    }
}
