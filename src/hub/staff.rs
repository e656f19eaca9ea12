//! Sales assistants and their PINs (`src/hub/schema_v4.sql`). A PIN is stored as an
//! Argon2id hash only, and sent only to the kiosks of the assistant's own shop, which
//! check PINs offline against it.
//!
//! A PIN is 6 to 12 digits: the hashes sit on the shop's kiosks, and a slow hash is
//! what stands between a stolen tablet and the PINs, so four digits would not do.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::Timestamp;
use rusqlite::{Connection, params};

use crate::protocol::StaffMember;

/// The shortest and longest PIN.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 6..=12;

/// Why a PIN or a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("a PIN is 6 to 12 digits")]
    BadPin,
    #[error("a name is 1 to 64 printable characters")]
    BadName,
    #[error("the shop {store} already has an assistant named {name}")]
    Taken { store: String, name: String },
    #[error("the shop {store} has no assistant named {name}")]
    Unknown { store: String, name: String },
}

fn check_pin(pin: &str) -> Result<(), StaffError> {
    (PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
        .ok_or(StaffError::BadPin)
}

fn check_name(name: &str) -> Result<(), StaffError> {
    let ok = (1..=64).contains(&name.chars().count()) && !name.chars().any(char::is_control) && name.trim() == name;
    ok.then_some(()).ok_or(StaffError::BadName)
}

/// The PHC string of `pin` under Argon2id with the crate's defaults (19 MiB, two passes).
pub fn hash_pin(pin: &str) -> Result<String, StaffError> {
    check_pin(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|_| StaffError::BadPin)?
        .to_string())
}

/// Whether `pin` matches `hash` (a PHC string from [`hash_pin`]).
pub fn pin_matches(pin: &str, hash: &str) -> bool {
    check_pin(pin).is_ok()
        && PasswordHash::new(hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
}

/// Adds an assistant to a shop.
pub fn add(
    conn: &Connection,
    store: &str,
    name: &str,
    pin: &str,
    now: Timestamp,
) -> rusqlite::Result<Result<i64, StaffError>> {
    if let Err(e) = check_name(name) {
        return Ok(Err(e));
    }
    let hash = match hash_pin(pin) {
        Ok(hash) => hash,
        Err(e) => return Ok(Err(e)),
    };
    let inserted = conn.execute(
        "INSERT INTO staff (store_code, name, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![store, name, hash, now.as_second()],
    );
    match inserted {
        Ok(_) => Ok(Ok(conn.last_insert_rowid())),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Ok(Err(StaffError::Taken {
                store: store.to_owned(),
                name: name.to_owned(),
            }))
        }
        Err(e) => Err(e),
    }
}

/// Removes an assistant: their hash stops reaching the shop's kiosks at their next pull.
pub fn remove(conn: &Connection, store: &str, name: &str, now: Timestamp) -> rusqlite::Result<Result<(), StaffError>> {
    let changed = conn.execute(
        "UPDATE staff SET removed_at = ?3 WHERE store_code = ?1 AND name = ?2 AND removed_at IS NULL",
        params![store, name, now.as_second()],
    )?;
    Ok(if changed == 1 {
        Ok(())
    } else {
        Err(StaffError::Unknown {
            store: store.to_owned(),
            name: name.to_owned(),
        })
    })
}

/// A shop's current assistants with their PIN hashes, by name: what its kiosks get.
pub fn of_store(conn: &Connection, store: &str) -> rusqlite::Result<Vec<StaffMember>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, pin_hash FROM staff WHERE store_code = ?1 AND removed_at IS NULL ORDER BY name",
    )?;
    stmt.query_map([store], |r| {
        Ok(StaffMember {
            id: r.get(0)?,
            name: r.get(1)?,
            pin_hash: r.get(2)?,
        })
    })?
    .collect()
}

/// Every current assistant, for `vitrine hub staff list`: (shop, name, added).
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Timestamp)>> {
    let mut stmt = conn
        .prepare("SELECT store_code, name, created_at FROM staff WHERE removed_at IS NULL ORDER BY store_code, name")?;
    stmt.query_map([], |r| {
        let at = Timestamp::from_second(r.get(2)?).unwrap_or(Timestamp::UNIX_EPOCH);
        Ok((r.get(0)?, r.get(1)?, at))
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_hashed_slowly_and_checked() {
        let hash = hash_pin("246810").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("246810"));
        assert!(pin_matches("246810", &hash));
        assert!(!pin_matches("246811", &hash));
        assert!(!pin_matches("", &hash));
        assert!(!pin_matches("246810", "not a hash"));
        // Same PIN, new salt.
        assert_ne!(hash_pin("246810").unwrap(), hash);
        for bad in ["1234", "12345", "1234567890123", "12a456", " 123456", "１２３４５６"] {
            assert_eq!(hash_pin(bad), Err(StaffError::BadPin), "{bad:?}");
        }
    }
}
