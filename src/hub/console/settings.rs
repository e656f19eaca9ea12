//! Remote settings, for the chain (admins), a shop or one kiosk (their managers): each
//! setting set here or inherited (and from where), changed or given back to the level
//! above. Kiosks take them at their next pull, within five minutes, without a restart.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};
use serde::Deserialize;

use super::fleet::shop_name;
use super::page::{ConsoleError, Ctx, Flash, Lang, tr};
use crate::hub::accounts::Role;
use crate::hub::api::AppState;
use crate::hub::kiosk_settings::{self, Name, Target};
use crate::protocol::params::segment;

fn label(lang: Lang, name: Name) -> (String, String) {
    let (label, hint) = match name {
        Name::IdleSeconds => (
            tr!(lang, "Idle seconds"),
            tr!(lang, "Seconds without a tap before “Are you still there?” (15 to 600)."),
        ),
        Name::WarningSeconds => (
            tr!(lang, "Warning seconds"),
            tr!(lang, "Seconds the warning counts down (5 to 120)."),
        ),
        Name::VisitMaxMinutes => (
            tr!(lang, "Longest visit"),
            tr!(lang, "Minutes after which a visit ends whatever happens (5 to 240)."),
        ),
        Name::Language => (
            tr!(lang, "Starting language"),
            tr!(lang, "The language each visit starts in: fr or en."),
        ),
        Name::Featured => (
            tr!(lang, "Featured products"),
            tr!(
                lang,
                "Product ids or SKUs shown first, separated by spaces (at most 24)."
            ),
        ),
        Name::Campaign => (
            tr!(lang, "Campaign line"),
            tr!(lang, "One line on the attract screen (at most 80 characters)."),
        ),
        Name::PhoneSignIn => (
            tr!(lang, "Sign-in with the phone"),
            tr!(lang, "on or off (when the web store offers it)."),
        ),
        Name::Synonyms => (
            tr!(lang, "Search synonyms"),
            tr!(
                lang,
                "Words shoppers use for the same thing, on top of the built-in ones: rules separated by ;, entries by =, optionally for one language (fr: gilet = cardigan; hoodie = sweat à capuche)."
            ),
        ),
    };
    (label.into_owned(), hint.into_owned())
}

/// The levels above `target`, nearest first, with how the page names them.
fn above(lang: Lang, state: &AppState, target: &Target, store: Option<&str>) -> Vec<(Target, String)> {
    let chain = (Target::Chain, tr!(lang, "the chain").into_owned());
    match (target, store) {
        (Target::Kiosk(_), Some(store)) => vec![(Target::Shop(store.to_owned()), shop_name(state, store)), chain],
        (Target::Shop(_), _) => vec![chain],
        _ => Vec::new(),
    }
}

/// The form for one level.
async fn show(
    ctx: Ctx,
    state: AppState,
    target: Target,
    store: Option<String>,
    title: String,
    can_change: bool,
) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let levels = above(lang, &state, &target, store.as_deref());
    let (here, inherited) = {
        let (here_target, up) = (
            target.clone(),
            levels.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
        );
        state
            .store
            .read(move |c| {
                let here = kiosk_settings::at(c, &here_target)?;
                let mut up_values = Vec::new();
                for t in &up {
                    up_values.push(kiosk_settings::at(c, t)?);
                }
                Ok((here, up_values))
            })
            .await?
    };
    let action = ctx.path.clone();
    let body = html! {
        p.hint { (tr!(lang, "Kiosks take these at their next pull, within five minutes, without a restart. A value set here wins over the one inherited.")) }
        table.settings {
            thead { tr {
                th scope="col" { (tr!(lang, "Setting")) }
                th scope="col" { (tr!(lang, "Here")) }
                th scope="col" { (tr!(lang, "Inherited")) }
            } }
            tbody { @for name in Name::ALL {
                @let (title, hint) = label(lang, name);
                @let set_here = here.iter().find(|(n, _)| *n == name).map(|(_, v)| kiosk_settings::shown(name, v));
                @let from_above = levels.iter().zip(&inherited).find_map(|((_, level), values)| {
                    values.iter().find(|(n, _)| *n == name).map(|(_, v)| (kiosk_settings::shown(name, v), level.clone()))
                });
                tr {
                    th scope="row" { (title) br; small { (hint) } }
                    td {
                        @if can_change {
                            form.inline method="post" action=(action) {
                                (ctx.token_field())
                                input type="hidden" name="name" value=(name.as_str());
                                label.visually-hidden for=(format!("v-{}", name.as_str())) { (title) }
                                input id=(format!("v-{}", name.as_str())) name="value" value=(set_here.clone().unwrap_or_default()) maxlength="2000";
                                button type="submit" name="action" value="set" { (tr!(lang, "Save")) }
                                @if set_here.is_some() {
                                    button.quiet type="submit" name="action" value="inherit" { (tr!(lang, "Use inherited")) }
                                }
                            }
                        } @else {
                            (set_here.clone().unwrap_or_else(|| "—".to_owned()))
                        }
                    }
                    td { (inherited_cell(lang, from_above)) }
                }
            } }
        }
    };
    Ok(ctx.render(&title, body).await)
}

