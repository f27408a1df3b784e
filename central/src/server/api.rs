//! Route handlers of the kiosk API. Each carries its OpenAPI description, from
//! which `docs/openapi.yaml` is generated; every status a handler, its
//! extractors or the kiosk middleware can answer is declared there.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::AuthenticatedKiosk;
use super::codes;
use super::config::config_etag;
use super::documents;
use super::domain::{
    CardDetails, ORIGIN_SERVICE_ID, authenticate_resident, load_origin, load_progress,
    load_service, open_service_for_resident, sign_origin,
};
use super::error::ApiError;
use super::http::{ApiJson, ApiPath, ApiQuery, IdempotentWrite, json, request_locale};
use super::state::{AppState, public_key_info};
use super::store::{
    CertificateRecord, HeartbeatRecord, RatingRecord, SubmissionRecord, WriteEffect,
};
use crate::wire::*;

// ---------------------------------------------------------------- catalogue

/// The services catalogue, with categories and opening hours.
#[utoipa::path(get, path = "/v1/catalogue", tag = "catalogue",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    responses(
        (status = 200, description = "The catalogue", body = Catalogue),
        (status = 401, description = "unauthorized: unknown kiosk or wrong token", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn catalogue(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let now = state.now();
    let categories = state.store.categories().await?;
    let services = state
        .store
        .services()
        .await?
        .into_iter()
        .map(|s| s.at(now))
        .collect();
    Ok(json(&Catalogue {
        categories,
        services,
    }))
}

// ---------------------------------------------------------------- identity

/// Identity lookup by card: checks the card against the resident register.
#[utoipa::path(post, path = "/v1/identity/lookup", tag = "identity",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    request_body = IdentityLookupRequest,
    responses(
        (status = 200, description = "The resident", body = Identity),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "resident-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed: not a lookup request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn identity_lookup(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<IdentityLookupRequest>,
) -> Result<Response, ApiError> {
    let resident = authenticate_resident(
        &*state.store,
        &request.card_number,
        &request.id_number,
        None,
    )
    .await?;
    let insured = state.store.has_contributions(&resident.id_number).await?;
    Ok(json(&Identity {
        insured,
        id_number_masked: mask_id_number(&resident.id_number),
        card_number: resident.card_number,
        name: resident.name,
        gender: resident.gender,
        birth_date: resident.birth_date,
    }))
}

// ---------------------------------------------------------------- certificates

/// Issues a certificate: returns the signed printable document and its
/// verification code. Replays with the same `Idempotency-Key` return the same
/// certificate.
#[utoipa::path(post, path = "/v1/certificates", tag = "certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("Idempotency-Key" = String, Header, description = "One key per logical request, reused on retries")),
    request_body = IssueCertificateRequest,
    responses(
        (status = 200, description = "The certificate", body = IssuedCertificate),
        (status = 400, description = "idempotency-key-missing", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "resident-not-found, service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "service-closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, wrong-service-kind, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_certificate(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<IssueCertificateRequest>,
) -> Result<Response, ApiError> {
    let write = IdempotentWrite::begin(&state, &kiosk, &headers, "certificates", &request)?;
    let now = write.now;
    let store = &*state.store;
    let certificate = write
        .run(store, async {
            let (service, resident) = open_service_for_resident(
                store,
                &request.service_id,
                ServiceKind::Certificate,
                CardDetails {
                    card_number: &request.card_number,
                    id_number: &request.id_number,
                    name: &request.name,
                },
                now,
            )
            .await?;
            let period = documents::resolve_period(request.period.as_ref(), now)?;
            let contributions = store.contributions(&resident.id_number, &period).await?;
            let certificate_id = uuid::Uuid::new_v4().to_string();
            let code = codes::new_verification_code();
            let mut document = documents::certificate_document(
                &service.id,
                request.locale,
                &resident,
                &contributions,
                &period,
                &code,
                &state.print_time(now),
            )
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemCode::WrongServiceKind,
                    "No document template for this service",
                )
            })?;
            let (signature, qr_payload) = documents::sign_document(
                &state.certificate_key,
                &mut document,
                &certificate_id,
                &service.id,
                now.unix_timestamp(),
            );
            let answer = IssuedCertificate {
                certificate_id: certificate_id.clone(),
                verification_code: code.clone(),
                service_id: service.id.clone(),
                issued_at: now,
                signature: signature.clone(),
                qr_payload: qr_payload.clone(),
                document: document.clone(),
            };
            let record = CertificateRecord {
                certificate_id,
                verification_code: code,
                kiosk_id: write.kiosk_id.clone(),
                idempotency_key: write.key.clone(),
                service_id: service.id,
                card_number: resident.card_number,
                id_number: resident.id_number,
                locale: request.locale,
                issued_at: now,
                signature,
                qr_payload,
                document,
            };
            Ok((answer, WriteEffect::Certificate(Box::new(record))))
        })
        .await?;
    Ok(json(&certificate))
}

