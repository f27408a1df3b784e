//! Wire types of the kiosk API (`/v1`), shared by the client and the server.
//!
//! Every type here is what travels as JSON; `docs/openapi.yaml` is generated from
//! these definitions and a test keeps the two in agreement. Types that carry
//! personal data (names, ID numbers) have hand-written `Debug` impls that redact it,
//! so a stray `{:?}` in a log line cannot leak a resident's identity.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Path prefix of every kiosk API route.
pub const API_PREFIX: &str = "/v1";
/// Header carrying the idempotency key of a write (one key per logical request).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// Header naming the calling kiosk; the token goes in `Authorization: Bearer`.
pub const KIOSK_ID_HEADER: &str = "X-Kiosk-Id";
/// Media type of error bodies.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
/// Longest idempotency key the server accepts.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

/// The three display languages of the kiosk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en-US")]
    EnUs,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::ZhCn, Locale::ZhTw, Locale::EnUs];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
            Locale::EnUs => "en-US",
        }
    }

    /// Parses a BCP 47 tag; anything unknown falls back to zh-CN, the default.
    pub fn from_tag(tag: &str) -> Locale {
        match tag {
            "zh-TW" | "zh-HK" | "zh-Hant" => Locale::ZhTw,
            t if t.starts_with("en") => Locale::EnUs,
            _ => Locale::ZhCn,
        }
    }
}

/// A text in the kiosk's three languages; zh-CN is mandatory and the fallback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct LocalizedText {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    #[serde(rename = "zh-TW", default)]
    pub zh_tw: String,
    #[serde(rename = "en-US", default)]
    pub en_us: String,
}

impl LocalizedText {
    pub fn new(zh_cn: &str, zh_tw: &str, en_us: &str) -> Self {
        Self {
            zh_cn: zh_cn.to_owned(),
            zh_tw: zh_tw.to_owned(),
            en_us: en_us.to_owned(),
        }
    }

    /// The text for `locale` ("zh-CN", "zh-TW", "en-US"), falling back to zh-CN
    /// when the locale is unknown or that translation is empty.
    pub fn get(&self, locale: &str) -> &str {
        let text = match Locale::from_tag(locale) {
            Locale::ZhCn => &self.zh_cn,
            Locale::ZhTw => &self.zh_tw,
            Locale::EnUs => &self.en_us,
        };
        if text.is_empty() { &self.zh_cn } else { text }
    }

    pub fn for_locale(&self, locale: Locale) -> &str {
        self.get(locale.as_str())
    }
}

// ---------------------------------------------------------------- catalogue

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Catalogue {
    pub categories: Vec<Category>,
    pub services: Vec<Service>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: String,
    pub name: LocalizedText,
}

/// What a service does at the kiosk, which decides the flow the kiosk runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// Prints a certificate the central service issues and signs.
    Certificate,
    /// Prints a certificate-of-origin form found by application number + exporter code.
    OriginCertificate,
    /// Shows the progress of an application.
    Progress,
    /// Collects form fields and submits them; may be queued while offline.
    Submission,
}

impl ServiceKind {
    /// True when the service cannot work without a live answer from the central
    /// service; such services show as temporarily unavailable while offline.
    pub fn needs_live_central(self) -> bool {
        !matches!(self, ServiceKind::Submission)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: String,
    /// Id of a [`Category`] in the same catalogue.
    pub category: String,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub kind: ServiceKind,
    /// The resident must identify with a card before using the service.
    pub needs_card: bool,
    pub opening_hours: OpeningHours,
    /// Whether the service is open at the moment the catalogue was produced,
    /// in the service's own time zone.
    pub open_now: bool,
}

/// When a service accepts requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum OpeningHours {
    /// Open 24 hours a day, 7 days a week.
    AlwaysOpen,
    /// Open during the listed ranges only (local time of the service centre).
    Weekly { ranges: Vec<WeeklyRange> },
}

