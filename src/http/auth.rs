//! Who may call a route. A handler states its minimum role by taking `Authed<Viewer>`,
//! `Authed<Floor>` or `Authed<Admin>`; public handlers take none and say so in their
//! OpenAPI description (`x-min-role: public`). The token comes in
//! `Authorization: Bearer …`; it is checked against the operator on every request, so
//! a disabled operator or a changed PIN or role locks old tokens out at once.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::accounts::AccountError;
use crate::auth::{Role, Staff, throttle};

pub trait MinRole {
    const ROLE: Role;
}

pub struct Viewer;
pub struct Floor;
pub struct Admin;

impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl MinRole for Floor {
    const ROLE: Role = Role::Floor;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// A request from staff with at least role `R`.
pub struct Authed<R> {
    pub staff: Staff,
    _role: PhantomData<R>,
}

impl<R: MinRole + Send + Sync> FromRequestParts<AppState> for Authed<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::from(AccountError::Unauthenticated).into_response())?;
        let staff = state
            .accounts
            .authenticate(token.trim())
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        if staff.role < R::ROLE {
            return Err(ApiError::from(AccountError::Forbidden).into_response());
        }
        Ok(Self {
            staff,
            _role: PhantomData,
        })
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        use AccountError as E;
        let (status, code) = match &e {
            E::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            E::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            E::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            E::InvalidSetupCode => (StatusCode::UNAUTHORIZED, "invalid_setup_code"),
            E::SetupDone => (StatusCode::CONFLICT, "setup_done"),
            E::InvalidPin(_) | E::AdminNeedsPin => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_pin")
            }
            E::InvalidName => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            E::NameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
            E::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            E::LastAdmin => (StatusCode::CONFLICT, "last_admin"),
            E::Internal(_) => return ApiError::internal(&e),
        };
        let mut error = ApiError::new(status, code, e.to_string());
        if let E::Throttled(wait) = e {
            error.retry_after = Some(throttle::whole_seconds(wait));
        }
        error
    }
}
