//! The HTTP client of the kiosk API.
//!
//! Every call has a connect and a total timeout and reads at most
//! `max_response_bytes`. Reads and keyed writes (idempotent by contract) are
//! retried with exponential backoff and full jitter; a write always carries an
//! idempotency key, reused on every retry, so the service applies it once.

use std::fmt;
use std::time::Duration;

use estation_central::wire::{
    self, ApplicationsLookupRequest, CertificateVerification, ConfigBundle, Heartbeat,
    HeartbeatAck, IDEMPOTENCY_KEY_HEADER, IdentityLookupRequest, IssueCertificateRequest,
    IssuedCertificate, KIOSK_ID_HEADER, Locale, OriginCertificateForm, OriginCertificateSummary,
    PhoneLink, PrintableDocument, Problem, PublicKeys, RatingReceipt, RatingRequest,
    ResidentApplications, SignedConfig, SubmissionForm, SubmissionReceipt, SubmissionRequest,
};
use rand::Rng;
use reqwest::{Method, StatusCode, Url, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::CentralError;

/// Whether the central service answered the last call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connectivity {
    /// No call made yet.
    Unknown,
    Online,
    Offline,
}

/// How often and how patiently to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random delay up to `base * 2^retry`, capped.
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
    }
}

#[derive(Clone)]
pub struct ClientConfig {
    /// E.g. "https://central.example.gov.cn"; the API lives under `/v1`.
    pub base_url: String,
    pub kiosk_id: String,
    pub token: String,
    pub connect_timeout: Duration,
    /// Deadline of one attempt, from sending to the last byte of the reply.
    pub request_timeout: Duration,
    pub max_response_bytes: usize,
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            kiosk_id: String::new(),
            token: String::new(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            retry: RetryPolicy::default(),
        }
    }
}

