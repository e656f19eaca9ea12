//! The kiosk's routes (`/v1/kiosk/…`, a device credential): enrollment, pushing ops,
//! the catalog and its pictures, a signed-in customer's list, the token keys, the web
//! store's pages and shops, staff, live stock, what is popular in the kiosk's shop.
//! Sign-in with the phone is in `pairing`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::DeviceAuth;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::ops::push;
use super::{ApiError, AppState, position};
use crate::hub::images::FetchError;
use crate::hub::store::{self, EnrollError, Feed, Principal};
use crate::hub::{customers, grants};
use crate::protocol::fleet::{Heartbeat, HeartbeatAck};
use crate::protocol::measure::{EventsAck, KioskEvents, MAX_EVENTS, MAX_POPULAR, Popular, RawKioskEvents};
use crate::protocol::params::{AliasPath, FontPath, ImageQuery, PageQuery};
use crate::protocol::{
    CUSTOMER_TOKEN_HEADER, CatalogPage, CustomerWishlist, EnrollRequest, EnrollResponse, ErasurePage, KioskSettings,
    MAX_IMAGE_URL_CHARS, MAX_STAFF_EVENTS, MAX_STOCK_SKUS, Owner, Problem, PushRequest, PushResponse, ShopLevel,
    StaffEvents, StaffEventsAck, StaffList, StockAnswer, StockQuery, TokenKeys, WishlistLine, valid_ref,
};
use crate::token::Alias;

/// The kiosk's routes, with their OpenAPI descriptions.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(kiosk_ops))
        .routes(routes!(catalog_changes))
        .routes(routes!(image))
        .routes(routes!(kiosk_customer_wishlist))
        .routes(routes!(erasures))
        .routes(routes!(token_keys))
        .routes(routes!(kiosk_settings))
        .routes(routes!(kiosk_brand_logo))
        .routes(routes!(kiosk_brand_font))
        .routes(routes!(kiosk_staff))
        .routes(routes!(kiosk_staff_events))
        .routes(routes!(kiosk_events))
        .routes(routes!(kiosk_stock))
        .routes(routes!(kiosk_popular))
        .routes(routes!(kiosk_heartbeat))
}

/// Exchanges a one-time enrollment code for a device credential.
#[utoipa::path(post, path = "/v1/kiosk/enroll", tag = "kiosk", request_body = EnrollRequest,
    responses((status = 200, body = EnrollResponse), (status = 403, body = Problem)))]
async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    let bad_ref = |text: Option<&str>| text.is_some_and(|t| !valid_ref(t));
    if request.code.len() > 64 || bad_ref(request.name.as_deref()) || bad_ref(request.store.as_deref()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "code is at most 64 characters; name and store 1 to 128 printable characters",
        ));
    }
    let result = state
        .store
        .write(move |w| {
            store::enroll(
                w.db(),
                &request.code,
                request.name.as_deref(),
                request.store.as_deref(),
                Timestamp::now(),
            )
        })
        .await??;
    result.map(Json).map_err(|e: EnrollError| match e {
        EnrollError::OtherShop(_) => ApiError::new(StatusCode::CONFLICT, "other_shop", e.to_string()),
        _ => ApiError::new(StatusCode::FORBIDDEN, "invalid_enroll_code", e.to_string()),
    })
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
    let (after, limit) = position(&query, Feed::Catalog)?;
    let ((changes, last, has_more), inventory_as_of) = state
        .store
        .read(move |c| {
            Ok((
                crate::catalog::changes_page(c, after, limit)?,
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
    if !state.store.read(move |c| crate::catalog::names_image(c, &key)).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_image",
            "the catalog names no picture at this URL",
        ));
    }
    let picture = state.pictures.get(&url).await.map_err(|e: FetchError| {
        ApiError::bad_gateway(
            "image_unavailable",
            "the web store's server did not give this picture; try again later",
            &format!("{url}: {e}"),
        )
    })?;
    let headers = [
        (header::CONTENT_TYPE, picture.content_type),
        (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
    ];
    Ok((headers, picture.bytes).into_response())
}

/// A signed-in customer's current wishlist, for the kiosk they signed in at. The kiosk
/// names them by the alias their token carried and proves the sign-in with the token
/// itself (header `Vitrine-Customer-Token`), which must be good now; it gets lines under
/// that alias.
#[utoipa::path(get, path = "/v1/kiosk/customers/{alias}/wishlist", tag = "kiosk",
    params(AliasPath, ("vitrine-customer-token" = String, Header, description = "The customer's token, as the kiosk read it")),
    responses((status = 200, body = CustomerWishlist), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("device" = [])))]
