//! `/api/*`: one file per resource. Every route is registered with its OpenAPI
//! description, so `/api/openapi.json` is generated from the code.

pub mod health;

use axum::Json;
use axum::http::{StatusCode, Uri};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;

#[derive(OpenApi)]
#[openapi(info(
    title = "Leaf",
    description = "The tournament appliance for poker venues."
))]
struct ApiDoc;

/// The API routes, and `/api/openapi.json` describing them.
pub fn routes() -> axum::Router<AppState> {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get))
        .split_for_parts();
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move { Json(document) }),
        )
        .route("/api/{*rest}", axum::routing::any(not_found))
        .route("/api", axum::routing::any(not_found))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("There is no API at {}.", uri.path()),
    )
}
