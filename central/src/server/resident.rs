//! Handlers of the resident services beyond certificates: a resident's own
//! applications, the certificate-of-origin form, and submission forms.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::api::ExporterQuery;
use super::documents::{self, OriginForm};
use super::domain::{authenticate_resident, load_origin, sign_origin};
use super::error::ApiError;
use super::http::{ApiJson, ApiPath, ApiQuery, json};
use super::state::AppState;
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
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "identity-mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "resident-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed: not a lookup request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn applications_by_card(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<ApplicationsLookupRequest>,
) -> Result<Response, ApiError> {
    let printed_at = state.print_time(state.now());
    let resident = authenticate_resident(
        &*state.store,
        &request.card_number,
        &request.id_number,
        None,
    )
    .await?;
    let applications = state
        .store
        .applications_of(&resident.id_number, MAX_LISTED_APPLICATIONS)
        .await?
        .into_iter()
        .map(|app| {
            let updated_on = app
                .steps
                .iter()
                .filter_map(|s| s.date.clone())
                .max()
                .unwrap_or_else(|| app.submitted_on.clone());
            ApplicationSummary {
                application_number: app.application_number,
                service_name: app.service_name,
                status: app.status,
                submitted_on: app.submitted_on,
                updated_on,
            }
        })
        .collect::<Vec<_>>();
    let document =
        documents::applications_document(&resident, &applications, request.locale, &printed_at);
    let answer = ResidentApplications {
        applications,
        document,
    };
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
        (status = 400, description = "validation-failed: the query does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "origin-certificate-not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "origin-certificate-not-approved", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn origin_certificate_form(
    State(state): State<Arc<AppState>>,
    ApiPath(application_number): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExporterQuery>,
) -> Result<Response, ApiError> {
    let origin = load_origin(&*state.store, &application_number, &query.exporter_code).await?;
    let signed = sign_origin(&state, &origin)?;
    let boxes = OriginForm {
        summary: &origin.summary,
        exporter_address: &origin.exporter_address,
        consignee: &origin.consignee,
        transport: &origin.transport,
        goods: &origin.goods,
    };
    let form = documents::origin_form(&boxes, &origin.producer, &origin.invoice, &signed.document);
    Ok(json(&form))
}

/// The form of a submission service: fields, labels and the rules the service
/// applies, so the kiosk can check input before sending it.
#[utoipa::path(get, path = "/v1/services/{service_id}/form", tag = "submissions",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("service_id" = String, Path, description = "Id of a submission service")),
    responses(
        (status = 200, description = "The form", body = SubmissionForm),
        (status = 400, description = "validation-failed: the path does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "service-not-found", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn submission_form(ApiPath(service_id): ApiPath<String>) -> Result<Response, ApiError> {
    match crate::wire::submission_form(&service_id) {
        Some(form) => Ok(json(&form)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ProblemCode::ServiceNotFound,
            "No submission form for this service",
        )),
    }
}
