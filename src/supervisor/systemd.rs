//! Talking to systemd: `READY=1`, `STATUS=`, `STOPPING=1`, and the watchdog, which pings
//! only while leaf is healthy so that systemd restarts a wedged process.
//! Without `NOTIFY_SOCKET` (not under systemd) every call here does nothing.

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

fn notify(state: NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

pub fn status(text: &str) {
    notify(NotifyState::Status(text));
}

pub fn ready() {
    notify(NotifyState::Ready);
}

pub fn stopping() {
    notify(NotifyState::Stopping);
}

/// When systemd asked for a watchdog (`WATCHDOG_USEC`), pings at half the interval while
/// the latest health report is good and recent. A report older than the interval means
/// the health monitor itself is stuck: no ping either.
pub fn spawn_watchdog(health: watch::Receiver<Arc<Health>>, shutdown: CancellationToken) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    tracing::info!(?interval, "systemd watchdog enabled");
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let latest = health.borrow().clone();
            if latest.is_ok() && latest.age() < interval.max(Duration::from_secs(2)) {
                notify(NotifyState::Watchdog);
            } else {
                tracing::warn!("unhealthy: not pinging the systemd watchdog");
            }
        }
    });
}
