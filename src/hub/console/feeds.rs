//! Catalog and feeds: the scheduled feeds with their last fetch, every import (uploaded
//! by the web store, sent from here, fetched) with its counts, and one import's rejected
//! items and warnings with their line; an upload from the browser (admins: the catalog
//! is the chain's).

use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};

use super::page::{ConsoleError, Ctx, Flash, Lang, tr};
use crate::hub::api::AppState;
use crate::hub::imports::{self, Import, Origin};
use crate::hub::spool::SpoolError;
use crate::hub::store::feeds::ImportError;
use crate::protocol::params::FeedKind;

fn outcome(lang: Lang, import: &Import) -> Markup {
    html! {
        @match import.outcome.as_str() {
            "imported" if import.rejected > 0 => span.pill.warn { (tr!(lang, "Imported, %{n} rejected", n = import.rejected)) },
            "imported" if import.warnings > 0 => span.pill.ok { (tr!(lang, "Imported, %{n} warnings", n = import.warnings)) },
            "imported" => span.pill.ok { (tr!(lang, "Imported")) },
            "refused" => span.pill.bad { (tr!(lang, "Refused whole")) },
            _ => span.pill.bad { (tr!(lang, "Not fetched")) },
        }
    }
}

/// A feed's URL as the page shows it: scheme, host and path only. Its query and user
/// part often carry the shop platform's access token.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.path()),
        Err(_) => "—".to_owned(),
    }
}

/// An error as the page shows it: every URL in it cut as [`shown_url`] cuts one.
fn shown_error(error: &str, urls: &[String]) -> String {
    urls.iter().fold(error.to_owned(), |text, url| {
        text.replace(url.as_str(), &shown_url(url))
    })
}

fn source(lang: Lang, import: &Import) -> String {
    match import.source.as_str() {
        "upload" => tr!(lang, "Web store (key %{name})", name = import.origin),
        "console" => tr!(lang, "Console (%{email})", email = import.origin),
        _ => tr!(lang, "Fetched from %{url}", url = shown_url(&import.origin)),
    }
    .into_owned()
}

/// The catalog is the chain's: its imports are for accounts that see the whole chain.
fn whole_chain(ctx: &Ctx) -> Result<(), ConsoleError> {
    if ctx.account.whole_chain() {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// The scheduled feeds, the latest imports and the upload form.
pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    whole_chain(&ctx)?;
    let lang = ctx.lang;
    let now = Timestamp::now();
    let urls: Vec<String> = state.feeds.iter().map(|f| f.url.clone()).collect();
    let (latest, last_fetches) = state
        .store
        .read(move |c| {
            let fetches = urls
                .iter()
                .map(|url| imports::last_from(c, "fetch", url))
                .collect::<crate::db::Result<Vec<_>>>()?;
            Ok((imports::latest(c, 50)?, fetches))
        })
        .await?;
    let body = html! {
        h2 { (tr!(lang, "Scheduled feeds")) }
        @if state.feeds.is_empty() {
            p.empty { (tr!(lang, "None: the web store uploads its feeds, or add [[feed]] entries to hub.toml.")) }
        } @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "Feed")) } th scope="col" { (tr!(lang, "Every")) } th scope="col" { (tr!(lang, "Last fetch")) } } }
                tbody { @for (feed, last) in state.feeds.iter().zip(&last_fetches) { tr {
                    th scope="row" { (feed.kind.as_str()) " " small { code { (shown_url(&feed.url)) } } }
                    td { (tr!(lang, "%{n} min", n = feed.every_minutes)) }
                    td { @match last {
                        Some(import) => { a href=(format!("/console/feeds/{}", import.id)) { (lang.ago(import.at, now)) } " " (outcome(lang, import)) },
                        None => (tr!(lang, "Not yet, or unchanged since the hub started")),
                    } }
                } } }
            }
        }
        h2 { (tr!(lang, "Latest imports")) }
        @if latest.is_empty() {
            p.empty { (tr!(lang, "No import yet.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (tr!(lang, "When")) } th scope="col" { (tr!(lang, "Feed")) } th scope="col" { (tr!(lang, "From")) }
                    th scope="col" { (tr!(lang, "Outcome")) } th scope="col" { (tr!(lang, "New")) } th scope="col" { (tr!(lang, "Changed")) }
                    th scope="col" { (tr!(lang, "Removed")) }
                } }
                tbody { @for import in &latest { tr {
                    td { a href=(format!("/console/feeds/{}", import.id)) { (lang.time(import.at)) } }
                    td { (import.kind) @if let Some(l) = &import.lang { " (" (l) ")" } }
                    td { (source(lang, import)) }
                    td { (outcome(lang, import)) }
                    td.num { (import.imported) } td.num { (import.updated) } td.num { (import.removed) }
                } } }
            }
        }
        @if ctx.account.role == crate::hub::accounts::Role::Admin {
            h2 { (tr!(lang, "Upload a feed")) }
            form.card method="post" action="/console/feeds" enctype="multipart/form-data" {
                (ctx.token_field())
                label for="kind" { (tr!(lang, "Kind")) }
                select #kind name="kind" {
                    option value="products" { (tr!(lang, "Products (Merchant Center: RSS, Atom, TSV or CSV)")) }
                    option value="inventory" { (tr!(lang, "Stock per shop (local inventory: TSV, CSV or XML)")) }
                }
                label for="lang" { (tr!(lang, "Language of the products (fr, en…)")) }
                input #lang name="lang" maxlength="8" value="fr";
                label for="currency" { (tr!(lang, "Currency of prices written without one (EUR, GBP…)")) }
                input #currency name="currency" maxlength="3" autocomplete="off";
                label for="file" { (tr!(lang, "File")) }
                input #file type="file" name="file" required;
                button.primary type="submit" { (tr!(lang, "Import")) }
            }
            p.hint { (tr!(lang, "A products feed is the whole catalog in its language: what it no longer lists is removed. A feed that cannot be read is refused whole and the catalog stays as it was.")) }
        }
    };
    Ok(ctx.render(&tr!(lang, "Catalog and feeds"), body).await)
}

