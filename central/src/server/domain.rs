//! The checks and look-ups several handlers share: a resident against the
//! register, a service that must be open, an application's progress, and
//! signed certificates of origin.

use axum::http::StatusCode;
use time::OffsetDateTime;

use super::documents::{self, OriginForm, ResidentRow};
use super::error::ApiError;
use super::state::AppState;
use super::store::{OriginRecord, Store};
use crate::wire::{
    ApplicationProgress, Locale, OriginCertificateStatus, PrintableDocument, ProblemCode, Service,
    ServiceKind,
};

/// Service id of certificates of origin in signatures and verification answers.
pub const ORIGIN_SERVICE_ID: &str = "origin-certificate";

pub async fn load_service(
    store: &dyn Store,
    id: &str,
    now: OffsetDateTime,
) -> Result<Service, ApiError> {
    match store.service(id).await? {
        Some(record) => Ok(record.at(now)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ServiceNotFound,
            "No such service",
        )),
    }
}

/// A service of the right kind that is open now.
pub fn check_service(service: &Service, kind: ServiceKind) -> Result<(), ApiError> {
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

/// The preamble of a resident's request for a service: the service exists, is
/// of `kind` and open now, and the card's details match the register.
pub async fn open_service_for_resident(
    store: &dyn Store,
    service_id: &str,
    kind: ServiceKind,
    card: CardDetails<'_>,
    now: OffsetDateTime,
) -> Result<(Service, ResidentRow), ApiError> {
    let service = load_service(store, service_id, now).await?;
    check_service(&service, kind)?;
    let resident =
        authenticate_resident(store, card.card_number, card.id_number, Some(card.name)).await?;
    Ok((service, resident))
}

/// What a request carries from the resident's card.
#[derive(Clone, Copy)]
pub struct CardDetails<'a> {
    pub card_number: &'a str,
    pub id_number: &'a str,
    pub name: &'a str,
}

/// Finds the resident and checks the details read from the card.
pub async fn authenticate_resident(
    store: &dyn Store,
    card_number: &str,
    id_number: &str,
    name: Option<&str>,
) -> Result<ResidentRow, ApiError> {
    let resident = store.resident(card_number.trim()).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ResidentNotFound,
            "No resident with this card",
        )
    })?;
    if resident.id_number != id_number.trim().to_ascii_uppercase()
        || name.is_some_and(|n| n.trim() != resident.name)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ProblemCode::IdentityMismatch,
            "The card details do not match the resident record",
        ));
    }
    Ok(resident)
}

/// One application's progress with its printable document.
pub async fn load_progress(
    store: &dyn Store,
    application_number: &str,
    locale: Locale,
    printed_at: &str,
) -> Result<ApplicationProgress, ApiError> {
    let Some(app) = store
        .application(&application_number.trim().to_ascii_uppercase())
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ApplicationNotFound,
            "No application with this number",
        ));
    };
    let document = documents::progress_document(
        &documents::ProgressParts {
            application_number: &app.application_number,
            service_name: &app.service_name,
            status: app.status,
            submitted_on: &app.submitted_on,
            expected_completion: app.expected_completion.as_deref(),
            steps: &app.steps,
            missing: &app.missing,
        },
        locale,
        printed_at,
    );
    Ok(ApplicationProgress {
        application_number: app.application_number,
        service_name: app.service_name,
        status: app.status,
        submitted_on: app.submitted_on,
        expected_completion: app.expected_completion,
        steps: app.steps,
        missing: app.missing,
        document,
    })
}

/// A certificate of origin by application number and exporter code. One
/// answer for "no such application" and "wrong exporter code", so the code
/// cannot be guessed application by application.
pub async fn load_origin(
    store: &dyn Store,
    application_number: &str,
    exporter_code: &str,
) -> Result<OriginRecord, ApiError> {
    store
        .origin(application_number.trim(), exporter_code.trim())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ProblemCode::OriginCertificateNotFound,
                "No certificate of origin for this application number and exporter code",
            )
        })
}

pub struct SignedOrigin {
    pub document: PrintableDocument,
    pub signature: String,
    pub issued_at: OffsetDateTime,
}

/// The signed printable form of an approved certificate of origin.
pub fn sign_origin(state: &AppState, origin: &OriginRecord) -> Result<SignedOrigin, ApiError> {
    let (OriginCertificateStatus::Approved, Some(number), Some(approved_on), Some(code)) = (
        origin.summary.status,
        origin.summary.certificate_number.as_deref(),
        origin.summary.approved_on.as_deref(),
        origin.verification_code.as_deref(),
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
    let mut document = documents::origin_document(&form, number, approved_on, code);
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
