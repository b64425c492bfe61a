//! `/ws`: the live channel. A client follows tournaments (`subscribe`) and the health of
//! the box (`watch_health`); the server pushes publications, health, and pings to keep
//! the connection alive through the venue Wi-Fi.
//!
//! Client → server: `{"type":"subscribe","tournament":"<uuid>"}`,
//! `{"type":"unsubscribe","tournament":"<uuid>"}`, `{"type":"watch_health"}`.
//! Server → client: `hello`, `subscribed`, `unsubscribed`, `error`, `publication`,
//! `health` (see the README).

mod hub;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use hub::{ClientId, Hub, SubscribeError};

use super::AppState;
use super::error::ApiError;
use crate::auth::{Role, Staff};
use crate::bus::Channel;
use crate::health::Health;
use crate::ids::TournamentId;

const PING_EVERY: Duration = Duration::from_secs(15);
/// A client that sent nothing (not even a pong) for this long is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(45);
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Subscribe { tournament: String },
    Unsubscribe { tournament: String },
    WatchHealth,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    Hello {
        version: &'a str,
        server_time: u64,
        /// The staff role this connection carries, if it was opened with a ticket.
        role: Option<Role>,
    },
    Subscribed {
        tournament: TournamentId,
    },
    Unsubscribed {
        tournament: TournamentId,
    },
    Error {
        error: &'a str,
        message: String,
    },
    Health {
        health: &'a Health,
    },
}

impl ServerMessage<'_> {
    fn text(&self) -> Utf8Bytes {
        serde_json::to_string(self)
            .expect("server messages serialise")
            .into()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Deserialize)]
pub struct Params {
    ticket: Option<String>,
}

/// Public; with `?ticket=` (from `POST /api/ws-ticket`) the connection also carries
/// staff-only channels. A bad ticket is refused, not silently downgraded.
pub async fn upgrade(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    ws: WebSocketUpgrade,
) -> Response {
    let staff = match params.ticket.as_deref() {
        None => None,
        Some(ticket) => match state.accounts.redeem_ticket(ticket).await {
            Ok(Some(staff)) => Some(staff),
            Err(e) => return ApiError::from(e).into_response(),
            Ok(None) => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_ticket",
                    "This ticket is unknown, used or expired: ask for a new one.",
                )
                .into_response();
            }
        },
    };
    ws.max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, state, staff))
}

async fn serve(socket: WebSocket, state: AppState, staff: Option<Staff>) {
    let connection = state.shutdown.child_token();
    let registration = state
        .hub
        .register(connection.clone(), staff.as_ref().map(|s| s.id));
    let id = registration.id;
    let watching_health = Arc::new(AtomicBool::new(false));
    let (sink, stream) = socket.split();

    state.hub.send_to(
        id,
        ServerMessage::Hello {
            version: env!("CARGO_PKG_VERSION"),
            server_time: unix_millis(),
            role: staff.map(|s| s.role),
        }
        .text(),
    );
    let writer = tokio::spawn(write_loop(
        sink,
        registration.queue,
        state.health.clone(),
        watching_health.clone(),
        connection.clone(),
        state.shutdown.clone(),
    ));
    read_loop(stream, &state, id, &watching_health, &connection).await;
    connection.cancel();
    let _ = writer.await;
    state.hub.unregister(id);
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    state: &AppState,
    id: ClientId,
    watching_health: &AtomicBool,
    connection: &CancellationToken,
) {
    loop {
        let next = tokio::select! {
            _ = connection.cancelled() => return,
            next = tokio::time::timeout(IDLE_LIMIT, stream.next()) => next,
        };
        let text = match next {
            Err(_) => {
                tracing::debug!(client = id, "WebSocket client idle: closing");
                return;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue, // pings, pongs: the connection is alive
        };
        let reply = handle(state, id, watching_health, text.as_str());
        if let Some(reply) = reply {
            state.hub.send_to(id, reply);
        }
    }
}

fn handle(
    state: &AppState,
    id: ClientId,
    watching_health: &AtomicBool,
    text: &str,
) -> Option<Utf8Bytes> {
    let error = |error: &str, message: String| Some(ServerMessage::Error { error, message }.text());
    let message = match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) => m,
        Err(e) => {
            return error(
                "invalid_message",
                format!("not a message Leaf understands: {e}"),
            );
        }
    };
    match message {
        ClientMessage::Subscribe { tournament } => {
            let tournament = match tournament.parse::<TournamentId>() {
                Ok(t) => t,
                Err(e) => return error("invalid_tournament_id", e.to_string()),
            };
            match state.hub.subscribe(id, tournament) {
                Ok(new) => {
                    state
                        .hub
                        .send_to(id, ServerMessage::Subscribed { tournament }.text());
                    // The full state at once (once per subscription); changes and
                    // ticks follow from the hub.
                    if new && let Ok(snapshot) = state.tournaments.snapshot(tournament) {
                        state
                            .hub
                            .send_to(id, Hub::publication(tournament, Channel::State, &snapshot));
                    }
                    None
                }
                Err(e @ SubscribeError::TooMany) => error("too_many_subscriptions", e.to_string()),
                Err(SubscribeError::Gone) => None,
            }
        }
        ClientMessage::Unsubscribe { tournament } => match tournament.parse::<TournamentId>() {
            Ok(tournament) => {
                state.hub.unsubscribe(id, tournament);
                Some(ServerMessage::Unsubscribed { tournament }.text())
            }
            Err(e) => error("invalid_tournament_id", e.to_string()),
        },
        ClientMessage::WatchHealth => {
            watching_health.store(true, Ordering::SeqCst);
            let health = state.health_now();
            Some(ServerMessage::Health { health: &health }.text())
        }
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Utf8Bytes>,
    mut health: watch::Receiver<Arc<Health>>,
    watching_health: Arc<AtomicBool>,
    connection: CancellationToken,
    shutdown: CancellationToken,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        let message = tokio::select! {
            _ = connection.cancelled() => break,
            next = queue.recv() => match next {
                Some(text) => Message::Text(text),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
            Ok(()) = health.changed() => {
                let latest = health.borrow_and_update().clone();
                if !watching_health.load(Ordering::SeqCst) {
                    continue;
                }
                Message::Text(ServerMessage::Health { health: &latest }.text())
            }
        };
        // A blocked write must not keep a disconnected (or too slow) client alive.
        tokio::select! {
            _ = connection.cancelled() => break,
            sent = sink.send(message) => if sent.is_err() { break },
        }
    }
    if shutdown.is_cancelled() {
        let close = Message::Close(Some(CloseFrame {
            code: close_code::AWAY,
            reason: "Leaf is shutting down".into(),
        }));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(close)).await;
    }
    connection.cancel();
}
