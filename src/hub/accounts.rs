//! The console's accounts (`src/db/hub_v8.sql`): one per person, with a role and, for a
//! manager, the shops they run. Passwords are Argon2id hashes; the fifth wrong password in
//! a row locks the email for 15 minutes, each one after that for twice as long, up to an
//! hour. Attempts are counted before the password is checked ([`claim_attempt`]) and
//! whether the account exists or not; the checks take `now`, and no hash runs on the
//! writer: [`password_matches`] runs on a blocking thread ([`slow`]) between the two.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::{SignedDuration, Timestamp};

use crate::db::{self, Sql, params};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads, never changes; the whole chain, or the shops it is given.
    Viewer,
    /// Changes its own shops only.
    Manager,
    /// The whole chain, accounts and keys included.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// A console account as the console sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// The shops it is limited to; empty means the whole chain (admins, and viewers
    /// given no shop).
    pub shops: Vec<String>,
    /// The Argon2id PHC string, to check a password against.
    pub password_hash: String,
    /// Its SHA-256, what a session holds: one made before a password change no longer
    /// matches, and no session row holds the hash itself.
    pub session_hash: [u8; 32],
}

impl Account {
    /// Whether this account may see `store`.
    pub fn sees(&self, store: &str) -> bool {
        self.shops.is_empty() || self.shops.iter().any(|s| s == store)
    }

    /// Whether this account may change things in `store`.
    pub fn manages(&self, store: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager => self.sees(store),
            Role::Viewer => false,
        }
    }

    /// Whether the account sees every shop of the chain.
    pub fn whole_chain(&self) -> bool {
        self.shops.is_empty()
    }
}

/// Why an account cannot be made or changed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("an email address is 3 to 254 characters with an @, and no spaces")]
    BadEmail,
    #[error("a password is 12 to 128 characters")]
    BadPassword,
    #[error("a manager needs at least one shop (--store)")]
    ManagerWithoutShop,
    #[error("an admin sees the whole chain; give no shop")]
    AdminWithShop,
    #[error("an account for {0} already exists")]
    Taken(String),
    #[error("there is no account for {0}")]
    Unknown(String),
}

/// Why a sign-in was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many wrong passwords for this email: no password is checked until then.
    Locked { until: Timestamp },
}

/// Wrong passwords in a row that lock an account (the fifth).
pub const MAX_ATTEMPTS: i64 = 5;
/// The first lock; each further wrong password doubles it, up to [`LONGEST_LOCK`]: an
/// hour at most, since anyone who knows an address can keep its account locked.
pub const FIRST_LOCK: SignedDuration = SignedDuration::from_mins(15);
pub const LONGEST_LOCK: SignedDuration = SignedDuration::from_hours(1);
/// Longest password accepted (characters): the hash's input stays bounded.
pub const MAX_PASSWORD: usize = 128;
const MIN_PASSWORD: usize = 12;

/// The lock after `failures` wrong passwords in a row, if any.
pub fn lock_after(failures: i64) -> Option<SignedDuration> {
    let past = failures - MAX_ATTEMPTS;
    if past < 0 {
        return None;
    }
    let doubled = FIRST_LOCK.as_secs().saturating_mul(1_i64 << past.min(16));
    Some(SignedDuration::from_secs(doubled.min(LONGEST_LOCK.as_secs())))
}

pub fn valid_email(email: &str) -> bool {
    let n = email.chars().count();
    (3..=254).contains(&n)
        && email.contains('@')
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn valid_password(password: &str) -> bool {
    (MIN_PASSWORD..=MAX_PASSWORD).contains(&password.chars().count())
}

/// A password's Argon2id PHC string (the crate's defaults: 19 MiB, two passes). Made
/// off the writer: hashing is slow on purpose.
#[derive(Clone)]
pub struct Hashed(String);

impl Hashed {
    pub fn new(password: &str) -> Result<Hashed, AccountError> {
        if !valid_password(password) {
            return Err(AccountError::BadPassword);
        }
        Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map(|h| Hashed(h.to_string()))
            .map_err(|_| AccountError::BadPassword)
    }
}

/// A hash no password matches, checked when the email is unknown so that the answer
/// takes as long as for a known one.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        Hashed::new("not a password anyone has")
            .map(|h| h.0)
            .unwrap_or_default()
    })
}

