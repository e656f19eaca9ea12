//! The hub's HTTP API (axum). Each handler carries its OpenAPI description
//! (`utoipa::path`), and the router is built from the same list, so the published
//! document and the served routes cannot drift apart.
//!
//! Every refusal is a [`Problem`] with a stable `code`: a client can act on it, a
//! developer can read it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::{DEVICE_PREFIX, KEY_PREFIX, Scope};
use super::customers::{self, MintRefused};
use super::images::{self, FetchError};
use super::pairing::{self, DecideRefused, Pairings, Poll, StartRefused};
use super::store::{self, EnrollError, Feed, Principal, PushError, Store, StoreError};
use super::{FeedKind, ImportError, WebStorePages};
use crate::catalog::Summary;
use crate::protocol::{
    AliasResponse, ApproveRequest, CatalogPage, CustomerWishlist, EnrollRequest, EnrollResponse, EraseResponse,
    ImportSummary, KioskSettings, MAX_BATCH_OPS, MAX_IMAGE_URL_CHARS, MAX_PAGE, MAX_STAFF_EVENTS, MAX_STOCK_SKUS,
    MintRequest, MintResponse, Owner, PairingInfo, PairingStarted, PairingState, PairingStatus, Problem, PushRequest,
    PushResponse, RegisterKeyRequest, ShopLevel, StaffEvents, StaffEventsAck, StaffList, StockAnswer, StockQuery,
    TokenKey, TokenKeys, VisitPage, WishlistLine, WishlistPage, valid_ref,
};
use crate::token::{self, Alias};

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Items in a page when the client does not say.
pub const DEFAULT_PAGE: usize = 1_000;
/// A customer token's lifetime when the web store does not say.
pub const DEFAULT_TOKEN_MINUTES: u8 = 5;

/// Faults the tests can switch on in a running hub.
#[derive(Debug, Default)]
pub struct Failpoints {
    /// This many pushes commit and then answer 500, as if the response was lost.
    pub fail_after_commit: AtomicU32,
    /// Pushes being handled right now, and the most seen at once.
    pub pushes_in_flight: AtomicU32,
    pub max_pushes_in_flight: AtomicU32,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub failpoints: Arc<Failpoints>,
    pub max_feed_bytes: usize,
    /// Fetches catalog pictures for kiosks.
    pub http: reqwest::Client,
    /// The audience customer tokens for this hub's kiosks name.
    pub audience: Arc<str>,
    /// Customers with a demo pass page.
    pub demo_passes: Arc<[String]>,
    /// The web store's pages kiosks send shoppers to.
    pub pages: Arc<WebStorePages>,
    /// Sign-ins with the phone under way.
    pub pairings: Arc<Mutex<Pairings>>,
    /// The chain's shops, as configured.
    pub shops: Arc<[crate::protocol::Shop]>,
}

impl AppState {
    /// A web store page: the configured one, or on a demo hub its stand-in on this host.
    fn page(&self, configured: Option<&String>, stand_in: &str, headers: &HeaderMap) -> Option<reqwest::Url> {
        if let Some(url) = configured {
            return reqwest::Url::parse(url).ok();
        }
        if self.demo_passes.is_empty() {
            return None;
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        reqwest::Url::parse(&format!("http://{host}{stand_in}")).ok()
    }

    pub(super) fn pairings(&self) -> std::sync::MutexGuard<'_, Pairings> {
        // The bookkeeping cannot be left half-done by a panic: take it back as it is.
        self.pairings.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

// ---- errors --------------------------------------------------------------------------

/// A refusal: an HTTP status and a [`Problem`].
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Problem,
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                code: code.to_owned(),
                message: message.into(),
                expected_seq: None,
                seq: None,
            },
            retry_after: None,
        }
    }

    /// The sentence for the developer (or, on the demo's pages, the shopper).
    pub fn message(&self) -> &str {
        &self.problem.message
    }

    fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.problem)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "store error");
        ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the hub cannot reach its database right now; retry later",
            )
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> ApiError {
        StoreError::from(e).into()
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> ApiError {
        let message = e.to_string();
        match e {
            PushError::Gap { expected } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "seq_gap", message);
                err.problem.expected_seq = Some(expected);
                err
            }
            PushError::Diverged { seq } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "seq_diverged", message);
                err.problem.seq = Some(seq);
                err
            }
            PushError::StreamTaken => ApiError::new(StatusCode::CONFLICT, "stream_taken", message),
            PushError::Invalid(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_batch", message),
            PushError::Store(_) => ApiError {
                retry_after: Some(2),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            },
        }
    }
}

