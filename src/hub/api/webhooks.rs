//! The web store's webhook endpoints (`/v1/webstore/webhooks…`, scope
//! `webhooks:manage`): register, list, delete, rotate a secret, read the deliveries,
//! replay. A key sees and manages only the endpoints it registered.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::WebStoreAuth;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::hub::auth::Scope;
use crate::hub::webhooks::{self, Refused};
use crate::protocol::Problem;
use crate::protocol::params::{EndpointPath, LimitQuery};
use crate::protocol::webhooks::{
    DeliveryLog, EndpointList, EndpointRequest, EndpointSecret, ReplayRequest, ReplayResponse,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(remove))
        .routes(routes!(rotate))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
}

fn unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_endpoint",
        "this key registered no such webhook endpoint",
    )
}

/// Registers an endpoint for some event types (all when `events` is empty). The answer
/// holds its signing secret, shown this once. Types: `wishlist.changed` and
/// `visit.signed_in` (for keys with `wishlist:read`), `consent.changed`
/// (`consent:write`), `customer.erased` (`customers:erase`); a type the key may not read
/// is refused, and an endpoint for all types gets those its key may read.
#[utoipa::path(post, path = "/v1/webstore/webhooks", tag = "webhooks", request_body = EndpointRequest,
    responses((status = 201, body = EndpointSecret), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn register(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiJson(request): ApiJson<EndpointRequest>,
) -> Result<(StatusCode, Json<EndpointSecret>), ApiError> {
    key.require(Scope::WebhooksManage)?;
    let (targets, api_key, scopes) = (state.webhook_targets.clone(), key.id, key.scopes.clone());
    let registered = state
        .store
        .write(move |w| webhooks::register(w.db(), &targets, api_key, &scopes, &request, Timestamp::now()))
        .await??
        .map_err(|e| match e {
            Refused::Invalid(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_endpoint", why),
            Refused::TooMany => ApiError::new(StatusCode::CONFLICT, "too_many_endpoints", e.to_string()),
        })?;
    tracing::info!(
        key = key.name,
        url = registered.endpoint.url,
        "webhook endpoint registered"
    );
    Ok((StatusCode::CREATED, Json(registered)))
}

/// The endpoints this key registered.
#[utoipa::path(get, path = "/v1/webstore/webhooks", tag = "webhooks",
    responses((status = 200, body = EndpointList)), security(("webstore" = [])))]
async fn list(State(state): State<AppState>, key: WebStoreAuth) -> Result<Json<EndpointList>, ApiError> {
    key.require(Scope::WebhooksManage)?;
    let api_key = key.id;
    let endpoints = state.store.read(move |c| webhooks::list(c, api_key)).await?;
    Ok(Json(EndpointList { endpoints }))
}

/// Deletes an endpoint and its pending deliveries.
#[utoipa::path(delete, path = "/v1/webstore/webhooks/{id}", tag = "webhooks", params(EndpointPath),
    responses((status = 204), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn remove(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(EndpointPath { id }): ApiPath<EndpointPath>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::WebhooksManage)?;
    let api_key = key.id;
    if state
        .store
        .write(move |w| webhooks::remove(w.db(), api_key, id))
        .await??
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown())
    }
}

/// A new signing secret. The previous one signs beside it for 24 hours (both signatures
/// in `webhook-signature`), so the receiver can switch without losing a message.
#[utoipa::path(post, path = "/v1/webstore/webhooks/{id}/rotate-secret", tag = "webhooks", params(EndpointPath),
    responses((status = 200, body = EndpointSecret), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn rotate(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(EndpointPath { id }): ApiPath<EndpointPath>,
) -> Result<Json<EndpointSecret>, ApiError> {
    key.require(Scope::WebhooksManage)?;
    let api_key = key.id;
    state
        .store
        .write(move |w| webhooks::rotate(w.db(), api_key, id, Timestamp::now()))
        .await??
        .map(Json)
        .ok_or_else(unknown)
}

/// The latest deliveries to an endpoint: state, attempts, the last status or error, the
/// next attempt.
#[utoipa::path(get, path = "/v1/webstore/webhooks/{id}/deliveries", tag = "webhooks",
    params(EndpointPath, LimitQuery),
    responses((status = 200, body = DeliveryLog), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn deliveries(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(EndpointPath { id }): ApiPath<EndpointPath>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<DeliveryLog>, ApiError> {
    key.require(Scope::WebhooksManage)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 1000",
        ));
    }
    let api_key = key.id;
    state
        .store
        .read(move |c| webhooks::deliveries(c, api_key, id, limit))
        .await?
        .map(|deliveries| Json(DeliveryLog { deliveries }))
        .ok_or_else(unknown)
}

/// Sends every message since `since` (the last 30 days are kept) to the endpoint again,
/// with their original `webhook-id`s, and starts a disabled endpoint again.
#[utoipa::path(post, path = "/v1/webstore/webhooks/{id}/replay", tag = "webhooks", params(EndpointPath),
    request_body = ReplayRequest,
    responses((status = 200, body = ReplayResponse), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn replay(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(EndpointPath { id }): ApiPath<EndpointPath>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> Result<Json<ReplayResponse>, ApiError> {
    key.require(Scope::WebhooksManage)?;
    let api_key = key.id;
    state
        .store
        .write(move |w| webhooks::replay(w.db(), api_key, id, request.since, Timestamp::now()))
        .await??
        .map(|queued| Json(ReplayResponse { queued }))
        .ok_or_else(unknown)
}
