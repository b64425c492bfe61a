use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

use base64::Engine;
use nix::sys::signal::Signal;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Options, TestApp, next_json, next_json_within, run_to_exit, send_json, setup_code, spawn_app,
    spawn_with,
};

const ROLES: [&str; 3] = ["viewer", "floor", "admin"];

fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap()
}

async fn call(app: &TestApp, method: &Method, path: &str, token: Option<&str>) -> StatusCode {
    let mut request = app
        .http
        .request(method.clone(), format!("{}{path}", app.url));
    if *method != Method::GET {
        request = request.json(&json!({}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn every_route_declares_its_role_and_enforces_it() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    let viewer = app.add_operator(&admin, "Vic", "viewer", "9753").await;
    let tokens = [&viewer.token, &floor.token, &admin.token];

    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut guarded = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let role = op["x-min-role"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no x-min-role"));
            let method: Method = method.to_uppercase().parse().unwrap();
            let url = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let anonymous = call(&app, &method, &url, None).await;
            if role == "public" {
                assert_ne!(
                    anonymous,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} is public"
                );
                assert!(
                    op.get("security").is_none(),
                    "{method} {path}: public with security"
                );
                continue;
            }
            guarded += 1;
            assert_eq!(
                anonymous,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token"
            );
            let garbage = call(&app, &method, &url, Some("not.a.token")).await;
            assert_eq!(
                garbage,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with garbage"
            );
            for (i, token) in tokens.iter().enumerate() {
                let status = call(&app, &method, &url, Some(token)).await;
                if i < rank(role) {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{method} {path} as {}",
                        ROLES[i]
                    );
                } else {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{method} {path} as {}: {status}",
                        ROLES[i]
                    );
                }
            }
        }
    }
    assert!(guarded >= 6, "only {guarded} staff routes were walked");
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_expired_and_revoked_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    assert_eq!(app.get_with("/api/me", &floor.token).await.status(), 200);

    let parts: Vec<&str> = floor.token.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let key = std::fs::read(app.data.join("secrets/jwt.key")).unwrap();
    let now = claims["iat"].as_i64().unwrap();

    let mut as_admin = claims.clone();
    as_admin["role"] = "admin".into();
    let mut expired = claims.clone();
    expired["iat"] = (now - 7200).into();
    expired["exp"] = (now - 1).into();
    let forged = [
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        ("another key", sign(&claims, &[9u8; 64])),
        (
            "RS256 header",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "typ": "JWT"})),
                parts[1],
                parts[2]
            ),
        ),
        (
            "ES256 header",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "ES256", "typ": "JWT"})),
                parts[1],
                parts[2]
            ),
        ),
        (
            "tampered role",
            format!("{}.{}.{}", parts[0], b64(&as_admin), parts[2]),
        ),
        ("expired", sign(&expired, &key)),
        // Signed with the real key, but the operator is not an admin: the role must match.
        ("role claim of another role", sign(&as_admin, &key)),
    ];
    for (what, token) in &forged {
        let r = app.get_with("/api/operators", token).await;
        assert_eq!(r.status(), 401, "{what}");
    }

    // A PIN change revokes tokens issued before it.
    let r = app
        .http
        .patch(format!("{}/api/operators/{}", app.url, floor.id))
        .bearer_auth(&admin.token)
        .json(&json!({"pin": "8642"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_with("/api/me", &floor.token).await.status(),
        401,
        "old PIN's token"
    );
    let again = app.login(&floor.id, "8642").await;
    assert_eq!(app.get_with("/api/me", &again.token).await.status(), 200);

    // Disabling revokes at once, and the disabled operator cannot log in.
    let r = app
        .http
        .patch(format!("{}/api/operators/{}", app.url, floor.id))
        .bearer_auth(&admin.token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_with("/api/me", &again.token).await.status(),
        401,
        "disabled"
    );
    let r = app
        .post_json(
            "/api/login",
            json!({"operator": floor.id, "pin": "8642"}),
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_key_survives_kill_9_and_is_never_rewritten() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let key_path = app.data.join("secrets/jwt.key");
    let key = std::fs::read(&key_path).unwrap();
    let meta = std::fs::metadata(&key_path).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert!(key.len() >= 32);
    app.signal(Signal::SIGKILL);

    let again = spawn_with(Options::default().data(&app.data)).await;
    assert_eq!(again.get_with("/api/me", &admin.token).await.status(), 200);
    assert_eq!(std::fs::read(&key_path).unwrap(), key);
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().ino(),
        meta.ino(),
        "the same file"
    );
    assert!(
        !again.logs().contains("Setup code"),
        "no setup once an admin exists"
    );

    let (status, out) =
        run_to_exit(&["provision", "--data", app.data.to_str().unwrap()], &[]).await;
    assert!(status.success(), "{out}");
    assert!(out.contains("kept"), "{out}");
    assert_eq!(std::fs::read(&key_path).unwrap(), key);
}

#[tokio::test]
async fn a_bad_key_stops_start_up_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (status, out) = run_to_exit(&["provision", "--data", data.to_str().unwrap()], &[]).await;
    assert!(status.success() && out.contains("created"), "{out}");
    let key = data.join("secrets/jwt.key");
    let serve = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
    ];

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (status, out) = run_to_exit(&serve, &[]).await;
    assert!(!status.success());
    assert!(
        out.contains("can be read by group or others") && out.contains("chmod 600"),
        "{out}"
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key, b"short").unwrap();
    let (status, out) = run_to_exit(&serve, &[]).await;
    assert!(!status.success());
    assert!(
        out.contains("holds 5 bytes, fewer than the 32 required"),
        "{out}"
    );

    std::fs::remove_file(&key).unwrap();
    std::fs::create_dir(&key).unwrap(); // present but not readable as a file
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (status, out) = run_to_exit(&serve, &[]).await;
    assert!(!status.success());
    assert!(out.contains("cannot read the signing key"), "{out}");
    assert!(!out.contains("listening on"), "{out}");
}

