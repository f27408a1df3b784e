//! Route handlers of the kiosk API. Each carries its OpenAPI description, from
//! which `docs/openapi.yaml` is generated.

use std::sync::Arc;

use axum::Extension;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::documents::{self, OriginForm};
use super::error::ApiError;
use super::store::{rfc3339, sha256};
use super::{AppState, AuthenticatedKiosk};
use crate::wire::*;

/// JSON body extractor whose rejections are problem documents.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            "Request body too large",
        )
    } else {
        ApiError::validation(rejection.body_text())
    }
}

pub fn json<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// Runs blocking database work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())?
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::IdempotencyKeyMissing,
            "Writes need an Idempotency-Key header",
        )
    };
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?
        .trim();
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(missing().detail("the key must be 1 to 128 visible ASCII characters"));
    }
    Ok(key.to_owned())
}

/// The first language of `Accept-Language`, for documents in an answer whose
/// request has no locale member.
fn request_locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|tag| Locale::from_tag(tag.split(';').next().unwrap_or_default().trim()))
        .unwrap_or_default()
}

fn request_hash<T: serde::Serialize>(endpoint: &str, body: &T) -> [u8; 32] {
    let mut bytes = endpoint.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend(serde_json::to_vec(body).unwrap_or_default());
    sha256(&bytes)
}

fn service_from_row(
    r: &rusqlite::Row<'_>,
    now: OffsetDateTime,
) -> rusqlite::Result<Result<Service, serde_json::Error>> {
    let kind: String = r.get(2)?;
    let name: String = r.get(4)?;
    let description: String = r.get(5)?;
    let hours: String = r.get(6)?;
    let id: String = r.get(0)?;
    let category: String = r.get(1)?;
    let needs_card: bool = r.get(3)?;
    Ok((|| {
        let opening_hours: OpeningHours = serde_json::from_str(&hours)?;
        Ok(Service {
            id,
            category,
            name: serde_json::from_str(&name)?,
            description: serde_json::from_str(&description)?,
            kind: serde_json::from_value(serde_json::Value::String(kind))?,
            needs_card,
            open_now: opening_hours.is_open_at(now),
            opening_hours,
        })
    })())
}

const SERVICE_COLUMNS: &str =
    "id, category_id, kind, needs_card, name_json, description_json, opening_hours_json";

pub(super) fn load_service(
    conn: &rusqlite::Connection,
    id: &str,
    now: OffsetDateTime,
) -> Result<Service, ApiError> {
    let service = conn
        .query_row(
            &format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id = ?1"),
            params![id],
            |r| service_from_row(r, now),
        )
        .optional()?;
    match service {
        Some(s) => Ok(s?),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ServiceNotFound,
            "No such service",
        )),
    }
}

fn check_service(service: &Service, kind: ServiceKind) -> Result<(), ApiError> {
    if service.kind != kind {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::WrongServiceKind,
            "The service does not support this request",
        ));
    }
    if !service.open_now {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::ServiceClosed,
            "The service is closed at this time",
        ));
    }
    Ok(())
}

fn resident_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::ResidentNotFound,
        "No resident with this card",
    )
}

fn identity_mismatch() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ProblemCode::IdentityMismatch,
        "The card details do not match the resident record",
    )
}

/// Finds the resident and checks the details read from the card.
pub(super) fn authenticate_resident(
    conn: &rusqlite::Connection,
    card_number: &str,
    id_number: &str,
    name: Option<&str>,
) -> Result<documents::ResidentRow, ApiError> {
    let resident =
        documents::load_resident(conn, card_number.trim())?.ok_or_else(resident_not_found)?;
    if resident.id_number != id_number.trim().to_ascii_uppercase()
        || name.is_some_and(|n| n.trim() != resident.name)
    {
        return Err(identity_mismatch());
    }
    Ok(resident)
}

// ---------------------------------------------------------------- catalogue

/// The services catalogue, with categories and opening hours.
#[utoipa::path(get, path = "/v1/catalogue", tag = "catalogue",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    responses(
        (status = 200, description = "The catalogue", body = Catalogue),
        (status = 401, description = "Unknown kiosk", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn catalogue(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let now = state.now();
    let catalogue = blocking(move || {
        state.store.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, name_json FROM categories ORDER BY position")?;
            let categories = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .map(|row| -> Result<Category, ApiError> {
                    let (id, name) = row?;
                    Ok(Category {
                        id,
                        name: serde_json::from_str(&name)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SERVICE_COLUMNS} FROM services ORDER BY position"
            ))?;
            let services = stmt
                .query_map([], |r| service_from_row(r, now))?
                .map(|row| Ok(row??))
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(Catalogue {
                categories,
                services,
            })
        })
    })
    .await?;
    Ok(json(&catalogue))
}

