//! The outbox relay: publishes outbox rows to JetStream in order, with
//! `Nats-Msg-Id` = the row's id (the server drops duplicates), waits for each ack, then
//! marks the row sent. After a crash it resumes from the first unsent row.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{Store, outbox};

const BATCH: i64 = 100;
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
const IDLE_POLL: Duration = Duration::from_secs(5);
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// At shutdown, how long the relay keeps trying to empty the outbox.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// Wakes the relay when a transaction queued something.
#[derive(Clone, Default)]
pub struct RelayHandle(Arc<Notify>);

impl RelayHandle {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

pub fn spawn(
    store: Store,
    js: jetstream::Context,
    shutdown: CancellationToken,
) -> (RelayHandle, tokio::task::JoinHandle<()>) {
    let handle = RelayHandle::default();
    let wake = handle.0.clone();
    let task = tokio::spawn(async move {
        loop {
            let progress = publish_pending(&store, &js).await;
            let pause = match progress {
                Ok(sent) if sent as i64 == BATCH => continue, // more waiting
                Ok(_) => IDLE_POLL,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay: will retry");
                    RETRY_AFTER
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        match tokio::time::timeout(FINAL_FLUSH, publish_pending(&store, &js)).await {
            Ok(Ok(_)) => {}
            _ => tracing::warn!("outbox not empty at shutdown; it is sent at next start"),
        }
    });
    (handle, task)
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox read/write failed: {0}")]
    Store(#[from] libsql::Error),
    #[error("publish failed: {0}")]
    Publish(String),
}

/// Publishes up to one batch; returns how many were sent.
pub async fn publish_pending(store: &Store, js: &jetstream::Context) -> Result<usize, RelayError> {
    let pending = outbox::unsent(&*store.conn().await, BATCH).await?;
    for message in &pending {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", message.msg_id.as_str());
        let ack = tokio::time::timeout(ACK_TIMEOUT, async {
            js.publish_with_headers(
                message.subject.clone(),
                headers,
                message.payload.clone().into(),
            )
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| RelayError::Publish(format!("no ack within {ACK_TIMEOUT:?}")))?
        .map_err(RelayError::Publish)?;
        tracing::debug!(
            seq = message.seq,
            stream_seq = ack.sequence,
            duplicate = ack.duplicate,
            "published"
        );
        crate::fault::point("relay-after-ack");
        outbox::mark_sent(&*store.conn().await, message.seq).await?;
    }
    Ok(pending.len())
}
