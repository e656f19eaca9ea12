//! Sign-in with the phone, from the kiosk's side: ask the hub for a pairing, then poll it
//! until the shopper confirms on their phone, declines, or lets it expire. The hub's
//! side, and why it is shaped like OAuth's device flow, is in `hub::pairing`.
//!
//! The poll runs on the sync thread's runtime, so the UI only awaits an answer. Dropping
//! the [`Pairing`]'s guard (the shopper closed the code, or left) stops the poll and
//! tells the hub.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;

use crate::client::KioskClient;
use crate::client::kiosk::Polled;
use crate::protocol::{PairingStarted, PairingState};

/// How a pairing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairOutcome {
    /// Confirmed: a customer token to sign the shopper in with, as if scanned.
    Approved(String),
    Denied,
    Expired,
}

/// A pairing under way: what to show, and the shopper's answer to come.
pub struct Pairing {
    pub started: PairingStarted,
    pub outcome: oneshot::Receiver<PairOutcome>,
    /// Dropping it cancels the pairing.
    pub guard: PairingGuard,
}

/// Keeps a pairing alive; dropped, the poll stops and the hub forgets the pairing.
pub struct PairingGuard(#[expect(dead_code, reason = "held for its drop")] oneshot::Sender<()>);

/// Starts a pairing, answers `reply` with it, then polls until the shopper answers, the
/// pairing expires, or the guard is dropped.
pub async fn pair(client: KioskClient, reply: oneshot::Sender<anyhow::Result<Pairing>>) {
    let started = match client.start_pairing().await {
        Ok(started) => started,
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    let (tell, outcome) = oneshot::channel();
    let (guard, mut cancelled) = oneshot::channel();
    let device_code = started.device_code.clone();
    let (interval, expires_at) = (started.interval, started.expires_at);
    let pairing = Pairing {
        started,
        outcome,
        guard: PairingGuard(guard),
    };
    if reply.send(Ok(pairing)).is_err() {
        return client.cancel_pairing(&device_code).await;
    }
    tokio::select! {
        ended = poll_until_answered(&client, &device_code, interval, expires_at) => {
            let _ = tell.send(ended);
        }
        _ = &mut cancelled => client.cancel_pairing(&device_code).await,
    }
}

async fn poll_until_answered(
    client: &KioskClient,
    device_code: &str,
    interval: u32,
    expires_at: Timestamp,
) -> PairOutcome {
    let mut every = Duration::from_secs(u64::from(interval.clamp(1, 60)));
    loop {
        tokio::time::sleep(every).await;
        match client.poll_pairing(device_code).await {
            Ok(Polled::Status(status)) => match (status.status, status.token) {
                (PairingState::Approved, Some(token)) => return PairOutcome::Approved(token),
                (PairingState::Denied, _) => return PairOutcome::Denied,
                (PairingState::Expired, _) => return PairOutcome::Expired,
                (PairingState::Pending | PairingState::Approved, _) => {}
            },
            // RFC 8628 §3.5: five seconds more between polls from now on.
            Ok(Polled::SlowDown) => every += Duration::from_secs(5),
            Ok(Polled::Gone) => return PairOutcome::Expired,
            // The network may come back before the shopper is done.
            Err(e) => tracing::debug!("pairing poll failed: {e:#}"),
        }
        if Timestamp::now() >= expires_at {
            return PairOutcome::Expired;
        }
    }
}
