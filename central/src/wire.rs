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

/// A code the resident shows on a phone (an electronic social security card, a
/// provincial app), as the kiosk's scanner read it. The kiosk trusts nothing in
/// it: the central service decides whom it identifies.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityCodeRequest {
    /// The scanned text, exactly as read (at most [`MAX_IDENTITY_CODE_CHARS`]).
    pub code: String,
}

impl fmt::Debug for IdentityCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityCodeRequest")
            .field("code_chars", &self.code.chars().count())
            .finish_non_exhaustive()
    }
}

/// The longest scanned code the service looks at; a longer one is malformed.
pub const MAX_IDENTITY_CODE_CHARS: usize = 512;

/// The resident a phone code stands for: what a card would have told the kiosk,
/// so the visit goes on exactly as with a card.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CodeIdentity {
    pub card_number: String,
    /// Citizen ID number (GB 11643).
    pub id_number: String,
    pub name: String,
    pub gender: Gender,
    /// "YYYY-MM-DD".
    pub birth_date: String,
}

impl fmt::Debug for CodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeIdentity").finish_non_exhaustive()
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
///
/// Accepted by the service ([`Period::check`]): both ends are "YYYY-MM" with a
/// month 01–12, `from` is not after `to`, the range spans at most
/// [`MAX_PERIOD_MONTHS`] months, starts no earlier than [`EARLIEST_PERIOD_MONTH`]
/// and ends no later than the current month. Anything else is refused with
/// `validation-failed` (shown to the resident as "invalid input").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Period {
    #[schema(example = "2024-01")]
    pub from: String,
    #[schema(example = "2024-12")]
    pub to: String,
}

/// Longest period a certificate may cover, in months.
pub const MAX_PERIOD_MONTHS: i32 = 120;
/// First month a period may start with (records before it are not online).
pub const EARLIEST_PERIOD_MONTH: &str = "1990-01";

/// Why a [`Period`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("period months must be YYYY-MM with a month from 01 to 12")]
    Malformed,
    #[error("the period must not end before it starts")]
    Backwards,
    #[error("the period may span at most 120 months")]
    TooLong,
    #[error("the period must not start before 1990-01")]
    TooEarly,
    #[error("the period must not end after the current month")]
    InTheFuture,
}

/// Months since year 0 of a "YYYY-MM" text.
fn month_number(yyyy_mm: &str) -> Option<i32> {
    let (y, m) = yyyy_mm.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

fn month_text(number: i32) -> String {
    format!(
        "{:04}-{:02}",
        number.div_euclid(12),
        number.rem_euclid(12) + 1
    )
}

fn current_month(today: time::Date) -> i32 {
    today.year() * 12 + i32::from(u8::from(today.month())) - 1
}

impl Period {
    fn between(from: i32, to: i32) -> Period {
        Period {
            from: month_text(from),
            to: month_text(to),
        }
    }

    /// The default period: the 12 whole months before the month of `today`.
    pub fn default_for(today: time::Date) -> Period {
        PeriodChoice::Last12Months.period(today)
    }

    /// Number of months covered, both ends included, when well formed.
    pub fn months(&self) -> Option<i32> {
        Some(month_number(&self.to)? - month_number(&self.from)? + 1)
    }

    /// Checks the period against the rules above, `today` being the service's date.
    pub fn check(&self, today: time::Date) -> Result<(), PeriodError> {
        let (Some(from), Some(to)) = (month_number(&self.from), month_number(&self.to)) else {
            return Err(PeriodError::Malformed);
        };
        if from > to {
            return Err(PeriodError::Backwards);
        }
        if to - from >= MAX_PERIOD_MONTHS {
            return Err(PeriodError::TooLong);
        }
        if month_number(EARLIEST_PERIOD_MONTH).is_some_and(|earliest| from < earliest) {
            return Err(PeriodError::TooEarly);
        }
        if to > current_month(today) {
            return Err(PeriodError::InTheFuture);
        }
        Ok(())
    }
}

/// The periods the kiosk offers for payment certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodChoice {
    /// The 12 whole months before the current one (the default).
    #[serde(rename = "last-12-months")]
    Last12Months,
    /// The 24 whole months before the current one.
    #[serde(rename = "last-24-months")]
    Last24Months,
    /// January of this year up to and including the current month.
    ThisYear,
    /// January to December of last year.
    LastYear,
}

