//! The server's SQLite database: schema migrations, demo seed, kiosk credentials,
//! signing keys and the idempotency ledger.
//!
//! One writer connection serialises writes (SQLite allows one writer anyway); a
//! few reader connections serve reads concurrently thanks to WAL.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{M, Migrations};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{ApiError, StoreError};
use crate::seed;
use crate::wire::{ConfigBundle, Locale, LocalizedText, ProblemCode, SignedConfig};

const READERS: usize = 4;

const SCHEMA_V1: &str = r#"
CREATE TABLE kiosks (
    kiosk_id      TEXT PRIMARY KEY,
    token_sha256  BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE signing_keys (
    purpose     TEXT PRIMARY KEY,
    secret_key  BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE categories (
    id         TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    name_json  TEXT NOT NULL
);
CREATE TABLE services (
    id                  TEXT PRIMARY KEY,
    position            INTEGER NOT NULL,
    category_id         TEXT NOT NULL REFERENCES categories(id),
    kind                TEXT NOT NULL,
    needs_card          INTEGER NOT NULL,
    name_json           TEXT NOT NULL,
    description_json    TEXT NOT NULL,
    opening_hours_json  TEXT NOT NULL
);
CREATE TABLE residents (
    card_number        TEXT PRIMARY KEY,
    id_number          TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    gender             TEXT NOT NULL,
    birth_date         TEXT NOT NULL,
    address            TEXT NOT NULL,
    household_head     TEXT NOT NULL,
    relationship_json  TEXT NOT NULL
);
CREATE TABLE contributions (
    id_number       TEXT NOT NULL REFERENCES residents(id_number),
    month           TEXT NOT NULL,
    employer        TEXT NOT NULL,
    base_cents      INTEGER NOT NULL,
    personal_cents  INTEGER NOT NULL,
    employer_cents  INTEGER NOT NULL,
    PRIMARY KEY (id_number, month)
);
CREATE TABLE applications (
    application_number   TEXT PRIMARY KEY,
    service_name_json    TEXT NOT NULL,
    status               TEXT NOT NULL,
    submitted_on         TEXT NOT NULL,
    expected_completion  TEXT,
    steps_json           TEXT NOT NULL,
    missing_json         TEXT NOT NULL
);
CREATE TABLE origin_certificates (
    application_number  TEXT NOT NULL,
    exporter_code       TEXT NOT NULL,
    certificate_number  TEXT UNIQUE,
    summary_json        TEXT NOT NULL,
    exporter_address    TEXT NOT NULL,
    consignee           TEXT NOT NULL,
    transport           TEXT NOT NULL,
    goods_json          TEXT NOT NULL,
    PRIMARY KEY (application_number, exporter_code)
);
CREATE TABLE issued_certificates (
    certificate_id     TEXT PRIMARY KEY,
    verification_code  TEXT NOT NULL UNIQUE,
    kiosk_id           TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL,
    service_id         TEXT NOT NULL,
    card_number        TEXT NOT NULL,
    id_number          TEXT NOT NULL,
    locale             TEXT NOT NULL,
    issued_at          TEXT NOT NULL,
    signature          TEXT NOT NULL,
    qr_payload         TEXT NOT NULL,
    document_json      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE submissions (
    receipt_number   TEXT PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    card_number      TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    applicant_name   TEXT NOT NULL,
    fields_json      TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE ratings (
    rating_id        TEXT PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    certificate_id   TEXT,
    score            TEXT NOT NULL,
    reasons_json     TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE heartbeats (
    id               INTEGER PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    sent_at          TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    app_version      TEXT NOT NULL,
    config_version   INTEGER,
    outbox_backlog   INTEGER NOT NULL,
    devices_json     TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE idempotency_keys (
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    endpoint         TEXT NOT NULL,
    request_sha256   BLOB NOT NULL,
    response_json    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, idempotency_key)
);
CREATE TABLE config_bundles (
    version     INTEGER PRIMARY KEY,
    payload     TEXT NOT NULL,
    signature   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
"#;

/// Application owners (progress by card), phone links to issued certificates,
/// and the certificate-of-origin boxes the first schema lacked.
const SCHEMA_RESIDENT_SERVICES: &str = r#"
ALTER TABLE applications ADD COLUMN applicant_id_number TEXT;
CREATE INDEX applications_by_applicant ON applications (applicant_id_number, submitted_on);
ALTER TABLE origin_certificates ADD COLUMN producer TEXT;
ALTER TABLE origin_certificates ADD COLUMN invoice TEXT;
CREATE TABLE phone_links (
    token_sha256    BLOB PRIMARY KEY,
    certificate_id  TEXT NOT NULL REFERENCES issued_certificates(certificate_id),
    kiosk_id        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX phone_links_by_certificate ON phone_links (certificate_id);
"#;

/// Administration: administrators' tokens, bundles published to kiosks by
/// selector, and a fast path to each kiosk's last heartbeat.
const SCHEMA_ADMINISTRATION: &str = r#"
CREATE TABLE admins (
    admin_id      TEXT PRIMARY KEY,
    token_sha256  BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE published_bundles (
    version       INTEGER PRIMARY KEY,
    selector      TEXT NOT NULL,
    payload       TEXT NOT NULL,
    signature     TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  TEXT NOT NULL
);
CREATE INDEX heartbeats_by_kiosk ON heartbeats (kiosk_id, id);
"#;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(SCHEMA_V1),
        M::up(SCHEMA_RESIDENT_SERVICES),
        M::up(SCHEMA_ADMINISTRATION),
    ])
}

/// Which key signs what; the kiosk trusts the `config` key for its bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    Certificate,
    Config,
}

impl KeyPurpose {
    fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Certificate => "certificate",
            KeyPurpose::Config => "config",
        }
    }
}

pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves the connection usable: SQLite rolls
    // back the open transaction when the guard's transaction is dropped.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `path`, seeding
    /// demo data into a new database and creating signing keys on first use.
    pub fn open(path: &Path, now: OffsetDateTime) -> Result<Store, StoreError> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrations().to_latest(&mut writer)?;
        {
            let tx = writer.transaction()?;
            let empty: i64 = tx.query_row("SELECT COUNT(*) FROM services", [], |r| r.get(0))?;
            if empty == 0 {
                seed_demo_data(&tx)?;
            }
            super::demo::refresh_demo_data(&tx, now)?;
            for purpose in [KeyPurpose::Certificate, KeyPurpose::Config] {
                ensure_key(&tx, purpose, now)?;
            }
            ensure_config_bundle(&tx, now)?;
            tx.commit()?;
        }
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open(path)?;
            configure(&conn)?;
            readers.push(Mutex::new(conn));
        }
        Ok(Store {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        f(&lock(&self.readers[i]))
    }

    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs a write at most once per (kiosk, idempotency key): a replay with the
    /// same body gets the stored answer, a replay with another body is refused.
    /// The effect and the ledger row commit in one transaction, so a crash can
    /// never leave one without the other.
    pub fn idempotent_write<T: Serialize + DeserializeOwned>(
        &self,
        kiosk_id: &str,
        key: &str,
        endpoint: &str,
        request_sha256: [u8; 32],
        now: OffsetDateTime,
        effect: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.write(|tx| {
            let previous: Option<(String, Vec<u8>, String)> = tx
                .query_row(
                    "SELECT endpoint, request_sha256, response_json FROM idempotency_keys
                     WHERE kiosk_id = ?1 AND idempotency_key = ?2",
                    params![kiosk_id, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            if let Some((previous_endpoint, previous_hash, response)) = previous {
                if previous_endpoint != endpoint || previous_hash != request_sha256 {
                    return Err(ApiError::new(
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemCode::IdempotencyKeyReused,
                        "This idempotency key was used for a different request",
                    ));
                }
                return Ok(serde_json::from_str(&response)?);
            }
            let value = effect(tx)?;
            tx.execute(
                "INSERT INTO idempotency_keys
                 (kiosk_id, idempotency_key, endpoint, request_sha256, response_json, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    kiosk_id,
                    key,
                    endpoint,
                    request_sha256,
                    serde_json::to_string(&value)?,
                    rfc3339(now)
                ],
            )?;
            Ok(value)
        })
    }

    /// Registers a kiosk or replaces its token.
    pub fn register_kiosk(
        &self,
        kiosk_id: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO kiosks (kiosk_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kiosk_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
                params![kiosk_id, sha256(token.as_bytes()), rfc3339(now)],
            )?;
            Ok(())
        })
    }

    /// Whether `token` is the current token of `kiosk_id`, compared in constant time.
    pub fn kiosk_token_matches(&self, kiosk_id: &str, token: &str) -> Result<bool, ApiError> {
        use subtle::ConstantTimeEq;
        let stored: Option<Vec<u8>> = self.read(|c| {
            Ok(c.query_row(
                "SELECT token_sha256 FROM kiosks WHERE kiosk_id = ?1",
                params![kiosk_id],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        Ok(stored.is_some_and(|s| bool::from(s.as_slice().ct_eq(&sha256(token.as_bytes())))))
    }

    pub fn signing_key(&self, purpose: KeyPurpose) -> Result<SigningKey, StoreError> {
        let conn = lock(&self.writer);
        load_key(&conn, purpose)
    }

    pub fn latest_config(&self) -> Result<Option<(u64, SignedConfig)>, ApiError> {
        self.read(|c| latest_config(c).map_err(ApiError::from))
    }
}

fn load_key(conn: &Connection, purpose: KeyPurpose) -> Result<SigningKey, StoreError> {
    let secret: Vec<u8> = conn.query_row(
        "SELECT secret_key FROM signing_keys WHERE purpose = ?1",
        params![purpose.as_str()],
        |r| r.get(0),
    )?;
    let bytes: [u8; 32] = secret
        .try_into()
        .map_err(|_| StoreError::Corrupt("signing key has the wrong length".into()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn ensure_key(
    tx: &Transaction<'_>,
    purpose: KeyPurpose,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let exists: i64 = tx.query_row(
        "SELECT COUNT(*) FROM signing_keys WHERE purpose = ?1",
        params![purpose.as_str()],
        |r| r.get(0),
    )?;
    if exists == 0 {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        tx.execute(
            "INSERT INTO signing_keys (purpose, secret_key, created_at) VALUES (?1, ?2, ?3)",
            params![purpose.as_str(), key.to_bytes().to_vec(), rfc3339(now)],
        )?;
    }
    Ok(())
}

fn latest_config(conn: &Connection) -> Result<Option<(u64, SignedConfig)>, StoreError> {
    let row: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT version, payload, signature FROM config_bundles ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((version, payload, signature)) = row else {
        return Ok(None);
    };
    let key = load_key(conn, KeyPurpose::Config)?;
    Ok(Some((
        u64::try_from(version)
            .map_err(|_| StoreError::Corrupt("negative config version".into()))?,
        SignedConfig {
            payload,
            signature,
            key_id: super::key_id(&key.verifying_key()),
        },
    )))
}

/// Keeps a valid bundle available: issues a new version when there is none or
/// the newest one expires within a week.
fn ensure_config_bundle(tx: &Transaction<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let newest: Option<(i64, String)> = tx
        .query_row(
            "SELECT version, payload FROM config_bundles ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let next_version = match &newest {
        Some((version, payload)) => {
            let bundle: ConfigBundle = serde_json::from_str(payload)?;
            if bundle.expires_at > now + time::Duration::days(7) {
                return Ok(());
            }
            version + 1
        }
        None => 1,
    };
    let bundle = ConfigBundle {
        version: u64::try_from(next_version).unwrap_or(1),
        issued_at: now,
        expires_at: now + time::Duration::days(90),
        station_name: LocalizedText::new(
            "滨江区 24 小时政务服务 e 站",
            "濱江區 24 小時政務服務 e 站",
            "Binjiang 24-hour service e-station",
        ),
        locales: Locale::ALL.to_vec(),
        default_locale: Locale::ZhCn,
        idle_timeout_secs: 90,
        disabled_services: vec![],
        technician_pin_hashes: vec![],
        settings: [("printer.paper_width_dots".to_owned(), "576".to_owned())].into(),
    };
    let payload = serde_json::to_string(&bundle)?;
    let key = load_key(tx, KeyPurpose::Config)?;
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(payload.as_bytes()).to_bytes());
    tx.execute(
        "INSERT INTO config_bundles (version, payload, signature, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![next_version, payload, signature, rfc3339(now)],
    )?;
    Ok(())
}

fn seed_demo_data(tx: &Transaction<'_>) -> Result<(), StoreError> {
    for (position, category) in seed::categories().iter().enumerate() {
        tx.execute(
            "INSERT INTO categories (id, position, name_json) VALUES (?1, ?2, ?3)",
            params![
                category.id,
                position as i64,
                serde_json::to_string(&category.name)?
            ],
        )?;
    }
    for (position, service) in seed::services().iter().enumerate() {
        tx.execute(
            "INSERT INTO services (id, position, category_id, kind, needs_card, name_json,
                                   description_json, opening_hours_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                service.id,
                position as i64,
                service.category,
                serde_json::to_value(service.kind)?
                    .as_str()
                    .unwrap_or_default(),
                service.needs_card,
                serde_json::to_string(&service.name)?,
                serde_json::to_string(&service.description)?,
                serde_json::to_string(&service.opening_hours)?,
            ],
        )?;
    }
    for resident in seed::DEMO_RESIDENTS {
        let record = seed::RESIDENT_RECORDS
            .iter()
            .find(|r| r.card_number == resident.card_number)
            .ok_or_else(|| StoreError::Corrupt("demo resident without a record".into()))?;
        tx.execute(
            "INSERT INTO residents (card_number, id_number, name, gender, birth_date, address,
                                    household_head, relationship_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                resident.card_number,
                resident.id_number,
                resident.name,
                resident.gender,
                resident.birth_date,
                record.address,
                record.household_head,
                serde_json::to_string(&record.relationship.to_text())?,
            ],
        )?;
    }
    for app in seed::applications() {
        tx.execute(
            "INSERT INTO applications (application_number, service_name_json, status, submitted_on,
                                       expected_completion, steps_json, missing_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                app.application_number,
                serde_json::to_string(&app.service_name)?,
                serde_json::to_string(&app.status)?,
                app.submitted_on,
                app.expected_completion,
                serde_json::to_string(&app.steps)?,
                serde_json::to_string(&app.missing)?,
            ],
        )?;
    }
    for origin in seed::origin_certificates() {
        let summary = crate::wire::OriginCertificateSummary {
            application_number: origin.application_number.into(),
            exporter_code: origin.exporter_code.into(),
            exporter_name: origin.exporter_name.into(),
            agreement: origin.agreement.into(),
            form_name: origin.form_name.clone(),
            status: origin.status,
            certificate_number: origin.certificate_number.map(str::to_owned),
            approved_on: origin.approved_on.map(str::to_owned),
        };
        let goods: Vec<[&str; 4]> = origin
            .goods
            .iter()
            .map(|g| [g.hs_code, g.description, g.quantity, g.origin_criterion])
            .collect();
        tx.execute(
            "INSERT INTO origin_certificates (application_number, exporter_code, certificate_number,
                 summary_json, exporter_address, consignee, transport, goods_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                origin.application_number,
                origin.exporter_code,
                origin.certificate_number,
                serde_json::to_string(&summary)?,
                origin.exporter_address,
                origin.consignee,
                origin.transport,
                serde_json::to_string(&goods)?,
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }
}
