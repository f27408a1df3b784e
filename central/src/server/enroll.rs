//! Enrollment: an administrator asks for a one-time code for a kiosk id (the
//! command line, the API or the fleet page); the new kiosk exchanges the code
//! for its token and the keys it must trust (`estation enroll`). Nobody copies
//! a token by hand.
//!
//! Only the code's hash is stored. A code is used at most once, even when two
//! machines race for it on different replicas: the store marks it used in the
//! statement that checks it.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::DecodePublicKey;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::AuthenticatedAdmin;
use super::error::ApiError;
use super::http::{ApiJson, escape, json};
use super::state::{AppState, ServerError, new_token, public_key_info, register_kiosk_with_token};
use super::store::{EnrollmentCodeRecord, Redeemed, Store, rfc3339, sha256};
use crate::wire::{
    EnrollRequest, Enrollment, EnrollmentCode, EnrollmentCodeRequest, Problem, ProblemCode,
    PublicKeyInfo,
};

/// The shortest and longest life of a code.
pub const MIN_TTL_SECS: u64 = 60;
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;
/// More keys than anyone rotates through.
const MAX_CONFIG_KEYS: usize = 8;

/// A fresh code: 16 characters of Crockford base32 (80 random bits) in groups
/// of four, to be read over the phone and typed on a kiosk's keyboard.
pub fn new_enrollment_code() -> String {
    super::codes::grouped_random_code(4)
}

/// The form of a code that is hashed: upper case, without spaces and dashes,
/// Crockford look-alikes mapped, so that "7kq2 m9xd…" finds "7KQ2-M9XD-…".
pub fn normalize_enrollment_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// A refused request for a code.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentCodeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl From<EnrollmentCodeError> for ApiError {
    fn from(e: EnrollmentCodeError) -> Self {
        match e {
            EnrollmentCodeError::Invalid(detail) => ApiError::validation(detail),
            EnrollmentCodeError::Server(ServerError::Api(detail)) => ApiError::validation(detail),
            EnrollmentCodeError::Server(other) => {
                tracing::error!(error = %other, "creating an enrollment code failed");
                ApiError::internal()
            }
        }
    }
}

