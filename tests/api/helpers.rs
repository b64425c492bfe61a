//! `spawn_app()`: a real leaf process on a free port with a temporary data directory and
//! its own real nats-server, plus helpers to talk to it.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

pub const LEAF: &str = env!("CARGO_BIN_EXE_leaf");
pub const NATS_SERVER: &str = "tools/nats-server/bin/nats-server";
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Default, Clone)]
pub struct Options {
    pub env: Vec<(String, String)>,
    /// Reuse this data directory (a restart); a fresh temporary one otherwise.
    pub data: Option<PathBuf>,
}

impl Options {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn data(mut self, dir: &Path) -> Self {
        self.data = Some(dir.to_owned());
        self
    }
}

pub struct TestApp {
    pub url: String,
    pub data: PathBuf,
    pub child: Child,
    pub logs: Arc<Mutex<String>>,
    pub http: reqwest::Client,
    _tmp: Option<tempfile::TempDir>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

/// The command line for a leaf with these options (not started).
pub fn leaf_command(data: &Path, options: &Options) -> Command {
    let mut cmd = Command::new(LEAF);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "info,leaf=debug")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("LEAF_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in &options.env {
        cmd.env(k, v);
    }
    cmd
}

/// Collects a child's output into `logs`; sends the address from the first
/// `listening on http://…` line.
fn collect_output(
    child: &mut Child,
    logs: Arc<Mutex<String>>,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    for reader in [
        Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(stderr),
    ] {
        let logs = logs.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(format!("http://{}", rest.trim()));
                }
                if std::env::var_os("LEAF_TEST_VERBOSE").is_some() {
                    eprintln!("leaf| {line}");
                }
                let mut logs = logs.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
    }
    rx
}

pub async fn spawn_with(options: Options) -> TestApp {
    let (tmp, data) = match &options.data {
        Some(dir) => (None, dir.clone()),
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let data = tmp.path().join("data");
            (Some(tmp), data)
        }
    };
    let mut child = leaf_command(&data, &options).spawn().expect("leaf starts");
    let logs = Arc::new(Mutex::new(String::new()));
    let mut addr = collect_output(&mut child, logs.clone());
    let url = match tokio::time::timeout(START_TIMEOUT, addr.recv()).await {
        Ok(Some(url)) => url,
        _ => panic!(
            "leaf did not start within {START_TIMEOUT:?}; its output:\n{}",
            logs.lock().unwrap()
        ),
    };
    let app = TestApp {
        url,
        data,
        child,
        logs,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        _tmp: tmp,
    };
    app.wait_for_health(200, Duration::from_secs(30)).await;
    app
}

/// Runs leaf with these arguments to its end; returns the exit status and its output.
pub async fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut cmd = Command::new(LEAF);
    cmd.args(args).env("RUST_LOG", "info").kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("leaf exits within 60 s")
        .expect("leaf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

impl TestApp {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn health(&self) -> (u16, Value) {
        let r = self.get("/api/health").await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// Polls `/api/health` until it answers `status`; returns the body.
    pub async fn wait_for_health(&self, status: u16, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = self
                .http
                .get(format!("{}/api/health", self.url))
                .timeout(Duration::from_secs(3))
                .send()
                .await
            {
                let got = r.status().as_u16();
                if let Ok(body) = r.json::<Value>().await
                    && got == status
                {
                    return body;
                }
            }
            assert!(
                Instant::now() < deadline,
                "health did not become {status} within {within:?}; leaf's output:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The managed nats-server's pid (a child of leaf), if one runs.
    pub fn nats_pid(&self) -> Option<u32> {
        children_of(self.pid()).into_iter().find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "nats-server")
        })
    }

    /// A NATS client on leaf's managed server, with the credentials leaf wrote for it
    /// (as an administrator on the box could).
    pub async fn nats(&self) -> async_nats::Client {
        let conf = std::fs::read_to_string(self.data.join("nats/nats-server.conf")).unwrap();
        let field = |key: &str| {
            let start = conf.find(key).unwrap_or_else(|| panic!("{key} in {conf}")) + key.len();
            let rest = conf[start..].trim_start_matches([' ', ':', '"']);
            rest[..rest.find('"').unwrap()].to_owned()
        };
        let listen = field("listen");
        let token = field("token");
        async_nats::ConnectOptions::with_token(token)
            .connect(format!("nats://{listen}"))
            .await
            .unwrap()
    }

    pub async fn ws_connect(&self) -> Ws {
        let url = format!("{}/ws", self.url.replacen("http://", "ws://", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let hello = next_json(&mut ws).await;
        assert_eq!(hello["type"], "hello", "{hello}");
        ws
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid() as i32), signal).unwrap();
    }

    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!(
                "leaf did not exit within {within:?}; its output:\n{}",
                self.logs()
            ),
        }
    }
}

pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out
}

pub fn process_exists(pid: u32) -> bool {
    // A zombie has exited: it only waits for its parent to collect it.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

pub async fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

/// The next JSON text message (skipping pings and health pushes), within 10 s.
pub async fn next_json(ws: &mut Ws) -> Value {
    next_json_within(ws, Duration::from_secs(10))
        .await
        .expect("a message within 10 s")
}

pub async fn next_json_within(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        if let Ok(Message::Text(text)) = msg {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "health" {
                return Some(value);
            }
        }
    }
}

/// A nats-server of the test's own, with JetStream, on a free port.
pub struct ExternalNats {
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

pub async fn start_external_nats() -> ExternalNats {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(NATS_SERVER)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("tools/nats-server/bin/nats-server runs (make nats-server)");
    let url = format!("nats://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while async_nats::connect(&url).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "external nats-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ExternalNats {
        url,
        _child: child,
        _dir: dir,
    }
}

/// The first-boot setup code, from leaf's log.
pub fn setup_code(app: &TestApp) -> String {
    let logs = app.logs();
    let at = logs
        .find("Setup code: ")
        .unwrap_or_else(|| panic!("no setup code in the log:\n{logs}"))
        + "Setup code: ".len();
    logs[at..at + 9].to_owned()
}

/// A logged-in member of staff.
pub struct Login {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        body: Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn get_with(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Completes first-boot setup with admin "Admin", PIN 135790.
    pub async fn setup_admin(&self) -> Login {
        let r = self
            .post_json(
                "/api/setup",
                serde_json::json!({"code": setup_code(self), "name": "Admin", "pin": "135790"}),
                None,
            )
            .await;
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        Login {
            id: body["operator"]["id"].as_str().unwrap().into(),
            token: body["token"].as_str().unwrap().into(),
        }
    }

    /// Creates an operator (as `admin`) and logs them in.
    pub async fn add_operator(&self, admin: &Login, name: &str, role: &str, pin: &str) -> Login {
        let r = self
            .post_json(
                "/api/operators",
                serde_json::json!({"name": name, "role": role, "pin": pin}),
                Some(&admin.token),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.login(&id, pin).await
    }

    pub async fn login(&self, id: &str, pin: &str) -> Login {
        let r = self
            .post_json(
                "/api/login",
                serde_json::json!({"operator": id, "pin": pin}),
                None,
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let body: Value = r.json().await.unwrap();
        Login {
            id: id.into(),
            token: body["token"].as_str().unwrap().into(),
        }
    }
}
