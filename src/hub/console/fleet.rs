//! The fleet page (every kiosk the account may see: online or not, version, backlog,
//! catalog, camera, alerts; filtered by shop and state) and a kiosk's page (its last
//! heartbeat, its alerts, its last two days hour by hour).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{ConsoleError, Ctx, Lang, tr};
use crate::hub::api::AppState;
use crate::hub::fleet::{self, Kiosk, Presence, alerts::Kind};
use crate::protocol::fleet::CameraState;

#[derive(Debug, Default, Deserialize)]
pub struct FleetQuery {
    #[serde(default)]
    shop: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

/// A shop's name as the chain's shops give it, else its code.
pub fn shop_name(state: &AppState, code: &str) -> String {
    state
        .shops
        .iter()
        .find(|s| s.code == code)
        .map_or_else(|| code.to_owned(), |s| s.name.clone())
}

pub fn kiosk_name(lang: Lang, kiosk: &Kiosk) -> String {
    kiosk
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| tr!(lang, "Kiosk %{id}", id = kiosk.id).into_owned())
}

fn alert_label(lang: Lang, kind: Kind) -> String {
    match kind {
        Kind::Offline => tr!(lang, "Offline for over 15 min"),
        Kind::BacklogGrowing => tr!(lang, "Backlog growing"),
        Kind::ClockOff => tr!(lang, "Clock off"),
        Kind::CameraWaiting => tr!(lang, "Camera waiting"),
        Kind::DiskLow => tr!(lang, "Disk low"),
    }
    .into_owned()
}

fn presence(lang: Lang, kiosk: &Kiosk) -> Markup {
    html! {
        @match kiosk.presence {
            Presence::Online => span.pill.ok { (tr!(lang, "Online")) },
            Presence::Offline => span.pill.bad { (tr!(lang, "Offline")) },
            Presence::Never => span.pill.muted { (tr!(lang, "Never seen")) },
        }
        @if kiosk.outdated { " " span.pill.warn { (tr!(lang, "Outdated")) } }
    }
}

fn camera(lang: Lang, kiosk: &Kiosk) -> String {
    let Some(beat) = &kiosk.heartbeat else {
        return "—".to_owned();
    };
    match beat.camera.state {
        CameraState::Running => tr!(lang, "Running, %{fps} fps", fps = format!("{:.0}", beat.camera.fps)),
        CameraState::Waiting => tr!(lang, "Waiting"),
        CameraState::Absent => tr!(lang, "None"),
    }
    .into_owned()
}

/// Whether a kiosk applies the settings it should have: the version it reported against
/// the current one.
fn settings_state(lang: Lang, kiosk: &Kiosk, current: i64) -> Markup {
    html! {
        @match kiosk.heartbeat.as_ref().and_then(|b| b.settings_version) {
            Some(applied) if applied >= current => span.pill.ok { (tr!(lang, "Up to date")) },
            Some(applied) => span.pill.warn { (tr!(lang, "v%{applied} of %{current}", applied = applied, current = current)) },
            None => "—",
        }
    }
}

fn matches(kiosk: &Kiosk, state: &str) -> bool {
    match state {
        "online" => kiosk.presence == Presence::Online,
        "offline" => kiosk.presence != Presence::Online,
        "outdated" => kiosk.outdated,
        "alerts" => !kiosk.open_alerts.is_empty(),
        _ => true,
    }
}

