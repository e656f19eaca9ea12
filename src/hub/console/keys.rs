//! The web store's API keys (admins only): create one with its scopes (shown once),
//! revoke one; a key's webhook endpoints with their latest deliveries, and a replay.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use maud::html;

use super::page::{ConsoleError, Ctx, Flash, Lang, tr};
use crate::hub::admin::{self, KeyError};
use crate::hub::api::AppState;
use crate::hub::auth::Scope;
use crate::hub::store::keys;
use crate::hub::webhooks;

fn scope_label(lang: Lang, scope: Scope) -> String {
    match scope {
        Scope::CatalogWrite => tr!(lang, "Upload product and stock feeds"),
        Scope::WishlistRead => tr!(lang, "Read wishlists and their changes"),
        Scope::WishlistWrite => tr!(lang, "Write the web store's wishlist edits"),
        Scope::CustomersErase => tr!(lang, "Erase customers"),
        Scope::TokensIssue => tr!(lang, "Issue customer QR codes"),
        Scope::ConsentWrite => tr!(lang, "Record customers' consent"),
        Scope::OrdersWrite => tr!(lang, "Post orders and refunds"),
        Scope::ReportsRead => tr!(lang, "Read the figures"),
        Scope::WebhooksManage => tr!(lang, "Manage webhook endpoints"),
        Scope::FleetRead => tr!(lang, "Be told of kiosk alerts"),
    }
    .into_owned()
}

/// The live keys, and a form to create one.
pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    ctx.admin()?;
    let lang = ctx.lang;
    let all = state.store.read(keys::list_keys).await?;
    let body = html! {
        @if all.is_empty() { p.empty { (tr!(lang, "No key yet.")) } }
        @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "Name")) } th scope="col" { (tr!(lang, "Scopes")) } th scope="col" { (tr!(lang, "Created")) } th scope="col" { span.visually-hidden { (tr!(lang, "Actions")) } } } }
                tbody { @for key in &all { tr {
                    th scope="row" { a href=(format!("/console/keys/{}", key.id)) { (key.name) } }
                    td { @for scope in &key.scopes { code { (scope.as_str()) } " " } }
                    td { (lang.time(key.created_at)) }
                    td { (ctx.button(&format!("/console/keys/{}/revoke", key.id), &tr!(lang, "Revoke %{name}", name = key.name), "danger")) }
                } } }
            }
        }
        h2 { (tr!(lang, "Create a key")) }
        form.card method="post" action="/console/keys" {
            (ctx.token_field())
            label for="name" { (tr!(lang, "Name (who uses it)")) }
            input #name name="name" required maxlength="128" autocomplete="off";
            fieldset {
                legend { (tr!(lang, "What it may do")) }
                @for scope in Scope::ALL {
                    label.check {
                        input type="checkbox" name="scope" value=(scope.as_str());
                        " " (scope_label(lang, scope)) " " code { (scope.as_str()) }
                    }
                }
            }
            button.primary type="submit" { (tr!(lang, "Create the key")) }
        }
    };
    Ok(ctx.render(&tr!(lang, "Keys and webhooks"), body).await)
}

/// Creates a key and shows it, once.
pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    ctx.check(field("authenticity_token").unwrap_or(""))?;
    ctx.admin()?;
    let lang = ctx.lang;
    let name = field("name").unwrap_or("").trim().to_owned();
    let scopes: Vec<Scope> = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .filter_map(|(_, v)| Scope::parse(v))
        .collect();
    let (actor, for_key, for_scopes) = (ctx.actor(), name.clone(), scopes.clone());
    let created = state
        .store
        .write(move |w| admin::create_key(w.db(), &actor, &for_key, &for_scopes, Timestamp::now()))
        .await??;
    let key = match created {
        Ok(key) => key,
        Err(e) => {
            let message = match e {
                KeyError::BadName => tr!(lang, "A key name is 1 to 128 printable characters."),
                KeyError::Taken(_) => tr!(lang, "A key with this name exists or existed: choose another name."),
                KeyError::NoScope => tr!(lang, "Tick at least one thing the key may do."),
            };
            return Ok(ctx.redirect("/console/keys", Flash::Refused, message).await);
        }
    };
    let body = html! {
        p { (tr!(lang, "The key %{name} was created. Copy it now into the web store's configuration: it is not shown again.", name = name)) }
        p.code { code { (key) } }
        p { a href="/console/keys" { (tr!(lang, "Back to the keys")) } }
    };
    Ok(ctx.render(&tr!(lang, "New key"), body).await)
}

