//! Liveness, for load balancers, monitoring and the kiosk's health screen.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Liveness: the hub answers, its database can be read, and its writer runs.
#[utoipa::path(get, path = "/healthz", tag = "hub",
    responses((status = 200, description = "ok"), (status = 503, body = crate::protocol::Problem)))]
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if !state.store.writer_alive() {
        return Err(ApiError::unavailable(&"the hub's writer thread has stopped", 30));
    }
    state.store.read(|c| c.batch("SELECT 1")).await?;
    Ok("ok")
}
