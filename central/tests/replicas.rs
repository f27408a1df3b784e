//! Two service processes' worth of state (two replicas, each with its own pool,
//! caches and heartbeat writer) on one PostgreSQL database: what one replica
//! did, the other knows, checked on rows.

use std::sync::Arc;

use crate::support;
use crate::support::{Backend, address_change, certificate_request, heartbeat};
use base64::Engine;
use ed25519_dalek::Signer;
use estation_central::server::store::{EnrollmentCodeRecord, Redeemed, Store, sha256};
use estation_central::server::{EmbeddedCentral, KeySource, ServerOptions};
use estation_central::wire::*;
use reqwest::StatusCode;

const TOKEN: &str = "replica-test-kiosk-token-000000000000000000";

struct Replicas {
    a: EmbeddedCentral,
    b: EmbeddedCentral,
    database: String,
    http: reqwest::Client,
    _dirs: [tempfile::TempDir; 3],
}

impl Replicas {
    async fn start() -> Option<Replicas> {
        let server = support::postgres::server()?;
        let database = server.fresh_database();
        let keys = tempfile::tempdir().unwrap();
        let options = ServerOptions {
            database: Some(database.clone()),
            keys: KeySource::Dir {
                path: keys.path().join("keys"),
                create: true,
            },
            demo_kiosk_token: Some(TOKEN.into()),
            ..ServerOptions::default()
        };
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = EmbeddedCentral::start_with(dir_a.path(), options.clone())
            .await
            .unwrap();
        let b = EmbeddedCentral::start_with(dir_b.path(), options)
            .await
            .unwrap();
        Some(Replicas {
            a,
            b,
            database,
            http: reqwest::Client::new(),
            _dirs: [keys, dir_a, dir_b],
        })
    }

    fn rows(&self, sql: &str) -> i64 {
        support::rows(Backend::Postgres, &self.database, sql)
    }

    fn post(
        &self,
        replica: &EmbeddedCentral,
        path: &str,
        key: &str,
        body: &impl serde::Serialize,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", replica.base_url()))
            .header(KIOSK_ID_HEADER, replica.kiosk_id())
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .bearer_auth(TOKEN)
            .json(body)
    }

    fn get(&self, replica: &EmbeddedCentral, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", replica.base_url()))
            .header(KIOSK_ID_HEADER, replica.kiosk_id())
            .bearer_auth(TOKEN)
    }
}

