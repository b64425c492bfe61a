use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::helpers::{
    NATS_SERVER, Options, process_exists, spawn_app, spawn_with, start_external_nats,
};

#[tokio::test]
async fn health_is_ok_when_every_subsystem_is_up() {
    let app = spawn_app().await;
    let (status, body) = app.health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["ok"], true);
    assert!(body["database"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["nats"]["connected"], true);
    assert_eq!(body["nats"]["managed"], true);
    assert_eq!(body["nats"]["jetstream"], true);
    let streams: Vec<&str> = body["nats"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(streams, ["AUDIT", "STATE"]);
    assert_eq!(body["websocket"]["clients"], 0);
    assert!(body["uptime_secs"].is_u64());
}

#[tokio::test]
async fn health_goes_503_while_the_nats_child_is_dead_and_back_after_its_restart() {
    // leaf runs its own copy of nats-server, so the test can hold the restart back
    // (take the binary away) long enough to see the outage for certain.
    let bin = tempfile::tempdir().unwrap();
    let server = bin.path().join("nats-server");
    std::fs::copy(NATS_SERVER, &server).unwrap();
    let app =
        spawn_with(Options::default().env("LEAF_NATS_SERVER", server.to_str().unwrap())).await;
    let first = app.nats_pid().expect("leaf runs a nats-server child");
    let away = bin.path().join("away");
    std::fs::rename(&server, &away).unwrap();
    kill(Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();

    let down = app.wait_for_health(503, Duration::from_secs(5)).await;
    assert_eq!(down["status"], "degraded");
    assert_eq!(down["nats"]["ok"], false);
    assert!(down["nats"]["error"].is_string());
    assert_eq!(down["database"]["ok"], true, "only NATS is down");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.health().await.0,
        503,
        "still down while it cannot restart"
    );
    assert!(
        app.logs().contains("cannot restart nats-server"),
        "{}",
        app.logs()
    );

    std::fs::rename(&away, &server).unwrap();
    let up = app.wait_for_health(200, Duration::from_secs(30)).await;
    assert!(up["nats"]["restarts"].as_u64().unwrap() >= 1, "{up}");
    let second = app.nats_pid().expect("a new child");
    assert_ne!(first, second);
    assert!(!process_exists(first));
}

#[tokio::test]
async fn a_configured_nats_url_is_used_instead_of_a_managed_server() {
    let nats = start_external_nats().await;
    let app = spawn_with(Options::default().env("LEAF_NATS_URL", &nats.url)).await;
    let (status, body) = app.health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nats"]["managed"], false);
    assert_eq!(app.nats_pid(), None, "no child when nats.url is set");
    assert!(!app.data.join("nats").exists());

    // The streams were created on that server.
    let client = async_nats::connect(&nats.url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut audit = js.get_stream("AUDIT").await.unwrap();
    let subjects = &audit.info().await.unwrap().config.subjects;
    assert!(
        subjects.contains(&"leaf.main.t.*.audit".to_string()),
        "{subjects:?}"
    );
    let mut state = js.get_stream("STATE").await.unwrap();
    assert_eq!(
        state.info().await.unwrap().config.max_messages_per_subject,
        1
    );
}
