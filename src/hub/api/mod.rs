//! The hub's HTTP API (axum), one file per audience:
//!
//! - [`kiosk`]: the `/v1/kiosk/` routes, for kiosks with a device credential;
//! - [`webstore`]: the `/v1/webstore/` routes, for the web store with an API key;
//! - [`pairing`]: sign-in with the phone, both sides;
//! - [`health`]: liveness (`GET /healthz`);
//! - [`measure`]: consent, orders and reports, for the web store;
//! - [`webhooks`]: the web store's webhook endpoints, their deliveries and replays;
//! - [`ops`]: pushing ops, shared by kiosks and the web store;
//! - [`error`], [`extract`], [`credentials`]: refusals as `Problem`s, extractors that
//!   answer with them, and the credentials as extractors.
//!
//! Each handler carries its OpenAPI description (`utoipa::path`); each audience's
//! router is built from the same list and merged in [`router`], so the published
//! document and the served routes cannot drift apart. Query and path parameters are the
//! types of `protocol::params`, which the clients send.

pub mod credentials;
pub mod error;
pub mod extract;
pub mod health;
pub mod kiosk;
pub mod limits;
pub mod linger;
pub mod measure;
pub mod ops;
pub mod pairing;
pub mod webhooks;
pub mod webstore;

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use error::ApiError;

use super::WebStorePages;
use super::images;
use super::store::{self, Feed, Store};
use crate::protocol::MAX_PAGE;
use crate::protocol::params::PageQuery;

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
    /// Where feed bodies are spooled, and their size limit.
    pub spool: super::spool::Spool,
    /// Where catalog pictures for kiosks come from.
    pub pictures: images::Pictures,
    /// The audience customer tokens for this hub's kiosks name.
    pub audience: Arc<str>,
    /// Customers with a demo pass page.
    pub demo_passes: Arc<[String]>,
    /// The web store's pages kiosks send shoppers to.
    pub pages: Arc<WebStorePages>,
    /// How long a sign-in with the phone waits for the shopper.
    pub pairing_lifetime: jiff::SignedDuration,
    /// The chain's shops, as configured.
    pub shops: Arc<[crate::protocol::Shop]>,
    /// Requests counted per client, refused past the configured limits.
    pub limits: Arc<limits::Limits>,
    /// The attribution rule, retention and the shops' time zones.
    pub measure: Arc<crate::hub::measure::Settings>,
    /// Where webhook endpoints may be.
    pub webhook_targets: Arc<crate::hub::images::Targets>,
    /// The console's cookie keys.
    pub console: crate::hub::console::Keys,
    /// The address kiosks and browsers reach the hub at, when configured.
    pub public_url: Option<Arc<str>>,
    /// The feeds the hub fetches on a schedule.
    pub feeds: Arc<[crate::hub::FeedSource]>,
    /// The brand `hub.toml` fixes, if it does (else the console's is used).
    pub brand: Option<Arc<crate::hub::brand::Branding>>,
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

    /// The pairing a user code names, if it still waits for the shopper.
    pub(crate) async fn pairing_pending(&self, code: &str) -> Result<crate::hub::pairing::Pending, ApiError> {
        let code = code.to_owned();
        let now = jiff::Timestamp::now();
        Ok(self
            .store
            .read(move |c| crate::hub::store::pairings::pending(c, &code, now))
            .await??)
    }

    /// The shopper confirmed (with a token) or declined a pairing.
    pub(crate) async fn pairing_decide(&self, code: &str, token: Option<String>) -> Result<(), ApiError> {
        let code = code.to_owned();
        let now = jiff::Timestamp::now();
        Ok(self
            .store
            .write(move |w| crate::hub::store::pairings::decide(w.db(), &code, token.as_deref(), now))
            .await???)
    }
}

/// Where a page of `feed` starts, and how long it is, from the client's query.
fn position(query: &PageQuery, feed: Feed) -> Result<(i64, usize), ApiError> {
    let position = store::decode_cursor(feed, query.cursor.as_deref()).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_cursor",
            "this cursor was not issued by this feed; start again without one",
        )
    })?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok((position, limit))
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
    let counted = state.limits.clone();
    let secure = state.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let console = crate::hub::console::routes(state.store.clone(), secure);
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(kiosk::routes())
        .merge(webstore::routes())
        .merge(measure::routes())
        .merge(webhooks::routes())
        .merge(pairing::routes())
        .merge(health::routes())
        .merge(super::pass::routes().into())
        .merge(OpenApiRouter::from(console))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .with_state(state)
        .split_for_parts();
    let doc = api.clone();
    let router = router
        .route("/openapi.json", axum::routing::get(move || async move { Json(doc) }))
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/console") {
                use axum::response::IntoResponse as _;
                let page = crate::hub::console::page::ConsoleError::NotFound.into_response();
                return crate::hub::console::security_headers(page).await;
            }
            use axum::response::IntoResponse as _;
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /openapi.json",
            )
            .into_response()
        })
        // A client over its limit is refused before anything reads its request.
        .layer(axum::middleware::from_fn_with_state(counted, limits::limit))
        // Outermost: whatever refused a body, the rest of it is read before the answer.
        .layer(axum::middleware::from_fn(linger::linger));
    (router, api)
}