/// Revokes a key: it opens nothing from its next request.
pub async fn revoke(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<super::page::Token>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.admin()?;
    let actor = ctx.actor();
    let revoked = state
        .store
        .write(move |w| admin::revoke_key(w.db(), &actor, id, Timestamp::now()))
        .await??;
    if !revoked {
        return Err(ConsoleError::NotFound);
    }
    Ok(ctx
        .redirect("/console/keys", Flash::Done, tr!(ctx.lang, "The key was revoked."))
        .await)
}

/// A key's webhook endpoints, each with its latest deliveries.
pub async fn key(ctx: Ctx, State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ConsoleError> {
    ctx.admin()?;
    let lang = ctx.lang;
    let found = state
        .store
        .read(move |c| {
            let Some(key) = keys::list_keys(c)?.into_iter().find(|k| k.id == id) else {
                return Ok(None);
            };
            let mut endpoints = Vec::new();
            for endpoint in webhooks::list(c, id)? {
                let deliveries = webhooks::deliveries(c, id, endpoint.id, 20)?.unwrap_or_default();
                endpoints.push((endpoint, deliveries));
            }
            Ok(Some((key, endpoints)))
        })
        .await?;
    let (key, endpoints) = found.ok_or(ConsoleError::NotFound)?;
    let body = html! {
        p { @for scope in &key.scopes { code { (scope.as_str()) } " " } }
        h2 { (tr!(lang, "Webhook endpoints")) }
        @if endpoints.is_empty() {
            p.empty { (tr!(lang, "This key has registered no endpoint (the web store does, through the API).")) }
        }
        @for (endpoint, deliveries) in &endpoints {
            section.card {
                h3 { code { (endpoint.url) } }
                p { (endpoint.events.join(", ")) }
                @if let Some(at) = endpoint.disabled_at {
                    p.flash.refused { (tr!(lang, "Stopped on %{at}: %{why}", at = lang.time(at), why = endpoint.disabled_reason.as_deref().unwrap_or(""))) }
                } @else if let Some(at) = endpoint.failing_since {
                    p.flash.refused { (tr!(lang, "Failing since %{at}", at = lang.time(at))) }
                }
                (ctx.button(&format!("/console/keys/{}/webhooks/{}/replay", key.id, endpoint.id), &tr!(lang, "Send the last 24 hours again"), "secondary"))
                @if deliveries.is_empty() { p.empty { (tr!(lang, "No delivery yet.")) } }
                @else {
                    table {
                        thead { tr { th scope="col" { (tr!(lang, "Message")) } th scope="col" { (tr!(lang, "Type")) } th scope="col" { (tr!(lang, "State")) } th scope="col" { (tr!(lang, "Attempts")) } th scope="col" { (tr!(lang, "Last answer")) } } }
                        tbody { @for d in deliveries { tr {
                            td { code { (d.message_id) } br; small { (lang.time(d.created_at)) } }
                            td { (d.kind) }
                            td { (d.state) }
                            td.num { (d.attempts) }
                            td { @if let Some(status) = d.last_status { (status) } " " (d.last_error.as_deref().unwrap_or("")) }
                        } } }
                    }
                }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Key %{name}", name = key.name), body).await)
}

/// Sends an endpoint the last 24 hours of its messages again (and starts it again if it
/// was stopped).
pub async fn replay(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((id, endpoint)): Path<(i64, i64)>,
    Form(form): Form<super::page::Token>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.admin()?;
    let now = Timestamp::now();
    let actor = ctx.actor();
    let queued = state
        .store
        .write(move |w| {
            let conn = w.db();
            let queued = webhooks::replay(conn, id, endpoint, now - SignedDuration::from_hours(24), now)?;
            if queued.is_some() {
                admin::record(
                    conn,
                    &actor,
                    "webhook.replay",
                    None,
                    &format!("key {id} endpoint {endpoint}"),
                    now,
                )?;
            }
            Ok::<_, crate::db::Error>(queued)
        })
        .await??
        .ok_or(ConsoleError::NotFound)?;
    let back = format!("/console/keys/{id}");
    Ok(ctx
        .redirect(
            &back,
            Flash::Done,
            tr!(ctx.lang, "%{n} messages queued again.", n = queued),
        )
        .await)
}
