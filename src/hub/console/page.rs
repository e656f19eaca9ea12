//! What every console page shares: the request's context (who, which language, the form
//! token), the layout and its navigation, forms that carry their CSRF token, messages
//! carried across a redirect, and errors as friendly pages.

use axum::Form;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_csrf::CsrfToken;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::STYLESHEET;
use super::session::{AuthSession, SignedIn};
use crate::hub::accounts::{Account, Role};
use crate::hub::api::AppState;
use crate::hub::audit::Actor;

/// Translates a literal into the page's language: `tr!(lang, "Fleet")`, or with
/// `%{name}` placeholders, `tr!(lang, "%{n} kiosks", n = count)`.
macro_rules! tr {
    ($lang:expr, $key:literal) => {
        rust_i18n::t!($key, locale = $lang.code())
    };
    ($lang:expr, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        rust_i18n::t!($key, locale = $lang.code(), $($name = $value),+)
    };
}
pub(crate) use tr;

/// The console's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

/// The cookie that keeps the language chosen.
const LANG_COOKIE: &str = "vitrine_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language chosen (cookie), else the browser's first of ours, else English.
    pub fn of(headers: &HeaderMap) -> Lang {
        let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
        for pair in cookies.flat_map(|v| v.split(';')) {
            match pair.trim().split_once('=') {
                Some((LANG_COOKIE, "fr")) => return Lang::Fr,
                Some((LANG_COOKIE, "en")) => return Lang::En,
                _ => {}
            }
        }
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for range in accepted.split(',') {
            let tag = range.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag == "fr" || tag.starts_with("fr-") {
                return Lang::Fr;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Lang::En;
            }
        }
        Lang::En
    }

    /// A time as the page's reader reads it, in the hub's time zone.
    pub fn time(self, at: jiff::Timestamp) -> String {
        let zoned = at.to_zoned(jiff::tz::TimeZone::system());
        match self {
            Lang::En => zoned.strftime("%Y-%m-%d %H:%M").to_string(),
            Lang::Fr => zoned.strftime("%d/%m/%Y %H:%M").to_string(),
        }
    }

    /// How long ago `at` was, in a few words.
    pub fn ago(self, at: jiff::Timestamp, now: jiff::Timestamp) -> String {
        let seconds = now.duration_since(at).as_secs().max(0);
        let (n, unit) = match seconds {
            0..60 => return tr!(self, "just now").into_owned(),
            60..3600 => (seconds / 60, "min"),
            3600..86_400 => (seconds / 3600, "h"),
            _ => (seconds / 86_400, "d"),
        };
        match unit {
            "min" => tr!(self, "%{n} min ago", n = n).into_owned(),
            "h" => tr!(self, "%{n} h ago", n = n).into_owned(),
            _ => tr!(self, "%{n} d ago", n = n).into_owned(),
        }
    }
}

/// A signed-in request's context: who, in which language, with the form token the page's
/// forms carry. Every console page but the sign-in takes one.
pub struct Ctx {
    pub account: Account,
    pub lang: Lang,
    pub csrf: CsrfToken,
    pub session: tower_sessions::Session,
    /// The page asked for, to mark it in the navigation.
    pub path: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Response> {
        let SignedIn(account) = SignedIn::from_request_parts(parts, state).await?;
        let csrf = CsrfToken::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let session = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?
            .session;
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.0.path().to_owned());
        Ok(Ctx {
            account,
            lang: Lang::of(&parts.headers),
            csrf,
            session,
            path,
        })
    }
}

/// Every console form sends its CSRF token as this field.
#[derive(Debug, Deserialize)]
pub struct Token {
    pub authenticity_token: String,
}

/// What the audit log calls a change made from the console.
impl Ctx {
    pub fn actor(&self) -> Actor {
        Actor::Console {
            email: self.account.email.clone(),
        }
    }

    /// Refuses a form whose token does not match this browser's cookie.
    pub fn check(&self, token: &str) -> Result<(), ConsoleError> {
        self.csrf.verify(token).map_err(|_| ConsoleError::Csrf)
    }

