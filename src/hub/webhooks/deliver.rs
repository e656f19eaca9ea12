//! The task that posts due deliveries: woken after each commit (the writer's signal) or
//! every second, it takes what is due (claimed from other hubs on PostgreSQL, see
//! [`super::due`]), posts it signed, and records each outcome on the writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use super::{Due, Outcome};
use crate::hub::images::{self, Targets};
use crate::hub::store::Store;

/// Deliveries posted at once.
const IN_FLIGHT: usize = 16;
/// Deliveries posted at once to one endpoint.
const PER_ENDPOINT: usize = 4;
/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The longest error text kept for the delivery log.
const MAX_ERROR_CHARS: usize = 300;

/// What the sender needs from the configuration.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub retries: Vec<u32>,
    pub disable_after: SignedDuration,
}

/// Posts deliveries until the hub's store closes: up to [`IN_FLIGHT`] at once, at most
/// [`PER_ENDPOINT`] to one endpoint, topping up as each finishes, so an endpoint that
/// hangs or a replay's backlog does not hold the others back.
pub async fn run(store: Store, targets: Arc<Targets>, schedule: Arc<Schedule>, wake: Arc<Notify>) {
    // A redirect is a failure: a POST turned into a GET would count as delivered.
    let http = images::client(&targets, TIMEOUT, false);
    let mut in_flight: HashMap<(i64, i64), i64> = HashMap::new();
    let mut attempts = tokio::task::JoinSet::new();
    loop {
        if in_flight.len() < IN_FLIGHT {
            // Chosen inside `due`, so that on PostgreSQL only what is posted is claimed (a
            // write, through this pooled connection: only SQLite's are read-only).
            let mut taking = in_flight.clone();
            let due = store
                .read(move |c| super::due(c, Timestamp::now(), IN_FLIGHT * 8, |d| take(&mut taking, d)))
                .await;
            let due = match due {
                Ok(due) => due,
                Err(crate::hub::store::StoreError::Closed) => return,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the webhook deliveries due");
                    Vec::new()
                }
            };
            for delivery in due {
                in_flight.insert((delivery.message, delivery.endpoint), delivery.endpoint);
                let http = http.clone();
                attempts.spawn(async move {
                    let outcome = attempt(&http, &delivery).await;
                    (delivery, outcome)
                });
            }
        }
        let finished = tokio::select! {
            done = attempts.join_next(), if !attempts.is_empty() => done,
            () = wake.notified() => None,
            () = tokio::time::sleep(Duration::from_secs(1)) => None,
        };
        let Some(Ok((delivery, outcome))) = finished else {
            continue;
        };
        in_flight.remove(&(delivery.message, delivery.endpoint));
        if let Outcome::Failed { status, error, .. } = &outcome {
            tracing::info!(
                endpoint = delivery.endpoint,
                id = delivery.msg_id,
                ?status,
                error,
                "a webhook delivery failed"
            );
        }
        let schedule = schedule.clone();
        let recorded = store
            .write(move |w| {
                super::record(
                    w.db(),
                    &delivery,
                    &outcome,
                    &schedule.retries,
                    schedule.disable_after,
                    Timestamp::now(),
                )
            })
            .await;
        match recorded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot record a webhook delivery"),
            Err(_) => return,
        }
    }
}

/// Whether to post `delivery` now, noting it in `in_flight` if so: it is not being
/// posted already, and fewer than [`IN_FLIGHT`] are, fewer than [`PER_ENDPOINT`] to its
/// endpoint.
fn take(in_flight: &mut HashMap<(i64, i64), i64>, delivery: &Due) -> bool {
    let key = (delivery.message, delivery.endpoint);
    let to_endpoint = in_flight.values().filter(|e| **e == delivery.endpoint).count();
    if in_flight.len() >= IN_FLIGHT || in_flight.contains_key(&key) || to_endpoint >= PER_ENDPOINT {
        return false;
    }
    in_flight.insert(key, delivery.endpoint);
    true
}

/// The `webhook-signature` header: one `v1,` signature per secret, space separated.
pub fn signature(secrets: &[String], msg_id: &str, timestamp: i64, payload: &str) -> Result<String, String> {
    secrets
        .iter()
        .map(|secret| {
            standardwebhooks::Webhook::new(secret)
                .and_then(|hook| hook.sign(msg_id, timestamp, payload.as_bytes()))
                .map_err(|e| format!("cannot sign: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|signatures| signatures.join(" "))
}

async fn attempt(http: &reqwest::Client, delivery: &Due) -> Outcome {
    let timestamp = Timestamp::now().as_second();
    let failed = |status: Option<u16>, error: String, retry_after| Outcome::Failed {
        status,
        error: error.chars().take(MAX_ERROR_CHARS).collect(),
        retry_after,
    };
    let signature = match signature(&delivery.secrets, &delivery.msg_id, timestamp, &delivery.payload) {
        Ok(signature) => signature,
        Err(e) => return failed(None, e, None),
    };
    let sent = http
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Outcome::Delivered {
            status: response.status().as_u16(),
        },
        Ok(response) if response.status() == reqwest::StatusCode::GONE => Outcome::Gone,
        Ok(response) => {
            let retry_after = crate::net::retry_after(response.headers(), Timestamp::now());
            let status = response.status();
            failed(
                Some(status.as_u16()),
                format!("the endpoint answered {status}"),
                retry_after,
            )
        }
        Err(e) => failed(None, transport(&e), None),
    }
}

/// Why a post did not reach the endpoint, for the delivery log the web store reads: a
/// host the hub may not reach is said so, without the addresses it resolved to.
fn transport(e: &reqwest::Error) -> String {
    let text = crate::net::describe(e);
    if text.contains("is not a public address") || text.contains("resolves to no public address") {
        "the endpoint's host is not one webhooks may reach ([webhooks] hosts_allowed)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_signs_with_both_secrets_and_either_verifies() {
        let (old, new) = (super::super::new_secret(), super::super::new_secret());
        let header = signature(&[new.clone(), old.clone()], "msg_1", 1_700_000_000, "{}").unwrap();
        assert_eq!(header.split(' ').count(), 2);
        for secret in [&old, &new] {
            let expected = standardwebhooks::Webhook::new(secret)
                .unwrap()
                .sign("msg_1", 1_700_000_000, b"{}")
                .unwrap();
            assert!(header.split(' ').any(|s| s == expected));
        }
    }
}
