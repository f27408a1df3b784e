//! Moving a SQLite deployment to PostgreSQL with the command line
//! (`estation-central migrate-store`), then serving the copy with
//! `estation-central serve --database postgres://...`: every row arrives, the
//! kiosks' tokens, the certificates and the published bundles work as before.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use crate::support::{Backend, address_change, certificate_request, heartbeat};
use base64::Engine;
use ed25519_dalek::Signer;
use estation_central::server::EmbeddedCentral;
use estation_central::wire::*;
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_estation-central");

const TABLES: &[&str] = &[
    "kiosks",
    "admins",
    "categories",
    "services",
    "residents",
    "contributions",
    "applications",
    "origin_certificates",
    "issued_certificates",
    "submissions",
    "ratings",
    "heartbeats",
    "idempotency_keys",
    "config_bundles",
    "published_bundles",
    "phone_links",
    "receipt_counters",
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the server when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_sqlite_deployment_moves_to_postgresql_and_is_served_from_there() {
    let Some(server) = support::postgres::server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    // A SQLite deployment with some history.
    let central = EmbeddedCentral::start(dir.path()).await.unwrap();
    let token = central.kiosk_token().to_owned();
    let post = |path: &str, key: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", central.base_url()))
            .header(KIOSK_ID_HEADER, central.kiosk_id())
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .bearer_auth(&token)
            .json(&body)
    };
    let issued: IssuedCertificate = post(
        "/v1/certificates",
        "c-1",
        serde_json::to_value(certificate_request("household-proof", Locale::EnUs)).unwrap(),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let receipt: SubmissionReceipt = post(
        "/v1/submissions",
        "s-1",
        serde_json::to_value(address_change(1, "13800000000")).unwrap(),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        post(
            "/v1/ratings",
            "r-1",
            serde_json::json!({"service_id": "household-proof", "score": "good"})
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        post(
            "/v1/heartbeats",
            "h-1",
            serde_json::to_value(heartbeat()).unwrap()
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::OK
    );
    let link = http
        .post(format!(
            "{}/v1/certificates/{}/phone-link",
            central.base_url(),
            issued.certificate_id
        ))
        .header(KIOSK_ID_HEADER, central.kiosk_id())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::OK);
    let admin_token = central.register_admin("ops").await.unwrap();
    let payload = serde_json::to_string(&ConfigBundle {
        version: 9,
        issued_at: time::OffsetDateTime::now_utc(),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::days(10),
        station_name: LocalizedText::new("站", "站", "Station"),
        locales: Locale::ALL.to_vec(),
        default_locale: Locale::ZhCn,
        idle_timeout_secs: 60,
        disabled_services: vec![],
        technician_pin_hashes: vec![],
        settings: Default::default(),
    })
    .unwrap();
    let signature = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).sign(payload.as_bytes());
    let published = http
        .post(format!("{}/v1/admin/bundles", central.base_url()))
        .basic_auth("ops", Some(&admin_token))
        .json(&PublishBundleRequest {
            allow_no_kiosk: false,
            selector: "*".into(),
            bundle: SignedConfig {
                payload,
                signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
                key_id: "k".into(),
            },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), StatusCode::OK);
    let db = central.db_path().to_owned();
    let keys = central.public_keys();
    central.shutdown().await.unwrap();

    // Move it.
    let url = server.fresh_database();
    let output = Command::new(BIN)
        .args(["migrate-store", "--from"])
        .arg(&db)
        .args(["--to", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8(output.stdout).unwrap();
    let sqlite = db.to_string_lossy().into_owned();
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let rows = support::rows(Backend::Sqlite, &sqlite, &sql);
        assert_eq!(
            support::rows(Backend::Postgres, &url, &sql),
            rows,
            "{table}"
        );
        assert!(report.contains(&format!("{table}\t{rows}\n")), "{report}");
    }
    assert!(
        support::rows(
            Backend::Postgres,
            &url,
            "SELECT COUNT(*) FROM contributions"
        ) > 100
    );

    // A second run into the same database is refused and changes nothing.
    let again = Command::new(BIN)
        .args(["migrate-store", "--from"])
        .arg(&db)
        .args(["--to", &url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert_eq!(
        support::rows(Backend::Postgres, &url, "SELECT COUNT(*) FROM submissions"),
        1
    );

    // Serve the copy with the same keys: the same kiosk, certificates and bundle.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serve = Child(
        Command::new(BIN)
            .args(["serve", "--database", &url, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--key-dir")
            .arg(dir.path().join("keys"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let served_keys: PublicKeys = loop {
        if let Ok(response) = http.get(format!("{base}/v1/keys")).send().await
            && response.status() == StatusCode::OK
        {
            break response.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(served_keys, keys);
    let verified: CertificateVerification = http
        .get(format!("{base}/v1/verify/{}", issued.verification_code))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verified.document, issued.document);
    let progress = http
        .get(format!(
            "{base}/v1/applications/{}/progress",
            receipt.receipt_number
        ))
        .header(KIOSK_ID_HEADER, "demo-kiosk-01")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        progress.status(),
        StatusCode::OK,
        "the kiosk's token moved too"
    );
    let replay: SubmissionReceipt = http
        .post(format!("{base}/v1/submissions"))
        .header(KIOSK_ID_HEADER, "demo-kiosk-01")
        .header(IDEMPOTENCY_KEY_HEADER, "s-1")
        .bearer_auth(&token)
        .json(&address_change(1, "13800000000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        replay, receipt,
        "the ledger moved: a late retry gets the first answer"
    );
    let next: SubmissionReceipt = http
        .post(format!("{base}/v1/submissions"))
        .header(KIOSK_ID_HEADER, "demo-kiosk-01")
        .header(IDEMPOTENCY_KEY_HEADER, "s-2")
        .bearer_auth(&token)
        .json(&address_change(2, "13800000000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(next.receipt_number, receipt.receipt_number);
    let config: SignedConfig = http
        .get(format!("{base}/v1/config"))
        .header(KIOSK_ID_HEADER, "demo-kiosk-01")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config.key_id, "k", "the published bundle is served");

    // The other subcommands take --database too.
    let output = Command::new(BIN)
        .args(["kiosk-add", "--database", &url, "--id", "binjiang-09"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim().len(), 43);
    assert_eq!(
        support::rows(
            Backend::Postgres,
            &url,
            "SELECT COUNT(*) FROM kiosks WHERE kiosk_id = 'binjiang-09'"
        ),
        1
    );
}
