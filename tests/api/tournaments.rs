use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use serde_json::{Value, json};

use crate::helpers::{Login, Options, TestApp, next_json, send_json, spawn_app, spawn_with};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A tournament from the built-in turbo templates.
async fn create(app: &TestApp, token: &str, name: &str) -> Value {
    let templates: Value = app
        .get_with("/api/templates", token)
        .await
        .json()
        .await
        .unwrap();
    let body = |id: &str| {
        templates
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("template {id}"))["body"]
            .clone()
    };
    let setup = json!({
        "name": name,
        "structure": body("builtin:turbo"),
        "chip_set": body("builtin:standard-chips"),
        "buy_in": body("builtin:turbo-buy-in"),
    });
    let r = app.post_json("/api/tournaments", setup, Some(token)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn command(app: &TestApp, token: &str, id: &str, command: Value) -> (u16, Value) {
    let r = app
        .post_json(
            &format!("/api/tournaments/{id}/commands"),
            command,
            Some(token),
        )
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A command with no arguments, such as `start` or `pause`.
async fn run(app: &TestApp, token: &str, id: &str, kind: &str) -> (u16, Value) {
    command(app, token, id, json!({"command": {"type": kind}})).await
}

async fn admin(app: &TestApp) -> Login {
    app.setup_admin().await
}

/// Where the clock is now, by the server's own answer.
fn time_left(state: &Value) -> (u64, i64) {
    (
        state["clock"]["level"].as_u64().unwrap(),
        state["clock"]["remaining_ms"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn the_clock_is_where_the_room_is_after_kill_9() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let t = create(&app, &admin.token, "Restart test").await;
    let id = t["id"].as_str().unwrap().to_owned();
    let (status, started) = run(&app, &admin.token, &id, "start").await;
    assert_eq!(status, 200);
    let started_at = started["server_time"].as_i64().unwrap();
    // A stopwatch, started with the clock.
    let stopwatch = Instant::now() - Duration::from_millis((now_ms() - started_at) as u64);
    let level_ms = started["clock"]["remaining_ms"].as_i64().unwrap();

    app.signal(Signal::SIGKILL);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = spawn_with(Options::default().data(&app.data)).await;
    let state: Value = again
        .get(&format!("/api/tournaments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let elapsed = stopwatch.elapsed().as_millis() as i64;
    let (level, remaining) = time_left(&state);
    assert_eq!(level, 0);
    let expected = level_ms - elapsed;
    let error = (remaining - expected).abs();
    println!(
        "after kill -9 and 3 s: {remaining} ms left, stopwatch says {expected} ms (off by {error} ms)"
    );
    assert!(error <= 100, "off by {error} ms");
    assert_eq!(state["clock"]["running"], true);
    assert_eq!(state["clock"]["check_time"], false);
}

#[tokio::test]
async fn a_wall_clock_behind_the_last_event_comes_back_paused_and_flagged() {
    let mut app = spawn_app().await;
    let admin = admin(&app).await;
    let t = create(&app, &admin.token, "No RTC").await;
    let id = t["id"].as_str().unwrap().to_owned();
    run(&app, &admin.token, &id, "start").await;
    app.signal(Signal::SIGTERM);
    app.wait_exit(Duration::from_secs(10)).await;

    // The box's last event is an hour ahead of its clock now: as if it booted after a
    // power cut with the time an hour behind.
    let ahead = now_ms() + 3_600_000;
    {
        let db = libsql::Builder::new_local(app.data.join("leaf.db"))
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        let event =
            json!({"seq": 3, "at": ahead, "actor": null, "type": "time_adjusted", "delta_ms": 0});
        conn.execute(
            "INSERT INTO events (tournament_id, seq, id, kind, payload, actor, at) VALUES (?1, 3, ?2, 'time_adjusted', ?3, NULL, ?4)",
            libsql::params![id.clone(), uuid::Uuid::new_v4().to_string(), event.to_string(), ahead],
        )
        .await
        .unwrap();
    }
    let again = spawn_with(Options::default().data(&app.data)).await;
    let state: Value = again
        .get(&format!("/api/tournaments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["clock"]["running"], false, "{state}");
    assert_eq!(state["clock"]["check_time"], true);
    let (status, body) = run(&again, &admin.token, &id, "resume").await;
    assert_eq!(status, 422, "resume waits for the time check: {body}");
    let (status, _) = run(&again, &admin.token, &id, "clear_time_check").await;
    assert_eq!(status, 200);
    let (status, state) = run(&again, &admin.token, &id, "resume").await;
    assert_eq!(status, 200);
    assert_eq!(state["clock"]["running"], true);
}

/// The AUDIT messages of one tournament, in stream order: their event seqs.
async fn audit_seqs(app: &TestApp, id: &str) -> Vec<u64> {
    let js = async_nats::jetstream::new(app.nats().await);
    let stream = js.get_stream("AUDIT").await.unwrap();
    let mut seqs = Vec::new();
    let last = stream.get_info().await.unwrap().state.last_sequence;
    for n in 1..=last {
        if let Ok(m) = stream.get_raw_message(n).await
            && m.subject.as_str() == format!("leaf.main.t.{id}.audit")
        {
            let v: Value = serde_json::from_slice(&m.payload).unwrap();
            seqs.push(v["event"]["seq"].as_u64().unwrap());
        }
    }
    seqs
}

/// Outbox rows not yet marked sent (read beside the running leaf, as WAL allows).
async fn unsent(app: &TestApp) -> i64 {
    let db = libsql::Builder::new_local(app.data.join("leaf.db"))
        .build()
        .await
        .unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn
        .query("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", ())
        .await
        .unwrap();
    rows.next().await.unwrap().unwrap().get(0).unwrap()
}

/// `answered`: whether the command is acknowledged before the crash: never for a crash
/// right after the commit; for one in the relay it races the answer (`None`).
async fn crash_at(fault: &str, answered: Option<bool>) {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let t = create(&app, &admin.token, "Crash").await;
    let id = t["id"].as_str().unwrap().to_owned();
    run(&app, &admin.token, &id, "start").await;
    // Everything so far is on the stream, so the fault hits the next event only.
    let deadline = Instant::now() + Duration::from_secs(10);
    while audit_seqs(&app, &id).await.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the relay published the first events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.signal(Signal::SIGKILL);

    let mut faulty = spawn_with(
        Options::default()
            .data(&app.data)
            .env("LEAF_TEST_FAULT", fault),
    )
    .await;
    let r = faulty
        .http
        .post(format!("{}/api/tournaments/{id}/commands", faulty.url))
        .bearer_auth(&admin.token)
        .json(&json!({"command": {"type": "pause"}}))
        .send()
        .await;
    let acknowledged = r.is_ok_and(|r| r.status().is_success());
    if let Some(answered) = answered {
        assert_eq!(acknowledged, answered, "{fault}");
    }
    let status = faulty.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(86), "{}", faulty.logs());

    let again = spawn_with(Options::default().data(&app.data)).await;
    let state: Value = again
        .get(&format!("/api/tournaments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["clock"]["running"], false,
        "the committed pause survived"
    );
    // Wait until the relay has sent everything left over, then look at the stream.
    let deadline = Instant::now() + Duration::from_secs(15);
    while unsent(&again).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the outbox was not emptied ({fault})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        audit_seqs(&again, &id).await,
        [1, 2, 3],
        "every event once, in order ({fault})"
    );
}

#[tokio::test]
async fn a_crash_between_commit_and_publish_loses_nothing() {
    crash_at("after-commit", Some(false)).await;
}

#[tokio::test]
async fn a_crash_between_publish_and_marking_sent_publishes_once() {
    crash_at("relay-after-ack", None).await;
}

#[tokio::test]
async fn two_tournaments_have_independent_clocks_and_stale_versions_conflict() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let a = create(&app, &admin.token, "Room A").await;
    let b = create(&app, &admin.token, "Room B").await;
    let (a, b) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    );
    run(&app, &admin.token, &a, "start").await;
    run(&app, &admin.token, &b, "start").await;
    run(&app, &admin.token, &b, "next_level").await;
    let (_, paused) = run(&app, &admin.token, &a, "pause").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let sa: Value = app
        .get(&format!("/api/tournaments/{a}"))
        .await
        .json()
        .await
        .unwrap();
    let sb: Value = app
        .get(&format!("/api/tournaments/{b}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sa["clock"]["running"], false);
    assert_eq!(
        sa["clock"]["remaining_ms"], paused["clock"]["remaining_ms"],
        "A stands still"
    );
    assert_eq!(sb["clock"]["running"], true);
    assert_eq!(sb["clock"]["level"], 1, "B moved on alone");
    assert_eq!(sa["clock"]["level"], 0);

    // Two staff act on what they saw at version 3: the second gets 409 and the fresh state.
    let version = sa["version"].as_u64().unwrap();
    let (first, _) = command(
        &app,
        &admin.token,
        &a,
        json!({"command": {"type": "resume"}, "expected_version": version}),
    )
    .await;
    assert_eq!(first, 200);
    let (second, body) = command(
        &app,
        &admin.token,
        &a,
        json!({"command": {"type": "resume"}, "expected_version": version}),
    )
    .await;
    assert_eq!(second, 409);
    assert_eq!(body["error"], "version_conflict");
    assert_eq!(body["state"]["version"], version + 1);
    assert_eq!(body["state"]["clock"]["running"], true);

    let lobby: Value = app.get("/api/tournaments").await.json().await.unwrap();
    let names: Vec<&str> = lobby
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Room A", "Room B"]);
}

#[tokio::test]
async fn undo_lists_actions_and_reverts_one() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let t = create(&app, &admin.token, "Undo").await;
    let id = t["id"].as_str().unwrap().to_owned();
    run(&app, &admin.token, &id, "start").await;
    command(
        &app,
        &admin.token,
        &id,
        json!({"command": {"type": "jump_to_level", "level": 5}}),
    )
    .await;
    let events: Value = app
        .get_with(&format!("/api/tournaments/{id}/events"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let last = &events[0];
    assert_eq!(last["kind"], json!({"type": "level_set", "level": 5}));
    assert_eq!(last["actor_name"], "Admin", "who did it");
    let (status, state) = command(
        &app,
        &admin.token,
        &id,
        json!({"command": {"type": "undo", "seq": last["seq"]}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(state["clock"]["level"], 0);
    let events: Value = app
        .get_with(&format!("/api/tournaments/{id}/events"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events[1]["undone"], true);
    let (status, body) = command(
        &app,
        &admin.token,
        &id,
        json!({"command": {"type": "undo", "seq": last["seq"]}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_subscriber_gets_the_full_state_at_once_then_ticks() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let t = create(&app, &admin.token, "Live").await;
    let id = t["id"].as_str().unwrap().to_owned();
    run(&app, &admin.token, &id, "start").await;
    let mut ws = app.ws_connect().await;
    send_json(&mut ws, json!({"type": "subscribe", "tournament": id})).await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let state = next_json(&mut ws).await;
    assert_eq!(state["channel"], "state");
    assert_eq!(state["data"]["name"], "Live");
    assert!(state["data"]["clock"]["level_ends_at"].is_i64());
    let mut ticks = Vec::new();
    while ticks.len() < 2 {
        let m = next_json(&mut ws).await;
        if m["channel"] == "tick" {
            ticks.push(m["data"]["remaining_ms"].as_i64().unwrap());
        }
    }
    let gap = ticks[0] - ticks[1];
    assert!((900..=1100).contains(&gap), "a tick a second: {ticks:?}");
    let offset = ticks[1] % 1000;
    assert!(
        !(50..=950).contains(&offset),
        "ticks land on whole seconds: {ticks:?}"
    );
}

#[tokio::test]
async fn templates_are_saved_exported_imported_and_validated() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let wizard = app
        .post_json(
            "/api/structures/wizard",
            json!({"players": 30, "starting_stack": 20000, "target_minutes": 240, "level_minutes": 20, "chips": [25, 100, 500, 1000, 5000]}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(wizard.status(), 200);
    let structure: Value = wizard.json().await.unwrap();
    let saved = app
        .post_json(
            "/api/templates",
            json!({"kind": "structure", "name": "Thursday", "body": structure}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(saved.status(), 201);
    let saved: Value = saved.json().await.unwrap();
    let exported: Value = app
        .get_with(
            &format!("/api/templates/{}", saved["id"].as_str().unwrap()),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exported["body"], structure);
    let import =
        json!({"kind": exported["kind"], "name": "Thursday (copy)", "body": exported["body"]});
    assert_eq!(
        app.post_json("/api/templates", import.clone(), Some(&admin.token))
            .await
            .status(),
        201
    );
    assert_eq!(
        app.post_json("/api/templates", import, Some(&admin.token))
            .await
            .status(),
        409,
        "names are unique"
    );
    let bad = json!({"kind": "structure", "name": "Bad", "body": {"levels": [{"kind": "round", "small_blind": 100, "big_blind": 50, "duration_secs": 600}]}});
    let r = app
        .post_json("/api/templates", bad, Some(&admin.token))
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("level 1"),
        "{body}"
    );

    // Blinds that the chips cannot pay are refused, naming the level.
    let unpayable = json!({
        "name": "Odd",
        "structure": {"levels": [{"kind": "round", "small_blind": 10, "big_blind": 20, "duration_secs": 600}]},
        "chip_set": {"chips": [{"value": 25, "colour": "green"}]},
        "buy_in": {"amount_cents": 1000, "starting_chips": 1000},
    });
    let r = app
        .post_json("/api/tournaments", unpayable, Some(&admin.token))
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("level 1: 10 cannot be paid"),
        "{body}"
    );

    // A tournament keeps its own copy: changing the template later changes nothing.
    let t = create(&app, &admin.token, "Copy").await;
    let before = t["level"].clone();
    let r = app
        .http
        .delete(format!(
            "{}/api/templates/{}",
            app.url,
            saved["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let after: Value = app
        .get(&format!("/api/tournaments/{}", t["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["level"], before);
}
