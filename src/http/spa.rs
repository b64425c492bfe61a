//! The SvelteKit app, embedded at build time from `frontend/build`. Client-side routes
//! fall back to `index.html`; hashed assets are cached for a year, `index.html` never.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::error::ApiError;

#[derive(RustEmbed)]
#[folder = "frontend/build/"]
#[allow_missing = true]
struct Assets;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<title>Leaf</title><body style=\"font-family:system-ui;background:#1e1e2e;color:#cdd6f4;padding:2rem\">\
<h1>Leaf is running, but its front end is not built.</h1>\
<p>Run <code>make run</code> (or <code>make frontend</code> and rebuild leaf). \
The API answers at <a style=\"color:#89b4fa\" href=\"/api/health\">/api/health</a>.</p></body></html>";

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty()
        && let Some(file) = Assets::get(path)
    {
        let cache = if path.starts_with("_app/immutable/") {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
            file.data,
        )
            .into_response();
    }
    // A missing asset is a 404, not the app: a stale page asking for an old chunk must
    // fail visibly instead of receiving HTML as JavaScript.
    if path.starts_with("_app/") {
        return ApiError::from_status(StatusCode::NOT_FOUND).into_response();
    }
    index()
}

fn index() -> Response {
    let Some(file) = Assets::get("index.html") else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    };
    let csp = content_security_policy(&inline_script_hashes(&file.data));
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        file.data,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The policy for every response; `index.html` adds the hashes of its inline scripts
/// (SvelteKit's bootstrap) so that no other inline script can run.
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut scripts = String::from("'self'");
    for hash in script_hashes {
        scripts.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// SHA-256 (base64) of the body of every `<script>` without a `src`.
fn inline_script_hashes(html: &[u8]) -> Vec<String> {
    let html = String::from_utf8_lossy(html);
    let mut hashes = Vec::new();
    let mut rest = html.as_ref();
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..open_end];
        let body_start = open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            let body = &rest[body_start..body_start + close];
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &rest[body_start + close..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = b"<script src=\"/theme.js\"></script><div><script>\n\tboot();\n</script></div>";
        let hashes = inline_script_hashes(html);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"\n\tboot();\n"));
        assert_eq!(hashes, vec![expected.clone()]);
        let csp = content_security_policy(&hashes);
        assert!(csp.contains(&format!("script-src 'self' 'sha256-{expected}'")));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
