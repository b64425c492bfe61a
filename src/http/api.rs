//! `/api/*`: one file per resource. Every route is registered with its OpenAPI
//! description, so `/api/openapi.json` is generated from the code.

pub mod health;
pub mod operators;
pub mod session;
pub mod setup;
pub mod templates;
pub mod time;
pub mod tournaments;

use axum::Json;
use axum::http::{StatusCode, Uri};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "Leaf", description = "The tournament appliance for poker venues."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Staff routes take `Authorization: Bearer <token>`; each operation names its minimum
/// role in `x-min-role` (`public`, `viewer`, `floor`, `admin`).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API routes, and `/api/openapi.json` describing them.
pub fn routes() -> axum::Router<AppState> {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get))
        .routes(routes!(setup::status, setup::complete))
        .routes(routes!(session::names))
        .routes(routes!(session::login))
        .routes(routes!(session::me))
        .routes(routes!(session::ws_ticket))
        .routes(routes!(operators::list, operators::create))
        .routes(routes!(operators::update))
        .routes(routes!(operators::unlock))
        .routes(routes!(tournaments::list, tournaments::create))
        .routes(routes!(tournaments::get))
        .routes(routes!(tournaments::command))
        .routes(routes!(tournaments::events))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(
            templates::get,
            templates::update,
            templates::delete
        ))
        .routes(routes!(templates::wizard))
        .routes(routes!(time::get, time::set))
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
