//! Kiosks: one-time enrollment codes per shop, exchanged for a device credential.

use crate::db::{self, Sql, params};
use jiff::Timestamp;

use crate::hub::auth;
use crate::protocol::EnrollResponse;

/// Why an enrollment code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollError {
    #[error("this enrollment code is not known; check it, or ask store ops for a new one")]
    Unknown,
    #[error("this enrollment code has expired; ask store ops for a new one")]
    Expired,
    #[error("this enrollment code was already used; ask store ops for a new one")]
    Used,
    #[error("this enrollment code is for the shop {0}, not the one this kiosk is set up for; it is still unused")]
    OtherShop(String),
}

/// Creates a one-time enrollment code for a shop and returns it.
pub fn create_enroll_code(conn: &dyn Sql, store_code: &str, now: Timestamp) -> db::Result<String> {
    let code = auth::new_enroll_code();
    conn.execute(
        "INSERT INTO enroll_code (code_hash, store_code, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            auth::hash(&auth::normalise_enroll_code(&code)),
            store_code,
            now.as_second(),
            now.as_second() + auth::ENROLL_CODE_HOURS * 3600
        ],
    )?;
    Ok(code)
}

/// Exchanges an enrollment code for a device credential; with `expected_store`, only a
/// code for that shop (another is left unused).
pub fn enroll(
    conn: &dyn Sql,
    code: &str,
    name: Option<&str>,
    expected_store: Option<&str>,
    now: Timestamp,
) -> db::Result<Result<EnrollResponse, EnrollError>> {
    let tx = conn.begin()?;
    let code_hash = auth::hash(&auth::normalise_enroll_code(code));
    let found: Option<(String, i64, Option<i64>)> = tx.query_opt(
        "SELECT store_code, expires_at, used_at FROM enroll_code WHERE code_hash = ?1",
        params![code_hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let store_code = match found {
        None => return Ok(Err(EnrollError::Unknown)),
        Some((_, _, Some(_))) => return Ok(Err(EnrollError::Used)),
        Some((_, expires, None)) if expires <= now.as_second() => return Ok(Err(EnrollError::Expired)),
        Some((store, _, None)) if expected_store.is_some_and(|expected| expected != store) => {
            return Ok(Err(EnrollError::OtherShop(store)));
        }
        Some((store, _, None)) => store,
    };
    let token = auth::new_token(auth::DEVICE_PREFIX);
    // Only while still unused: two hubs given the same code at once enroll one kiosk.
    let claimed = tx.execute(
        "UPDATE enroll_code SET used_at = ?1 WHERE code_hash = ?2 AND used_at IS NULL",
        params![now.as_second(), code_hash],
    )?;
    if claimed == 0 {
        return Ok(Err(EnrollError::Used));
    }
    let device_id: i64 = tx.one(
        "INSERT INTO device (store_code, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![store_code, name, auth::hash(&token), now.as_second()],
    )?;
    tx.commit()?;
    Ok(Ok(EnrollResponse {
        device_id,
        store_code,
        token,
    }))
}

/// Whether any kiosk is (or was) enrolled in `store`.
pub fn has_kiosks(conn: &dyn Sql, store: &str) -> db::Result<bool> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM device WHERE store_code = ?1)",
        params![store],
    )
}
