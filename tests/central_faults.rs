//! Fault tests of the client: server down, slow, failing, cutting connections,
//! answering garbage or too much. In every case the server's database ends up
//! with each request exactly once, or not at all when the client reports failure.

use crate::support::central as central_support;

use std::time::Duration;

use central_support::{Fault, FaultProxy, address_change, client, client_config, free_port, rows};
use estation::central_client::{CentralClient, CentralError, Connectivity};
use estation_central::server::EmbeddedCentral;

async fn central_behind_proxy() -> (EmbeddedCentral, FaultProxy, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(dir.path()).await.unwrap();
    let proxy = FaultProxy::start(central.local_addr()).await;
    (central, proxy, dir)
}

#[tokio::test]
async fn server_down_is_unreachable_after_bounded_retries() {
    let addr = free_port().await;
    let api = client(&format!("http://{addr}"), "demo-kiosk-01", "token");
    let err = api.submit("k", &address_change(0)).await.unwrap_err();
    assert!(matches!(err, CentralError::Unreachable(_)), "{err}");
    assert_eq!(err.message_key(), "central-error-unreachable");
    assert!(err.is_offline());
    assert_eq!(*api.connectivity().borrow(), Connectivity::Offline);
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_key() {
    let (central, proxy, _dir) = central_behind_proxy().await;
    proxy.script([Fault::Status500, Fault::Status500]);
    let api = client(&proxy.url(), central.kiosk_id(), central.kiosk_token());
    let receipt = api.submit("key-500", &address_change(0)).await.unwrap();
    assert_eq!(proxy.requests(), 3);
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        1
    );
    assert_eq!(
        rows(
            central.db_path(),
            &format!(
                "SELECT COUNT(*) FROM submissions WHERE receipt_number = '{}' AND idempotency_key = 'key-500'",
                receipt.receipt_number
            )
        ),
        1
    );
}

#[tokio::test]
async fn a_connection_cut_after_the_server_acted_does_not_duplicate() {
    let (central, proxy, _dir) = central_behind_proxy().await;
    proxy.script([Fault::CutAfterForward, Fault::CutAfterForward]);
    let api = client(&proxy.url(), central.kiosk_id(), central.kiosk_token());
    let receipt = api.submit("key-cut", &address_change(1)).await.unwrap();
    // The server handled all three attempts; only the first created a row.
    assert_eq!(proxy.requests(), 3);
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        1
    );
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM idempotency_keys"),
        1
    );
    assert!(receipt.receipt_number.ends_with("000001"));

    // Same for certificates: one issued, the client gets that one.
    proxy.script([Fault::CutAfterForward]);
    let r = &estation_central::seed::DEMO_RESIDENTS[0];
    let request = estation_central::wire::IssueCertificateRequest {
        service_id: "household-proof".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        locale: estation_central::wire::Locale::ZhCn,
        period: None,
    };
    let certificate = api.issue_certificate(&request).await.unwrap();
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM issued_certificates"
        ),
        1
    );
    assert_eq!(
        rows(
            central.db_path(),
            &format!(
                "SELECT COUNT(*) FROM issued_certificates WHERE certificate_id = '{}'",
                certificate.certificate_id
            )
        ),
        1
    );
}

#[tokio::test]
async fn a_stalled_server_times_out_and_the_retry_gets_through() {
    let (central, proxy, _dir) = central_behind_proxy().await;
    proxy.script([Fault::Stall]);
    let config = estation::central_client::ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..client_config(&proxy.url(), central.kiosk_id(), central.kiosk_token())
    };
    let api = CentralClient::new(config.clone()).unwrap();
    api.rate(
        "key-slow",
        &estation_central::wire::RatingRequest {
            service_id: "household-proof".into(),
            certificate_id: None,
            score: estation_central::wire::Score::Average,
            reasons: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(proxy.requests(), 2);
    assert_eq!(rows(central.db_path(), "SELECT COUNT(*) FROM ratings"), 1);

    // With a single attempt the timeout is what the caller sees.
    proxy.script([Fault::Stall]);
    let single = CentralClient::new(estation::central_client::ClientConfig {
        retry: estation::central_client::RetryPolicy {
            max_attempts: 1,
            ..config.retry.clone()
        },
        ..config
    })
    .unwrap();
    let err = single.catalogue().await.unwrap_err();
    assert!(matches!(err, CentralError::Timeout), "{err}");
}

#[tokio::test]
async fn malformed_and_oversized_replies_are_typed_errors() {
    let (central, proxy, _dir) = central_behind_proxy().await;
    let api = client(&proxy.url(), central.kiosk_id(), central.kiosk_token());

    proxy.script(std::iter::repeat_n(Fault::Malformed, 4));
    let err = api.catalogue().await.unwrap_err();
    assert!(matches!(err, CentralError::Malformed(_)), "{err}");
    assert_eq!(proxy.requests(), 4, "garbled replies are retried");
    assert_eq!(err.message_key(), "central-error-failed");

    proxy.script(std::iter::repeat_n(Fault::Oversized(4 * 1024 * 1024), 4));
    let err = api.catalogue().await.unwrap_err();
    assert!(matches!(err, CentralError::TooLarge { .. }), "{err}");

    proxy.script(std::iter::repeat_n(
        Fault::OversizedChunked(4 * 1024 * 1024),
        4,
    ));
    let err = api.catalogue().await.unwrap_err();
    assert!(matches!(err, CentralError::TooLarge { .. }), "{err}");

    // A garbled answer to a write: the retry with the same key is safe.
    proxy.script([Fault::Malformed, Fault::Malformed]);
    api.submit("key-garbled", &address_change(2)).await.unwrap();
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        1
    );

    // And after all that, the connection pool still works.
    assert_eq!(api.catalogue().await.unwrap().services.len(), 6);
}
