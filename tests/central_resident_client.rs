//! The kiosk's client for the resident services against the reference server
//! over loopback, and the documents it gets rendered by the printing driver's
//! layouts (QR codes decoded back from the paper images).

use crate::support::central as central_support;

use central_support::{address_change, client, rows};
use estation::central_client::{
    CentralError, certificate_content, origin_form_content, receipt_content, wire::*,
};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::EmbeddedCentral;
use estation_drivers::print::{self, layouts};

async fn central() -> (EmbeddedCentral, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(dir.path()).await.unwrap();
    (central, dir)
}

fn decode_qr(page: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(page.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect()
}

#[tokio::test]
async fn the_origin_form_prints_on_a4_wide_paper_with_its_signed_qr() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let form = api
        .origin_certificate_form("CO2025440100003", "4401960003")
        .await
        .unwrap();
    let content = origin_form_content(&form);
    assert_eq!(content.exporter.label, form.exporter.label);
    assert_eq!(content.items, form.items);
    assert_eq!(content.item_headers.len(), 8);
    let rendered = print::render(&layouts::origin_form(&content), print::WIDTH_A4).unwrap();
    let paper = rendered.paper_image();
    assert_eq!(paper.width(), print::WIDTH_A4);
    assert_eq!(decode_qr(&paper), [form.qr_payload.as_str()]);
    // The QR verifies offline against the published key, like a certificate's.
    let key = api.public_keys().await.unwrap().certificate;
    QrPayload::parse(&form.qr_payload)
        .unwrap()
        .verify(&key.verifying_key().unwrap())
        .unwrap();

    let pending = api
        .origin_certificate_form("CO2025330700002", "3307960002")
        .await
        .unwrap_err();
    assert_eq!(
        pending.message_key(),
        "central-error-origin-not-approved",
        "{pending}"
    );
}

#[tokio::test]
async fn progress_by_card_and_by_number_print_with_the_certificate_layout() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let r = &DEMO_RESIDENTS[1];
    let mine = api
        .applications_by_card(&ApplicationsLookupRequest {
            card_number: r.card_number.into(),
            id_number: r.id_number.into(),
            locale: Locale::ZhTw,
        })
        .await
        .unwrap();
    let numbers: Vec<_> = mine
        .applications
        .iter()
        .map(|a| a.application_number.clone())
        .collect();
    assert_eq!(numbers, ["SQ2025061000021", "SQ2025052000007"]);
    let list = print::render(
        &layouts::certificate(&certificate_content(&mine.document)),
        print::WIDTH_80MM,
    )
    .unwrap();
    assert_eq!(decode_qr(&list.paper_image()), [numbers.join("\n")]);

    let progress = api
        .application_progress_in(&numbers[1], Locale::EnUs)
        .await
        .unwrap();
    assert_eq!(progress.status, ApplicationStatus::NeedsMaterials);
    assert_eq!(progress.missing.len(), 2);
    let slip = print::render(
        &layouts::certificate(&certificate_content(&progress.document)),
        print::WIDTH_58MM,
    )
    .unwrap();
    assert_eq!(decode_qr(&slip.paper_image()), ["SQ2025052000007"]);

    let unknown = api
        .application_progress("SQ2099010100001")
        .await
        .unwrap_err();
    assert_eq!(unknown.message_key(), "central-error-application-not-found");
    let stranger = api
        .applications_by_card(&ApplicationsLookupRequest {
            card_number: "Z99999999".into(),
            id_number: r.id_number.into(),
            locale: Locale::ZhCn,
        })
        .await
        .unwrap_err();
    assert!(matches!(stranger, CentralError::Rejected(_)));
    assert_eq!(stranger.message_key(), "central-error-resident-not-found");
}

#[tokio::test]
async fn a_phone_link_for_a_just_issued_certificate_opens_on_a_phone() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let r = &DEMO_RESIDENTS[0];
    let certificate = api
        .issue_certificate(&IssueCertificateRequest {
            service_id: "household-proof".into(),
            card_number: r.card_number.into(),
            id_number: r.id_number.into(),
            name: r.name.into(),
            locale: Locale::EnUs,
            period: None,
        })
        .await
        .unwrap();
    let link = api.phone_link(&certificate.certificate_id).await.unwrap();
    assert!(
        !format!("{link:?}").contains(&link.url),
        "the URL is a secret"
    );
    // A phone has no kiosk credentials.
    let page = reqwest::get(&link.url).await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Household Registration Proof"));
    assert!(html.contains(&certificate.verification_code));
    assert!(html.contains("lang=\"en-US\""));
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM phone_links"),
        1
    );
    let refused = api.phone_link("not-a-certificate").await.unwrap_err();
    assert_eq!(refused.message_key(), "central-error-certificate-not-found");
}

#[tokio::test]
async fn a_submission_checked_on_the_kiosk_gets_a_printable_receipt() {
    let (central, _dir) = central().await;
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let form = api
        .submission_form(ADDRESS_CHANGE_SERVICE_ID)
        .await
        .unwrap();
    let request = address_change(2);
    // The kiosk applies the same rules the service does.
    assert!(form.problems(&request.fields).is_empty());
    let mut typo = request.clone();
    typo.fields.insert("phone".into(), "1380000000".into());
    assert_eq!(
        form.problems(&typo.fields),
        [("phone".to_owned(), FieldProblem::Invalid)]
    );
    let refused = api.submit("typo-1", &typo).await.unwrap_err();
    assert_eq!(refused.message_key(), "central-error-invalid-input");

    let receipt = api
        .submit_in("move-1", &request, Locale::ZhTw)
        .await
        .unwrap();
    assert_eq!(receipt.receipt.title, "材料提交回執");
    let paper = print::render(
        &layouts::submission_receipt(&receipt_content(&receipt.receipt)),
        print::WIDTH_58MM,
    )
    .unwrap()
    .paper_image();
    assert_eq!(decode_qr(&paper), [receipt.receipt_number.as_str()]);
    assert_eq!(
        rows(
            central.db_path(),
            &format!(
                "SELECT COUNT(*) FROM submissions WHERE receipt_number = '{}'",
                receipt.receipt_number
            )
        ),
        1
    );

    // Offline, the kiosk prints the same shape with its own reference.
    let queued = submission_receipt(
        &form,
        &LocalizedText::new("居住地址变更申报", "居住地址變更申報", "Change of address"),
        &request.fields,
        ReceiptState::Queued {
            reference: "K7Q2-M9XD",
        },
        "2026-03-15 02:00",
        Locale::EnUs,
    );
    assert_eq!(queued.reference, "K7Q2-M9XD");
    assert!(queued.notes[0].contains("sent automatically"));
    let content = receipt_content(&queued);
    assert!(content.rows.iter().any(|(_, v)| v == "138****0000"));
}