/// Creates a code for `request.kiosk_id`; used by the command line, the API and
/// the fleet page alike.
pub async fn issue_enrollment_code(
    store: &dyn Store,
    created_by: &str,
    request: &EnrollmentCodeRequest,
    now: OffsetDateTime,
) -> Result<EnrollmentCode, EnrollmentCodeError> {
    let kiosk_id = request.kiosk_id.trim();
    if kiosk_id.is_empty()
        || kiosk_id.len() > 64
        || !kiosk_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(EnrollmentCodeError::Invalid(
            "a kiosk id has 1 to 64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&request.ttl_secs) {
        return Err(EnrollmentCodeError::Invalid(format!(
            "a code lives {MIN_TTL_SECS} s to {MAX_TTL_SECS} s (30 days)"
        )));
    }
    if request.config_keys.len() > MAX_CONFIG_KEYS {
        return Err(EnrollmentCodeError::Invalid(format!(
            "at most {MAX_CONFIG_KEYS} configuration keys"
        )));
    }
    // Keys are checked here, so that a kiosk never receives one it cannot use;
    // their ids are recomputed rather than taken from the request.
    let mut config_keys = Vec::new();
    for key in &request.config_keys {
        let verifying = key.verifying_key().map_err(|_| {
            EnrollmentCodeError::Invalid(format!(
                "configuration key {:?} is not an ed25519 public key",
                key.key_id
            ))
        })?;
        config_keys.push(public_key_info(&verifying));
    }
    let code = new_enrollment_code();
    let expires_at = now + time::Duration::seconds(request.ttl_secs as i64);
    store
        .create_enrollment_code(&EnrollmentCodeRecord {
            code_sha256: sha256(normalize_enrollment_code(&code).as_bytes()),
            kiosk_id: kiosk_id.to_owned(),
            created_by: created_by.to_owned(),
            created_at: now,
            expires_at,
            config_keys,
        })
        .await
        .map_err(ServerError::from)?;
    tracing::info!(kiosk_id, created_by, %expires_at, "enrollment code created");
    Ok(EnrollmentCode {
        code,
        kiosk_id: kiosk_id.to_owned(),
        expires_at,
    })
}

/// Reads the public keys of PEM text (`estation admin keygen`'s PREFIX.pub
/// files, one or several pasted one after another).
pub fn public_keys_from_pem(text: &str) -> Result<Vec<PublicKeyInfo>, String> {
    const END: &str = "-----END PUBLIC KEY-----";
    let mut keys = Vec::new();
    for block in text.split_inclusive(END) {
        let block = block.trim();
        if block.is_empty() {
            continue;
        }
        let key = VerifyingKey::from_public_key_pem(block)
            .map_err(|e| format!("not an ed25519 public key in PEM: {e}"))?;
        keys.push(public_key_info(&key));
    }
    Ok(keys)
}

/// Creates a one-time enrollment code for a kiosk id.
#[utoipa::path(post, path = "/v1/admin/enrollment-codes", tag = "admin",
    security(("admin_basic" = [])),
    request_body = EnrollmentCodeRequest,
    responses(
        (status = 201, description = "The code, shown this once", body = EnrollmentCode),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed: bad kiosk id, time limit or key", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_enrollment_code(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<AuthenticatedAdmin>,
    ApiJson(request): ApiJson<EnrollmentCodeRequest>,
) -> Result<Response, ApiError> {
    let code = issue_enrollment_code(&**state.store(), &admin.0, &request, state.now()).await?;
    Ok((StatusCode::CREATED, json(&code)).into_response())
}

/// Exchanges a one-time code for the kiosk's token and trust anchors. No
/// credentials: the code is the credential. Rate-limited per client address.
#[utoipa::path(post, path = "/v1/enroll", tag = "kiosk",
    security(()),
    request_body = EnrollRequest,
    responses(
        (status = 200, description = "Enrolled: the kiosk's token and keys", body = Enrollment),
        (status = 404, description = "enrollment-code-unknown", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "enrollment-code-used", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "enrollment-code-expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too-many-requests from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enroll(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Response, ApiError> {
    let code = normalize_enrollment_code(&request.code);
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::validation(
            "an enrollment code has 1 to 64 characters",
        ));
    }
    let now = state.now();
    let (kiosk_id, extra_keys) = match state
        .store()
        .redeem_enrollment_code(&sha256(code.as_bytes()), now)
        .await?
    {
        Redeemed::Enrolled {
            kiosk_id,
            config_keys,
        } => (kiosk_id, config_keys),
        Redeemed::AlreadyUsed => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ProblemCode::EnrollmentCodeUsed,
                "This enrollment code has been used already",
            )
            .detail("a code enrolls one kiosk once; ask for a new one"));
        }
        Redeemed::Expired => {
            return Err(ApiError::new(
                StatusCode::GONE,
                ProblemCode::EnrollmentCodeExpired,
                "This enrollment code has expired",
            )
            .detail("ask for a new one"));
        }
        Redeemed::Unknown => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ProblemCode::EnrollmentCodeUnknown,
                "No such enrollment code",
            )
            .detail("check it for typos"));
        }
    };
    let token = register_kiosk_with_token(&**state.store(), &kiosk_id, new_token(), now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "registering an enrolled kiosk failed");
            ApiError::internal()
        })?;
    let keys = state.public_keys();
    let mut config_keys: Vec<PublicKeyInfo> = Vec::new();
    for key in extra_keys {
        if !config_keys.iter().any(|k| k.key_id == key.key_id) {
            config_keys.push(key);
        }
    }
    tracing::info!(%kiosk_id, "kiosk enrolled");
    Ok(json(&Enrollment {
        kiosk_id,
        token,
        config_keys,
        certificate_key: keys.certificate,
    }))
}