/// `Json<T>`, with malformed bodies answered as a [`Problem`].
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let code = match &rejection {
                    JsonRejection::JsonDataError(_) => "invalid_field",
                    JsonRejection::JsonSyntaxError(_) => "malformed_json",
                    JsonRejection::MissingJsonContentType(_) => "not_json",
                    _ => return Err(unreadable(rejection.status(), rejection.body_text())),
                };
                Err(ApiError::new(rejection.status(), code, rejection.body_text()))
            }
        }
    }
}

/// A raw body (a feed), with one over the route's limit or cut off answered as a
/// [`Problem`].
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| unreadable(rejection.status(), rejection.body_text()))
    }
}

/// A body that could not be read: over its limit (`DefaultBodyLimit`), or cut off.
fn unreadable(status: StatusCode, message: String) -> ApiError {
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "unreadable_body"
    };
    ApiError::new(status, code, message)
}

/// A 413's body may not have been read to its end, so its connection cannot carry
/// another request: `Connection: close` keeps a client from pooling it and seeing its
/// next request cut off.
async fn close_after_too_large(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// `Query<T>`, with bad parameters answered as a [`Problem`].
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

// ---- credentials ---------------------------------------------------------------------

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credential",
                "send a credential as `Authorization: Bearer <token>`",
            )
        })?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credential",
                "the Authorization header must be `Bearer <token>`",
            )
        })
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let token = bearer(parts)?.to_owned();
    state
        .store
        .read(move |conn| store::principal(conn, &token))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credential",
                "this credential is not known to the hub, or was revoked",
            )
        })
}

fn wrong_credential(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "wrong_credential", message)
}

/// A kiosk, authenticated by its device credential.
pub struct DeviceAuth {
    pub id: i64,
    pub store_code: String,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts)?.starts_with(KEY_PREFIX) {
            return Err(wrong_credential(
                "this is a web store API key; kiosk endpoints take a device credential",
            ));
        }
        match principal(parts, state).await? {
            Principal::Device { id, store_code } => Ok(DeviceAuth { id, store_code }),
            Principal::Key { .. } => Err(wrong_credential(
                "this is a web store API key; kiosk endpoints take a device credential",
            )),
        }
    }
}

/// The web store, authenticated by an API key.
pub struct WebStoreAuth {
    pub id: i64,
    pub name: String,
    scopes: Vec<Scope>,
}

impl WebStoreAuth {
    fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "missing_scope",
                format!("the key '{}' does not have the scope {}", self.name, scope.as_str()),
            ))
        }
    }
}

impl FromRequestParts<AppState> for WebStoreAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        const WRONG: &str = "this is a kiosk's device credential; web store endpoints take a web store API key";
        if bearer(parts)?.starts_with(DEVICE_PREFIX) {
            return Err(wrong_credential(WRONG));
        }
        match principal(parts, state).await? {
            Principal::Key { id, name, scopes } => Ok(WebStoreAuth { id, name, scopes }),
            Principal::Device { .. } => Err(wrong_credential(WRONG)),
        }
    }
}

// ---- handlers ------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Where to continue; absent or empty to start from the beginning.
    cursor: Option<String>,
    /// Items per page, 1 to 5000 (default 1000).
    limit: Option<usize>,
}

impl PageQuery {
    fn position(&self, feed: Feed) -> Result<(i64, usize), ApiError> {
        let position = store::decode_cursor(feed, self.cursor.as_deref()).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "this cursor was not issued by this feed; start again without one",
            )
        })?;
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_limit",
                format!("limit must be between 1 and {MAX_PAGE}"),
            ));
        }
        Ok((position, limit))
    }
}

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

async fn push(state: &AppState, principal: Principal, request: PushRequest) -> Result<Json<PushResponse>, ApiError> {
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

/// Exchanges a one-time enrollment code for a device credential.
#[utoipa::path(post, path = "/v1/kiosk/enroll", tag = "kiosk", request_body = EnrollRequest,
    responses((status = 200, body = EnrollResponse), (status = 403, body = Problem)))]
