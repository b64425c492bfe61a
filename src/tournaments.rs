//! Running tournaments: one actor (task) per tournament serialises its commands, writes
//! its events (with their outbox rows) in one transaction, publishes its public state
//! and ticks the clock to every screen. Tournaments are loaded by replay at start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::auth::{OperatorId, Staff};
use crate::bus::relay::RelayHandle;
use crate::bus::{Channel, Subjects};
use crate::engine::Millis;
use crate::engine::tournament::{
    Command, CommandError, Event, EventKind, PublicState, Setup, Status, Tournament,
};
use crate::fault;
use crate::ids::TournamentId;
use crate::store::{Store, events};

/// The wall clock, injected so that tests and the engine never read the system time.
pub trait WallClock: Send + Sync {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Millis)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TournamentError {
    #[error("no such tournament")]
    NotFound,
    #[error("the tournament changed since you looked (now at version {})", .0.version)]
    Conflict(Box<PublicState>),
    #[error(transparent)]
    Rejected(#[from] CommandError),
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One event as the staff app lists it, for undo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub seq: u64,
    pub at: Millis,
    pub actor: Option<OperatorId>,
    /// The actor's name, for "who did it" in the undo list.
    pub actor_name: Option<String>,
    pub kind: EventKind,
    pub undone: bool,
}

type Reply<T> = oneshot::Sender<Result<T, TournamentError>>;

enum Msg {
    Command {
        command: Command,
        expected_version: Option<u64>,
        actor: OperatorId,
        reply: Reply<PublicState>,
    },
    Log(oneshot::Sender<Vec<Event>>),
}

/// How the rest of leaf reaches one actor. Reads (snapshots, the lobby, health) never
/// queue behind commands: they use the state the actor last published and its
/// heartbeat, so no public request can fill its mailbox.
#[derive(Clone)]
struct Handle {
    inbox: mpsc::Sender<Msg>,
    state: watch::Receiver<Arc<Tournament>>,
    /// When the actor last went round its loop (ms since `Shared::started`).
    alive: Arc<AtomicU64>,
}

struct Shared {
    store: Store,
    subjects: Subjects,
    relay: RelayHandle,
    nats: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    clock: Arc<dyn WallClock>,
    shutdown: CancellationToken,
    started: Instant,
}

pub struct Tournaments {
    shared: Arc<Shared>,
    actors: RwLock<HashMap<TournamentId, Handle>>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

const MAILBOX: usize = 64;
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);

impl Tournaments {
    /// Replays every stored tournament and starts its actor. A tournament whose last
    /// event lies in the future (the box lost its time) comes back paused and flagged.
    pub async fn load(
        store: Store,
        subjects: Subjects,
        relay: RelayHandle,
        nats: async_nats::Client,
        clock: Arc<dyn WallClock>,
        shutdown: CancellationToken,
    ) -> Result<Self, TournamentError> {
        let jetstream = async_nats::jetstream::new(nats.clone());
        let shared = Arc::new(Shared {
            store,
            subjects,
            relay,
            nats,
            jetstream,
            clock,
            shutdown,
            started: Instant::now(),
        });
        let this = Self {
            shared,
            actors: RwLock::default(),
            tasks: std::sync::Mutex::default(),
        };
        let logs = events::load_all(&*this.shared.store.conn().await)
            .await
            .map_err(|e| TournamentError::Internal(e.to_string()))?;
        let now = this.shared.clock.now();
        for (id, mut log) in logs {
            let mut state = Tournament::replay(id, &log)
                .map_err(|e| TournamentError::Internal(format!("{id}: {e}")))?;
            let last_at = log.last().map_or(0, |e| e.at);
            let live = matches!(state.status, Status::Created | Status::Running);
            if now < last_at && live && !state.check_time {
                tracing::warn!(tournament = %id, behind_ms = last_at - now, "the wall clock is behind the last event: clock paused, check the time");
                let event = Event {
                    seq: state.version + 1,
                    at: last_at,
                    actor: None,
                    kind: EventKind::TimeCheckRequired,
                };
                this.shared
                    .commit(&mut state, &mut log, vec![event])
                    .await?;
            }
            this.spawn(state, log);
        }
        Ok(this)
    }

    fn spawn(&self, state: Tournament, log: Vec<Event>) {
        let (inbox, rx) = mpsc::channel(MAILBOX);
        let (published, watched) = watch::channel(Arc::new(state.clone()));
        let alive = Arc::new(AtomicU64::new(self.shared.uptime_ms()));
        let id = state.id;
        let task = tokio::spawn(actor(
            state,
            log,
            rx,
            published,
            alive.clone(),
            self.shared.clone(),
        ));
        let handle = Handle {
            inbox,
            state: watched,
            alive,
        };
        self.actors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, handle);
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    fn actor(&self, id: TournamentId) -> Result<Handle, TournamentError> {
        self.actors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .ok_or(TournamentError::NotFound)
    }

