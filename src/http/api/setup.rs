//! First-boot setup: the kiosk shows the code, a phone creates the first admin.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::Session;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;

#[derive(Serialize, ToSchema)]
pub struct SetupStatus {
    /// No admin exists yet.
    pub needed: bool,
    /// The one-time code; only for the kiosk (a client on the loopback address).
    pub code: Option<String>,
    /// Where a phone completes setup (the code follows in the URL fragment, which
    /// browsers never send to a server).
    pub setup_url: String,
    /// A QR code (SVG) of the setup URL with the code; only for the kiosk.
    pub qr_svg: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub code: String,
    pub name: String,
    /// 6 to 8 digits.
    pub pin: String,
}

/// Whether setup is needed; the code and its QR only for the kiosk.
#[utoipa::path(get, path = "/api/setup", tag = "access",
    extensions(("x-min-role" = json!("public"))),
    responses((status = 200, body = SetupStatus)))]
pub async fn status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> AppJson<SetupStatus> {
    AppJson(SetupStatus::new(
        state.accounts.setup_code(),
        peer.ip(),
        &state.public_url,
    ))
}

impl SetupStatus {
    /// What `peer` may see: the code and its QR only on the kiosk, the box itself.
    fn new(code: Option<String>, peer: IpAddr, public_url: &str) -> Self {
        let needed = code.is_some();
        let setup_url = format!("{public_url}/setup");
        // An IPv4 kiosk on a dual-stack socket shows up as ::ffff:127.0.0.1.
        let kiosk = peer.to_canonical().is_loopback();
        let code = code.filter(|_| kiosk);
        let qr_svg = code.as_ref().and_then(|code| {
            let url = format!("{setup_url}#code={code}");
            qrcode::QrCode::new(url.as_bytes()).ok().map(|qr| {
                qr.render::<qrcode::render::svg::Color>()
                    .min_dimensions(240, 240)
                    .quiet_zone(true)
                    .build()
            })
        });
        Self {
            needed,
            code,
            setup_url,
            qr_svg,
        }
    }
}

/// Creates the first admin with the setup code.
#[utoipa::path(post, path = "/api/setup", tag = "access",
    extensions(("x-min-role" = json!("public"))),
    request_body = SetupRequest,
    responses(
        (status = 201, body = Session),
        (status = 401, description = "Wrong code", body = ErrorBody),
        (status = 409, description = "An admin exists already", body = ErrorBody),
        (status = 422, description = "Bad name or PIN", body = ErrorBody),
        (status = 429, description = "Too many wrong codes", body = ErrorBody),
    ))]
pub async fn complete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppJson(body): AppJson<SetupRequest>,
) -> Result<(StatusCode, AppJson<Session>), ApiError> {
    let session = state
        .accounts
        .complete_setup(&body.code, &body.name, &body.pin, peer.ip())
        .await?;
    Ok((StatusCode::CREATED, AppJson(session)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kiosk_sees_the_code() {
        let code = Some("ABCD-EFGH".to_owned());
        for kiosk in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let s = SetupStatus::new(code.clone(), kiosk.parse().unwrap(), "http://leaf.local");
            assert_eq!(s.code.as_deref(), Some("ABCD-EFGH"), "{kiosk}");
            assert!(s.qr_svg.as_deref().unwrap().contains("<svg"), "{kiosk}");
        }
        for phone in ["192.168.1.20", "10.0.0.7", "fe80::1", "::ffff:192.168.1.20"] {
            let s = SetupStatus::new(code.clone(), phone.parse().unwrap(), "http://leaf.local");
            assert!(s.needed);
            assert_eq!(s.code, None, "{phone}");
            assert_eq!(s.qr_svg, None, "{phone}");
        }
        let done = SetupStatus::new(None, "127.0.0.1".parse().unwrap(), "http://leaf.local");
        assert!(!done.needed && done.code.is_none());
        assert_eq!(done.setup_url, "http://leaf.local/setup");
    }
}