// ---------------------------------------------------------------- identity

/// Identity lookup by card: checks the card against the resident register.
#[utoipa::path(post, path = "/v1/identity/lookup", tag = "identity",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    request_body = IdentityLookupRequest,
    responses(
        (status = 200, description = "The resident", body = Identity),
        (status = 404, description = "resident-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn identity_lookup(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<IdentityLookupRequest>,
) -> Result<Response, ApiError> {
    let identity = blocking(move || {
        state.store.read(|c| {
            let resident =
                authenticate_resident(c, &request.card_number, &request.id_number, None)?;
            Ok(Identity {
                insured: documents::has_contributions(c, &resident.id_number)?,
                card_number: resident.card_number,
                name: resident.name,
                gender: resident.gender,
                birth_date: resident.birth_date,
                id_number_masked: mask_id_number(&resident.id_number),
            })
        })
    })
    .await?;
    Ok(json(&identity))
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
        (status = 404, description = "resident-not-found, service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "service-closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, wrong-service-kind, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_certificate(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<IssueCertificateRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash("certificates", &request);
    let now = state.now();
    let certificate = blocking(move || {
        let signing_key = state.certificate_key.clone();
        state
            .store
            .idempotent_write(&kiosk.0, &key, "certificates", hash, now, |tx| {
                let service = load_service(tx, &request.service_id, now)?;
                check_service(&service, ServiceKind::Certificate)?;
                let resident = authenticate_resident(
                    tx,
                    &request.card_number,
                    &request.id_number,
                    Some(&request.name),
                )?;
                let period = documents::resolve_period(request.period.as_ref(), now)?;
                let contributions =
                    documents::load_contributions(tx, &resident.id_number, &period)?;
                let certificate_id = uuid::Uuid::new_v4().to_string();
                let code = documents::new_verification_code();
                let printed_at = state.print_time(now);
                let mut document = documents::certificate_document(
                    &service.id,
                    request.locale,
                    &resident,
                    &contributions,
                    &period,
                    &code,
                    &printed_at,
                )
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemCode::WrongServiceKind,
                        "No document template for this service",
                    )
                })?;
                let (signature, qr_payload) = documents::sign_document(
                    &signing_key,
                    &mut document,
                    &certificate_id,
                    &service.id,
                    now.unix_timestamp(),
                );
                tx.execute(
                    "INSERT INTO issued_certificates (certificate_id, verification_code, kiosk_id,
                         idempotency_key, service_id, card_number, id_number, locale, issued_at,
                         signature, qr_payload, document_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        certificate_id,
                        code,
                        kiosk.0,
                        key,
                        service.id,
                        resident.card_number,
                        resident.id_number,
                        request.locale.as_str(),
                        rfc3339(now),
                        signature,
                        qr_payload,
                        serde_json::to_string(&document)?,
                    ],
                )?;
                Ok(IssuedCertificate {
                    certificate_id,
                    verification_code: code,
                    service_id: service.id,
                    issued_at: now,
                    signature,
                    qr_payload,
                    document,
                })
            })
    })
    .await?;
    Ok(json(&certificate))
}

