//! The OpenAPI document of the kiosk API, generated from the handlers and the
//! wire types. `docs/openapi.yaml` is its committed rendering; a test keeps the
//! two identical (`estation-central openapi > docs/openapi.yaml` refreshes it).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, api, enroll, identity_code, phone, resident};
use crate::wire::*;

struct KioskSecurity;

impl Modify for KioskSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "kiosk_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Per-kiosk secret token, issued by `estation-central kiosk add`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "kiosk_id",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                KIOSK_ID_HEADER,
                "Id of the calling kiosk; must match its token",
            ))),
        );
        // Every operation says how it is authenticated; the public ones (verification,
        // keys) say explicitly that they need nothing.
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation.security.get_or_insert_with(Vec::new);
            }
        }
        components.add_security_scheme(
            "admin_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Administrator id and token, issued by `estation-central admin-add`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "estation kiosk API",
        description = "API between 24-hour e-station kiosks and the central service. \
Errors are `application/problem+json` (RFC 9457 style) with a stable `code`. \
Every write carries an `Idempotency-Key` header; a replay returns the first answer.",
    ),
    servers((url = "/", description = "The central service")),
    paths(
        api::catalogue,
        api::identity_lookup,
        identity_code::identify_by_code,
        api::issue_certificate,
        phone::create_phone_link,
        api::verify_certificate,
        api::public_keys,
        api::origin_certificate,
        api::origin_certificate_document,
        api::application_progress,
        resident::applications_by_card,
        resident::origin_certificate_form,
        resident::submission_form,
        api::submit,
        api::rate,
        api::heartbeat,
        api::config,
        enroll::enroll,
        admin::publish_bundle,
        admin::list_bundles,
        admin::fleet,
        enroll::create_enrollment_code,
    ),
    components(schemas(ConfigBundle, Problem, ProblemCode, PeriodChoice, FieldProblem)),
    modifiers(&KioskSecurity),
    tags(
        (name = "catalogue", description = "Services, categories, opening hours"),
        (name = "identity", description = "Residents identified by card or by the code on their phone"),
        (name = "certificates", description = "Issue and verify signed certificates"),
        (name = "origin-certificates", description = "Certificates of origin for exporters"),
        (name = "applications", description = "Application progress"),
        (name = "submissions", description = "Material submission"),
        (name = "ratings", description = "Service ratings"),
        (name = "kiosk", description = "Enrollment, heartbeat and signed configuration"),
        (name = "admin", description = "Administrators: enroll kiosks, publish configuration, watch the fleet"),
    )
)]
pub struct ApiDoc;

/// The document as YAML, exactly as committed in `docs/openapi.yaml`.
pub fn openapi_yaml() -> Result<String, String> {
    ApiDoc::openapi().to_yaml().map_err(|e| e.to_string())
}
