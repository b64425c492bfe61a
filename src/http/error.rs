//! The one error type at the HTTP edge: every error answers with a status and
//! `{"error": code, "message": text}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `not_found`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// With a version conflict (409): the tournament as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub state: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds, sent as `Retry-After` (with 429).
    pub retry_after: Option<u64>,
    pub state: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            state: None,
        }
    }

    /// An error of ours: logged once with its chain; the client learns nothing more.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong inside Leaf; it has been logged.",
        )
    }

    /// The generic answer for a status, for errors raised below our handlers
    /// (an unknown method, a timeout, a body too large).
    pub fn from_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        let code = reason.to_ascii_lowercase().replace([' ', '-'], "_");
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than 1 MiB.".to_owned(),
            StatusCode::REQUEST_TIMEOUT => "The request took too long.".to_owned(),
            StatusCode::NOT_FOUND => "There is nothing at this address.".to_owned(),
            _ => format!("{reason}."),
        };
        Self::new(status, &code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.code,
                message: self.message,
                state: self.state,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