/// Public verification of a printed certificate by its code. No kiosk
/// credentials needed: anyone holding the paper can check it.
#[utoipa::path(get, path = "/v1/verify/{code}", tag = "certificates",
    params(("code" = String, Path, description = "Verification code as printed")),
    responses(
        (status = 200, description = "The certificate as issued", body = CertificateVerification),
        (status = 404, description = "certificate-not-found", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_certificate(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = documents::normalize_verification_code(&code);
    let key_id = super::key_id(&state.certificate_key.verifying_key());
    let verification = blocking(move || {
        state.store.read(|c| {
            let row = c
                .query_row(
                    "SELECT certificate_id, verification_code, service_id, issued_at, signature,
                            qr_payload, document_json
                     FROM issued_certificates WHERE verification_code = ?1",
                    params![code],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                        ))
                    },
                )
                .optional()?;
            if let Some((
                certificate_id,
                verification_code,
                service_id,
                issued_at,
                signature,
                qr_payload,
                document,
            )) = row
            {
                return Ok(CertificateVerification {
                    certificate_id,
                    verification_code,
                    service_id,
                    issued_at: OffsetDateTime::parse(
                        &issued_at,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map_err(|_| ApiError::internal())?,
                    signature,
                    qr_payload,
                    key_id,
                    document: serde_json::from_str(&document)?,
                });
            }
            // Approved certificates of origin verify by their certificate number.
            let origin: Option<(String, String)> = c
                .query_row(
                    "SELECT application_number, exporter_code FROM origin_certificates
                     WHERE certificate_number = ?1",
                    params![code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((application_number, exporter_code)) = origin else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    ProblemCode::CertificateNotFound,
                    "No certificate with this code",
                ));
            };
            let signed = signed_origin_document(c, &state, &application_number, &exporter_code)?;
            Ok(CertificateVerification {
                certificate_id: application_number,
                verification_code: signed.document.verification_code.clone(),
                service_id: ORIGIN_SERVICE_ID.into(),
                issued_at: signed.issued_at,
                signature: signed.signature,
                qr_payload: signed.document.qr_payload.clone(),
                key_id,
                document: signed.document,
            })
        })
    })
    .await?;
    Ok(json(&verification))
}

/// The public keys that sign certificates and kiosk configuration.
#[utoipa::path(get, path = "/v1/keys", tag = "certificates",
    responses((status = 200, description = "Published keys", body = PublicKeys)))]
pub async fn public_keys(State(state): State<Arc<AppState>>) -> Response {
    json(&PublicKeys {
        certificate: super::public_key_info(&state.certificate_key.verifying_key()),
        config: super::public_key_info(&state.config_key.verifying_key()),
    })
}

// ---------------------------------------------------------------- origin certificates

const ORIGIN_SERVICE_ID: &str = "origin-certificate";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExporterQuery {
    /// The exporter's customs registration code.
    pub exporter_code: String,
}

pub(super) struct OriginRow {
    pub(super) summary: OriginCertificateSummary,
    pub(super) exporter_address: String,
    pub(super) consignee: String,
    pub(super) transport: String,
    pub(super) goods: Vec<[String; 4]>,
    pub(super) producer: String,
    pub(super) invoice: String,
}

pub(super) fn load_origin(
    conn: &rusqlite::Connection,
    application_number: &str,
    exporter_code: &str,
) -> Result<OriginRow, ApiError> {
    let row = conn
        .query_row(
            "SELECT summary_json, exporter_address, consignee, transport, goods_json,
                    COALESCE(producer, ''), COALESCE(invoice, '')
             FROM origin_certificates WHERE application_number = ?1 AND exporter_code = ?2",
            params![application_number.trim(), exporter_code.trim()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .optional()?;
    // One answer for "no such application" and "wrong exporter code", so the
    // code cannot be guessed application by application.
    let Some((summary, exporter_address, consignee, transport, goods, producer, invoice)) = row
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::OriginCertificateNotFound,
            "No certificate of origin for this application number and exporter code",
        ));
    };
    Ok(OriginRow {
        summary: serde_json::from_str(&summary)?,
        exporter_address,
        consignee,
        transport,
        goods: serde_json::from_str(&goods)?,
        producer,
        invoice,
    })
}

pub(super) struct SignedOrigin {
    pub(super) document: PrintableDocument,
    pub(super) signature: String,
    pub(super) issued_at: OffsetDateTime,
}

pub(super) fn signed_origin_document(
    conn: &rusqlite::Connection,
    state: &AppState,
    application_number: &str,
    exporter_code: &str,
) -> Result<SignedOrigin, ApiError> {
    let origin = load_origin(conn, application_number, exporter_code)?;
    let (OriginCertificateStatus::Approved, Some(number), Some(approved_on)) = (
        origin.summary.status,
        origin.summary.certificate_number.as_deref(),
        origin.summary.approved_on.as_deref(),
    ) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ProblemCode::OriginCertificateNotApproved,
            "The certificate of origin is not approved yet",
        ));
    };
    let issued_at = time::Date::parse(
        approved_on,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::internal())?
    .midnight()
    .assume_offset(state.utc_offset);
    let form = OriginForm {
        summary: &origin.summary,
        exporter_address: &origin.exporter_address,
        consignee: &origin.consignee,
        transport: &origin.transport,
        goods: &origin.goods,
    };
    let mut document = documents::origin_document(&form, number, approved_on);
    // ed25519 signatures are deterministic, so the same form always carries the same QR.
    let (signature, _) = documents::sign_document(
        &state.certificate_key,
        &mut document,
        &origin.summary.application_number,
        ORIGIN_SERVICE_ID,
        issued_at.unix_timestamp(),
    );
    Ok(SignedOrigin {
        document,
        signature,
        issued_at,
    })
}

