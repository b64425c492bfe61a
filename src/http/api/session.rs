//! Logging in: the names to tap, the PIN check, who am I, WebSocket tickets.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::{OperatorName, OperatorView, Session};
use crate::auth::tickets::TICKET_LIFETIME;
use crate::http::AppState;
use crate::http::auth::{Authed, Viewer};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The id of the tapped name.
    pub operator: String,
    pub pin: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ticket {
    /// Use once, as `/ws?ticket=…`.
    pub ticket: String,
    pub expires_in_secs: u64,
}

/// The active operators' names, for the login screen.
#[utoipa::path(get, path = "/api/operators/names", tag = "access",
    extensions(("x-min-role" = json!("public"))),
    responses((status = 200, body = Vec<OperatorName>)))]
pub async fn names(State(state): State<AppState>) -> Result<AppJson<Vec<OperatorName>>, ApiError> {
    Ok(AppJson(state.accounts.names().await?))
}

/// Trades an operator and PIN for a token. Wrong name and wrong PIN answer alike.
#[utoipa::path(post, path = "/api/login", tag = "access",
    extensions(("x-min-role" = json!("public"))),
    request_body = LoginRequest,
    responses(
        (status = 200, body = Session),
        (status = 401, description = "Wrong name or PIN", body = ErrorBody),
        (status = 429, description = "Backing off or locked; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppJson(body): AppJson<LoginRequest>,
) -> Result<AppJson<Session>, ApiError> {
    let session = state
        .accounts
        .login(&body.operator, &body.pin, peer.ip())
        .await?;
    Ok(AppJson(session))
}

/// The operator the token belongs to.
#[utoipa::path(get, path = "/api/me", tag = "access",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    responses((status = 200, body = OperatorView), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    auth: Authed<Viewer>,
) -> Result<AppJson<OperatorView>, ApiError> {
    Ok(AppJson(state.accounts.me(&auth.staff).await?))
}

/// A single-use ticket, valid 30 s, to open `/ws` as staff.
#[utoipa::path(post, path = "/api/ws-ticket", tag = "access",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    responses((status = 200, body = Ticket), (status = 401, body = ErrorBody)))]
pub async fn ws_ticket(State(state): State<AppState>, auth: Authed<Viewer>) -> AppJson<Ticket> {
    AppJson(Ticket {
        ticket: state.accounts.issue_ticket(auth.staff),
        expires_in_secs: TICKET_LIFETIME.as_secs(),
    })
}
