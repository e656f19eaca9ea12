//! Kiosk events to PostHog's capture API (`POST {host}/batch/`): one batch per round,
//! each event under its kiosk name (`visit_started`, `product_viewed`, …) with
//! `store_code`, `device_id` and what it is about (`sku`, `source`, `reason`, `method`,
//! `duration_seconds`, `results`, `items`). An anonymous visitor's events set
//! `$process_person_profile: false`, so PostHog makes no person of them. Each carries a
//! `uuid` derived from the hub's event, so a batch sent again is deduplicated.

use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Exporter, Failure, Row, visitor};
use crate::hub::config::PostHog as Config;

pub struct PostHog {
    pub config: Config,
}

/// A UUID (version 4 layout) from the hub's event number: the same every time.
fn uuid(seq: i64) -> String {
    let hash = Sha256::digest(format!("vitrine-kiosk-event-{seq}"));
    let mut b: [u8; 16] = hash[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A PostHog event for a kiosk event, or `None` for what is not sent (staff look-ups).
pub fn event(row: &Row) -> Option<Value> {
    if row.kind == "stock_looked_up" {
        return None;
    }
    let mut properties = json!({ "store_code": row.store_code, "device_id": row.device_id });
    if let Some(sku) = &row.sku {
        properties["sku"] = json!(sku);
    }
    let detail_name = match row.kind.as_str() {
        "visit_ended" => Some("reason"),
        "signed_in" => Some("method"),
        "product_viewed" => Some("source"),
        _ => None,
    };
    if let (Some(name), Some(detail)) = (detail_name, &row.detail) {
        properties[name] = json!(detail);
    }
    let value_name = match row.kind.as_str() {
        "visit_ended" => Some("duration_seconds"),
        "searched" => Some("results"),
        "list_code_shown" => Some("items"),
        _ => None,
    };
    if let (Some(name), Some(value)) = (value_name, row.value) {
        properties[name] = json!(value);
    }
    if let Some(visit) = &row.visit {
        properties["visit"] = json!(visit);
    }
    if row.customer.is_none() {
        properties["$process_person_profile"] = json!(false);
    }
    Some(json!({
        "event": row.kind,
        "distinct_id": visitor(row),
        "timestamp": row.at.to_string(),
        "uuid": uuid(row.seq),
        "properties": properties,
    }))
}

impl Exporter for PostHog {
    fn name(&self) -> &'static str {
        "posthog"
    }

    fn posts(&self, rows: &[Row], _now: Timestamp) -> Result<Vec<(reqwest::Url, Value)>, Failure> {
        let batch: Vec<Value> = rows.iter().filter_map(event).collect();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let url = reqwest::Url::parse(&format!("{}/batch/", self.config.host.trim_end_matches('/')))
            .map_err(|e| Failure::Refused(e.to_string()))?;
        Ok(vec![(url, json!({ "api_key": self.config.api_key, "batch": batch }))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_events_make_no_person_and_resends_keep_their_uuid() {
        let row = Row {
            seq: 7,
            store_code: "PARIS".into(),
            device_id: 3,
            at: "2026-11-14T10:00:00Z".parse().unwrap(),
            visit: Some("v1".into()),
            kind: "visit_ended".into(),
            sku: None,
            detail: Some("idle".into()),
            value: Some(95),
            customer: None,
        };
        let event = event(&row).unwrap();
        assert_eq!(event["distinct_id"], "v1");
        assert_eq!(event["properties"]["$process_person_profile"], false);
        assert_eq!(event["properties"]["reason"], "idle");
        assert_eq!(event["properties"]["duration_seconds"], 95);
        assert_eq!(event["uuid"], uuid(7));
        assert_eq!(uuid(7).len(), 36);
        assert_eq!(&uuid(7)[14..15], "4");
        let known = Row {
            customer: Some("c-1".into()),
            ..row
        };
        let event = super::event(&known).unwrap();
        assert_eq!(event["distinct_id"], "c-1");
        assert_eq!(event["properties"].get("$process_person_profile"), None);
    }
}
