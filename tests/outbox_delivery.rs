//! The outbox and its sender against the reference server: outages, faults,
//! restarts, refusals. Rows in the server's database are the evidence.

use crate::support::central as central_support;
use crate::support::outbox::{quick, until};

use std::sync::Arc;
use std::time::Duration;

use central_support::{Fault, FaultProxy, address_change, client, column, free_port, rows};
use estation::central_client::RetryPolicy;
use estation::central_client::outbox::{EntryOutcome, Outbox, OutboxKind};
use estation_central::server::{EmbeddedCentral, ServerOptions};
use estation_central::wire::{RatingRequest, Score};

fn rating(i: usize) -> RatingRequest {
    RatingRequest {
        service_id: "household-proof".into(),
        certificate_id: None,
        score: if i.is_multiple_of(2) {
            Score::Good
        } else {
            Score::Bad
        },
        reasons: vec![format!("reason-{i}")],
    }
}

#[tokio::test]
async fn requests_made_while_the_server_is_down_arrive_once_in_order_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port().await;
    let token = "fixed-demo-token";
    let api = client(&format!("http://{addr}"), "demo-kiosk-01", token);
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
    let sender = outbox.clone().spawn_sender_with(api, quick());

    let mut keys = Vec::new();
    for i in 0..5 {
        let key = format!("sub-{i}");
        outbox
            .enqueue(OutboxKind::Submission, &key, &address_change(i))
            .unwrap();
        keys.push(key);
        outbox
            .enqueue(OutboxKind::Rating, &format!("rate-{i}"), &rating(i))
            .unwrap();
    }
    let mut status = outbox.status();
    let offline = until(&mut status, |s| s.consecutive_failures >= 3).await;
    assert!(offline.waiting_for_network());
    assert_eq!(offline.backlog, 10);
    assert!(outbox.pending().unwrap()[0].attempts >= 3);
    assert!(outbox.pending().unwrap()[0].last_error.is_some());

    let central = EmbeddedCentral::start_with(
        &dir.path().join("central"),
        ServerOptions {
            listen: addr,
            demo_kiosk_token: Some(token.into()),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    outbox.nudge();
    let done = until(&mut status, |s| s.backlog == 0).await;
    assert_eq!((done.rejected, done.consecutive_failures), (0, 0));
    sender.stop().await.unwrap();

    let db = central.db_path();
    assert_eq!(rows(db, "SELECT COUNT(*) FROM submissions"), 5);
    assert_eq!(rows(db, "SELECT COUNT(*) FROM ratings"), 5);
    // Receipt numbers are handed out in arrival order: arrival order is enqueue order.
    assert_eq!(
        column(
            db,
            "SELECT idempotency_key FROM submissions ORDER BY receipt_number"
        ),
        keys
    );
    assert!(outbox.pending().unwrap().is_empty());
}

#[tokio::test]
async fn faults_on_the_way_cost_retries_not_rows() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(central.local_addr()).await;
    // The client gives up after one attempt, so every fault reaches the outbox.
    let api =
        estation::central_client::CentralClient::new(estation::central_client::ClientConfig {
            request_timeout: Duration::from_millis(500),
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..central_support::client_config(
                &proxy.url(),
                central.kiosk_id(),
                central.kiosk_token(),
            )
        })
        .unwrap();
    proxy.script([
        Fault::CutAfterForward,
        Fault::Status500,
        Fault::Malformed,
        Fault::Stall,
        Fault::CutAfterForward,
        Fault::Oversized(8 * 1024 * 1024),
    ]);
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
    for i in 0..4 {
        outbox
            .enqueue(OutboxKind::Submission, &format!("s{i}"), &address_change(i))
            .unwrap();
    }
    let sender = outbox.clone().spawn_sender_with(api, quick());
    let mut status = outbox.status();
    until(&mut status, |s| s.backlog == 0).await;
    sender.stop().await.unwrap();
    assert!(proxy.requests() >= 10, "six faults and four deliveries");
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        4
    );
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(DISTINCT idempotency_key) FROM submissions"
        ),
        4
    );
}

