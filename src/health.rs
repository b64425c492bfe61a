//! The health of the box: database, NATS and JetStream, WebSocket clients. Checked on
//! demand for `GET /api/health`, and every second by a monitor whose latest report feeds
//! the systemd watchdog and the live health pushed to WebSocket clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::bus::{self, StreamCount};
use crate::http::ws::Hub;
use crate::store::Store;
use crate::supervisor::nats_server::ChildStatus;
use crate::tournaments::Tournaments;

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
const MONITOR_INTERVAL: Duration = Duration::from_secs(1);
/// An actor that has not gone round its loop for this long is stuck.
const ACTOR_SILENCE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Degraded,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when every subsystem is up.
    pub status: Status,
    pub version: String,
    pub uptime_secs: u64,
    pub database: DatabaseHealth,
    pub nats: NatsHealth,
    pub websocket: WebSocketHealth,
    pub tournaments: TournamentsHealth,
    #[serde(skip)]
    checked_at: Instant,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatabaseHealth {
    pub ok: bool,
    /// Round trip of `SELECT 1`.
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NatsHealth {
    pub ok: bool,
    pub connected: bool,
    /// Leaf runs the server itself (no `nats.url` configured).
    pub managed: bool,
    /// How often leaf restarted its managed server since it started.
    pub restarts: u64,
    /// JetStream answered.
    pub jetstream: bool,
    pub streams: Vec<StreamCount>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebSocketHealth {
    pub clients: usize,
    /// Clients disconnected for being too slow since start.
    pub dropped_slow: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TournamentsHealth {
    /// Every tournament's actor answered.
    pub ok: bool,
    pub count: usize,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// How long ago this report was made.
    pub fn age(&self) -> Duration {
        self.checked_at.elapsed()
    }
}

#[derive(Clone)]
pub struct HealthChecker {
    pub store: Store,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub child: Option<Arc<ChildStatus>>,
    pub hub: Hub,
    pub tournaments: Arc<Tournaments>,
    pub started: Instant,
}

impl HealthChecker {
    pub async fn check(&self) -> Health {
        let (database, nats) = tokio::join!(self.check_database(), self.check_nats());
        let actors_ok = self.tournaments.alive(ACTOR_SILENCE);
        let ok = database.ok && nats.ok && actors_ok;
        Health {
            status: if ok { Status::Ok } else { Status::Degraded },
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.started.elapsed().as_secs(),
            database,
            nats,
            websocket: WebSocketHealth {
                clients: self.hub.client_count(),
                dropped_slow: self.hub.dropped_slow(),
            },
            tournaments: TournamentsHealth {
                ok: actors_ok,
                count: self.tournaments.count(),
            },
            checked_at: Instant::now(),
        }
    }

    async fn check_database(&self) -> DatabaseHealth {
        let result = tokio::time::timeout(CHECK_TIMEOUT, self.store.ping()).await;
        match result {
            Ok(Ok(latency)) => DatabaseHealth {
                ok: true,
                latency_ms: Some((latency.as_secs_f64() * 1e6).round() / 1e3),
                error: None,
            },
            Ok(Err(e)) => DatabaseHealth {
                ok: false,
                latency_ms: None,
                error: Some(e.to_string()),
            },
            Err(_) => DatabaseHealth {
                ok: false,
                latency_ms: None,
                error: Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            },
        }
    }

    async fn check_nats(&self) -> NatsHealth {
        let connected = self.nats.connection_state() == async_nats::connection::State::Connected;
        let (jetstream, streams, error) = if !connected {
            (false, Vec::new(), Some("not connected".to_owned()))
        } else {
            match bus::stream_counts(&self.jetstream, CHECK_TIMEOUT).await {
                Ok(streams) => (true, streams, None),
                Err(e) => (false, Vec::new(), Some(e.to_string())),
            }
        };
        NatsHealth {
            ok: connected && jetstream,
            connected,
            managed: self.child.is_some(),
            restarts: self.child.as_ref().map_or(0, |c| c.restarts()),
            jetstream,
            streams,
            error,
        }
    }
}

/// Checks every second and publishes the latest report.
pub async fn spawn_monitor(
    checker: HealthChecker,
    shutdown: CancellationToken,
) -> watch::Receiver<Arc<Health>> {
    let first = checker.check().await;
    let (tx, rx) = watch::channel(Arc::new(first));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(MONITOR_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let health = checker.check().await;
            let was_ok = tx.borrow().is_ok();
            match (was_ok, health.is_ok()) {
                (true, false) => tracing::warn!(
                    database = ?health.database.error,
                    nats = ?health.nats.error,
                    "health degraded"
                ),
                (false, true) => tracing::info!("health back to ok"),
                _ => {}
            }
            tx.send_replace(Arc::new(health));
        }
    });
    rx
}
