//! What every store answers and takes: the `Store` trait and its records, apart
//! from the implementations, which build on this module rather than on their
//! parent.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::server::error::StoreError;
use crate::wire::{
    ApplicationStatus, Category, DeviceHealth, LastHeartbeat, Locale, LocalizedText, OpeningHours,
    OriginCertificateSummary, Period, PrintableDocument, ProgressStep, Service, ServiceKind,
};

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| StoreError::Corrupt(format!("not an RFC 3339 time: {text:?}")))
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A service of the catalogue, as stored.
#[derive(Clone, Debug)]
pub struct ServiceRecord {
    pub id: String,
    pub category: String,
    pub kind: ServiceKind,
    pub needs_card: bool,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub opening_hours: OpeningHours,
}

impl ServiceRecord {
    /// The catalogue entry, open or closed at `now`.
    pub fn at(self, now: OffsetDateTime) -> Service {
        Service {
            open_now: self.opening_hours.is_open_at(now),
            id: self.id,
            category: self.category,
            name: self.name,
            description: self.description,
            kind: self.kind,
            needs_card: self.needs_card,
            opening_hours: self.opening_hours,
        }
    }
}

pub struct ResidentRow {
    pub card_number: String,
    pub id_number: String,
    pub name: String,
    pub gender: crate::wire::Gender,
    pub birth_date: String,
    pub address: String,
    pub household_head: String,
    pub relationship: LocalizedText,
}

pub struct ContributionRow {
    pub month: String,
    pub employer: String,
    pub base_cents: i64,
    pub personal_cents: i64,
    pub employer_cents: i64,
}

/// An application whose progress residents follow.
#[derive(Clone, Debug)]
pub struct ApplicationRecord {
    pub application_number: String,
    pub service_name: LocalizedText,
    pub status: ApplicationStatus,
    pub submitted_on: String,
    pub expected_completion: Option<String>,
    pub steps: Vec<ProgressStep>,
    pub missing: Vec<LocalizedText>,
    pub applicant_id_number: Option<String>,
}

/// A certificate-of-origin application with the boxes of its form.
pub struct OriginRecord {
    pub summary: OriginCertificateSummary,
    pub exporter_address: String,
    pub consignee: String,
    pub transport: String,
    pub goods: Vec<[String; 4]>,
    pub producer: String,
    pub invoice: String,
    /// The unguessable code printed on an approved certificate; `None` until approval.
    pub verification_code: Option<String>,
}

/// A certificate as issued, with the document it signed.
pub struct CertificateRecord {
    pub certificate_id: String,
    pub verification_code: String,
    pub kiosk_id: String,
    pub idempotency_key: String,
    pub service_id: String,
    pub card_number: String,
    pub id_number: String,
    pub locale: Locale,
    pub issued_at: OffsetDateTime,
    pub signature: String,
    pub qr_payload: String,
    pub document: PrintableDocument,
}

pub struct SubmissionRecord {
    pub receipt_number: String,
    pub kiosk_id: String,
    pub idempotency_key: String,
    pub service_id: String,
    pub card_number: String,
    pub id_number: String,
    pub applicant_name: String,
    pub fields: BTreeMap<String, String>,
    pub received_at: OffsetDateTime,
    /// The application the receipt number opens.
    pub application: ApplicationRecord,
}

pub struct RatingRecord {
    pub rating_id: String,
    pub kiosk_id: String,
    pub idempotency_key: String,
    pub service_id: String,
    pub certificate_id: Option<String>,
    /// "good", "average" or "bad".
    pub score: String,
    pub reasons: Vec<String>,
    pub received_at: OffsetDateTime,
}

/// What a keyed write does, committed together with its ledger entry.
pub enum WriteEffect {
    Certificate(Box<CertificateRecord>),
    Submission(Box<SubmissionRecord>),
    Rating(RatingRecord),
}

/// The answer recorded for an idempotency key.
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub endpoint: String,
    pub request_sha256: Vec<u8>,
    pub response_json: String,
}

pub struct NewLedgerEntry {
    pub kiosk_id: String,
    pub idempotency_key: String,
    pub endpoint: &'static str,
    pub request_sha256: [u8; 32],
    pub response_json: String,
    pub created_at: OffsetDateTime,
}

/// How a keyed write ended.
pub enum Commit {
    Committed,
    /// The key already had an answer (a retry that raced the first attempt,
    /// possibly on another replica); nothing was written.
    AlreadyRecorded(LedgerEntry),
}

