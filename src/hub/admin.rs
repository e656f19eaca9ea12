//! The changes store ops make, from the console or the `vitrine hub …` commands: each one
//! made and written to the audit log ([`audit`]) in one transaction, so neither exists
//! without the other. Who may make them is the caller's business (the console checks the
//! account's role and shops; the CLI runs on the hub's machine). Secrets are hashed
//! before these run ([`staff::hash_pin`], [`accounts::Hashed`]): the writer never
//! spends an Argon2 hash's time.

use jiff::Timestamp;

use super::accounts::{self, AccountError, Role};
use super::audit::{self, Actor, Change};
use super::auth::Scope;
use super::brand;
use super::staff::{self, StaffError};
use super::store;
use crate::db::{self, Sql};

fn change<'a>(action: &'a str, store: Option<&'a str>, target: &'a str, detail: &'a str) -> Change<'a> {
    Change {
        action,
        store,
        target,
        detail,
    }
}

/// Runs `make` in a transaction and, when it did what was asked, writes `what` to the
/// audit log and commits; a refusal leaves nothing.
fn audited<T, E>(
    conn: &dyn Sql,
    actor: &Actor,
    what: Change<'_>,
    now: Timestamp,
    make: impl FnOnce(&dyn Sql) -> db::Result<Result<T, E>>,
) -> db::Result<Result<T, E>> {
    let tx = conn.begin()?;
    let made = make(&*tx)?;
    if made.is_ok() {
        audit::record(&*tx, actor, what, now)?;
        tx.commit()?;
    }
    Ok(made)
}

/// A one-time code that enrolls one kiosk in `shop`.
pub fn create_enroll_code(conn: &dyn Sql, actor: &Actor, shop: &str, now: Timestamp) -> db::Result<String> {
    let tx = conn.begin()?;
    let code = store::create_enroll_code(&*tx, shop, now)?;
    audit::record(&*tx, actor, change("enroll_code.create", Some(shop), shop, ""), now)?;
    tx.commit()?;
    Ok(code)
}

/// Adds a sales assistant whose PIN is hashed already.
pub fn add_staff(
    conn: &dyn Sql,
    actor: &Actor,
    shop: &str,
    name: &str,
    pin_hash: &str,
    now: Timestamp,
) -> db::Result<Result<i64, StaffError>> {
    audited(conn, actor, change("staff.add", Some(shop), name, ""), now, |tx| {
        staff::add_hashed(tx, shop, name, pin_hash, now)
    })
}

/// Removes a sales assistant: their PIN stops working at each kiosk's next pull.
pub fn remove_staff(
    conn: &dyn Sql,
    actor: &Actor,
    shop: &str,
    name: &str,
    now: Timestamp,
) -> db::Result<Result<(), StaffError>> {
    audited(conn, actor, change("staff.remove", Some(shop), name, ""), now, |tx| {
        staff::remove(tx, shop, name, now)
    })
}

/// Gives a sales assistant a new PIN, hashed already.
pub fn reset_pin(
    conn: &dyn Sql,
    actor: &Actor,
    shop: &str,
    name: &str,
    pin_hash: &str,
    now: Timestamp,
) -> db::Result<Result<(), StaffError>> {
    audited(
        conn,
        actor,
        change("staff.reset_pin", Some(shop), name, ""),
        now,
        |tx| staff::set_pin_hash(tx, shop, name, pin_hash),
    )
}

/// Replaces the chain's brand (checked already: [`brand::Branding::new`]); kiosks show it
/// after their next pull.
pub fn set_brand(conn: &dyn Sql, actor: &Actor, branding: &brand::Branding, now: Timestamp) -> db::Result<()> {
    let detail = serde_json::to_string(&branding.brand).unwrap_or_default();
    audited(conn, actor, change("brand.set", None, "chain", &detail), now, |tx| {
        brand::save(tx, branding, now).map(Ok::<_, std::convert::Infallible>)
    })?
    .unwrap_or_else(|never| match never {});
    Ok(())
}

/// Why a key cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a key name is 1 to 128 printable characters")]
    BadName,
    #[error("a key named '{0}' exists or existed; choose another name")]
    Taken(String),
    #[error("a key needs at least one scope")]
    NoScope,
}

/// Creates a web store key; returns it (the only time it is shown).
pub fn create_key(
    conn: &dyn Sql,
    actor: &Actor,
    name: &str,
    scopes: &[Scope],
    now: Timestamp,
) -> db::Result<Result<String, KeyError>> {
    if !crate::protocol::valid_ref(name) {
        return Ok(Err(KeyError::BadName));
    }
    if scopes.is_empty() {
        return Ok(Err(KeyError::NoScope));
    }
    let shown: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let shown = shown.join(" ");
    audited(
        conn,
        actor,
        change("key.create", None, name, &shown),
        now,
        |tx| match store::create_key(tx, name, scopes, now) {
            Ok(key) => Ok(Ok(key)),
            Err(e) if e.is_constraint() => Ok(Err(KeyError::Taken(name.to_owned()))),
            Err(e) => Err(e),
        },
    )
}

/// Revokes a web store key. Returns whether it was live.
pub fn revoke_key(conn: &dyn Sql, actor: &Actor, id: i64, now: Timestamp) -> db::Result<bool> {
    let tx = conn.begin()?;
    let Some(name) = store::keys::revoke_key(&*tx, id, now)? else {
        return Ok(false);
    };
    audit::record(&*tx, actor, change("key.revoke", None, &name, ""), now)?;
    tx.commit()?;
    Ok(true)
}

/// Adds a console account.
pub fn add_account(
    conn: &dyn Sql,
    actor: &Actor,
    email: &str,
    role: Role,
    shops: &[String],
    password_hash: &accounts::Hashed,
    now: Timestamp,
) -> db::Result<Result<i64, AccountError>> {
    let detail = format!("{} {}", role.as_str(), shops.join(" "));
    audited(
        conn,
        actor,
        change("account.add", None, email, detail.trim_end()),
        now,
        |tx| accounts::add(tx, email, role, shops, password_hash, now),
    )
}

/// Removes a console account: its sessions end at their next request.
pub fn remove_account(
    conn: &dyn Sql,
    actor: &Actor,
    email: &str,
    now: Timestamp,
) -> db::Result<Result<(), AccountError>> {
    audited(conn, actor, change("account.remove", None, email, ""), now, |tx| {
        accounts::remove(tx, email, now)
    })
}

/// Sets a console account's password (and unlocks it): its sessions end.
pub fn set_password(
    conn: &dyn Sql,
    actor: &Actor,
    email: &str,
    password_hash: &accounts::Hashed,
    now: Timestamp,
) -> db::Result<Result<(), AccountError>> {
    audited(
        conn,
        actor,
        change("account.set_password", None, email, ""),
        now,
        |tx| accounts::set_password(tx, email, password_hash),
    )
}

/// Records a change made elsewhere (the token keys' rotation, the web store's API).
pub fn record(
    conn: &dyn Sql,
    actor: &Actor,
    action: &str,
    shop: Option<&str>,
    target: &str,
    now: Timestamp,
) -> db::Result<()> {
    audit::record(conn, actor, change(action, shop, target, ""), now)
}
