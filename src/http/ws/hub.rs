//! The hub: one NATS subscription to every tournament subject of the venue, fanned out to
//! the WebSocket clients that asked for that tournament. Each client has a bounded
//! queue; a client whose queue is full is disconnected, so a slow phone never delays
//! the others.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::OperatorId;
use crate::bus::{Channel, Subjects};
use crate::ids::TournamentId;

/// Messages waiting for one client before it counts as too slow.
pub const CLIENT_QUEUE: usize = 256;
/// Tournaments one client may follow at once.
pub const MAX_SUBSCRIPTIONS: usize = 64;

pub type ClientId = u64;

#[derive(Clone)]
pub struct Hub(Arc<Inner>);

struct Inner {
    subjects: Subjects,
    next_id: AtomicU64,
    dropped_slow: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    clients: HashMap<ClientId, Client>,
    by_tournament: HashMap<TournamentId, HashSet<ClientId>>,
}

struct Client {
    queue: mpsc::Sender<Utf8Bytes>,
    /// Opened with a staff ticket (by this operator): also receives staff-only channels.
    staff: Option<OperatorId>,
    /// Cancelled to disconnect the client.
    connection: CancellationToken,
    tournaments: HashSet<TournamentId>,
}

/// A registered client: its id and the receiving end of its queue.
pub struct Registration {
    pub id: ClientId,
    pub queue: mpsc::Receiver<Utf8Bytes>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubscribeError {
    #[error("a connection may follow at most {MAX_SUBSCRIPTIONS} tournaments")]
    TooMany,
    #[error("the connection is closed")]
    Gone,
}

#[derive(Serialize)]
struct Publication<'a, T: Serialize + ?Sized> {
    r#type: &'static str,
    tournament: TournamentId,
    channel: Channel,
    data: &'a T,
}