/// One heartbeat; its `(kiosk_id, idempotency_key)` is its own ledger.
#[derive(Clone, Debug)]
pub struct HeartbeatRecord {
    pub kiosk_id: String,
    pub idempotency_key: String,
    pub request_sha256: [u8; 32],
    pub sent_at: OffsetDateTime,
    pub received_at: OffsetDateTime,
    pub app_version: String,
    pub config_version: Option<i64>,
    pub outbox_backlog: i64,
    pub devices: Vec<DeviceHealth>,
    /// The configuration version the answer named.
    pub acked_config_version: Option<i64>,
}

/// The stored heartbeat for a key: the new one, or the first with that key.
#[derive(Clone, Debug)]
pub struct StoredHeartbeat {
    pub request_sha256: Vec<u8>,
    pub received_at: OffsetDateTime,
    pub acked_config_version: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct PublishedBundleRecord {
    pub version: i64,
    pub selector: String,
    pub payload: String,
    pub signature: String,
    pub key_id: String,
    pub expires_at: OffsetDateTime,
    pub published_by: String,
    pub published_at: OffsetDateTime,
}

/// The service's own signed configuration, served when no published bundle names a kiosk.
#[derive(Clone, Debug)]
pub struct DefaultConfigRecord {
    pub version: i64,
    pub payload: String,
    pub signature: String,
    pub created_at: OffsetDateTime,
}

/// Newest versions of both kinds of bundle: when these are unchanged, so is
/// every kiosk's configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigVersions {
    pub published: Option<i64>,
    pub default: Option<i64>,
}

pub struct PhoneLinkRecord {
    pub token_sha256: [u8; 32],
    pub certificate_id: String,
    pub kiosk_id: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub struct PhoneLinkTarget {
    pub expires_at: OffsetDateTime,
    pub document: PrintableDocument,
    pub locale: Locale,
}

/// A one-time enrollment code; only its hash is stored.
pub struct EnrollmentCodeRecord {
    pub code_sha256: [u8; 32],
    pub kiosk_id: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Keys the enrolled kiosk is told to trust, besides the service's own.
    pub config_keys: Vec<crate::wire::PublicKeyInfo>,
}

/// What became of an attempt to use an enrollment code.
#[derive(Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// The code was good; it is now used.
    Enrolled {
        kiosk_id: String,
        config_keys: Vec<crate::wire::PublicKeyInfo>,
    },
    /// Used before (by this kiosk, another, or a racing request).
    AlreadyUsed,
    Expired,
    /// No such code.
    Unknown,
}

/// A phone identity code being used: its nonce, remembered until it expires.
pub struct IdentityCodeSpend {
    pub nonce: [u8; 12],
    pub kiosk_id: String,
    /// The request's Idempotency-Key, when it sent one.
    pub request_key: Option<String>,
    pub used_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Why a bundle was not published.
pub enum PublishRefused {
    /// A bundle with this version or a newer one is already published.
    NotNewer { newest: i64 },
}

/// Storage of the central service. Every method is one short transaction (or
/// one statement); none holds a lock across requests.
#[async_trait]
pub trait Store: Send + Sync {
    /// "sqlite:<path>" or "postgres://host/db" (never a password), for logs.
    fn describe(&self) -> String;
    /// The database file, for a SQLite store.
    fn sqlite_path(&self) -> Option<&std::path::Path> {
        None
    }

    /// Seeds demo data into an empty database and keeps it current (see `server::demo`).
    async fn prepare_demo_data(&self, now: OffsetDateTime) -> Result<(), StoreError>;