impl PeriodChoice {
    pub const ALL: [PeriodChoice; 4] = [
        PeriodChoice::Last12Months,
        PeriodChoice::Last24Months,
        PeriodChoice::ThisYear,
        PeriodChoice::LastYear,
    ];

    /// The months this choice means on `today` (the kiosk's local date).
    pub fn period(self, today: time::Date) -> Period {
        let current = current_month(today);
        let january = today.year() * 12;
        match self {
            PeriodChoice::Last12Months => Period::between(current - 12, current - 1),
            PeriodChoice::Last24Months => Period::between(current - 24, current - 1),
            PeriodChoice::ThisYear => Period::between(january, current),
            PeriodChoice::LastYear => Period::between(january - 12, january - 1),
        }
    }
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
    /// Months covered (payment certificates); the 12 whole months before the
    /// current one when absent. See [`Period`] for the accepted range and
    /// [`PeriodChoice`] for the periods a kiosk offers.
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
    /// The same progress laid out for the generic certificate layout, in the
    /// requested locale. Informational, not signed: its "code" is the
    /// application number, which its QR also carries for the service counter.
    pub document: PrintableDocument,
}

/// The applications of the resident identified by a card.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationsLookupRequest {
    pub card_number: String,
    /// Citizen ID number (GB 11643) read from the card.
    pub id_number: String,
    /// Language of the labels of the printable document.
    #[serde(default)]
    pub locale: Locale,
}

impl fmt::Debug for ApplicationsLookupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationsLookupRequest")
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// One line of a resident's list of applications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationSummary {
    pub application_number: String,
    pub service_name: LocalizedText,
    pub status: ApplicationStatus,
    /// "YYYY-MM-DD".
    pub submitted_on: String,
    /// "YYYY-MM-DD" of the latest step with a date.
    pub updated_on: String,
}

/// A resident's own applications, newest first, and a printable list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResidentApplications {
    pub applications: Vec<ApplicationSummary>,
    /// The list for the generic certificate layout. Informational, not signed;
    /// its QR carries the application numbers, one per line.
    pub document: PrintableDocument,
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
    /// Form fields by field id, e.g. "new_address", "phone"; the rules are in
    /// [`SubmissionForm`] (`GET /v1/services/{id}/form`).
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
    /// Printed on the resident's receipt; quoted at the service centre. It is
    /// also the application number for the progress inquiry.
    pub receipt_number: String,
    pub service_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The receipt to print, in the language of the request's
    /// `Accept-Language` header (zh-CN when absent).
    pub receipt: ReceiptDocument,
}

/// A printable receipt, the shape of the printer's submission-receipt layout
/// (`estation_drivers::print::layouts::ReceiptContent`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptDocument {
    pub title: String,
    /// (label, value) rows: service, time, the fields submitted (masked where
    /// personal), …
    pub rows: Vec<Field>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Caption of the reference number, e.g. "受理回执号".
    pub reference_label: String,
    /// The number the resident quotes later.
    pub reference: String,
    /// Printed as a QR code: the reference, for the service counter's scanner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
}

impl fmt::Debug for ReceiptDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptDocument")
            .field("title", &self.title)
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
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

// ---------------------------------------------------------------- submission forms

/// What a form field holds, which decides the kiosk's input method and the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FormFieldKind {
    /// Free text (CJK allowed); no control characters.
    Text,
    /// A telephone number: a mainland mobile number (11 digits, "1[3-9]…") or a
    /// landline with its area code ("0" and 9 to 11 digits, one "-" allowed
    /// after the area code).
    Phone,
    /// ASCII digits only, e.g. a postal code.
    Digits,
}

/// One field of a submission form, with the rules the service applies; the
/// kiosk applies the same ones (via [`FormFieldSpec::check`]) before it sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FormFieldSpec {
    /// Key in [`SubmissionRequest::fields`].
    pub id: String,
    pub label: LocalizedText,
    /// Short help shown under the field.
    pub hint: LocalizedText,
    pub kind: FormFieldKind,
    pub required: bool,
    /// Length limits in characters (Unicode scalar values), after trimming.
    pub min_chars: u32,
    pub max_chars: u32,
    /// Printed masked on receipts (phone numbers): only the first 3 and last 4
    /// characters show.
    pub masked_on_receipt: bool,
}

