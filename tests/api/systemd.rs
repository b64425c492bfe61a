use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::helpers::{Options, spawn_with};

/// A socket that plays systemd's part: it receives what leaf notifies.
struct Notify {
    socket: UnixDatagram,
    _dir: tempfile::TempDir,
    path: String,
}

impl Notify {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Self {
            socket,
            path: path.to_str().unwrap().into(),
            _dir: dir,
        }
    }

    /// Everything received within `window`.
    fn collect(&self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                out.extend(
                    String::from_utf8_lossy(&buf[..n])
                        .lines()
                        .map(str::to_owned),
                );
            }
        }
        out
    }

    fn wait_for(&self, line: &str, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            seen.extend(self.collect(Duration::from_millis(100)));
            if seen.iter().any(|l| l == line) {
                return seen;
            }
        }
        panic!("{line} not received within {within:?}; got {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_after_health_and_watchdog_pings_only_while_healthy() {
    let notify = Notify::new();
    let app = spawn_with(
        Options::default()
            .env("NOTIFY_SOCKET", &notify.path)
            .env("WATCHDOG_USEC", "1000000"),
    )
    .await;

    let before_ready = notify.wait_for("READY=1", Duration::from_secs(10));
    assert!(
        before_ready.iter().any(|l| l.starts_with("STATUS=")),
        "status lines during start-up: {before_ready:?}"
    );
    assert_eq!(app.health().await.0, 200, "READY=1 means healthy");
    notify.wait_for("WATCHDOG=1", Duration::from_secs(2));

    // Freeze NATS: JetStream stops answering, health degrades, the pings stop.
    let nats = app.nats_pid().unwrap();
    kill(Pid::from_raw(nats as i32), Signal::SIGSTOP).unwrap();
    app.wait_for_health(503, Duration::from_secs(10)).await;
    notify.collect(Duration::from_millis(600)); // what was already in flight
    let while_down = notify.collect(Duration::from_millis(2500));
    kill(Pid::from_raw(nats as i32), Signal::SIGCONT).unwrap();
    assert!(
        !while_down.iter().any(|l| l == "WATCHDOG=1"),
        "no watchdog ping while unhealthy: {while_down:?}"
    );

    app.wait_for_health(200, Duration::from_secs(20)).await;
    notify.wait_for("WATCHDOG=1", Duration::from_secs(5));

    app.signal(Signal::SIGTERM);
    notify.wait_for("STOPPING=1", Duration::from_secs(5));
}
