//! Faults of the store: the PostgreSQL server drops every connection of the
//! service (a restart, a failover). Answers during the outage are problem
//! documents, the service recovers by itself, and a write retried with its key
//! across the outage is recorded once.

use std::time::{Duration, Instant};

use crate::support;
use crate::support::{Backend, Harness, address_change, problem};
use estation_central::wire::*;
use reqwest::StatusCode;

fn terminate_connections(database_url: &str) {
    let name = database_url.rsplit('/').next().unwrap().to_owned();
    let sql = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let terminated: i64 = support::postgres::query_value(database_url, &sql);
    assert!(terminated > 0, "the service had connections to drop");
}

#[tokio::test]
async fn the_service_recovers_when_the_database_drops_its_connections() {
    if support::postgres::server().is_none() {
        return;
    }
    let h = Harness::start(Backend::Postgres).await;
    // Warm the pool: several connections in use.
    for i in 0..4 {
        let response = h
            .post(
                "/v1/ratings",
                &format!("warm-{i}"),
                &serde_json::json!({
                    "service_id": "household-proof", "score": "good"
                }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    terminate_connections(&h.database);

    // A submission sent into the outage: answered (OK or a problem), never hung.
    let first = h
        .post(
            "/v1/submissions",
            "across-outage",
            &address_change(0, "13800000000"),
        )
        .send()
        .await
        .unwrap();
    if first.status() != StatusCode::OK {
        assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(problem(first).await.code, ProblemCode::Internal);
    }
    // The service comes back by itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = h.get("/v1/catalogue").send().await.unwrap();
        if response.status() == StatusCode::OK {
            break;
        }
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        problem(response).await;
        assert!(Instant::now() < deadline, "the service did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The kiosk retries with the same key: one submission, whatever the first try did.
    let retried = h
        .post(
            "/v1/submissions",
            "across-outage",
            &address_change(0, "13800000000"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::OK);
    let again: SubmissionReceipt = h
        .post(
            "/v1/submissions",
            "across-outage",
            &address_change(0, "13800000000"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retried.json::<SubmissionReceipt>().await.unwrap(), again);
    assert_eq!(h.rows("SELECT COUNT(*) FROM submissions"), 1);
    // Heartbeats go through their batch writer, which recovers too.
    let ack = h
        .post("/v1/heartbeats", "after-outage", &support::heartbeat())
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::OK);
    assert_eq!(h.rows("SELECT COUNT(*) FROM heartbeats"), 1);
}