async fn kiosk_customer_wishlist(
    State(state): State<AppState>,
    device: DeviceAuth,
    headers: HeaderMap,
    ApiPath(AliasPath { alias }): ApiPath<AliasPath>,
) -> Result<Json<CustomerWishlist>, ApiError> {
    let unknown = || ApiError::new(StatusCode::NOT_FOUND, "unknown_customer", "no customer has this alias");
    if Alias::parse(&alias).is_none() {
        return Err(unknown());
    }
    let token = headers
        .get(CUSTOMER_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.len() <= crate::token::DIGITS)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "token_required",
                "send the customer's token in the Vitrine-Customer-Token header",
            )
        })?
        .to_owned();
    let (key, audience) = (alias.clone(), state.audience.to_string());
    let now = Timestamp::now();
    let items = state
        .store
        .read(
            move |c| match grants::check_read(c, &audience, device.id, &token, &key, now)? {
                Ok(customer) => store::customer_wishlist(c, &customer).map(Ok),
                Err(reason) => Ok(Err(reason)),
            },
        )
        .await?
        .map_err(|reason| match reason {
            "unknown_customer" => unknown(),
            "token_expired" => ApiError::new(StatusCode::FORBIDDEN, reason, "the customer's token has expired"),
            _ => ApiError::new(
                StatusCode::FORBIDDEN,
                reason,
                "the customer's token does not prove a sign-in for this alias",
            ),
        })?;
    let items = items
        .into_iter()
        .map(|line| WishlistLine {
            owner: Owner::Alias(alias.clone()),
            ..line
        })
        .collect();
    Ok(Json(CustomerWishlist { customer: alias, items }))
}

/// Aliases of customers the web store erased, in the order erased: a kiosk deletes every
/// trace it holds of them. Kept for 90 days.
#[utoipa::path(get, path = "/v1/kiosk/erasures", tag = "kiosk", params(PageQuery),
    responses((status = 200, body = ErasurePage), (status = 400, body = Problem)), security(("device" = [])))]
async fn erasures(
    State(state): State<AppState>,
    _device: DeviceAuth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ErasurePage>, ApiError> {
    let (after, limit) = position(&query, Feed::Erasures)?;
    let (aliases, last, has_more) = state.store.read(move |c| grants::erased_page(c, after, limit)).await?;
    Ok(Json(ErasurePage {
        aliases,
        next_cursor: store::encode_cursor(Feed::Erasures, last),
        has_more,
    }))
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

/// The web store's pages a kiosk links to, the chain's shops, and the settings store ops
/// set for the chain, the kiosk's shop and the kiosk (merged).
#[utoipa::path(get, path = "/v1/kiosk/settings", tag = "kiosk",
    responses((status = 200, body = KioskSettings)), security(("device" = [])))]
async fn kiosk_settings(
    State(state): State<AppState>,
    device: DeviceAuth,
    headers: HeaderMap,
) -> Result<Json<KioskSettings>, ApiError> {
    let fixed = state.brand.clone();
    let (remote, brand) = state
        .store
        .read(move |c| {
            let remote = crate::hub::kiosk_settings::effective(c, &device.store_code, device.id)?;
            let brand = crate::hub::brand::current_brand(c, fixed.as_deref())?;
            Ok::<_, crate::db::Error>((remote, brand))
        })
        .await?;
    Ok(Json(KioskSettings {
        list_url: state
            .page(state.pages.list_url.as_ref(), "/list", &headers)
            .map(String::from),
        pairing: state.page(state.pages.pair_url.as_ref(), "/pair", &headers).is_some(),
        shops: state.shops.to_vec(),
        remote,
        brand,
    }))
}

/// The chain's brand's logo (SVG or PNG), named by its SHA-256 in the settings.
#[utoipa::path(get, path = "/v1/kiosk/brand/logo", tag = "kiosk",
    responses((status = 200, description = "The logo's bytes", content_type = "image/svg+xml"),
        (status = 404, body = Problem, description = "The brand has no logo")),
    security(("device" = [])))]
async fn kiosk_brand_logo(State(state): State<AppState>, _device: DeviceAuth) -> Result<Response, ApiError> {
    let fixed = state.brand.clone();
    let logo = state
        .store
        .read(move |c| crate::hub::brand::logo(c, fixed.as_deref()))
        .await?;
    match logo {
        Some((format, bytes)) => Ok((
            [
                (header::CONTENT_TYPE, format.content_type()),
                // A kiosk asks once per digest; nothing for a cache between to keep.
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes.to_vec(),
        )
            .into_response()),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "no_logo", "the brand has no logo")),
    }
}

/// One of the brand's own fonts (TrueType or OpenType), by the digest the settings name.
#[utoipa::path(get, path = "/v1/kiosk/brand/fonts/{sha256}", tag = "kiosk", params(FontPath),
    responses((status = 200, description = "The font file (font/otf or font/ttf)", content_type = "font/otf"),
        (status = 404, body = Problem, description = "The brand has no font with this digest")),
    security(("device" = [])))]
