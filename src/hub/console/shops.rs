//! The chain's shops and, per shop, its kiosks, its sales assistants (add, remove, a new
//! PIN: a PIN is never shown back) and its staff keypads' events.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use jiff::Timestamp;
use maud::html;
use serde::Deserialize;

use super::fleet::shop_name;
use super::page::{ConsoleError, Ctx, Flash, Lang, tr};
use crate::hub::api::AppState;
use crate::hub::staff::{self, StaffError};
use crate::hub::{admin, fleet};

/// The shops the account sees: the chain's (`[[shop]]`), and any shop that has kiosks.
pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let now = Timestamp::now();
    let kiosks = state.store.read(move |c| fleet::list(c, None, now)).await?;
    let codes = ctx.shops_seen(&state, kiosks.iter().map(|k| k.store_code.clone()));
    let body = html! {
        @if codes.is_empty() {
            p.empty { (tr!(lang, "No shop yet: add [[shop]] entries to hub.toml, or enroll a kiosk in a shop.")) }
        } @else {
            p.hint { (tr!(lang, "Names and positions come from hub.toml's [[shop]] entries; kiosks show the name under the brand.")) }
            table {
                thead { tr {
                    th scope="col" { (tr!(lang, "Shop")) } th scope="col" { (tr!(lang, "Code")) }
                    th scope="col" { (tr!(lang, "Position")) } th scope="col" { (tr!(lang, "Kiosks")) }
                } }
                tbody { @for code in &codes {
                    @let shop = state.shops.iter().find(|s| &s.code == code);
                    tr {
                        th scope="row" {
                            a href=(format!("/console/shops/{}", crate::protocol::params::segment(code))) { (shop_name(&state, code)) }
                            @if shop.is_none() { br; span.hint { (tr!(lang, "No name yet: its kiosks show none until hub.toml names it in a [[shop]] entry.")) } }
                        }
                        td { code { (code) } }
                        td { @if let Some((lat, lon)) = shop.and_then(|s| s.latitude.zip(s.longitude)) { (format!("{lat:.4}, {lon:.4}")) } @else { "—" } }
                        td.num { (kiosks.iter().filter(|k| &k.store_code == code).count()) }
                    }
                } }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Shops and staff"), body).await)
}

fn staff_error(lang: Lang, e: &StaffError) -> String {
    match e {
        StaffError::BadPin => tr!(lang, "A PIN is 6 to 12 digits."),
        StaffError::BadName => tr!(lang, "A name is 1 to 64 printable characters."),
        StaffError::Taken { .. } => tr!(lang, "This shop already has an assistant with this name."),
        StaffError::Unknown { .. } => tr!(lang, "This shop has no such assistant."),
    }
    .into_owned()
}

/// One shop: its kiosks, its assistants, its keypads' latest events.
pub async fn shop(ctx: Ctx, State(state): State<AppState>, Path(code): Path<String>) -> Result<Response, ConsoleError> {
    ctx.see(&code)?;
    let lang = ctx.lang;
    let now = Timestamp::now();
    let shop = code.clone();
    let (kiosks, assistants, events) = state
        .store
        .read(move |c| {
            Ok((
                fleet::list(c, Some(std::slice::from_ref(&shop)), now)?,
                staff::of_store(c, &shop)?,
                staff::log(c, Some(&shop), 30)?,
            ))
        })
        .await?;
    let manages = ctx.account.manages(&code);
    let base = format!("/console/shops/{}", crate::protocol::params::segment(&code));
    let body = html! {
        p { a href=(super::settings::shop_link(&code)) { (tr!(lang, "This shop's settings")) } }
        h2 { (tr!(lang, "Kiosks")) }
        @if kiosks.is_empty() { p.empty { (tr!(lang, "No kiosk in this shop yet.")) } }
        @else { ul.plain { @for kiosk in &kiosks {
            li { a href=(format!("/console/kiosks/{}", kiosk.id)) { (super::fleet::kiosk_name(lang, kiosk)) } }
        } } }
        h2 { (tr!(lang, "Sales assistants")) }
        @if assistants.is_empty() { p.empty { (tr!(lang, "No assistant yet.")) } }
        @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "Name")) } @if manages { th scope="col" { (tr!(lang, "New PIN")) } th scope="col" { span.visually-hidden { (tr!(lang, "Actions")) } } } } }
                tbody { @for member in &assistants { tr {
                    th scope="row" { (member.name) }
                    @if manages {
                        td {
                            form.inline method="post" action=(format!("{base}/staff/{}/pin", member.id)) {
                                (ctx.token_field())
                                label.visually-hidden for=(format!("pin-{}", member.id)) { (tr!(lang, "New PIN for %{name}", name = member.name)) }
                                input id=(format!("pin-{}", member.id)) type="password" name="pin" inputmode="numeric" pattern="[0-9]{6,12}" required minlength="6" maxlength="12" autocomplete="off";
                                button type="submit" { (tr!(lang, "Set the PIN")) }
                            }
                        }
                        td { (ctx.button(&format!("{base}/staff/{}/remove", member.id), &tr!(lang, "Remove %{name}", name = member.name), "danger")) }
                    }
                } } }
            }
        }
        @if manages {
            h3 { (tr!(lang, "Add an assistant")) }
            form.card method="post" action=(format!("{base}/staff")) {
                (ctx.token_field())
                label for="name" { (tr!(lang, "Name, as the keypad shows it")) }
                input #name name="name" required maxlength="64" autocomplete="off";
                label for="pin" { (tr!(lang, "PIN (6 to 12 digits)")) }
                input #pin type="password" name="pin" inputmode="numeric" pattern="[0-9]{6,12}" required minlength="6" maxlength="12" autocomplete="off";
                button.primary type="submit" { (tr!(lang, "Add the assistant")) }
            }
            p.hint { (tr!(lang, "The shop's kiosks learn a new PIN at their next pull, within five minutes. A PIN is never shown again.")) }
        }
        h2 { (tr!(lang, "Staff keypad events")) }
        @if events.is_empty() { p.empty { (tr!(lang, "No event yet.")) } }
        @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "When")) } th scope="col" { (tr!(lang, "Kiosk")) } th scope="col" { (tr!(lang, "Event")) } th scope="col" { (tr!(lang, "Assistant")) } } }
                tbody { @for line in events.iter().rev() { tr {
                    td { (lang.time(line.at)) } td.num { (line.device_id) } td { (line.kind) } td { (line.name.as_deref().unwrap_or("—")) }
                } } }
            }
        }
    };
    Ok(ctx.render(&shop_name(&state, &code), body).await)
}