/// Certificate-of-origin lookup by application number plus exporter code.
#[utoipa::path(get, path = "/v1/origin-certificates/{application_number}", tag = "origin-certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number"), ExporterQuery),
    responses(
        (status = 200, description = "The application", body = OriginCertificateSummary),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate(
    State(state): State<Arc<AppState>>,
    Path(application_number): Path<String>,
    Query(query): Query<ExporterQuery>,
) -> Result<Response, ApiError> {
    let summary = blocking(move || {
        state
            .store
            .read(|c| Ok(load_origin(c, &application_number, &query.exporter_code)?.summary))
    })
    .await?;
    Ok(json(&summary))
}

/// The printable, signed form of an approved certificate of origin.
#[utoipa::path(get, path = "/v1/origin-certificates/{application_number}/document", tag = "origin-certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number"), ExporterQuery),
    responses(
        (status = 200, description = "The form to print", body = PrintableDocument),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "origin-certificate-not-approved", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate_document(
    State(state): State<Arc<AppState>>,
    Path(application_number): Path<String>,
    Query(query): Query<ExporterQuery>,
) -> Result<Response, ApiError> {
    let document = blocking(move || {
        state.store.read(|c| {
            Ok(
                signed_origin_document(c, &state, &application_number, &query.exporter_code)?
                    .document,
            )
        })
    })
    .await?;
    Ok(json(&document))
}

// ---------------------------------------------------------------- applications

/// Language of a printable document in a GET answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// "zh-CN" (default), "zh-TW" or "en-US".
    #[param(value_type = Option<String>)]
    pub locale: Option<Locale>,
}

/// Loads one application's progress with its printable document.
pub(super) fn load_progress(
    conn: &rusqlite::Connection,
    application_number: &str,
    locale: Locale,
    printed_at: &str,
) -> Result<ApplicationProgress, ApiError> {
    let row = conn
        .query_row(
            "SELECT application_number, service_name_json, status, submitted_on,
                    expected_completion, steps_json, missing_json
             FROM applications WHERE application_number = ?1",
            params![application_number.trim().to_ascii_uppercase()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((
        application_number,
        service_name,
        status,
        submitted_on,
        expected_completion,
        steps,
        missing,
    )) = row
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ApplicationNotFound,
            "No application with this number",
        ));
    };
    let service_name: LocalizedText = serde_json::from_str(&service_name)?;
    let status: ApplicationStatus = serde_json::from_str(&status)?;
    let steps: Vec<ProgressStep> = serde_json::from_str(&steps)?;
    let missing: Vec<LocalizedText> = serde_json::from_str(&missing)?;
    let document = documents::progress_document(
        &documents::ProgressParts {
            application_number: &application_number,
            service_name: &service_name,
            status,
            submitted_on: &submitted_on,
            expected_completion: expected_completion.as_deref(),
            steps: &steps,
            missing: &missing,
        },
        locale,
        printed_at,
    );
    Ok(ApplicationProgress {
        application_number,
        service_name,
        status,
        submitted_on,
        expected_completion,
        steps,
        missing,
        document,
    })
}

