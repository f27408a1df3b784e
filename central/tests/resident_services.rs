//! The resident services over real HTTP on loopback against the reference
//! server and its SQLite database: certificate periods, progress by card, phone
//! links, submission forms and receipts, certificate-of-origin forms.

use crate::support::{Backend, Harness, problem};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{Clock, ServerOptions};
use estation_central::wire::*;
use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

/// A server whose clock stands at 2026-03-15 10:00 +08:00.
async fn at_march_2026(backend: Backend) -> (Harness, Clock) {
    let clock = Clock::manual(datetime!(2026-03-15 10:00 +8));
    let h = Harness::start_with(
        backend,
        ServerOptions {
            clock: clock.clone(),
            ..ServerOptions::default()
        },
    )
    .await;
    (h, clock)
}

impl Harness {
    async fn issue(&self, key: &str, resident: usize, period: Option<Period>) -> IssuedCertificate {
        let response = self
            .post("/v1/certificates", key, &payment_request(resident, period))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

fn payment_request(resident: usize, period: Option<Period>) -> IssueCertificateRequest {
    let r = &DEMO_RESIDENTS[resident];
    IssueCertificateRequest {
        service_id: "si-payment-certificate".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        locale: Locale::ZhCn,
        period,
    }
}

fn months_of(certificate: &IssuedCertificate) -> Vec<String> {
    certificate
        .document
        .table
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|row| row[0].clone())
        .collect()
}

fn field<'a>(document: &'a PrintableDocument, label: &str) -> &'a str {
    &document
        .fields
        .iter()
        .find(|f| f.label == label)
        .unwrap_or_else(|| panic!("no field {label}"))
        .value
}

both_stores!(
    the_default_payment_certificate_of_the_first_demo_resident_has_twelve_months,
    |backend: Backend| async move {
        // The system clock: whatever today is, the demo has data.
        let h = Harness::start_with(backend, ServerOptions::default()).await;
        let certificate = h.issue("default", 0, None).await;
        let months = months_of(&certificate);
        assert_eq!(months.len(), 12, "{months:?}");
        assert_eq!(field(&certificate.document, "缴费月数"), "12");
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
            .date();
        let expected = Period::default_for(today);
        assert_eq!(months.first().unwrap(), &expected.from);
        assert_eq!(months.last().unwrap(), &expected.to);
        assert!(
            certificate
                .document
                .notes
                .iter()
                .all(|n| !n.contains("无缴费记录"))
        );
    }
);

both_stores!(
    every_period_the_kiosk_offers_is_accepted_and_nonsense_is_refused,
    |backend: Backend| async move {
        let (h, _clock) = at_march_2026(backend).await;
        let today = time::macros::date!(2026 - 03 - 15);
        let expect = [
            (PeriodChoice::Last12Months, 12, "2025-03", "2026-02"),
            (PeriodChoice::Last24Months, 24, "2024-03", "2026-02"),
            // March is not paid yet: contributions run up to last month.
            (PeriodChoice::ThisYear, 2, "2026-01", "2026-02"),
            (PeriodChoice::LastYear, 12, "2025-01", "2025-12"),
        ];
        for (i, (choice, rows, first, last)) in expect.into_iter().enumerate() {
            let certificate = h
                .issue(&format!("choice-{i}"), 0, Some(choice.period(today)))
                .await;
            let months = months_of(&certificate);
            assert_eq!(months.len(), rows, "{choice:?}");
            assert_eq!(months.first().unwrap(), first, "{choice:?}");
            assert_eq!(months.last().unwrap(), last, "{choice:?}");
        }

        // The resident with a gap: 3 months missing from the last 12.
        let gapped = h.issue("gap", 1, None).await;
        assert_eq!(months_of(&gapped).len(), 9);
        // Stopped paying years ago, and never paid: an empty table and a note.
        for (key, resident) in [("stopped", 3), ("never", 4)] {
            let empty = h.issue(key, resident, None).await;
            assert!(months_of(&empty).is_empty());
            assert_eq!(field(&empty.document, "缴费月数"), "0");
            assert!(
                empty
                    .document
                    .notes
                    .iter()
                    .any(|n| n.contains("无缴费记录"))
            );
        }
        let issued = h.rows("SELECT COUNT(*) FROM issued_certificates");
        assert_eq!(issued, 7);

        let nonsense = [
            ("2025-13", "2026-01"),
            ("2025-1", "2025-12"),
            ("abcd-ef", "2025-12"),
            ("+202-01", "2025-12"),
            ("2026-02", "2025-03"),
            ("2015-01", "2025-01"),
            ("1989-01", "1989-12"),
            ("2026-01", "2026-04"),
            ("", ""),
        ];
        for (i, (from, to)) in nonsense.into_iter().enumerate() {
            let response = h
                .post(
                    "/v1/certificates",
                    &format!("nonsense-{i}"),
                    &payment_request(
                        0,
                        Some(Period {
                            from: from.into(),
                            to: to.into(),
                        }),
                    ),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{from}..{to}"
            );
            let p = problem(response).await;
            assert_eq!(p.code, ProblemCode::ValidationFailed, "{from}..{to}");
            assert!(p.detail.unwrap().starts_with("period:"));
        }
        assert_eq!(h.rows("SELECT COUNT(*) FROM issued_certificates"), issued);
        // The widest period accepted: 120 months up to the current month.
        let widest = h
            .issue(
                "widest",
                0,
                Some(Period {
                    from: "2016-04".into(),
                    to: "2026-03".into(),
                }),
            )
            .await;
        assert_eq!(months_of(&widest).len(), 60);
    }
);