async fn kiosk_brand_font(
    State(state): State<AppState>,
    _device: DeviceAuth,
    ApiPath(path): ApiPath<FontPath>,
) -> Result<Response, ApiError> {
    let fixed = state.brand.clone();
    let font = state
        .store
        .read(move |c| crate::hub::brand::font(c, fixed.as_deref(), &path.sha256))
        .await?;
    match font {
        Some(bytes) => {
            // OpenType with PostScript outlines starts `OTTO`; TrueType does not.
            let kind = if bytes.starts_with(b"OTTO") {
                "font/otf"
            } else {
                "font/ttf"
            };
            Ok((
                [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-store")],
                bytes.to_vec(),
            )
                .into_response())
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_font",
            "the brand has no font with this digest",
        )),
    }
}

/// The sales assistants of the kiosk's own shop with their PIN hashes, for checking PINs
/// offline. Another shop's assistants never reach it.
#[utoipa::path(get, path = "/v1/kiosk/staff", tag = "kiosk",
    responses((status = 200, body = StaffList)), security(("device" = [])))]
async fn kiosk_staff(State(state): State<AppState>, device: DeviceAuth) -> Result<Json<StaffList>, ApiError> {
    let store = device.store_code.clone();
    let staff = state
        .store
        .read(move |c| crate::hub::staff::of_store(c, &store))
        .await?;
    Ok(Json(StaffList {
        store_code: device.store_code,
        staff,
    }))
}

/// What is popular in the kiosk's own shop: product groups by views plus three times
/// wishlist adds over the shop's last 30 days, highest first. Counted per shop, never per
/// person; another shop's figures never reach it.
#[utoipa::path(get, path = "/v1/kiosk/popular", tag = "kiosk",
    responses((status = 200, body = Popular)), security(("device" = [])))]
async fn kiosk_popular(State(state): State<AppState>, device: DeviceAuth) -> Result<Json<Popular>, ApiError> {
    let (store, settings) = (device.store_code.clone(), state.measure.clone());
    let groups = state
        .store
        .read(move |c| crate::hub::measure::popular::popular(c, &settings, &store, Timestamp::now(), MAX_POPULAR))
        .await?;
    Ok(Json(Popular {
        store_code: device.store_code,
        groups,
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
            crate::hub::staff::record_events(w.db(), device.id, &device.store_code, &request.events, Timestamp::now())
        })
        .await??;
    Ok(Json(StaffEventsAck { stored }))
}

/// What happened at the kiosk: visits, products viewed and saved, codes shown,
/// searches (see `KioskEvent`). An event the hub already has (same kiosk, same `id`) is
/// ignored; one the hub cannot read (a kind it does not know, a field out of range) or
/// older than 60 days is refused alone (`rejected`), so the kiosk forgets every event of
/// an acknowledged batch.
#[utoipa::path(post, path = "/v1/kiosk/events", tag = "kiosk", request_body = KioskEvents,
    responses((status = 200, body = EventsAck), (status = 422, body = Problem)), security(("device" = [])))]
async fn kiosk_events(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(raw): ApiJson<RawKioskEvents>,
) -> Result<Json<EventsAck>, ApiError> {
    if raw.events.len() > MAX_EVENTS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_events",
            format!("at most {MAX_EVENTS} events per request"),
        ));
    }
    let (batch, unreadable) = raw.parse();
    if unreadable > 0 {
        tracing::warn!(
            device = device.id,
            unreadable,
            "kiosk events the hub cannot read were refused"
        );
    }
    let settings = state.measure.clone();
    let recorded = state
        .store
        .write(move |w| {
            crate::hub::measure::events::record(
                w.db(),
                &settings,
                device.id,
                &device.store_code,
                &batch,
                Timestamp::now(),
            )
        })
        .await??;
    Ok(Json(EventsAck {
        stored: recorded.stored,
        rejected: recorded.rejected + unreadable,
    }))
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

/// How the kiosk is doing (its staff health screen's facts), every minute: the console's
/// fleet page shows it, and alerts open and clear from it.
#[utoipa::path(post, path = "/v1/kiosk/heartbeat", tag = "kiosk", request_body = Heartbeat,
    responses((status = 200, body = HeartbeatAck), (status = 422, body = Problem)), security(("device" = [])))]
async fn kiosk_heartbeat(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(beat): ApiJson<Heartbeat>,
) -> Result<Json<HeartbeatAck>, ApiError> {
    crate::hub::fleet::check(&beat)
        .map_err(|message| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_heartbeat", message))?;
    let now = Timestamp::now();
    state
        .store
        .write(move |w| crate::hub::fleet::record(w.db(), device.id, &device.store_code, &beat, now))
        .await??;
    Ok(Json(HeartbeatAck { received_at: now }))
}