/// Application progress: steps, dates and what is still missing, with the same
/// as a printable document in `locale`.
#[utoipa::path(get, path = "/v1/applications/{application_number}/progress", tag = "applications",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number (or a submission's receipt number)"), LocaleQuery),
    responses(
        (status = 200, description = "Progress", body = ApplicationProgress),
        (status = 404, description = "application-not-found", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn application_progress(
    State(state): State<Arc<AppState>>,
    Path(application_number): Path<String>,
    Query(query): Query<LocaleQuery>,
) -> Result<Response, ApiError> {
    let printed_at = state.print_time(state.now());
    let locale = query.locale.unwrap_or_default();
    let progress = blocking(move || {
        state
            .store
            .read(|c| load_progress(c, &application_number, locale, &printed_at))
    })
    .await?;
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
        (status = 404, description = "resident-not-found, service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SubmissionRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let locale = request_locale(&headers);
    let hash = request_hash("submissions", &request);
    let now = state.now();
    let receipt = blocking(move || {
        state
            .store
            .idempotent_write(&kiosk.0, &key, "submissions", hash, now, |tx| {
                let service = load_service(tx, &request.service_id, now)?;
                check_service(&service, ServiceKind::Submission)?;
                let resident = authenticate_resident(
                    tx,
                    &request.card_number,
                    &request.id_number,
                    Some(&request.name),
                )?;
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
                let prefix = format!(
                    "RC{:04}{:02}{:02}-",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                );
                let today: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM submissions WHERE receipt_number LIKE ?1 || '%'",
                    params![prefix],
                    |r| r.get(0),
                )?;
                let receipt_number = format!("{prefix}{:06}", today + 1);
                tx.execute(
                "INSERT INTO submissions (receipt_number, kiosk_id, idempotency_key, service_id,
                     card_number, id_number, applicant_name, fields_json, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    receipt_number,
                    kiosk.0,
                    key,
                    service.id,
                    resident.card_number,
                    resident.id_number,
                    resident.name,
                    serde_json::to_string(&request.fields)?,
                    rfc3339(now),
                ],
            )?;
                // The receipt number is also the application number the
                // resident (or their card) follows in the progress inquiry.
                documents::record_submitted_application(
                    tx,
                    &receipt_number,
                    &service.name,
                    &resident.id_number,
                    &now.date().to_string(),
                )?;
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
                Ok(SubmissionReceipt {
                    receipt_number,
                    service_id: service.id,
                    received_at: now,
                    receipt,
                })
            })
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
        (status = 404, description = "service-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rate(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RatingRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash("ratings", &request);
    let now = state.now();
    if request.reasons.len() > 16 || request.reasons.iter().any(|r| r.len() > 64) {
        return Err(ApiError::validation(
            "at most 16 reasons of at most 64 bytes",
        ));
    }
    let receipt = blocking(move || {
        state
            .store
            .idempotent_write(&kiosk.0, &key, "ratings", hash, now, |tx| {
                // Ratings are accepted after hours too: only the service must exist.
                load_service(tx, &request.service_id, now)?;
                let rating_id = uuid::Uuid::new_v4().to_string();
                tx.execute(
                    "INSERT INTO ratings (rating_id, kiosk_id, idempotency_key, service_id,
                     certificate_id, score, reasons_json, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        rating_id,
                        kiosk.0,
                        key,
                        request.service_id,
                        request.certificate_id,
                        serde_json::to_value(request.score)?
                            .as_str()
                            .unwrap_or_default(),
                        serde_json::to_string(&request.reasons)?,
                        rfc3339(now),
                    ],
                )?;
                Ok(RatingReceipt { rating_id })
            })
    })
    .await?;
    Ok(json(&receipt))
}

/// Kiosk heartbeat: device health, versions and outbox backlog.
#[utoipa::path(post, path = "/v1/heartbeats", tag = "kiosk",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("Idempotency-Key" = String, Header, description = "One key per heartbeat, reused on retries")),
    request_body = Heartbeat,
    responses(
        (status = 200, description = "Recorded", body = HeartbeatAck),
        (status = 422, description = "validation-failed, idempotency-key-reused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn heartbeat(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<Heartbeat>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash("heartbeats", &request);
    let now = state.now();
    if request.devices.len() > 64 {
        return Err(ApiError::validation("at most 64 devices"));
    }
    let ack = blocking(move || {
        let config_version =
            super::admin::config_for_kiosk(&state.store, &kiosk.0)?.map(|(v, _)| v);
        state.store.idempotent_write(&kiosk.0, &key, "heartbeats", hash, now, |tx| {
            tx.execute(
                "INSERT INTO heartbeats (kiosk_id, idempotency_key, sent_at, received_at, app_version,
                     config_version, outbox_backlog, devices_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    kiosk.0,
                    key,
                    rfc3339(request.sent_at),
                    rfc3339(now),
                    request.app_version,
                    request.config_version.and_then(|v| i64::try_from(v).ok()),
                    request.outbox_backlog,
                    serde_json::to_string(&request.devices)?,
                ],
            )?;
            Ok(HeartbeatAck {
                received_at: now,
                config_version,
            })
        })
    })
    .await?;
    Ok(json(&ack))
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
        (status = 304, description = "The kiosk's bundle is current"),
        (status = 404, description = "not-found: no bundle published", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn config(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The newest bundle published for this kiosk, else the service's default.
    let latest = blocking(move || super::admin::config_for_kiosk(&state.store, &kiosk.0)).await?;
    let Some((version, signed)) = latest else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            "No configuration published",
        ));
    };
    let etag = super::admin::config_etag(version, &signed);
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