    pub fn count(&self) -> usize {
        self.actors.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub async fn create(
        &self,
        setup: Setup,
        actor: &Staff,
    ) -> Result<PublicState, TournamentError> {
        validate(&setup)?;
        let id = TournamentId::new();
        let event = Event {
            seq: 1,
            at: self.shared.clock.now(),
            actor: Some(actor.id),
            kind: EventKind::Created { setup },
        };
        let log = vec![event];
        let mut state = Tournament::replay(id, &log).expect("a Created event replays");
        let mut stored = Vec::new();
        self.shared.commit(&mut state, &mut stored, log).await?;
        let public = state.public(self.shared.clock.now());
        self.shared.publish_state(&public).await;
        self.spawn(state, stored);
        Ok(public)
    }

    pub async fn command(
        &self,
        id: TournamentId,
        command: Command,
        expected_version: Option<u64>,
        actor: &Staff,
    ) -> Result<PublicState, TournamentError> {
        let (reply, rx) = oneshot::channel();
        self.send(
            id,
            Msg::Command {
                command,
                expected_version,
                actor: actor.id,
                reply,
            },
        )
        .await?;
        rx.await
            .map_err(|_| TournamentError::Internal("the tournament stopped".into()))?
    }

    pub fn snapshot(&self, id: TournamentId) -> Result<PublicState, TournamentError> {
        let state = self.actor(id)?.state.borrow().clone();
        Ok(state.public(self.shared.clock.now()))
    }

    /// Every tournament, archived ones last (the lobby).
    pub fn list(&self) -> Vec<PublicState> {
        let now = self.shared.clock.now();
        let mut out: Vec<PublicState> = self
            .actors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|h| h.state.borrow().public(now))
            .collect();
        out.sort_by_key(|s| (s.status == Status::Archived, s.name.to_lowercase()));
        out
    }

    pub async fn events(&self, id: TournamentId) -> Result<Vec<EventView>, TournamentError> {
        let (tx, rx) = oneshot::channel();
        self.send(id, Msg::Log(tx)).await?;
        let log = rx
            .await
            .map_err(|_| TournamentError::Internal("the tournament stopped".into()))?;
        let undone: Vec<u64> = log
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Undone { seq } => Some(seq),
                _ => None,
            })
            .collect();
        Ok(log
            .into_iter()
            .rev()
            .map(|e| EventView {
                undone: undone.contains(&e.seq),
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                actor_name: None,
                kind: e.kind,
            })
            .collect())
    }

    /// Every actor went round its loop within `within` (for the health check).
    pub fn alive(&self, within: Duration) -> bool {
        let now = self.shared.uptime_ms();
        self.actors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .all(|h| {
                now.saturating_sub(h.alive.load(Ordering::Relaxed)) <= within.as_millis() as u64
            })
    }

    async fn send(&self, id: TournamentId, msg: Msg) -> Result<(), TournamentError> {
        self.actor(id)?
            .inbox
            .send(msg)
            .await
            .map_err(|_| TournamentError::Internal("the tournament stopped".into()))
    }

    /// Waits for every actor to finish (after the shutdown token fired).
    pub async fn stopped(&self) {
        let tasks: Vec<_> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = task.await;
        }
    }
}

fn validate(setup: &Setup) -> Result<(), TournamentError> {
    let invalid = |e: &dyn std::fmt::Display| TournamentError::Invalid(e.to_string());
    let name = setup.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(TournamentError::Invalid(
            "a tournament name is 1 to 80 characters".into(),
        ));
    }
    setup.structure.validate().map_err(|e| invalid(&e))?;
    setup.chip_set.validate().map_err(|e| invalid(&e))?;
    setup.buy_in.validate().map_err(|e| invalid(&e))?;
    if let Some((level, amount)) = setup.structure.first_unpayable(&setup.chip_set.values()) {
        return Err(TournamentError::Invalid(format!(
            "level {}: {amount} cannot be paid with the chips in play",
            level + 1
        )));
    }
    Ok(())
}

