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
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ed25519_dalek::SigningKey;
use html_escape::encode_text;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::auth::AuthenticatedKiosk;
use super::domain::authenticate_resident;
use super::error::ApiError;
use super::http::{ApiJson, json};
use super::phone::{FormPolicy, public_page, shell};
use super::rate_limit::too_many_requests;
use super::state::AppState;
use super::store::IdentityCodeSpend;
use crate::wire::{
    CodeIdentity, IdentityCodeRequest, MAX_IDENTITY_CODE_CHARS, Problem, ProblemCode,
};

/// What every reference code starts with; the digit is the format's version.
pub const CODE_PREFIX: &str = "EID1:";
/// How long a code identifies its resident: long enough to walk to the kiosk
/// and scan, short enough that a photographed screen is soon worthless.
pub const IDENTITY_CODE_TTL: time::Duration = time::Duration::minutes(5);
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const EXPIRY_BYTES: usize = 8;
/// Card numbers are short; a longer one would make an unwieldy QR code.
const MAX_CARD_NUMBER_BYTES: usize = 32;

/// Why a scanned text identifies nobody.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("not an identity code of this service's form")]
    Malformed,
    /// Not sealed with this deployment's key: forged, damaged in a way that still
    /// decodes, or from another system.
    #[error("not an identity code this service issued")]
    Unknown,
    #[error("the card number cannot be put in a code")]
    CardNumber,
}

/// A code opened with the deployment's key.
#[derive(Debug)]
pub struct OpenedCode {
    pub nonce: [u8; NONCE_BYTES],
    pub expires_at: OffsetDateTime,
    pub card_number: String,
}

/// The key that seals and opens reference codes.
#[derive(Clone)]
pub struct IdentityCodeVerifier {
    cipher: ChaCha20Poly1305,
}

impl IdentityCodeVerifier {
    /// Derived from the certificate signing key with a label of its own, so the
    /// box key is useless for anything else and never stored on its own.
    pub fn derive(certificate_key: &SigningKey) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"estation identity code key v1\0");
        hash.update(certificate_key.to_bytes());
        let key: [u8; 32] = hash.finalize().into();
        IdentityCodeVerifier {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// A new code for `card_number`, valid until `expires_at`.
    pub fn seal(&self, card_number: &str, expires_at: OffsetDateTime) -> Result<String, CodeError> {
        use rand::RngCore;
        if card_number.is_empty() || card_number.len() > MAX_CARD_NUMBER_BYTES {
            return Err(CodeError::CardNumber);
        }
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let expiry =
            u64::try_from(expires_at.unix_timestamp()).map_err(|_| CodeError::CardNumber)?;
        let mut plain = Vec::with_capacity(EXPIRY_BYTES + card_number.len());
        plain.extend_from_slice(&expiry.to_be_bytes());
        plain.extend_from_slice(card_number.as_bytes());
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: CODE_PREFIX.as_bytes(),
                },
            )
            .map_err(|_| CodeError::CardNumber)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{CODE_PREFIX}{}",
            data_encoding::BASE32_NOPAD.encode(&bytes)
        ))
    }

    /// Opens a scanned text. Scanners may change the letters' case or add
    /// blanks around the code; nothing else is forgiven.
    pub fn open(&self, scanned: &str) -> Result<OpenedCode, CodeError> {
        let text = scanned.trim();
        if text.len() > MAX_IDENTITY_CODE_CHARS || !text.is_ascii() {
            return Err(CodeError::Malformed);
        }
        let text = text.to_ascii_uppercase();
        let body = text.strip_prefix(CODE_PREFIX).ok_or(CodeError::Malformed)?;
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| CodeError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES + EXPIRY_BYTES + 1 {
            return Err(CodeError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: CODE_PREFIX.as_bytes(),
                },
            )
            .map_err(|_| CodeError::Unknown)?;
        // Sealed by this service, so well-formed; checked all the same.
        let (expiry, card) = plain.split_at(EXPIRY_BYTES);
        let expiry = u64::from_be_bytes(expiry.try_into().map_err(|_| CodeError::Malformed)?);
        let expires_at = i64::try_from(expiry)
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .ok_or(CodeError::Malformed)?;
        let card_number = String::from_utf8(card.to_vec()).map_err(|_| CodeError::Malformed)?;
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        nonce_bytes.copy_from_slice(nonce);
        Ok(OpenedCode {
            nonce: nonce_bytes,
            expires_at,
            card_number,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(seed: u8) -> IdentityCodeVerifier {
        IdentityCodeVerifier::derive(&SigningKey::from_bytes(&[seed; 32]))
    }

    fn in_five_minutes() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + IDENTITY_CODE_TTL
    }

    #[test]
    fn a_sealed_code_opens_to_its_card_number_and_expiry() {
        let v = verifier(1);
        let code = v.seal("A01234567", in_five_minutes()).unwrap();
        assert!(code.starts_with(CODE_PREFIX), "{code}");
        assert!(
            code[CODE_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
            "{code}"
        );
        assert!(!code.contains("A01234567"), "the card number is sealed");
        let opened = v.open(&code).unwrap();
        assert_eq!(opened.card_number, "A01234567");
        assert_eq!(opened.expires_at, in_five_minutes());
        // A scanner that lowers the case or adds blanks does not spoil it.
        assert_eq!(
            v.open(&format!(" {} ", code.to_ascii_lowercase()))
                .unwrap()
                .nonce,
            opened.nonce
        );
    }

    #[test]
    fn two_codes_for_one_resident_differ() {
        let v = verifier(1);
        let a = v.seal("A01234567", in_five_minutes()).unwrap();
        let b = v.seal("A01234567", in_five_minutes()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn forged_and_foreign_codes_are_unknown() {
        let code = verifier(1).seal("A01234567", in_five_minutes()).unwrap();
        assert_eq!(verifier(2).open(&code).unwrap_err(), CodeError::Unknown);
        // One character changed in the box.
        let mut forged: Vec<char> = code.chars().collect();
        let i = forged.len() - 10;
        forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        assert_eq!(verifier(1).open(&forged).unwrap_err(), CodeError::Unknown);
    }

    #[test]
    fn texts_that_are_no_code_are_malformed() {
        let v = verifier(1);
        let code = v.seal("A01234567", in_five_minutes()).unwrap();
        for text in [
            "",
            "A01234567",
            "EID1:",
            "EID1:not base32!",
            "EID2:AAAAAAAA",
            "EID1:AAAAAAAA",
            &code[..code.len() - 20],
            &"EID1:".repeat(200),
            "EID1:ÄÖ",
        ] {
            assert_eq!(v.open(text).unwrap_err(), CodeError::Malformed, "{text:?}");
        }
    }

    #[test]
    fn card_numbers_out_of_bounds_are_refused() {
        let v = verifier(1);
        assert_eq!(
            v.seal("", in_five_minutes()).unwrap_err(),
            CodeError::CardNumber
        );
        assert_eq!(
            v.seal(&"9".repeat(33), in_five_minutes()).unwrap_err(),
            CodeError::CardNumber
        );
    }
}
