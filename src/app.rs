//! The application: built in start-up order, run until the shutdown token fires, then
//! stopped in reverse order.
//!
//! config → data dir → secrets → database + migrations → NATS (managed child or
//! `nats.url`) + streams → outbox relay → accounts → tournaments (replayed, one actor
//! each) → WebSocket hub → health monitor → HTTP. `READY=1` once healthy.

use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::IntoFuture;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::accounts::{AccountError, Accounts};
use crate::auth::keys;
use crate::bus::{self, BusError, NatsTarget, Subjects, relay};
use crate::config::Config;
use crate::health::{self, HealthChecker};
use crate::http::{self, AppState, ws::Hub};
use crate::store::{Store, StoreError, embedded_migrations};
use crate::supervisor::nats_server::{self, ManagedNats, NatsServerError};
use crate::supervisor::systemd;
use crate::tournaments::{SystemClock, TournamentError, Tournaments, WallClock};

/// How long HTTP connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(4);
/// How long start-up waits for the first healthy report before giving up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    NatsServer(#[from] NatsServerError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the WebSocket hub: {0}")]
    Hub(#[from] async_nats::SubscribeError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error("cannot load operators: {0}")]
    Accounts(#[from] AccountError),
    #[error("cannot load tournaments: {0}")]
    Tournaments(#[from] TournamentError),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("leaf did not become healthy within {0:?}; last report: {1}")]
    NeverHealthy(Duration, String),
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Store,
    nats: async_nats::Client,
    managed: Option<ManagedNats>,
    hub_task: tokio::task::JoinHandle<()>,
    relay_task: tokio::task::JoinHandle<()>,
    tournaments: Arc<Tournaments>,
    workers: CancellationToken,
    shutdown: CancellationToken,
}

/// Creates the data directory, owner-only.
pub fn prepare_data_dir(path: &Path) -> Result<(), StartError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| StartError::DataDir {
            path: path.display().to_string(),
            source,
        })
}

impl Application {
    pub async fn build(config: Config, shutdown: CancellationToken) -> Result<Self, StartError> {
        let started = Instant::now();
        systemd::status("preparing the data directory");
        prepare_data_dir(&config.data)?;

        systemd::status("checking secrets");
        if keys::provision(&config.data)? == keys::Provisioned::Created {
            tracing::info!("first start: signing key created");
        }
        let key = keys::load(&config.data)?;

        systemd::status("opening the database");
        let store = Store::open(&config.data.join("leaf.db"), &embedded_migrations()).await?;
        tracing::info!(version = store.schema_version().await?, "database ready");

        systemd::status("starting NATS");
        let (target, mut managed) = match &config.nats.url {
            Some(url) => (
                NatsTarget {
                    url: url.clone(),
                    token: None,
                },
                None,
            ),
            None => {
                let binary = nats_server::locate(config.nats.server.as_deref())?;
                tracing::info!(binary = %binary.display(), "starting managed nats-server");
                let managed = ManagedNats::start(binary, config.data.join("nats")).await?;
                (managed.target().clone(), Some(managed))
            }
        };
        let connected = async {
            let nats = bus::connect(&target).await?;
            let jetstream = async_nats::jetstream::new(nats.clone());
            let subjects = Subjects::new(config.venue.clone());
            bus::ensure_streams(&jetstream, &subjects).await?;
            Ok::<_, BusError>((nats, jetstream, subjects))
        }
        .await;
        let (nats, jetstream, subjects) = match connected {
            Ok(c) => c,
            Err(e) => {
                if let Some(m) = managed.as_mut() {
                    m.stop().await;
                }
                return Err(e.into());
            }
        };

        // Actors and the relay stop only after HTTP has drained, so no request in
        // flight meets a stopped tournament and the relay's last flush follows the
        // last commit.
        let workers = CancellationToken::new();
        let (relay, relay_task) = relay::spawn(store.clone(), jetstream.clone(), workers.clone());
        let accounts = Accounts::new(
            store.clone(),
            subjects.venue_audit(),
            relay.clone(),
            &key,
            config.auth.session(),
        )
        .await?;

        systemd::status("loading tournaments");
        let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
        let tournaments = Arc::new(
            Tournaments::load(
                store.clone(),
                subjects.clone(),
                relay.clone(),
                nats.clone(),
                clock.clone(),
                workers.clone(),
            )
            .await?,
        );
        tracing::info!(count = tournaments.count(), "tournaments loaded");

        systemd::status("starting the WebSocket hub");
        let hub = Hub::new(subjects);
        // Subscribe before serving, so no early publication is missed.
        let subscription = hub.subscribe_nats(&nats).await?;
        let hub_task = tokio::spawn(hub.clone().run(subscription, shutdown.clone()));

        let checker = HealthChecker {
            store: store.clone(),
            nats: nats.clone(),
            jetstream,
            child: managed.as_ref().map(|m| m.status()),
            hub: hub.clone(),
            tournaments: tournaments.clone(),
            started,
        };
        let health = health::spawn_monitor(checker.clone(), shutdown.clone()).await;

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let state = AppState::new(http::Inner {
            accounts: Arc::new(accounts),
            store: store.clone(),
            public_url: config.public_url(
                listener
                    .local_addr()
                    .map_or(config.listen.port(), |a| a.port()),
            ),
            tournaments: tournaments.clone(),
            clock,
            health,
            hub,
            shutdown: shutdown.clone(),
            http: config.http.clone(),
        });
        Ok(Self {
            listener,
            state,
            store,
            nats,
            managed,
            hub_task,
            relay_task,
            tournaments,
            workers,
            shutdown,
        })
    }