/// Whether `password` matches `hash`. Slow on purpose (Argon2id): call it off the async
/// threads and off the writer.
pub fn password_matches(password: &str, hash: Option<&str>) -> bool {
    let hash = hash.unwrap_or_else(|| decoy_hash());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    password.chars().count() <= MAX_PASSWORD
        && Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        && hash != decoy_hash()
}

fn check_shops(role: Role, shops: &[String]) -> Result<(), AccountError> {
    match role {
        Role::Manager if shops.is_empty() => Err(AccountError::ManagerWithoutShop),
        Role::Admin if !shops.is_empty() => Err(AccountError::AdminWithShop),
        _ => Ok(()),
    }
}

/// Adds an account. Run it in a transaction ([`crate::hub::admin`] does): it writes the
/// account and its shops.
pub fn add(
    conn: &dyn Sql,
    email: &str,
    role: Role,
    shops: &[String],
    password: &Hashed,
    now: Timestamp,
) -> db::Result<Result<i64, AccountError>> {
    if !valid_email(email) {
        return Ok(Err(AccountError::BadEmail));
    }
    if let Err(e) = check_shops(role, shops) {
        return Ok(Err(e));
    }
    let taken: bool = conn.one(
        "SELECT EXISTS (SELECT 1 FROM operator WHERE email = ?1 AND removed_at IS NULL)",
        params![email],
    )?;
    if taken {
        return Ok(Err(AccountError::Taken(email.to_owned())));
    }
    // A removed account's address can be given again: the old row keeps its id for the
    // audit log under a name that no longer collides.
    conn.execute(
        "UPDATE operator SET email = email || ' (removed ' || CAST(id AS TEXT) || ')' WHERE email = ?1",
        params![email],
    )?;
    let id: i64 = conn.one(
        "INSERT INTO operator (email, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![email, role.as_str(), password.0, now.as_second()],
    )?;
    set_shops(conn, id, shops)?;
    Ok(Ok(id))
}

fn set_shops(conn: &dyn Sql, id: i64, shops: &[String]) -> db::Result<()> {
    conn.execute("DELETE FROM operator_shop WHERE operator_id = ?1", params![id])?;
    for shop in shops {
        conn.execute(
            "INSERT INTO operator_shop (operator_id, store_code) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, shop],
        )?;
    }
    Ok(())
}

/// Sets a new password (and unlocks the account): every session of it ends.
pub fn set_password(conn: &dyn Sql, email: &str, password: &Hashed) -> db::Result<Result<(), AccountError>> {
    let changed = conn.execute(
        "UPDATE operator SET password_hash = ?2 WHERE email = ?1 AND removed_at IS NULL",
        params![email, password.0],
    )?;
    if changed == 1 {
        signed_in(conn, email)?;
    }
    Ok(if changed == 1 {
        Ok(())
    } else {
        Err(AccountError::Unknown(email.to_owned()))
    })
}

/// Removes an account: its sessions end at their next request.
pub fn remove(conn: &dyn Sql, email: &str, now: Timestamp) -> db::Result<Result<(), AccountError>> {
    let changed = conn.execute(
        "UPDATE operator SET removed_at = ?2 WHERE email = ?1 AND removed_at IS NULL",
        params![email, now.as_second()],
    )?;
    Ok(if changed == 1 {
        Ok(())
    } else {
        Err(AccountError::Unknown(email.to_owned()))
    })
}

fn shops_of(conn: &dyn Sql, id: i64) -> db::Result<Vec<String>> {
    conn.query_map(
        "SELECT store_code FROM operator_shop WHERE operator_id = ?1 ORDER BY store_code",
        params![id],
        |r| r.get(0),
    )
}

