//! Pushing ops, for kiosks and the web store alike: the batch's size is checked here,
//! the rest is the store's (`hub::store::ingest`).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::http::StatusCode;
use jiff::Timestamp;

use super::{ApiError, AppState};
use crate::hub::store::Principal;
use crate::protocol::{MAX_BATCH_OPS, PushRequest, PushResponse};

fn check_push(request: &PushRequest) -> Result<(), ApiError> {
    if request.ops.len() > MAX_BATCH_OPS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ops",
            format!("send at most {MAX_BATCH_OPS} ops per batch"),
        ));
    }
    Ok(())
}

pub async fn push(
    state: &AppState,
    principal: Principal,
    request: PushRequest,
) -> Result<Json<PushResponse>, ApiError> {
    check_push(&request)?;
    let gauge = &state.failpoints;
    let now_in_flight = gauge.pushes_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.max_pushes_in_flight.fetch_max(now_in_flight, Ordering::SeqCst);
    let stored = state.store.push(principal, request, Timestamp::now()).await;
    gauge.pushes_in_flight.fetch_sub(1, Ordering::SeqCst);
    let response = stored??;
    let armed = &state.failpoints.fail_after_commit;
    if armed
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failpoint",
            "stored, then failed on purpose (test failpoint)",
        ));
    }
    Ok(Json(response))
}