    /// Serves until the shutdown token fires, then stops everything in reverse order.
    pub async fn run_until_stopped(self) -> Result<(), RunError> {
        let Self {
            listener,
            state,
            store,
            nats,
            managed,
            hub_task,
            relay_task,
            tournaments,
            workers,
            shutdown,
        } = self;
        let addr = listener.local_addr().map_err(RunError::Serve)?;
        tracing::info!("listening on http://{addr}");
        let app = http::router(state.clone());
        let mut server = tokio::spawn(
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future(),
        );

        let mut server_done = false;
        let result = match wait_until_healthy(&state, &shutdown).await {
            Ok(()) => {
                systemd::ready();
                systemd::status(&format!("serving on http://{addr}"));
                systemd::spawn_watchdog(state.health.clone(), shutdown.clone());
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => Ok(()),
                    r = &mut server => {
                        server_done = true;
                        Err(RunError::Serve(match r {
                            Ok(Ok(())) => std::io::Error::other("the HTTP server ended"),
                            Ok(Err(e)) => e,
                            Err(e) => std::io::Error::other(e),
                        }))
                    }
                }
            }
            Err(e) => Err(e),
        };

        // Reverse order: stop accepting and drain (WebSockets close on the token), then
        // the tournaments, the relay (a last flush), the hub, NATS, the database, and
        // last the managed server.
        systemd::stopping();
        systemd::status("stopping");
        tracing::info!("shutting down");
        shutdown.cancel();
        if !server_done
            && tokio::time::timeout(DRAIN_TIMEOUT, &mut server)
                .await
                .is_err()
        {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
            server.abort();
        }
        workers.cancel();
        tournaments.stopped().await;
        let _ = relay_task.await; // it makes a last attempt to empty the outbox
        let _ = hub_task.await;
        if let Err(e) = nats.flush().await {
            tracing::warn!(error = %e, "NATS flush at shutdown failed");
        }
        drop(nats);
        drop(state);
        drop(store);
        if let Some(mut managed) = managed {
            managed.stop().await;
        }
        tracing::info!("stopped");
        result
    }
}

/// Waits for the first healthy report (the database answers, NATS and JetStream are up).
async fn wait_until_healthy(
    state: &AppState,
    shutdown: &CancellationToken,
) -> Result<(), RunError> {
    let mut health = state.health.clone();
    let wait = async {
        while !health.borrow_and_update().is_ok() {
            if health.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = tokio::time::timeout(READY_TIMEOUT, wait) => {}
        _ = shutdown.cancelled() => return Ok(()),
    }
    let latest = state.health.borrow().clone();
    if latest.is_ok() {
        Ok(())
    } else {
        Err(RunError::NeverHealthy(
            READY_TIMEOUT,
            serde_json::to_string(&*latest).unwrap_or_default(),
        ))
    }
}