/// Why a field value is refused.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, thiserror::Error,
)]
#[serde(rename_all = "kebab-case")]
pub enum FieldProblem {
    #[error("required")]
    Missing,
    #[error("too short")]
    TooShort,
    #[error("too long")]
    TooLong,
    #[error("not a valid value for this field")]
    Invalid,
    #[error("not a field of this form")]
    Unknown,
}

impl FieldProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldProblem::Missing => "missing",
            FieldProblem::TooShort => "too-short",
            FieldProblem::TooLong => "too-long",
            FieldProblem::Invalid => "invalid",
            FieldProblem::Unknown => "unknown",
        }
    }
}

fn is_phone_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mobile = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    let landline = || {
        let digits: String = text.chars().filter(|c| *c != '-').collect();
        let hyphens = text.len() - digits.len();
        let hyphen_ok = match text.find('-') {
            None => true,
            // After a 3- or 4-digit area code ("010-", "0571-").
            Some(i) => hyphens == 1 && (i == 3 || i == 4),
        };
        hyphen_ok
            && digits.starts_with('0')
            && (10..=12).contains(&digits.len())
            && digits.bytes().all(|d| d.is_ascii_digit())
    };
    mobile || landline()
}

impl FormFieldSpec {
    /// Checks one value (absent values are `None`); values are trimmed first.
    pub fn check(&self, value: Option<&str>) -> Result<(), FieldProblem> {
        let value = value.map(str::trim).unwrap_or_default();
        if value.is_empty() {
            return if self.required {
                Err(FieldProblem::Missing)
            } else {
                Ok(())
            };
        }
        let chars = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
        if chars < self.min_chars {
            return Err(FieldProblem::TooShort);
        }
        if chars > self.max_chars {
            return Err(FieldProblem::TooLong);
        }
        let valid = match self.kind {
            FormFieldKind::Text => !value.chars().any(char::is_control),
            FormFieldKind::Phone => is_phone_number(value),
            FormFieldKind::Digits => value.bytes().all(|b| b.is_ascii_digit()),
        };
        if valid {
            Ok(())
        } else {
            Err(FieldProblem::Invalid)
        }
    }

    /// The value as printed on a receipt.
    pub fn receipt_value(&self, value: &str) -> String {
        let value = value.trim();
        if !self.masked_on_receipt {
            return value.to_owned();
        }
        let count = value.chars().count();
        value
            .chars()
            .enumerate()
            .map(|(i, c)| if i < 3 || i + 4 >= count { c } else { '*' })
            .collect()
    }
}

/// The form of a [`ServiceKind::Submission`] service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionForm {
    pub service_id: String,
    /// In the order the kiosk asks for them.
    pub fields: Vec<FormFieldSpec>,
}

impl SubmissionForm {
    /// Every problem of a set of values: each field's rule, and no unknown field.
    /// Empty when the values can be submitted.
    pub fn problems(&self, values: &BTreeMap<String, String>) -> Vec<(String, FieldProblem)> {
        let mut problems: Vec<(String, FieldProblem)> = self
            .fields
            .iter()
            .filter_map(|f| {
                f.check(values.get(&f.id).map(String::as_str))
                    .err()
                    .map(|p| (f.id.clone(), p))
            })
            .collect();
        problems.extend(
            values
                .keys()
                .filter(|k| !self.fields.iter().any(|f| &f.id == *k))
                .map(|k| (k.clone(), FieldProblem::Unknown)),
        );
        problems
    }
}

/// Id of the change-of-address submission service.
pub const ADDRESS_CHANGE_SERVICE_ID: &str = "address-change";

