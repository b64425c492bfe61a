use reqwest::header;
use serde_json::Value;

use crate::helpers::{Options, spawn_app, spawn_with};

async fn json_error(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{body}"
    );
    (status, body)
}

#[tokio::test]
async fn the_spa_serves_index_deep_routes_and_hashed_assets() {
    let app = spawn_app().await;

    let root = app.get("/").await;
    assert_eq!(root.status(), 200);
    assert_eq!(root.headers()[header::CACHE_CONTROL], "no-cache");
    assert!(
        root.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = root.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("'sha256-"),
        "index.html's bootstrap script is hashed: {csp}"
    );
    let index = root.text().await.unwrap();
    assert!(
        index.contains("<!doctype html>"),
        "frontend/build is missing: run make frontend"
    );

    let deep = app.get("/display/some/deep/route").await;
    assert_eq!(deep.status(), 200);
    assert_eq!(
        deep.text().await.unwrap(),
        index,
        "deep routes get index.html"
    );

    let asset = index
        .split('"')
        .find(|s| s.starts_with("/_app/immutable/") && s.ends_with(".js"))
        .expect("index.html links a hashed script");
    let r = app.get(asset).await;
    assert_eq!(r.status(), 200, "{asset}");
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/javascript");
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    let (status, _) = json_error(app.get("/_app/immutable/entry/gone.js").await).await;
    assert_eq!(status, 404, "a missing asset is not the app");
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_json() {
    let app = spawn_app().await;
    for path in ["/api/unknown", "/api", "/api/health/extra"] {
        let (status, body) = json_error(app.get(path).await).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"], "not_found");
    }
    let r = app
        .http
        .delete(format!("{}/api/health", app.url))
        .send()
        .await
        .unwrap();
    let (status, body) = json_error(r).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"], "method_not_allowed");
}

/// Sends a request head declaring a 2 MiB body and as much of the body as the server
/// takes, then reads the answer: the server must refuse without reading it all.
async fn post_2_mib(app: &crate::helpers::TestApp, path: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let len = 2 * 1024 * 1024;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before the body is sent: that is the point.
    let _ = stream.write_all(&vec![b'x'; 64 * 1024]).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body: {answer}")),
    )
}

#[tokio::test]
async fn a_body_over_1_mib_is_refused_with_413() {
    let app = spawn_app().await;
    for path in ["/api/health", "/api/anything", "/"] {
        let (status, body) = post_2_mib(&app, path).await;
        assert_eq!(status, 413, "{path}");
        assert_eq!(body["error"], "payload_too_large", "{path}");
    }
    // A body within the limit gets past the limit (and meets the route's own answer).
    let r = app
        .http
        .post(format!("{}/api/anything", app.url))
        .body(vec![b'x'; 512 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn cross_origin_requests_are_refused_unless_configured() {
    let app = spawn_app().await;
    let with_origin = |app_url: &str, origin: &str| {
        reqwest::Client::new()
            .get(format!("{app_url}/api/health"))
            .header(header::ORIGIN, origin)
            .send()
    };
    let (status, body) =
        json_error(with_origin(&app.url, "http://evil.example").await.unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "cross_origin");
    let same = with_origin(&app.url, &app.url).await.unwrap();
    assert_eq!(same.status(), 200, "same origin passes");

    let configured =
        spawn_with(Options::default().env("LEAF_CORS_ORIGINS", "https://tv.example")).await;
    let r = with_origin(&configured.url, "https://tv.example")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://tv.example"
    );
    let preflight = configured
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/health", configured.url),
        )
        .header(header::ORIGIN, "https://tv.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS)
    );
    let (status, _) = json_error(
        with_origin(&configured.url, "http://evil.example")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "other origins stay refused");

    // A WebSocket handshake from another site is refused too.
    let url = format!("{}/ws", app.url.replacen("http://", "ws://", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("cross-site WebSocket was accepted: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/api/health", "/api/nope"] {
        let r = app.get(path).await;
        let h = r.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let health = &doc["paths"]["/api/health"]["get"];
    assert!(health["responses"]["200"].is_object(), "{doc}");
    assert!(health["responses"]["503"].is_object(), "{doc}");
    assert!(doc["components"]["schemas"]["Health"].is_object(), "{doc}");
}