both_stores!(
    a_resident_finds_their_own_applications_by_card_and_can_print_them,
    |backend: Backend| async move {
        let (h, _clock) = at_march_2026(backend).await;
        let lookup = |resident: usize, locale: Locale| {
            let r = &DEMO_RESIDENTS[resident];
            h.kiosk_post("/v1/applications/lookup")
                .json(&ApplicationsLookupRequest {
                    card_number: r.card_number.into(),
                    id_number: r.id_number.into(),
                    locale,
                })
                .send()
        };
        let mine: ResidentApplications =
            lookup(0, Locale::EnUs).await.unwrap().json().await.unwrap();
        let numbers: Vec<_> = mine
            .applications
            .iter()
            .map(|a| a.application_number.as_str())
            .collect();
        assert_eq!(numbers, ["SQ2025060100012", "SQ2025041500003"]);
        assert_eq!(mine.applications[0].status, ApplicationStatus::UnderReview);
        assert_eq!(mine.applications[0].updated_on, "2025-06-02");
        assert_eq!(mine.applications[1].updated_on, "2025-04-24");
        let table = mine.document.table.as_ref().unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][0], "SQ2025060100012");
        assert_eq!(table.rows[0][2], "Under review");
        assert_eq!(mine.document.qr_payload, "SQ2025060100012\nSQ2025041500003");
        assert_eq!(
            field(&mine.document, "Citizen ID number"),
            "330106********2314"
        );

        // A resident without applications gets an empty list, not an error.
        let none: ResidentApplications =
            lookup(4, Locale::ZhCn).await.unwrap().json().await.unwrap();
        assert!(none.applications.is_empty());
        assert!(
            none.document
                .notes
                .iter()
                .any(|n| n.contains("暂无办件记录"))
        );

        // Someone else's ID number with this card: refused, nothing listed.
        let wrong = h
            .kiosk_post("/v1/applications/lookup")
            .json(&json!({"card_number": DEMO_RESIDENTS[0].card_number,
                      "id_number": DEMO_RESIDENTS[1].id_number}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        assert_eq!(problem(wrong).await.code, ProblemCode::IdentityMismatch);

        // A submission becomes an application the resident can follow by card and
        // by its receipt number.
        let receipt: SubmissionReceipt = h
            .post(
                "/v1/submissions",
                "move-1",
                &address_change(4, "13912345678"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let now_listed: ResidentApplications =
            lookup(4, Locale::ZhCn).await.unwrap().json().await.unwrap();
        assert_eq!(now_listed.applications.len(), 1);
        assert_eq!(
            now_listed.applications[0].application_number,
            receipt.receipt_number
        );
        assert_eq!(
            now_listed.applications[0].status,
            ApplicationStatus::Submitted
        );
        assert_eq!(now_listed.applications[0].submitted_on, "2026-03-15");
        let progress: ApplicationProgress = h
            .get(&format!(
                "/v1/applications/{}/progress?locale=zh-TW",
                receipt.receipt_number
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(progress.status, ApplicationStatus::Submitted);
        assert_eq!(progress.document.title, "辦件進度");
        assert_eq!(
            h.rows(&format!(
                "SELECT COUNT(*) FROM applications WHERE application_number = '{}'
             AND applicant_id_number = '{}'",
                receipt.receipt_number, DEMO_RESIDENTS[4].id_number
            )),
            1
        );
    }
);

both_stores!(
    progress_by_number_prints_steps_dates_and_what_is_missing,
    |backend: Backend| async move {
        let (h, _clock) = at_march_2026(backend).await;
        let progress: ApplicationProgress = h
            .get("/v1/applications/SQ2025052000007/progress?locale=en-US")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let document = &progress.document;
        assert_eq!(document.title, "Application Progress");
        assert_eq!(document.verification_code, "SQ2025052000007");
        assert_eq!(document.qr_payload, "SQ2025052000007");
        assert_eq!(field(document, "Status"), "Materials needed");
        let steps = document.table.as_ref().unwrap();
        assert_eq!(steps.rows.len(), 4);
        assert_eq!(
            steps.rows[1],
            ["Materials requested", "In progress", "2025-05-22"]
        );
        assert_eq!(steps.rows[3], ["Completed", "Not started", "—"]);
        for missing in [
            "Copy of the tenancy agreement",
            "Proof of income for the last three months",
        ] {
            assert!(
                document.notes.iter().any(|n| n.contains(missing)),
                "{missing}"
            );
        }
        assert!(document.notes.iter().any(|n| n.contains("service counter")));
        assert_eq!(document.issued_at, "2026-03-15 10:00");

        // The default language is zh-CN; a lower-case number is found too.
        let zh: ApplicationProgress = h
            .get("/v1/applications/sq2025061000021/progress")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(field(&zh.document, "当前状态"), "不予受理");
        assert!(zh.document.notes.iter().any(|n| n.contains("12345")));

        let unknown = h
            .get("/v1/applications/SQ2099010100001/progress")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(unknown).await.code,
            ProblemCode::ApplicationNotFound
        );
    }
);

async fn phone_link(h: &Harness, certificate_id: &str) -> reqwest::Response {
    h.kiosk_post(&format!("/v1/certificates/{certificate_id}/phone-link"))
        .send()
        .await
        .unwrap()
}

both_stores!(
    a_phone_link_opens_one_certificate_for_ten_minutes_only,
    |backend: Backend| async move {
        let (h, clock) = at_march_2026(backend).await;
        let first = h.issue("phone-1", 0, None).await;
        let second = h.issue("phone-2", 2, None).await;
        let link: PhoneLink = phone_link(&h, &first.certificate_id)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            link.url
                .starts_with(&format!("{}/m/", h.central.base_url()))
        );
        assert_eq!(link.expires_at, datetime!(2026-03-15 10:10 +8));
        let other: PhoneLink = phone_link(&h, &second.certificate_id)
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(link.url, other.url);

        // No kiosk credentials: the phone only has the link.
        let page = h.http.get(&link.url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        let html = page.text().await.unwrap();
        assert!(html.contains("社会保险个人缴费证明"));
        assert!(html.contains(&first.verification_code));
        assert!(html.contains(DEMO_RESIDENTS[0].name));
        assert!(!html.contains(&second.verification_code));
        assert!(!html.contains("<script"));
        let other_html = h
            .http
            .get(&other.url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(other_html.contains(&second.verification_code));
        assert!(!other_html.contains(&first.verification_code));

        // The database keeps a hash of the token, never the token.
        let token = link.url.rsplit('/').next().unwrap();
        let stored = h.text(&match h.backend {
        Backend::Sqlite => format!(
            "SELECT hex(token_sha256) FROM phone_links WHERE certificate_id = '{}'",
            first.certificate_id
        ),
        Backend::Postgres => format!(
            "SELECT upper(encode(token_sha256, 'hex')) FROM phone_links WHERE certificate_id = '{}'",
            first.certificate_id
        ),
    });
        use sha2::Digest;
        let expected: String = sha2::Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(stored, expected);
        assert_eq!(
        h.rows(&match h.backend {
            Backend::Sqlite => format!(
                "SELECT COUNT(*) FROM phone_links WHERE instr(CAST(token_sha256 AS TEXT), '{token}') > 0"
            ),
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM phone_links WHERE position('{token}' in encode(token_sha256, 'escape')) > 0"
            ),
        }),
        0
    );

        // A guessed, tampered or truncated token: a friendly 404 page.
        let mut tampered = token.to_owned();
        tampered.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
        for bad in [
            format!("{}/m/{tampered}", h.central.base_url()),
            format!("{}/m/{}", h.central.base_url(), &token[..20]),
            format!("{}/m/%3Cscript%3E", h.central.base_url()),
        ] {
            let response = h.http.get(&bad).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
            let text = response.text().await.unwrap();
            assert!(text.contains("找不到此链接") && text.contains("Link not found"));
            assert!(!text.contains("<script>"));
        }

        // After ten minutes: 410 Gone, with a page that says what to do.
        clock.set(datetime!(2026-03-15 10:10 +8));
        let gone = h.http.get(&link.url).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::GONE);
        let text = gone.text().await.unwrap();
        assert!(text.contains("链接已过期") && text.contains("verification code"));
        assert!(!text.contains(&first.verification_code));
    }
);

both_stores!(
    only_the_issuing_kiosk_gets_links_and_only_while_the_resident_is_there,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-03-15 10:00 +8));
        let h = Harness::start_with(
            backend,
            ServerOptions {
                clock: clock.clone(),
                public_base_url: Some("https://estation.example.gov.cn/".into()),
                ..ServerOptions::default()
            },
        )
        .await;
        let certificate = h.issue("window-1", 0, None).await;
        let link: PhoneLink = phone_link(&h, &certificate.certificate_id)
            .await
            .json()
            .await
            .unwrap();
        assert!(link.url.starts_with("https://estation.example.gov.cn/m/"));
        assert_eq!(
            link.url.len(),
            "https://estation.example.gov.cn/m/".len() + 43
        );

        let other_token = h.central.register_kiosk("other-kiosk").await.unwrap();
        let from_other = h
            .http
            .post(h.url(&format!(
                "/v1/certificates/{}/phone-link",
                certificate.certificate_id
            )))
            .header(KIOSK_ID_HEADER, "other-kiosk")
            .bearer_auth(other_token)
            .send()
            .await
            .unwrap();
        assert_eq!(from_other.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(from_other).await.code,
            ProblemCode::CertificateNotFound
        );

        let unknown = phone_link(&h, "no-such-certificate").await;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
        let anonymous = h
            .http
            .post(h.url(&format!(
                "/v1/certificates/{}/phone-link",
                certificate.certificate_id
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        clock.set(datetime!(2026-03-15 10:31 +8));
        let late = phone_link(&h, &certificate.certificate_id).await;
        assert_eq!(late.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM phone_links"),
            1,
            "refused requests store no link"
        );
    }
);

fn address_change(resident: usize, phone: &str) -> SubmissionRequest {
    let r = &DEMO_RESIDENTS[resident];
    SubmissionRequest {
        service_id: ADDRESS_CHANGE_SERVICE_ID.into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        fields: [
            (
                "new_address".to_owned(),
                "浙江省湖州市吴兴区凤凰街道 8 号".to_owned(),
            ),
            ("postal_code".to_owned(), "313000".to_owned()),
            ("phone".to_owned(), phone.to_owned()),
        ]
        .into(),
    }
}

both_stores!(
    submissions_follow_the_published_form_and_return_a_printable_receipt,
    |backend: Backend| async move {
        let (h, _clock) = at_march_2026(backend).await;
        let form: SubmissionForm = h
            .get("/v1/services/address-change/form")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(form, submission_form(ADDRESS_CHANGE_SERVICE_ID).unwrap());
        let unknown_form = h
            .get("/v1/services/household-proof/form")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown_form.status(), StatusCode::NOT_FOUND);

        let mut invalid = address_change(0, "12345678901");
        invalid.fields.insert("postal_code".into(), "31300".into());
        invalid.fields.insert("shoe_size".into(), "42".into());
        let refused = h
            .post("/v1/submissions", "bad-1", &invalid)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p = problem(refused).await;
        assert_eq!(p.code, ProblemCode::ValidationFailed);
        let detail = p.detail.unwrap();
        for expected in [
            "phone: invalid",
            "postal_code: too-short",
            "shoe_size: unknown",
        ] {
            assert!(detail.contains(expected), "{detail}");
        }
        assert!(
            !detail.contains("12345678901") && !detail.contains("凤凰"),
            "{detail}"
        );
        assert_eq!(h.rows("SELECT COUNT(*) FROM submissions"), 0);
        assert_eq!(h.rows("SELECT COUNT(*) FROM idempotency_keys"), 0);

        let response = h
            .post("/v1/submissions", "ok-1", &address_change(0, "13912345678"))
            .header("Accept-Language", "en-US,en;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let receipt: SubmissionReceipt = response.json().await.unwrap();
        assert_eq!(receipt.receipt_number, "RC20260315-000001");
        let printable = &receipt.receipt;
        assert_eq!(printable.title, "Submission receipt");
        assert_eq!(printable.reference, receipt.receipt_number);
        assert_eq!(printable.qr_payload.as_deref(), Some("RC20260315-000001"));
        let row = |label: &str| {
            printable
                .rows
                .iter()
                .find(|r| r.label == label)
                .map(|r| r.value.clone())
        };
        assert_eq!(row("Service").as_deref(), Some("Change of address"));
        assert_eq!(row("Phone number").as_deref(), Some("139****5678"));
        assert_eq!(row("Postal code").as_deref(), Some("313000"));
        assert_eq!(row("Submitted").as_deref(), Some("2026-03-15 10:00"));
        assert_eq!(
            h.text("SELECT fields_json FROM submissions"),
            r#"{"new_address":"浙江省湖州市吴兴区凤凰街道 8 号","phone":"13912345678","postal_code":"313000"}"#
        );
        // A landline with its area code, and no postal code, is fine too.
        let mut landline = address_change(1, "0571-87654321");
        landline.fields.remove("postal_code");
        let zh: SubmissionReceipt = h
            .post("/v1/submissions", "ok-2", &landline)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(zh.receipt.title, "材料提交回执");
        assert_eq!(zh.receipt.reference_label, "受理回执号");
        assert!(zh.receipt.rows.iter().all(|r| r.label != "邮政编码"));
        assert_eq!(h.rows("SELECT COUNT(*) FROM submissions"), 2);
    }
);

both_stores!(
    the_origin_form_has_every_box_and_verifies_like_the_signed_document,
    |backend: Backend| async move {
        let (h, _clock) = at_march_2026(backend).await;
        let form: OriginCertificateForm = h
            .get("/v1/origin-certificates/CO2025330100001/form?exporter_code=3301960001")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let signed: PrintableDocument = h
            .get("/v1/origin-certificates/CO2025330100001/document?exporter_code=3301960001")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The code on the paper is the signed document's, not the sequential number.
        assert_eq!(form.verification_code, signed.verification_code);
        assert_ne!(form.verification_code, "R2533010000001");
        assert_eq!(form.qr_payload, signed.qr_payload);
        assert_eq!(form.certificate_no.text, "R2533010000001");
        assert!(form.exporter.text.contains("3301960001"));
        assert!(form.producer.text.contains("Hangzhou Binjiang"));
        assert!(form.importer.text.contains("Osaka"));
        assert_eq!(form.item_headers.len(), 8);
        assert_eq!(form.items.len(), 2);
        assert_eq!(
            form.items[0],
            [
                "1",
                "N/M",
                "Gear boxes",
                "8483.40",
                "RVC",
                "CHINA",
                "120 PCS",
                "BJ-INV-250518 / 2025-05-18"
            ]
        );
        assert!(form.items.iter().all(|row| row.len() == 8));
        let keys: PublicKeys = h
            .get("/v1/keys")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        QrPayload::parse(&form.qr_payload)
            .unwrap()
            .verify(&keys.certificate.verifying_key().unwrap())
            .unwrap();

        let pending = h
            .get("/v1/origin-certificates/CO2025330700002/form?exporter_code=3307960002")
            .send()
            .await
            .unwrap();
        assert_eq!(pending.status(), StatusCode::CONFLICT);
        assert_eq!(
            problem(pending).await.code,
            ProblemCode::OriginCertificateNotApproved
        );
        let wrong_exporter = h
            .get("/v1/origin-certificates/CO2025330100001/form?exporter_code=4401960003")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_exporter.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(wrong_exporter).await.code,
            ProblemCode::OriginCertificateNotFound
        );
    }
);
