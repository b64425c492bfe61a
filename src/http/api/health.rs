//! `GET /api/health`: public.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::health::Health;
use crate::http::AppState;

/// The health of the box: database, NATS/JetStream, tournaments, WebSocket clients.
/// The monitor's latest report (at most a second old), so that no request makes the
/// box do the checks again.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "system",
    extensions(("x-min-role" = json!("public"))),
    responses(
        (status = 200, description = "Every subsystem is up", body = Health),
        (status = 503, description = "Something is down; the body says what", body = Health),
    )
)]
pub async fn get(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let health = state.health_now();
    let status = if health.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}