fn account(conn: &dyn Sql, filter: &str, key: &dyn db::Param) -> db::Result<Option<Account>> {
    let found = conn.query_opt(
        &format!("SELECT id, email, role, password_hash FROM operator WHERE {filter} AND removed_at IS NULL"),
        &[key],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
            ))
        },
    )?;
    let Some((id, email, role, password_hash)) = found else {
        return Ok(None);
    };
    use sha2::Digest as _;
    Ok(Some(Account {
        id,
        email,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        shops: shops_of(conn, id)?,
        session_hash: sha2::Sha256::digest(password_hash.as_bytes()).into(),
        password_hash,
    }))
}

/// The account with this id, unless removed.
pub fn get(conn: &dyn Sql, id: i64) -> db::Result<Option<Account>> {
    account(conn, "id = ?1", &id)
}

/// The account with this email, unless removed.
pub fn by_email(conn: &dyn Sql, email: &str) -> db::Result<Option<Account>> {
    account(conn, "email = ?1", &email)
}

/// Every account, by email.
pub fn list(conn: &dyn Sql) -> db::Result<Vec<Account>> {
    let ids: Vec<i64> = conn.query_map(
        "SELECT id FROM operator WHERE removed_at IS NULL ORDER BY email",
        params![],
        |r| r.get(0),
    )?;
    ids.into_iter().filter_map(|id| get(conn, id).transpose()).collect()
}

/// Counts a sign-in attempt for `email` (an account or not: the answers are the same)
/// before its password is checked, so parallel guesses cannot outrun the lock: each
/// attempt is counted as a failure until [`signed_in`] clears the count. The fifth in a
/// row locks; an attempt while locked is refused unchecked. Returns the account to check
/// the password against (`None`: no such account, check a decoy).
pub fn claim_attempt(conn: &dyn Sql, email: &str, now: Timestamp) -> db::Result<Result<Option<Account>, Refused>> {
    let counted: Option<i64> = conn.query_opt(
        "INSERT INTO signin_attempt (email, failures) VALUES (?1, 1)
         ON CONFLICT (email) DO UPDATE SET failures = signin_attempt.failures + 1
             WHERE signin_attempt.locked_until IS NULL OR signin_attempt.locked_until <= ?2
         RETURNING failures",
        params![email, now.as_second()],
        |r| r.get(0),
    )?;
    let Some(failures) = counted else {
        let until: Option<i64> = conn
            .query_opt(
                "SELECT locked_until FROM signin_attempt WHERE email = ?1",
                params![email],
                |r| r.get::<Option<i64>>(0),
            )?
            .flatten();
        let until = until.and_then(|s| Timestamp::from_second(s).ok()).unwrap_or(now);
        return Ok(Err(Refused::Locked { until }));
    };
    if let Some(lock) = lock_after(failures) {
        conn.execute(
            "UPDATE signin_attempt SET locked_until = ?2 WHERE email = ?1",
            params![email, (now + lock).as_second()],
        )?;
    }
    Ok(Ok(by_email(conn, email)?))
}

/// A sign-in succeeded: the count starts again.
pub fn signed_in(conn: &dyn Sql, email: &str) -> db::Result<()> {
    conn.execute("DELETE FROM signin_attempt WHERE email = ?1", params![email])?;
    Ok(())
}

