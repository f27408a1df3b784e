//! Handlers of the resident services beyond certificates: a resident's own
//! applications, the certificate-of-origin form, and submission forms.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rusqlite::params;

use super::AppState;
use super::api::{
    ApiJson, ExporterQuery, authenticate_resident, blocking, json, load_origin,
    signed_origin_document,
};
use super::documents::{self, OriginForm};
use super::error::ApiError;
use crate::wire::*;

/// Most applications listed for one resident (newest first).
const MAX_LISTED_APPLICATIONS: i64 = 50;

/// The applications of the resident identified by card number and ID number,
/// newest first, with a printable list. A read, but sent as POST so that the
/// ID number stays out of URLs and access logs.
#[utoipa::path(post, path = "/v1/applications/lookup", tag = "applications",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    request_body = ApplicationsLookupRequest,
    responses(
        (status = 200, description = "The resident's applications (possibly none)", body = ResidentApplications),
        (status = 404, description = "resident-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn applications_by_card(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<ApplicationsLookupRequest>,
) -> Result<Response, ApiError> {
    let printed_at = state.print_time(state.now());
    let answer = blocking(move || {
        state.store.read(|c| {
            let resident =
                authenticate_resident(c, &request.card_number, &request.id_number, None)?;
            let mut stmt = c.prepare_cached(
                "SELECT application_number, service_name_json, status, submitted_on, steps_json
                 FROM applications WHERE applicant_id_number = ?1
                 ORDER BY submitted_on DESC, application_number DESC LIMIT ?2",
            )?;
            let applications = stmt
                .query_map(params![resident.id_number, MAX_LISTED_APPLICATIONS], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .map(|row| -> Result<ApplicationSummary, ApiError> {
                    let (application_number, service_name, status, submitted_on, steps) = row?;
                    let steps: Vec<ProgressStep> = serde_json::from_str(&steps)?;
                    let updated_on = steps
                        .iter()
                        .filter_map(|s| s.date.clone())
                        .max()
                        .unwrap_or_else(|| submitted_on.clone());
                    Ok(ApplicationSummary {
                        application_number,
                        service_name: serde_json::from_str(&service_name)?,
                        status: serde_json::from_str(&status)?,
                        submitted_on,
                        updated_on,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let document = documents::applications_document(
                &resident,
                &applications,
                request.locale,
                &printed_at,
            );
            Ok(ResidentApplications {
                applications,
                document,
            })
        })
    })
    .await?;
    Ok(json(&answer))
}

/// An approved certificate of origin as the agreement's form (boxes, items,
/// declaration), for the kiosk's A4-wide form layout. Its verification code
/// and QR are those of the signed document.
#[utoipa::path(get, path = "/v1/origin-certificates/{application_number}/form", tag = "origin-certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("application_number" = String, Path, description = "Application number"), ExporterQuery),
    responses(
        (status = 200, description = "The form to print", body = OriginCertificateForm),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "origin-certificate-not-approved", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate_form(
    State(state): State<Arc<AppState>>,
    Path(application_number): Path<String>,
    Query(query): Query<ExporterQuery>,
) -> Result<Response, ApiError> {
    let form = blocking(move || {
        state.store.read(|c| {
            let signed =
                signed_origin_document(c, &state, &application_number, &query.exporter_code)?;
            let origin = load_origin(c, &application_number, &query.exporter_code)?;
            let boxes = OriginForm {
                summary: &origin.summary,
                exporter_address: &origin.exporter_address,
                consignee: &origin.consignee,
                transport: &origin.transport,
                goods: &origin.goods,
            };
            Ok(documents::origin_form(
                &boxes,
                &origin.producer,
                &origin.invoice,
                &signed.document,
            ))
        })
    })
    .await?;
    Ok(json(&form))
}

/// The form of a submission service: fields, labels and the rules the service
/// applies, so the kiosk can check input before sending it.
#[utoipa::path(get, path = "/v1/services/{service_id}/form", tag = "submissions",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("service_id" = String, Path, description = "Id of a submission service")),
    responses(
        (status = 200, description = "The form", body = SubmissionForm),
        (status = 404, description = "service-not-found", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn submission_form(Path(service_id): Path<String>) -> Result<Response, ApiError> {
    match crate::wire::submission_form(&service_id) {
        Some(form) => Ok(json(&form)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ServiceNotFound,
            "No submission form for this service",
        )),
    }
}
