//! Measurement's routes for the web store (`/v1/webstore/…`, an API key and its
//! scopes): customers' consent, orders and refunds, how an order is credited, and the
//! reports (JSON, or CSV at the same path with `.csv`). Kiosks' events come in through
//! `kiosk`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::WebStoreAuth;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::webstore::check_customer;
use super::{ApiError, AppState};
use crate::db::{self, Sql};
use crate::hub::auth::Scope;
use crate::hub::measure::csv;
use crate::hub::measure::orders::{self, Refused};
use crate::hub::measure::report::{self, Period};
use crate::protocol::Problem;
use crate::protocol::measure::{
    Consent, ConsentRequest, DaysReport, KiosksReport, OrderCredit, OrderReceipt, OrderRequest, ProductsReport,
    RefundReceipt, RefundRequest, SearchesReport, ShopsReport,
};
use crate::protocol::params::{CustomerPath, OrderPath, ReportQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_consent, get_consent))
        .routes(routes!(post_order))
        .routes(routes!(get_order))
        .routes(routes!(post_refund))
        .routes(routes!(shops_report))
        .routes(routes!(shops_csv))
        .routes(routes!(kiosks_report))
        .routes(routes!(kiosks_csv))
        .routes(routes!(days_report))
        .routes(routes!(days_csv))
        .routes(routes!(products_report))
        .routes(routes!(products_csv))
        .routes(routes!(searches_report))
}

impl From<Refused> for ApiError {
    fn from(e: Refused) -> ApiError {
        let status = match e {
            Refused::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refused::Conflict(_) | Refused::Erased => StatusCode::CONFLICT,
            Refused::UnknownOrder(_) => StatusCode::NOT_FOUND,
            Refused::Store(_) => return ApiError::internal(&e),
            Refused::Unavailable(_) => return ApiError::unavailable(&e, 5),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// Says whether a customer agreed that their kiosk visits be linked to their orders.
/// Without it (the default), their visits still count, anonymously. A withdrawal
/// unlinks their orders at once.
#[utoipa::path(put, path = "/v1/webstore/customers/{customer}/consent", tag = "measurement",
    params(CustomerPath), request_body = ConsentRequest,
    responses((status = 200, body = Consent), (status = 409, body = Problem)), security(("webstore" = [])))]
async fn put_consent(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(CustomerPath { customer }): ApiPath<CustomerPath>,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<Json<Consent>, ApiError> {
    key.require(Scope::ConsentWrite)?;
    check_customer(&customer)?;
    let consent = state
        .store
        .write(move |w| orders::set_consent(w.db(), &customer, request.measurement, Timestamp::now()))
        .await??;
    Ok(Json(consent))
}

/// What the hub holds of a customer's consent.
#[utoipa::path(get, path = "/v1/webstore/customers/{customer}/consent", tag = "measurement",
    params(CustomerPath),
    responses((status = 200, body = Consent), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn get_consent(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(CustomerPath { customer }): ApiPath<CustomerPath>,
) -> Result<Json<Consent>, ApiError> {
    key.require(Scope::ConsentWrite)?;
    check_customer(&customer)?;
    state
        .store
        .read(move |c| orders::consent(c, &customer))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_consent",
                "the web store said nothing of this customer's consent: no link",
            )
        })
}

/// Records an order placed with the web store, for crediting kiosks. Idempotent by
/// `order_id`: the same order again is `duplicate`; a different one under the same id
/// is a conflict.
#[utoipa::path(post, path = "/v1/webstore/orders", tag = "measurement", request_body = OrderRequest,
    responses((status = 200, body = OrderReceipt), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("webstore" = [])))]
async fn post_order(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiJson(order): ApiJson<OrderRequest>,
) -> Result<Json<OrderReceipt>, ApiError> {
    key.require(Scope::OrdersWrite)?;
    let order_id = order.order_id.clone();
    let status = state
        .store
        .write(move |w| orders::record_order(w.db(), &order, Timestamp::now()))
        .await??;
    Ok(Json(OrderReceipt { order_id, status }))
}

/// How an order is credited now, under the rule every report states.
#[utoipa::path(get, path = "/v1/webstore/orders/{order_id}", tag = "measurement", params(OrderPath),
    responses((status = 200, body = OrderCredit), (status = 404, body = Problem)), security(("webstore" = [])))]
async fn get_order(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(OrderPath { order_id }): ApiPath<OrderPath>,
) -> Result<Json<OrderCredit>, ApiError> {
    key.require(Scope::ReportsRead)?;
    let settings = state.measure.clone();
    let wanted = order_id.clone();
    state
        .store
        .read(move |c| report::order_credit(c, &settings, &wanted))
        .await?
        .map(Json)
        .ok_or_else(|| Refused::UnknownOrder(order_id).into())
}