    // ---- credentials
    async fn kiosk_token_sha256(&self, kiosk_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn admin_token_sha256(&self, admin_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Registers a kiosk or replaces its token.
    async fn register_kiosk(
        &self,
        kiosk_id: &str,
        token_sha256: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Registers many kiosks at once (fleet set-up), replacing tokens.
    async fn register_kiosks(
        &self,
        kiosks: &[(String, [u8; 32])],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn register_admin(
        &self,
        admin_id: &str,
        token_sha256: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn kiosk_ids(&self) -> Result<Vec<String>, StoreError>;

    // ---- catalogue, residents, applications
    async fn categories(&self) -> Result<Vec<Category>, StoreError>;
    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError>;
    async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, StoreError>;
    async fn resident(&self, card_number: &str) -> Result<Option<ResidentRow>, StoreError>;
    async fn has_contributions(&self, id_number: &str) -> Result<bool, StoreError>;
    async fn contributions(
        &self,
        id_number: &str,
        period: &Period,
    ) -> Result<Vec<ContributionRow>, StoreError>;
    async fn application(
        &self,
        application_number: &str,
    ) -> Result<Option<ApplicationRecord>, StoreError>;
    /// A resident's applications, newest first.
    async fn applications_of(
        &self,
        id_number: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError>;
    async fn origin(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<Option<OriginRecord>, StoreError>;
    async fn origin_by_verification_code(
        &self,
        code: &str,
    ) -> Result<Option<OriginRecord>, StoreError>;

    // ---- certificates and phone links
    async fn certificate_by_code(
        &self,
        code: &str,
    ) -> Result<Option<CertificateRecord>, StoreError>;
    /// The issuing kiosk and time of a certificate.
    async fn certificate_issuer(
        &self,
        certificate_id: &str,
    ) -> Result<Option<(String, OffsetDateTime)>, StoreError>;
    async fn insert_phone_link(&self, link: &PhoneLinkRecord) -> Result<(), StoreError>;
    async fn phone_link(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<PhoneLinkTarget>, StoreError>;

    // ---- keyed writes
    async fn ledger_entry(
        &self,
        kiosk_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<LedgerEntry>, StoreError>;
    /// Commits the effect and its ledger entry in one transaction, unless the
    /// key already has an entry.
    async fn commit_write(
        &self,
        ledger: &NewLedgerEntry,
        effect: &WriteEffect,
    ) -> Result<Commit, StoreError>;
    /// The next receipt number of a day ("YYYYMMDD"), from 1; never handed out twice.
    async fn next_receipt_sequence(&self, day: &str) -> Result<i64, StoreError>;

    // ---- heartbeats and the fleet
    /// Records a batch of heartbeats in one transaction; answers, in order, the
    /// stored heartbeat of each key (the first one when a key repeats).
    async fn record_heartbeats(
        &self,
        batch: &[HeartbeatRecord],
    ) -> Result<Vec<StoredHeartbeat>, StoreError>;
    /// Deletes up to `limit` heartbeats received before `before`, never a
    /// kiosk's newest (the fleet shows it however old); answers how many went.
    async fn prune_heartbeats(&self, before: OffsetDateTime, limit: i64)
    -> Result<u64, StoreError>;
    /// Every registered kiosk with its newest heartbeat, by kiosk id.
    async fn fleet(&self) -> Result<Vec<(String, Option<LastHeartbeat>)>, StoreError>;

    // ---- configuration
    async fn config_versions(&self) -> Result<ConfigVersions, StoreError>;
    /// Published bundles, newest first.
    async fn published_bundles(&self) -> Result<Vec<PublishedBundleRecord>, StoreError>;
    async fn publish_bundle(
        &self,
        bundle: &PublishedBundleRecord,
    ) -> Result<Result<(), PublishRefused>, StoreError>;
    async fn default_config(&self) -> Result<Option<DefaultConfigRecord>, StoreError>;
    /// Adds a default bundle; a version that exists already is left as it is
    /// (two replicas starting at once).
    async fn insert_default_config(&self, bundle: &DefaultConfigRecord) -> Result<(), StoreError>;

    // ---- enrollment
    async fn create_enrollment_code(&self, code: &EnrollmentCodeRecord) -> Result<(), StoreError>;
    /// Uses a code: answers its kiosk if the code exists, is unused and has not
    /// expired, and marks it used in the same statement, so that of any number of
    /// concurrent callers (on any replica) at most one ever gets the kiosk. The
    /// others learn why not (used, expired, unknown) from a second look.
    async fn redeem_enrollment_code(
        &self,
        code_sha256: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<Redeemed, StoreError>;

    // ---- phone identity codes
    /// Marks a code's nonce used; `false` when it was used before (by any
    /// kiosk, on any replica: the primary key decides between racers), unless
    /// by this very request (same kiosk, same request key): a retry.
    async fn spend_identity_code(&self, spend: &IdentityCodeSpend) -> Result<bool, StoreError>;
    /// Forgets the uses of codes that expired before `before`.
    async fn prune_identity_code_uses(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// JSON text of a stored value.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// The stored text of a service kind ("certificate", ...).
pub(crate) fn kind_text(kind: ServiceKind) -> Result<String, StoreError> {
    Ok(serde_json::to_value(kind)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

pub(crate) fn kind_from_text(text: &str) -> Result<ServiceKind, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        text.to_owned(),
    ))?)
}

pub(crate) fn gender_from_text(text: &str) -> crate::wire::Gender {
    if text == "F" {
        crate::wire::Gender::Female
    } else {
        crate::wire::Gender::Male
    }
}
