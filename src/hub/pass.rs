//! The demo's stand-in for the web store, so that a phone or a second screen can play the
//! shopper. Served only when the hub's config lists `demo_passes`:
//!
//! - `/pass/CUSTOMER`: the customer's rotating QR code (a new token every 30 s); a real
//!   web store mints them with `POST /v1/webstore/tokens`;
//! - `/pair?code=`: confirms a kiosk's sign-in with the phone as one of the demo
//!   customers; a real web store calls `POST /v1/webstore/pairings/{code}/approve`;
//! - `/list?skus=`: where a kiosk's "take my list" code leads.
//!
//! None of it asks who you are: anyone who can reach a demo hub can be a demo customer.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::Deserialize;

use super::api::pairing::approve;
use super::api::webstore::mint_for;
use super::api::{ApiError, AppState, DEFAULT_TOKEN_MINUTES};
use super::pairing;

/// Seconds between two tokens on a pass.
pub const REFRESH_SECONDS: u32 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pass", get(index))
        .route("/pass/{customer}", get(pass))
        .route("/pair", get(pair_page).post(pair_answer))
        .route("/list", get(list_page))
}

fn demo_only(state: &AppState) -> Result<(), ApiError> {
    if state.demo_passes.is_empty() {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this hub is not a demo hub; the web store serves this page",
        ))
    } else {
        Ok(())
    }
}

