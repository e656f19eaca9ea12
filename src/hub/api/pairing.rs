//! Sign-in with the phone (RFC 8628's device flow): the kiosk starts a pairing and polls
//! it; the web store, where the shopper is signed in, looks it up and approves or denies
//! it. The pairings themselves are `hub::pairing`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::{DeviceAuth, WebStoreAuth};
use super::extract::{ApiJson, ApiPath};
use super::webstore::{check_customer, mint_for};
use super::{ApiError, AppState};
use crate::hub::auth::Scope;
use crate::hub::pairing::{self, DecideRefused, Poll, StartRefused};
use crate::hub::store::pairings;
use crate::protocol::params::{DeviceCodePath, UserCodePath};
use crate::protocol::{ApproveRequest, PairingInfo, PairingStarted, PairingState, PairingStatus, Problem};

/// The pairing routes of both sides, with their OpenAPI descriptions.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_pairing))
        .routes(routes!(poll_pairing, cancel_pairing))
        .routes(routes!(pairing_info))
        .routes(routes!(approve_pairing))
        .routes(routes!(deny_pairing))
}

/// Starts a sign-in with the phone: the kiosk shows `verification_uri_complete` as a QR
/// code and `user_code` in text, then polls every `interval` seconds. A kiosk has one
/// pairing at a time: starting one drops the previous.
#[utoipa::path(post, path = "/v1/kiosk/pairings", tag = "kiosk",
    responses((status = 201, body = PairingStarted), (status = 429, body = Problem), (status = 503, body = Problem)),
    security(("device" = [])))]
async fn start_pairing(
    State(state): State<AppState>,
    device: DeviceAuth,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PairingStarted>), ApiError> {
    let mut page = state
        .page(state.pages.pair_url.as_ref(), "/pair", &headers)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "pairing_not_configured",
                "this hub has no web store page to confirm a sign-in on (webstore.pair_url)",
            )
        })?;
    let (id, shop, lifetime) = (device.id, device.store_code.clone(), state.pairing_lifetime);
    let started = state
        .store
        .write(move |w| pairings::start(w.db(), id, &shop, lifetime, Timestamp::now()))
        .await??
        .map_err(|e| match e {
            StartRefused::TooMany => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_pairings", e.to_string()).retry_after(10)
            }
            StartRefused::Full => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "pairings_full", e.to_string()).retry_after(60)
            }
        })?;
    let verification_uri = page.to_string();
    page.query_pairs_mut().append_pair("code", &started.user_code);
    Ok((
        StatusCode::CREATED,
        Json(PairingStarted {
            device_code: started.device_code,
            user_code: pairing::display_user_code(&started.user_code),
            verification_uri,
            verification_uri_complete: page.to_string(),
            expires_at: started.expires_at,
            interval: pairing::INTERVAL_SECONDS,
        }),
    ))
}

/// How a pairing stands; once approved, the customer token to sign in with (handed over
/// once). Polling sooner than `interval` answers 429 `slow_down`.
#[utoipa::path(get, path = "/v1/kiosk/pairings/{device_code}", tag = "kiosk",
    params(DeviceCodePath),
    responses((status = 200, body = PairingStatus), (status = 404, body = Problem), (status = 429, body = Problem)),
    security(("device" = [])))]
async fn poll_pairing(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiPath(DeviceCodePath { device_code }): ApiPath<DeviceCodePath>,
) -> Result<Json<PairingStatus>, ApiError> {
    let status = |status| Json(PairingStatus { status, token: None });
    let id = device.id;
    let polled = state
        .store
        .write(move |w| pairings::poll(w.db(), id, &device_code, Timestamp::now()))
        .await??;
    match polled {
        Poll::Pending => Ok(status(PairingState::Pending)),
        Poll::Denied => Ok(status(PairingState::Denied)),
        Poll::Expired => Ok(status(PairingState::Expired)),
        Poll::Approved { token } => Ok(Json(PairingStatus {
            status: PairingState::Approved,
            token: Some(token),
        })),
        Poll::SlowDown => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            format!("poll every {} s", pairing::INTERVAL_SECONDS),
        )
        .retry_after(pairing::INTERVAL_SECONDS)),
        Poll::Unknown => Err(unknown_pairing()),
    }
}

/// The kiosk no longer shows the code (the shopper closed it, or left).
#[utoipa::path(delete, path = "/v1/kiosk/pairings/{device_code}", tag = "kiosk",
    params(DeviceCodePath),
    responses((status = 204), (status = 404, body = Problem)), security(("device" = [])))]
async fn cancel_pairing(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiPath(DeviceCodePath { device_code }): ApiPath<DeviceCodePath>,
) -> Result<StatusCode, ApiError> {
    let id = device.id;
    if state
        .store
        .write(move |w| pairings::cancel(w.db(), id, &device_code))
        .await??
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_pairing())
    }
}

fn unknown_pairing() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_pairing",
        "no pairing of this kiosk has this code",
    )
}

impl From<DecideRefused> for ApiError {
    fn from(e: DecideRefused) -> ApiError {
        let (status, code) = match e {
            DecideRefused::Unknown => (StatusCode::NOT_FOUND, "unknown_pairing"),
            DecideRefused::Expired => (StatusCode::GONE, "pairing_expired"),
            DecideRefused::Decided => (StatusCode::CONFLICT, "pairing_decided"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

fn user_code(text: &str) -> Result<String, ApiError> {
    pairing::normalise_user_code(text).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_user_code",
            "a pairing code is eight letters, as the kiosk shows it (e.g. BCDF-GHJK)",
        )
    })
}

/// The pairing a shopper typed or scanned, for the web store's confirmation page.
#[utoipa::path(get, path = "/v1/webstore/pairings/{user_code}", tag = "webstore",
    params(UserCodePath),
    responses((status = 200, body = PairingInfo), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn pairing_info(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(UserCodePath { user_code: code }): ApiPath<UserCodePath>,
) -> Result<Json<PairingInfo>, ApiError> {
    key.require(Scope::TokensIssue)?;
    let code = user_code(&code)?;
    let pending = state.pairing_pending(&code).await?;
    Ok(Json(PairingInfo {
        user_code: pairing::display_user_code(&code),
        store_code: pending.store_code,
        expires_at: pending.expires_at,
    }))
}

/// The signed-in customer confirmed: the kiosk signs them in at its next poll.
#[utoipa::path(post, path = "/v1/webstore/pairings/{user_code}/approve", tag = "webstore",
    params(UserCodePath), request_body = ApproveRequest,
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn approve_pairing(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(UserCodePath { user_code: code }): ApiPath<UserCodePath>,
    ApiJson(request): ApiJson<ApproveRequest>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    check_customer(&request.customer)?;
    approve(&state, &user_code(&code)?, request.customer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms a pairing for `customer`: a one-minute token for the kiosk to collect.
pub async fn approve(state: &AppState, code: &str, customer: String) -> Result<(), ApiError> {
    state.pairing_pending(code).await?;
    let minted = mint_for(state, customer, 1).await?;
    state.pairing_decide(code, Some(minted.token)).await?;
    Ok(())
}

/// The shopper said it was not them: the kiosk tells them, and shows a new code.
#[utoipa::path(post, path = "/v1/webstore/pairings/{user_code}/deny", tag = "webstore",
    params(UserCodePath),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn deny_pairing(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(UserCodePath { user_code: code }): ApiPath<UserCodePath>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    let code = user_code(&code)?;
    state.pairing_decide(&code, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