impl ClientConfig {
    pub fn new(base_url: &str, kiosk_id: &str, token: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            kiosk_id: kiosk_id.to_owned(),
            token: token.to_owned(),
            ..Self::default()
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("kiosk_id", &self.kiosk_id)
            .field("token", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Answer to a conditional configuration fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigFetch {
    /// The bundle with the given ETag is still current.
    NotModified,
    Fetched {
        etag: Option<String>,
        config: SignedConfig,
    },
}

/// A fresh idempotency key for one logical request.
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The kiosk API client. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct CentralClient {
    http: reqwest::Client,
    base: Url,
    kiosk_id: String,
    token: String,
    max_response_bytes: usize,
    retry: RetryPolicy,
    connectivity: watch::Sender<Connectivity>,
}

impl fmt::Debug for CentralClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CentralClient")
            .field("base", &self.base.as_str())
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

/// What one call sends besides its method, URL and body.
#[derive(Clone, Copy, Default)]
struct CallOptions<'a> {
    idempotency_key: Option<&'a str>,
    if_none_match: Option<&'a str>,
    accept_language: Option<Locale>,
    /// Safe to repeat even without a key: reads sent as POST, and calls whose
    /// repetition is harmless by contract (a phone link mints another link).
    repeatable: bool,
}

struct Reply {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

/// Whether `url`'s host is this machine: a loopback IP address or `localhost`.
/// Decided on the parsed host, never on the text, so `http://127.0.0.1@host/`
/// (user info) or `http://127.example.com/` (a name) are not mistaken for it.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a central service URL may be used: https, or plain http to loopback.
pub fn is_allowed_central_url(text: &str) -> bool {
    match Url::parse(text) {
        Ok(url) if !url.cannot_be_a_base() => match url.scheme() {
            "https" => true,
            "http" => is_loopback(&url),
            _ => false,
        },
        _ => false,
    }
}

impl CentralClient {
    pub fn new(config: ClientConfig) -> Result<CentralClient, CentralError> {
        let base = Url::parse(&config.base_url)
            .map_err(|e| CentralError::Config(format!("base URL: {e}")))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(CentralError::Config("base URL must be http(s)".into()));
        }
        // The bearer token travels with every request: in clear only on loopback.
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(CentralError::Config(
                "base URL must be https:// (plain http only to a loopback address)".into(),
            ));
        }
        if config.retry.max_attempts == 0 {
            return Err(CentralError::Config(
                "at least one attempt is needed".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("estation/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CentralError::Config(e.to_string()))?;
        Ok(CentralClient {
            http,
            base,
            kiosk_id: config.kiosk_id,
            token: config.token,
            max_response_bytes: config.max_response_bytes,
            retry: config.retry,
            connectivity: watch::Sender::new(Connectivity::Unknown),
        })
    }

    /// Follows whether the central service is answering; the UI shows live
    /// services as temporarily unavailable while `Offline`.
    pub fn connectivity(&self) -> watch::Receiver<Connectivity> {
        self.connectivity.subscribe()
    }

    fn url(&self, segments: &[&str]) -> Result<Url, CentralError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| CentralError::Config("base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        options: CallOptions<'_>,
    ) -> Result<Reply, CentralError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(KIOSK_ID_HEADER, &self.kiosk_id)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "application/json");
        if let Some(key) = options.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key);
        }
        if let Some(etag) = options.if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(locale) = options.accept_language {
            request = request.header(header::ACCEPT_LANGUAGE, locale.as_str());
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(CentralError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > limit {
                return Err(CentralError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        })
    }

    /// One call with retries; reads and keyed writes are retried, and so is a
    /// reply `decode` cannot make sense of (a keyed write is safe to repeat).
    async fn call<T>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        options: CallOptions<'_>,
        decode: impl Fn(Reply) -> Result<T, CentralError>,
    ) -> Result<T, CentralError> {
        let retryable =
            method == Method::GET || options.idempotency_key.is_some() || options.repeatable;
        let attempts = if retryable {
            self.retry.max_attempts
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .attempt(&method, &url, body.as_deref(), options)
                .await
                .and_then(check_status)
                .and_then(&decode);
            self.connectivity.send_replace(match &result {
                Err(e) if e.is_offline() => Connectivity::Offline,
                _ => Connectivity::Online,
            });
            match result {
                Err(e)
                    if e.is_transient()
                        && !matches!(e, CentralError::Rejected(_))
                        && attempt < attempts =>
                {
                    tracing::debug!(error = %e, attempt, path = url.path(), "central call failed, retrying");
                    tokio::time::sleep(self.retry.delay(attempt - 1)).await;
                }
                other => return other,
            }
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, CentralError> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.call(Method::GET, url, None, CallOptions::default(), |reply| {
            parse(&reply.body)
        })
        .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<T, CentralError> {
        let options = CallOptions {
            idempotency_key,
            ..CallOptions::default()
        };
        self.post_with(segments, body, options).await
    }

    async fn post_with<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        options: CallOptions<'_>,
    ) -> Result<T, CentralError> {
        let url = self.url(segments)?;
        let bytes = serde_json::to_vec(body).map_err(|e| CentralError::Config(e.to_string()))?;
        self.call(Method::POST, url, Some(bytes), options, |reply| {
            parse(&reply.body)
        })
        .await
    }

    pub async fn catalogue(&self) -> Result<wire::Catalogue, CentralError> {
        self.get(&["v1", "catalogue"], &[]).await
    }

    /// Checks the card against the resident register. A pure read, so it is
    /// retried like a GET.
    pub async fn lookup_identity(
        &self,
        request: &IdentityLookupRequest,
    ) -> Result<wire::Identity, CentralError> {
        let key = new_idempotency_key();
        self.post(&["v1", "identity", "lookup"], request, Some(&key))
            .await
    }

    /// Asks whom a scanned phone code identifies. The service spends the code;
    /// the idempotency key (kept across retries) makes a retry whose first
    /// answer was lost get the resident again instead of "used".
    pub async fn identify_by_code(
        &self,
        request: &wire::IdentityCodeRequest,
    ) -> Result<wire::CodeIdentity, CentralError> {
        let key = new_idempotency_key();
        self.post(&["v1", "identity", "code"], request, Some(&key))
            .await
    }

    /// Issues a certificate under a fresh idempotency key (kept across retries).
    pub async fn issue_certificate(
        &self,
        request: &IssueCertificateRequest,
    ) -> Result<IssuedCertificate, CentralError> {
        self.issue_certificate_with_key(&new_idempotency_key(), request)
            .await
    }

    /// Issues a certificate under the caller's key, e.g. one kept in the print
    /// journal so that a restarted kiosk gets the same certificate back.
    pub async fn issue_certificate_with_key(
        &self,
        idempotency_key: &str,
        request: &IssueCertificateRequest,
    ) -> Result<IssuedCertificate, CentralError> {
        let certificate: IssuedCertificate = self
            .post(&["v1", "certificates"], request, Some(idempotency_key))
            .await?;
        certificate
            .check_consistency()
            .map_err(|e| CentralError::Malformed(format!("certificate: {e}")))?;
        if certificate.service_id != request.service_id {
            return Err(CentralError::Malformed(
                "certificate for another service".into(),
            ));
        }
        Ok(certificate)
    }

    pub async fn verify_certificate(
        &self,
        code: &str,
    ) -> Result<CertificateVerification, CentralError> {
        self.get(&["v1", "verify", code], &[]).await
    }

    pub async fn public_keys(&self) -> Result<PublicKeys, CentralError> {
        self.get(&["v1", "keys"], &[]).await
    }

    pub async fn origin_certificate(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<OriginCertificateSummary, CentralError> {
        self.get(
            &["v1", "origin-certificates", application_number],
            &[("exporter_code", exporter_code)],
        )
        .await
    }

    pub async fn origin_certificate_document(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<PrintableDocument, CentralError> {
        self.get(
            &["v1", "origin-certificates", application_number, "document"],
            &[("exporter_code", exporter_code)],
        )
        .await
    }

    /// The approved form laid out as the agreement's boxes, for the A4-wide
    /// layout (see [`super::origin_form_content`]).
    pub async fn origin_certificate_form(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<OriginCertificateForm, CentralError> {
        self.get(
            &["v1", "origin-certificates", application_number, "form"],
            &[("exporter_code", exporter_code)],
        )
        .await
    }

    /// Progress with its printable document in zh-CN.
    pub async fn application_progress(
        &self,
        application_number: &str,
    ) -> Result<wire::ApplicationProgress, CentralError> {
        self.application_progress_in(application_number, Locale::ZhCn)
            .await
    }

    /// Progress with its printable document in `locale`.
    pub async fn application_progress_in(
        &self,
        application_number: &str,
        locale: Locale,
    ) -> Result<wire::ApplicationProgress, CentralError> {
        self.get(
            &["v1", "applications", application_number, "progress"],
            &[("locale", locale.as_str())],
        )
        .await
    }

    /// The applications of the resident a card identifies, newest first, with
    /// a printable list. A read, retried like a GET.
    pub async fn applications_by_card(
        &self,
        request: &ApplicationsLookupRequest,
    ) -> Result<ResidentApplications, CentralError> {
        let options = CallOptions {
            repeatable: true,
            ..CallOptions::default()
        };
        self.post_with(&["v1", "applications", "lookup"], request, options)
            .await
    }

    /// A short-lived link that opens a certificate this kiosk just issued on
    /// the resident's phone; show `url` as a QR, never log or print it.
    pub async fn phone_link(&self, certificate_id: &str) -> Result<PhoneLink, CentralError> {
        let options = CallOptions {
            repeatable: true,
            ..CallOptions::default()
        };
        let url = self.url(&["v1", "certificates", certificate_id, "phone-link"])?;
        self.call(Method::POST, url, None, options, |reply| parse(&reply.body))
            .await
    }

    /// The fields and rules of a submission service's form.
    pub async fn submission_form(&self, service_id: &str) -> Result<SubmissionForm, CentralError> {
        self.get(&["v1", "services", service_id, "form"], &[]).await
    }

    /// Submits with the receipt in zh-CN (the outbox's deliveries use this).
    pub async fn submit(
        &self,
        idempotency_key: &str,
        request: &SubmissionRequest,
    ) -> Result<SubmissionReceipt, CentralError> {
        self.submit_in(idempotency_key, request, Locale::ZhCn).await
    }

    /// Submits, asking for the printable receipt in `locale`.
    pub async fn submit_in(
        &self,
        idempotency_key: &str,
        request: &SubmissionRequest,
        locale: Locale,
    ) -> Result<SubmissionReceipt, CentralError> {
        let options = CallOptions {
            idempotency_key: Some(idempotency_key),
            accept_language: Some(locale),
            ..CallOptions::default()
        };
        self.post_with(&["v1", "submissions"], request, options)
            .await
    }

    pub async fn rate(
        &self,
        idempotency_key: &str,
        request: &RatingRequest,
    ) -> Result<RatingReceipt, CentralError> {
        self.post(&["v1", "ratings"], request, Some(idempotency_key))
            .await
    }

    pub async fn heartbeat(
        &self,
        idempotency_key: &str,
        heartbeat: &Heartbeat,
    ) -> Result<HeartbeatAck, CentralError> {
        self.post(&["v1", "heartbeats"], heartbeat, Some(idempotency_key))
            .await
    }

    /// Fetches the signed configuration unless `etag` is still current. The
    /// signature is checked by the caller, against its trust anchor.
    pub async fn config(&self, etag: Option<&str>) -> Result<ConfigFetch, CentralError> {
        let url = self.url(&["v1", "config"])?;
        let options = CallOptions {
            if_none_match: etag,
            ..CallOptions::default()
        };
        self.call(Method::GET, url, None, options, decode_config)
            .await
    }
}

fn decode_config(reply: Reply) -> Result<ConfigFetch, CentralError> {
    if reply.status == StatusCode::NOT_MODIFIED {
        return Ok(ConfigFetch::NotModified);
    }
    let config: SignedConfig = parse(&reply.body)?;
    // The payload must at least be a bundle; the caller verifies the signature.
    serde_json::from_str::<ConfigBundle>(&config.payload)
        .map_err(|e| CentralError::Malformed(format!("config payload: {e}")))?;
    let etag = reply
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(ConfigFetch::Fetched { etag, config })
}

/// Exchanges a one-time enrollment code for this kiosk's id, token and trust
/// anchors (`POST /v1/enroll`). One attempt only: a code is single-use, so a
/// blind retry after a lost answer could only be refused.
pub async fn enroll(base_url: &str, code: &str) -> Result<wire::Enrollment, CentralError> {
    const LIMIT: usize = 64 * 1024;
    if !is_allowed_central_url(base_url) {
        return Err(CentralError::Config(
            "the central URL must be https:// (plain http only to a loopback address)".into(),
        ));
    }
    let mut url =
        Url::parse(base_url).map_err(|e| CentralError::Config(format!("central URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|_| CentralError::Config("the central URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(["v1", "enroll"]);
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("estation/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CentralError::Config(e.to_string()))?;
    let mut response = http
        .post(url)
        .header(header::ACCEPT, "application/json")
        .json(&wire::EnrollRequest {
            code: code.to_owned(),
        })
        .send()
        .await
        .map_err(transport_error)?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > LIMIT {
            return Err(CentralError::TooLarge { limit: LIMIT });
        }
        body.extend_from_slice(&chunk);
    }
    let reply = check_status(Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body,
    })?;
    parse(&reply.body)
}

fn transport_error(e: reqwest::Error) -> CentralError {
    if e.is_timeout() {
        CentralError::Timeout
    } else {
        // Bodies never reach this text; the URL holds no personal data either,
        // but drop it to keep the message short.
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        CentralError::Unreachable(text)
    }
}

fn check_status(reply: Reply) -> Result<Reply, CentralError> {
    let status = reply.status;
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        return Ok(reply);
    }
    let problem = serde_json::from_slice::<Problem>(&reply.body).ok();
    if status.is_server_error() {
        return Err(CentralError::ServerFailed {
            status: status.as_u16(),
            problem,
        });
    }
    match problem {
        Some(p) if status.is_client_error() => Err(CentralError::Rejected(p)),
        _ => Err(CentralError::UnexpectedStatus(status.as_u16())),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, CentralError> {
    serde_json::from_slice(body).map_err(|e| CentralError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
        };
        for retry in 0..40 {
            assert!(policy.delay(retry) <= Duration::from_millis(250));
        }
        assert!(policy.delay(0) <= Duration::from_millis(100));
    }

    #[test]
    fn bad_base_urls_are_configuration_errors() {
        for url in [
            "",
            "not a url",
            "ftp://example.invalid/",
            "mailto:x@example.invalid",
        ] {
            let err = CentralClient::new(ClientConfig::new(url, "k", "t")).unwrap_err();
            assert!(matches!(err, CentralError::Config(_)), "{url}");
        }
    }

    #[test]
    fn urls_escape_path_segments() {
        let client =
            CentralClient::new(ClientConfig::new("http://127.0.0.1:9/base/", "k", "t")).unwrap();
        let url = client
            .url(&["v1", "applications", "A/B?C", "progress"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/base/v1/applications/A%2FB%3FC/progress"
        );
    }

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let config = ClientConfig::new("http://127.0.0.1:9", "kiosk", "secret-token");
        assert!(!format!("{config:?}").contains("secret-token"));
    }
}
