//! Identity without a card: a short-lived, single-use code the resident shows
//! on a phone, read by the kiosk's scanner and verified here, never at the
//! kiosk.
//!
//! The reference service issues its own codes (the `/m/id` page, for demo mode
//! and pilots); a province replaces [`IdentityCodeVerifier`] with a call to its
//! own platform's verification (docs/scanner.md, "Plugging in a province's
//! codes"). The kiosk-facing contract stays the same either way:
//! `POST /v1/identity/code` answers the resident or a problem code
//! (`identity-code-malformed`, `-unknown`, `-used`, `-expired`).
//!
//! A reference code is `EID1:` followed by RFC 4648 base32 (the characters a QR
//! code's alphanumeric mode and a keyboard-wedge scanner both carry) of a
//! 12-byte random nonce and a ChaCha20-Poly1305 box holding the expiry time and
//! the resident's card number. The box key is derived from the certificate
//! signing key, so replicas of one deployment agree without a new key file, and
//! the card number is neither readable nor forgeable from the code. What the
//! service remembers is the nonce of each code used (until it expires), so a
//! code identifies one visit only, however many replicas are asked at once.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use html_escape::encode_text;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::AuthenticatedKiosk;
use super::codes::CodeError;
pub use super::codes::{CODE_PREFIX, IDENTITY_CODE_TTL, IdentityCodeVerifier, OpenedCode};
use super::domain::authenticate_resident;
use super::error::ApiError;
use super::http::{ApiJson, json};
use super::phone::{FormPolicy, public_page, shell};
use super::rate_limit::too_many_requests;
use super::state::AppState;
use super::store::IdentityCodeSpend;
use crate::wire::{CodeIdentity, IdentityCodeRequest, Problem, ProblemCode};

fn refused(status: StatusCode, code: ProblemCode, title: &str, detail: &str) -> ApiError {
    ApiError::new(status, code, title).detail(detail)
}

/// Identifies a resident by the code on their phone. The code is spent by this
/// call: a second scan of it (at any kiosk) is refused as used; a retry of the
/// same request (same kiosk, same `Idempotency-Key`) gets the resident again.
#[utoipa::path(post, path = "/v1/identity/code", tag = "identity",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "One key per scan, reused on retries")),
    request_body = IdentityCodeRequest,
    responses(
        (status = 200, description = "The resident the code stands for", body = CodeIdentity),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "identity-code-unknown: not issued by this service, or its resident is gone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "identity-code-used: the code identified a resident already", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "identity-code-expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "identity-code-malformed, validation-failed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too-many-requests from this kiosk",
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn identify_by_code(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<IdentityCodeRequest>,
) -> Result<Response, ApiError> {
    if let Err(wait) = state.identity_code_limiter.check(&kiosk.0) {
        tracing::warn!(kiosk_id = %kiosk.0, "identity code rate limit reached");
        return Ok(too_many_requests(wait));
    }
    let opened = state
        .identity_codes
        .open(&request.code)
        .map_err(|e| match e {
            CodeError::Malformed | CodeError::CardNumber => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::IdentityCodeMalformed,
                "This is not an identity code",
                "scan the identity code of the social security app",
            ),
            CodeError::Unknown => refused(
                StatusCode::NOT_FOUND,
                ProblemCode::IdentityCodeUnknown,
                "This identity code was not issued here",
                "show the code of the social security app, or use the card",
            ),
        })?;
    let now = state.now();
    if now >= opened.expires_at {
        return Err(refused(
            StatusCode::GONE,
            ProblemCode::IdentityCodeExpired,
            "This identity code has expired",
            "refresh the code on the phone and scan it again",
        ));
    }
    let spent = state
        .store
        .spend_identity_code(&IdentityCodeSpend {
            nonce: opened.nonce,
            kiosk_id: kiosk.0.clone(),
            request_key: headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .filter(|k| !k.is_empty() && k.len() <= 128)
                .map(str::to_owned),
            used_at: now,
            expires_at: opened.expires_at,
        })
        .await?;
    if !spent {
        return Err(refused(
            StatusCode::CONFLICT,
            ProblemCode::IdentityCodeUsed,
            "This identity code has been used already",
            "refresh the code on the phone and scan the new one",
        ));
    }
    let resident = state
        .store
        .resident(&opened.card_number)
        .await?
        .ok_or_else(|| {
            refused(
                StatusCode::NOT_FOUND,
                ProblemCode::IdentityCodeUnknown,
                "This identity code was not issued here",
                "the code's resident is not on record",
            )
        })?;
    tracing::info!(kiosk_id = %kiosk.0, "resident identified by phone code");
    Ok(json(&CodeIdentity {
        card_number: resident.card_number,
        id_number: resident.id_number,
        name: resident.name,
        gender: resident.gender,
        birth_date: resident.birth_date,
    }))
}

