//! Forwarding kiosk events to the analytics tool the web store already uses, as they
//! arrive: Google Analytics 4's Measurement Protocol ([`ga4`]) and PostHog's capture API
//! ([`posthog`]), each mapped as its documentation asks.
//!
//! Each export keeps its place in the hub's events (`export_cursor`) and moves it only
//! after the tool accepted a batch: at least once, in the order the hub stored them. A
//! new export starts with the last 72 hours (GA4 takes nothing older).
//!
//! Anonymous stays anonymous: a visit's events go under a pseudonym of the visit (a hash
//! keyed with a secret of the hub's, so the visit ids the web store sees in its visits
//! feed and links cannot be matched with them), a search (which never names a visit)
//! under its shop, and staff look-ups are not sent. Only when the customer who signed in
//! to the visit consents does the export name them (`user_id`, PostHog's
//! `distinct_id`), as the reports link them.

pub mod ga4;
pub mod posthog;

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use super::images::{self, Targets};
use super::store::Store;
use crate::db::{self, Sql, params};

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
    /// The visit's pseudonym.
    pub visit: Option<String>,
    pub kind: String,
    pub sku: Option<String>,
    pub detail: Option<String>,
    pub value: Option<i64>,
    /// The customer who signed in to the visit, if they consent to being linked.
    pub customer: Option<String>,
}

/// A visit's pseudonym for the exports: 32 hex digits of SHA-256 over the hub's secret
/// and the visit id.
fn pseudonym(key: &[u8], visit: &str) -> String {
    let hash = Sha256::new()
        .chain_update(key)
        .chain_update(visit.as_bytes())
        .finalize();
    hex::encode(&hash[..16])
}

/// The events after `name`'s cursor, at most `max`; a new export starts with the events
/// of the last [`FIRST_LOOK_BACK`] before `now` (those a kiosk sent late included).
pub fn after_cursor(conn: &dyn Sql, name: &str, now: Timestamp, max: usize) -> db::Result<Vec<Row>> {
    let cursor: Option<i64> = conn.query_opt("SELECT seq FROM export_cursor WHERE name = ?1", params![name], |r| {
        r.get(0)
    })?;
    let cursor = match cursor {
        Some(seq) => seq,
        None => conn.one(
            "SELECT COALESCE((SELECT MIN(seq) - 1 FROM kiosk_event WHERE at >= ?1),
                             (SELECT MAX(seq) FROM kiosk_event), 0)",
            params![(now - FIRST_LOOK_BACK).as_millisecond()],
        )?,
    };
    let key: Vec<u8> = conn.one(
        "SELECT value FROM hub_secret WHERE name = 'export_visit_key'",
        params![],
    )?;
    conn.query_map(
        "SELECT e.seq, e.store_code, e.device_id, e.at, e.visit, e.kind, e.sku, e.detail, e.value,
             CASE WHEN c.measurement <> 0 THEN v.customer END
         FROM kiosk_event e
         LEFT JOIN visit v ON v.session = e.visit
         LEFT JOIN consent c ON c.customer = v.customer
         WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
        params![cursor, max as i64],
        |r| {
            Ok(Row {
                seq: r.get(0)?,
                store_code: r.get(1)?,
                device_id: r.get(2)?,
                at: Timestamp::from_millisecond(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
                visit: r.get::<Option<String>>(4)?.map(|v| pseudonym(&key, &v)),
                kind: r.get(5)?,
                sku: r.get(6)?,
                detail: r.get(7)?,
                value: r.get(8)?,
                customer: r.get(9)?,
            })
        },
    )
}

/// Records that `name` forwarded everything up to `seq` (a cursor never moves back).
pub fn advance(conn: &dyn Sql, name: &str, seq: i64) -> db::Result<()> {
    conn.execute(
        "INSERT INTO export_cursor (name, seq) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > export_cursor.seq",
        params![name, seq],
    )?;
    Ok(())
}

/// A tool events are forwarded to: what to post it for a batch of events.
pub trait Exporter: Send + Sync + 'static {
    /// The cursor's name.
    fn name(&self) -> &'static str;
    /// The requests that hand `rows` to the tool, in order: each a URL and a JSON body.
    fn posts(&self, rows: &[Row], now: Timestamp) -> Result<Vec<(reqwest::Url, serde_json::Value)>, Failure>;
}

/// Why a batch was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The tool could not take it now (unreachable, 5xx, 429): the batch is sent again.
    Transient(String),
    /// The tool refused it as it is (4xx): sending it again would not help, so it is
    /// skipped, and logged.
    Refused(String),
}

/// Forwards events to `exporter` until the store closes: every two seconds while there
/// are none, backing off up to five minutes while the tool fails.
pub async fn run(store: Store, targets: Arc<Targets>, exporter: Arc<dyn Exporter>) {
    let http = images::client(&targets, Duration::from_secs(20), false);
    let mut failures = 0u32;
    loop {
        let name = exporter.name();
        // One hub of several exports: the one holding the lease. It outlasts a batch's
        // posts and the longest back-off, so it does not run out under a hub at work.
        if !store
            .lease(&format!("export:{name}"), jiff::SignedDuration::from_secs(900))
            .await
        {
            tokio::time::sleep(Duration::from_secs(10)).await;
            continue;
        }
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
        let sent = send(&http, exporter.posts(&rows, Timestamp::now())).await;
        if let Err(Failure::Refused(why)) = &sent {
            let first = rows.first().map_or(0, |r| r.seq);
            tracing::error!(
                export = name,
                why,
                first,
                last,
                "the analytics tool refused a batch: skipped"
            );
        }
        match sent {
            Ok(()) | Err(Failure::Refused(_)) => {
                failures = 0;
                match store.write(move |w| advance(w.db(), name, last)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(export = name, error = %e, "cannot record the export's place"),
                    Err(_) => return,
                }
            }
            Err(Failure::Transient(why)) => {
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

/// Posts each body in turn, stopping at the first that is not taken.
async fn send(
    http: &reqwest::Client,
    posts: Result<Vec<(reqwest::Url, serde_json::Value)>, Failure>,
) -> Result<(), Failure> {
    for (url, body) in posts? {
        post_json(http, url, &body).await?;
    }
    Ok(())
}

/// Posts a JSON body and checks for a 2xx.
async fn post_json(http: &reqwest::Client, url: reqwest::Url, body: &serde_json::Value) -> Result<(), Failure> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| Failure::Transient(crate::net::describe(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text: String = response.text().await.unwrap_or_default().chars().take(200).collect();
    let why = format!("answered {status}: {text}");
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(Failure::Refused(why))
    } else {
        Err(Failure::Transient(why))
    }
}