/// The forms this version of the contract defines, by service id. The service
/// serves the same at `GET /v1/services/{id}/form`.
pub fn submission_form(service_id: &str) -> Option<SubmissionForm> {
    match service_id {
        ADDRESS_CHANGE_SERVICE_ID => Some(SubmissionForm {
            service_id: service_id.to_owned(),
            fields: vec![
                FormFieldSpec {
                    id: "new_address".into(),
                    label: LocalizedText::new("新居住地址", "新居住地址", "New address"),
                    hint: LocalizedText::new(
                        "省、市、区、街道、门牌号",
                        "省、市、區、街道、門牌號",
                        "Province, city, district, street and number",
                    ),
                    kind: FormFieldKind::Text,
                    required: true,
                    min_chars: 5,
                    max_chars: 120,
                    masked_on_receipt: false,
                },
                FormFieldSpec {
                    id: "postal_code".into(),
                    label: LocalizedText::new("邮政编码", "郵遞區號", "Postal code"),
                    hint: LocalizedText::new(
                        "6 位数字，可不填",
                        "6 位數字，可不填",
                        "6 digits, optional",
                    ),
                    kind: FormFieldKind::Digits,
                    required: false,
                    min_chars: 6,
                    max_chars: 6,
                    masked_on_receipt: false,
                },
                FormFieldSpec {
                    id: "phone".into(),
                    label: LocalizedText::new("联系电话", "聯絡電話", "Phone number"),
                    hint: LocalizedText::new(
                        "手机号或带区号的固定电话",
                        "手機號或帶區號的固定電話",
                        "Mobile, or landline with area code",
                    ),
                    kind: FormFieldKind::Phone,
                    required: true,
                    min_chars: 10,
                    max_chars: 13,
                    masked_on_receipt: true,
                },
            ],
        }),
        _ => None,
    }
}

/// What a receipt says about where its submission stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptState<'a> {
    /// The central service accepted it under this receipt number.
    Received { receipt_number: &'a str },
    /// Stored at the kiosk, to be sent when the network is back; the reference
    /// is the kiosk's own (the idempotency key, or a short form of it).
    Queued { reference: &'a str },
}

/// The receipt of a submission, in `locale`. The service prints it with the
/// receipt number; a kiosk that queued the submission offline prints the same
/// shape with [`ReceiptState::Queued`].
pub fn submission_receipt(
    form: &SubmissionForm,
    service_name: &LocalizedText,
    values: &BTreeMap<String, String>,
    state: ReceiptState<'_>,
    received_at: &str,
    locale: Locale,
) -> ReceiptDocument {
    let tr = |zh_cn: &str, zh_tw: &str, en_us: &str| {
        LocalizedText::new(zh_cn, zh_tw, en_us)
            .for_locale(locale)
            .to_owned()
    };
    let mut rows = vec![
        Field {
            label: tr("事项", "事項", "Service"),
            value: service_name.for_locale(locale).to_owned(),
        },
        Field {
            label: tr("提交时间", "提交時間", "Submitted"),
            value: received_at.to_owned(),
        },
    ];
    rows.extend(form.fields.iter().filter_map(|f| {
        let value = values
            .get(&f.id)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())?;
        Some(Field {
            label: f.label.for_locale(locale).to_owned(),
            value: f.receipt_value(value),
        })
    }));
    let (reference_label, reference, notes) = match state {
        ReceiptState::Received { receipt_number } => (
            tr("受理回执号", "受理回執號", "Receipt number"),
            receipt_number.to_owned(),
            vec![tr(
                "材料已提交。可凭回执号在自助终端或服务窗口查询办理进度。",
                "材料已提交。可憑回執號在自助終端或服務窗口查詢辦理進度。",
                "Your submission has been received. Use the receipt number to check its progress at a kiosk or a service counter.",
            )],
        ),
        ReceiptState::Queued { reference } => (
            tr("本机登记号", "本機登記號", "Kiosk reference"),
            reference.to_owned(),
            vec![tr(
                "网络暂时中断：材料已保存在本机，网络恢复后自动提交，无需再来。受理回执号可凭本机登记号在服务窗口查询。",
                "網路暫時中斷：材料已保存在本機，網路恢復後自動提交，無需再來。受理回執號可憑本機登記號在服務窗口查詢。",
                "The network is down: your submission is stored in this kiosk and will be sent automatically when the network is back; you do not need to come again. Quote the kiosk reference at a service counter to get the receipt number.",
            )],
        ),
    };
    ReceiptDocument {
        title: tr("材料提交回执", "材料提交回執", "Submission receipt"),
        rows,
        notes,
        reference_label,
        qr_payload: Some(reference.clone()),
        reference,
        footer: Some(tr(
            "请妥善保管本回执",
            "請妥善保管本回執",
            "Please keep this receipt",
        )),
    }
}

/// Whether `text` has the shape of an application number: two capital
/// letters and 13 digits ("SQ2025060100012", "CO2025330100001"), or a
/// submission receipt number ("RC20250601-000001"). For input masks; the
/// service decides whether it exists.
pub fn is_application_number(text: &str) -> bool {
    let b = text.as_bytes();
    let letters = |s: &[u8]| s.iter().all(u8::is_ascii_uppercase);
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    (b.len() == 15 && letters(&b[..2]) && digits(&b[2..]))
        || (b.len() == 17
            && &b[..2] == b"RC"
            && digits(&b[2..10])
            && b[10] == b'-'
            && digits(&b[11..]))
}

