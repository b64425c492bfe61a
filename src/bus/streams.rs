//! The JetStream streams, created or updated idempotently at start.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use super::{BusError, Channel, Subjects};

pub const AUDIT: &str = "AUDIT";
pub const STATE: &str = "STATE";
const TIMEOUT: Duration = Duration::from_secs(5);

fn audit_config(subjects: &Subjects) -> stream::Config {
    stream::Config {
        name: AUDIT.into(),
        description: Some("Every event of every tournament, and venue-level events".into()),
        subjects: vec![
            subjects.all_tournaments(Channel::Audit),
            subjects.venue_audit(),
        ],
        storage: stream::StorageType::File,
        // libSQL is the system of record; the stream keeps a generous window of it for
        // the venue group's hub and for tools.
        max_age: Duration::from_secs(400 * 24 * 3600),
        max_bytes: 2 * 1024 * 1024 * 1024,
        discard: stream::DiscardPolicy::Old,
        // The relay re-publishes what it had not marked sent before a crash or power
        // cut; the server drops it as a duplicate within this window.
        duplicate_window: Duration::from_secs(24 * 3600),
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    }
}

fn state_config(subjects: &Subjects) -> stream::Config {
    stream::Config {
        name: STATE.into(),
        description: Some("The latest public snapshot of each tournament".into()),
        subjects: vec![subjects.all_tournaments(Channel::State)],
        storage: stream::StorageType::File,
        max_messages_per_subject: 1,
        discard: stream::DiscardPolicy::Old,
        allow_direct: true,
        ..Default::default()
    }
}

/// Creates `AUDIT` and `STATE`, or brings their configuration up to date.
pub async fn ensure_streams(js: &jetstream::Context, subjects: &Subjects) -> Result<(), BusError> {
    for (name, config) in [
        (AUDIT, audit_config(subjects)),
        (STATE, state_config(subjects)),
    ] {
        tokio::time::timeout(TIMEOUT, js.create_or_update_stream(config))
            .await
            .map_err(|_| BusError::Timeout(TIMEOUT))?
            .map_err(|e| BusError::Stream {
                stream: name,
                message: e.to_string(),
            })?;
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StreamCount {
    pub name: String,
    pub messages: u64,
}

/// Message counts of our streams: a JetStream round trip, within `timeout`.
pub async fn stream_counts(
    js: &jetstream::Context,
    timeout: Duration,
) -> Result<Vec<StreamCount>, BusError> {
    let mut out = Vec::new();
    for name in [AUDIT, STATE] {
        let info = tokio::time::timeout(timeout, async {
            js.get_stream_no_info(name)
                .await?
                .get_info()
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
        })
        .await
        .map_err(|_| BusError::Timeout(timeout))?
        .map_err(|e| BusError::Stream {
            stream: name,
            message: e.to_string(),
        })?;
        out.push(StreamCount {
            name: name.into(),
            messages: info.state.messages,
        });
    }
    Ok(out)
}