/// Public verification of a printed certificate by the verification code on
/// its paper (unguessable: 60 random bits; a certificate of origin's sequential
/// number is not accepted). Answers the document as issued, which is what the
/// paper shows, so a holder of the paper learns nothing new. No kiosk
/// credentials needed; rate-limited per client address.
#[utoipa::path(get, path = "/v1/verify/{code}", tag = "certificates",
    security(()),
    params(("code" = String, Path, description = "Verification code as printed")),
    responses(
        (status = 200, description = "The certificate as issued", body = CertificateVerification),
        (status = 400, description = "validation-failed: the path does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too-many-requests from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_certificate(
    State(state): State<Arc<AppState>>,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let code = codes::normalize_verification_code(&code);
    let key_id = super::state::key_id(&state.certificate_key.verifying_key());
    if let Some(c) = state.store.certificate_by_code(&code).await? {
        return Ok(json(&CertificateVerification {
            certificate_id: c.certificate_id,
            verification_code: c.verification_code,
            service_id: c.service_id,
            issued_at: c.issued_at,
            signature: c.signature,
            qr_payload: c.qr_payload,
            key_id,
            document: c.document,
        }));
    }
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::CertificateNotFound,
            "No certificate with this code",
        )
    };
    let origin = state
        .store
        .origin_by_verification_code(&code)
        .await?
        .ok_or_else(not_found)?;
    let signed = sign_origin(&state, &origin).map_err(|_| not_found())?;
    Ok(json(&CertificateVerification {
        certificate_id: origin.summary.application_number,
        verification_code: signed.document.verification_code.clone(),
        service_id: ORIGIN_SERVICE_ID.into(),
        issued_at: signed.issued_at,
        signature: signed.signature,
        qr_payload: signed.document.qr_payload.clone(),
        key_id,
        document: signed.document,
    }))
}

