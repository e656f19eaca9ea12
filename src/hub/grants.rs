//! What a kiosk may do for a customer, and the proof it needs: a kiosk writes and reads
//! a customer's list only for a customer who signed in at it, during that visit.
//!
//! - A `sign_in` op carries the customer's token as the kiosk read it. The hub checks it
//!   itself ([`check_sign_in`]): its signature against the hub's keys, its audience, that
//!   it names the op's alias, that it was good when the kiosk read it, and that it signs
//!   in one visit only. The visit it records is the **grant**: that kiosk, that visit,
//!   that customer, until the token's expiry plus the offline grace (`offline_grace_hours`
//!   in the hub's config, default 72: a kiosk offline for a day still delivers what was
//!   saved; a longer grace lets a stolen kiosk credential holding a shown token write
//!   that customer's list for longer).
//! - An op naming an alias must name a granted visit ([`granted`]).
//! - Reading a customer's list takes a token that is good now ([`check_read`]).
//! - An erasure is remembered by alias ([`note_erased`]), for kiosks to pull
//!   ([`erased_page`]) and delete every trace of the customer.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use jiff::{SignedDuration, Timestamp};

use super::customers;
use super::store::Rules;
use super::store::merge::Reason;
use crate::db::{self, Sql, params};
use crate::protocol::Visit;
use crate::token::{self, Claims, Rejection, TrustedKey, Verifier};

/// Erased aliases kiosks can still pull.
pub const ERASURES_KEPT: SignedDuration = SignedDuration::from_hours(24 * 90);

/// What a checked sign-in grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// SHA-256 of the token's signed claims: a token signs in one visit.
    pub token_hash: [u8; 32],
    /// The grant ends here.
    pub until: Timestamp,
}

/// Every key the hub knows that is not revoked, with its window: what a token may be
/// signed with.
fn trusted_keys(conn: &dyn Sql) -> db::Result<HashMap<u16, TrustedKey>> {
    let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
    let rows = conn.query_map(
        "SELECT id, public_key, not_before, not_after FROM signing_key WHERE revoked_at IS NULL",
        params![],
        |r| {
            Ok((
                r.get::<u16>(0)?,
                r.get::<Vec<u8>>(1)?,
                r.get::<i64>(2)?,
                r.get::<i64>(3)?,
            ))
        },
    )?;
    let mut keys = HashMap::new();
    for (id, public, not_before, not_after) in rows {
        let key = <[u8; 32]>::try_from(public.as_slice())
            .ok()
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .filter(|k| !k.is_weak());
        if let Some(key) = key {
            let window = TrustedKey {
                key,
                not_before: at(not_before),
                not_after: at(not_after),
            };
            keys.insert(id, window);
        }
    }
    Ok(keys)
}

/// What the sender is told of a refused token.
fn reason(rejection: Option<Rejection>) -> Reason {
    match rejection {
        Some(Rejection::Expired | Rejection::NotYetValid) => "token_expired",
        _ => "token_invalid",
    }
}

/// The claims of `text` as of `at`, checked with the hub's own keys.
fn claims(conn: &dyn Sql, audience: &str, text: &str, at: Timestamp) -> db::Result<Result<Claims, Reason>> {
    let verifier = Verifier::new(audience, trusted_keys(conn)?);
    Ok(verifier.check(text, at).map_err(|rejection| reason(Some(rejection))))
}

/// Whether a `sign_in` of `alias` into `session`, read by the kiosk at `read_at` (its
/// hybrid clock's time) and arriving `now`, is proven by `token`.
///
/// A kiosk's hybrid clock may run up to `max_skew` ahead of the time (it follows the
/// fastest clock the hub accepted), or behind it (a kiosk whose clock is slow and that
/// has not heard from the hub): the token must have been good at some instant between
/// `read_at - max_skew` and `now`.
pub fn check_sign_in(
    conn: &dyn Sql,
    token: Option<&str>,
    alias: &str,
    session: &str,
    read_at: Timestamp,
    rules: &Rules,
    now: Timestamp,
) -> db::Result<Result<Proof, Reason>> {
    let max_skew = rules.max_skew;
    let Some(token) = token else {
        return Ok(Err("token_required"));
    };
    let verifier = Verifier::new(&rules.audience, trusted_keys(conn)?);
    let instants = [read_at.min(now), (read_at - max_skew).min(now), now];
    let checked = instants.map(|at| verifier.check(token, at));
    let claims = match checked.iter().find_map(|c| c.as_ref().ok()) {
        Some(claims) => claims.clone(),
        None => return Ok(Err(reason(checked[0].clone().err()))),
    };
    if claims.customer.to_string() != alias {
        return Ok(Err("token_mismatch"));
    }
    let until = claims.expires_at() + rules.offline_grace;
    if now > until {
        return Ok(Err("token_expired"));
    }
    let token_hash = token::seen_hash(token);
    let used_by: Option<String> = conn.query_opt(
        "SELECT session FROM visit WHERE token_hash = ?1",
        params![token_hash.as_slice()],
        |r| r.get(0),
    )?;
    if used_by.is_some_and(|other| other != session) {
        return Ok(Err("token_used"));
    }
    Ok(Ok(Proof { token_hash, until }))
}

