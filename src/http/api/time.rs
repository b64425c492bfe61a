//! The box's time. A Raspberry Pi has no real-time clock: after a power cut without
//! network time it may start in the past, and the tournament clock then waits, paused,
//! for staff to check the time. An admin can set it from a phone.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::auth::{Admin, Authed};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;

#[derive(Serialize, ToSchema)]
pub struct ServerTime {
    /// Unix milliseconds.
    pub server_time: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTime {
    /// Unix milliseconds, from the phone's clock.
    pub unix_ms: i64,
}

/// 2024-01-01: no venue's clock is set before this on purpose.
const EARLIEST: i64 = 1_704_067_200_000;

#[utoipa::path(get, path = "/api/time", tag = "system",
    extensions(("x-min-role" = json!("public"))),
    responses((status = 200, body = ServerTime)))]
pub async fn get(State(state): State<AppState>) -> AppJson<ServerTime> {
    AppJson(ServerTime {
        server_time: state.clock.now(),
    })
}

/// Sets the box's clock (needs CAP_SYS_TIME, which the appliance's unit grants).
#[utoipa::path(post, path = "/api/time", tag = "system",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    request_body = SetTime,
    responses((status = 200, body = ServerTime), (status = 422, body = ErrorBody), (status = 503, description = "Not permitted to set the time here", body = ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(body): AppJson<SetTime>,
) -> Result<AppJson<ServerTime>, ApiError> {
    if body.unix_ms < EARLIEST {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
            "that time is before 2024: check the phone's clock",
        ));
    }
    let spec = nix::sys::time::TimeSpec::new(
        body.unix_ms.div_euclid(1000),
        body.unix_ms.rem_euclid(1000) * 1_000_000,
    );
    nix::time::clock_settime(nix::time::ClockId::CLOCK_REALTIME, spec).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot_set_time",
            format!("the system refused to set the time ({e}); leaf needs CAP_SYS_TIME, which the appliance grants"),
        )
    })?;
    tracing::warn!(operator = %auth.staff.id, unix_ms = body.unix_ms, "system time set by an admin");
    Ok(AppJson(ServerTime {
        server_time: state.clock.now(),
    }))
}
