//! The audit log: every change from the console, the CLI and the API, newest first,
//! filtered by shop, action and who. A manager (or a viewer given shops) sees only their
//! shops' lines.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::page::{ConsoleError, Ctx, tr};
use crate::hub::api::AppState;
use crate::hub::audit::{self, Filter};

/// Lines per page.
const PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    shop: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

fn some(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().chars().take(128).collect::<String>())
        .filter(|t| !t.is_empty())
}

pub async fn log(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let shop = some(query.shop);
    if let Some(shop) = &shop {
        ctx.see(shop)?;
    }
    let filter = Filter {
        shops: (!ctx.account.whole_chain()).then(|| ctx.account.shops.clone()),
        store: shop.clone(),
        action: some(query.action),
        actor: some(query.actor),
        before: query.before,
        limit: PAGE,
    };
    let shown = filter.clone();
    let lines = state.store.read(move |c| audit::list(c, &filter)).await?;
    let next = (lines.len() == PAGE).then(|| lines.last().map(|l| l.id)).flatten();
    let next_href = next.map(|before| {
        let mut pairs = vec![("before", before.to_string())];
        for (name, value) in [
            ("shop", &shown.store),
            ("action", &shown.action),
            ("actor", &shown.actor),
        ] {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        format!("/console/audit?{}", query_string(&pairs))
    });
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        form.filters method="get" action="/console/audit" {
            label for="shop" { (tr!(lang, "Shop")) }
            input #shop name="shop" value=(value(&shown.store)) maxlength="128";
            label for="action" { (tr!(lang, "Action starts with")) }
            input #action name="action" value=(value(&shown.action)) maxlength="128" placeholder="staff.";
            label for="actor" { (tr!(lang, "Who")) }
            input #actor name="actor" value=(value(&shown.actor)) maxlength="128";
            button type="submit" { (tr!(lang, "Filter")) }
        }
        @if lines.is_empty() {
            p.empty { (tr!(lang, "Nothing recorded matches.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (tr!(lang, "When")) } th scope="col" { (tr!(lang, "Who")) }
                    th scope="col" { (tr!(lang, "Action")) } th scope="col" { (tr!(lang, "Shop")) }
                    th scope="col" { (tr!(lang, "What")) } th scope="col" { (tr!(lang, "Detail")) }
                } }
                tbody { @for line in &lines { tr {
                    td { (lang.time(line.at)) } td { (line.actor) } td { code { (line.action) } }
                    td { (line.store_code.as_deref().unwrap_or("—")) } td { (line.target) } td { (line.detail) }
                } } }
            }
            @if let Some(href) = next_href {
                p { a href=(href) { (tr!(lang, "Older lines")) } }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Audit log"), body).await)
}

/// `a=1&b=2`, each value escaped.
fn query_string(pairs: &[(&str, String)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("a fixed URL");
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    url.query().unwrap_or_default().to_owned()
}
