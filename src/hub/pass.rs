//! The demo's stand-in for the web store's app: a page per demo customer with their
//! rotating QR code (a new token every 30 s), so that a phone or a second screen can
//! play the shopper. Served only for the customers the hub's config lists in
//! `demo_passes`; a real web store mints tokens with `POST /v1/webstore/tokens`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::api::{ApiError, AppState, DEFAULT_TOKEN_MINUTES, mint_for};

/// Seconds between two tokens on a pass.
pub const REFRESH_SECONDS: u32 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pass", get(index))
        .route("/pass/{customer}", get(pass))
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
    let code = QrCode::with_error_correction_level(minted.token.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "qr_failed", e.to_string()))?;
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
