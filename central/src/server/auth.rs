//! Who is calling: kiosks (`X-Kiosk-Id` and a bearer token) and administrators
//! (HTTP Basic, which a browser can send for the fleet page). Tokens are stored
//! as SHA-256 and compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::state::AppState;
use super::store::sha256;
use crate::wire::KIOSK_ID_HEADER;

/// The kiosk a request was authenticated as.
#[derive(Clone, Debug)]
pub struct AuthenticatedKiosk(pub String);

/// The administrator a request was authenticated as.
#[derive(Clone, Debug)]
pub struct AuthenticatedAdmin(pub String);

fn token_matches(stored: Option<Vec<u8>>, token: &str) -> bool {
    stored.is_some_and(|s| bool::from(s.as_slice().ct_eq(&sha256(token.as_bytes()))))
}

/// Middleware of the kiosk routes.
pub async fn require_kiosk(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (kiosk_id, token) = {
        let headers = req.headers();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let token = text(header::AUTHORIZATION.as_str())
            .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_owned()));
        (text(KIOSK_ID_HEADER), token)
    };
    let (Some(kiosk_id), Some(token)) = (kiosk_id, token) else {
        return Err(ApiError::unauthorized());
    };
    if kiosk_id.is_empty() || kiosk_id.len() > 64 {
        return Err(ApiError::unauthorized());
    }
    let stored = state.store.kiosk_token_sha256(&kiosk_id).await?;
    if !token_matches(stored, &token) {
        tracing::warn!(kiosk_id = %kiosk_id.escape_debug(), "rejected request from an unknown kiosk or with a wrong token");
        return Err(ApiError::unauthorized());
    }
    req.extensions_mut().insert(AuthenticatedKiosk(kiosk_id));
    Ok(next.run(req).await)
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, token) = text.split_once(':')?;
    Some((id.to_owned(), token.to_owned()))
}

fn admin_unauthorized() -> Response {
    let mut response = ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        crate::wire::ProblemCode::Unauthorized,
        "Unknown administrator or wrong token",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"estation administration\", charset=\"UTF-8\""),
    );
    response
}

/// Middleware of the administration routes.
pub async fn require_admin(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some((admin_id, token)) = basic_credentials(req.headers()) else {
        return admin_unauthorized();
    };
    if admin_id.is_empty() || admin_id.len() > 64 {
        return admin_unauthorized();
    }
    match state
        .store
        .admin_token_sha256(&admin_id)
        .await
        .map(|stored| token_matches(stored, &token))
    {
        Ok(true) => {
            req.extensions_mut().insert(AuthenticatedAdmin(admin_id));
            next.run(req).await
        }
        Ok(false) => {
            tracing::warn!(admin_id = %admin_id.escape_debug(), "rejected administration request");
            admin_unauthorized()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}