impl Hub {
    pub fn new(subjects: Subjects) -> Self {
        Self(Arc::new(Inner {
            subjects,
            next_id: AtomicU64::new(1),
            dropped_slow: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(
        &self,
        connection: CancellationToken,
        staff: Option<OperatorId>,
    ) -> Registration {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        self.state().clients.insert(
            id,
            Client {
                queue: tx,
                staff,
                connection,
                tournaments: HashSet::new(),
            },
        );
        Registration { id, queue: rx }
    }

    pub fn unregister(&self, id: ClientId) {
        let mut state = self.state();
        state.remove(id);
    }

    /// Follows `tournament`; `Ok(true)` when the client did not follow it yet.
    pub fn subscribe(
        &self,
        id: ClientId,
        tournament: TournamentId,
    ) -> Result<bool, SubscribeError> {
        let mut state = self.state();
        let client = state.clients.get_mut(&id).ok_or(SubscribeError::Gone)?;
        if client.tournaments.contains(&tournament) {
            return Ok(false);
        }
        if client.tournaments.len() >= MAX_SUBSCRIPTIONS {
            return Err(SubscribeError::TooMany);
        }
        client.tournaments.insert(tournament);
        state
            .by_tournament
            .entry(tournament)
            .or_default()
            .insert(id);
        Ok(true)
    }

    pub fn unsubscribe(&self, id: ClientId, tournament: TournamentId) {
        let mut state = self.state();
        if let Some(client) = state.clients.get_mut(&id) {
            client.tournaments.remove(&tournament);
        }
        state.unlink(id, tournament);
    }

    /// Queues a message for one client; a full queue disconnects it.
    pub fn send_to(&self, id: ClientId, text: Utf8Bytes) {
        let mut state = self.state();
        if let Some(client) = state.clients.get(&id)
            && client.queue.try_send(text).is_err()
        {
            self.drop_slow(&mut state, id);
        }
    }

    /// Closes the staff connections of `operator` (their access just changed: they
    /// reconnect with a new ticket, or publicly).
    pub fn disconnect_operator(&self, operator: OperatorId) {
        let mut state = self.state();
        let ids: Vec<ClientId> = state
            .clients
            .iter()
            .filter(|(_, c)| c.staff == Some(operator))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(client) = state.remove(id) {
                client.connection.cancel();
            }
        }
    }

    pub fn client_count(&self) -> usize {
        self.state().clients.len()
    }

    /// How many clients were disconnected for being too slow since start.
    pub fn dropped_slow(&self) -> u64 {
        self.0.dropped_slow.load(Ordering::Relaxed)
    }

    /// Queues one message for every client following `tournament` that may see
    /// `channel` (staff-only channels reach staff connections only).
    pub fn publish(&self, tournament: TournamentId, channel: Channel, text: Utf8Bytes) {
        let mut state = self.state();
        let Some(ids) = state.by_tournament.get(&tournament) else {
            return;
        };
        let slow: Vec<ClientId> = ids
            .iter()
            .filter(|id| {
                let client = &state.clients[id];
                (channel.is_public() || client.staff.is_some())
                    && client.queue.try_send(text.clone()).is_err()
            })
            .copied()
            .collect();
        for id in slow {
            self.drop_slow(&mut state, id);
        }
    }

    fn drop_slow(&self, state: &mut State, id: ClientId) {
        if let Some(client) = state.remove(id) {
            client.connection.cancel();
            self.0.dropped_slow.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(client = id, "WebSocket client too slow: disconnected");
        }
    }

    /// The publication frame clients receive: a NATS message's JSON, or the snapshot
    /// sent on subscribe.
    pub fn publication(
        tournament: TournamentId,
        channel: Channel,
        data: &(impl Serialize + ?Sized),
    ) -> Utf8Bytes {
        serde_json::to_string(&Publication {
            r#type: "publication",
            tournament,
            channel,
            data,
        })
        .expect("serialises")
        .into()
    }

    /// Turns a NATS message into the JSON sent to clients, if it is for them at all.
    fn frame(&self, message: &async_nats::Message) -> Option<(TournamentId, Channel, Utf8Bytes)> {
        let (tournament, channel) = self.0.subjects.parse(message.subject.as_str())?;
        let data: &serde_json::value::RawValue = match serde_json::from_slice(&message.payload) {
            Ok(data) => data,
            Err(e) => {
                tracing::warn!(subject = %message.subject, error = %e, "dropping a non-JSON publication");
                return None;
            }
        };
        Some((
            tournament,
            channel,
            Self::publication(tournament, channel, data),
        ))
    }

    /// Subscribes to every tournament subject of the venue. async-nats renews the
    /// subscription by itself after a reconnect.
    pub async fn subscribe_nats(
        &self,
        nats: &async_nats::Client,
    ) -> Result<async_nats::Subscriber, async_nats::SubscribeError> {
        nats.subscribe(self.0.subjects.any_tournament_channel())
            .await
    }

    /// Fans out until shutdown.
    pub async fn run(self, mut subscription: async_nats::Subscriber, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                message = subscription.next() => match message {
                    Some(message) => {
                        if let Some((tournament, channel, text)) = self.frame(&message) {
                            self.publish(tournament, channel, text);
                        }
                    }
                    None => break,
                },
            }
        }
        let _ = subscription.unsubscribe().await;
    }
}

impl State {
    fn remove(&mut self, id: ClientId) -> Option<Client> {
        let client = self.clients.remove(&id)?;
        for t in &client.tournaments {
            self.unlink(id, *t);
        }
        Some(client)
    }

