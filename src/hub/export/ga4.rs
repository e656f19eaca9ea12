//! Kiosk events to Google Analytics 4's Measurement Protocol (`POST /mp/collect?
//! measurement_id=…&api_secret=…`): one request per visitor and at most 25 events, each
//! with its own `timestamp_micros`, `session_id` (from the visit) and
//! `engagement_time_msec`, so visits show as sessions.
//!
//! | kiosk event | GA4 event | parameters |
//! |---|---|---|
//! | `visit_started` | `kiosk_visit_start` | |
//! | `visit_ended` | `kiosk_visit_end` | `duration_seconds`, `reason` |
//! | `signed_in` | `login` (recommended) | `method` |
//! | `product_viewed` | `view_item` (recommended) | `items`, `source` |
//! | `code_scanned` | `kiosk_scan` | `item_id` |
//! | `wishlist_added` | `add_to_wishlist` (recommended) | `items` |
//! | `wishlist_removed` | `kiosk_remove_from_wishlist` | `items` |
//! | `product_code_shown` | `share` (recommended) | `method` `qr`, `content_type` `product`, `item_id` |
//! | `list_code_shown` | `share` | `method` `qr`, `content_type` `wishlist`, `items_count` |
//! | `searched` | `kiosk_search` | `results` (never the text) |
//!
//! Every event also carries `store_code` and `device_id`. Staff look-ups are not sent.
//! Events older than 72 hours are skipped: GA4 refuses them.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{Exporter, Failure, Row, visitor};
use crate::hub::config::Ga4 as Config;

/// Events in one request, as GA4 allows.
pub const MAX_EVENTS: usize = 25;
/// How old an event GA4 takes.
pub const MAX_AGE: SignedDuration = SignedDuration::from_hours(72);

pub struct Ga4 {
    pub config: Config,
}

/// A GA4 event for a kiosk event, or `None` for what is not sent.
pub fn event(row: &Row) -> Option<Value> {
    let item = || json!([{ "item_id": row.sku.clone().unwrap_or_default() }]);
    let (name, mut params) = match row.kind.as_str() {
        "visit_started" => ("kiosk_visit_start", json!({})),
        "visit_ended" => (
            "kiosk_visit_end",
            json!({ "duration_seconds": row.value.unwrap_or(0), "reason": row.detail.clone().unwrap_or_default() }),
        ),
        "signed_in" => ("login", json!({ "method": row.detail.clone().unwrap_or_default() })),
        "product_viewed" => (
            "view_item",
            json!({ "items": item(), "source": row.detail.clone().unwrap_or_default() }),
        ),
        "code_scanned" => ("kiosk_scan", json!({ "item_id": row.sku.clone().unwrap_or_default() })),
        "wishlist_added" => ("add_to_wishlist", json!({ "items": item() })),
        "wishlist_removed" => ("kiosk_remove_from_wishlist", json!({ "items": item() })),
        "product_code_shown" => (
            "share",
            json!({ "method": "qr", "content_type": "product", "item_id": row.sku.clone().unwrap_or_default() }),
        ),
        "list_code_shown" => (
            "share",
            json!({ "method": "qr", "content_type": "wishlist", "items_count": row.value.unwrap_or(0) }),
        ),
        "searched" => ("kiosk_search", json!({ "results": row.value.unwrap_or(0) })),
        _ => return None,
    };
    params["store_code"] = json!(truncate(&row.store_code));
    params["device_id"] = json!(row.device_id);
    params["engagement_time_msec"] = json!(1);
    if let Some(visit) = &row.visit {
        params["session_id"] = json!(session_id(visit));
    }
    Some(json!({
        "name": name,
        "params": params,
        "timestamp_micros": row.at.as_microsecond(),
    }))
}

/// GA4's parameter values are at most 100 characters.
fn truncate(text: &str) -> String {
    text.chars().take(100).collect()
}

/// A visit's id as a GA4 session id: the number its first 12 hex digits make.
fn session_id(visit: &str) -> String {
    let digits: String = visit.chars().filter(char::is_ascii_hexdigit).take(12).collect();
    u64::from_str_radix(&digits, 16).unwrap_or(0).to_string()
}

/// The requests for `rows`: grouped by visitor, in order, at most [`MAX_EVENTS`] each;
/// events older than [`MAX_AGE`] at `now` left out.
pub fn requests(rows: &[Row], now: Timestamp) -> Vec<Value> {
    let mut requests: Vec<(String, Option<String>, Vec<Value>)> = Vec::new();
    for row in rows.iter().filter(|r| now.duration_since(r.at) < MAX_AGE) {
        let Some(event) = event(row) else { continue };
        let client = visitor(&Row {
            customer: None,
            ..row.clone()
        });
        match requests
            .iter_mut()
            .find(|(c, u, events)| *c == client && *u == row.customer && events.len() < MAX_EVENTS)
        {
            Some((_, _, events)) => events.push(event),
            None => requests.push((client, row.customer.clone(), vec![event])),
        }
    }
    requests
        .into_iter()
        .map(|(client, user, events)| {
            let mut body = json!({ "client_id": client, "events": events });
            if let Some(user) = user {
                body["user_id"] = json!(user);
            }
            body
        })
        .collect()
}

impl Exporter for Ga4 {
    fn name(&self) -> &'static str {
        "ga4"
    }

    fn posts(&self, rows: &[Row], now: Timestamp) -> Result<Vec<(reqwest::Url, Value)>, Failure> {
        let mut url = reqwest::Url::parse(&self.config.url).map_err(|e| Failure::Refused(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("measurement_id", &self.config.measurement_id)
            .append_pair("api_secret", &self.config.api_secret);
        Ok(requests(rows, now)
            .into_iter()
            .map(|body| (url.clone(), body))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, kind: &str, visit: Option<&str>, customer: Option<&str>, at: Timestamp) -> Row {
        Row {
            seq,
            store_code: "PARIS".into(),
            device_id: 3,
            at,
            visit: visit.map(str::to_owned),
            kind: kind.into(),
            sku: Some("SKU-1".into()),
            detail: Some("search".into()),
            value: Some(4),
            customer: customer.map(str::to_owned),
        }
    }

    #[test]
    fn events_group_by_visitor_at_most_25_and_never_older_than_72_hours() {
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        let mut rows: Vec<Row> = (0..30)
            .map(|i| row(i, "product_viewed", Some("a1b2c3"), None, now))
            .collect();
        rows.push(row(30, "searched", None, None, now));
        rows.push(row(31, "stock_looked_up", None, None, now));
        rows.push(row(32, "signed_in", Some("ffff"), Some("c-1"), now));
        rows.push(row(
            33,
            "visit_started",
            Some("old"),
            None,
            now - SignedDuration::from_hours(73),
        ));
        let bodies = requests(&rows, now);
        let shape: Vec<(String, usize, Option<String>)> = bodies
            .iter()
            .map(|b| {
                (
                    b["client_id"].as_str().unwrap().to_owned(),
                    b["events"].as_array().unwrap().len(),
                    b["user_id"].as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("a1b2c3".into(), 25, None),
                ("a1b2c3".into(), 5, None),
                ("shop.PARIS".into(), 1, None),
                ("ffff".into(), 1, Some("c-1".into())),
            ]
        );
        let view = &bodies[0]["events"][0];
        assert_eq!(view["name"], "view_item");
        assert_eq!(view["params"]["items"][0]["item_id"], "SKU-1");
        assert_eq!(view["params"]["session_id"], "10597059");
        assert_eq!(bodies[2]["events"][0]["params"].get("search_term"), None);
    }
}