async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    if request.code.len() > 64 || request.name.as_deref().is_some_and(|n| !valid_ref(n)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "code is at most 64 characters; name 1 to 128 printable characters",
        ));
    }
    let result = state
        .store
        .write(move |w| {
            store::enroll(
                w.catalog.connection(),
                &request.code,
                request.name.as_deref(),
                Timestamp::now(),
            )
        })
        .await??;
    result
        .map(Json)
        .map_err(|e: EnrollError| ApiError::new(StatusCode::FORBIDDEN, "invalid_enroll_code", e.to_string()))
}

/// Sends a batch of wishlist ops from a kiosk's stream.
#[utoipa::path(post, path = "/v1/kiosk/ops", tag = "kiosk", request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 409, body = Problem), (status = 503, body = Problem)),
    security(("device" = [])))]
async fn kiosk_ops(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let principal = Principal::Device {
        id: device.id,
        store_code: device.store_code,
    };
    push(&state, principal, request).await
}

/// Catalog changes since a cursor, for a kiosk's own database.
#[utoipa::path(get, path = "/v1/kiosk/catalog/changes", tag = "kiosk", params(PageQuery),
    responses((status = 200, body = CatalogPage), (status = 400, body = Problem)), security(("device" = [])))]
async fn catalog_changes(
    State(state): State<AppState>,
    _device: DeviceAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CatalogPage>, ApiError> {
    let (after, limit) = query.position(Feed::Catalog)?;
    let ((changes, last, has_more), inventory_as_of) = state
        .store
        .read(move |c| {
            Ok((
                store::catalog_page(c, after, limit)?,
                crate::catalog::inventory_as_of(c)?,
            ))
        })
        .await?;
    Ok(Json(CatalogPage {
        changes,
        next_cursor: store::encode_cursor(Feed::Catalog, last),
        has_more,
        inventory_as_of,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImageQuery {
    /// The picture's URL, as the catalog names it.
    url: String,
}

/// A catalog picture, for a kiosk's disk cache. Only pictures the catalog names are
/// served: the hub is not an open proxy.
#[utoipa::path(get, path = "/v1/kiosk/images", tag = "kiosk", params(ImageQuery),
    responses((status = 200, description = "The picture", content_type = "image/*"),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 502, body = Problem)),
    security(("device" = [])))]
async fn image(
    State(state): State<AppState>,
    _device: DeviceAuth,
    ApiQuery(query): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    let url = query.url;
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !web || url.chars().count() > MAX_IMAGE_URL_CHARS {
        return Err(ApiError::bad_request(
            "invalid_url",
            format!("a picture URL is http(s) and at most {MAX_IMAGE_URL_CHARS} characters"),
        ));
    }
    let key = url.clone();
    if !state.store.read(move |c| store::names_image(c, &key)).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_image",
            "the catalog names no picture at this URL",
        ));
    }
    let picture = images::fetch(&state.http, &url).await.map_err(|e: FetchError| {
        tracing::warn!(url, error = %e, "picture fetch failed");
        ApiError::new(StatusCode::BAD_GATEWAY, "image_unavailable", e.to_string())
    })?;
    let headers = [
        (header::CONTENT_TYPE, picture.content_type),
        (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
    ];
    Ok((headers, picture.bytes).into_response())
}

fn check_customer(customer: &str) -> Result<(), ApiError> {
    if valid_ref(customer) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_customer",
            "a customer reference is 1 to 128 printable characters",
        ))
    }
}

async fn wishlist_of(state: &AppState, customer: String) -> Result<Json<CustomerWishlist>, ApiError> {
    check_customer(&customer)?;
    let key = customer.clone();
    let items = state.store.read(move |c| store::customer_wishlist(c, &key)).await?;
    Ok(Json(CustomerWishlist { customer, items }))
}

/// A signed-in customer's current wishlist, for the kiosk they signed in at. The kiosk
/// names them by the alias their token carried, and gets lines under that alias.
#[utoipa::path(get, path = "/v1/kiosk/customers/{alias}/wishlist", tag = "kiosk",
    params(("alias" = String, Path, description = "The customer's alias, from their QR token")),
    responses((status = 200, body = CustomerWishlist), (status = 404, body = Problem)), security(("device" = [])))]
