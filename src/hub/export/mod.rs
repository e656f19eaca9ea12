//! Forwarding kiosk events to the analytics tool the web store already uses, as they
//! arrive: Google Analytics 4's Measurement Protocol ([`ga4`]) and PostHog's capture API
//! ([`posthog`]), each mapped as its documentation asks.
//!
//! Each export keeps its place in the hub's events (`export_cursor`) and moves it only
//! after the tool accepted a batch: at least once, in the order the hub stored them. A
//! new export starts with the last 72 hours (GA4 takes nothing older).
//!
//! Anonymous stays anonymous: a visit's events go under the visit's random id, a search
//! (which never names a visit) under its shop, and staff look-ups are not sent. Only
//! when the customer who signed in to the visit consents does the export name them
//! (`user_id`, PostHog's `distinct_id`), as the reports link them.

pub mod ga4;
pub mod posthog;

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::images::{self, Targets};
use super::store::Store;

/// Events read per round.
const BATCH: usize = 500;
/// How far back a new export starts.
pub const FIRST_LOOK_BACK: SignedDuration = SignedDuration::from_hours(72);

/// One stored event, as the exports read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub seq: i64,
    pub store_code: String,
    pub device_id: i64,
    pub at: Timestamp,
    pub visit: Option<String>,
    pub kind: String,
    pub sku: Option<String>,
    pub detail: Option<String>,
    pub value: Option<i64>,
    /// The customer who signed in to the visit, if they consent to being linked.
    pub customer: Option<String>,
}

/// The events after `name`'s cursor, at most `max`; a new export's cursor starts
/// [`FIRST_LOOK_BACK`] before `now`.
pub fn after_cursor(conn: &Connection, name: &str, now: Timestamp, max: usize) -> rusqlite::Result<Vec<Row>> {
    let cursor: Option<i64> = conn
        .query_row("SELECT seq FROM export_cursor WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    let cursor = match cursor {
        Some(seq) => seq,
        None => conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM kiosk_event WHERE at < ?1",
            [(now - FIRST_LOOK_BACK).as_millisecond()],
            |r| r.get(0),
        )?,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT e.seq, e.store_code, e.device_id, e.at, e.visit, e.kind, e.sku, e.detail, e.value,
             CASE WHEN c.measurement THEN v.customer END
         FROM kiosk_event e
         LEFT JOIN visit v ON v.session = e.visit
         LEFT JOIN consent c ON c.customer = v.customer
         WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
    )?;
    stmt.query_map(params![cursor, max as i64], |r| {
        Ok(Row {
            seq: r.get(0)?,
            store_code: r.get(1)?,
            device_id: r.get(2)?,
            at: Timestamp::from_millisecond(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
            visit: r.get(4)?,
            kind: r.get(5)?,
            sku: r.get(6)?,
            detail: r.get(7)?,
            value: r.get(8)?,
            customer: r.get(9)?,
        })
    })?
    .collect()
}

/// Records that `name` forwarded everything up to `seq`.
pub fn advance(conn: &Connection, name: &str, seq: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO export_cursor (name, seq) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq)",
        params![name, seq],
    )?;
    Ok(())
}

/// A tool events are forwarded to.
pub trait Exporter: Send + Sync + 'static {
    /// The cursor's name.
    fn name(&self) -> &'static str;
    /// Sends what the tool takes of `rows` (all in order); `Err` with why on a failure,
    /// and the whole batch is sent again.
    fn send<'a>(
        &'a self,
        http: &'a reqwest::Client,
        rows: &'a [Row],
        now: Timestamp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Forwards events to `exporter` until the store closes: every two seconds while there
/// are none, backing off up to five minutes while the tool fails.
pub async fn run(store: Store, targets: Arc<Targets>, exporter: Arc<dyn Exporter>) {
    let http = images::client(&targets, Duration::from_secs(20));
    let mut failures = 0u32;
    loop {
        let name = exporter.name();
        let rows = match store
            .read(move |c| after_cursor(c, name, Timestamp::now(), BATCH))
            .await
        {
            Ok(rows) => rows,
            Err(crate::hub::store::StoreError::Closed) => return,
            Err(e) => {
                tracing::error!(export = name, error = %e, "cannot read the events to export");
                Vec::new()
            }
        };
        let Some(last) = rows.last().map(|r| r.seq) else {
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        };
        match exporter.send(&http, &rows, Timestamp::now()).await {
            Ok(()) => {
                failures = 0;
                match store.write(move |w| advance(w.catalog.connection(), name, last)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(export = name, error = %e, "cannot record the export's place"),
                    Err(_) => return,
                }
            }
            Err(why) => {
                failures += 1;
                let wait = Duration::from_secs(1 << failures.min(8)).min(Duration::from_secs(300));
                tracing::warn!(
                    export = name,
                    why,
                    retry_in_s = wait.as_secs(),
                    "the analytics tool refused events"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The id the tools know an event's visitor by: the consenting customer, else the
/// visit's random id, else (a search) the shop.
pub fn visitor(row: &Row) -> String {
    match (&row.customer, &row.visit) {
        (Some(customer), _) => customer.clone(),
        (None, Some(visit)) => visit.clone(),
        (None, None) => format!("shop.{}", row.store_code),
    }
}

/// Posts a JSON body and checks for a 2xx.
async fn post_json(http: &reqwest::Client, url: reqwest::Url, body: &serde_json::Value) -> Result<(), String> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| crate::net::describe(&e))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let text: String = response.text().await.unwrap_or_default().chars().take(200).collect();
        Err(format!("answered {status}: {text}"))
    }
}