    /// Refuses unless the account may see `store`.
    pub fn see(&self, store: &str) -> Result<(), ConsoleError> {
        if self.account.sees(store) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// The shops this account sees, to list or choose from: the chain's (`[[shop]]`), the
    /// account's own and those in `also` (with kiosks or figures), sorted, once each.
    pub fn shops_seen(&self, state: &AppState, also: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut codes: Vec<String> = state
            .shops
            .iter()
            .map(|s| s.code.clone())
            .chain(self.account.shops.iter().cloned())
            .chain(also)
            .filter(|code| self.account.sees(code))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// Refuses unless the account may change things in `store`.
    pub fn manage(&self, store: &str) -> Result<(), ConsoleError> {
        if self.account.manages(store) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// Refuses unless the account is an admin (the chain's keys, accounts, settings).
    pub fn admin(&self) -> Result<(), ConsoleError> {
        if self.account.role == Role::Admin {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// The hidden field every form carries.
    pub fn token_field(&self) -> Markup {
        let token = self.csrf.authenticity_token().unwrap_or_default();
        html! { input type="hidden" name="authenticity_token" value=(token); }
    }

    /// A form of one button that posts to `action`.
    pub fn button(&self, action: &str, label: &str, class: &str) -> Markup {
        html! {
            form.inline method="post" action=(action) {
                (self.token_field())
                button.(class) type="submit" { (label) }
            }
        }
    }

    /// A message to show on the next page (after a redirect).
    pub async fn flash(&self, kind: Flash, message: impl Into<String>) {
        let _ = self.session.insert(FLASH, (kind, message.into())).await;
    }

    /// Goes to `to`, with a message shown there.
    pub async fn redirect(&self, to: &str, kind: Flash, message: impl Into<String>) -> Response {
        self.flash(kind, message).await;
        Redirect::to(to).into_response()
    }

    /// The page: the layout around `body`, with the form token's cookie.
    pub async fn render(&self, title: &str, body: Markup) -> Response {
        // Read first: removing marks the session changed, a write on every page otherwise.
        let carried: Option<(Flash, String)> = self.session.get(FLASH).await.ok().flatten();
        let flash = match carried {
            Some(flash) => self
                .session
                .remove::<(Flash, String)>(FLASH)
                .await
                .ok()
                .flatten()
                .or(Some(flash)),
            None => None,
        };
        let page = layout(self.lang, title, Some(self), flash, body);
        (self.csrf.clone(), page).into_response()
    }
}

const FLASH: &str = "flash";

/// How a carried message reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Flash {
    Done,
    Refused,
}

/// The navigation: each page and who sees it.
fn navigation(lang: Lang, account: &Account) -> Vec<(&'static str, String)> {
    let mut items = vec![
        ("/console/fleet", tr!(lang, "Fleet").into_owned()),
        ("/console/shops", tr!(lang, "Shops and staff").into_owned()),
    ];
    if account.role != Role::Viewer {
        items.push(("/console/enroll", tr!(lang, "Enroll a kiosk").into_owned()));
    }
    if account.whole_chain() {
        items.push(("/console/feeds", tr!(lang, "Catalog and feeds").into_owned()));
    }
    items.push(("/console/settings", tr!(lang, "Settings").into_owned()));
    items.push(("/console/brand", tr!(lang, "Brand").into_owned()));
    items.push(("/console/figures", tr!(lang, "Figures").into_owned()));
    if account.role == Role::Admin {
        items.push(("/console/keys", tr!(lang, "Keys and webhooks").into_owned()));
        items.push(("/console/accounts", tr!(lang, "Accounts").into_owned()));
    }
    items.push(("/console/audit", tr!(lang, "Audit log").into_owned()));
    items
}

fn role_name(lang: Lang, role: Role) -> String {
    match role {
        Role::Admin => tr!(lang, "admin"),
        Role::Manager => tr!(lang, "manager"),
        Role::Viewer => tr!(lang, "viewer"),
    }
    .into_owned()
}

/// The page around `body`: head, the top bar (who, language, sign-out), the navigation
/// and the message carried from the last action.
pub fn layout(lang: Lang, title: &str, ctx: Option<&Ctx>, flash: Option<(Flash, String)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Vitrine" }
                link rel="stylesheet" href=(*STYLESHEET);
            }
            body {
                a.skip href="#main" { (tr!(lang, "Skip to content")) }
                header.top {
                    a.brand href="/console" { "Vitrine" span { (tr!(lang, "console")) } }
                    @if let Some(ctx) = ctx {
                        div.who {
                            span { (ctx.account.email) " · " (role_name(lang, ctx.account.role)) }
                            form.inline method="post" action="/console/language" {
                                (ctx.token_field())
                                input type="hidden" name="back" value=(ctx.path);
                                @let other = if lang == Lang::Fr { Lang::En } else { Lang::Fr };
                                input type="hidden" name="lang" value=(other.code());
                                button.quiet type="submit" lang=(other.code()) {
                                    @if other == Lang::Fr { "Français" } @else { "English" }
                                }
                            }
                            (ctx.button("/console/sign-out", &tr!(lang, "Sign out"), "quiet"))
                        }
                    }
                }
                div.frame {
                    @if let Some(ctx) = ctx {
                        nav.side aria-label=(tr!(lang, "Console")) {
                            ul {
                                @for (href, label) in navigation(lang, &ctx.account) {
                                    li {
                                        @if ctx.path == href || ctx.path.starts_with(&format!("{href}/")) {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    main #main {
                        h1 { (title) }
                        @if let Some((kind, message)) = flash {
                            @match kind {
                                Flash::Done => p.flash.done role="status" { (message) },
                                Flash::Refused => p.flash.refused role="alert" { (message) },
                            }
                        }
                        (body)
                    }
                }
            }
        }
    }
}

/// Why a console request was refused, as a page.
#[derive(Debug)]
pub enum ConsoleError {
    NotFound,
    /// The account may not see or do this.
    Forbidden,
    /// The form's token did not match (an old tab, or a forged request).
    Csrf,
    /// The hub failed: logged under an id, which the page shows.
    Internal(String),
}

impl From<crate::hub::store::StoreError> for ConsoleError {
    fn from(e: crate::hub::store::StoreError) -> ConsoleError {
        ConsoleError::Internal(e.to_string())
    }
}

impl From<crate::db::Error> for ConsoleError {
    fn from(e: crate::db::Error) -> ConsoleError {
        ConsoleError::Internal(e.to_string())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        // The page's language is not known here; both are shown.
        let (status, en, fr) = match &self {
            ConsoleError::NotFound => (
                StatusCode::NOT_FOUND,
                "This page does not exist.",
                "Cette page n’existe pas.",
            ),
            ConsoleError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Your account cannot see or change this.",
                "Votre compte ne peut ni voir ni modifier ceci.",
            ),
            ConsoleError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired. Go back, reload the page and try again.",
                "Ce formulaire a expiré. Revenez en arrière, rechargez la page et recommencez.",
            ),
            ConsoleError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The hub failed on this request.",
                "Le hub a échoué sur cette demande.",
            ),
        };
        let id = match &self {
            ConsoleError::Internal(cause) => {
                let id = crate::protocol::new_id()[..12].to_owned();
                tracing::error!(error_id = id, error = %cause, "console error");
                Some(id)
            }
            _ => None,
        };
        let body = html! {
            p lang="en" { (en) }
            p lang="fr" { (fr) }
            @if let Some(id) = id { p { "Error id / identifiant de l’erreur : " code { (id) } } }
            p { a href="/console" { "Console" } }
        };
        let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
        (status, layout(Lang::En, &title, None, None, body)).into_response()
    }
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    authenticity_token: String,
    lang: String,
    back: String,
}

/// Switches the console's language and goes back to the page it was switched on.
pub async fn set_language(ctx: Ctx, Form(form): Form<LanguageForm>) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    let lang = if form.lang == "fr" { "fr" } else { "en" };
    // Only a console page: never a redirect elsewhere.
    let back = if form.back.starts_with("/console") && !form.back.starts_with("//") {
        form.back
    } else {
        "/console".to_owned()
    };
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/console; Max-Age=31536000; SameSite=Strict");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response())
}

/// A short piece of SVG or other markup that is ours, not the user's.
pub fn trusted(markup: String) -> PreEscaped<String> {
    PreEscaped(markup)
}
