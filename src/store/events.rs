//! The append-only `events` table and the `tournaments` projection. Appending writes the
//! events, the projection and an outbox row per event (for `AUDIT`) in the caller's
//! transaction.

use uuid::Uuid;

use super::outbox;
use crate::engine::tournament::{Event, EventKind, Tournament};
use crate::ids::TournamentId;

#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
    #[error("stored event {seq} of {tournament} is unreadable: {message}")]
    Corrupt {
        tournament: String,
        seq: i64,
        message: String,
    },
}

fn kind_name(kind: &EventKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Appends `events` (already applied to `state`) and refreshes the projection.
pub async fn append(
    conn: &libsql::Connection,
    audit_subject: &str,
    state: &Tournament,
    events: &[Event],
) -> Result<(), EventStoreError> {
    let id = state.id.to_string();
    if events.first().is_some_and(|e| e.seq == 1) {
        conn.execute(
            "INSERT INTO tournaments (id, name, status, created_at, version) VALUES (?1, ?2, ?3, ?4, ?5)",
            libsql::params![id.clone(), state.setup.name.clone(), status(state), state.created_at, state.version as i64],
        )
        .await?;
    } else {
        conn.execute(
            "UPDATE tournaments SET status = ?2, version = ?3 WHERE id = ?1",
            libsql::params![id.clone(), status(state), state.version as i64],
        )
        .await?;
    }
    for event in events {
        let event_id = Uuid::new_v4();
        let payload = serde_json::to_string(event).expect("events serialise");
        conn.execute(
            "INSERT INTO events (tournament_id, seq, id, kind, payload, actor, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            libsql::params![
                id.clone(),
                event.seq as i64,
                event_id.to_string(),
                kind_name(&event.kind),
                payload.clone(),
                event.actor.map(|a| a.to_string()),
                event.at
            ],
        )
        .await?;
        let envelope = serde_json::json!({"id": event_id, "tournament": state.id, "event": event});
        outbox::enqueue(conn, event_id, audit_subject, &envelope.to_string()).await?;
    }
    Ok(())
}

fn status(state: &Tournament) -> String {
    serde_json::to_value(state.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every tournament's log, in order.
pub async fn load_all(
    conn: &libsql::Connection,
) -> Result<Vec<(TournamentId, Vec<Event>)>, EventStoreError> {
    let mut rows = conn
        .query(
            "SELECT tournament_id, seq, payload FROM events ORDER BY tournament_id, seq",
            (),
        )
        .await?;
    let mut out: Vec<(TournamentId, Vec<Event>)> = Vec::new();
    while let Some(row) = rows.next().await? {
        let tournament: String = row.get(0)?;
        let seq: i64 = row.get(1)?;
        let payload: String = row.get(2)?;
        let corrupt = |message: String| EventStoreError::Corrupt {
            tournament: tournament.clone(),
            seq,
            message,
        };
        let id: TournamentId = tournament
            .parse()
            .map_err(|e: crate::ids::InvalidTournamentId| corrupt(e.to_string()))?;
        let event: Event = serde_json::from_str(&payload).map_err(|e| corrupt(e.to_string()))?;
        match out.last_mut() {
            Some((last, log)) if *last == id => log.push(event),
            _ => out.push((id, vec![event])),
        }
    }
    Ok(out)
}
