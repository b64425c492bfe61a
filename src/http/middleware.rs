//! Layers every request passes through: the origin guard, the body limit, JSON error
//! bodies, security headers, and a request span that never records the query string.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

pub const BODY_LIMIT: usize = 1024 * 1024;

/// Refuses a request whose `Origin` is neither this server nor a configured origin.
/// Browsers send `Origin` on cross-site requests and on every WebSocket handshake, so
/// another site can neither call the API nor open the live channel from a visitor's
/// browser.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true; // not a browser cross-origin request
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.to_ascii_lowercase();
    if allowed.contains(&origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a == h)
}

pub async fn guard_origin(
    axum::extract::State(allowed): axum::extract::State<std::sync::Arc<Vec<String>>>,
    request: Request,
    next: Next,
) -> Response {
    if origin_allowed(request.headers(), &allowed) {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "Requests from another site are not allowed; add its origin to http.cors_origins.",
        )
        .into_response()
    }
}

/// Refuses a body declared larger than the limit before any handler runs; bodies without
/// a length are cut at the limit by the extractors.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    }
    next.run(request).await
}

/// Errors produced below our handlers (an unknown method, a timeout) come without a
/// body or as plain text; give them the same JSON body as every other error.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let head = request.method() == Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json || is_html || head {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let fresh = ApiError::from_status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, Body::new(body))
}

/// The span of one request: method and path only. Query strings may carry one-time
/// tickets, which must never reach a log.
pub fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn same_origin_and_configured_origins_pass() {
        let none: Vec<String> = vec![];
        assert!(origin_allowed(&headers(None, "leaf.local"), &none));
        assert!(origin_allowed(
            &headers(Some("http://leaf.local"), "leaf.local"),
            &none
        ));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &none
        ));
        let allowed = vec!["https://tv.example".to_string()];
        assert!(origin_allowed(
            &headers(Some("https://tv.example"), "leaf.local"),
            &allowed
        ));
    }

    #[test]
    fn other_origins_are_refused() {
        let none: Vec<String> = vec![];
        for origin in [
            "http://evil.example",
            "null",
            "http://leaf.local.evil.example",
            "http://127.0.0.1:9999",
        ] {
            assert!(
                !origin_allowed(&headers(Some(origin), "127.0.0.1:8080"), &none),
                "{origin}"
            );
        }
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "leaf.local"),
            &["https://tv.example".into()]
        ));
    }
}