/// Whether `text` has the shape of an exporter code: 10 digits.
pub fn is_exporter_code(text: &str) -> bool {
    text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------- origin forms

/// One box of a form: its printed label and what is written in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct FormBox {
    pub label: String,
    #[serde(default)]
    pub text: String,
}

/// An approved certificate of origin laid out as the agreement's form (boxes,
/// item table, declaration), bilingual. The verification code and QR are those
/// of the signed document (`…/document`), so the printed form verifies at
/// `/v1/verify/{certificate number}`. Maps one to one onto the printer's
/// `OriginFormContent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OriginCertificateForm {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    pub certificate_no: FormBox,
    pub issued_in: FormBox,
    pub exporter: FormBox,
    pub producer: FormBox,
    pub importer: FormBox,
    pub transport: FormBox,
    pub official_use: FormBox,
    /// Item number, marks and packages, description, HS code, origin
    /// criterion, country of origin, quantity, invoice number and date.
    pub item_headers: Vec<String>,
    pub items: Vec<Vec<String>>,
    pub remarks: FormBox,
    pub declaration: FormBox,
    pub certification: FormBox,
    pub verification_code: String,
    pub verification_label: String,
    pub qr_payload: String,
}

// ---------------------------------------------------------------- phone links

/// Default life of a phone link, in seconds.
pub const PHONE_LINK_TTL_SECS: i64 = 600;

/// A short-lived link that opens one issued certificate on the resident's
/// phone (shown as a QR on the kiosk). The URL holds an unguessable token;
/// anyone holding it can read the certificate until `expires_at`, so it is
/// never logged or printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PhoneLink {
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for PhoneLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhoneLink")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
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
    /// A public route asked too often from one address; see `Retry-After`.
    TooManyRequests,
    /// The route exists, but not with this method.
    MethodNotAllowed,
    /// An enrollment code nobody issued (or mistyped).
    EnrollmentCodeUnknown,
    /// An enrollment code that has enrolled a kiosk already: codes are single-use.
    EnrollmentCodeUsed,
    /// An enrollment code past its time limit.
    EnrollmentCodeExpired,
    /// A scanned identity code that is not one: wrong form, damaged, truncated.
    IdentityCodeMalformed,
    /// A well-formed identity code this service did not issue (forged, from
    /// another system) or whose resident is gone.
    IdentityCodeUnknown,
    /// An identity code that identified a resident already: codes are single-use.
    IdentityCodeUsed,
    /// An identity code past its short life: the phone shows a new one.
    IdentityCodeExpired,
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
            ProblemCode::TooManyRequests => "too-many-requests",
            ProblemCode::MethodNotAllowed => "method-not-allowed",
            ProblemCode::EnrollmentCodeUnknown => "enrollment-code-unknown",
            ProblemCode::EnrollmentCodeUsed => "enrollment-code-used",
            ProblemCode::EnrollmentCodeExpired => "enrollment-code-expired",
            ProblemCode::IdentityCodeMalformed => "identity-code-malformed",
            ProblemCode::IdentityCodeUnknown => "identity-code-unknown",
            ProblemCode::IdentityCodeUsed => "identity-code-used",
            ProblemCode::IdentityCodeExpired => "identity-code-expired",
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

// ---------------------------------------------------------------- administration

/// An administrator's request to publish a signed bundle to some kiosks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublishBundleRequest {
    /// Which kiosks get it: comma-separated kiosk ids or patterns where `*`
    /// stands for any run of characters, e.g. "binjiang-*,jindong-03" or "*".
    #[schema(example = "binjiang-*")]
    pub selector: String,
    /// The bundle exactly as `estation admin sign` wrote it.
    pub bundle: SignedConfig,
    /// Publish even when the selector matches no registered kiosk yet (for
    /// kiosks to be enrolled later); otherwise that is refused as a likely typo.
    #[serde(default)]
    pub allow_no_kiosk: bool,
}

/// A bundle the central service hands out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublishedBundle {
    pub version: u64,
    pub selector: String,
    /// Id of the key that signed it (the service does not check the signature:
    /// kiosks do, against their own trust anchors).
    pub key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    pub published_by: String,
    /// Registered kiosks the selector matches at publication.
    pub matched_kiosks: Vec<String>,
}