async fn kiosk_customer_wishlist(
    State(state): State<AppState>,
    _device: DeviceAuth,
    Path(alias): Path<String>,
) -> Result<Json<CustomerWishlist>, ApiError> {
    let unknown = || ApiError::new(StatusCode::NOT_FOUND, "unknown_customer", "no customer has this alias");
    if Alias::parse(&alias).is_none() {
        return Err(unknown());
    }
    let key = alias.clone();
    let items = state
        .store
        .read(move |c| match customers::customer_of(c, &key)? {
            Some(customer) => store::customer_wishlist(c, &customer).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(unknown)?;
    let items = items
        .into_iter()
        .map(|line| WishlistLine {
            owner: Owner::Alias(alias.clone()),
            ..line
        })
        .collect();
    Ok(Json(CustomerWishlist { customer: alias, items }))
}

/// The public keys customer tokens may be signed with, and the audience they name: a
/// kiosk fetches them with its catalog and checks tokens offline.
#[utoipa::path(get, path = "/v1/kiosk/token-keys", tag = "kiosk",
    responses((status = 200, body = TokenKeys)), security(("device" = [])))]
async fn token_keys(State(state): State<AppState>, _device: DeviceAuth) -> Result<Json<TokenKeys>, ApiError> {
    let keys = state.store.read(|c| customers::published(c, Timestamp::now())).await?;
    Ok(Json(TokenKeys {
        audience: state.audience.to_string(),
        keys,
    }))
}

/// Signs a customer token with the hub's key, for the web store's app to show as a QR
/// code (a new one every ~30 s).
#[utoipa::path(post, path = "/v1/webstore/tokens", tag = "webstore", request_body = MintRequest,
    responses((status = 200, body = MintResponse), (status = 400, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("webstore" = [])))]
async fn mint_token(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiJson(request): ApiJson<MintRequest>,
) -> Result<Json<MintResponse>, ApiError> {
    key.require(Scope::TokensIssue)?;
    check_customer(&request.customer)?;
    let lifetime_minutes = request.lifetime_minutes.unwrap_or(DEFAULT_TOKEN_MINUTES);
    if !(1..=token::MAX_LIFETIME_MINUTES).contains(&lifetime_minutes) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("lifetime_minutes is 1 to {}", token::MAX_LIFETIME_MINUTES),
        ));
    }
    Ok(Json(mint_for(&state, request.customer, lifetime_minutes).await?))
}

/// Signs a token for `customer` with the hub's current key.
pub async fn mint_for(state: &AppState, customer: String, lifetime_minutes: u8) -> Result<MintResponse, ApiError> {
    let audience = state.audience.clone();
    let minted = state
        .store
        .write(move |w| {
            customers::mint(
                w.catalog.connection(),
                &customer,
                &audience,
                lifetime_minutes,
                Timestamp::now(),
            )
        })
        .await??;
    minted.map_err(|e| match e {
        MintRefused::Erased => erased(),
        MintRefused::NoKey => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_signing_key", e.to_string()),
        MintRefused::Claims(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "mint_failed", e.to_string()),
    })
}

fn erased() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "customer_erased", "this customer was erased")
}

/// The alias to put in tokens a web store signs with its own key.
#[utoipa::path(post, path = "/v1/webstore/customers/{customer}/alias", tag = "webstore",
    params(("customer" = String, Path, description = "The web store's customer reference")),
    responses((status = 200, body = AliasResponse), (status = 409, body = Problem)), security(("webstore" = [])))]
async fn customer_alias(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(customer): Path<String>,
) -> Result<Json<AliasResponse>, ApiError> {
    key.require(Scope::TokensIssue)?;
    check_customer(&customer)?;
    let target = customer.clone();
    let alias = state
        .store
        .write(move |w| customers::alias_for(w.catalog.connection(), &target, Timestamp::now()))
        .await??
        .ok_or_else(erased)?;
    Ok(Json(AliasResponse {
        customer,
        alias: alias.to_string(),
    }))
}

