//! The task that posts due deliveries: woken after each commit (the writer's signal) or
//! every second, it reads what is due, posts it signed, a few at a time, and records each
//! outcome on the writer.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use super::{Due, Outcome};
use crate::hub::images::{self, Targets};
use crate::hub::store::Store;

/// Deliveries posted at once.
const IN_FLIGHT: usize = 16;
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

/// Posts deliveries until the hub's store closes.
pub async fn run(store: Store, targets: Arc<Targets>, schedule: Arc<Schedule>, wake: Arc<Notify>) {
    let http = images::client(&targets, TIMEOUT);
    loop {
        let due = match store.read(|c| super::due(c, Timestamp::now(), IN_FLIGHT)).await {
            Ok(due) => due,
            Err(crate::hub::store::StoreError::Closed) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook deliveries due");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let mut attempts = tokio::task::JoinSet::new();
        for delivery in due {
            let http = http.clone();
            attempts.spawn(async move {
                let outcome = attempt(&http, &delivery).await;
                (delivery, outcome)
            });
        }
        while let Some(done) = attempts.join_next().await {
            let Ok((delivery, outcome)) = done else { continue };
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
                        w.catalog.connection(),
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
            let retry_after = retry_after(response.headers(), Timestamp::now());
            let status = response.status();
            failed(
                Some(status.as_u16()),
                format!("the endpoint answered {status}"),
                retry_after,
            )
        }
        Err(e) => failed(None, crate::net::describe(&e), None),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap, now: Timestamp) -> Option<SignedDuration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(SignedDuration::from_secs(i64::from(seconds)));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(at.duration_since(now).max(SignedDuration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now: Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(SignedDuration::from_secs(120)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Sat, 14 Nov 2026 10:05:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(SignedDuration::from_secs(300)));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }

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
