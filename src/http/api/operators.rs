//! Operators (admin only): list, create, change, unlock.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::{AccountError, OperatorChanges, OperatorView};
use crate::auth::{OperatorId, Role};
use crate::http::AppState;
use crate::http::auth::{Admin, Authed};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    pub name: String,
    pub role: Role,
    /// 4 to 8 digits; at least 6 for an admin.
    pub pin: String,
}

fn operator_id(raw: &str) -> Result<OperatorId, ApiError> {
    raw.parse()
        .map(OperatorId)
        .map_err(|_| ApiError::from(AccountError::NotFound))
}

/// Every operator, with role, status and lockout.
#[utoipa::path(get, path = "/api/operators", tag = "operators",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<OperatorView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _auth: Authed<Admin>,
) -> Result<AppJson<Vec<OperatorView>>, ApiError> {
    Ok(AppJson(state.accounts.list().await?))
}

#[utoipa::path(post, path = "/api/operators", tag = "operators",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    request_body = NewOperator,
    responses(
        (status = 201, body = OperatorView),
        (status = 409, description = "Name taken", body = ErrorBody),
        (status = 422, description = "Bad name or PIN", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(body): AppJson<NewOperator>,
) -> Result<(StatusCode, AppJson<OperatorView>), ApiError> {
    let view = state
        .accounts
        .create(&auth.staff, &body.name, body.role, &body.pin)
        .await?;
    Ok((StatusCode::CREATED, AppJson(view)))
}

/// Renames, changes role, disables/enables or resets the PIN. A change of role, status
/// or PIN revokes the operator's tokens at once.
#[utoipa::path(patch, path = "/api/operators/{id}", tag = "operators",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    request_body = OperatorChanges,
    responses(
        (status = 200, body = OperatorView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Name taken, or the last admin", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    Path(id): Path<String>,
    AppJson(changes): AppJson<OperatorChanges>,
) -> Result<AppJson<OperatorView>, ApiError> {
    let id = operator_id(&id)?;
    let revokes = changes.role.is_some() || changes.active.is_some() || changes.pin.is_some();
    let view = state.accounts.update(&auth.staff, id, changes).await?;
    if revokes {
        // Tokens are checked on every request; open staff connections are closed too.
        state.hub.disconnect_operator(id);
    }
    Ok(AppJson(view))
}

/// Lifts the lockout after 10 failed logins.
#[utoipa::path(post, path = "/api/operators/{id}/unlock", tag = "operators",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    responses((status = 200, body = OperatorView), (status = 404, body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    Path(id): Path<String>,
) -> Result<AppJson<OperatorView>, ApiError> {
    let id = operator_id(&id)?;
    Ok(AppJson(state.accounts.unlock(&auth.staff, id).await?))
}
