//! The HTTP edge: the router, its layers, and the shared state handlers see.

pub mod api;
pub mod auth;
pub mod error;
pub mod json;
pub mod middleware;
pub mod spa;
pub mod ws;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::accounts::Accounts;
use crate::config::HttpConfig;
use crate::health::Health;
use crate::store::Store;
use crate::tournaments::{Tournaments, WallClock};
use ws::Hub;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub accounts: Arc<Accounts>,
    /// How phones reach this box, e.g. `http://leaf.local` (for the setup QR code).
    pub public_url: String,
    pub store: Store,
    pub tournaments: Arc<Tournaments>,
    pub clock: Arc<dyn WallClock>,
    /// The latest report of the health monitor.
    pub health: watch::Receiver<Arc<Health>>,
    pub hub: Hub,
    pub shutdown: CancellationToken,
    pub http: HttpConfig,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// The monitor's latest report, with the WebSocket clients counted now.
    pub fn health_now(&self) -> Health {
        let mut health = Health::clone(&self.health.borrow());
        health.websocket.clients = self.hub.client_count();
        health
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub fn router(state: AppState) -> Router {
    let api = api::routes();
    let allowed = Arc::new(state.http.cors_origins.clone());
    let cors = (!allowed.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(
                allowed.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
            ))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
    });
    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&spa::content_security_policy(&[])).expect("ascii"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));

    Router::new()
        .merge(api)
        .route("/ws", axum::routing::get(ws::upgrade))
        .fallback(spa::serve)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
                .layer(security_headers)
                .layer(axum::middleware::from_fn(middleware::json_errors))
                .layer(axum::middleware::from_fn_with_state(
                    allowed,
                    middleware::guard_origin,
                ))
                .option_layer(cors)
                .layer(axum::middleware::from_fn(middleware::limit_body))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    state.http.request_timeout(),
                ))
                .layer(axum::extract::DefaultBodyLimit::max(middleware::BODY_LIMIT)),
        )
        .with_state(state)
}