/// Text for an HTML page: a feed's titles and a visitor's query are not markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether a name may be a demo pass: plain enough to need no escaping in a page.
pub fn valid_pass_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn page(title: &str, body: &str, refresh: Option<u32>) -> Html<String> {
    let refresh = refresh.map_or(String::new(), |s| {
        format!(r#"<meta http-equiv="refresh" content="{s}">"#)
    });
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>{title}</title>
<style>
  body {{ margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f1ec;
         font: 18px/1.4 system-ui, sans-serif; color: #1d1b19; color-scheme: light; }}
  main {{ background: #fff; border-radius: 24px; padding: 32px; text-align: center;
          box-shadow: 0 8px 32px #0002; max-width: 420px; }}
  h1 {{ font-size: 24px; margin: 0 0 8px; }}
  p {{ margin: 8px 0; color: #5c5853; }}
  svg {{ width: 100%; height: auto; max-width: 340px; }}
  button {{ display: block; width: 100%; padding: 16px; margin: 8px 0; border: 0; border-radius: 12px;
            background: #1d1b19; color: #fff; font: inherit; font-size: 20px; }}
  button.quiet {{ background: #e8e3dc; color: #1d1b19; }}
  input {{ font: inherit; font-size: 28px; padding: 12px; width: 11ch; text-align: center;
           letter-spacing: 2px; border: 2px solid #1d1b19; border-radius: 12px; }}
  a {{ display: block; padding: 16px; margin: 8px 0; border-radius: 12px; background: #1d1b19;
       color: #fff; text-decoration: none; font-size: 20px; }}
</style></head><body><main>{body}</main></body></html>"#
    ))
}

async fn index(State(state): State<AppState>) -> Html<String> {
    let links: String = state
        .demo_passes
        .iter()
        .map(|c| format!(r#"<a href="/pass/{c}">{c}</a>"#))
        .collect();
    page(
        "Demo customers",
        &format!("<h1>Demo customers</h1><p>Pick one to show their pass.</p>{links}"),
        None,
    )
}

async fn pass(State(state): State<AppState>, Path(customer): Path<String>) -> Result<Html<String>, ApiError> {
    if !state.demo_passes.contains(&customer) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_pass",
            "this hub serves passes only for the demo customers in its config",
        ));
    }
    let minted = mint_for(&state, customer.clone(), DEFAULT_TOKEN_MINUTES).await?;
    let code =
        QrCode::with_error_correction_level(minted.token.as_bytes(), EcLevel::M).map_err(|e| ApiError::internal(&e))?;
    // Dark on light whatever the phone's theme: the page says `color-scheme: light`.
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(320, 320)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Ok(page(
        &format!("Pass: {customer}"),
        &format!(
            "<h1>{customer}</h1><p>Hold this code up to the kiosk's camera.</p>{image}\
             <p>A new code every {REFRESH_SECONDS} s.</p>"
        ),
        Some(REFRESH_SECONDS),
    ))
}

#[derive(Deserialize)]
struct PairQuery {
    code: Option<String>,
}

const CODE_FORM: &str = r#"<form method="get" action="/pair"><p>Type the code the kiosk shows.</p>
<input name="code" autocomplete="off" autocapitalize="characters" placeholder="BCDF-GHJK">
<button>Continue</button></form>"#;

async fn pair_page(State(state): State<AppState>, Query(query): Query<PairQuery>) -> Result<Html<String>, ApiError> {
    demo_only(&state)?;
    let Some(code) = query.code.as_deref().and_then(pairing::normalise_user_code) else {
        return Ok(page(
            "Sign in at the kiosk",
            &format!("<h1>Sign in at the kiosk</h1>{CODE_FORM}"),
            None,
        ));
    };
    let pending = match state.pairing_pending(&code).await {
        Ok(pending) => pending,
        Err(e) => {
            return Ok(page(
                "Sign in at the kiosk",
                &format!(
                    "<h1>Sorry</h1><p>{}.</p>{CODE_FORM}",
                    escape(e.message().trim_end_matches('.'))
                ),
                None,
            ));
        }
    };
    let shown = pairing::display_user_code(&code);
    let buttons: String = state
        .demo_passes
        .iter()
        .map(|c| format!(r#"<button name="customer" value="{c}">I am {c}</button>"#))
        .collect();
    Ok(page(
        "Sign in at the kiosk",
        &format!(
            r#"<h1>Sign in at the kiosk</h1><p>In the shop {store}, code <strong>{shown}</strong>.</p>
<form method="post" action="/pair"><input type="hidden" name="code" value="{code}">{buttons}
<button name="deny" value="1" class="quiet">This is not me</button></form>"#,
            store = escape(&pending.store_code),
        ),
        None,
    ))
}

#[derive(Deserialize)]
struct PairAnswer {
    code: String,
    customer: Option<String>,
    deny: Option<String>,
}

async fn pair_answer(State(state): State<AppState>, Form(answer): Form<PairAnswer>) -> Result<Html<String>, ApiError> {
    demo_only(&state)?;
    let Some(code) = pairing::normalise_user_code(&answer.code) else {
        return Ok(page(
            "Sign in at the kiosk",
            &format!("<h1>Sorry</h1><p>This is not a kiosk code.</p>{CODE_FORM}"),
            None,
        ));
    };
    let outcome = match (answer.customer, answer.deny) {
        (Some(customer), None) if state.demo_passes.contains(&customer) => approve(&state, &code, customer).await,
        (None, Some(_)) => state.pairing_decide(&code, None).await,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_answer",
                "choose one of the demo customers, or say it is not you",
            ));
        }
    };
    Ok(match outcome {
        Ok(()) => page(
            "Signed in",
            "<h1>Done</h1><p>Look at the kiosk: it has your list. You can put your phone away.</p>",
            None,
        ),
        Err(e) => page(
            "Sorry",
            &format!("<h1>Sorry</h1><p>{}</p>{CODE_FORM}", escape(e.message())),
            None,
        ),
    })
}

/// Most SKUs a list link names.
const MAX_LIST_SKUS: usize = 100;

/// `/list?sku=A&sku=B&store=…`: the SKUs a kiosk's "take my list" code names.
async fn list_page(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Html<String>, ApiError> {
    demo_only(&state)?;
    let skus: Vec<String> = query
        .iter()
        .filter(|(k, v)| k == "sku" && crate::protocol::valid_ref(v))
        .take(MAX_LIST_SKUS)
        .map(|(_, v)| v.clone())
        .collect();
    let store = query.iter().find(|(k, _)| k == "store").map(|(_, v)| v.clone());
    let lines = state
        .store
        .read(move |c| {
            let mut lines = Vec::new();
            for sku in &skus {
                let line = match crate::catalog::describe_sku(c, sku)? {
                    Some((title, detail)) => {
                        format!("{} <small>{}</small>", escape(&title), escape(&detail.join(" · ")))
                    }
                    None => escape(sku),
                };
                lines.push(format!("<li>{line}</li>"));
            }
            Ok(lines.concat())
        })
        .await?;
    let from = store.map_or(String::new(), |s| format!(" from the shop {}", escape(&s)));
    Ok(page(
        "Your list",
        &format!(
            r#"<h1>Your list{from}</h1><ul style="text-align:left">{lines}</ul><p>Saved to this phone's web store.</p>"#
        ),
        None,
    ))
}
