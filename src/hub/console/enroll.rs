//! Enrolling a kiosk: a one-time code for a shop, shown as text to type on the kiosk's
//! own keyboard and as a QR code its camera reads at first start. The code is shown once
//! (it is stored hashed) and works for 72 hours.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use jiff::Timestamp;
use maud::html;
use serde::Deserialize;

use super::fleet::shop_name;
use super::page::{ConsoleError, Ctx, tr, trusted};
use crate::hub::admin;
use crate::hub::api::AppState;
use crate::protocol::EnrollLink;

/// The shops the account may enroll kiosks in: the chain's, or its own.
fn shops(ctx: &Ctx, state: &AppState) -> Vec<String> {
    let mut codes: Vec<String> = state.shops.iter().map(|s| s.code.clone()).collect();
    codes.extend(ctx.account.shops.iter().cloned());
    codes.retain(|code| ctx.account.manages(code));
    codes.sort();
    codes.dedup();
    codes
}

/// The form: which shop.
pub async fn page(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    if ctx.account.role == crate::hub::accounts::Role::Viewer {
        return Err(ConsoleError::Forbidden);
    }
    let codes = shops(&ctx, &state);
    let body = html! {
        p { (tr!(lang, "A code enrolls one kiosk in one shop. On the new kiosk's first start, show it the QR code, or type the code on its keyboard.")) }
        form.card method="post" action="/console/enroll" {
            (ctx.token_field())
            label for="store" { (tr!(lang, "Shop")) }
            @if codes.is_empty() || ctx.account.whole_chain() {
                input #store name="store" list="shops" required maxlength="128" autocomplete="off";
                datalist #shops { @for code in &codes { option value=(code) { (shop_name(&state, code)) } } }
            } @else {
                select #store name="store" required { @for code in &codes { option value=(code) { (shop_name(&state, code)) } } }
            }
            button.primary type="submit" { (tr!(lang, "Create an enrollment code")) }
        }
    };
    Ok(ctx.render(&tr!(lang, "Enroll a kiosk"), body).await)
}

#[derive(Deserialize)]
pub struct EnrollForm {
    authenticity_token: String,
    store: String,
}

/// The address kiosks reach the hub at: the configured one, else the one this page was
/// asked at.
fn hub_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Creates a code and shows it, once, with its QR code.
pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrollForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    let lang = ctx.lang;
    let shop = form.store.trim().to_owned();
    if !crate::protocol::valid_ref(&shop) {
        return Ok(ctx
            .redirect(
                "/console/enroll",
                super::page::Flash::Refused,
                tr!(lang, "A shop code is 1 to 128 printable characters."),
            )
            .await);
    }
    ctx.manage(&shop)?;
    let (actor, for_shop) = (ctx.actor(), shop.clone());
    let code = state
        .store
        .write(move |w| admin::create_enroll_code(w.db(), &actor, &for_shop, Timestamp::now()))
        .await??;
    let link = EnrollLink {
        code: code.clone(),
        hub_url: hub_url(&state, &headers),
    };
    let svg = qrcode::QrCode::with_error_correction_level(link.text(), qrcode::EcLevel::M)
        .map_err(|e| ConsoleError::Internal(e.to_string()))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .build();
    let body = html! {
        div.enroll {
            figure.qr {
                (trusted(svg))
                figcaption { (tr!(lang, "Show this to the new kiosk's camera")) }
            }
            div {
                p { (tr!(lang, "Shop")) ": " strong { (shop_name(&state, &shop)) } }
                p { (tr!(lang, "Or type this code on the kiosk:")) }
                p.code { code { (code) } }
                p { (tr!(lang, "Hub address")) ": " code { (link.hub_url) } }
                p.hint { (tr!(lang, "The code works once, for 72 hours. It is not shown again: create another if needed.")) }
                p { a href="/console/fleet" { (tr!(lang, "See the fleet")) } }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Enrollment code"), body).await)
}
