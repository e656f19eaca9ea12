//! The web store's routes (`/v1/webstore/…`, an API key and its scopes): feeds in,
//! its own wishlist edits, the wishlist changes feed and snapshot, one customer's list,
//! erasure, customer tokens and their keys, visits. Confirming a phone sign-in is in
//! `pairing`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use jiff::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::WebStoreAuth;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::ops::push;
use super::{ApiError, AppState, DEFAULT_TOKEN_MINUTES, position};
use crate::catalog::Summary;
use crate::hub::ImportError;
use crate::hub::auth::Scope;
use crate::hub::customers::{self, MintRefused};
use crate::hub::spool::SpoolError;
use crate::hub::store::{self, Feed, Principal};
use crate::protocol::params::{CustomerPath, FeedKind, FeedQuery, PageQuery, SigningKeyPath};
use crate::protocol::{
    AliasResponse, CustomerWishlist, EraseResponse, ImportSummary, MintRequest, MintResponse, Problem, PushRequest,
    PushResponse, RegisterKeyRequest, TokenKey, VisitPage, WishlistPage, valid_ref,
};
use crate::token;

/// The web store's routes, with their OpenAPI descriptions. Feed uploads are streamed to
/// disk under their own limit (`AppState::spool`), not the JSON one.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webstore_ops))
        .routes(routes!(wishlist_changes))
        .routes(routes!(wishlist_snapshot))
        .routes(routes!(webstore_customer_wishlist, erase_customer))
        .routes(routes!(mint_token))
        .routes(routes!(customer_alias))
        .routes(routes!(register_signing_key))
        .routes(routes!(revoke_signing_key))
        .routes(routes!(visits))
        .routes(routes!(upload_products))
        .routes(routes!(upload_inventory))
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

async fn wishlist_feed(state: &AppState, query: PageQuery) -> Result<Json<WishlistPage>, ApiError> {
    let (after, limit) = position(&query, Feed::Wishlist)?;
    let (changes, last, has_more) = state.store.read(move |c| store::wishlist_page(c, after, limit)).await?;
    Ok(Json(WishlistPage {
        changes,
        next_cursor: store::encode_cursor(Feed::Wishlist, last),
        has_more,
    }))
}

/// Wishlist lines changed since a cursor, oldest change first, removals included. An
/// erasure (`DELETE /v1/webstore/customers/{customer}`) deletes the customer's lines
/// without a change here: the web store that asked drops its own copy.
#[utoipa::path(get, path = "/v1/webstore/wishlist/changes", tag = "webstore", params(PageQuery),
    responses((status = 200, body = WishlistPage), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn wishlist_changes(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WishlistPage>, ApiError> {
    key.require(Scope::WishlistRead)?;
    wishlist_feed(&state, query).await
}

/// Every present wishlist line, to start over; the last page's cursor continues with
/// `/v1/webstore/wishlist/changes` from where the snapshot began, so a line changed
/// while the snapshot was paged through (removed, say) comes through the changes feed.
#[utoipa::path(get, path = "/v1/webstore/wishlist/snapshot", tag = "webstore", params(PageQuery),
    responses((status = 200, body = WishlistPage)), security(("webstore" = [])))]
async fn wishlist_snapshot(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WishlistPage>, ApiError> {
    key.require(Scope::WishlistRead)?;
    let (after, end) = store::decode_snapshot_cursor(query.cursor.as_deref()).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_cursor",
            "this cursor was not issued by this snapshot; start again without one",
        )
    })?;
    let (_, limit) = position(&PageQuery { cursor: None, ..query }, Feed::Snapshot)?;
    let page = state
        .store
        .read(move |c| store::snapshot_page(c, after, end, limit))
        .await?;
    // The last page hands over to the changes feed where the snapshot began.
    let next_cursor = if page.has_more {
        store::encode_snapshot_cursor(page.position, page.end)
    } else {
        store::encode_cursor(Feed::Wishlist, page.end)
    };
    Ok(Json(WishlistPage {
        changes: page.lines,
        next_cursor,
        has_more: page.has_more,
    }))
}

/// One customer's current wishlist.
#[utoipa::path(get, path = "/v1/webstore/customers/{customer}/wishlist", tag = "webstore",
    params(CustomerPath),
    responses((status = 200, body = CustomerWishlist)), security(("webstore" = [])))]
async fn webstore_customer_wishlist(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(CustomerPath { customer }): ApiPath<CustomerPath>,
) -> Result<Json<CustomerWishlist>, ApiError> {
    key.require(Scope::WishlistRead)?;
    wishlist_of(&state, customer).await
}

/// Erases a customer (GDPR): their lines go in one transaction, and later ops naming
/// them are rejected.
#[utoipa::path(delete, path = "/v1/webstore/customers/{customer}", tag = "webstore",
    params(CustomerPath),
    responses((status = 200, body = EraseResponse)), security(("webstore" = [])))]
async fn erase_customer(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(CustomerPath { customer }): ApiPath<CustomerPath>,
) -> Result<Json<EraseResponse>, ApiError> {
    key.require(Scope::CustomersErase)?;
    check_customer(&customer)?;
    let target = customer.clone();
    let removed_lines = state
        .store
        .write(move |w| store::erase_customer(w.db(), &target, Timestamp::now()))
        .await??;
    tracing::info!(key = key.name, removed_lines, "customer erased");
    Ok(Json(EraseResponse {
        customer,
        removed_lines,
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
        .write(move |w| customers::mint(w.db(), &customer, &audience, lifetime_minutes, Timestamp::now()))
        .await??;
    minted.map_err(|e| match e {
        MintRefused::Erased => erased(),
        MintRefused::NoKey => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_signing_key", e.to_string()),
        MintRefused::Claims(_) => ApiError::internal(&e),
    })
}

fn erased() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "customer_erased", "this customer was erased")
}

/// The alias to put in tokens a web store signs with its own key.
#[utoipa::path(post, path = "/v1/webstore/customers/{customer}/alias", tag = "webstore",
    params(CustomerPath),
    responses((status = 200, body = AliasResponse), (status = 409, body = Problem)), security(("webstore" = [])))]