/// Registers the web store's own Ed25519 key for customer tokens. Kiosks trust it from
/// their next key fetch (every few minutes): give a new key a `not_before` an hour ahead.
#[utoipa::path(post, path = "/v1/webstore/signing-keys", tag = "webstore", request_body = RegisterKeyRequest,
    responses((status = 201, body = TokenKey), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn register_signing_key(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiJson(request): ApiJson<RegisterKeyRequest>,
) -> Result<(StatusCode, Json<TokenKey>), ApiError> {
    key.require(Scope::TokensIssue)?;
    let api_key = key.id;
    let registered = state
        .store
        .write(move |w| {
            customers::register(
                w.catalog.connection(),
                api_key,
                &request.public_key,
                request.not_before,
                request.not_after,
                Timestamp::now(),
            )
        })
        .await??
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_key", e.to_string()))?;
    Ok((StatusCode::CREATED, Json(registered)))
}

/// Revokes a key the web store registered: tokens it signed stop working on each kiosk
/// at its next key fetch.
#[utoipa::path(delete, path = "/v1/webstore/signing-keys/{key_id}", tag = "webstore",
    params(("key_id" = u16, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn revoke_signing_key(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(key_id): Path<u16>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    let api_key = key.id;
    let revoked = state
        .store
        .write(move |w| customers::revoke(w.catalog.connection(), api_key, key_id, Timestamp::now()))
        .await??;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_key",
            "this API key registered no such signing key, or it is already revoked",
        ))
    }
}

/// Customers who signed in at a kiosk, in the order the hub learnt of them: each visit's
/// shop, kiosk and time. Wishlist lines saved during a visit carry it as `session`.
#[utoipa::path(get, path = "/v1/webstore/visits", tag = "webstore", params(PageQuery),
    responses((status = 200, body = VisitPage), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn visits(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<VisitPage>, ApiError> {
    key.require(Scope::WishlistRead)?;
    let (after, limit) = query.position(Feed::Visits)?;
    let (visits, last, has_more) = state
        .store
        .read(move |c| customers::visits_page(c, after, limit))
        .await?;
    Ok(Json(VisitPage {
        visits,
        next_cursor: store::encode_cursor(Feed::Visits, last),
        has_more,
    }))
}

/// The sales assistants of the kiosk's own shop with their PIN hashes, for checking PINs
/// offline. Another shop's assistants never reach it.
#[utoipa::path(get, path = "/v1/kiosk/staff", tag = "kiosk",
    responses((status = 200, body = StaffList)), security(("device" = [])))]
async fn kiosk_staff(State(state): State<AppState>, device: DeviceAuth) -> Result<Json<StaffList>, ApiError> {
    let store = device.store_code.clone();
    let staff = state.store.read(move |c| super::staff::of_store(c, &store)).await?;
    Ok(Json(StaffList {
        store_code: device.store_code,
        staff,
    }))
}

/// Audit events of the kiosk's staff keypad (logins, wrong PINs, lockouts). An event
/// the hub already has (same kiosk, same `id`) is ignored, so a resend is harmless.
#[utoipa::path(post, path = "/v1/kiosk/staff/events", tag = "kiosk", request_body = StaffEvents,
    responses((status = 200, body = StaffEventsAck), (status = 422, body = Problem)), security(("device" = [])))]
async fn kiosk_staff_events(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(request): ApiJson<StaffEvents>,
) -> Result<Json<StaffEventsAck>, ApiError> {
    if request.events.len() > MAX_STAFF_EVENTS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_events",
            format!("at most {MAX_STAFF_EVENTS} events per request"),
        ));
    }
    if let Some(bad) = request.events.iter().find(|e| !valid_ref(&e.id) || e.id.len() > 64) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            format!("event id {:?} must be 1 to 64 printable characters", bad.id),
        ));
    }
    let stored = state
        .store
        .write(move |w| {
            super::staff::record_events(
                w.catalog.connection(),
                device.id,
                &device.store_code,
                &request.events,
                Timestamp::now(),
            )
        })
        .await??;
    Ok(Json(StaffEventsAck { stored }))
}

/// Every shop's stock of some SKUs, as the hub has it now (a kiosk's staff stock screen,
/// live). SKUs the inventory feed does not list have no line.
#[utoipa::path(post, path = "/v1/kiosk/stock", tag = "kiosk", request_body = StockQuery,
    responses((status = 200, body = StockAnswer), (status = 422, body = Problem)), security(("device" = [])))]