/// One opening range on one weekday, `opens` inclusive, `closes` exclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyRange {
    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: u8,
    /// "HH:MM", 24-hour clock.
    #[schema(example = "08:30")]
    pub opens: String,
    /// "HH:MM", 24-hour clock; "24:00" means midnight at the end of the day.
    #[schema(example = "17:30")]
    pub closes: String,
}

fn minutes_of(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

impl OpeningHours {
    /// Whether `at` (already in the service centre's offset) falls in a range.
    /// Malformed ranges count as closed: a typo must not open a service at night.
    pub fn is_open_at(&self, at: OffsetDateTime) -> bool {
        match self {
            OpeningHours::AlwaysOpen => true,
            OpeningHours::Weekly { ranges } => {
                let weekday = at.weekday().number_from_monday();
                let now = u16::from(at.hour()) * 60 + u16::from(at.minute());
                ranges.iter().any(|r| {
                    r.weekday == weekday
                        && matches!(
                            (minutes_of(&r.opens), minutes_of(&r.closes)),
                            (Some(o), Some(c)) if o <= now && now < c
                        )
                })
            }
        }
    }
}

// ---------------------------------------------------------------- identity

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityLookupRequest {
    pub card_number: String,
    /// Citizen ID number (GB 11643) read from the card.
    pub id_number: String,
}

impl fmt::Debug for IdentityLookupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityLookupRequest")
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Gender {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

/// A resident as the central service knows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub card_number: String,
    pub name: String,
    pub gender: Gender,
    /// "YYYY-MM-DD".
    pub birth_date: String,
    /// The ID number with the middle digits hidden, for display.
    pub id_number_masked: String,
    /// Whether the resident has any social insurance contributions on record.
    pub insured: bool,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("insured", &self.insured)
            .finish_non_exhaustive()
    }
}

/// Hides the middle of an ID number: "330106********2314".
pub fn mask_id_number(id_number: &str) -> String {
    id_number
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < 6 || i + 4 >= id_number.chars().count() {
                c
            } else {
                '*'
            }
        })
        .collect()
}

// ---------------------------------------------------------------- certificates

/// An inclusive range of months, "YYYY-MM".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Period {
    #[schema(example = "2024-01")]
    pub from: String,
    #[schema(example = "2024-12")]
    pub to: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssueCertificateRequest {
    pub service_id: String,
    pub card_number: String,
    pub id_number: String,
    /// Name as read from the card; must match the central record.
    pub name: String,
    /// Language of the labels on the printed document.
    pub locale: Locale,
    /// Months covered (payment certificates); the last 12 months when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

impl fmt::Debug for IssueCertificateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssueCertificateRequest")
            .field("service_id", &self.service_id)
            .field("locale", &self.locale)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedCertificate {
    pub certificate_id: String,
    /// Short code printed on the paper; anyone can check it at `/v1/verify/{code}`.
    pub verification_code: String,
    pub service_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// Standard base64 of the 64-byte ed25519 signature over
    /// [`certificate_signing_message`].
    pub signature: String,
    /// Text for the QR code; see [`QrPayload`]. Verifiable offline.
    pub qr_payload: String,
    pub document: PrintableDocument,
}

impl fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("certificate_id", &self.certificate_id)
            .field("service_id", &self.service_id)
            .field("issued_at", &self.issued_at)
            .finish_non_exhaustive()
    }
}

impl IssuedCertificate {
    /// Checks that the parts of a certificate agree with each other: the
    /// signature is 64 bytes of base64, the QR text parses and names this
    /// certificate, and the document is the one the QR was signed for. Clients
    /// call it on every certificate they receive; it does not check who signed.
    pub fn check_consistency(&self) -> Result<(), QrError> {
        use base64::Engine;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or(QrError::Malformed("signature"))?;
        let qr = QrPayload::parse(&self.qr_payload)?;
        if qr.signature != signature
            || qr.certificate_id != self.certificate_id
            || qr.verification_code != self.verification_code
            || qr.service_id != self.service_id
            || qr.issued_at_unix != self.issued_at.unix_timestamp()
            || self.document.qr_payload != self.qr_payload
        {
            return Err(QrError::Malformed("certificate parts disagree"));
        }
        qr.matches_document(&self.document)
    }
}