async fn login_status(app: &TestApp, id: &str, pin: &str) -> (StatusCode, Value, Option<u64>) {
    let r = app
        .post_json("/api/login", json!({"operator": id, "pin": pin}), None)
        .await;
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, r.json().await.unwrap(), retry)
}

#[tokio::test]
async fn wrong_name_and_wrong_pin_answer_alike() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut timings = Vec::new();
    let mut answers = Vec::new();
    for (id, pin) in [
        (&floor.id, "1111"),
        (&unknown, "2468"),
        (&"not-an-id".to_string(), "2468"),
        (&floor.id, "12"),
    ] {
        let start = Instant::now();
        let (status, body, _) = login_status(&app, id, pin).await;
        timings.push(start.elapsed());
        answers.push((status, body));
    }
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0].1["error"], "invalid_credentials");
    println!("wrong PIN / unknown id / malformed id / malformed PIN: {timings:?}");
}

#[tokio::test]
async fn failures_back_off_after_5_and_lock_after_10_until_an_admin_unlocks() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    for n in 1..=4 {
        let (status, _, _) = login_status(&app, &floor.id, "0000").await;
        assert_eq!(status, 401, "failure {n} costs nothing");
    }
    // From the 5th failure on, each attempt must wait 1, 2, 4, 8, 16 s.
    for wait in [1u64, 2, 4, 8, 16] {
        let (status, _, _) = login_status(&app, &floor.id, "0000").await;
        assert_eq!(status, 401);
        let (status, body, retry) = login_status(&app, &floor.id, "2468").await;
        assert_eq!(status, 429, "even the right PIN waits");
        assert_eq!(body["error"], "too_many_attempts");
        assert_eq!(retry, Some(wait));
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    let (status, _, _) = login_status(&app, &floor.id, "0000").await;
    assert_eq!(status, 401, "the 10th failure");
    let (status, _, retry) = login_status(&app, &floor.id, "2468").await;
    assert_eq!(status, 429);
    assert!(retry.unwrap() > 890, "locked for 15 minutes: {retry:?}");

    let list: Value = app
        .get_with("/api/operators", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let flo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Flo")
        .unwrap();
    assert!(flo["locked_until"].is_i64(), "{flo}");

    let r = app
        .post_json(
            &format!("/api/operators/{}/unlock", floor.id),
            json!({}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.login(&floor.id, "2468").await;
}

#[tokio::test]
async fn tickets_are_single_use_and_carry_staff_channels() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    let r = app
        .post_json("/api/ws-ticket", json!({}), Some(&floor.token))
        .await;
    assert_eq!(r.status(), 200);
    let ticket: Value = r.json().await.unwrap();
    assert_eq!(ticket["expires_in_secs"], 30);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let ws_url = |query: &str| format!("{}/ws{query}", app.url.replacen("http://", "ws://", 1));

    let (mut staff, _) = tokio_tungstenite::connect_async(ws_url(&format!("?ticket={ticket}")))
        .await
        .unwrap();
    let hello = next_json(&mut staff).await;
    assert_eq!(hello["role"], "floor");
    match tokio_tungstenite::connect_async(ws_url(&format!("?ticket={ticket}"))).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a used ticket was accepted: {:?}", other.map(|_| ())),
    }
    let mut public = app.ws_connect().await;

    let t = uuid::Uuid::new_v4().to_string();
    for ws in [&mut staff, &mut public] {
        send_json(ws, json!({"type": "subscribe", "tournament": t})).await;
        assert_eq!(next_json(ws).await["type"], "subscribed");
    }
    let nats = app.nats().await;
    nats.publish(format!("leaf.main.t.{t}.audit"), r#"{"staff":1}"#.into())
        .await
        .unwrap();
    nats.publish(format!("leaf.main.t.{t}.state"), r#"{"public":1}"#.into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    let first = next_json(&mut staff).await;
    assert_eq!(
        (first["channel"].as_str(), &first["data"]),
        (Some("audit"), &json!({"staff": 1}))
    );
    assert_eq!(next_json(&mut staff).await["channel"], "state");
    let only = next_json(&mut public).await;
    assert_eq!(
        only["channel"], "state",
        "the audit message never reaches a public client"
    );
    assert_eq!(
        next_json_within(&mut public, Duration::from_millis(300)).await,
        None
    );

    // Tickets die after 30 s.
    let r = app
        .post_json("/api/ws-ticket", json!({}), Some(&floor.token))
        .await;
    let late: Value = r.json().await.unwrap();
    tokio::time::sleep(Duration::from_secs(31)).await;
    match tokio_tungstenite::connect_async(ws_url(&format!(
        "?ticket={}",
        late["ticket"].as_str().unwrap()
    )))
    .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("an expired ticket was accepted: {:?}", other.map(|_| ())),
    }
    assert!(!app.logs().contains(&ticket), "tickets never reach the log");
    assert!(
        !app.logs().contains(&floor.token),
        "tokens never reach the log"
    );
}

#[tokio::test]
async fn the_setup_code_is_for_the_kiosk_and_works_once() {
    let app = spawn_app().await;
    let code = setup_code(&app);
    let kiosk: Value = app.get("/api/setup").await.json().await.unwrap();
    assert_eq!(kiosk["needed"], true);
    assert_eq!(kiosk["code"], code.as_str());
    let port = app.url.rsplit(':').next().unwrap();
    assert_eq!(
        kiosk["setup_url"],
        format!("http://leaf.local:{port}/setup"),
        "the bound port, not 0"
    );
    assert!(kiosk["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    // What a phone (not on loopback) sees is checked in the unit tests of api::setup.

    let wrong = app
        .post_json(
            "/api/setup",
            json!({"code": "AAAA-AAAA", "name": "Eve", "pin": "123456"}),
            None,
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let short = app
        .post_json(
            "/api/setup",
            json!({"code": code, "name": "Ann", "pin": "1234"}),
            None,
        )
        .await;
    assert_eq!(short.status(), 422, "admins need 6 digits");
    let ok = app
        .post_json(
            "/api/setup",
            json!({"code": code.to_lowercase(), "name": "Ann", "pin": "123456"}),
            None,
        )
        .await;
    assert_eq!(ok.status(), 201);
    let session: Value = ok.json().await.unwrap();
    assert_eq!(session["operator"]["role"], "admin");
    let again = app
        .post_json(
            "/api/setup",
            json!({"code": code, "name": "Mallory", "pin": "123456"}),
            None,
        )
        .await;
    assert_eq!(again.status(), 409);
    let after: Value = app.get("/api/setup").await.json().await.unwrap();
    assert_eq!(after["needed"], false);
    assert_eq!(after["code"], Value::Null);
}

#[tokio::test]
async fn operators_are_managed_by_admins_and_every_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app
        .post_json(
            "/api/operators",
            json!({"name": "Bo", "role": "admin", "pin": "12345"}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(r.status(), 422, "an admin's PIN is 6+ digits");
    let bo = app.add_operator(&admin, "Bo", "floor", "1234").await;
    let r = app
        .post_json(
            "/api/operators",
            json!({"name": "bo", "role": "viewer", "pin": "4321"}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(r.status(), 409, "names are unique regardless of case");

    let names: Value = app.get("/api/operators/names").await.json().await.unwrap();
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Admin", "Bo"]);

    // The last admin cannot demote or disable themselves.
    let r = app
        .http
        .patch(format!("{}/api/operators/{}", app.url, admin.id))
        .bearer_auth(&admin.token)
        .json(&json!({"role": "floor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let r = app
        .http
        .patch(format!("{}/api/operators/{}", app.url, bo.id))
        .bearer_auth(&admin.token)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_with("/api/me", &bo.token).await.status(),
        401,
        "a role change revokes"
    );

    // Every change reached the AUDIT stream, without any PIN material.
    let js = async_nats::jetstream::new(app.nats().await);
    let stream = js.get_stream("AUDIT").await.unwrap();
    let mut kinds = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while kinds.len() < 3 && Instant::now() < deadline {
        kinds.clear();
        for seq in 1..=10 {
            if let Ok(m) = stream.get_raw_message(seq).await {
                assert_eq!(m.subject.as_str(), "leaf.main.audit");
                let text = String::from_utf8(m.payload.to_vec()).unwrap();
                assert!(!text.contains("argon2") && !text.contains("1234"), "{text}");
                let v: Value = serde_json::from_str(&text).unwrap();
                kinds.push(v["kind"].as_str().unwrap().to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        kinds,
        ["setup.completed", "operator.created", "operator.updated"]
    );
}

#[tokio::test]
async fn a_change_of_access_closes_staff_connections_and_spoils_tickets() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let floor = app.add_operator(&admin, "Flo", "floor", "2468").await;
    let ticket = |token: String| {
        let app = &app;
        async move {
            let r = app
                .post_json("/api/ws-ticket", json!({}), Some(&token))
                .await;
            r.json::<Value>().await.unwrap()["ticket"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let ws_url = |t: &str| format!("{}/ws?ticket={t}", app.url.replacen("http://", "ws://", 1));
    let open = ticket(floor.token.clone()).await;
    let spare = ticket(floor.token.clone()).await;
    let (mut staff, _) = tokio_tungstenite::connect_async(ws_url(&open))
        .await
        .unwrap();
    assert_eq!(next_json(&mut staff).await["role"], "floor");

    // Promoting to admin needs a new (6-digit) PIN in the same change.
    let promote = |body: Value| {
        app.http
            .patch(format!("{}/api/operators/{}", app.url, floor.id))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let r = promote(json!({"role": "admin"})).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_pin");
    assert_eq!(
        promote(json!({"role": "admin", "pin": "246810"}))
            .await
            .unwrap()
            .status(),
        200
    );

    // The open staff connection is closed at once…
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match futures::StreamExt::next(&mut staff).await {
                None | Some(Err(_)) => break,
                Some(Ok(m)) if m.is_close() => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the revoked staff connection stayed open");
    // …and a ticket issued before the change is worthless.
    match tokio_tungstenite::connect_async(ws_url(&spare)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!(
            "a ticket from before the change was accepted: {:?}",
            other.map(|_| ())
        ),
    }
}
