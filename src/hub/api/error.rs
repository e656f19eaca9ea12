//! [`ApiError`]: every refusal as an HTTP status and a [`Problem`] with a stable `code`.
//!
//! A fault of the hub itself (its database, a bug) is logged with a fresh id and
//! answered with that id alone: what went wrong inside never reaches a client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::hub::store::{PushError, StoreError};
use crate::protocol::Problem;

/// A refusal: an HTTP status and a [`Problem`].
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Problem,
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                code: code.to_owned(),
                message: message.into(),
                expected_seq: None,
                seq: None,
                error_id: None,
            },
            retry_after: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Asks the client to come back after `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// A fault of the hub: `cause` goes to the log under a new id, the client gets the id.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        let err = ApiError::fault(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the hub failed on this request; its operator can find why",
        );
        tracing::error!(error_id = err.problem.error_id.as_deref(), error = %cause, "internal error");
        err
    }

    /// The hub cannot serve now (its database is busy or closing): retry after `seconds`.
    pub fn unavailable(cause: &dyn std::fmt::Display, seconds: u32) -> ApiError {
        let err = ApiError::fault(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the hub cannot take this request right now; retry later",
        );
        tracing::warn!(error_id = err.problem.error_id.as_deref(), error = %cause, "unavailable");
        err.retry_after(seconds)
    }

    /// Another server failed the hub (a picture's host): why goes to the log under an id.
    pub fn bad_gateway(code: &str, message: &str, cause: &dyn std::fmt::Display) -> ApiError {
        let err = ApiError::fault(StatusCode::BAD_GATEWAY, code, message);
        tracing::warn!(error_id = err.problem.error_id.as_deref(), error = %cause, "{message}");
        err
    }

    /// A refusal whose cause stays in the hub's log, under a fresh id the client is given.
    fn fault(status: StatusCode, code: &str, message: &str) -> ApiError {
        let id = crate::protocol::new_id()[..12].to_owned();
        let mut err = ApiError::new(status, code, format!("{message} (error id {id})"));
        err.problem.error_id = Some(id);
        err
    }

    /// The sentence for the developer (or, on the demo's pages, the shopper).
    pub fn message(&self) -> &str {
        &self.problem.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.problem)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            // The pool is exhausted, the database busy or out of reach, or the hub
            // stopping: worth a retry.
            StoreError::Pool(_) | StoreError::Closed => ApiError::unavailable(&e, 5),
            StoreError::Query(q) if q.is_unavailable() => ApiError::unavailable(&e, 5),
            StoreError::Db(crate::db::DbError::Query(q)) if q.is_unavailable() => ApiError::unavailable(&e, 5),
            StoreError::Db(_) | StoreError::Query(_) | StoreError::Locked(_) => ApiError::internal(&e),
        }
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(e: crate::db::Error) -> ApiError {
        StoreError::from(e).into()
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> ApiError {
        let message = e.to_string();
        match e {
            PushError::Gap { expected } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "seq_gap", message);
                err.problem.expected_seq = Some(expected);
                err
            }
            PushError::Diverged { seq } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "seq_diverged", message);
                err.problem.seq = Some(seq);
                err
            }
            PushError::StreamTaken => ApiError::new(StatusCode::CONFLICT, "stream_taken", message),
            PushError::Invalid(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_batch", message),
            // Nothing of the batch was stored: the kiosk sends it again.
            PushError::Store(cause) => ApiError::unavailable(&cause, 2),
        }
    }
}
