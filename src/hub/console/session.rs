//! Who is signed in to the console: sessions kept in the hub's database (so any hub on
//! it serves them), accounts checked through [`accounts`], and the extractor every page
//! starts from.
//!
//! tower-sessions keeps the session (random 128-bit id in a `SameSite=Strict`,
//! `HttpOnly` cookie) and axum-login what it holds: the account's id and the SHA-256 of
//! its password hash, so a password change or a removal ends every session of the
//! account at its next request. A sign-in changes the session id (no fixation).

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_login::{AuthUser, AuthnBackend};
use jiff::Timestamp;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::db::{self, Sql, params};
use crate::hub::accounts::{self, Account, Refused};
use crate::hub::store::Store;

impl AuthUser for Account {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.session_hash
    }
}

/// What the sign-in form sends.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Why a sign-in could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("too many wrong passwords")]
    Locked { until: Timestamp },
    #[error("the hub's database failed: {0}")]
    Store(String),
}

impl From<crate::hub::store::StoreError> for SignInError {
    fn from(e: crate::hub::store::StoreError) -> SignInError {
        SignInError::Store(e.to_string())
    }
}

/// Accounts, as axum-login asks for them.
#[derive(Clone)]
pub struct Backend {
    pub store: Store,
}

impl AuthnBackend for Backend {
    type User = Account;
    type Credentials = Credentials;
    type Error = SignInError;

    /// Counts the attempt (refused unchecked while the email is locked), checks the
    /// password on a blocking thread (against a decoy for an unknown email: the same
    /// time, the same answer), and clears the count on a success.
    async fn authenticate(&self, credentials: Credentials) -> Result<Option<Account>, SignInError> {
        let now = Timestamp::now();
        let email = credentials.email.trim().to_owned();
        if !accounts::valid_email(&email) || credentials.password.chars().count() > accounts::MAX_PASSWORD {
            return Ok(None);
        }
        let claimed_for = email.clone();
        let claimed = self
            .store
            .write(move |w| accounts::claim_attempt(w.db(), &claimed_for, now))
            .await?
            .map_err(|e| SignInError::Store(e.to_string()))?;
        let account = match claimed {
            Err(Refused::Locked { until }) => return Err(SignInError::Locked { until }),
            Ok(account) => account,
        };
        let hash = account.as_ref().map(|a| a.password_hash.clone());
        let password = credentials.password;
        let matches = accounts::slow(move || accounts::password_matches(&password, hash.as_deref()))
            .await
            .map_err(SignInError::Store)?;
        let Some(account) = account.filter(|_| matches) else {
            return Ok(None);
        };
        self.store
            .write(move |w| accounts::signed_in(w.db(), &email))
            .await?
            .map_err(|e| SignInError::Store(e.to_string()))?;
        Ok(Some(account))
    }

    async fn get_user(&self, id: &i64) -> Result<Option<Account>, SignInError> {
        let id = *id;
        Ok(self.store.read(move |c| accounts::get(c, id)).await?)
    }
}

/// The console's sessions, in the hub's database (`console_session`).
#[derive(Clone)]
pub struct DbSessions {
    pub store: Store,
}

impl std::fmt::Debug for DbSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessions")
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl DbSessions {
    async fn insert(&self, record: &Record, replace: bool) -> session_store::Result<bool> {
        let json = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let (id, expires) = (record.id.to_string(), record.expiry_date.unix_timestamp());
        self.store
            .write(move |w| {
                let sql = if replace {
                    "INSERT INTO console_session (id, record, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at"
                } else {
                    "INSERT INTO console_session (id, record, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING"
                };
                w.db().execute(sql, params![id, json, expires])
            })
            .await
            .map_err(backend)?
            .map(|n| n == 1)
            .map_err(backend)
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessions {
    /// Saves a new session under an id no other session has.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.insert(record, false).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.insert(record, true).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let id = id.to_string();
        let now = Timestamp::now().as_second();
        let json: Option<String> = self
            .store
            .read(move |c| {
                c.query_opt(
                    "SELECT record FROM console_session WHERE id = ?1 AND expires_at > ?2",
                    params![id, now],
                    |r| r.get(0),
                )
            })
            .await
            .map_err(backend)?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| session_store::Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let id = id.to_string();
        self.store
            .write(move |w| w.db().execute("DELETE FROM console_session WHERE id = ?1", params![id]))
            .await
            .map_err(backend)?
            .map_err(backend)?;
        Ok(())
    }
}

/// Deletes the sessions past their expiry.
pub fn prune(conn: &dyn Sql, now: Timestamp) -> db::Result<u64> {
    conn.execute(
        "DELETE FROM console_session WHERE expires_at <= ?1",
        params![now.as_second()],
    )
}

pub type AuthSession = axum_login::AuthSession<Backend>;

/// The account signed in: every console page but the sign-in takes one. Without a
/// session, the browser is sent to sign in and then back.
pub struct SignedIn(pub Account);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<SignedIn, Response> {
        let session = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(account) = session.user {
            return Ok(SignedIn(account));
        }
        let here = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.to_string(), |u| u.0.to_string());
        let next = percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC);
        Err(Redirect::to(&format!("/console/sign-in?next={next}")).into_response())
    }
}