/// Forgets the uses of codes that expired more than a day ago (an expired code
/// is refused without looking at them); answers how many went.
pub async fn prune_identity_code_uses(
    store: &dyn super::store::Store,
    now: OffsetDateTime,
) -> Result<u64, super::error::StoreError> {
    store
        .prune_identity_code_uses(now - time::Duration::days(1))
        .await
}

// ---------------------------------------------------------------- the phone page

/// What a resident types on the reference phone page.
#[derive(Deserialize)]
pub struct ShowCodeForm {
    card_number: String,
    id_number: String,
}

/// `GET /m/id`: the reference "show my code" page. A real deployment's residents
/// get their codes from the province's app; this page stands in for it in demo
/// mode and pilots (served only with `--identity-code-page`).
pub async fn show_code_form(State(_state): State<Arc<AppState>>) -> Response {
    public_page(
        StatusCode::OK,
        &form_page(None, None),
        FormPolicy::SameOrigin,
    )
}

/// `POST /m/id`: checks the resident's card and ID numbers and shows a fresh
/// code as a QR code and as text.
pub async fn show_code(
    State(state): State<Arc<AppState>>,
    axum::Form(form): axum::Form<ShowCodeForm>,
) -> Response {
    let resident = match authenticate_resident(
        &*state.store,
        &form.card_number,
        &form.id_number,
        None,
    )
    .await
    {
        Ok(resident) => resident,
        Err(error) if error.0.status < 500 => {
            return public_page(
                StatusCode::FORBIDDEN,
                &form_page(
                    Some(&form),
                    Some("卡号或身份证号不正确。/ The card number or ID number is not right."),
                ),
                FormPolicy::SameOrigin,
            );
        }
        Err(_) => {
            return public_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &form_page(
                    Some(&form),
                    Some(
                        "服务暂时出现问题，请稍后再试。/ The service has a problem; please try again later.",
                    ),
                ),
                FormPolicy::SameOrigin,
            );
        }
    };
    let expires_at = state.now() + IDENTITY_CODE_TTL;
    match state.identity_codes.seal(&resident.card_number, expires_at) {
        Ok(code) => public_page(
            StatusCode::OK,
            &code_page(&code, &form, &state.print_time(expires_at)),
            FormPolicy::SameOrigin,
        ),
        Err(_) => public_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(
                Some(&form),
                Some("此卡号无法生成身份码。/ No code can be made for this card number."),
            ),
            FormPolicy::SameOrigin,
        ),
    }
}

fn form_page(form: Option<&ShowCodeForm>, problem: Option<&str>) -> String {
    let e = |t: &str| encode_text(t).into_owned();
    let mut body = String::from(
        "<h1>我的身份码</h1><p class=\"sub\">My identity code</p>\
<p>在自助终端选择“扫描手机上的身份码”，把本页的二维码对准终端的扫码窗口。\
<br>At the kiosk choose “scan the code on your phone” and hold this page's QR code under the kiosk's scanner.</p>",
    );
    if let Some(problem) = problem {
        body.push_str(&format!(
            "<p class=\"code\" role=\"alert\">{}</p>",
            e(problem)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/m/id\">\
<label for=\"card_number\">社保卡号 / Card number</label>\
<input id=\"card_number\" name=\"card_number\" autocomplete=\"off\" required maxlength=\"32\" value=\"{}\">\
<label for=\"id_number\">身份证号 / ID number</label>\
<input id=\"id_number\" name=\"id_number\" autocomplete=\"off\" required maxlength=\"18\" value=\"{}\">\
<button type=\"submit\">显示身份码 / Show my code</button></form>",
        e(form.map_or("", |f| f.card_number.as_str())),
        e(form.map_or("", |f| f.id_number.as_str())),
    ));
    shell("zh-CN", "我的身份码 / My identity code", &body)
}

fn code_page(code: &str, form: &ShowCodeForm, valid_until: &str) -> String {
    let e = |t: &str| encode_text(t).into_owned();
    let qr = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M)
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(280, 280)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>我的身份码</h1><p class=\"sub\">My identity code</p>\
<div class=\"qr\" role=\"img\" aria-label=\"身份码二维码 / identity QR code\">{qr}</div>\
<p class=\"code\"><code id=\"identity-code\">{}</code></p>\
<p>有效至 {} ，只能使用一次。请勿截图转发。<br>Valid until {}, for one use. Do not share it.</p>\
<form method=\"post\" action=\"/m/id\">\
<input type=\"hidden\" name=\"card_number\" value=\"{}\">\
<input type=\"hidden\" name=\"id_number\" value=\"{}\">\
<button type=\"submit\">刷新身份码 / New code</button></form>",
        e(code),
        e(valid_until),
        e(valid_until),
        e(&form.card_number),
        e(&form.id_number),
    );
    shell("zh-CN", "我的身份码 / My identity code", &body)
}