async fn kiosk_stock(
    State(state): State<AppState>,
    _device: DeviceAuth,
    ApiJson(query): ApiJson<StockQuery>,
) -> Result<Json<StockAnswer>, ApiError> {
    if query.skus.is_empty() || query.skus.len() > MAX_STOCK_SKUS || !query.skus.iter().all(|s| valid_ref(s)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_skus",
            format!("give 1 to {MAX_STOCK_SKUS} SKUs, each 1 to 128 printable characters"),
        ));
    }
    let answer = state
        .store
        .read(move |c| {
            Ok(StockAnswer {
                as_of: crate::catalog::inventory_as_of(c)?,
                levels: crate::catalog::stock_levels(c, &query.skus)?
                    .into_iter()
                    .map(|(sku, level)| ShopLevel {
                        store_code: level.store_code,
                        sku,
                        quantity: level.quantity,
                        availability: level.availability.as_str().to_owned(),
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(Json(answer))
}

// ---- sign-in with the phone -----------------------------------------------------------

/// The web store's pages a kiosk links to.
#[utoipa::path(get, path = "/v1/kiosk/settings", tag = "kiosk",
    responses((status = 200, body = KioskSettings)), security(("device" = [])))]
async fn kiosk_settings(State(state): State<AppState>, _device: DeviceAuth, headers: HeaderMap) -> Json<KioskSettings> {
    Json(KioskSettings {
        list_url: state
            .page(state.pages.list_url.as_ref(), "/list", &headers)
            .map(String::from),
        pairing: state.page(state.pages.pair_url.as_ref(), "/pair", &headers).is_some(),
        shops: state.shops.to_vec(),
    })
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
    let started = state
        .pairings()
        .start(device.id, &device.store_code, Timestamp::now())
        .map_err(|e| match e {
            StartRefused::TooMany => ApiError {
                retry_after: Some(10),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_pairings", e.to_string())
            },
            StartRefused::Full => ApiError {
                retry_after: Some(60),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "pairings_full", e.to_string())
            },
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
    params(("device_code" = String, Path)),
    responses((status = 200, body = PairingStatus), (status = 404, body = Problem), (status = 429, body = Problem)),
    security(("device" = [])))]
async fn poll_pairing(
    State(state): State<AppState>,
    device: DeviceAuth,
    Path(device_code): Path<String>,
) -> Result<Json<PairingStatus>, ApiError> {
    let status = |status| Json(PairingStatus { status, token: None });
    match state.pairings().poll(device.id, &device_code, Timestamp::now()) {
        Poll::Pending => Ok(status(PairingState::Pending)),
        Poll::Denied => Ok(status(PairingState::Denied)),
        Poll::Expired => Ok(status(PairingState::Expired)),
        Poll::Approved { token } => Ok(Json(PairingStatus {
            status: PairingState::Approved,
            token: Some(token),
        })),
        Poll::SlowDown => Err(ApiError {
            retry_after: Some(pairing::INTERVAL_SECONDS),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                format!("poll every {} s", pairing::INTERVAL_SECONDS),
            )
        }),
        Poll::Unknown => Err(unknown_pairing()),
    }
}

/// The kiosk no longer shows the code (the shopper closed it, or left).
#[utoipa::path(delete, path = "/v1/kiosk/pairings/{device_code}", tag = "kiosk",
    params(("device_code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("device" = [])))]
async fn cancel_pairing(
    State(state): State<AppState>,
    device: DeviceAuth,
    Path(device_code): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.pairings().cancel(device.id, &device_code) {
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
    params(("user_code" = String, Path, description = "As the kiosk shows it; case and dashes do not matter")),
    responses((status = 200, body = PairingInfo), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn pairing_info(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(code): Path<String>,
) -> Result<Json<PairingInfo>, ApiError> {
    key.require(Scope::TokensIssue)?;
    let code = user_code(&code)?;
    let pending = state.pairings().pending(&code, Timestamp::now())?;
    Ok(Json(PairingInfo {
        user_code: pairing::display_user_code(&code),
        store_code: pending.store_code,
        expires_at: pending.expires_at,
    }))
}

/// The signed-in customer confirmed: the kiosk signs them in at its next poll.
#[utoipa::path(post, path = "/v1/webstore/pairings/{user_code}/approve", tag = "webstore",
    params(("user_code" = String, Path)), request_body = ApproveRequest,
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn approve_pairing(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<ApproveRequest>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    check_customer(&request.customer)?;
    approve(&state, &user_code(&code)?, request.customer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms a pairing for `customer`: a one-minute token for the kiosk to collect.
pub async fn approve(state: &AppState, code: &str, customer: String) -> Result<(), ApiError> {
    state.pairings().pending(code, Timestamp::now())?;
    let minted = mint_for(state, customer, 1).await?;
    state.pairings().decide(code, Some(minted.token), Timestamp::now())?;
    Ok(())
}

/// The shopper said it was not them: the kiosk tells them, and shows a new code.
#[utoipa::path(post, path = "/v1/webstore/pairings/{user_code}/deny", tag = "webstore",
    params(("user_code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)),
    security(("webstore" = [])))]
async fn deny_pairing(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    let code = user_code(&code)?;
    state.pairings().decide(&code, None, Timestamp::now())?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a batch of the web store's own wishlist edits, on a stream of its own.
#[utoipa::path(post, path = "/v1/webstore/ops", tag = "webstore", request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 409, body = Problem)), security(("webstore" = [])))]
async fn webstore_ops(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    key.require(Scope::WishlistWrite)?;
    let principal = Principal::Key {
        id: key.id,
        name: key.name,
        scopes: key.scopes,
    };
    push(&state, principal, request).await
}

async fn wishlist_feed(state: &AppState, query: PageQuery, snapshot: bool) -> Result<Json<WishlistPage>, ApiError> {
    let feed = if snapshot { Feed::Snapshot } else { Feed::Wishlist };
    let (after, limit) = query.position(feed)?;
    let (changes, last, has_more) = state
        .store
        .read(move |c| store::wishlist_page(c, after, limit, snapshot))
        .await?;
    // A snapshot's last page hands over to the changes feed.
    let next = if snapshot && has_more {
        Feed::Snapshot
    } else {
        Feed::Wishlist
    };
    Ok(Json(WishlistPage {
        changes,
        next_cursor: store::encode_cursor(next, last),
        has_more,
    }))
}

/// Wishlist lines changed since a cursor, oldest change first, removals included.
#[utoipa::path(get, path = "/v1/webstore/wishlist/changes", tag = "webstore", params(PageQuery),
    responses((status = 200, body = WishlistPage), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn wishlist_changes(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WishlistPage>, ApiError> {
    key.require(Scope::WishlistRead)?;
    wishlist_feed(&state, query, false).await
}

/// Every present wishlist line, to start over; the last page's cursor continues with
/// `/v1/webstore/wishlist/changes`.
#[utoipa::path(get, path = "/v1/webstore/wishlist/snapshot", tag = "webstore", params(PageQuery),
    responses((status = 200, body = WishlistPage)), security(("webstore" = [])))]
async fn wishlist_snapshot(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WishlistPage>, ApiError> {
    key.require(Scope::WishlistRead)?;
    wishlist_feed(&state, query, true).await
}

/// One customer's current wishlist.
#[utoipa::path(get, path = "/v1/webstore/customers/{customer}/wishlist", tag = "webstore",
    params(("customer" = String, Path, description = "The web store's customer reference")),
    responses((status = 200, body = CustomerWishlist)), security(("webstore" = [])))]
async fn webstore_customer_wishlist(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(customer): Path<String>,
) -> Result<Json<CustomerWishlist>, ApiError> {
    key.require(Scope::WishlistRead)?;
    wishlist_of(&state, customer).await
}

/// Erases a customer (GDPR): their lines go in one transaction, and later ops naming
/// them are rejected.
#[utoipa::path(delete, path = "/v1/webstore/customers/{customer}", tag = "webstore",
    params(("customer" = String, Path, description = "The web store's customer reference")),
    responses((status = 200, body = EraseResponse)), security(("webstore" = [])))]
async fn erase_customer(
    State(state): State<AppState>,
    key: WebStoreAuth,
    Path(customer): Path<String>,
) -> Result<Json<EraseResponse>, ApiError> {
    key.require(Scope::CustomersErase)?;
    check_customer(&customer)?;
    let target = customer.clone();
    let removed_lines = state
        .store
        .write(move |w| store::erase_customer(w.catalog.connection(), &target, Timestamp::now()))
        .await??;
    tracing::info!(key = key.name, removed_lines, "customer erased");
    Ok(Json(EraseResponse {
        customer,
        removed_lines,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Language of a product feed if it does not declare one (e.g. `fr`).
    lang: Option<String>,
}

fn summary(feed: &str, s: Summary) -> ImportSummary {
    ImportSummary {
        feed: feed.to_owned(),
        imported: s.imported,
        updated: s.updated,
        unchanged: s.unchanged,
        removed: s.removed,
        rejected: s.rejected.iter().map(ToString::to_string).collect(),
    }
}

fn refused(e: crate::catalog::feed::FeedError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_feed",
        format!("{e}. Nothing was imported; the catalog is as it was."),
    )
}

/// Imports a Merchant Center product feed (RSS, Atom or TSV): the full catalog in one
/// language.
#[utoipa::path(post, path = "/v1/webstore/feeds/products", tag = "webstore", params(FeedQuery),
    request_body(content = String, content_type = "application/xml"),
    responses((status = 200, body = ImportSummary), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn upload_products(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<FeedQuery>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ImportSummary>, ApiError> {
    upload(&state, &key, FeedKind::Products, body, query.lang).await
}

async fn upload(
    state: &AppState,
    key: &WebStoreAuth,
    kind: FeedKind,
    body: Bytes,
    lang: Option<String>,
) -> Result<Json<ImportSummary>, ApiError> {
    key.require(Scope::CatalogWrite)?;
    let imported = super::import_feed(&state.store, kind, body, lang)
        .await
        .map_err(|e| match e {
            ImportError::Feed(e) => refused(e),
            ImportError::Store(e) => e.into(),
        })?;
    let name = match kind {
        FeedKind::Products => "products",
        FeedKind::Inventory => "inventory",
    };
    let s = summary(name, imported);
    tracing::info!(key = key.name, "{s}");
    Ok(Json(s))
}

/// Imports a local inventory feed: stock for every shop.
#[utoipa::path(post, path = "/v1/webstore/feeds/inventory", tag = "webstore",
    request_body(content = String, content_type = "text/tab-separated-values"),
    responses((status = 200, body = ImportSummary), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn upload_inventory(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ImportSummary>, ApiError> {
    upload(&state, &key, FeedKind::Inventory, body, None).await
}

/// Liveness: the hub answers and its database can be read.
#[utoipa::path(get, path = "/healthz", tag = "hub", responses((status = 200, description = "ok")))]
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.read(|c| c.execute_batch("SELECT 1")).await?;
    Ok("ok")
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what.to_owned()))
                    .build(),
            )
        };
        components.add_security_scheme("device", bearer("A kiosk's device credential (vtk_…), from enrollment"));
        components.add_security_scheme(
            "webstore",
            bearer("A web store API key (vws_…), from `vitrine hub key create`"),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Vitrine hub", description = "Catalog distribution and wishlist sync between kiosks and the web store."),
    modifiers(&Security)
)]
struct ApiDoc;

/// The router and the OpenAPI document it serves at `/openapi.json`.
pub fn router(state: AppState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let feeds_limit = DefaultBodyLimit::max(state.max_feed_bytes);
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(enroll))
        .routes(routes!(kiosk_ops))
        .routes(routes!(catalog_changes))
        .routes(routes!(image))
        .routes(routes!(kiosk_customer_wishlist))
        .routes(routes!(token_keys))
        .routes(routes!(mint_token))
        .routes(routes!(customer_alias))
        .routes(routes!(register_signing_key))
        .routes(routes!(revoke_signing_key))
        .routes(routes!(visits))
        .routes(routes!(kiosk_settings))
        .routes(routes!(kiosk_staff))
        .routes(routes!(kiosk_staff_events))
        .routes(routes!(kiosk_stock))
        .routes(routes!(start_pairing))
        .routes(routes!(poll_pairing, cancel_pairing))
        .routes(routes!(pairing_info))
        .routes(routes!(approve_pairing))
        .routes(routes!(deny_pairing))
        .routes(routes!(webstore_ops))
        .routes(routes!(wishlist_changes))
        .routes(routes!(wishlist_snapshot))
        .routes(routes!(webstore_customer_wishlist, erase_customer))
        .routes(routes!(upload_products).layer(feeds_limit))
        .routes(routes!(upload_inventory).layer(feeds_limit))
        .routes(routes!(healthz))
        .merge(super::pass::routes().into())
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .with_state(state)
        .split_for_parts();
    let doc = api.clone();
    let router = router
        .route("/openapi.json", axum::routing::get(move || async move { Json(doc) }))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /openapi.json",
            )
        })
        .layer(axum::middleware::map_response(close_after_too_large));
    (router, api)
}
