//! Web store API keys, and who holds a bearer token (a kiosk or a key). Credentials are
//! kept as SHA-256 hashes only.

use crate::db::{self, Sql, params};
use jiff::Timestamp;

use super::Principal;
use crate::hub::auth::{self, Scope};

/// Creates a web store API key with the given scopes and returns it.
pub fn create_key(conn: &dyn Sql, name: &str, scopes: &[Scope], now: Timestamp) -> db::Result<String> {
    let key = auth::new_token(auth::KEY_PREFIX);
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    conn.execute(
        "INSERT INTO api_key (name, key_hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, auth::hash(&key), scopes.join(" "), now.as_second()],
    )?;
    Ok(key)
}

/// A web store key as the console lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
}

/// The keys not revoked, by name.
pub fn list_keys(conn: &dyn Sql) -> db::Result<Vec<KeyInfo>> {
    conn.query_map(
        "SELECT id, name, scopes, created_at FROM api_key WHERE revoked_at IS NULL ORDER BY name",
        params![],
        |r| {
            let scopes: String = r.get(2)?;
            Ok(KeyInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                scopes: scopes.split_whitespace().filter_map(Scope::parse).collect(),
                created_at: Timestamp::from_second(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
            })
        },
    )
}

/// Revokes a key: it opens nothing from its next request. Returns its name, if it was live.
pub fn revoke_key(conn: &dyn Sql, id: i64, now: Timestamp) -> db::Result<Option<String>> {
    conn.query_opt(
        "UPDATE api_key SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL RETURNING name",
        params![id, now.as_second()],
        |r| r.get(0),
    )
}

/// Who holds a bearer token, if anyone.
pub fn principal(conn: &dyn Sql, token: &str) -> db::Result<Option<Principal>> {
    let hash = auth::hash(token);
    if token.starts_with(auth::DEVICE_PREFIX) {
        conn.query_opt(
            "SELECT id, store_code FROM device WHERE token_hash = ?1 AND revoked_at IS NULL",
            params![hash],
            |r| {
                Ok(Principal::Device {
                    id: r.get(0)?,
                    store_code: r.get(1)?,
                })
            },
        )
    } else {
        conn.query_opt(
            "SELECT id, name, scopes FROM api_key WHERE key_hash = ?1 AND revoked_at IS NULL",
            params![hash],
            |r| {
                let scopes: String = r.get(2)?;
                Ok(Principal::Key {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    scopes: scopes.split_whitespace().filter_map(Scope::parse).collect(),
                })
            },
        )
    }
}