async fn ok_json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_write_retried_on_the_other_replica_gets_the_first_answer_and_no_second_row() {
    let Some(r) = Replicas::start().await else {
        return;
    };
    assert_eq!(
        r.a.public_keys(),
        r.b.public_keys(),
        "one deployment, one set of keys"
    );

    // Retried after an answer was lost: the other replica answers from the ledger.
    let first: SubmissionReceipt = ok_json(r.post(
        &r.a,
        "/v1/submissions",
        "retry-1",
        &address_change(0, "13800000000"),
    ))
    .await;
    let retried: SubmissionReceipt = ok_json(r.post(
        &r.b,
        "/v1/submissions",
        "retry-1",
        &address_change(0, "13800000000"),
    ))
    .await;
    assert_eq!(first, retried);
    assert_eq!(r.rows("SELECT COUNT(*) FROM submissions"), 1);
    assert_eq!(
        r.rows("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = 'retry-1'"),
        1
    );

    // Both replicas at once with one key, many times: one row per key, one answer.
    for round in 0..8 {
        let key = format!("race-{round}");
        let request = certificate_request("household-proof", Locale::ZhCn);
        let (x, y) = tokio::join!(
            ok_json::<IssuedCertificate>(r.post(&r.a, "/v1/certificates", &key, &request)),
            ok_json::<IssuedCertificate>(r.post(&r.b, "/v1/certificates", &key, &request)),
        );
        assert_eq!(x, y, "round {round}");
    }
    assert_eq!(r.rows("SELECT COUNT(*) FROM issued_certificates"), 8);

    // Same key, other body, other replica: refused, nothing written.
    let reused = r
        .post(
            &r.b,
            "/v1/submissions",
            "retry-1",
            &address_change(1, "13800000000"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.rows("SELECT COUNT(*) FROM submissions"), 1);

    // Receipt numbers handed out by both replicas at once never collide.
    let mut sends = Vec::new();
    for i in 0..10 {
        let replica = if i % 2 == 0 { &r.a } else { &r.b };
        sends.push(tokio::spawn(ok_json::<SubmissionReceipt>(r.post(
            replica,
            "/v1/submissions",
            &format!("parallel-{i}"),
            &address_change(i, "13800000000"),
        ))));
    }
    let mut receipts = Vec::new();
    for send in sends {
        receipts.push(send.await.unwrap());
    }
    let mut numbers: Vec<&str> = receipts.iter().map(|r| r.receipt_number.as_str()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 10);
    assert_eq!(r.rows("SELECT COUNT(*) FROM submissions"), 11);

    // Heartbeats: a retry on the other replica is the same heartbeat.
    let ack_a: HeartbeatAck = ok_json(r.post(&r.a, "/v1/heartbeats", "hb-1", &heartbeat())).await;
    let ack_b: HeartbeatAck = ok_json(r.post(&r.b, "/v1/heartbeats", "hb-1", &heartbeat())).await;
    assert_eq!(ack_a, ack_b);
    assert_eq!(r.rows("SELECT COUNT(*) FROM heartbeats"), 1);
}

#[tokio::test]
async fn a_bundle_published_through_one_replica_is_served_by_the_other() {
    let Some(r) = Replicas::start().await else {
        return;
    };
    let before = r.get(&r.b, "/v1/config").send().await.unwrap();
    let etag_before = before.headers()["etag"].to_str().unwrap().to_owned();

    let admin_token = r.a.register_admin("ops").await.unwrap();
    let signer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let bundle = ConfigBundle {
        version: 40,
        issued_at: time::OffsetDateTime::now_utc(),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::days(30),
        station_name: LocalizedText::new("测试", "測試", "Test"),
        locales: Locale::ALL.to_vec(),
        default_locale: Locale::ZhCn,
        idle_timeout_secs: 60,
        disabled_services: vec![],
        technician_pin_hashes: vec![],
        settings: Default::default(),
    };
    let payload = serde_json::to_string(&bundle).unwrap();
    let signed = SignedConfig {
        signature: base64::engine::general_purpose::STANDARD
            .encode(signer.sign(payload.as_bytes()).to_bytes()),
        payload,
        key_id: "test-key".into(),
    };
    let published = r
        .http
        .post(format!("{}/v1/admin/bundles", r.a.base_url()))
        .basic_auth("ops", Some(&admin_token))
        .json(&PublishBundleRequest {
            allow_no_kiosk: false,
            selector: "demo-*".into(),
            bundle: signed.clone(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), StatusCode::OK);
    assert_eq!(r.rows("SELECT COUNT(*) FROM published_bundles"), 1);

    // The other replica had the old bundle cached; it serves the new one at once.
    let after = r
        .get(&r.b, "/v1/config")
        .header("if-none-match", &etag_before)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::OK);
    let served: SignedConfig = after.json().await.unwrap();
    assert_eq!(served, signed);
    let ack: HeartbeatAck =
        ok_json(r.post(&r.b, "/v1/heartbeats", "after-publish", &heartbeat())).await;
    assert_eq!(ack.config_version, Some(40));

    // The same version again, through the other replica: refused.
    let again = r
        .http
        .post(format!("{}/v1/admin/bundles", r.b.base_url()))
        .basic_auth("ops", Some(&admin_token))
        .json(&PublishBundleRequest {
            allow_no_kiosk: false,
            selector: "*".into(),
            bundle: signed,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.rows("SELECT COUNT(*) FROM published_bundles"), 1);
}

#[tokio::test]
async fn an_enrollment_code_is_used_once_whichever_replica_races_for_it() {
    let Some(r) = Replicas::start().await else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    let code = "ENROLL-CODE-1";
    r.a.store()
        .create_enrollment_code(&EnrollmentCodeRecord {
            code_sha256: sha256(code.as_bytes()),
            kiosk_id: "binjiang-07".into(),
            created_by: "ops".into(),
            created_at: now,
            expires_at: now + time::Duration::hours(24),
            config_keys: Vec::new(),
        })
        .await
        .unwrap();
    let stores: [Arc<dyn Store>; 2] = [r.a.store().clone(), r.b.store().clone()];
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            store
                .redeem_enrollment_code(&sha256(code.as_bytes()), time::OffsetDateTime::now_utc())
                .await
                .unwrap()
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Redeemed::Enrolled { kiosk_id, .. } => winners.push(kiosk_id),
            other => assert_eq!(other, Redeemed::AlreadyUsed),
        }
    }
    assert_eq!(winners, ["binjiang-07"]);
    assert_eq!(
        r.rows("SELECT COUNT(*) FROM enrollment_codes WHERE used_at IS NOT NULL"),
        1
    );
    // Expired codes are refused too.
    r.b.store()
        .create_enrollment_code(&EnrollmentCodeRecord {
            code_sha256: sha256(b"old"),
            kiosk_id: "binjiang-08".into(),
            created_by: "ops".into(),
            created_at: now - time::Duration::hours(48),
            expires_at: now - time::Duration::hours(24),
            config_keys: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        r.a.store()
            .redeem_enrollment_code(&sha256(b"old"), now)
            .await
            .unwrap(),
        Redeemed::Expired
    );
    assert_eq!(
        r.a.store()
            .redeem_enrollment_code(&sha256(b"never issued"), now)
            .await
            .unwrap(),
        Redeemed::Unknown
    );
    // The database holds no signing key.
    assert_eq!(
        r.rows("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'signing_keys'"),
        0
    );
}