/// The fleet page's form.
#[derive(Deserialize)]
pub struct EnrollmentCodeForm {
    kiosk_id: String,
    ttl_hours: u64,
    #[serde(default)]
    config_keys: String,
}

/// The fleet page's "enroll a kiosk" form posts here; the answer is a page
/// showing the code once.
pub async fn enrollment_code_page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<AuthenticatedAdmin>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<EnrollmentCodeForm>,
) -> Response {
    // A browser sends the administrator's Basic credentials with any request to
    // this origin, so a form on another site must not be able to post here.
    if !same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            "Refused",
            "<p>The form was sent from another site.</p>",
        );
    }
    let keys = match public_keys_from_pem(&form.config_keys) {
        Ok(keys) => keys,
        Err(message) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not created",
                &escape(&message),
            );
        }
    };
    let request = EnrollmentCodeRequest {
        kiosk_id: form.kiosk_id,
        ttl_secs: form.ttl_hours.saturating_mul(3600),
        config_keys: keys,
    };
    match issue_enrollment_code(&**state.store(), &admin.0, &request, state.now()).await {
        Ok(code) => page(
            StatusCode::CREATED,
            "Enrollment code",
            &format!(
                "<p>On kiosk <b>{kiosk}</b>, run:</p><pre>sudo estation enroll --central URL --code {code}</pre>\
<p>The code works once, until {expires}. It is shown only now.</p>",
                kiosk = escape(&code.kiosk_id),
                code = escape(&code.code),
                expires = escape(&rfc3339(code.expires_at)),
            ),
        ),
        Err(EnrollmentCodeError::Invalid(message)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not created",
            &escape(&message),
        ),
        Err(other) => {
            let _ = ApiError::from(other);
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Not created",
                "<p>The service could not store the code; see its log.</p>",
            )
        }
    }
}

/// True unless the browser says the request comes from another origin.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return false;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>body{{font-family:sans-serif;margin:1.5em}}pre{{font-size:1.4em}}</style></head><body>\
<h1>{title}</h1>{body}<p><a href=\"/admin/fleet\">Back to the fleet</a></p></body></html>\n"
    );
    (status, Html(html)).into_response()
}

/// The form, as the fleet page shows it.
pub fn enrollment_form() -> &'static str {
    "<h2>Enroll a kiosk</h2><form method=\"post\" action=\"/admin/enrollment-codes\">\
<p><label>Kiosk id <input name=\"kiosk_id\" required maxlength=\"64\" pattern=\"[A-Za-z0-9._\\-]+\"></label> \
<label>Valid for <input name=\"ttl_hours\" type=\"number\" min=\"1\" max=\"720\" value=\"24\"> hours</label></p>\
<p><label>Administrators' public keys whose signed configuration the kiosk accepts (PEM; without one the kiosk runs on its built-in defaults)<br>\
<textarea name=\"config_keys\" rows=\"4\" cols=\"70\"></textarea></label></p>\
<p><button type=\"submit\">Create a one-time code</button></p></form>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unguessable_and_survive_retyping() {
        let a = new_enrollment_code();
        let b = new_enrollment_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        let typed = a.to_lowercase().replace('-', " ");
        assert_eq!(normalize_enrollment_code(&typed), a.replace('-', ""));
        assert_eq!(normalize_enrollment_code("o1l-i"), "0111");
    }

    #[test]
    fn a_form_from_another_site_is_refused() {
        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers));
        headers.insert(header::HOST, "central.example:8080".parse().unwrap());
        headers.insert(
            header::ORIGIN,
            "https://central.example:8080".parse().unwrap(),
        );
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
        headers.remove(header::ORIGIN);
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&headers));
    }
}