impl Shared {
    fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Writes `events` (already numbered) with their outbox rows in one transaction,
    /// then applies them. On any error the state is unchanged.
    async fn commit(
        &self,
        state: &mut Tournament,
        log: &mut Vec<Event>,
        new: Vec<Event>,
    ) -> Result<(), TournamentError> {
        let mut next = state.clone();
        let mut next_log = log.clone();
        for event in &new {
            if event.seq == 1 {
                next = Tournament::replay(state.id, std::slice::from_ref(event))
                    .map_err(|e| TournamentError::Internal(e.to_string()))?;
            } else {
                next.apply(event, &next_log);
            }
            next_log.push(event.clone());
        }
        let audit = self.subjects.tournament(state.id, Channel::Audit);
        {
            let conn = self.store.conn().await;
            let tx = conn.transaction().await.map_err(internal)?;
            events::append(&tx, &audit, &next, &new)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
        }
        fault::point("after-commit");
        *state = next;
        *log = next_log;
        self.relay.wake();
        Ok(())
    }

    /// The latest public snapshot, to `STATE` (a cache: best effort, never blocking).
    async fn publish_state(&self, public: &PublicState) {
        let subject = self.subjects.tournament(public.id, Channel::State);
        let payload = serde_json::to_vec(public).expect("state serialises");
        let sent = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            self.jetstream.publish(subject, payload.into()),
        )
        .await;
        if !matches!(sent, Ok(Ok(_))) {
            tracing::debug!(tournament = %public.id, "state not published (NATS busy or down)");
        }
    }

    async fn publish_tick(&self, state: &Tournament, now: Millis) {
        let position = state.position(now);
        let tick = serde_json::json!({
            "server_time": now,
            "version": state.version,
            "level": position.level,
            "remaining_ms": position.remaining_ms,
            "level_ends_at": state.clock.running.then_some(now + position.remaining_ms),
            "elapsed_ms": position.elapsed_ms,
            "running": state.clock.running,
        });
        let subject = self.subjects.tournament(state.id, Channel::Tick);
        let _ = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            self.nats.publish(subject, tick.to_string().into()),
        )
        .await;
    }
}

fn internal(e: impl std::fmt::Display) -> TournamentError {
    TournamentError::Internal(e.to_string())
}

/// How long until the next tick: on each whole second of the time left, ten times a
/// second in the last ten seconds; none while the clock stands.
fn next_tick(state: &Tournament, now: Millis) -> Option<Duration> {
    if !state.clock.running {
        return None;
    }
    let remaining = state.position(now).remaining_ms;
    let step = if remaining <= 10_000 { 100 } else { 1_000 };
    let wait = match remaining % step {
        0 => step,
        r => r,
    };
    Some(Duration::from_millis(wait as u64))
}

/// How often an idle actor shows it is alive.
const HEARTBEAT: Duration = Duration::from_millis(500);

async fn actor(
    mut state: Tournament,
    mut log: Vec<Event>,
    mut inbox: mpsc::Receiver<Msg>,
    published: watch::Sender<Arc<Tournament>>,
    alive: Arc<AtomicU64>,
    shared: Arc<Shared>,
) {
    let mut level = state.position(shared.clock.now()).level;
    loop {
        alive.store(shared.uptime_ms(), Ordering::Relaxed);
        let tick = next_tick(&state, shared.clock.now());
        let msg = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = tokio::time::sleep(HEARTBEAT) => continue,
            msg = inbox.recv() => match msg {
                Some(msg) => msg,
                None => break,
            },
            _ = tokio::time::sleep(tick.unwrap_or(Duration::MAX)), if tick.is_some() => {
                let now = shared.clock.now();
                shared.publish_tick(&state, now).await;
                let current = state.position(now).level;
                if current != level {
                    level = current;
                    shared.publish_state(&state.public(now)).await;
                }
                continue;
            }
        };
        match msg {
            Msg::Log(reply) => {
                let _ = reply.send(log.clone());
            }
            Msg::Command {
                command,
                expected_version,
                actor,
                reply,
            } => {
                let now = shared.clock.now();
                let result = async {
                    if expected_version.is_some_and(|v| v != state.version) {
                        return Err(TournamentError::Conflict(Box::new(state.public(now))));
                    }
                    let kinds = state.decide(&log, &command, now)?;
                    let new = kinds
                        .into_iter()
                        .enumerate()
                        .map(|(i, kind)| Event {
                            seq: state.version + 1 + i as u64,
                            at: now,
                            actor: Some(actor),
                            kind,
                        })
                        .collect();
                    shared.commit(&mut state, &mut log, new).await?;
                    Ok(state.public(now))
                }
                .await;
                if let Ok(public) = &result {
                    published.send_replace(Arc::new(state.clone()));
                    level = public.clock.level;
                    shared.publish_state(public).await;
                    shared.publish_tick(&state, now).await;
                }
                let _ = reply.send(result);
            }
        }
    }
}