fn inherited_cell(lang: Lang, from_above: Option<(String, String)>) -> Markup {
    html! {
        @match from_above {
            Some((value, level)) => { (value) " " small { (tr!(lang, "from %{level}", level = level)) } },
            None => small { (tr!(lang, "the kiosk's own")) },
        }
    }
}

/// The chain's settings: every account reads them, admins change them.
pub async fn chain(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    let can_change = ctx.account.role == Role::Admin;
    let title = tr!(ctx.lang, "Settings for the whole chain").into_owned();
    show(ctx, state, Target::Chain, None, title, can_change).await
}

pub async fn shop(ctx: Ctx, State(state): State<AppState>, Path(code): Path<String>) -> Result<Response, ConsoleError> {
    ctx.see(&code)?;
    let can_change = ctx.account.manages(&code);
    let title = tr!(ctx.lang, "Settings of %{shop}", shop = shop_name(&state, &code)).into_owned();
    show(ctx, state, Target::Shop(code.clone()), Some(code), title, can_change).await
}

/// The shop of kiosk `id`, if it is enrolled and not revoked.
async fn store_of(state: &AppState, id: i64) -> Result<String, ConsoleError> {
    let store = state.store.read(move |c| crate::hub::fleet::store_of(c, id)).await?;
    store.ok_or(ConsoleError::NotFound)
}

pub async fn kiosk(ctx: Ctx, State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ConsoleError> {
    let store = store_of(&state, id).await?;
    ctx.see(&store)?;
    let can_change = ctx.account.manages(&store);
    let title = tr!(ctx.lang, "Settings of kiosk %{id}", id = id).into_owned();
    show(ctx, state, Target::Kiosk(id), Some(store), title, can_change).await
}

#[derive(Deserialize)]
pub struct SettingForm {
    authenticity_token: String,
    name: String,
    #[serde(default)]
    value: String,
    action: String,
}

async fn change(ctx: Ctx, state: AppState, target: Target, form: SettingForm) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let name = Name::parse(&form.name).ok_or(ConsoleError::NotFound)?;
    let value = (form.action != "inherit").then_some(form.value);
    let actor = ctx.actor();
    let changed = state
        .store
        .write(move |w| kiosk_settings::set(w.db(), &actor, &target, name, value.as_deref(), Timestamp::now()))
        .await??;
    let back = ctx.path.clone();
    Ok(match changed {
        Ok(()) => {
            ctx.redirect(
                &back,
                Flash::Done,
                tr!(lang, "Saved. Kiosks take it at their next pull."),
            )
            .await
        }
        Err(_) => {
            let (title, hint) = label(lang, name);
            let message = tr!(
                lang,
                "This value does not fit “%{setting}”: %{hint}",
                setting = title,
                hint = hint
            );
            ctx.redirect(&back, Flash::Refused, message).await
        }
    })
}

pub async fn set_chain(
    ctx: Ctx,
    State(state): State<AppState>,
    Form(form): Form<SettingForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.admin()?;
    change(ctx, state, Target::Chain, form).await
}

pub async fn set_shop(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<SettingForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.manage(&code)?;
    change(ctx, state, Target::Shop(code), form).await
}

pub async fn set_kiosk(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<SettingForm>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    let store = store_of(&state, id).await?;
    ctx.manage(&store)?;
    change(ctx, state, Target::Kiosk(id), form).await
}

/// Where a shop's settings page is.
pub fn shop_link(code: &str) -> String {
    format!("/console/shops/{}/settings", segment(code))
}
