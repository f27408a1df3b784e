//! What every handler of the API shares: extractors whose rejections are
//! problem documents, JSON answers, the idempotency preamble of keyed writes,
//! and the safety net that turns any other error answer into a problem document.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::auth::AuthenticatedKiosk;
use super::error::ApiError;
use super::state::AppState;
use super::store::{Commit, LedgerEntry, NewLedgerEntry, Store, WriteEffect, sha256};
use crate::wire::{
    IDEMPOTENCY_KEY_HEADER, Locale, MAX_IDEMPOTENCY_KEY_LEN, PROBLEM_CONTENT_TYPE, ProblemCode,
};

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

/// Query string extractor: a query that does not parse (an unknown `locale`,
/// a missing `exporter_code`) is a `400` problem document.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(bad_request(&QueryRejection::body_text(&rejection))),
        }
    }
}

/// Path parameter extractor with problem-document rejections.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(bad_request(&PathRejection::body_text(&rejection))),
        }
    }
}

fn bad_request(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ProblemCode::ValidationFailed,
        "The request is not valid",
    )
    .detail(detail)
}

pub fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// The first language of `Accept-Language`, for documents in an answer whose
/// request has no locale member.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|tag| Locale::from_tag(tag.split(';').next().unwrap_or_default().trim()))
        .unwrap_or_default()
}

pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
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

fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ProblemCode::IdempotencyKeyReused,
        "This idempotency key was used for a different request",
    )
}

/// The preamble of every keyed write: the kiosk, its key, the request's hash
/// and the time of the request. A write is done at most once per (kiosk, key):
/// a replay with the same body gets the first answer, with another body `422
/// idempotency-key-reused`; the effect and the ledger entry commit together.
pub struct IdempotentWrite {
    pub kiosk_id: String,
    pub key: String,
    pub endpoint: &'static str,
    pub request_sha256: [u8; 32],
    pub now: OffsetDateTime,
}

impl IdempotentWrite {
    pub fn begin<T: Serialize>(
        state: &AppState,
        kiosk: &AuthenticatedKiosk,
        headers: &HeaderMap,
        endpoint: &'static str,
        body: &T,
    ) -> Result<IdempotentWrite, ApiError> {
        let key = idempotency_key(headers)?;
        let mut bytes = endpoint.as_bytes().to_vec();
        bytes.push(0);
        bytes.extend(serde_json::to_vec(body).unwrap_or_default());
        Ok(IdempotentWrite {
            kiosk_id: kiosk.0.clone(),
            key,
            endpoint,
            request_sha256: sha256(&bytes),
            now: state.now(),
        })
    }

    /// Whether a stored request hash is this request's.
    pub fn same_request(&self, stored_sha256: &[u8]) -> Result<(), ApiError> {
        if stored_sha256 == self.request_sha256 {
            Ok(())
        } else {
            Err(key_reused())
        }
    }

    fn answer_from<R: DeserializeOwned>(&self, entry: LedgerEntry) -> Result<R, ApiError> {
        if entry.endpoint != self.endpoint {
            return Err(key_reused());
        }
        self.same_request(&entry.request_sha256)?;
        Ok(serde_json::from_str(&entry.response_json)?)
    }

    /// Answers a replay from the ledger; else builds the effect and its answer
    /// with `effect` and commits both. A retry that raced this one (on this or
    /// another replica) and committed first wins: its answer is returned.
    pub async fn run<R, F>(&self, store: &dyn Store, effect: F) -> Result<R, ApiError>
    where
        R: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<(R, WriteEffect), ApiError>>,
    {
        if let Some(previous) = store.ledger_entry(&self.kiosk_id, &self.key).await? {
            return self.answer_from(previous);
        }
        let (answer, effect) = effect.await?;
        let ledger = NewLedgerEntry {
            kiosk_id: self.kiosk_id.clone(),
            idempotency_key: self.key.clone(),
            endpoint: self.endpoint,
            request_sha256: self.request_sha256,
            response_json: serde_json::to_string(&answer)?,
            created_at: self.now,
        };
        match store.commit_write(&ledger, &effect).await? {
            Commit::Committed => Ok(answer),
            Commit::AlreadyRecorded(previous) => self.answer_from(previous),
        }
    }
}

/// The answer of a path no route has.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Error answers that are not problem documents yet (an unsupported method, a
/// timeout of a layer) become one, so every error of the API has the same shape.
/// HTML pages (the phone pages, the fleet page) keep their own.
pub async fn problem_answers(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with(PROBLEM_CONTENT_TYPE) || content_type.starts_with("text/html") {
        return response;
    }
    let (code, title) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (ProblemCode::MethodNotAllowed, "Method not allowed"),
        StatusCode::NOT_FOUND => (ProblemCode::NotFound, "No such resource"),
        StatusCode::PAYLOAD_TOO_LARGE => (ProblemCode::PayloadTooLarge, "Request body too large"),
        StatusCode::UNAUTHORIZED => (ProblemCode::Unauthorized, "Unknown kiosk or wrong token"),
        StatusCode::TOO_MANY_REQUESTS => (ProblemCode::TooManyRequests, "Too many requests"),
        s if s.is_server_error() => (ProblemCode::Internal, "Internal error"),
        _ => (ProblemCode::ValidationFailed, "The request is not valid"),
    };
    let mut problem = ApiError::new(status, code, title).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// `Cache-Control: no-store` on every API answer: they carry personal data or
/// signed documents that belong to one request.
pub fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Text made safe to place in HTML (element content or a quoted attribute).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
