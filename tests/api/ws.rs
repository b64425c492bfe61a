use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{Ws, next_json, next_json_within, send_json, spawn_app};

fn subject(tournament: &str, channel: &str) -> String {
    format!("leaf.main.t.{tournament}.{channel}")
}

async fn subscribe(ws: &mut Ws, tournament: &str) {
    send_json(ws, json!({"type": "subscribe", "tournament": tournament})).await;
    let reply = next_json(ws).await;
    assert_eq!(
        reply,
        json!({"type": "subscribed", "tournament": tournament})
    );
}

#[tokio::test]
async fn a_client_receives_its_tournaments_messages_and_no_others() {
    let app = spawn_app().await;
    let nats = app.nats().await;
    let (a, b) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let mut client_a = app.ws_connect().await;
    let mut client_b = app.ws_connect().await;
    subscribe(&mut client_a, &a).await;
    subscribe(&mut client_b, &b).await;

    nats.publish(subject(&b, "state"), r#"{"for":"b"}"#.into())
        .await
        .unwrap();
    nats.publish(subject(&a, "audit"), r#"{"private":true}"#.into())
        .await
        .unwrap();
    nats.publish(subject(&a, "state"), r#"{"for":"a"}"#.into())
        .await
        .unwrap();
    nats.flush().await.unwrap();

    // Messages arrive in order: had B's or A's audit reached client A, it would come first.
    let got = next_json(&mut client_a).await;
    assert_eq!(
        got,
        json!({"type": "publication", "tournament": a, "channel": "state", "data": {"for": "a"}})
    );
    let got = next_json(&mut client_b).await;
    assert_eq!(got["tournament"], b.as_str());
    assert_eq!(got["data"], json!({"for": "b"}));
    assert_eq!(
        next_json_within(&mut client_a, Duration::from_millis(300)).await,
        None
    );
    assert_eq!(
        next_json_within(&mut client_b, Duration::from_millis(300)).await,
        None
    );

    // After unsubscribing, nothing more.
    send_json(
        &mut client_a,
        json!({"type": "unsubscribe", "tournament": a}),
    )
    .await;
    assert_eq!(next_json(&mut client_a).await["type"], "unsubscribed");
    nats.publish(subject(&a, "state"), r#"{"late":1}"#.into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    assert_eq!(
        next_json_within(&mut client_a, Duration::from_millis(300)).await,
        None
    );
}

#[tokio::test]
async fn a_tournament_id_that_is_not_a_uuid_is_rejected() {
    let app = spawn_app().await;
    let nats = app.nats().await;
    let mut ws = app.ws_connect().await;
    for bad in [
        "foo",
        "*",
        ">",
        "foo.>",
        "a.b.c",
        "",
        "00000000-0000-0000-0000-00000000000G",
    ] {
        send_json(&mut ws, json!({"type": "subscribe", "tournament": bad})).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "error", "{bad:?}: {reply}");
        assert_eq!(reply["error"], "invalid_tournament_id", "{bad:?}");
    }
    send_json(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await["error"], "invalid_message");

    // None of them subscribed to anything: a publication on any tournament stays away.
    let other = uuid::Uuid::new_v4().to_string();
    nats.publish(subject(&other, "state"), "{}".into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    assert_eq!(
        next_json_within(&mut ws, Duration::from_millis(300)).await,
        None
    );
    let (_, health) = app.health().await;
    assert_eq!(
        health["websocket"]["clients"], 1,
        "the connection stays open"
    );
}

#[tokio::test]
async fn health_is_pushed_live_to_clients_that_watch_it() {
    let app = spawn_app().await;
    let mut ws = app.ws_connect().await;
    send_json(&mut ws, json!({"type": "watch_health"})).await;
    let mut pushes = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while pushes < 3 && Instant::now() < deadline {
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "health" {
                assert_eq!(v["health"]["status"], "ok");
                assert_eq!(v["health"]["websocket"]["clients"], 1);
                pushes += 1;
            }
        }
    }
    assert_eq!(pushes, 3, "one at once, then about every second");
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_while_others_keep_receiving() {
    const MESSAGES: usize = 1500;
    let app = spawn_app().await;
    let nats = app.nats().await;
    let t = uuid::Uuid::new_v4().to_string();
    let mut slow = app.ws_connect().await;
    let mut fast = app.ws_connect().await;
    subscribe(&mut slow, &t).await;
    subscribe(&mut fast, &t).await;

    let reader = tokio::spawn(async move {
        let mut seqs = Vec::with_capacity(MESSAGES);
        let mut worst_ms = 0u128;
        while seqs.len() < MESSAGES {
            let m = next_json(&mut fast).await;
            worst_ms = worst_ms.max(now_ms() - m["data"]["sent"].as_u64().unwrap() as u128);
            seqs.push(m["data"]["seq"].as_u64().unwrap() as usize);
        }
        (seqs, worst_ms, fast)
    });

    // 1500 × 32 KiB at about 500 a second: far more than the slow client's queue and
    // socket buffers hold, at a pace a reading client keeps up with.
    let pad = "x".repeat(32 * 1024);
    for seq in 0..MESSAGES {
        let payload = json!({"seq": seq, "sent": now_ms() as u64, "pad": pad}).to_string();
        nats.publish(subject(&t, "state"), payload.into())
            .await
            .unwrap();
        if seq % 10 == 9 {
            nats.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    nats.flush().await.unwrap();

    let (seqs, worst_ms, _fast) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the fast client received everything")
        .unwrap();
    assert_eq!(seqs, (0..MESSAGES).collect::<Vec<_>>(), "all, in order");
    println!("fast client: {MESSAGES} messages, worst delivery {worst_ms} ms");

    // The slow client was cut off: after what its buffers held, the stream ends.
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        let mut n = 0;
        while let Some(Ok(m)) = slow.next().await {
            if m.is_close() {
                break;
            }
            n += 1;
        }
        n
    })
    .await
    .expect("the slow client's connection was closed");
    assert!(
        drained < MESSAGES,
        "the slow client got only what was buffered ({drained})"
    );
    let (_, health) = app.health().await;
    assert_eq!(
        health["websocket"]["clients"], 1,
        "only the fast client remains"
    );
    assert_eq!(
        health["websocket"]["dropped_slow"], 1,
        "and health counts the drop"
    );
}