    fn unlink(&mut self, id: ClientId, tournament: TournamentId) {
        if let Some(ids) = self.by_tournament.get_mut(&tournament) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_tournament.remove(&tournament);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Hub {
        Hub::new(Subjects::new("main".parse().unwrap()))
    }

    #[test]
    fn publications_reach_only_subscribers_of_that_tournament() {
        let hub = hub();
        let (a, b) = (TournamentId::new(), TournamentId::new());
        let mut one = hub.register(CancellationToken::new(), None);
        let mut two = hub.register(CancellationToken::new(), None);
        assert!(hub.subscribe(one.id, a).unwrap());
        assert!(!hub.subscribe(one.id, a).unwrap(), "once");
        hub.subscribe(two.id, b).unwrap();
        hub.publish(a, Channel::State, "for a".into());
        assert_eq!(one.queue.try_recv().unwrap().as_str(), "for a");
        assert!(two.queue.try_recv().is_err());
        hub.unsubscribe(one.id, a);
        hub.publish(a, Channel::State, "again".into());
        assert!(one.queue.try_recv().is_err());
    }

    #[test]
    fn staff_channels_reach_staff_connections_only() {
        let hub = hub();
        let t = TournamentId::new();
        let mut public = hub.register(CancellationToken::new(), None);
        let mut staff = hub.register(CancellationToken::new(), Some(OperatorId::new()));
        hub.subscribe(public.id, t).unwrap();
        hub.subscribe(staff.id, t).unwrap();
        hub.publish(t, Channel::Audit, "audit".into());
        hub.publish(t, Channel::State, "state".into());
        assert_eq!(public.queue.try_recv().unwrap().as_str(), "state");
        assert_eq!(staff.queue.try_recv().unwrap().as_str(), "audit");
        assert_eq!(staff.queue.try_recv().unwrap().as_str(), "state");
    }

    #[test]
    fn a_full_queue_disconnects_only_that_client() {
        let hub = hub();
        let t = TournamentId::new();
        let slow_conn = CancellationToken::new();
        let slow = hub.register(slow_conn.clone(), None);
        let mut fast = hub.register(CancellationToken::new(), None);
        hub.subscribe(slow.id, t).unwrap();
        hub.subscribe(fast.id, t).unwrap();
        for i in 0..=CLIENT_QUEUE {
            hub.publish(t, Channel::State, i.to_string().into());
            assert_eq!(fast.queue.try_recv().unwrap().as_str(), i.to_string());
        }
        assert!(slow_conn.is_cancelled());
        assert_eq!(hub.client_count(), 1);
        assert_eq!(hub.dropped_slow(), 1);
        assert_eq!(hub.subscribe(slow.id, t), Err(SubscribeError::Gone));
    }

    #[test]
    fn subscriptions_are_bounded() {
        let hub = hub();
        let c = hub.register(CancellationToken::new(), None);
        for _ in 0..MAX_SUBSCRIPTIONS {
            hub.subscribe(c.id, TournamentId::new()).unwrap();
        }
        assert_eq!(
            hub.subscribe(c.id, TournamentId::new()),
            Err(SubscribeError::TooMany)
        );
    }

    #[test]
    fn json_publications_are_framed_with_their_channel() {
        let hub = hub();
        let subjects = Subjects::new("main".parse().unwrap());
        let t = TournamentId::new();
        let msg = |subject: String, payload: &'static str| async_nats::Message {
            subject: subject.into(),
            reply: None,
            payload: payload.into(),
            headers: None,
            status: None,
            description: None,
            length: payload.len(),
        };
        let (id, channel, text) = hub
            .frame(&msg(
                subjects.tournament(t, Channel::State),
                r#"{"level":3}"#,
            ))
            .unwrap();
        assert_eq!((id, channel), (t, Channel::State));
        let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(v["type"], "publication");
        assert_eq!(v["channel"], "state");
        assert_eq!(v["tournament"], t.to_string());
        assert_eq!(v["data"]["level"], 3);
        let (_, channel, _) = hub
            .frame(&msg(subjects.tournament(t, Channel::Audit), "{}"))
            .unwrap();
        assert_eq!(channel, Channel::Audit);
        assert!(
            hub.frame(&msg(subjects.tournament(t, Channel::State), "not json"))
                .is_none()
        );
    }
}