#[tokio::test]
async fn refused_entries_are_set_aside_and_the_queue_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
    let mut invalid = address_change(0);
    invalid.fields.clear();
    outbox
        .enqueue(OutboxKind::Submission, "invalid", &invalid)
        .unwrap();
    outbox
        .enqueue(
            OutboxKind::Rating,
            "corrupt",
            &serde_json::json!({"stars": 5}),
        )
        .unwrap();
    outbox
        .enqueue(OutboxKind::Submission, "valid", &address_change(1))
        .unwrap();
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let sender = outbox.clone().spawn_sender_with(api, quick());
    let mut status = outbox.status();
    let done = until(&mut status, |s| s.backlog == 0).await;
    sender.stop().await.unwrap();
    assert_eq!(done.rejected, 2);
    let rejected: Vec<_> = outbox
        .rejected()
        .unwrap()
        .into_iter()
        .map(|e| e.idempotency_key)
        .collect();
    assert_eq!(rejected, ["invalid", "corrupt"]);
    assert_eq!(
        column(central.db_path(), "SELECT idempotency_key FROM submissions"),
        ["valid"]
    );
    // What the kiosk can tell the resident: the service's receipt number for the
    // accepted one, the reason for the refused one.
    let receipt = column(central.db_path(), "SELECT receipt_number FROM submissions");
    assert_eq!(
        outbox.outcome("valid").unwrap(),
        EntryOutcome::Delivered {
            receipt: Some(receipt[0].clone())
        }
    );
    match outbox.outcome("invalid").unwrap() {
        EntryOutcome::Rejected(refusal) => {
            assert_eq!(refusal.message_key, "central-error-invalid-input");
            assert!(!refusal.reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        outbox.outcome("never-stored").unwrap(),
        EntryOutcome::Unknown
    );
}

/// The sender's own database failing (here: its table vanishes under it, as a
/// damaged file or a full disk would) must not end it for good: it restarts with
/// a backoff, says so in the status, the self-test and the heartbeat, and
/// delivers once the database is back.
#[tokio::test]
async fn a_sender_whose_database_fails_restarts_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let path = dir.path().join("outbox.sqlite");
    let outbox = Arc::new(Outbox::open(&path).unwrap());
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let sender = outbox.clone().spawn_sender_with(api, quick());
    let tamper = rusqlite::Connection::open(&path).unwrap();
    tamper
        .execute_batch("ALTER TABLE outbox RENAME TO outbox_hidden")
        .unwrap();
    outbox.nudge();
    let mut status = outbox.status();
    let failing = until(&mut status, |s| s.sender_failures >= 2).await;
    assert!(failing.sender_failures >= 2, "it keeps trying");

    let check = estation::ops::selftest::run_selftest(&estation::ops::selftest::SelftestContext {
        outbox: Some(outbox.clone()),
        ..Default::default()
    })
    .await;
    let outbox_check = check.checks.iter().find(|c| c.id == "outbox").unwrap();
    assert_eq!(outbox_check.code, "sender-failing");
    let heartbeat = estation::ops::heartbeat::build_heartbeat(
        Default::default(),
        &outbox.status().borrow(),
        time::OffsetDateTime::now_utc(),
    );
    let device = heartbeat
        .devices
        .iter()
        .find(|d| d.device == "outbox")
        .unwrap();
    assert_eq!(device.detail.as_deref(), Some("sender-failing"));

    tamper
        .execute_batch("ALTER TABLE outbox_hidden RENAME TO outbox")
        .unwrap();
    outbox
        .enqueue(OutboxKind::Submission, "after-repair", &address_change(3))
        .unwrap();
    until(&mut status, |s| s.backlog == 0 && s.sender_failures == 0).await;
    sender.stop().await.unwrap();
    assert_eq!(
        column(central.db_path(), "SELECT idempotency_key FROM submissions"),
        ["after-repair"]
    );
}

#[tokio::test]
async fn entries_survive_a_restart_of_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    {
        let outbox = Outbox::open(&path).unwrap();
        outbox.enqueue_rating(&rating(1)).unwrap();
        outbox.enqueue_submission(&address_change(2)).unwrap();
    }
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let outbox = Arc::new(Outbox::open(&path).unwrap());
    assert_eq!(outbox.status().borrow().backlog, 2);
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let sender = outbox.clone().spawn_sender_with(api, quick());
    let mut status = outbox.status();
    until(&mut status, |s| s.backlog == 0).await;
    sender.stop().await.unwrap();
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM ratings WHERE score = 'bad'"
        ),
        1
    );
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        1
    );
}