/// An administrator's request for a one-time enrollment code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentCodeRequest {
    /// The id the kiosk will have, e.g. "binjiang-03" (1 to 64 characters).
    #[schema(example = "binjiang-03")]
    pub kiosk_id: String,
    /// How long the code stays usable, in seconds (1 minute to 30 days).
    #[schema(example = 86400)]
    pub ttl_secs: u64,
    /// Public keys whose signed bundles the kiosk will accept: the
    /// administrators' `estation admin keygen` keys. The service's own
    /// configuration key is never among them: kiosks do not trust the service
    /// for the integrity of their configuration.
    #[serde(default)]
    pub config_keys: Vec<PublicKeyInfo>,
}

/// A fresh enrollment code. Only its hash is stored: this is the one time the
/// code itself is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentCode {
    /// Grouped for reading aloud over the phone: "7KQ2-M9XD-4HTR".
    pub code: String,
    pub kiosk_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A kiosk's request to enroll with a code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollRequest {
    #[schema(example = "7KQ2-M9XD-4HTR")]
    pub code: String,
}

/// What an enrolled kiosk needs: its id, its token and the keys it trusts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enrollment {
    pub kiosk_id: String,
    /// The kiosk's bearer token; it replaces any token the kiosk id had.
    pub token: String,
    /// Keys whose signed configuration bundles the kiosk accepts: the ones the
    /// administrator named with the code (possibly none).
    pub config_keys: Vec<PublicKeyInfo>,
    /// The key that signs certificates (for the kiosk's offline checks).
    pub certificate_key: PublicKeyInfo,
}

/// A kiosk's state as the fleet page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KioskHealth {
    Ok,
    /// A device warns (paper near end, backlog, an untested display …).
    Warning,
    /// A device failed (no paper, no reader, central unreachable …).
    Error,
    /// No heartbeat for longer than the staleness limit.
    Silent,
    /// Registered, never sent a heartbeat.
    Never,
}

/// The last heartbeat a kiosk sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LastHeartbeat {
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub app_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
    pub outbox_backlog: u32,
    pub devices: Vec<DeviceHealth>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KioskStatus {
    pub kiosk_id: String,
    pub health: KioskHealth,
    /// The configuration version the service hands this kiosk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_config_version: Option<u64>,
    /// Whether the kiosk reports running the version assigned to it.
    pub config_current: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat: Option<LastHeartbeat>,
}

/// Every registered kiosk and its last heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetStatus {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// A kiosk silent for longer than this is `silent`.
    pub stale_after_secs: u64,
    pub kiosks: Vec<KioskStatus>,
}

/// Checks a kiosk selector: 1 to 512 characters, comma-separated patterns of
/// letters, digits, `-`, `_`, `.` and `*`.
pub fn validate_selector(selector: &str) -> Result<(), String> {
    if selector.is_empty() || selector.len() > 512 {
        return Err("a selector has 1 to 512 characters".into());
    }
    for pattern in selector.split(',').map(str::trim) {
        if pattern.is_empty()
            || !pattern
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*'))
        {
            return Err(format!("{pattern:?} is not a kiosk id or pattern"));
        }
    }
    Ok(())
}

/// Whether `kiosk_id` is one of the kiosks `selector` names.
pub fn selector_matches(selector: &str, kiosk_id: &str) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .any(|pattern| glob_matches(pattern.as_bytes(), kiosk_id.as_bytes()))
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod administration_tests {
    use super::*;

    #[test]
    fn selectors_match_ids_and_patterns() {
        assert!(selector_matches("*", "binjiang-01"));
        assert!(selector_matches("binjiang-*", "binjiang-01"));
        assert!(selector_matches("jindong-03, binjiang-0*", "binjiang-01"));
        assert!(!selector_matches("binjiang-*", "jindong-01"));
        assert!(!selector_matches("binjiang-01", "binjiang-011"));
        assert!(selector_matches("*-01", "binjiang-01"));
        assert!(selector_matches("b*g-*1", "binjiang-01"));
        assert!(!selector_matches("b*g-*2", "binjiang-01"));
        assert!(validate_selector("binjiang-*,jindong-03").is_ok());
        for bad in ["", "a,,b", "a b", "../x", &"a".repeat(513)] {
            assert!(validate_selector(bad).is_err(), "{bad}");
        }
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
