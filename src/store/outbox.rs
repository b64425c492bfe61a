//! The outbox: messages for JetStream, written in the same transaction as the change
//! they announce, so nothing acknowledged can be lost on the way to the stream.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub seq: i64,
    pub msg_id: String,
    pub subject: String,
    pub payload: String,
}

/// Queues one message (inside the caller's transaction).
pub async fn enqueue(
    conn: &libsql::Connection,
    msg_id: Uuid,
    subject: &str,
    payload: &str,
) -> Result<(), libsql::Error> {
    conn.execute(
        "INSERT INTO outbox (msg_id, subject, payload) VALUES (?1, ?2, ?3)",
        libsql::params![msg_id.to_string(), subject, payload],
    )
    .await?;
    Ok(())
}

/// The oldest unsent messages, in order.
pub async fn unsent(
    conn: &libsql::Connection,
    limit: i64,
) -> Result<Vec<OutboxMessage>, libsql::Error> {
    let mut rows = conn
        .query(
            "SELECT seq, msg_id, subject, payload FROM outbox \
             WHERE sent_at IS NULL ORDER BY seq LIMIT ?1",
            [limit],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(OutboxMessage {
            seq: row.get(0)?,
            msg_id: row.get(1)?,
            subject: row.get(2)?,
            payload: row.get(3)?,
        });
    }
    Ok(out)
}

pub async fn mark_sent(conn: &libsql::Connection, seq: i64) -> Result<(), libsql::Error> {
    conn.execute(
        "UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE seq = ?1",
        [seq],
    )
    .await?;
    Ok(())
}
