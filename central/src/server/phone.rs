//! E-certificate to phone: after issuing a certificate, the kiosk asks for a
//! short-lived link and shows it as a QR; the resident's phone opens a small
//! page with the certificate's content and verification code.
//!
//! The link's token is 256 random bits; only its SHA-256 is stored, so the
//! database cannot give working links away. A link opens exactly one
//! certificate, for [`ServerOptions::phone_link_ttl`](super::ServerOptions),
//! and only the kiosk that issued a certificate can ask for one, within
//! [`LINK_WINDOW`] of issuing it.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use html_escape::encode_text;

use super::auth::AuthenticatedKiosk;
use super::error::ApiError;
use super::http::{ApiPath, json};
use super::state::AppState;
use super::store::{PhoneLinkRecord, sha256};
use crate::wire::{Locale, PhoneLink, PrintableDocument, Problem, ProblemCode};

/// How long after issuing a certificate its kiosk may still ask for a link:
/// the resident's session, with room to spare; never last week's paper.
pub const LINK_WINDOW: time::Duration = time::Duration::minutes(30);
/// Length of a token: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

fn certificate_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::CertificateNotFound,
        "No certificate this kiosk issued recently has this id",
    )
}

/// A short-lived link to one certificate, for the resident's phone. Repeating
/// the call mints another link (each expires on its own), so it needs no
/// `Idempotency-Key` and is safe to retry.
#[utoipa::path(post, path = "/v1/certificates/{certificate_id}/phone-link", tag = "certificates",
    security(("kiosk_id" = [], "kiosk_token" = [])),
    params(("certificate_id" = String, Path, description = "Id of a certificate this kiosk issued")),
    responses(
        (status = 200, description = "The link", body = PhoneLink),
        (status = 400, description = "validation-failed: the path does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "certificate-not-found: unknown, issued by another kiosk, or issued too long ago", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_phone_link(
    State(state): State<Arc<AppState>>,
    Extension(kiosk): Extension<AuthenticatedKiosk>,
    ApiPath(certificate_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    use rand::RngCore;
    let now = state.now();
    let expires_at = now + state.phone_link_ttl;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let token_hash = sha256(token.as_bytes());
    let url = format!("{}/m/{token}", state.public_base_url());
    let Some((issuer_kiosk, issued_at)) = state.store.certificate_issuer(&certificate_id).await?
    else {
        return Err(certificate_not_found());
    };
    if issuer_kiosk != kiosk.0 || now - issued_at > LINK_WINDOW {
        return Err(certificate_not_found());
    }
    state
        .store
        .insert_phone_link(&PhoneLinkRecord {
            token_sha256: token_hash,
            certificate_id,
            kiosk_id: kiosk.0,
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(json(&PhoneLink { url, expires_at }))
}

/// What a token leads to.
enum Lookup {
    Found {
        document: Box<PrintableDocument>,
        locale: Locale,
    },
    Expired,
    Unknown,
}

/// The page a phone opens: public (the token is the credential), never cached,
/// never indexed, no scripts.
pub async fn phone_page(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    let well_formed = token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return page(StatusCode::NOT_FOUND, &unknown_page());
    }
    let now = state.now();
    let hash = sha256(token.as_bytes());
    let lookup = match state.store.phone_link(&hash).await {
        Ok(Some(target)) if now >= target.expires_at => Ok(Lookup::Expired),
        Ok(Some(target)) => Ok(Lookup::Found {
            document: Box::new(target.document),
            locale: target.locale,
        }),
        Ok(None) => Ok(Lookup::Unknown),
        Err(error) => {
            tracing::error!(%error, "phone link lookup failed");
            Err(())
        }
    };
    match lookup {
        Ok(Lookup::Found { document, locale }) => {
            page(StatusCode::OK, &certificate_page(&document, locale))
        }
        Ok(Lookup::Expired) => page(StatusCode::GONE, &expired_page()),
        Ok(Lookup::Unknown) => page(StatusCode::NOT_FOUND, &unknown_page()),
        Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, &failed_page()),
    }
}

fn page(status: StatusCode, html: &str) -> Response {
    public_page(status, html, FormPolicy::NoForms)
}

/// Whether a public page may post forms (to its own origin only).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FormPolicy {
    NoForms,
    SameOrigin,
}

/// A public HTML page: never cached, never indexed, no scripts, no framing.
pub(super) fn public_page(status: StatusCode, html: &str, forms: FormPolicy) -> Response {
    let mut response = (status, html.to_owned()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(match forms {
            FormPolicy::NoForms => {
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
            }
            FormPolicy::SameOrigin => {
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"
            }
        }),
    );
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:0;padding:16px;\
background:#f4f6f8;color:#111;font-size:17px;line-height:1.5}\
main{max-width:640px;margin:auto;background:#fff;border-radius:12px;padding:20px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.35em;margin:0 0 4px}\
.sub{color:#555;margin:0 0 12px}dl{display:grid;grid-template-columns:max-content 1fr;\
gap:4px 12px;margin:12px 0}dt{color:#555}dd{margin:0;word-break:break-all}\
table{border-collapse:collapse;width:100%;font-size:.9em;margin:8px 0}\
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left}caption{text-align:left;\
font-weight:600;padding:4px 0}.code{font-size:1.4em;font-weight:700;letter-spacing:.05em;\
text-align:center;border:2px solid #0a5;border-radius:8px;padding:10px;margin:16px 0}\
.notes{font-size:.9em;color:#333}.foot{text-align:right;color:#555;margin-top:16px}\
form{margin:12px 0}label{display:block;margin:8px 0 2px;color:#333}\
input{font-size:1em;padding:8px;width:100%;box-sizing:border-box}\
button{font-size:1em;padding:10px 16px;margin:8px 8px 0 0}.qr{text-align:center}\
.qr svg{width:80%;max-width:340px;height:auto}";

pub(super) fn shell(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex, nofollow\"><title>{}</title><style>{STYLE}</style>\
</head><body><main>{body}</main></body></html>",
        encode_text(title)
    )
}

fn certificate_page(document: &PrintableDocument, locale: Locale) -> String {
    let e = |t: &str| encode_text(t).into_owned();
    let mut body = format!("<h1>{}</h1>", e(&document.title));
    if let Some(subtitle) = &document.subtitle {
        body.push_str(&format!("<p class=\"sub\">{}</p>", e(subtitle)));
    }
    body.push_str("<dl>");
    for field in &document.fields {
        body.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            e(&field.label),
            e(&field.value)
        ));
    }
    body.push_str("</dl>");
    if let Some(table) = &document.table {
        body.push_str("<table>");
        if let Some(caption) = &table.caption {
            body.push_str(&format!("<caption>{}</caption>", e(caption)));
        }
        body.push_str("<thead><tr>");
        for h in &table.headers {
            body.push_str(&format!("<th>{}</th>", e(h)));
        }
        body.push_str("</tr></thead><tbody>");
        for row in &table.rows {
            body.push_str("<tr>");
            for cell in row {
                body.push_str(&format!("<td>{}</td>", e(cell)));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(&format!(
        "<p class=\"code\">{} {}</p>",
        e(&document.verification_label),
        e(&document.verification_code)
    ));
    body.push_str("<div class=\"notes\">");
    for note in &document.notes {
        body.push_str(&format!("<p>{}</p>", e(note)));
    }
    body.push_str(&format!(
        "<p>{}</p></div>",
        e(match locale {
            Locale::ZhCn => "此页面链接短时有效，请勿转发。需要纸质件时可凭验证码核验。",
            Locale::ZhTw => "此頁面連結短時有效，請勿轉發。需要紙本時可憑驗證碼核驗。",
            Locale::EnUs => {
                "This link works for a short time only; do not share it. The verification code checks the paper copy."
            }
        })
    ));
    body.push_str(&format!(
        "<p class=\"foot\">{}<br>{}</p>",
        e(&document.issuer),
        e(&document.issued_at)
    ));
    shell(locale.as_str(), &document.title, &body)
}

/// Pages without a certificate do not know the resident's language: they
/// speak the kiosk's default and English.
fn notice_page(title_zh: &str, title_en: &str, text_zh: &str, text_en: &str) -> String {
    let e = |t: &str| encode_text(t).into_owned();
    let body = format!(
        "<h1>{}</h1><p class=\"sub\">{}</p><p>{}</p><p>{}</p>",
        e(title_zh),
        e(title_en),
        e(text_zh),
        e(text_en)
    );
    shell("zh-CN", title_zh, &body)
}

fn expired_page() -> String {
    notice_page(
        "链接已过期",
        "This link has expired",
        "为保护您的信息，手机查看链接只在打印后的几分钟内有效。如需再次查看，请在自助终端重新打印或凭纸质证明上的验证码核验。",
        "To protect your information, phone links work for a few minutes after printing only. To see the certificate again, print it at a kiosk or check the verification code on the paper copy.",
    )
}

fn unknown_page() -> String {
    notice_page(
        "找不到此链接",
        "Link not found",
        "请确认扫描的是自助终端屏幕上的二维码。纸质证明可凭验证码核验。",
        "Please scan the QR code shown on the kiosk's screen. A paper certificate can be checked with its verification code.",
    )
}

fn failed_page() -> String {
    notice_page(
        "暂时无法显示",
        "Cannot show the certificate right now",
        "服务暂时出现问题，请稍后再试，或凭纸质证明上的验证码核验。",
        "The service has a problem. Please try again later, or check the verification code on the paper copy.",
    )
}