/// Records a proven sign-in: the web store's visit, and the kiosk's grant. The same
/// sign-in sent again (a new stream, a re-enrolled kiosk) moves the grant to its sender.
pub fn record(conn: &dyn Sql, visit: &Visit, proof: &Proof) -> db::Result<()> {
    // PORT: the visits feed pages by `visit.id`: on PostgreSQL the caller's transaction
    // must hold a feed lock (`db::lock_feed`) to its commit, as the wishlist's does.
    conn.execute(
        "INSERT INTO visit (session, customer, store_code, device_id, signed_in_at, token_hash, grant_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (session) DO UPDATE SET device_id = excluded.device_id, store_code = excluded.store_code
         WHERE visit.token_hash = excluded.token_hash",
        params![
            visit.session,
            visit.customer,
            visit.store_code,
            visit.device_id,
            visit.signed_in_at.as_millisecond(),
            proof.token_hash.as_slice(),
            proof.until.as_millisecond(),
        ],
    )?;
    Ok(())
}

/// Whether `device` holds a grant for `customer` in `session` at `now`.
pub fn granted(conn: &dyn Sql, device: i64, session: &str, customer: &str, now: Timestamp) -> db::Result<bool> {
    conn.one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM visit WHERE session = ?1 AND customer = ?2 AND device_id = ?3
             AND grant_until >= ?4)",
        params![session, customer, device, now.as_millisecond()],
    )
}

/// Whether kiosk `device` may read the list of `alias` with `token` now: the token is
/// good now, names that alias, and signed in no visit at another kiosk. (The read comes
/// right after the scan, maybe before the sign-in reached the hub: the token itself is
/// the proof.) Returns the customer.
pub fn check_read(
    conn: &dyn Sql,
    audience: &str,
    device: i64,
    token: &str,
    alias: &str,
    now: Timestamp,
) -> db::Result<Result<String, Reason>> {
    match claims(conn, audience, token, now)? {
        Ok(claims) if claims.customer.to_string() == alias => {}
        Ok(_) => return Ok(Err("token_mismatch")),
        Err(reason) => return Ok(Err(reason)),
    }
    let used_at: Option<i64> = conn.query_opt(
        "SELECT device_id FROM visit WHERE token_hash = ?1",
        params![token::seen_hash(token)],
        |r| r.get(0),
    )?;
    if used_at.is_some_and(|other| other != device) {
        return Ok(Err("token_used"));
    }
    Ok(customers::customer_of(conn, alias)?.ok_or("unknown_customer"))
}

/// Remembers that `customer`'s alias was erased (before the alias itself is forgotten),
/// and drops what is older than [`ERASURES_KEPT`].
pub fn note_erased(conn: &dyn Sql, customer: &str, now: Timestamp) -> db::Result<()> {
    // PORT: the erasures feed pages by `erased_alias.id`: on PostgreSQL the caller's
    // transaction must hold a feed lock (`db::lock_feed`) to its commit.
    conn.execute(
        "INSERT INTO erased_alias (alias, erased_at)
         SELECT alias, CAST(?2 AS BIGINT) FROM customer_alias WHERE customer = ?1",
        params![customer, now.as_second()],
    )?;
    conn.execute(
        "DELETE FROM erased_alias WHERE erased_at < ?1",
        params![(now - ERASURES_KEPT).as_second()],
    )?;
    Ok(())
}

/// Whether `alias` was erased.
pub fn alias_erased(conn: &dyn Sql, alias: &str) -> db::Result<bool> {
    conn.one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM erased_alias WHERE alias = ?1)",
        params![alias],
    )
}

/// Erased aliases after position `after`, the last one's position, and whether more
/// follow.
pub fn erased_page(conn: &dyn Sql, after: i64, limit: usize) -> db::Result<(Vec<String>, i64, bool)> {
    let mut rows: Vec<(i64, String)> = conn.query_map(
        "SELECT id, alias FROM erased_alias WHERE id > ?1 ORDER BY id LIMIT ?2",
        params![after, limit as i64 + 1],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map_or(after, |(id, _)| *id);
    Ok((rows.into_iter().map(|(_, alias)| alias).collect(), last, has_more))
}