/// A document ready for the printer's generic certificate layout. Labels are in
/// the requested locale; values are as the central service holds them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrintableDocument {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The issuing authority, printed at the foot.
    pub issuer: String,
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    pub notes: Vec<String>,
    pub verification_code: String,
    /// Caption for the verification code and QR, e.g. "验证码".
    pub verification_label: String,
    pub qr_payload: String,
    /// Issue time formatted for print in the service centre's time zone.
    pub issued_at: String,
}

impl fmt::Debug for PrintableDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrintableDocument")
            .field("title", &self.title)
            .field("fields", &self.fields.len())
            .field("rows", &self.table.as_ref().map_or(0, |t| t.rows.len()))
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Field {
    pub label: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Table {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The content of a document that its signature binds: everything but the QR
/// text (which contains the signature) and the caption of the code.
#[derive(Serialize)]
struct SignedContent<'a> {
    title: &'a str,
    subtitle: &'a Option<String>,
    issuer: &'a str,
    fields: &'a [Field],
    table: &'a Option<Table>,
    notes: &'a [String],
    verification_code: &'a str,
    issued_at: &'a str,
}

impl PrintableDocument {
    /// SHA-256 of the signed content, in a canonical JSON form.
    pub fn content_digest(&self) -> [u8; 32] {
        use sha2::Digest;
        let content = SignedContent {
            title: &self.title,
            subtitle: &self.subtitle,
            issuer: &self.issuer,
            fields: &self.fields,
            table: &self.table,
            notes: &self.notes,
            verification_code: &self.verification_code,
            issued_at: &self.issued_at,
        };
        // Serializing plain structs, strings and vectors cannot fail.
        let bytes = serde_json::to_vec(&content).unwrap_or_default();
        sha2::Sha256::digest(&bytes).into()
    }
}

/// The exact bytes the central service signs for a certificate.
pub fn certificate_signing_message(
    certificate_id: &str,
    verification_code: &str,
    service_id: &str,
    issued_at_unix: i64,
    document_digest: &[u8; 32],
) -> Vec<u8> {
    use base64::Engine;
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(document_digest);
    format!(
        "estation-certificate-v1\n{certificate_id}\n{verification_code}\n{service_id}\n{issued_at_unix}\n{digest}"
    )
    .into_bytes()
}

/// What the QR on a certificate carries, so a verifier with the published public
/// key can check it without a network:
/// `ESTC1.<code>.<certificate id>.<service id>.<issued at, unix s>.<digest>.<signature>`
/// with the digest and signature in unpadded base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrPayload {
    pub verification_code: String,
    pub certificate_id: String,
    pub service_id: String,
    pub issued_at_unix: i64,
    pub document_digest: [u8; 32],
    pub signature: [u8; 64],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QrError {
    #[error("not an estation certificate QR payload")]
    NotACertificate,
    #[error("malformed QR payload: {0}")]
    Malformed(&'static str),
    #[error("the signature does not match the published key")]
    BadSignature,
    #[error("the document does not match the QR code")]
    DocumentMismatch,
}

const QR_PREFIX: &str = "ESTC1";

impl QrPayload {
    pub fn encode(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{QR_PREFIX}.{}.{}.{}.{}.{}.{}",
            self.verification_code,
            self.certificate_id,
            self.service_id,
            self.issued_at_unix,
            b64.encode(self.document_digest),
            b64.encode(self.signature)
        )
    }

    pub fn parse(text: &str) -> Result<QrPayload, QrError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = text.trim().split('.').collect();
        if parts.first() != Some(&QR_PREFIX) {
            return Err(QrError::NotACertificate);
        }
        let [_, code, id, service, issued, digest, signature] = parts[..] else {
            return Err(QrError::Malformed("wrong number of parts"));
        };
        let issued_at_unix = issued
            .parse()
            .map_err(|_| QrError::Malformed("issue time"))?;
        let document_digest = b64
            .decode(digest)
            .ok()
            .and_then(|d| <[u8; 32]>::try_from(d).ok())
            .ok_or(QrError::Malformed("digest"))?;
        let signature = b64
            .decode(signature)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or(QrError::Malformed("signature"))?;
        if code.is_empty() || id.is_empty() || service.is_empty() {
            return Err(QrError::Malformed("empty field"));
        }
        Ok(QrPayload {
            verification_code: code.to_owned(),
            certificate_id: id.to_owned(),
            service_id: service.to_owned(),
            issued_at_unix,
            document_digest,
            signature,
        })
    }

    pub fn signing_message(&self) -> Vec<u8> {
        certificate_signing_message(
            &self.certificate_id,
            &self.verification_code,
            &self.service_id,
            self.issued_at_unix,
            &self.document_digest,
        )
    }

    /// Offline check: the payload was signed by the holder of `key`.
    pub fn verify(&self, key: &ed25519_dalek::VerifyingKey) -> Result<(), QrError> {
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.verify_strict(&self.signing_message(), &signature)
            .map_err(|_| QrError::BadSignature)
    }

    /// Checks that `document` is the one this payload was issued for.
    pub fn matches_document(&self, document: &PrintableDocument) -> Result<(), QrError> {
        if document.content_digest() == self.document_digest
            && document.verification_code == self.verification_code
        {
            Ok(())
        } else {
            Err(QrError::DocumentMismatch)
        }
    }
}

