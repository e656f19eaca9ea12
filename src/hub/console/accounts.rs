//! Signing in and out, and the accounts page (admins only): add an account, remove one.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_csrf::CsrfToken;
use jiff::Timestamp;
use maud::html;
use serde::Deserialize;

use super::page::{ConsoleError, Ctx, Flash, Lang, layout, tr};
use super::session::{AuthSession, Credentials, SignInError};
use crate::hub::accounts::{self, Hashed, Role};
use crate::hub::admin;
use crate::hub::api::AppState;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a console page: the sign-in never sends a browser elsewhere.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/console/fleet",
    }
}

fn sign_in_form(lang: Lang, token: &str, next: &str, message: Option<String>) -> maud::Markup {
    html! {
        @if let Some(message) = message { p.flash.refused role="alert" { (message) } }
        form.card.narrow method="post" action="/console/sign-in" {
            input type="hidden" name="authenticity_token" value=(token);
            input type="hidden" name="next" value=(next);
            label for="email" { (tr!(lang, "Email")) }
            input #email type="email" name="email" autocomplete="username" required maxlength="254" autofocus;
            label for="password" { (tr!(lang, "Password")) }
            input #password type="password" name="password" autocomplete="current-password" required maxlength="128";
            button.primary type="submit" { (tr!(lang, "Sign in")) }
        }
    }
}

/// The sign-in page.
pub async fn sign_in_page(csrf: CsrfToken, headers: HeaderMap, Query(query): Query<NextQuery>) -> Response {
    let lang = Lang::of(&headers);
    let token = csrf.authenticity_token().unwrap_or_default();
    let body = sign_in_form(lang, &token, safe_next(query.next.as_deref()), None);
    (
        csrf,
        layout(lang, &tr!(lang, "Sign in to the console"), None, None, body),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct SignInForm {
    authenticity_token: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// Checks the password; the fifth wrong one in a row locks the account (a wrong email
/// reads the same, so the page tells nobody which accounts exist).
pub async fn sign_in(
    mut session: AuthSession,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::of(&headers);
    if csrf.verify(&form.authenticity_token).is_err() {
        return ConsoleError::Csrf.into_response();
    }
    let next = safe_next(form.next.as_deref()).to_owned();
    let credentials = Credentials {
        email: form.email,
        password: form.password,
    };
    let refused = match session.authenticate(credentials).await {
        Ok(Some(account)) => match session.login(&account).await {
            Ok(()) => return Redirect::to(&next).into_response(),
            Err(e) => return ConsoleError::Internal(e.to_string()).into_response(),
        },
        Ok(None) => tr!(lang, "That email and password do not match an account.").into_owned(),
        Err(axum_login::Error::Backend(SignInError::Locked { until })) => tr!(
            lang,
            "Too many wrong passwords: this account is locked until %{until}.",
            until = lang.time(until)
        )
        .into_owned(),
        Err(e) => return ConsoleError::Internal(e.to_string()).into_response(),
    };
    let token = csrf.authenticity_token().unwrap_or_default();
    let body = sign_in_form(lang, &token, &next, Some(refused));
    let page = layout(lang, &tr!(lang, "Sign in to the console"), None, None, body);
    (axum::http::StatusCode::UNAUTHORIZED, csrf, page).into_response()
}

/// Signs out: the session is deleted from the database.
pub async fn sign_out(
    ctx: Ctx,
    mut session: AuthSession,
    Form(form): Form<super::page::Token>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    session
        .logout()
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    Ok(Redirect::to("/console/sign-in").into_response())
}

/// Every account, and a form to add one (admins only).
pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    ctx.admin()?;
    let lang = ctx.lang;
    let all = state.store.read(accounts::list).await?;
    let body = html! {
        table {
            caption.visually-hidden { (tr!(lang, "Accounts")) }
            thead { tr { th scope="col" { (tr!(lang, "Email")) } th scope="col" { (tr!(lang, "Role")) } th scope="col" { (tr!(lang, "Shops")) } th scope="col" { span.visually-hidden { (tr!(lang, "Actions")) } } } }
            tbody {
                @for account in &all {
                    tr {
                        td { (account.email) }
                        td { (role_label(lang, account.role)) }
                        td { @if account.shops.is_empty() { (tr!(lang, "All shops")) } @else { (account.shops.join(", ")) } }
                        td {
                            @if account.id != ctx.account.id {
                                (ctx.button(&format!("/console/accounts/{}/remove", account.id), &tr!(lang, "Remove %{email}", email = account.email), "danger"))
                            }
                        }
                    }
                }
            }
        }
        h2 { (tr!(lang, "Add an account")) }
        form.card method="post" action="/console/accounts" {
            (ctx.token_field())
            label for="email" { (tr!(lang, "Email")) }
            input #email type="email" name="email" required maxlength="254" autocomplete="off";
            label for="role" { (tr!(lang, "Role")) }
            select #role name="role" {
                @for role in Role::ALL { option value=(role.as_str()) { (role_label(lang, role)) } }
            }
            label for="shops" { (tr!(lang, "Shops (codes, separated by spaces; none for the whole chain)")) }
            input #shops type="text" name="shops" maxlength="2000";
            label for="password" { (tr!(lang, "First password (12 characters or more)")) }
            input #password type="password" name="password" required minlength="12" maxlength="128" autocomplete="new-password";
            button.primary type="submit" { (tr!(lang, "Add the account")) }
        }
    };
    Ok(ctx.render(&tr!(lang, "Accounts"), body).await)
}

pub fn role_label(lang: Lang, role: Role) -> String {
    match role {
        Role::Admin => tr!(lang, "Admin: the whole chain"),
        Role::Manager => tr!(lang, "Manager: their shops"),
        Role::Viewer => tr!(lang, "Viewer: reads only"),
    }
    .into_owned()
}

#[derive(Deserialize)]
pub struct AddForm {
    authenticity_token: String,
    email: String,
    role: String,
    #[serde(default)]
    shops: String,
    password: String,
}

/// Adds an account (admins only).
pub async fn add(ctx: Ctx, State(state): State<AppState>, Form(form): Form<AddForm>) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.admin()?;
    let lang = ctx.lang;
    let Some(role) = Role::parse(&form.role) else {
        return Ok(ctx
            .redirect("/console/accounts", Flash::Refused, tr!(lang, "Choose a role."))
            .await);
    };
    let shops: Vec<String> = form.shops.split_whitespace().map(str::to_owned).collect();
    if shops.len() > 200 || !shops.iter().all(|s| crate::protocol::valid_ref(s)) {
        return Ok(ctx
            .redirect(
                "/console/accounts",
                Flash::Refused,
                tr!(lang, "A shop code is 1 to 128 printable characters."),
            )
            .await);
    }
    let password = form.password;
    let hashed = accounts::slow(move || Hashed::new(&password))
        .await
        .map_err(ConsoleError::Internal)?;
    let hashed = match hashed {
        Ok(hashed) => hashed,
        Err(e) => {
            return Ok(ctx
                .redirect("/console/accounts", Flash::Refused, account_error(lang, &e))
                .await);
        }
    };
    let (actor, email) = (ctx.actor(), form.email.trim().to_owned());
    let shown = email.clone();
    let added = state
        .store
        .write(move |w| admin::add_account(w.db(), &actor, &email, role, &shops, &hashed, Timestamp::now()))
        .await??;
    Ok(match added {
        Ok(_) => {
            ctx.redirect(
                "/console/accounts",
                Flash::Done,
                tr!(lang, "Account %{email} added.", email = shown),
            )
            .await
        }
        Err(e) => {
            ctx.redirect("/console/accounts", Flash::Refused, account_error(lang, &e))
                .await
        }
    })
}

