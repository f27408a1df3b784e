//! Contract tests: the kiosk's client against the reference server, over real
//! HTTP on loopback.

use crate::support::central as central_support;

use central_support::{address_change, client, rows};
use estation::central_client::{CentralError, ConfigFetch, Connectivity, wire::*};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{Clock, EmbeddedCentral, ServerOptions};
use time::macros::datetime;

async fn central() -> (EmbeddedCentral, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(dir.path()).await.unwrap();
    (central, dir)
}

fn certificate_request(service_id: &str, resident: usize) -> IssueCertificateRequest {
    let r = &DEMO_RESIDENTS[resident];
    IssueCertificateRequest {
        service_id: service_id.into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        locale: Locale::ZhTw,
        period: None,
    }
}

#[tokio::test]
async fn every_call_of_the_client_works_against_the_reference_server() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let connectivity = api.connectivity();
    assert_eq!(*connectivity.borrow(), Connectivity::Unknown);

    let catalogue = api.catalogue().await.unwrap();
    assert_eq!(*connectivity.borrow(), Connectivity::Online);
    let household = catalogue
        .services
        .iter()
        .find(|s| s.id == "household-proof")
        .unwrap();
    assert_eq!(household.name.get("zh-TW"), "戶籍證明");
    assert!(household.kind.needs_live_central());

    let r = &DEMO_RESIDENTS[2];
    let identity = api
        .lookup_identity(&IdentityLookupRequest {
            card_number: r.card_number.into(),
            id_number: r.id_number.into(),
        })
        .await
        .unwrap();
    assert_eq!(identity.name, "王堃");

    let certificate = api
        .issue_certificate(&certificate_request("household-proof", 2))
        .await
        .unwrap();
    assert_eq!(certificate.document.title, "戶籍證明");
    let keys = api.public_keys().await.unwrap();
    let key = keys.certificate.verifying_key().unwrap();
    QrPayload::parse(&certificate.qr_payload)
        .unwrap()
        .verify(&key)
        .unwrap();
    let verified = api
        .verify_certificate(&certificate.verification_code)
        .await
        .unwrap();
    assert_eq!(verified.document, certificate.document);
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM issued_certificates"
        ),
        1
    );

    let origin = api
        .origin_certificate("CO2025440100003", "4401960003")
        .await
        .unwrap();
    assert_eq!(origin.status, OriginCertificateStatus::Approved);
    let form = api
        .origin_certificate_document("CO2025440100003", "4401960003")
        .await
        .unwrap();
    // The paper carries an unguessable verification code; the certificate
    // number is printed too but verifies nothing.
    assert_ne!(form.verification_code, "R2544010000003");
    assert!(
        form.subtitle
            .as_deref()
            .is_some_and(|s| s.contains("R2544010000003"))
    );
    let verified = api
        .verify_certificate(&form.verification_code)
        .await
        .unwrap();
    assert_eq!(verified.document, form);

    let progress = api.application_progress("SQ2025060100012").await.unwrap();
    assert_eq!(progress.status, ApplicationStatus::UnderReview);

    let receipt = api.submit("sub-1", &address_change(0)).await.unwrap();
    assert!(receipt.receipt_number.starts_with("RC"));
    let rating = RatingRequest {
        service_id: "household-proof".into(),
        certificate_id: Some(certificate.certificate_id.clone()),
        score: Score::Good,
        reasons: vec![],
    };
    api.rate("rate-1", &rating).await.unwrap();
    let heartbeat = Heartbeat {
        sent_at: datetime!(2025-06-02 10:00 UTC),
        app_version: "0.1.0".into(),
        config_version: None,
        outbox_backlog: 3,
        devices: vec![],
    };
    let ack = api.heartbeat("hb-1", &heartbeat).await.unwrap();
    assert_eq!(ack.config_version, Some(1));
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM ratings WHERE certificate_id IS NOT NULL AND score = 'good'"
        ),
        1
    );
    assert_eq!(
        rows(central.db_path(), "SELECT outbox_backlog FROM heartbeats"),
        3
    );

    let ConfigFetch::Fetched { etag, config } = api.config(None).await.unwrap() else {
        panic!("the first fetch returns the bundle");
    };
    assert!(config.payload.contains("\"version\":1"));
    assert_eq!(
        api.config(etag.as_deref()).await.unwrap(),
        ConfigFetch::NotModified
    );
}

#[tokio::test]
async fn refusals_become_typed_errors_with_message_keys() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );

    let mut stranger = certificate_request("household-proof", 0);
    stranger.card_number = "Z00000000".into();
    let err = api.issue_certificate(&stranger).await.unwrap_err();
    assert_eq!(err.message_key(), "central-error-resident-not-found");
    assert_eq!(err.problem_code(), Some(ProblemCode::ResidentNotFound));

    let err = api.application_progress("SQ-NOPE").await.unwrap_err();
    assert_eq!(err.message_key(), "central-error-application-not-found");
    let err = api
        .origin_certificate("CO2025330100001", "0000000000")
        .await
        .unwrap_err();
    assert_eq!(err.message_key(), "central-error-origin-not-found");

    let mut incomplete = address_change(1);
    incomplete.fields.clear();
    let err = api.submit("bad-1", &incomplete).await.unwrap_err();
    assert_eq!(err.message_key(), "central-error-invalid-input");
    assert!(!err.is_transient());

    let impostor = client(central.base_url(), central.kiosk_id(), "wrong-token");
    let err = impostor.catalogue().await.unwrap_err();
    assert_eq!(err.problem_code(), Some(ProblemCode::Unauthorized));
    assert_eq!(err.message_key(), "central-error-kiosk-not-authorized");
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        0
    );
}

#[tokio::test]
async fn closed_services_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start_with(
        dir.path(),
        ServerOptions {
            clock: Clock::manual(datetime!(2025-06-07 23:30 +8)),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let catalogue = api.catalogue().await.unwrap();
    assert!(
        !catalogue
            .services
            .iter()
            .find(|s| s.id == "tax-payment-certificate")
            .unwrap()
            .open_now
    );
    let err = api
        .issue_certificate(&certificate_request("tax-payment-certificate", 0))
        .await
        .unwrap_err();
    assert!(matches!(&err, CentralError::Rejected(p) if p.code == ProblemCode::ServiceClosed));
    assert_eq!(err.message_key(), "central-error-service-closed");
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM issued_certificates"
        ),
        0
    );
}

#[tokio::test]
async fn a_replayed_request_changes_nothing() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let first = api.submit("same-key", &address_change(3)).await.unwrap();
    let again = api.submit("same-key", &address_change(3)).await.unwrap();
    assert_eq!(first, again);
    let certificate = api
        .issue_certificate_with_key(
            "cert-key",
            &certificate_request("si-payment-certificate", 0),
        )
        .await
        .unwrap();
    let replayed = api
        .issue_certificate_with_key(
            "cert-key",
            &certificate_request("si-payment-certificate", 0),
        )
        .await
        .unwrap();
    assert_eq!(certificate, replayed);

    let err = api
        .submit("same-key", &address_change(4))
        .await
        .unwrap_err();
    assert_eq!(err.problem_code(), Some(ProblemCode::IdempotencyKeyReused));
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        1
    );
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM issued_certificates"
        ),
        1
    );
}
