//! Tournaments: the lobby, creation from templates, clock commands, the event list
//! (for undo).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::engine::tournament::{Command, PublicState, Setup};
use crate::http::AppState;
use crate::http::auth::{Authed, Floor, Viewer};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;
use crate::ids::TournamentId;
use crate::tournaments::{EventView, TournamentError};

impl From<TournamentError> for ApiError {
    fn from(e: TournamentError) -> Self {
        match e {
            TournamentError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            TournamentError::Conflict(state) => {
                let mut error = ApiError::new(
                    StatusCode::CONFLICT,
                    "version_conflict",
                    format!(
                        "{} (version {})",
                        "the tournament changed since you looked", state.version
                    ),
                );
                error.state = serde_json::to_value(&*state).ok();
                error
            }
            TournamentError::Rejected(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "command_rejected",
                e.to_string(),
            ),
            TournamentError::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_setup", message)
            }
            TournamentError::Internal(_) => ApiError::internal(&e),
        }
    }
}

fn tournament_id(raw: &str) -> Result<TournamentId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::from(TournamentError::NotFound))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub command: Command,
    /// The version the operator saw; if the tournament moved on, the answer is 409
    /// with the fresh state.
    #[serde(default)]
    pub expected_version: Option<u64>,
}

/// Every tournament, running ones first (the lobby).
#[utoipa::path(get, path = "/api/tournaments", tag = "tournaments",
    extensions(("x-min-role" = json!("public"))),
    responses((status = 200, body = Vec<PublicState>)))]
pub async fn list(State(state): State<AppState>) -> AppJson<Vec<PublicState>> {
    AppJson(state.tournaments.list())
}

/// Creates a tournament with its own copy of the structure, chips and buy-in.
#[utoipa::path(post, path = "/api/tournaments", tag = "tournaments",
    extensions(("x-min-role" = json!("floor"))),
    security(("bearer" = [])),
    request_body = Setup,
    responses((status = 201, body = PublicState), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Authed<Floor>,
    AppJson(setup): AppJson<Setup>,
) -> Result<(StatusCode, AppJson<PublicState>), ApiError> {
    let created = state.tournaments.create(setup, &auth.staff).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

#[utoipa::path(get, path = "/api/tournaments/{id}", tag = "tournaments",
    extensions(("x-min-role" = json!("public"))),
    params(("id" = String, Path)),
    responses((status = 200, body = PublicState), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<AppJson<PublicState>, ApiError> {
    Ok(AppJson(state.tournaments.snapshot(tournament_id(&id)?)?))
}

/// Runs a clock command (start, pause, resume, next/previous level, jump, add or
/// remove time, clear the time check, finish, archive, undo).
#[utoipa::path(post, path = "/api/tournaments/{id}/commands", tag = "tournaments",
    extensions(("x-min-role" = json!("floor"))),
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = CommandRequest,
    responses(
        (status = 200, body = PublicState),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Stale version; `state` holds the fresh one", body = ErrorBody),
        (status = 422, description = "Not possible now", body = ErrorBody),
    ))]
pub async fn command(
    State(state): State<AppState>,
    auth: Authed<Floor>,
    Path(id): Path<String>,
    AppJson(request): AppJson<CommandRequest>,
) -> Result<AppJson<PublicState>, ApiError> {
    let id = tournament_id(&id)?;
    let result = state
        .tournaments
        .command(id, request.command, request.expected_version, &auth.staff)
        .await?;
    Ok(AppJson(result))
}

/// The tournament's events, newest first, with what was undone.
#[utoipa::path(get, path = "/api/tournaments/{id}/events", tag = "tournaments",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<EventView>), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    _auth: Authed<Viewer>,
    Path(id): Path<String>,
) -> Result<AppJson<Vec<EventView>>, ApiError> {
    let mut events = state.tournaments.events(tournament_id(&id)?).await?;
    let operators = crate::store::operators::list(&*state.store.conn().await)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    for event in &mut events {
        event.actor_name = event
            .actor
            .and_then(|a| operators.iter().find(|o| o.id == a))
            .map(|o| o.name.clone());
    }
    Ok(AppJson(events))
}