/// Records a refund (some units of some lines) or a cancellation (no `lines`: the whole
/// order). Idempotent by `refund_id`.
#[utoipa::path(post, path = "/v1/webstore/orders/{order_id}/refunds", tag = "measurement", params(OrderPath),
    request_body = RefundRequest,
    responses((status = 200, body = RefundReceipt), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("webstore" = [])))]
async fn post_refund(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiPath(OrderPath { order_id }): ApiPath<OrderPath>,
    ApiJson(refund): ApiJson<RefundRequest>,
) -> Result<Json<RefundReceipt>, ApiError> {
    key.require(Scope::OrdersWrite)?;
    let (id, refund_id) = (order_id.clone(), refund.refund_id.clone());
    let status = state
        .store
        .write(move |w| orders::refund(w.db(), &id, &refund, Timestamp::now()))
        .await??;
    Ok(Json(RefundReceipt {
        order_id,
        refund_id,
        status,
    }))
}

/// Checks the key and the query, then computes a report on a reader.
async fn compute<T: Send + 'static>(
    state: &AppState,
    key: &WebStoreAuth,
    query: ReportQuery,
    f: fn(&dyn Sql, &crate::hub::measure::Settings, Period, Option<&str>) -> db::Result<T>,
) -> Result<T, ApiError> {
    key.require(Scope::ReportsRead)?;
    let period = Period::parse(&query.from, &query.to).map_err(|why| ApiError::bad_request("invalid_period", why))?;
    if let Some(store) = &query.store {
        check_customer(store)
            .map_err(|_| ApiError::bad_request("invalid_store", "a store code is 1 to 128 printable characters"))?;
    }
    let settings = state.measure.clone();
    Ok(state
        .store
        .read(move |c| f(c, &settings, period, query.store.as_deref()))
        .await?)
}

fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// Per shop over the period: visits, interest, and the orders credited to it.
#[utoipa::path(get, path = "/v1/webstore/reports/shops", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = ShopsReport), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn shops_report(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<ShopsReport>, ApiError> {
    Ok(Json(compute(&state, &key, query, report::shops).await?))
}

/// The shops report as CSV.
#[utoipa::path(get, path = "/v1/webstore/reports/shops.csv", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = Problem)),
    security(("webstore" = [])))]
async fn shops_csv(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(csv_response(csv::shops_csv(
        &compute(&state, &key, query, report::shops).await?,
    )))
}

/// Per kiosk over the period.
#[utoipa::path(get, path = "/v1/webstore/reports/kiosks", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = KiosksReport), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn kiosks_report(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<KiosksReport>, ApiError> {
    Ok(Json(compute(&state, &key, query, report::kiosks).await?))
}

/// The kiosks report as CSV.
#[utoipa::path(get, path = "/v1/webstore/reports/kiosks.csv", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = Problem)),
    security(("webstore" = [])))]
async fn kiosks_csv(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(csv_response(csv::kiosks_csv(
        &compute(&state, &key, query, report::kiosks).await?,
    )))
}

/// Per shop and local day over the period.
#[utoipa::path(get, path = "/v1/webstore/reports/days", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = DaysReport), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn days_report(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<DaysReport>, ApiError> {
    Ok(Json(compute(&state, &key, query, report::days).await?))
}

/// The days report as CSV.
#[utoipa::path(get, path = "/v1/webstore/reports/days.csv", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = Problem)),
    security(("webstore" = [])))]
async fn days_csv(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(csv_response(csv::days_csv(
        &compute(&state, &key, query, report::days).await?,
    )))
}

/// Per product over the period: views and saves at kiosks, and the attributed orders.
#[utoipa::path(get, path = "/v1/webstore/reports/products", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = ProductsReport), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn products_report(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<ProductsReport>, ApiError> {
    Ok(Json(compute(&state, &key, query, report::products).await?))
}

/// The products report as CSV.
#[utoipa::path(get, path = "/v1/webstore/reports/products.csv", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = Problem)),
    security(("webstore" = [])))]
async fn products_csv(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(csv_response(csv::products_csv(
        &compute(&state, &key, query, report::products).await?,
    )))
}

/// Per shop over the period, what shoppers searched for, most searched first. Never tied
/// to a visit; a text searched fewer than `min_searches` (3) times in a shop is left out.
#[utoipa::path(get, path = "/v1/webstore/reports/searches", tag = "measurement", params(ReportQuery),
    responses((status = 200, body = SearchesReport), (status = 400, body = Problem)), security(("webstore" = [])))]
async fn searches_report(
    State(state): State<AppState>,
    key: WebStoreAuth,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<SearchesReport>, ApiError> {
    Ok(Json(compute(&state, &key, query, report::searches).await?))
}
