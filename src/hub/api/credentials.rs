//! Credentials as extractors: [`DeviceAuth`] for kiosk routes, [`WebStoreAuth`] (and
//! its scopes) for web store routes. The wrong kind of credential is told apart from an
//! unknown one, so a developer knows which key to use.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::{ApiError, AppState};
use crate::hub::auth::{DEVICE_PREFIX, KEY_PREFIX, Scope};
use crate::hub::store::{self, Principal};

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credential",
                "send a credential as `Authorization: Bearer <token>`",
            )
        })?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credential",
                "the Authorization header must be `Bearer <token>`",
            )
        })
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let token = bearer(parts)?.to_owned();
    state
        .store
        .read(move |conn| store::principal(conn, &token))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credential",
                "this credential is not known to the hub, or was revoked",
            )
        })
}

fn wrong_credential(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "wrong_credential", message)
}

/// A kiosk, authenticated by its device credential.
pub struct DeviceAuth {
    pub id: i64,
    pub store_code: String,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts)?.starts_with(KEY_PREFIX) {
            return Err(wrong_credential(
                "this is a web store API key; kiosk endpoints take a device credential",
            ));
        }
        match principal(parts, state).await? {
            Principal::Device { id, store_code } => Ok(DeviceAuth { id, store_code }),
            Principal::Key { .. } => Err(wrong_credential(
                "this is a web store API key; kiosk endpoints take a device credential",
            )),
        }
    }
}

/// The web store, authenticated by an API key.
pub struct WebStoreAuth {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl WebStoreAuth {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "missing_scope",
                format!("the key '{}' does not have the scope {}", self.name, scope.as_str()),
            ))
        }
    }
}

impl FromRequestParts<AppState> for WebStoreAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        const WRONG: &str = "this is a kiosk's device credential; web store endpoints take a web store API key";
        if bearer(parts)?.starts_with(DEVICE_PREFIX) {
            return Err(wrong_credential(WRONG));
        }
        match principal(parts, state).await? {
            Principal::Key { id, name, scopes } => Ok(WebStoreAuth { id, name, scopes }),
            Principal::Device { .. } => Err(wrong_credential(WRONG)),
        }
    }
}