/// One import: its counts and its rejected items with their line.
pub async fn import(ctx: Ctx, State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ConsoleError> {
    whole_chain(&ctx)?;
    let lang = ctx.lang;
    let import = state
        .store
        .read(move |c| imports::get(c, id))
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let body = html! {
        p { (outcome(lang, &import)) " " (source(lang, &import)) " · " (lang.time(import.at)) }
        @if let Some(error) = &import.error {
            p.flash.refused { (shown_error(error, &state.feeds.iter().map(|f| f.url.clone()).collect::<Vec<_>>())) }
        }
        ul.stats {
            li { strong { (import.imported) } span { (tr!(lang, "new")) } }
            li { strong { (import.updated) } span { (tr!(lang, "changed")) } }
            li { strong { (import.unchanged) } span { (tr!(lang, "unchanged")) } }
            li { strong { (import.removed) } span { (tr!(lang, "removed")) } }
            li { strong { (import.rejected) } span { (tr!(lang, "rejected")) } }
            li { strong { (import.warnings) } span { (tr!(lang, "warnings")) } }
        }
        @if !import.rejections.is_empty() {
            h2 { (tr!(lang, "Rejected items")) }
            @if import.rejected as usize > import.rejections.len() {
                p.hint { (tr!(lang, "The first %{n} are kept.", n = import.rejections.len())) }
            }
            (notices(lang, &import.rejections))
        }
        @if !import.warning_list.is_empty() {
            h2 { (tr!(lang, "Warnings")) }
            p.hint {
                (tr!(lang, "These items landed, with a field dropped, repaired or read differently: correct them in the shop's export."))
                @if import.warnings as usize > import.warning_list.len() {
                    " " (tr!(lang, "The first %{n} are kept.", n = import.warning_list.len()))
                }
            }
            (notices(lang, &import.warning_list))
        }
        p { a href="/console/feeds" { (tr!(lang, "All imports")) } }
    };
    Ok(ctx
        .render(&tr!(lang, "Import of %{at}", at = lang.time(import.at)), body)
        .await)
}

/// Rejected items or warnings, with where they are in the feed.
fn notices(lang: Lang, list: &[imports::Rejected]) -> Markup {
    let number = |n: Option<usize>| n.map_or("—".to_owned(), |n| n.to_string());
    html! {
        table {
            thead { tr { th scope="col" { (tr!(lang, "Item")) } th scope="col" { (tr!(lang, "Line")) } th scope="col" { (tr!(lang, "Id")) } th scope="col" { (tr!(lang, "Why")) } } }
            tbody { @for r in list { tr {
                td.num { (number(r.item)) }
                td.num { (number(r.line)) @if let Some(c) = r.column { ":" (c) } }
                td { (r.id.as_deref().unwrap_or("—")) }
                td { (r.reason) }
            } } }
        }
    }
}

/// A short form field (the token, the kind, the language): at most 256 bytes read, else
/// `None`. The upload's route takes bodies as large as a feed; its other fields stay small.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        if bytes.len() + chunk.len() > 256 {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).ok()
}

