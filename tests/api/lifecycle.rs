use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::helpers::{Options, process_exists, run_to_exit, spawn_app, spawn_with, wait_until};

#[tokio::test]
async fn sigterm_stops_cleanly_and_a_restart_finds_everything() {
    let mut app = spawn_app().await;
    let nats = app.nats().await;
    let js = async_nats::jetstream::new(nats.clone());
    let t = uuid::Uuid::new_v4();
    for i in 0..3 {
        js.publish(
            format!("leaf.main.t.{t}.audit"),
            format!("{{\"n\":{i}}}").into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    js.publish(format!("leaf.main.t.{t}.state"), "{}".into())
        .await
        .unwrap()
        .await
        .unwrap();
    drop(js);
    drop(nats);
    let nats_pid = app.nats_pid().unwrap();

    let started = Instant::now();
    app.signal(Signal::SIGTERM);
    let status = app.wait_exit(Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "{}", app.logs());
    println!("SIGTERM to exit: {took:?}");
    wait_until(
        "the nats-server child is gone",
        Duration::from_secs(2),
        || !process_exists(nats_pid),
    )
    .await;
    let logs = app.logs();
    let order: Vec<usize> = ["shutting down", "Server Exiting", "stopped"]
        .iter()
        .map(|line| {
            logs.find(line)
                .unwrap_or_else(|| panic!("{line:?} in:\n{logs}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "reverse order: {order:?}"
    );

    let again = spawn_with(Options::default().data(&app.data)).await;
    let (_, health) = again.health().await;
    let counts: Vec<(String, u64)> = health["nats"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().into(),
                s["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("AUDIT".into(), 3), ("STATE".into(), 1)]);
    assert!(
        !again.logs().contains("applied migration"),
        "the database was kept"
    );
}

#[tokio::test]
async fn the_nats_child_dies_with_leaf_even_on_kill_9() {
    let app = spawn_app().await;
    let nats_pid = app.nats_pid().unwrap();
    app.signal(Signal::SIGKILL);
    wait_until(
        "the orphaned nats-server ends",
        Duration::from_secs(5),
        || !process_exists(nats_pid),
    )
    .await;
}

#[tokio::test]
async fn a_database_from_a_newer_leaf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (status, out) = run_to_exit(&["migrate", "--data", data.to_str().unwrap()], &[]).await;
    assert!(status.success(), "{out}");
    {
        let db = libsql::Builder::new_local(data.join("leaf.db"))
            .build()
            .await
            .unwrap();
        db.connect()
            .unwrap()
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')",
                (),
            )
            .await
            .unwrap();
    }
    let (status, out) = run_to_exit(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(!status.success());
    assert!(
        out.contains("schema version 9999, newer than this leaf"),
        "{out}"
    );
    assert!(!out.contains("listening on"), "{out}");
}

#[tokio::test]
async fn a_missing_nats_server_stops_start_up_with_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (status, out) = run_to_exit(
        &["--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        &[("LEAF_NATS_SERVER", "/nonexistent/nats-server")],
    )
    .await;
    assert!(!status.success());
    assert!(out.contains("no nats-server found"), "{out}");
    assert!(out.contains("make nats-server"), "{out}");
}

#[tokio::test]
async fn check_config_accepts_a_good_file_and_names_the_problem_in_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "listen = \"0.0.0.0:80\"\nvenue = \"club-7\"\n[nats]\nserver = \"/usr/bin/nats-server\"\n",
    )
    .unwrap();
    let (status, out) = run_to_exit(&["check-config", good.to_str().unwrap()], &[]).await;
    assert!(status.success(), "{out}");
    assert!(out.contains("ok"), "{out}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen = \"0.0.0.0:80\"\nlisten_port = 80\n").unwrap();
    let (status, out) = run_to_exit(&["check-config", bad.to_str().unwrap()], &[]).await;
    assert!(!status.success());
    assert!(
        out.contains("line 2") && out.contains("listen_port"),
        "{out}"
    );
}

#[tokio::test]
async fn flags_win_over_environment_for_data_and_listen() {
    let dir = tempfile::tempdir().unwrap();
    let flag_dir = dir.path().join("from-flag");
    let app = spawn_with(
        Options::default()
            .data(&flag_dir)
            .env("LEAF_DATA", dir.path().join("from-env").to_str().unwrap())
            .env("LEAF_LISTEN", "127.0.0.1:1"),
    )
    .await;
    assert!(flag_dir.join("leaf.db").exists());
    assert!(!dir.path().join("from-env").exists());
    assert_ne!(app.url, "http://127.0.0.1:1");
}