async fn customer_alias(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(CustomerPath { customer }): ApiPath<CustomerPath>,
) -> Result<Json<AliasResponse>, ApiError> {
    key.require(Scope::TokensIssue)?;
    check_customer(&customer)?;
    let target = customer.clone();
    let alias = state
        .store
        .write(move |w| customers::alias(w.db(), &target, Timestamp::now()))
        .await??
        .ok_or_else(erased)?;
    Ok(Json(AliasResponse {
        customer,
        alias: alias.to_string(),
    }))
}

/// Registers the web store's own Ed25519 key for customer tokens. Kiosks trust it from
/// their next key fetch (every few minutes): give a new key a `not_before` an hour ahead.
/// A key of small order is refused (`weak_key`): signatures can be forged for it.
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
                w.db(),
                api_key,
                &request.public_key,
                request.not_before,
                request.not_after,
                Timestamp::now(),
            )
        })
        .await??
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    Ok((StatusCode::CREATED, Json(registered)))
}

/// Revokes a key the web store registered: tokens it signed stop working on each kiosk
/// at its next key fetch.
#[utoipa::path(delete, path = "/v1/webstore/signing-keys/{key_id}", tag = "webstore",
    params(SigningKeyPath),
    responses((status = 204), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn revoke_signing_key(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(SigningKeyPath { key_id }): ApiPath<SigningKeyPath>,
) -> Result<StatusCode, ApiError> {
    key.require(Scope::TokensIssue)?;
    let api_key = key.id;
    let revoked = state
        .store
        .write(move |w| customers::revoke(w.db(), api_key, key_id, Timestamp::now()))
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
    let (after, limit) = position(&query, Feed::Visits)?;
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

fn summary(feed: &str, s: Summary) -> ImportSummary {
    ImportSummary {
        feed: feed.to_owned(),
        imported: s.imported,
        updated: s.updated,
        unchanged: s.unchanged,
        removed: s.removed,
        rejected_count: s.rejected.len(),
        warning_count: s.warnings.len(),
        // The first of each, as the import log keeps them: a feed may have millions.
        rejected: s
            .rejected
            .iter()
            .take(crate::hub::imports::MAX_KEPT)
            .map(ToString::to_string)
            .collect(),
        warnings: s
            .warnings
            .iter()
            .take(crate::hub::imports::MAX_KEPT)
            .map(ToString::to_string)
            .collect(),
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
/// language. The body is the file as it is; its format is read from its content, so any
/// `Content-Type` will do.
#[utoipa::path(post, path = "/v1/webstore/feeds/products", tag = "webstore", params(FeedQuery),
    request_body(content = inline(crate::protocol::FeedFile), content_type = "application/octet-stream"),
    responses((status = 200, body = ImportSummary), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn upload_products(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<FeedQuery>,
    request: Request,
) -> Result<Json<ImportSummary>, ApiError> {
    upload(&state, &key, FeedKind::Products, request, query).await
}

/// Checks the key's scope, then spools the body to disk and imports it. Not one byte of
/// the body is read before the key is known to be allowed to send it.
async fn upload(
    state: &AppState,
    key: &WebStoreAuth,
    kind: FeedKind,
    request: Request,
    query: FeedQuery,
) -> Result<Json<ImportSummary>, ApiError> {
    key.require(Scope::CatalogWrite)?;
    let currency = query
        .currency
        .as_deref()
        .map(crate::domain::currency)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_currency", e))?;
    let options = crate::catalog::FeedOptions {
        lang: query.lang,
        currency,
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = state
        .spool
        .request_body(request.into_body(), announced)
        .await
        .map_err(|e| match e {
            SpoolError::TooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("a feed is at most {limit} bytes"),
            ),
            SpoolError::Cut(why) => ApiError::bad_request("unreadable_body", format!("the feed was cut off: {why}")),
            SpoolError::Disk(e) => ApiError::internal(&e),
        })?;
    let origin = crate::hub::imports::Origin {
        source: "upload",
        by: key.name.clone(),
    };
    let imported = crate::hub::import_feed(&state.store, kind, body, options, origin)
        .await
        .map(|imported| imported.summary)
        .map_err(|e| match e {
            ImportError::Feed(e) => refused(e),
            ImportError::Store(e) => e.into(),
        })?;
    let s = summary(kind.as_str(), imported);
    tracing::info!(key = key.name, "{s}");
    Ok(Json(s))
}

/// Imports a local inventory feed: stock for every shop. The body is the file as it is
/// (delimited text or XML), whatever its `Content-Type`; `lang` does not apply.
#[utoipa::path(post, path = "/v1/webstore/feeds/inventory", tag = "webstore", params(FeedQuery),
    request_body(content = inline(crate::protocol::FeedFile), content_type = "application/octet-stream"),
    responses((status = 200, body = ImportSummary), (status = 422, body = Problem)), security(("webstore" = [])))]
async fn upload_inventory(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<FeedQuery>,
    request: Request,
) -> Result<Json<ImportSummary>, ApiError> {
    upload(&state, &key, FeedKind::Inventory, request, query).await
}

pub(super) fn check_customer(customer: &str) -> Result<(), ApiError> {
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