/// Imports a feed sent from the browser (admins). The form's token comes first, so no
/// byte of the file is read for a forged request.
pub async fn upload(ctx: Ctx, State(state): State<AppState>, mut form: Multipart) -> Result<Response, ConsoleError> {
    ctx.admin()?;
    let lang = ctx.lang;
    let refused = |message: String| async { ctx.redirect("/console/feeds", Flash::Refused, message).await };
    let mut token_checked = false;
    let (mut kind, mut feed_lang, mut currency, mut body) = (None, None, None, None);
    while let Some(field) = form.next_field().await.map_err(|_| ConsoleError::Csrf)? {
        match field.name().unwrap_or("") {
            "authenticity_token" => {
                let token = small_text(field).await.ok_or(ConsoleError::Csrf)?;
                ctx.check(&token)?;
                token_checked = true;
            }
            _ if !token_checked => return Err(ConsoleError::Csrf),
            "kind" => kind = small_text(field).await,
            "lang" => {
                feed_lang = small_text(field)
                    .await
                    .map(|l| l.trim().to_owned())
                    .filter(|l| !l.is_empty())
            }
            "currency" => {
                currency = small_text(field)
                    .await
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
            }
            "file" => match state.spool.form_field(field).await {
                Ok(spooled) => body = Some(spooled),
                Err(SpoolError::TooLarge(limit)) => {
                    return Ok(refused(
                        tr!(
                            lang,
                            "The file is larger than the %{n} MiB accepted.",
                            n = limit / (1024 * 1024)
                        )
                        .into_owned(),
                    )
                    .await);
                }
                Err(e) => return Ok(refused(e.to_string()).await),
            },
            _ => {}
        }
    }
    let kind = match kind.as_deref() {
        Some("products") => FeedKind::Products,
        Some("inventory") => FeedKind::Inventory,
        _ => return Ok(refused(tr!(lang, "Choose the kind of feed.").into_owned()).await),
    };
    if feed_lang
        .as_ref()
        .is_some_and(|l| l.len() > 8 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
    {
        return Ok(refused(tr!(lang, "A language is a code such as fr or en.").into_owned()).await);
    }
    let currency = match currency.as_deref().map(crate::domain::currency).transpose() {
        Ok(currency) => currency,
        Err(_) => return Ok(refused(tr!(lang, "A currency is a code such as EUR or GBP.").into_owned()).await),
    };
    let Some(body) = body else {
        return Ok(refused(tr!(lang, "Choose a file.").into_owned()).await);
    };
    let origin = Origin {
        source: "console",
        by: ctx.account.email.clone(),
    };
    let options = crate::catalog::FeedOptions {
        lang: feed_lang,
        currency,
    };
    match crate::hub::import_feed(&state.store, kind, body, options, origin).await {
        Ok(imported) => {
            let (actor, id, what) = (ctx.actor(), imported.id, kind.as_str());
            state
                .store
                .write(move |w| {
                    let action = format!("feed.upload.{what}");
                    let target = format!("import {id}");
                    crate::hub::admin::record(w.db(), &actor, &action, None, &target, Timestamp::now())
                })
                .await??;
            let to = format!("/console/feeds/{id}");
            Ok(ctx
                .redirect(&to, Flash::Done, tr!(lang, "The feed was imported."))
                .await)
        }
        Err(ImportError::Feed(e)) => Ok(refused(
            tr!(
                lang,
                "Refused whole, the catalog is as it was: %{why}",
                why = e.to_string()
            )
            .into_owned(),
        )
        .await),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}