fn account_error(lang: Lang, e: &accounts::AccountError) -> String {
    use accounts::AccountError as E;
    match e {
        E::BadEmail => tr!(lang, "Enter a valid email address."),
        E::BadPassword => tr!(lang, "A password is 12 to 128 characters."),
        E::ManagerWithoutShop => tr!(lang, "A manager needs at least one shop."),
        E::AdminWithShop => tr!(lang, "An admin sees the whole chain: leave the shops empty."),
        E::Taken(_) => tr!(lang, "An account with this email already exists."),
        E::Unknown(_) => tr!(lang, "There is no such account."),
    }
    .into_owned()
}

/// Removes an account (admins only; not one's own).
pub async fn remove(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<super::page::Token>,
) -> Result<Response, ConsoleError> {
    ctx.check(&form.authenticity_token)?;
    ctx.admin()?;
    if id == ctx.account.id {
        return Err(ConsoleError::Forbidden);
    }
    let lang = ctx.lang;
    let Some(account) = state.store.read(move |c| accounts::get(c, id)).await? else {
        return Err(ConsoleError::NotFound);
    };
    let (actor, email) = (ctx.actor(), account.email.clone());
    state
        .store
        .write(move |w| admin::remove_account(w.db(), &actor, &email, Timestamp::now()))
        .await??
        .map_err(|_| ConsoleError::NotFound)?;
    Ok(ctx
        .redirect(
            "/console/accounts",
            Flash::Done,
            tr!(lang, "Account %{email} removed.", email = account.email),
        )
        .await)
}
