//! The console (`/console`): the hub in a browser, for store ops and marketing.
//!
//! Server-rendered HTML (maud: escaped by construction), one stylesheet, no script, no
//! CDN: a shop's LAN is enough. Every page sends a strict Content-Security-Policy.
//! French and English (`ui/console/console.yml`, through rust-i18n's `t!`).
//!
//! - [`session`]: accounts signed in, sessions in the hub's database;
//! - [`page`]: what every page shares (the layout, the navigation, forms with their CSRF
//!   token, friendly errors);
//! - one file per page group: [`fleet`], [`enroll`], [`shops`], [`settings`], [`brand`],
//!   [`feeds`], [`figures`] (with [`charts`], server-drawn SVG), [`keys`], [`audit`],
//!   [`accounts`].
//!
//! Pages read through the store's readers and change things through [`crate::hub::admin`],
//! the service layer the CLI calls too, which writes the audit log. A manager's shops are
//! checked on every page and action that names a shop or a kiosk ([`page::Ctx::manage`],
//! [`page::Ctx::see`]).

pub mod accounts;
pub mod audit;
pub mod brand;
pub mod charts;
pub mod enroll;
pub mod feeds;
pub mod figures;
pub mod fleet;
pub mod keys;
pub mod page;
pub mod session;
pub mod settings;
pub mod shops;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_login::AuthManagerLayerBuilder;
use sha2::{Digest, Sha512};
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::api::AppState;
use super::store::Store;
use crate::db::{self, Sql, params};

/// How long a session lasts without being used.
pub const SESSION_HOURS: i64 = 8;

/// The console's stylesheet, served at [`STYLESHEET`].
const CSS: &str = include_str!("../../../ui/console/console.css");
/// Its path: the hash of its content in the name, so a new version is never read from a
/// browser's cache.
pub static STYLESHEET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let digest = xxhash_rust::xxh3::xxh3_64(CSS.as_bytes());
    format!("/console/assets/console-{digest:016x}.css")
});

/// The keys of the console's cookies, the same for every hub on one database.
#[derive(Clone)]
pub struct Keys {
    pub csrf: axum_csrf::CsrfConfig,
}

impl Keys {
    /// From the hub's secrets (`hub_secret`); `secure` when the console is served over
    /// HTTPS (the hub's `public_url`).
    pub fn load(conn: &dyn Sql, secure: bool) -> db::Result<Keys> {
        let secret = |name: &str| -> db::Result<Vec<u8>> {
            conn.one("SELECT value FROM hub_secret WHERE name = ?1", params![name])
        };
        let key = Sha512::digest(secret("console_cookie_key")?);
        let salt = hex::encode(&secret("console_csrf_salt")?);
        let csrf = axum_csrf::CsrfConfig::default()
            .with_key(Some(axum_csrf::Key::from(&key)))
            .with_salt(salt)
            .with_cookie_name("vitrine_csrf")
            .with_cookie_path("/console")
            .with_cookie_same_site(axum_csrf::SameSite::Strict)
            .with_http_only(true)
            .with_secure(secure)
            .with_lifetime(Duration::hours(SESSION_HOURS));
        Ok(Keys { csrf })
    }
}

impl axum::extract::FromRef<AppState> for axum_csrf::CsrfConfig {
    fn from_ref(state: &AppState) -> axum_csrf::CsrfConfig {
        state.console.csrf.clone()
    }
}

/// The console's routes, with their session layer.
pub fn routes(store: Store, secure: bool) -> Router<AppState> {
    let sessions = SessionManagerLayer::new(session::DbSessions { store: store.clone() })
        .with_name("vitrine_session")
        .with_path("/console")
        .with_same_site(SameSite::Strict)
        .with_http_only(true)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::hours(SESSION_HOURS)));
    let auth = AuthManagerLayerBuilder::new(session::Backend { store }, sessions).build();
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/fleet") }))
        .route("/console/", get(|| async { Redirect::to("/console/fleet") }))
        .route("/console/sign-in", get(accounts::sign_in_page).post(accounts::sign_in))
        .route("/console/sign-out", post(accounts::sign_out))
        .route("/console/language", post(page::set_language))
        .route("/console/accounts", get(accounts::list).post(accounts::add))
        .route("/console/accounts/{id}/remove", post(accounts::remove))
        .route("/console/fleet", get(fleet::fleet))
        .route("/console/kiosks/{id}", get(fleet::kiosk))
        .route(
            "/console/kiosks/{id}/settings",
            get(settings::kiosk).post(settings::set_kiosk),
        )
        .route("/console/settings", get(settings::chain).post(settings::set_chain))
        .route(
            "/console/brand",
            // Two fonts and a logo: more than the API's limit, on this form only.
            get(brand::page).merge(post(brand::set).layer(axum::extract::DefaultBodyLimit::max(brand::MAX_FORM_BYTES))),
        )
        .route("/console/brand/logo", get(brand::logo))
        .route(
            "/console/shops/{code}/settings",
            get(settings::shop).post(settings::set_shop),
        )
        .route("/console/enroll", get(enroll::page).post(enroll::create))
        .route("/console/shops", get(shops::list))
        .route("/console/shops/{code}", get(shops::shop))
        .route("/console/shops/{code}/staff", post(shops::add_staff))
        .route("/console/shops/{code}/staff/{id}/remove", post(shops::remove_staff))
        .route("/console/shops/{code}/staff/{id}/pin", post(shops::reset_pin))
        .route("/console/keys", get(keys::list).post(keys::create))
        .route("/console/keys/{id}", get(keys::key))
        .route("/console/keys/{id}/revoke", post(keys::revoke))
        .route("/console/keys/{id}/webhooks/{endpoint}/replay", post(keys::replay))
        .route("/console/audit", get(audit::log))
        .route(
            "/console/feeds",
            get(feeds::list)
                .post(feeds::upload)
                // A feed is spooled to disk under the hub's own size limit.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/console/feeds/{id}", get(feeds::import))
        .route("/console/figures", get(figures::page))
        .route("/console/figures.csv", get(figures::csv))
        .route("/console/assets/{file}", get(asset))
        .layer(auth)
        .layer(axum::middleware::map_response(security_headers))
}

/// The stylesheet, cached for a year (its name changes with its content).
async fn asset(Path(file): Path<String>) -> Response {
    if format!("/console/assets/{file}") != *STYLESHEET {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
        .into_response()
}

/// What every console answer carries: no script, no framing, no outside resource, and
/// pages never cached (they show who is signed in and what they may see).
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // A response with a policy of its own keeps it (the brand's SVG logo: stricter still).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        );
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}