/// Result of an online check by verification code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateVerification {
    pub certificate_id: String,
    pub verification_code: String,
    pub service_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    pub signature: String,
    pub qr_payload: String,
    /// Id of the key that signed it (see `/v1/keys`).
    pub key_id: String,
    pub document: PrintableDocument,
}

/// A public key the central service signs with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicKeyInfo {
    /// First 8 bytes of SHA-256 of the key, in hex.
    pub key_id: String,
    /// Always "ed25519".
    pub algorithm: String,
    /// Standard base64 of the 32-byte public key.
    pub public_key: String,
}

impl PublicKeyInfo {
    /// The key itself, for offline checks of QR payloads and configuration.
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, QrError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(QrError::Malformed("public key"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| QrError::Malformed("public key"))
    }
}

/// The service's published keys: one for certificates, one for kiosk configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicKeys {
    pub certificate: PublicKeyInfo,
    pub config: PublicKeyInfo,
}

// ---------------------------------------------------------------- origin certificates

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OriginCertificateStatus {
    /// Approved; the form can be printed.
    Approved,
    /// Still being examined by the issuing authority.
    UnderReview,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OriginCertificateSummary {
    pub application_number: String,
    pub exporter_code: String,
    pub exporter_name: String,
    /// Trade agreement, e.g. "RCEP".
    pub agreement: String,
    pub form_name: LocalizedText,
    pub status: OriginCertificateStatus,
    /// Certificate number once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_number: Option<String>,
    /// "YYYY-MM-DD" once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<String>,
}

// ---------------------------------------------------------------- applications

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationStatus {
    Submitted,
    UnderReview,
    NeedsMaterials,
    Approved,
    Rejected,
    Completed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Done,
    Current,
    Pending,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProgressStep {
    pub name: LocalizedText,
    pub state: StepState,
    /// "YYYY-MM-DD" for steps done or started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationProgress {
    pub application_number: String,
    pub service_name: LocalizedText,
    pub status: ApplicationStatus,
    /// "YYYY-MM-DD".
    pub submitted_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_completion: Option<String>,
    pub steps: Vec<ProgressStep>,
    /// Materials still missing, empty when none.
    pub missing: Vec<LocalizedText>,
}

// ---------------------------------------------------------------- submissions, ratings

/// Material submission for a [`ServiceKind::Submission`] service. Sent with an
/// `Idempotency-Key` header; the same key always yields the same receipt.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionRequest {
    pub service_id: String,
    pub card_number: String,
    pub id_number: String,
    pub name: String,
    /// Form fields by field id, e.g. "new_address", "phone".
    pub fields: BTreeMap<String, String>,
}

impl fmt::Debug for SubmissionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmissionRequest")
            .field("service_id", &self.service_id)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionReceipt {
    /// Printed on the resident's receipt; quoted at the service centre.
    pub receipt_number: String,
    pub service_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RatingScore {
    Good,
    Average,
    Bad,
}

/// Short name used by the kiosk.
pub use RatingScore as Score;

/// A 好差评 rating. Sent with an `Idempotency-Key` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingRequest {
    pub service_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    pub score: RatingScore,
    /// Reason ids chosen by the resident, e.g. "slow", "unclear".
    #[serde(default)]
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingReceipt {
    pub rating_id: String,
}

// ---------------------------------------------------------------- heartbeat

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceStatus {
    Ok,
    Warning,
    Error,
    Absent,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceHealth {
    /// "card-reader", "printer", "network", "screen", …
    pub device: String,
    pub status: DeviceStatus,
    /// Short machine-readable detail, e.g. "paper-low".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Health report a kiosk sends periodically. Sent with an `Idempotency-Key` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Heartbeat {
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    pub app_version: String,
    /// Version of the configuration bundle in force, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
    /// Entries waiting in the kiosk's outbox.
    pub outbox_backlog: u32,
    pub devices: Vec<DeviceHealth>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatAck {
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Newest configuration version available to this kiosk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
}

// ---------------------------------------------------------------- configuration

/// A configuration bundle as signed. `payload` is the JSON text of a
/// [`ConfigBundle`]; the signature covers exactly its UTF-8 bytes, so any host can
/// serve it without being trusted for integrity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignedConfig {
    pub payload: String,
    /// Standard base64 of the ed25519 signature by the `config` key.
    pub signature: String,
    pub key_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConfigBundle {
    /// Increases with every bundle; kiosks refuse older ones.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub station_name: LocalizedText,
    pub locales: Vec<Locale>,
    pub default_locale: Locale,
    pub idle_timeout_secs: u32,
    /// Services switched off by administrators, by id.
    pub disabled_services: Vec<String>,
    /// PHC-format hashes of technician PINs.
    pub technician_pin_hashes: Vec<String>,
    /// Further settings (branding, printer), by name.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

// ---------------------------------------------------------------- errors

/// Stable error codes; the kiosk maps them to translated messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    Unauthorized,
    NotFound,
    ResidentNotFound,
    IdentityMismatch,
    ServiceNotFound,
    ServiceClosed,
    WrongServiceKind,
    ApplicationNotFound,
    OriginCertificateNotFound,
    OriginCertificateNotApproved,
    CertificateNotFound,
    ValidationFailed,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    PayloadTooLarge,
    Internal,
    /// A code this build does not know yet (newer server).
    #[serde(other)]
    Unknown,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::NotFound => "not-found",
            ProblemCode::ResidentNotFound => "resident-not-found",
            ProblemCode::IdentityMismatch => "identity-mismatch",
            ProblemCode::ServiceNotFound => "service-not-found",
            ProblemCode::ServiceClosed => "service-closed",
            ProblemCode::WrongServiceKind => "wrong-service-kind",
            ProblemCode::ApplicationNotFound => "application-not-found",
            ProblemCode::OriginCertificateNotFound => "origin-certificate-not-found",
            ProblemCode::OriginCertificateNotApproved => "origin-certificate-not-approved",
            ProblemCode::CertificateNotFound => "certificate-not-found",
            ProblemCode::ValidationFailed => "validation-failed",
            ProblemCode::IdempotencyKeyMissing => "idempotency-key-missing",
            ProblemCode::IdempotencyKeyReused => "idempotency-key-reused",
            ProblemCode::PayloadTooLarge => "payload-too-large",
            ProblemCode::Internal => "internal",
            ProblemCode::Unknown => "unknown",
        }
    }
}

/// Error body in the style of RFC 9457 (`application/problem+json`), with a
/// stable `code` extension member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type: `urn:estation:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub code: ProblemCode,
}

impl Problem {
    pub fn new(status: u16, code: ProblemCode, title: &str) -> Self {
        Self {
            problem_type: format!("urn:estation:problem:{}", code.as_str()),
            title: title.to_owned(),
            status,
            detail: None,
            instance: None,
            code,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status,
            self.code.as_str(),
            self.title
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn localized_text_falls_back_to_zh_cn() {
        let t = LocalizedText::new("证明", "", "Certificate");
        assert_eq!(t.get("en-US"), "Certificate");
        assert_eq!(t.get("zh-TW"), "证明");
        assert_eq!(t.get("fr-FR"), "证明");
    }

    #[test]
    fn weekly_hours_close_at_night() {
        let hours = OpeningHours::Weekly {
            ranges: vec![WeeklyRange {
                weekday: 1,
                opens: "08:30".into(),
                closes: "17:30".into(),
            }],
        };
        // 2025-06-02 is a Monday.
        assert!(hours.is_open_at(datetime!(2025-06-02 08:30 +8)));
        assert!(!hours.is_open_at(datetime!(2025-06-02 17:30 +8)));
        assert!(!hours.is_open_at(datetime!(2025-06-02 02:00 +8)));
        assert!(!hours.is_open_at(datetime!(2025-06-03 10:00 +8)));
        let broken = OpeningHours::Weekly {
            ranges: vec![WeeklyRange {
                weekday: 1,
                opens: "8:30".into(),
                closes: "25:00".into(),
            }],
        };
        assert!(!broken.is_open_at(datetime!(2025-06-02 10:00 +8)));
    }

    #[test]
    fn problem_codes_round_trip_and_unknown_is_tolerated() {
        let p = Problem::new(404, ProblemCode::ResidentNotFound, "no such resident");
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"code\":\"resident-not-found\""));
        assert!(json.contains("\"type\":\"urn:estation:problem:resident-not-found\""));
        let later: Problem = serde_json::from_str(
            r#"{"type":"x","title":"t","status":418,"code":"brand-new-code"}"#,
        )
        .unwrap();
        assert_eq!(later.code, ProblemCode::Unknown);
    }

    #[test]
    fn qr_payload_rejects_garbage_without_panicking() {
        for text in [
            "",
            "ESTC1",
            "ESTC1.a.b.c.d.e.f",
            "ESTC1.a.b.c.1.AAAA.AAAA",
            "XYZ.a.b.c.1.d.e",
            "ESTC1.....",
            "ESTC1.a.b.c.1.e.f.g.h",
        ] {
            assert!(QrPayload::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn masking_hides_the_middle_of_an_id_number() {
        assert_eq!(mask_id_number("330106198503122314"), "330106********2314");
        assert_eq!(mask_id_number("12"), "12");
    }

    #[test]
    fn debug_output_does_not_show_personal_data() {
        let req = IssueCertificateRequest {
            service_id: "household-proof".into(),
            card_number: "A01234567".into(),
            id_number: "330106198503122314".into(),
            name: "张伟".into(),
            locale: Locale::ZhCn,
            period: None,
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains("张伟"));
        assert!(!debug.contains("330106198503122314"));
        assert!(!debug.contains("A01234567"));
    }
}
