//! NATS: the connection, the JetStream streams and the subjects they carry.

pub mod relay;
mod streams;
mod subjects;

use std::time::Duration;

pub use streams::{StreamCount, ensure_streams, stream_counts};
pub use subjects::{Channel, Subjects};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("JetStream stream {stream}: {message}")]
    Stream {
        stream: &'static str,
        message: String,
    },
    #[error("JetStream did not answer within {0:?}")]
    Timeout(Duration),
}

/// How to reach the NATS server.
#[derive(Clone)]
pub struct NatsTarget {
    pub url: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for NatsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never print it.
        f.debug_struct("NatsTarget")
            .field("url", &self.url)
            .finish()
    }
}

/// Connects with unlimited reconnects, retrying quickly (at most one second apart) so
/// that a restarted server is found again at once.
pub async fn connect(target: &NatsTarget) -> Result<async_nats::Client, BusError> {
    let mut options = async_nats::ConnectOptions::new()
        .name("leaf")
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(2))
        .ping_interval(Duration::from_secs(10))
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * attempts as u64).min(1000))
        })
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("NATS connected"),
                async_nats::Event::Disconnected => tracing::warn!("NATS disconnected"),
                other => tracing::info!(event = %other, "NATS event"),
            }
        });
    if let Some(token) = &target.token {
        options = options.token(token.clone());
    }
    options
        .connect(target.url.as_str())
        .await
        .map_err(|source| BusError::Connect {
            url: target.url.clone(),
            source,
        })
}