/// The public keys that sign certificates and kiosk configuration.
#[utoipa::path(get, path = "/v1/keys", tag = "certificates",
    security(()),
    responses(
        (status = 200, description = "Published keys", body = PublicKeys),
        (status = 429, description = "too-many-requests from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn public_keys(State(state): State<Arc<AppState>>) -> Response {
    json(&PublicKeys {
        certificate: public_key_info(&state.certificate_key.verifying_key()),
        config: public_key_info(&state.config_key.verifying_key()),
    })
}

// ---------------------------------------------------------------- origin certificates

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExporterQuery {
    /// The exporter's customs registration code.
    pub exporter_code: String,
}

/// Certificate-of-origin lookup by application number plus exporter code.
#[utoipa::path(get, path = "/v1/origin-certificates/{application_number}", tag = "origin-certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number"), ExporterQuery),
    responses(
        (status = 200, description = "The application", body = OriginCertificateSummary),
        (status = 400, description = "validation-failed: the query does not parse (exporter_code missing)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate(
    State(state): State<Arc<AppState>>,
    ApiPath(application_number): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExporterQuery>,
) -> Result<Response, ApiError> {
    let origin = load_origin(&*state.store, &application_number, &query.exporter_code).await?;
    Ok(json(&origin.summary))
}

/// The printable, signed form of an approved certificate of origin.
#[utoipa::path(get, path = "/v1/origin-certificates/{application_number}/document", tag = "origin-certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number"), ExporterQuery),
    responses(
        (status = 200, description = "The form to print", body = PrintableDocument),
        (status = 400, description = "validation-failed: the query does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "origin-certificate-not-approved", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate_document(
    State(state): State<Arc<AppState>>,
    ApiPath(application_number): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExporterQuery>,
) -> Result<Response, ApiError> {
    let origin = load_origin(&*state.store, &application_number, &query.exporter_code).await?;
    Ok(json(&sign_origin(&state, &origin)?.document))
}

// ---------------------------------------------------------------- applications

/// Language of a printable document in a GET answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// "zh-CN" (default), "zh-TW" or "en-US".
    #[param(value_type = Option<Locale>)]
    pub locale: Option<Locale>,
}

/// Application progress: steps, dates and what is still missing, with the same
/// as a printable document in `locale`.
#[utoipa::path(get, path = "/v1/applications/{application_number}/progress", tag = "applications",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number (or a submission's receipt number)"), LocaleQuery),
    responses(
        (status = 200, description = "Progress", body = ApplicationProgress),
        (status = 400, description = "validation-failed: the query does not parse (an unknown locale)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "application-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn application_progress(
    State(state): State<Arc<AppState>>,
    ApiPath(application_number): ApiPath<String>,
    ApiQuery(query): ApiQuery<LocaleQuery>,
) -> Result<Response, ApiError> {
    let printed_at = state.print_time(state.now());
    let locale = query.locale.unwrap_or_default();
    let progress = load_progress(&*state.store, &application_number, locale, &printed_at).await?;
    Ok(json(&progress))
}

// ---------------------------------------------------------------- submissions, ratings, heartbeats

/// Material submission. The same `Idempotency-Key` always yields the same receipt.
#[utoipa::path(post, path = "/v1/submissions", tag = "submissions",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(
        ("Idempotency-Key" = String, Header, description = "One key per logical request, reused on retries"),
        ("Accept-Language" = Option<String>, Header, description = "Language of the receipt: zh-CN (default), zh-TW or en-US"),
    ),
    request_body = SubmissionRequest,
    responses(
        (status = 200, description = "Receipt", body = SubmissionReceipt),
        (status = 400, description = "idempotency-key-missing", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "resident-not-found, service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "service-closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, wrong-service-kind, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SubmissionRequest>,
) -> Result<Response, ApiError> {
    let write = IdempotentWrite::begin(&state, &kiosk, &headers, "submissions", &request)?;
    let locale = request_locale(&headers);
    let now = write.now;
    let store = &*state.store;
    let receipt = write
        .run(store, async {
            let (service, resident) = open_service_for_resident(
                store,
                &request.service_id,
                ServiceKind::Submission,
                CardDetails {
                    card_number: &request.card_number,
                    id_number: &request.id_number,
                    name: &request.name,
                },
                now,
            )
            .await?;
            let form = submission_form(&service.id).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemCode::WrongServiceKind,
                    "No form is defined for this service",
                )
            })?;
            let problems = form.problems(&request.fields);
            if !problems.is_empty() {
                // Field ids and rule names only: the values are personal data.
                let detail = problems
                    .iter()
                    .map(|(id, p)| format!("{}: {}", id.escape_debug(), p.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ApiError::validation(format!("fields: {detail}")));
            }
            let date = now.date();
            let day = format!(
                "{:04}{:02}{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            );
            let sequence = store.next_receipt_sequence(&day).await?;
            let receipt_number = format!("RC{day}-{sequence:06}");
            let receipt = submission_receipt(
                &form,
                &service.name,
                &request.fields,
                ReceiptState::Received {
                    receipt_number: &receipt_number,
                },
                &state.print_time(now),
                locale,
            );
            // The receipt number is also the application number the resident
            // (or their card) follows in the progress inquiry.
            let application = documents::submitted_application(
                &receipt_number,
                &service.name,
                &resident.id_number,
                &date.to_string(),
            );
            let record = SubmissionRecord {
                receipt_number: receipt_number.clone(),
                kiosk_id: write.kiosk_id.clone(),
                idempotency_key: write.key.clone(),
                service_id: service.id.clone(),
                card_number: resident.card_number,
                id_number: resident.id_number,
                applicant_name: resident.name,
                fields: request.fields.clone(),
                received_at: now,
                application,
            };
            let answer = SubmissionReceipt {
                receipt_number,
                service_id: service.id,
                received_at: now,
                receipt,
            };
            Ok((answer, WriteEffect::Submission(Box::new(record))))
        })
        .await?;
    Ok(json(&receipt))
}

/// A service rating (好差评).
#[utoipa::path(post, path = "/v1/ratings", tag = "ratings",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("Idempotency-Key" = String, Header, description = "One key per logical request, reused on retries")),
    request_body = RatingRequest,
    responses(
        (status = 200, description = "Recorded", body = RatingReceipt),
        (status = 400, description = "idempotency-key-missing", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rate(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RatingRequest>,
) -> Result<Response, ApiError> {
    let write = IdempotentWrite::begin(&state, &kiosk, &headers, "ratings", &request)?;
    if request.reasons.len() > 16 || request.reasons.iter().any(|r| r.len() > 64) {
        return Err(ApiError::validation(
            "at most 16 reasons of at most 64 bytes",
        ));
    }
    let store = &*state.store;
    let receipt = write
        .run(store, async {
            // Ratings are accepted after hours too: only the service must exist.
            load_service(store, &request.service_id, write.now).await?;
            let rating_id = uuid::Uuid::new_v4().to_string();
            let record = RatingRecord {
                rating_id: rating_id.clone(),
                kiosk_id: write.kiosk_id.clone(),
                idempotency_key: write.key.clone(),
                service_id: request.service_id.clone(),
                certificate_id: request.certificate_id.clone(),
                score: serde_json::to_value(request.score)?
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                reasons: request.reasons.clone(),
                received_at: write.now,
            };
            Ok((RatingReceipt { rating_id }, WriteEffect::Rating(record)))
        })
        .await?;
    Ok(json(&receipt))
}

/// Kiosk heartbeat: device health, versions and outbox backlog. Heartbeats
/// are written in batches; the answer comes once this one is committed.
#[utoipa::path(post, path = "/v1/heartbeats", tag = "kiosk",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("Idempotency-Key" = String, Header, description = "One key per heartbeat, reused on retries")),
    request_body = Heartbeat,
    responses(
        (status = 200, description = "Recorded", body = HeartbeatAck),
        (status = 400, description = "idempotency-key-missing", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn heartbeat(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<Heartbeat>,
) -> Result<Response, ApiError> {
    let write = IdempotentWrite::begin(&state, &kiosk, &headers, "heartbeats", &request)?;
    if request.devices.len() > 64 {
        return Err(ApiError::validation("at most 64 devices"));
    }
    let assigned = state
        .config_for_kiosk(&write.kiosk_id)
        .await?
        .and_then(|(v, _)| i64::try_from(v).ok());
    let stored = state
        .heartbeats
        .record(HeartbeatRecord {
            kiosk_id: write.kiosk_id.clone(),
            idempotency_key: write.key.clone(),
            request_sha256: write.request_sha256,
            sent_at: request.sent_at,
            received_at: write.now,
            app_version: request.app_version,
            config_version: request.config_version.and_then(|v| i64::try_from(v).ok()),
            outbox_backlog: i64::from(request.outbox_backlog),
            devices: request.devices,
            acked_config_version: assigned,
        })
        .await?;
    write.same_request(&stored.request_sha256)?;
    Ok(json(&HeartbeatAck {
        received_at: stored.received_at.to_offset(state.utc_offset),
        config_version: stored
            .acked_config_version
            .and_then(|v| u64::try_from(v).ok()),
    }))
}

// ---------------------------------------------------------------- configuration

/// The signed kiosk configuration. Send the last `ETag` in `If-None-Match` to get
/// `304 Not Modified` when nothing changed.
#[utoipa::path(get, path = "/v1/config", tag = "kiosk",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "ETag of the bundle the kiosk holds")),
    responses(
        (status = 200, description = "The newest bundle", body = SignedConfig,
            headers(("ETag" = String, description = "Entity tag of this bundle"))),
        (status = 304, description = "The kiosk's bundle is current",
            headers(("ETag" = String, description = "Entity tag of this bundle"))),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not-found: no bundle published", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn config(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The newest bundle published for this kiosk, else the service's default.
    let Some((version, signed)) = state.config_for_kiosk(&kiosk.0).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            "No configuration published",
        ));
    };
    let etag = config_etag(version, &signed);
    let etag_value = HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?;
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        json(&signed)
    };
    response.headers_mut().insert(header::ETAG, etag_value);
    Ok(response)
}