#[derive(Deserialize)]
pub struct StaffForm {
    authenticity_token: String,
    name: String,
    pin: String,
}

/// A PIN hashed off the async threads and off the writer, one per core at a time.
async fn hash(pin: String) -> Result<Result<String, StaffError>, ConsoleError> {
    crate::hub::accounts::slow(move || staff::hash_pin(&pin))
        .await
        .map_err(ConsoleError::Internal)
}

pub async fn add_staff(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<StaffForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.manage(&code)?;
    let lang = ctx.lang;
    let back = format!("/console/shops/{}", crate::protocol::params::segment(&code));
    let hashed = match hash(form.pin).await? {
        Ok(hashed) => hashed,
        Err(e) => return Ok(ctx.redirect(&back, Flash::Refused, staff_error(lang, &e)).await),
    };
    let (actor, name, shop) = (ctx.actor(), form.name.trim().to_owned(), code.clone());
    let shown = name.clone();
    let added = state
        .store
        .write(move |w| admin::add_staff(w.db(), &actor, &shop, &name, &hashed, Timestamp::now()))
        .await??;
    Ok(match added {
        Ok(_) => {
            ctx.redirect(&back, Flash::Done, tr!(lang, "%{name} added.", name = shown))
                .await
        }
        Err(e) => ctx.redirect(&back, Flash::Refused, staff_error(lang, &e)).await,
    })
}

/// The assistant `id` of shop `code`, or not found (an id of another shop included).
async fn member(state: &AppState, code: &str, id: i64) -> Result<String, ConsoleError> {
    let shop = code.to_owned();
    let members = state.store.read(move |c| staff::of_store(c, &shop)).await?;
    members
        .into_iter()
        .find(|m| m.id == id)
        .map(|m| m.name)
        .ok_or(ConsoleError::NotFound)
}

pub async fn remove_staff(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<super::page::Token>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.manage(&code)?;
    let lang = ctx.lang;
    let name = member(&state, &code, id).await?;
    let (actor, shop, who) = (ctx.actor(), code.clone(), name.clone());
    state
        .store
        .write(move |w| admin::remove_staff(w.db(), &actor, &shop, &who, Timestamp::now()))
        .await??
        .map_err(|_| ConsoleError::NotFound)?;
    let back = format!("/console/shops/{}", crate::protocol::params::segment(&code));
    Ok(ctx
        .redirect(&back, Flash::Done, tr!(lang, "%{name} removed.", name = name))
        .await)
}

#[derive(Deserialize)]
pub struct PinForm {
    authenticity_token: String,
    pin: String,
}

pub async fn reset_pin(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<PinForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.manage(&code)?;
    let lang = ctx.lang;
    let back = format!("/console/shops/{}", crate::protocol::params::segment(&code));
    let name = member(&state, &code, id).await?;
    let hashed = match hash(form.pin).await? {
        Ok(hashed) => hashed,
        Err(e) => return Ok(ctx.redirect(&back, Flash::Refused, staff_error(lang, &e)).await),
    };
    let (actor, shop, who) = (ctx.actor(), code.clone(), name.clone());
    state
        .store
        .write(move |w| admin::reset_pin(w.db(), &actor, &shop, &who, &hashed, Timestamp::now()))
        .await??
        .map_err(|_| ConsoleError::NotFound)?;
    Ok(ctx
        .redirect(&back, Flash::Done, tr!(lang, "%{name} has a new PIN.", name = name))
        .await)
}
