//! Venue-level events (operators, setup, lockouts): appended to `venue_events` and queued
//! in the outbox for the `AUDIT` stream, in the caller's transaction.

use serde::Serialize;
use uuid::Uuid;

use super::outbox;
use crate::auth::OperatorId;

/// What goes on the stream.
#[derive(Serialize)]
struct Envelope<'a> {
    id: Uuid,
    kind: &'a str,
    actor: Option<OperatorId>,
    at: String,
    data: &'a serde_json::Value,
}

pub async fn append(
    conn: &libsql::Connection,
    subject: &str,
    kind: &str,
    actor: Option<OperatorId>,
    data: serde_json::Value,
) -> Result<(), libsql::Error> {
    let id = Uuid::new_v4();
    let payload = data.to_string();
    // SQLite stamps the time; the stream carries the same stamp.
    let mut rows = conn
        .query(
            "INSERT INTO venue_events (id, kind, payload, actor) VALUES (?1, ?2, ?3, ?4) \
             RETURNING at",
            libsql::params![id.to_string(), kind, payload, actor.map(|a| a.to_string())],
        )
        .await?;
    let at: String = rows
        .next()
        .await?
        .expect("RETURNING gives the row")
        .get(0)?;
    drop(rows); // a live statement would make the commit fail
    let envelope = serde_json::to_string(&Envelope {
        id,
        kind,
        actor,
        at,
        data: &data,
    })
    .expect("events serialise");
    outbox::enqueue(conn, id, subject, &envelope).await
}