/// Argon2 runs, at most one per core at a time: each takes 19 MiB and tens of
/// milliseconds, and a burst of sign-ins must not take the hub's memory or every core.
pub async fn slow<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    });
    let _slot = SLOTS.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(work).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        (dir, conn)
    }

    const NOW: i64 = 1_700_000_000;

    fn pw(text: &str) -> Hashed {
        Hashed::new(text).unwrap()
    }

    #[test]
    fn the_fifth_wrong_password_locks_and_each_after_doubles_the_lock() {
        assert_eq!(lock_after(4), None);
        assert_eq!(lock_after(5), Some(FIRST_LOCK));
        assert_eq!(lock_after(6), Some(FIRST_LOCK * 2));
        assert_eq!(lock_after(60), Some(LONGEST_LOCK));
        assert_eq!(lock_after(i64::MAX), Some(LONGEST_LOCK));
    }

    #[test]
    fn an_account_is_found_by_email_in_any_case_and_checks_its_password() {
        let (_dir, conn) = db();
        let now = Timestamp::from_second(NOW).unwrap();
        let id = add(
            &conn,
            "Ops@Example.com",
            Role::Admin,
            &[],
            &pw("correct horse battery"),
            now,
        )
        .unwrap()
        .unwrap();
        let account = by_email(&conn, "ops@example.com").unwrap().unwrap();
        assert_eq!(account.id, id);
        assert!(password_matches("correct horse battery", Some(&account.password_hash)));
        assert!(!password_matches("wrong horse battery", Some(&account.password_hash)));
        assert!(
            !password_matches("correct horse battery", None),
            "the decoy matches nothing"
        );
        assert_eq!(
            add(
                &conn,
                "ops@example.com",
                Role::Viewer,
                &[],
                &pw("another long one"),
                now
            )
            .unwrap(),
            Err(AccountError::Taken("ops@example.com".into()))
        );
    }

    #[test]
    fn roles_need_the_right_shops() {
        let (_dir, conn) = db();
        let now = Timestamp::from_second(NOW).unwrap();
        let password = &pw("a long enough password");
        assert_eq!(
            add(&conn, "m@x.fr", Role::Manager, &[], password, now).unwrap(),
            Err(AccountError::ManagerWithoutShop)
        );
        assert_eq!(
            add(&conn, "a@x.fr", Role::Admin, &["PARIS".into()], password, now).unwrap(),
            Err(AccountError::AdminWithShop)
        );
        assert!(matches!(Hashed::new("short"), Err(AccountError::BadPassword)));
        add(&conn, "m@x.fr", Role::Manager, &["PARIS".into()], password, now)
            .unwrap()
            .unwrap();
        let manager = by_email(&conn, "m@x.fr").unwrap().unwrap();
        assert!(manager.manages("PARIS") && !manager.manages("LYON") && !manager.sees("LYON"));
    }

    #[test]
    fn attempts_are_counted_before_the_check_and_lock_known_and_unknown_emails_alike() {
        let (_dir, conn) = db();
        let now = Timestamp::from_second(NOW).unwrap();
        add(&conn, "v@x.fr", Role::Viewer, &[], &pw("a long enough password"), now)
            .unwrap()
            .unwrap();
        for email in ["v@x.fr", "nobody@x.fr"] {
            for _ in 0..MAX_ATTEMPTS {
                assert!(
                    claim_attempt(&conn, email, now).unwrap().is_ok(),
                    "five attempts go through"
                );
            }
            let until = now + FIRST_LOCK;
            assert_eq!(
                claim_attempt(&conn, email, now).unwrap(),
                Err(Refused::Locked { until })
            );
            assert_eq!(
                claim_attempt(&conn, &email.to_uppercase(), now).unwrap(),
                Err(Refused::Locked { until }),
                "whatever the case"
            );
            let later = until + SignedDuration::from_secs(1);
            assert!(claim_attempt(&conn, email, later).unwrap().is_ok(), "the lock ends");
            assert_eq!(
                claim_attempt(&conn, email, later).unwrap(),
                Err(Refused::Locked {
                    until: later + FIRST_LOCK * 2
                }),
                "the next wrong one locks for twice as long"
            );
        }
        let later = now + LONGEST_LOCK * 3;
        signed_in(&conn, "v@x.fr").unwrap();
        assert!(
            claim_attempt(&conn, "v@x.fr", later).unwrap().unwrap().is_some(),
            "a success starts again"
        );
    }

    #[test]
    fn a_removed_account_is_gone_and_its_address_can_be_given_again() {
        let (_dir, conn) = db();
        let now = Timestamp::from_second(NOW).unwrap();
        let first = add(&conn, "v@x.fr", Role::Viewer, &[], &pw("a long enough password"), now)
            .unwrap()
            .unwrap();
        remove(&conn, "v@x.fr", now).unwrap().unwrap();
        assert_eq!(get(&conn, first).unwrap(), None);
        let second = add(&conn, "v@x.fr", Role::Viewer, &[], &pw("a long enough password"), now)
            .unwrap()
            .unwrap();
        assert_ne!(first, second);
    }
}
