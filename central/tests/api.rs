//! The reference server over real HTTP on loopback, and the contract document.

use crate::support;
use crate::support::{Backend, Harness, address_change, certificate_request, heartbeat, problem};
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{Clock, EmbeddedCentral, ServerOptions};
use estation_central::wire::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

/// Checks `value` against a schema of the OpenAPI document: required members
/// present, no members the document does not list, enums and basic types.
fn conforms(doc: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, path);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        if value.is_null() && options.iter().any(|o| o["type"] == "null") {
            return Ok(());
        }
        return if options
            .iter()
            .any(|o| conforms(doc, o, value, path).is_ok())
        {
            Ok(())
        } else {
            Err(format!("{path}: matches no alternative"))
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if value.is_null() {
        return if types.contains(&"null") {
            Ok(())
        } else {
            Err(format!("{path}: null"))
        };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return Err(format!("{path}: {value} not in enum"));
    }
    match value {
        Value::Object(map) => {
            let properties = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let open = schema.get("additionalProperties").is_some();
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !map.contains_key(name) {
                    return Err(format!("{path}: missing {name}"));
                }
            }
            for (name, member) in map {
                match properties.get(name) {
                    Some(s) => conforms(doc, s, member, &format!("{path}.{name}"))?,
                    None if open => {}
                    None => return Err(format!("{path}: {name} is not in the document")),
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::String(_) if !types.is_empty() && !types.contains(&"string") => {
            Err(format!("{path}: string"))
        }
        Value::Bool(_) if !types.contains(&"boolean") => Err(format!("{path}: boolean")),
        Value::Number(_) if !types.contains(&"integer") && !types.contains(&"number") => {
            Err(format!("{path}: number"))
        }
        _ => Ok(()),
    }
}

fn committed_document() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml"))
            .unwrap();
    // The document is YAML; compare it through the generator's own JSON form.
    let generated = estation_central::server::openapi::openapi_yaml().unwrap();
    assert_eq!(
        text, generated,
        "docs/openapi.yaml is stale: run `estation-central openapi > docs/openapi.yaml`"
    );
    use utoipa::OpenApi;
    serde_json::to_value(estation_central::server::openapi::ApiDoc::openapi()).unwrap()
}

fn assert_conforms(doc: &Value, schema_name: &str, value: &Value) {
    let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
    if let Err(e) = conforms(doc, &schema, value, schema_name) {
        panic!("response does not match the OpenAPI document: {e}");
    }
}

both_stores!(
    document_matches_the_committed_file_and_every_answer_matches_the_document,
    |backend: Backend| async move {
        let doc = committed_document();
        let h = Harness::start(backend).await;

        let catalogue: Value = h
            .get("/v1/catalogue")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "Catalogue", &catalogue);

        let issued: Value = h
            .post(
                "/v1/certificates",
                "doc-1",
                &certificate_request("si-payment-certificate", Locale::EnUs),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "IssuedCertificate", &issued);
        let code = issued["verification_code"].as_str().unwrap();
        let verification: Value = h
            .http
            .get(h.url(&format!("/v1/verify/{code}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "CertificateVerification", &verification);
        let certificate_id = issued["certificate_id"].as_str().unwrap();
        let link: Value = h
            .post(
                &format!("/v1/certificates/{certificate_id}/phone-link"),
                "doc-5",
                &json!({}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "PhoneLink", &link);

        let r = &DEMO_RESIDENTS[1];
        let identity: Value = h
            .kiosk_post("/v1/identity/lookup")
            .json(&IdentityLookupRequest {
                card_number: r.card_number.into(),
                id_number: r.id_number.into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "Identity", &identity);
        let applications: Value = h
            .kiosk_post("/v1/applications/lookup")
            .json(
                &json!({"card_number": r.card_number, "id_number": r.id_number, "locale": "zh-TW"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "ResidentApplications", &applications);

        for (path, schema) in [
            (
                "/v1/applications/SQ2025052000007/progress",
                "ApplicationProgress",
            ),
            (
                "/v1/origin-certificates/CO2025330100001?exporter_code=3301960001",
                "OriginCertificateSummary",
            ),
            (
                "/v1/origin-certificates/CO2025330100001/document?exporter_code=3301960001",
                "PrintableDocument",
            ),
            (
                "/v1/applications/SQ2025052000007/progress?locale=en-US",
                "ApplicationProgress",
            ),
            (
                "/v1/origin-certificates/CO2025330100001/form?exporter_code=3301960001",
                "OriginCertificateForm",
            ),
            ("/v1/services/address-change/form", "SubmissionForm"),
            ("/v1/config", "SignedConfig"),
            ("/v1/applications/NOPE/progress", "Problem"),
        ] {
            let value: Value = h.get(path).send().await.unwrap().json().await.unwrap();
            assert_conforms(&doc, schema, &value);
        }
        let keys: Value = h
            .http
            .get(h.url("/v1/keys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "PublicKeys", &keys);

        let receipt: Value = h
            .post(
                "/v1/submissions",
                "doc-2",
                &address_change(0, "13800000000"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "SubmissionReceipt", &receipt);
        let rating: Value = h
            .post(
                "/v1/ratings",
                "doc-3",
                &json!({"service_id": "household-proof", "score": "good", "reasons": []}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "RatingReceipt", &rating);
        let ack: Value = h
            .post("/v1/heartbeats", "doc-4", &heartbeat())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_conforms(&doc, "HeartbeatAck", &ack);

        // And the other way round: a request the document allows is one the types accept.
        let mut bad =
            serde_json::to_value(certificate_request("household-proof", Locale::ZhCn)).unwrap();
        bad["locale"] = json!("fr-FR");
        assert!(
            conforms(
                &doc,
                &json!({"$ref": "#/components/schemas/IssueCertificateRequest"}),
                &bad,
                "req"
            )
            .is_err()
        );
    }
);

both_stores!(
    strangers_cannot_read_or_write,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let anonymous = h.http.get(h.url("/v1/catalogue")).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(problem(anonymous).await.code, ProblemCode::Unauthorized);

        let wrong_token = h
            .http
            .get(h.url("/v1/catalogue"))
            .header(KIOSK_ID_HEADER, h.central.kiosk_id())
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_token.status(), StatusCode::UNAUTHORIZED);

        let other_kiosk_token = h.central.register_kiosk("kiosk-02").await.unwrap();
        let mixed = h
            .http
            .post(h.url("/v1/identity/lookup"))
            .header(KIOSK_ID_HEADER, h.central.kiosk_id())
            .bearer_auth(&other_kiosk_token)
            .json(&IdentityLookupRequest {
                card_number: DEMO_RESIDENTS[0].card_number.into(),
                id_number: DEMO_RESIDENTS[0].id_number.into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(mixed.status(), StatusCode::UNAUTHORIZED);

        let write = h
            .http
            .post(h.url("/v1/submissions"))
            .header(IDEMPOTENCY_KEY_HEADER, "x")
            .json(&address_change(0, "13800000000"))
            .send()
            .await
            .unwrap();
        assert_eq!(write.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(h.rows("SELECT COUNT(*) FROM submissions"), 0);

        // Verification by code and the public keys are public.
        let keys = h.http.get(h.url("/v1/keys")).send().await.unwrap();
        assert_eq!(keys.status(), StatusCode::OK);
        let unknown_code = h
            .http
            .get(h.url("/v1/verify/0000-0000-0000"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown_code.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(unknown_code).await.code,
            ProblemCode::CertificateNotFound
        );
    }
);

both_stores!(
    issued_certificates_verify_offline_and_online_and_replays_issue_nothing_new,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let request = certificate_request("si-payment-certificate", Locale::ZhCn);
        let first: IssuedCertificate = h
            .post("/v1/certificates", "issue-1", &request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let replay: IssuedCertificate = h
            .post("/v1/certificates", "issue-1", &request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first, replay, "a replay returns the same certificate");
        first.check_consistency().unwrap();
        let mut inconsistent = first.clone();
        inconsistent.verification_code = "AAAA-BBBB-CCCC".into();
        assert!(inconsistent.check_consistency().is_err());
        assert_eq!(h.rows("SELECT COUNT(*) FROM issued_certificates"), 1);

        let doc = &first.document;
        assert_eq!(doc.title, "社会保险个人缴费证明");
        let table = doc.table.as_ref().unwrap();
        assert_eq!(table.rows.len(), 12, "12 months in 2024-06..2025-05");
        assert_eq!(table.rows[0][0], "2024-06");
        assert!(doc.fields.iter().any(|f| f.value == DEMO_RESIDENTS[0].name));
        assert_eq!(doc.verification_code, first.verification_code);
        assert_eq!(doc.qr_payload, first.qr_payload);

        // Offline: the QR alone and the published key.
        let keys: PublicKeys = h
            .http
            .get(h.url("/v1/keys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key_bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(&keys.certificate.public_key)
            .unwrap()
            .try_into()
            .unwrap();
        let key = VerifyingKey::from_bytes(&key_bytes).unwrap();
        let qr = QrPayload::parse(&first.qr_payload).unwrap();
        qr.verify(&key).unwrap();
        qr.matches_document(doc).unwrap();
        assert_eq!(qr.certificate_id, first.certificate_id);
        let signature: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(&first.signature)
            .unwrap()
            .try_into()
            .unwrap();
        key.verify_strict(&qr.signing_message(), &Signature::from_bytes(&signature))
            .unwrap();

        // A forged document or a tampered QR fails.
        let mut forged = doc.clone();
        forged.fields[0].value = "李四".into();
        assert_eq!(qr.matches_document(&forged), Err(QrError::DocumentMismatch));
        let mut tampered = qr.clone();
        tampered.service_id = "household-proof".into();
        assert_eq!(tampered.verify(&key), Err(QrError::BadSignature));

        // Online, by code, typed in lower case.
        let online: CertificateVerification = h
            .http
            .get(h.url(&format!(
                "/v1/verify/{}",
                first.verification_code.to_lowercase()
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(online.document, first.document);
        assert_eq!(online.key_id, keys.certificate.key_id);

        // The same key for another request is refused, and issues nothing.
        let other = certificate_request("household-proof", Locale::ZhCn);
        let reused = h
            .post("/v1/certificates", "issue-1", &other)
            .send()
            .await
            .unwrap();
        assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            problem(reused).await.code,
            ProblemCode::IdempotencyKeyReused
        );
        assert_eq!(h.rows("SELECT COUNT(*) FROM issued_certificates"), 1);

        // Labels follow the locale.
        let english: IssuedCertificate = h
            .post("/v1/certificates", "issue-2", &other.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(english.document.title, "户籍证明");
        let mut en = other;
        en.locale = Locale::EnUs;
        let english: IssuedCertificate = h
            .post("/v1/certificates", "issue-3", &en)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(english.document.title, "Household Registration Proof");
        assert_eq!(h.rows("SELECT COUNT(*) FROM issued_certificates"), 3);
    }
);

both_stores!(
    wrong_cards_and_missing_keys_get_stable_codes,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let mut unknown = certificate_request("household-proof", Locale::ZhCn);
        unknown.card_number = "Z99999999".into();
        let response = h
            .post("/v1/certificates", "k1", &unknown)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(problem(response).await.code, ProblemCode::ResidentNotFound);

        let mut mismatch = certificate_request("household-proof", Locale::ZhCn);
        mismatch.id_number = DEMO_RESIDENTS[1].id_number.into();
        let response = h
            .post("/v1/certificates", "k2", &mismatch)
            .send()
            .await
            .unwrap();
        assert_eq!(problem(response).await.code, ProblemCode::IdentityMismatch);

        let no_key = h
            .kiosk_post("/v1/certificates")
            .json(&certificate_request("household-proof", Locale::ZhCn))
            .send()
            .await
            .unwrap();
        assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            problem(no_key).await.code,
            ProblemCode::IdempotencyKeyMissing
        );

        let malformed = h
            .http
            .post(h.url("/v1/certificates"))
            .header(KIOSK_ID_HEADER, h.central.kiosk_id())
            .header(IDEMPOTENCY_KEY_HEADER, "k3")
            .header("content-type", "application/json")
            .bearer_auth(h.central.kiosk_token())
            .body("{\"service_id\": 5")
            .send()
            .await
            .unwrap();
        assert_eq!(problem(malformed).await.code, ProblemCode::ValidationFailed);

        let huge = json!({"service_id": "x".repeat(100_000)});
        let response = h.post("/v1/ratings", "k4", &huge).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(problem(response).await.code, ProblemCode::PayloadTooLarge);

        let mut bad_period = certificate_request("si-payment-certificate", Locale::ZhCn);
        bad_period.period = Some(Period {
            from: "2025-13".into(),
            to: "2024-01".into(),
        });
        let response = h
            .post("/v1/certificates", "k5", &bad_period)
            .send()
            .await
            .unwrap();
        assert_eq!(problem(response).await.code, ProblemCode::ValidationFailed);
        assert_eq!(h.rows("SELECT COUNT(*) FROM issued_certificates"), 0);
    }
);

both_stores!(
    office_hours_services_close_at_night,
    |backend: Backend| async move {
        // 2025-06-02 is a Monday.
        let clock = Clock::manual(datetime!(2025-06-02 02:00 +8));
        let h = Harness::start_with(
            backend,
            ServerOptions {
                clock: clock.clone(),
                ..ServerOptions::default()
            },
        )
        .await;
        let catalogue: Catalogue = h
            .get("/v1/catalogue")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let tax = catalogue
            .services
            .iter()
            .find(|s| s.id == "tax-payment-certificate")
            .unwrap();
        assert!(!tax.open_now);
        assert!(
            catalogue
                .services
                .iter()
                .find(|s| s.id == "household-proof")
                .unwrap()
                .open_now
        );

        let request = certificate_request("tax-payment-certificate", Locale::ZhCn);
        let closed = h
            .post("/v1/certificates", "night", &request)
            .send()
            .await
            .unwrap();
        assert_eq!(closed.status(), StatusCode::CONFLICT);
        assert_eq!(problem(closed).await.code, ProblemCode::ServiceClosed);

        clock.set(datetime!(2025-06-02 10:00 +8));
        let catalogue: Catalogue = h
            .get("/v1/catalogue")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            catalogue
                .services
                .iter()
                .find(|s| s.id == "tax-payment-certificate")
                .unwrap()
                .open_now
        );
        let open = h
            .post("/v1/certificates", "day", &request)
            .send()
            .await
            .unwrap();
        assert_eq!(open.status(), StatusCode::OK);
        let issued: IssuedCertificate = open.json().await.unwrap();
        assert_eq!(issued.document.issued_at, "2025-06-02 10:00");
    }
);

both_stores!(
    origin_certificates_progress_and_identity,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let summary: OriginCertificateSummary = h
            .get("/v1/origin-certificates/CO2025330100001?exporter_code=3301960001")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(summary.status, OriginCertificateStatus::Approved);
        let wrong_exporter = h
            .get("/v1/origin-certificates/CO2025330100001?exporter_code=4401960003")
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(wrong_exporter).await.code,
            ProblemCode::OriginCertificateNotFound
        );
        let pending = h
            .get("/v1/origin-certificates/CO2025330700002/document?exporter_code=3307960002")
            .send()
            .await
            .unwrap();
        assert_eq!(pending.status(), StatusCode::CONFLICT);
        assert_eq!(
            problem(pending).await.code,
            ProblemCode::OriginCertificateNotApproved
        );

        let form: PrintableDocument = h
            .get("/v1/origin-certificates/CO2025330100001/document?exporter_code=3301960001")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The paper carries an unguessable code; the sequential certificate number
        // is printed too but verifies nothing.
        assert_ne!(form.verification_code, "R2533010000001");
        assert_eq!(form.verification_code.len(), 14, "XXXX-XXXX-XXXX");
        assert!(form.subtitle.as_deref().unwrap().contains("R2533010000001"));
        assert_eq!(form.table.as_ref().unwrap().rows.len(), 2);
        let by_number = h
            .http
            .get(h.url("/v1/verify/R2533010000001"))
            .send()
            .await
            .unwrap();
        assert_eq!(by_number.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(by_number).await.code,
            ProblemCode::CertificateNotFound
        );
        let online: CertificateVerification = h
            .http
            .get(h.url(&format!("/v1/verify/{}", form.verification_code)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(online.document, form);

        let progress: ApplicationProgress = h
            .get("/v1/applications/SQ2025052000007/progress")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(progress.status, ApplicationStatus::NeedsMaterials);
        assert_eq!(progress.missing.len(), 2);
        assert_eq!(
            progress
                .steps
                .iter()
                .filter(|s| s.state == StepState::Current)
                .count(),
            1
        );
        let missing = h
            .get("/v1/applications/SQ0000/progress")
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(missing).await.code,
            ProblemCode::ApplicationNotFound
        );

        let r = &DEMO_RESIDENTS[3];
        let identity: Identity = h
            .kiosk_post("/v1/identity/lookup")
            .json(&IdentityLookupRequest {
                card_number: r.card_number.into(),
                id_number: r.id_number.into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(identity.name, "陈𠮷祥");
        assert_eq!(identity.id_number_masked, "610402********0040");
        assert!(identity.insured);
    }
);

both_stores!(
    submissions_ratings_and_heartbeats_are_recorded_once,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let first: SubmissionReceipt = h
            .post("/v1/submissions", "s-1", &address_change(0, "13800000000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let again: SubmissionReceipt = h
            .post("/v1/submissions", "s-1", &address_change(0, "13800000000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first, again);
        let second: SubmissionReceipt = h
            .post("/v1/submissions", "s-2", &address_change(1, "13800000000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(first.receipt_number, second.receipt_number);
        assert_eq!(h.rows("SELECT COUNT(*) FROM submissions"), 2);

        let mut incomplete = address_change(2, "13800000000");
        incomplete.fields.remove("phone");
        let response = h
            .post("/v1/submissions", "s-3", &incomplete)
            .send()
            .await
            .unwrap();
        assert_eq!(problem(response).await.code, ProblemCode::ValidationFailed);

        let rating = RatingRequest {
            service_id: "household-proof".into(),
            certificate_id: None,
            score: RatingScore::Bad,
            reasons: vec!["slow".into()],
        };
        for _ in 0..3 {
            let response = h.post("/v1/ratings", "r-1", &rating).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM ratings WHERE score = 'bad'"),
            1
        );

        let ack: HeartbeatAck = h
            .post("/v1/heartbeats", "h-1", &heartbeat())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ack.config_version, Some(1));
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM heartbeats WHERE outbox_backlog = 0"),
            1
        );
    }
);

both_stores!(
    configuration_is_signed_and_cached_by_etag,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let response = h.get("/v1/config").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let signed: SignedConfig = response.json().await.unwrap();
        let keys = h.central.public_keys();
        assert_eq!(signed.key_id, keys.config.key_id);
        let key_bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(&keys.config.public_key)
            .unwrap()
            .try_into()
            .unwrap();
        let signature: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(&signed.signature)
            .unwrap()
            .try_into()
            .unwrap();
        VerifyingKey::from_bytes(&key_bytes)
            .unwrap()
            .verify_strict(
                signed.payload.as_bytes(),
                &Signature::from_bytes(&signature),
            )
            .unwrap();
        let bundle: ConfigBundle = serde_json::from_str(&signed.payload).unwrap();
        assert_eq!(bundle.version, 1);

        let cached = h
            .get("/v1/config")
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        let stale = h
            .get("/v1/config")
            .header("if-none-match", "\"config-v0\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
    }
);

both_stores!(
    a_restarted_server_keeps_its_keys_data_and_kiosks,
    |backend: Backend| async move {
        let dir = tempfile::tempdir().unwrap();
        let options = support::options_for(backend, ServerOptions::default());
        let database = options.database.clone();
        let first = EmbeddedCentral::start_with(dir.path(), options.clone())
            .await
            .unwrap();
        let keys = first.public_keys();
        let kiosk_token = first.kiosk_token().to_owned();
        let other = first.register_kiosk("kiosk-02").await.unwrap();
        first.shutdown().await.unwrap();
        let second = EmbeddedCentral::start_with(dir.path(), options)
            .await
            .unwrap();
        assert_eq!(second.public_keys(), keys);
        assert_ne!(
            second.kiosk_token(),
            kiosk_token,
            "the demo kiosk gets a new token"
        );
        let database = database.unwrap_or_else(|| second.db_path().to_string_lossy().into_owned());
        assert_eq!(
            support::rows(backend, &database, "SELECT COUNT(*) FROM services"),
            estation_central::seed::services().len() as i64
        );
        // The other kiosk kept its token across the restart.
        let catalogue = reqwest::Client::new()
            .get(format!("{}/v1/catalogue", second.base_url()))
            .header(KIOSK_ID_HEADER, "kiosk-02")
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(catalogue.status(), StatusCode::OK);
    }
);

both_stores!(
    old_heartbeats_are_pruned_but_each_kiosks_newest_stays,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-10-01 02:00 UTC));
        let h = Harness::start_with(
            backend,
            ServerOptions {
                clock: clock.clone(),
                ..ServerOptions::default()
            },
        )
        .await;
        let quiet = h.central.register_kiosk("quiet-01").await.unwrap();
        for key in ["old-1", "old-2", "old-3"] {
            let answer = h
                .post("/v1/heartbeats", key, &heartbeat())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
        }
        let answer = h
            .http
            .post(h.url("/v1/heartbeats"))
            .header(KIOSK_ID_HEADER, "quiet-01")
            .header(IDEMPOTENCY_KEY_HEADER, "quiet-1")
            .bearer_auth(&quiet)
            .json(&heartbeat())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        // A month and a day later the busy kiosk reports again; the quiet one never does.
        clock.set(datetime!(2026-11-02 02:00 UTC));
        let answer = h
            .post("/v1/heartbeats", "new-1", &heartbeat())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(h.rows("SELECT COUNT(*) FROM heartbeats"), 5);

        let deleted = estation_central::server::heartbeats::prune_old_heartbeats(
            &**h.central.store(),
            datetime!(2026-11-02 02:00 UTC),
            estation_central::server::heartbeats::DEFAULT_RETENTION,
        )
        .await
        .unwrap();
        assert_eq!(deleted, 3);
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM heartbeats WHERE idempotency_key IN ('new-1', 'quiet-1')"),
            2
        );
        assert_eq!(h.rows("SELECT COUNT(*) FROM heartbeats"), 2);
    }
);