/// Every kiosk the account may see.
pub async fn fleet(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<FleetQuery>,
) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let now = Timestamp::now();
    let shop = query.shop.filter(|s| !s.is_empty());
    if let Some(shop) = &shop {
        ctx.see(shop)?;
    }
    let scope = match (&shop, ctx.account.whole_chain()) {
        (Some(shop), _) => Some(vec![shop.clone()]),
        (None, true) => None,
        (None, false) => Some(ctx.account.shops.clone()),
    };
    let (all, versions) = state
        .store
        .read(move |c| {
            Ok((
                fleet::list(c, scope.as_deref(), now)?,
                crate::hub::kiosk_settings::versions(c)?,
            ))
        })
        .await?;
    let wanted = query.state.unwrap_or_default();
    let shown: Vec<&Kiosk> = all.iter().filter(|k| matches(k, &wanted)).collect();
    let count = |f: &dyn Fn(&&Kiosk) -> bool| all.iter().filter(|k| f(k)).count();
    let shops = ctx.shops_seen(&state, all.iter().map(|k| k.store_code.clone()));
    let body = html! {
        ul.stats aria-label=(tr!(lang, "Summary")) {
            li { strong { (all.len()) } span { (tr!(lang, "kiosks")) } }
            li { strong { (count(&|k| k.presence == Presence::Online)) } span { (tr!(lang, "online")) } }
            li { strong { (count(&|k| k.presence != Presence::Online)) } span { (tr!(lang, "offline")) } }
            li { strong { (count(&|k| !k.open_alerts.is_empty())) } span { (tr!(lang, "with alerts")) } }
            li { strong { (count(&|k| k.outdated)) } span { (tr!(lang, "outdated")) } }
        }
        form.filters method="get" action="/console/fleet" {
            label for="shop" { (tr!(lang, "Shop")) }
            select #shop name="shop" {
                option value="" { (tr!(lang, "All shops")) }
                @for code in &shops {
                    option value=(code) selected[shop.as_deref() == Some(code.as_str())] { (shop_name(&state, code)) }
                }
            }
            label for="state" { (tr!(lang, "State")) }
            select #state name="state" {
                @for (value, label) in [("", tr!(lang, "Any")), ("online", tr!(lang, "Online")), ("offline", tr!(lang, "Offline")), ("alerts", tr!(lang, "With alerts")), ("outdated", tr!(lang, "Outdated"))] {
                    option value=(value) selected[wanted == value] { (label) }
                }
            }
            button type="submit" { (tr!(lang, "Filter")) }
        }
        @if shown.is_empty() {
            p.empty { (tr!(lang, "No kiosk matches. Enroll one from “Enroll a kiosk”.")) }
        } @else {
            table.fleet {
                caption.visually-hidden { (tr!(lang, "Kiosks")) }
                thead { tr {
                    th scope="col" { (tr!(lang, "Kiosk")) }
                    th scope="col" { (tr!(lang, "Shop")) }
                    th scope="col" { (tr!(lang, "State")) }
                    th scope="col" { (tr!(lang, "Last seen")) }
                    th scope="col" { (tr!(lang, "Version")) }
                    th scope="col" { (tr!(lang, "Edits waiting")) }
                    th scope="col" { (tr!(lang, "Catalog")) }
                    th scope="col" { (tr!(lang, "Camera")) }
                    th scope="col" { (tr!(lang, "Settings")) }
                    th scope="col" { (tr!(lang, "Alerts")) }
                } }
                tbody {
                    @for kiosk in &shown {
                        tr {
                            th scope="row" { a href=(format!("/console/kiosks/{}", kiosk.id)) { (kiosk_name(lang, kiosk)) } }
                            td { (shop_name(&state, &kiosk.store_code)) }
                            td { (presence(lang, kiosk)) }
                            td { @if let Some(at) = kiosk.last_seen { time datetime=(at.to_string()) { (lang.ago(at, now)) } } @else { "—" } }
                            td { @if let Some(beat) = &kiosk.heartbeat { (beat.app_version) } @else { "—" } }
                            td.num { @if let Some(beat) = &kiosk.heartbeat { (beat.outbox_pending) @if beat.outbox_rejected > 0 { " " span.pill.warn { (tr!(lang, "%{n} refused", n = beat.outbox_rejected)) } } } @else { "—" } }
                            td { @if let Some(beat) = &kiosk.heartbeat {
                                (tr!(lang, "%{n} products", n = beat.products))
                                @if let Some(at) = beat.inventory_as_of { br; small { (tr!(lang, "stock %{ago}", ago = lang.ago(at, now))) } }
                            } @else { "—" } }
                            td { (camera(lang, kiosk)) }
                            td { (settings_state(lang, kiosk, versions.get(&kiosk.id).copied().unwrap_or(0))) }
                            td { @for alert in &kiosk.open_alerts { span.pill.bad title=(alert.detail) { (alert_label(lang, alert.kind)) } " " } }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Fleet"), body).await)
}

/// One kiosk: its last heartbeat, its alerts, its last 48 hours.
pub async fn kiosk(ctx: Ctx, State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let now = Timestamp::now();
    let (kiosk, alerts, hours, current) = state
        .store
        .read(move |c| {
            let kiosk = fleet::kiosk(c, id, now)?;
            let current = match &kiosk {
                Some(k) => crate::hub::kiosk_settings::effective(c, &k.store_code, k.id)?.version,
                None => 0,
            };
            Ok((
                kiosk,
                fleet::alerts_of(c, id, 20)?,
                fleet::history(c, id, 48, now)?,
                current,
            ))
        })
        .await?;
    let kiosk = kiosk.ok_or(ConsoleError::NotFound)?;
    ctx.see(&kiosk.store_code)?;
    let row = |label: String, value: Markup| html! { div { dt { (label) } dd { (value) } } };
    let beat = kiosk.heartbeat.as_ref();
    let when = |at: Option<Timestamp>| html! { @if let Some(at) = at { time datetime=(at.to_string()) { (lang.ago(at, now)) } } @else { "—" } };
    let body = html! {
        p { (presence(lang, &kiosk)) " " (shop_name(&state, &kiosk.store_code)) }
        dl.facts {
            (row(tr!(lang, "Last seen").into_owned(), when(kiosk.last_seen)))
            (row(tr!(lang, "Enrolled").into_owned(), html! { (lang.time(kiosk.enrolled_at)) }))
            (row(tr!(lang, "Version").into_owned(), html! { (beat.map_or("—", |b| b.app_version.as_str())) }))
            (row(tr!(lang, "Last push").into_owned(), when(beat.and_then(|b| b.last_push))))
            (row(tr!(lang, "Last catalog pull").into_owned(), when(beat.and_then(|b| b.last_pull))))
            (row(tr!(lang, "Edits waiting").into_owned(), html! { @if let Some(b) = beat { (b.outbox_pending) " · " (tr!(lang, "%{n} refused", n = b.outbox_rejected)) } @else { "—" } }))
            (row(tr!(lang, "Events waiting").into_owned(), html! { @if let Some(b) = beat { (b.events_pending) } @else { "—" } }))
            (row(tr!(lang, "Last sync error").into_owned(), html! { (beat.and_then(|b| b.last_error.as_deref()).unwrap_or("—")) }))
            (row(tr!(lang, "Products").into_owned(), html! { @if let Some(b) = beat { (b.products) } @else { "—" } }))
            (row(tr!(lang, "Stock levels from").into_owned(), when(beat.and_then(|b| b.inventory_as_of))))
            (row(tr!(lang, "Camera").into_owned(), html! {
                (camera(lang, &kiosk))
                @if let Some(b) = beat { @if let Some(name) = &b.camera.name { " · " (name) } " · " (tr!(lang, "%{n} frames given up", n = b.camera.frames_given_up)) }
            }))
            (row(tr!(lang, "Disk free").into_owned(), html! { @if let Some(free) = beat.and_then(|b| b.disk_free_bytes) { (format!("{:.1} GB", free as f64 / 1e9)) } @else { "—" } }))
            (row(tr!(lang, "Clock").into_owned(), html! { (tr!(lang, "%{s} s from the hub's", s = format!("{:+.1}", kiosk.clock_offset_ms as f64 / 1000.0))) }))
            (row(tr!(lang, "Settings").into_owned(), html! {
                (settings_state(lang, &kiosk, current))
                @if beat.and_then(|b| b.settings_version).is_some_and(|applied| applied < current) {
                    " " small { (tr!(lang, "takes the rest at its next pull")) }
                }
                " " a href=(format!("/console/kiosks/{}/settings", kiosk.id)) { (tr!(lang, "Change")) }
            }))
        }
        h2 { (tr!(lang, "Alerts")) }
        @if alerts.is_empty() {
            p.empty { (tr!(lang, "No alert so far.")) }
        } @else {
            table {
                thead { tr { th scope="col" { (tr!(lang, "Alert")) } th scope="col" { (tr!(lang, "What was seen")) } th scope="col" { (tr!(lang, "Opened")) } th scope="col" { (tr!(lang, "Cleared")) } } }
                tbody { @for alert in &alerts { tr {
                    td { @if alert.cleared_at.is_none() { span.pill.bad { (alert_label(lang, alert.kind)) } } @else { (alert_label(lang, alert.kind)) } }
                    td { (alert.detail) }
                    td { (lang.time(alert.opened_at)) }
                    td { @if let Some(at) = alert.cleared_at { (lang.time(at)) } @else { (tr!(lang, "Open")) } }
                } } }
            }
        }
        h2 { (tr!(lang, "The last 48 hours")) }
        @if hours.is_empty() {
            p.empty { (tr!(lang, "No heartbeat in the last 48 hours.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (tr!(lang, "Hour")) } th scope="col" { (tr!(lang, "Heartbeats")) }
                    th scope="col" { (tr!(lang, "Edits waiting")) } th scope="col" { (tr!(lang, "Refused")) }
                    th scope="col" { (tr!(lang, "Camera")) } th scope="col" { (tr!(lang, "Disk free")) } th scope="col" { (tr!(lang, "Clock")) }
                } }
                tbody { @for hour in hours.iter().rev() { tr {
                    td { (lang.time(hour.at)) } td.num { (hour.heartbeats) }
                    td.num { (hour.outbox_pending) } td.num { (hour.outbox_rejected) }
                    td { (hour.camera) }
                    td.num { @if let Some(mb) = hour.disk_free_mb { (mb) " MB" } @else { "—" } }
                    td.num { @if let Some(ms) = hour.clock_offset_ms { (format!("{:+.1} s", ms as f64 / 1000.0)) } @else { "—" } }
                } } }
            }
        }
    };
    Ok(ctx.render(&kiosk_name(lang, &kiosk), body).await)
}
