//! The SQLite store: one file, the embedded default.
//!
//! One writer connection serialises writes (SQLite allows one writer anyway); a
//! few reader connections serve reads concurrently thanks to WAL. Work runs on
//! tokio's blocking pool. The file and its WAL are created 0600: the database
//! holds residents' data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{M, Migrations};
use time::OffsetDateTime;

use super::demo;
use super::migrate;
use super::model::*;
use crate::server::error::StoreError;
use crate::wire::{Category, LastHeartbeat, Locale, Period};

const READERS: usize = 4;

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../../migrations/sqlite/0001_initial.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0002_resident_services.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0003_administration.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0004_replicas_and_keys.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0005_identity_codes.sql"
        )),
    ])
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

pub struct SqliteStore {
    inner: Arc<Inner>,
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
    // Deleted rows (legacy signing keys, expired links) are overwritten, not left
    // in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Creates the file 0600 before SQLite opens it, and narrows an existing file
/// (and its WAL) to 0600: the database holds residents' data. SQLite gives the
/// -wal and -shm files the permissions of the database file.
pub fn restrict_permissions(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::Io(format!("{}: {e}", file.display())))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn time_text(t: OffsetDateTime) -> String {
    rfc3339(t)
}

fn gender_text(gender: crate::wire::Gender) -> &'static str {
    match gender {
        crate::wire::Gender::Female => "F",
        crate::wire::Gender::Male => "M",
    }
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(|_| StoreError::Task)?
    }

    fn open_blocking(path: &Path) -> Result<SqliteStore, StoreError> {
        restrict_permissions(path)?;
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrations().to_latest(&mut writer)?;
        restrict_permissions(path)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open(path)?;
            configure(&conn)?;
            readers.push(Mutex::new(conn));
        }
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            f(&lock(&inner.readers[i]))
        })
        .await
        .map_err(|_| StoreError::Task)?
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|_| StoreError::Task)?
    }

    /// Signing keys an earlier version kept in the database, by purpose.
    pub async fn legacy_signing_keys(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT purpose, secret_key FROM signing_keys")?;
            let keys = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(keys)
        })
        .await
    }

    /// Deletes the legacy signing keys (overwritten thanks to `secure_delete`),
    /// once they are safe in their files, and compacts the file.
    pub async fn forget_legacy_signing_keys(&self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM signing_keys", [])?;
            Ok(())
        })
        .await?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let conn = lock(&inner.writer);
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
            Ok(())
        })
        .await
        .map_err(|_| StoreError::Task)?
    }

    /// Every row of every table, for `migrate-store`.
    pub async fn dump(&self) -> Result<migrate::Dump, StoreError> {
        self.read(migrate::dump_sqlite).await
    }
}

fn service_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[String; 6]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ])
}

fn service_record(texts: [String; 6], needs_card: bool) -> Result<ServiceRecord, StoreError> {
    let [id, category, kind, name, description, hours] = texts;
    Ok(ServiceRecord {
        id,
        category,
        kind: kind_from_text(&kind)?,
        needs_card,
        name: from_json(&name)?,
        description: from_json(&description)?,
        opening_hours: from_json(&hours)?,
    })
}

type ApplicationTexts = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
);

fn application_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApplicationTexts> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn application_record(row: ApplicationTexts) -> Result<ApplicationRecord, StoreError> {
    let (number, service_name, status, submitted_on, expected, steps, missing, applicant) = row;
    Ok(ApplicationRecord {
        application_number: number,
        service_name: from_json(&service_name)?,
        status: from_json(&status)?,
        submitted_on,
        expected_completion: expected,
        steps: from_json(&steps)?,
        missing: from_json(&missing)?,
        applicant_id_number: applicant,
    })
}

fn insert_application(tx: &Transaction<'_>, app: &ApplicationRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO applications (application_number, service_name_json, status, submitted_on,
                                   expected_completion, steps_json, missing_json,
                                   applicant_id_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            app.application_number,
            to_json(&app.service_name)?,
            to_json(&app.status)?,
            app.submitted_on,
            app.expected_completion,
            to_json(&app.steps)?,
            to_json(&app.missing)?,
            app.applicant_id_number,
        ],
    )?;
    Ok(())
}

fn origin_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<([String; 7], Option<String>)> {
    Ok((
        [
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ],
        r.get(7)?,
    ))
}

fn origin_record(row: ([String; 7], Option<String>)) -> Result<OriginRecord, StoreError> {
    let (
        [
            summary,
            address,
            consignee,
            transport,
            goods,
            producer,
            invoice,
        ],
        code,
    ) = row;
    Ok(OriginRecord {
        summary: from_json(&summary)?,
        exporter_address: address,
        consignee,
        transport,
        goods: from_json(&goods)?,
        producer,
        invoice,
        verification_code: code,
    })
}

fn seed_demo_data(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let seed = demo::seed();
    for (position, category) in seed.categories.iter().enumerate() {
        tx.execute(
            "INSERT INTO categories (id, position, name_json) VALUES (?1, ?2, ?3)",
            params![category.id, position as i64, to_json(&category.name)?],
        )?;
    }
    for (position, service) in seed.services.iter().enumerate() {
        tx.execute(
            "INSERT INTO services (id, position, category_id, kind, needs_card, name_json,
                                   description_json, opening_hours_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                service.id,
                position as i64,
                service.category,
                kind_text(service.kind)?,
                service.needs_card,
                to_json(&service.name)?,
                to_json(&service.description)?,
                to_json(&service.opening_hours)?,
            ],
        )?;
    }
    for r in &seed.residents {
        tx.execute(
            "INSERT INTO residents (card_number, id_number, name, gender, birth_date, address,
                                    household_head, relationship_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                r.card_number,
                r.id_number,
                r.name,
                gender_text(r.gender),
                r.birth_date,
                r.address,
                r.household_head,
                to_json(&r.relationship)?,
            ],
        )?;
    }
    for app in &seed.applications {
        insert_application(tx, app)?;
    }
    for origin in &seed.origins {
        tx.execute(
            "INSERT INTO origin_certificates (application_number, exporter_code, certificate_number,
                 summary_json, exporter_address, consignee, transport, goods_json, producer,
                 invoice, verification_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                origin.summary.application_number,
                origin.summary.exporter_code,
                origin.summary.certificate_number,
                to_json(&origin.summary)?,
                origin.exporter_address,
                origin.consignee,
                origin.transport,
                to_json(&origin.goods)?,
                origin.producer,
                origin.invoice,
                origin.verification_code,
            ],
        )?;
    }
    Ok(())
}

fn refresh_demo_data(tx: &Transaction<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
    for resident in demo::contribution_plans() {
        let present: Option<String> = tx
            .query_row(
                "SELECT id_number FROM residents WHERE card_number = ?1",
                params![resident.card_number],
                |r| r.get(0),
            )
            .optional()?;
        if present.as_deref() != Some(resident.id_number) {
            continue;
        }
        let newest: Option<String> = tx.query_row(
            "SELECT MAX(month) FROM contributions WHERE id_number = ?1",
            params![resident.id_number],
            |r| r.get(0),
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO contributions (id_number, month, employer, base_cents,
                                                  personal_cents, employer_cents)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for row in demo::contributions_to_add(&resident.plan, newest.as_deref(), now) {
            insert.execute(params![
                resident.id_number,
                row.month,
                row.employer,
                row.base_cents,
                row.personal_cents,
                row.employer_cents,
            ])?;
        }
    }
    let seed = demo::seed();
    for app in &seed.applications {
        tx.execute(
            "UPDATE applications SET applicant_id_number = ?2
             WHERE application_number = ?1 AND applicant_id_number IS NULL",
            params![app.application_number, app.applicant_id_number],
        )?;
    }
    for origin in &seed.origins {
        tx.execute(
            "UPDATE origin_certificates SET producer = COALESCE(producer, ?3),
                                            invoice = COALESCE(invoice, ?4),
                                            verification_code = COALESCE(verification_code, ?5)
             WHERE application_number = ?1 AND exporter_code = ?2",
            params![
                origin.summary.application_number,
                origin.summary.exporter_code,
                origin.producer,
                origin.invoice,
                origin.verification_code,
            ],
        )?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.inner.path.display())
    }

    fn sqlite_path(&self) -> Option<&Path> {
        Some(&self.inner.path)
    }

    async fn prepare_demo_data(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        self.write(move |tx| {
            let services: i64 = tx.query_row("SELECT COUNT(*) FROM services", [], |r| r.get(0))?;
            if services == 0 {
                seed_demo_data(tx)?;
            }
            refresh_demo_data(tx, now)
        })
        .await
    }

    async fn kiosk_token_sha256(&self, kiosk_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let id = kiosk_id.to_owned();
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT token_sha256 FROM kiosks WHERE kiosk_id = ?1")?
                    .query_row(params![id], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn admin_token_sha256(&self, admin_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let id = admin_id.to_owned();
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT token_sha256 FROM admins WHERE admin_id = ?1")?
                    .query_row(params![id], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn register_kiosk(
        &self,
        kiosk_id: &str,
        token_sha256: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.register_kiosks(&[(kiosk_id.to_owned(), token_sha256)], now)
            .await
    }

    async fn register_kiosks(
        &self,
        kiosks: &[(String, [u8; 32])],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let kiosks = kiosks.to_vec();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO kiosks (kiosk_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kiosk_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
            )?;
            for (id, hash) in &kiosks {
                stmt.execute(params![id, hash, time_text(now)])?;
            }
            Ok(())
        })
        .await
    }

    async fn register_admin(
        &self,
        admin_id: &str,
        token_sha256: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id = admin_id.to_owned();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO admins (admin_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (admin_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
                params![id, token_sha256, time_text(now)],
            )?;
            Ok(())
        })
        .await
    }

    async fn kiosk_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT kiosk_id FROM kiosks ORDER BY kiosk_id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
        .await
    }

    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, name_json FROM categories ORDER BY position")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, name)| {
                    Ok(Category {
                        id,
                        name: from_json(&name)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, category_id, kind, needs_card, name_json, description_json,
                        opening_hours_json
                 FROM services ORDER BY position",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((service_from_row(r)?, r.get::<_, bool>(3)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(texts, needs_card)| service_record(texts, needs_card))
                .collect()
        })
        .await
    }

    async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT id, category_id, kind, needs_card, name_json, description_json,
                            opening_hours_json
                     FROM services WHERE id = ?1",
                )?
                .query_row(params![id], |r| {
                    Ok((service_from_row(r)?, r.get::<_, bool>(3)?))
                })
                .optional()?;
            row.map(|(texts, needs_card)| service_record(texts, needs_card))
                .transpose()
        })
        .await
    }

    async fn resident(&self, card_number: &str) -> Result<Option<ResidentRow>, StoreError> {
        let card = card_number.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT card_number, id_number, name, gender, birth_date, address,
                            household_head, relationship_json
                     FROM residents WHERE card_number = ?1",
                )?
                .query_row(params![card], |r| {
                    Ok([
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ])
                })
                .optional()?;
            let Some(
                [
                    card_number,
                    id_number,
                    name,
                    gender,
                    birth,
                    address,
                    head,
                    relation,
                ],
            ) = row
            else {
                return Ok(None);
            };
            Ok(Some(ResidentRow {
                card_number,
                id_number,
                name,
                gender: gender_from_text(&gender),
                birth_date: birth,
                address,
                household_head: head,
                relationship: from_json(&relation)?,
            }))
        })
        .await
    }

    async fn has_contributions(&self, id_number: &str) -> Result<bool, StoreError> {
        let id = id_number.to_owned();
        self.read(move |c| {
            let found: Option<i64> = c
                .prepare_cached("SELECT 1 FROM contributions WHERE id_number = ?1 LIMIT 1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }

    async fn contributions(
        &self,
        id_number: &str,
        period: &Period,
    ) -> Result<Vec<ContributionRow>, StoreError> {
        let (id, from, to) = (id_number.to_owned(), period.from.clone(), period.to.clone());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT month, employer, base_cents, personal_cents, employer_cents
                 FROM contributions
                 WHERE id_number = ?1 AND month BETWEEN ?2 AND ?3 ORDER BY month",
            )?;
            let rows = stmt
                .query_map(params![id, from, to], |r| {
                    Ok(ContributionRow {
                        month: r.get(0)?,
                        employer: r.get(1)?,
                        base_cents: r.get(2)?,
                        personal_cents: r.get(3)?,
                        employer_cents: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn application(
        &self,
        application_number: &str,
    ) -> Result<Option<ApplicationRecord>, StoreError> {
        let number = application_number.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT application_number, service_name_json, status, submitted_on,
                            expected_completion, steps_json, missing_json, applicant_id_number
                     FROM applications WHERE application_number = ?1",
                )?
                .query_row(params![number], application_row)
                .optional()?;
            row.map(application_record).transpose()
        })
        .await
    }

    async fn applications_of(
        &self,
        id_number: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let id = id_number.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT application_number, service_name_json, status, submitted_on,
                        expected_completion, steps_json, missing_json, applicant_id_number
                 FROM applications WHERE applicant_id_number = ?1
                 ORDER BY submitted_on DESC, application_number DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![id, limit], application_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(application_record).collect()
        })
        .await
    }

    async fn origin(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<Option<OriginRecord>, StoreError> {
        let (number, exporter) = (application_number.to_owned(), exporter_code.to_owned());
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT summary_json, exporter_address, consignee, transport, goods_json,
                            COALESCE(producer, ''), COALESCE(invoice, ''), verification_code
                     FROM origin_certificates
                     WHERE application_number = ?1 AND exporter_code = ?2",
                )?
                .query_row(params![number, exporter], origin_row)
                .optional()?;
            row.map(origin_record).transpose()
        })
        .await
    }

    async fn origin_by_verification_code(
        &self,
        code: &str,
    ) -> Result<Option<OriginRecord>, StoreError> {
        let code = code.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT summary_json, exporter_address, consignee, transport, goods_json,
                            COALESCE(producer, ''), COALESCE(invoice, ''), verification_code
                     FROM origin_certificates WHERE verification_code = ?1",
                )?
                .query_row(params![code], origin_row)
                .optional()?;
            row.map(origin_record).transpose()
        })
        .await
    }

    async fn certificate_by_code(
        &self,
        code: &str,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        let code = code.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT certificate_id, verification_code, kiosk_id, idempotency_key,
                            service_id, card_number, id_number, locale, issued_at, signature,
                            qr_payload, document_json
                     FROM issued_certificates WHERE verification_code = ?1",
                )?
                .query_row(params![code], |r| {
                    Ok([
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ])
                })
                .optional()?;
            let Some(
                [
                    certificate_id,
                    verification_code,
                    kiosk_id,
                    idempotency_key,
                    service_id,
                    card_number,
                    id_number,
                    locale,
                    issued_at,
                    signature,
                    qr_payload,
                    document,
                ],
            ) = row
            else {
                return Ok(None);
            };
            Ok(Some(CertificateRecord {
                certificate_id,
                verification_code,
                kiosk_id,
                idempotency_key,
                service_id,
                card_number,
                id_number,
                locale: Locale::from_tag(&locale),
                issued_at: parse_rfc3339(&issued_at)?,
                signature,
                qr_payload,
                document: from_json(&document)?,
            }))
        })
        .await
    }

    async fn certificate_issuer(
        &self,
        certificate_id: &str,
    ) -> Result<Option<(String, OffsetDateTime)>, StoreError> {
        let id = certificate_id.to_owned();
        self.read(move |c| {
            let row: Option<(String, String)> = c
                .prepare_cached(
                    "SELECT kiosk_id, issued_at FROM issued_certificates WHERE certificate_id = ?1",
                )?
                .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            row.map(|(kiosk, at)| Ok((kiosk, parse_rfc3339(&at)?)))
                .transpose()
        })
        .await
    }

    async fn insert_phone_link(&self, link: &PhoneLinkRecord) -> Result<(), StoreError> {
        let (hash, certificate, kiosk, created, expires) = (
            link.token_sha256,
            link.certificate_id.clone(),
            link.kiosk_id.clone(),
            time_text(link.created_at),
            time_text(link.expires_at),
        );
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO phone_links (token_sha256, certificate_id, kiosk_id, created_at,
                                          expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, certificate, kiosk, created, expires],
            )?;
            Ok(())
        })
        .await
    }

    async fn phone_link(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<PhoneLinkTarget>, StoreError> {
        let hash = *token_sha256;
        self.read(move |c| {
            let row: Option<(String, String, String)> = c
                .prepare_cached(
                    "SELECT l.expires_at, c.document_json, c.locale
                     FROM phone_links l
                     JOIN issued_certificates c ON c.certificate_id = l.certificate_id
                     WHERE l.token_sha256 = ?1",
                )?
                .query_row(params![hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            row.map(|(expires_at, document, locale)| {
                Ok(PhoneLinkTarget {
                    expires_at: parse_rfc3339(&expires_at)?,
                    document: from_json(&document)?,
                    locale: Locale::from_tag(&locale),
                })
            })
            .transpose()
        })
        .await
    }

    async fn ledger_entry(
        &self,
        kiosk_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let (kiosk, key) = (kiosk_id.to_owned(), idempotency_key.to_owned());
        self.read(move |c| ledger_entry(c, &kiosk, &key)).await
    }

    async fn commit_write(
        &self,
        ledger: &NewLedgerEntry,
        effect: &WriteEffect,
    ) -> Result<Commit, StoreError> {
        let statements = EffectRows::of(effect)?;
        let (kiosk, key, endpoint, hash, response, created) = (
            ledger.kiosk_id.clone(),
            ledger.idempotency_key.clone(),
            ledger.endpoint,
            ledger.request_sha256,
            ledger.response_json.clone(),
            time_text(ledger.created_at),
        );
        self.write(move |tx| {
            // The single writer makes check-then-insert safe here.
            if let Some(previous) = ledger_entry(tx, &kiosk, &key)? {
                return Ok(Commit::AlreadyRecorded(previous));
            }
            statements.execute(tx)?;
            tx.execute(
                "INSERT INTO idempotency_keys
                 (kiosk_id, idempotency_key, endpoint, request_sha256, response_json, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![kiosk, key, endpoint, hash, response, created],
            )?;
            Ok(Commit::Committed)
        })
        .await
    }

    async fn next_receipt_sequence(&self, day: &str) -> Result<i64, StoreError> {
        let day = day.to_owned();
        self.write(move |tx| {
            Ok(tx.query_row(
                "INSERT INTO receipt_counters (day, last) VALUES (?1, 1)
                 ON CONFLICT (day) DO UPDATE SET last = last + 1
                 RETURNING last",
                params![day],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn prune_heartbeats(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let before = utc_text(before);
        self.write(move |tx| {
            Ok(tx.execute(
                "DELETE FROM heartbeats WHERE id IN (
                     SELECT h.id FROM heartbeats h
                     WHERE h.received_at < ?1
                       AND h.id < (SELECT MAX(n.id) FROM heartbeats n WHERE n.kiosk_id = h.kiosk_id)
                     LIMIT ?2)",
                params![before, limit],
            )? as u64)
        })
        .await
    }

    async fn record_heartbeats(
        &self,
        batch: &[HeartbeatRecord],
    ) -> Result<Vec<StoredHeartbeat>, StoreError> {
        let batch = batch.to_vec();
        self.write(move |tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO heartbeats (kiosk_id, idempotency_key, sent_at, received_at,
                     app_version, config_version, outbox_backlog, devices_json, request_sha256,
                     acked_config_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING",
            )?;
            let mut existing = tx.prepare_cached(
                "SELECT request_sha256, received_at, acked_config_version FROM heartbeats
                 WHERE kiosk_id = ?1 AND idempotency_key = ?2",
            )?;
            let mut stored = Vec::with_capacity(batch.len());
            for h in &batch {
                let inserted = insert.execute(params![
                    h.kiosk_id,
                    h.idempotency_key,
                    time_text(h.sent_at),
                    time_text(h.received_at),
                    h.app_version,
                    h.config_version,
                    h.outbox_backlog,
                    to_json(&h.devices)?,
                    h.request_sha256,
                    h.acked_config_version,
                ])?;
                if inserted == 1 {
                    stored.push(StoredHeartbeat {
                        request_sha256: h.request_sha256.to_vec(),
                        received_at: h.received_at,
                        acked_config_version: h.acked_config_version,
                    });
                } else {
                    let (hash, at, acked): (Option<Vec<u8>>, String, Option<i64>) = existing
                        .query_row(params![h.kiosk_id, h.idempotency_key], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })?;
                    stored.push(StoredHeartbeat {
                        request_sha256: hash.unwrap_or_default(),
                        received_at: parse_rfc3339(&at)?,
                        acked_config_version: acked,
                    });
                }
            }
            Ok(stored)
        })
        .await
    }

    async fn fleet(&self) -> Result<Vec<(String, Option<LastHeartbeat>)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT k.kiosk_id, h.sent_at, h.received_at, h.app_version, h.config_version,
                        h.outbox_backlog, h.devices_json
                 FROM kiosks k
                 LEFT JOIN heartbeats h
                   ON h.id = (SELECT MAX(id) FROM heartbeats WHERE kiosk_id = k.kiosk_id)
                 ORDER BY k.kiosk_id",
            )?;
            type Row = (
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<i64>,
                Option<i64>,
                Option<String>,
            );
            let rows = stmt
                .query_map([], |r| -> rusqlite::Result<Row> {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(kiosk, sent, received, app, config, backlog, devices)| {
                    let last = match (sent, received, app, backlog, devices) {
                        (Some(sent), Some(received), Some(app), Some(backlog), Some(devices)) => {
                            Some(LastHeartbeat {
                                sent_at: parse_rfc3339(&sent)?,
                                received_at: parse_rfc3339(&received)?,
                                app_version: app,
                                config_version: config.and_then(|v| u64::try_from(v).ok()),
                                outbox_backlog: u32::try_from(backlog).unwrap_or(u32::MAX),
                                devices: from_json(&devices)?,
                            })
                        }
                        _ => None,
                    };
                    Ok((kiosk, last))
                })
                .collect()
        })
        .await
    }

    async fn config_versions(&self) -> Result<ConfigVersions, StoreError> {
        self.read(|c| {
            let (published, default) = c
                .prepare_cached(
                    "SELECT (SELECT MAX(version) FROM published_bundles),
                            (SELECT MAX(version) FROM config_bundles)",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(ConfigVersions { published, default })
        })
        .await
    }

    async fn published_bundles(&self) -> Result<Vec<PublishedBundleRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT version, selector, payload, signature, key_id, expires_at,
                        published_by, published_at
                 FROM published_bundles ORDER BY version DESC",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        [
                            r.get::<_, String>(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                        ],
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(
                    |(version, [selector, payload, signature, key_id, expires, by, at])| {
                        Ok(PublishedBundleRecord {
                            version,
                            selector,
                            payload,
                            signature,
                            key_id,
                            expires_at: parse_rfc3339(&expires)?,
                            published_by: by,
                            published_at: parse_rfc3339(&at)?,
                        })
                    },
                )
                .collect()
        })
        .await
    }

    async fn publish_bundle(
        &self,
        bundle: &PublishedBundleRecord,
    ) -> Result<Result<(), PublishRefused>, StoreError> {
        let b = bundle.clone();
        self.write(move |tx| {
            let newest: Option<i64> =
                tx.query_row("SELECT MAX(version) FROM published_bundles", [], |r| {
                    r.get(0)
                })?;
            if let Some(newest) = newest
                && b.version <= newest
            {
                return Ok(Err(PublishRefused::NotNewer { newest }));
            }
            tx.execute(
                "INSERT INTO published_bundles (version, selector, payload, signature, key_id,
                     expires_at, published_by, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    b.version,
                    b.selector,
                    b.payload,
                    b.signature,
                    b.key_id,
                    time_text(b.expires_at),
                    b.published_by,
                    time_text(b.published_at),
                ],
            )?;
            Ok(Ok(()))
        })
        .await
    }

    async fn default_config(&self) -> Result<Option<DefaultConfigRecord>, StoreError> {
        self.read(|c| {
            let row: Option<(i64, String, String, String)> = c
                .prepare_cached(
                    "SELECT version, payload, signature, created_at FROM config_bundles
                     ORDER BY version DESC LIMIT 1",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            row.map(|(version, payload, signature, created)| {
                Ok(DefaultConfigRecord {
                    version,
                    payload,
                    signature,
                    created_at: parse_rfc3339(&created)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn create_enrollment_code(&self, code: &EnrollmentCodeRecord) -> Result<(), StoreError> {
        let (hash, kiosk, by, created, expires, keys) = (
            code.code_sha256,
            code.kiosk_id.clone(),
            code.created_by.clone(),
            utc_text(code.created_at),
            utc_text(code.expires_at),
            to_json(&code.config_keys)?,
        );
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO enrollment_codes (code_sha256, kiosk_id, created_by, created_at,
                                               expires_at, config_keys)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![hash, kiosk, by, created, expires, keys],
            )?;
            Ok(())
        })
        .await
    }

    async fn spend_identity_code(&self, spend: &IdentityCodeSpend) -> Result<bool, StoreError> {
        let (nonce, kiosk, key, used, expires) = (
            spend.nonce.to_vec(),
            spend.kiosk_id.clone(),
            spend.request_key.clone(),
            utc_text(spend.used_at),
            utc_text(spend.expires_at),
        );
        self.write(move |tx| {
            if tx.execute(
                "INSERT INTO identity_code_uses (nonce, kiosk_id, request_key, used_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (nonce) DO NOTHING",
                params![nonce, kiosk, key, used, expires],
            )? == 1
            {
                return Ok(true);
            }
            let replay: Option<bool> = tx
                .query_row(
                    "SELECT kiosk_id = ?2 AND request_key = ?3 FROM identity_code_uses
                     WHERE nonce = ?1",
                    params![nonce, kiosk, key],
                    |r| r.get::<_, Option<bool>>(0),
                )
                .optional()?
                .flatten();
            Ok(replay == Some(true))
        })
        .await
    }

    async fn prune_identity_code_uses(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let before = utc_text(before);
        self.write(move |tx| {
            Ok(tx.execute(
                "DELETE FROM identity_code_uses WHERE expires_at < ?1",
                params![before],
            )? as u64)
        })
        .await
    }

    async fn redeem_enrollment_code(
        &self,
        code_sha256: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<Redeemed, StoreError> {
        let (hash, now) = (*code_sha256, utc_text(now));
        let (used, found) = self
            .write(move |tx| {
                let used: Option<(String, String)> = tx
                    .query_row(
                        "UPDATE enrollment_codes SET used_at = ?2
                         WHERE code_sha256 = ?1 AND used_at IS NULL AND expires_at > ?2
                         RETURNING kiosk_id, config_keys",
                        params![hash, now],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let found: Option<bool> = match used {
                    Some(_) => None,
                    None => tx
                        .query_row(
                            "SELECT used_at IS NOT NULL FROM enrollment_codes WHERE code_sha256 = ?1",
                            params![hash],
                            |r| r.get(0),
                        )
                        .optional()?,
                };
                Ok((used, found))
            })
            .await?;
        Ok(match (used, found) {
            (Some((kiosk_id, keys)), _) => Redeemed::Enrolled {
                kiosk_id,
                config_keys: from_json(&keys)?,
            },
            (None, Some(true)) => Redeemed::AlreadyUsed,
            (None, Some(false)) => Redeemed::Expired,
            (None, None) => Redeemed::Unknown,
        })
    }

    async fn insert_default_config(&self, bundle: &DefaultConfigRecord) -> Result<(), StoreError> {
        let b = bundle.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO config_bundles (version, payload, signature, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (version) DO NOTHING",
                params![b.version, b.payload, b.signature, time_text(b.created_at)],
            )?;
            Ok(())
        })
        .await
    }
}

/// Whole seconds in UTC, so that stored times compare as text.
fn utc_text(t: OffsetDateTime) -> String {
    rfc3339(
        t.to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(t),
    )
}

fn ledger_entry(c: &Connection, kiosk: &str, key: &str) -> Result<Option<LedgerEntry>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT endpoint, request_sha256, response_json FROM idempotency_keys
         WHERE kiosk_id = ?1 AND idempotency_key = ?2",
    )?
    .query_row(params![kiosk, key], |r| {
        Ok(LedgerEntry {
            endpoint: r.get(0)?,
            request_sha256: r.get(1)?,
            response_json: r.get(2)?,
        })
    })
    .optional()?)
}

/// The rows a keyed write adds, owned so that they can move to the writer thread.
enum EffectRows {
    Certificate([String; 12]),
    Submission([String; 9], ApplicationRecord),
    Rating([Option<String>; 8]),
}

impl EffectRows {
    fn of(effect: &WriteEffect) -> Result<EffectRows, StoreError> {
        Ok(match effect {
            WriteEffect::Certificate(c) => EffectRows::Certificate([
                c.certificate_id.clone(),
                c.verification_code.clone(),
                c.kiosk_id.clone(),
                c.idempotency_key.clone(),
                c.service_id.clone(),
                c.card_number.clone(),
                c.id_number.clone(),
                c.locale.as_str().to_owned(),
                time_text(c.issued_at),
                c.signature.clone(),
                c.qr_payload.clone(),
                to_json(&c.document)?,
            ]),
            WriteEffect::Submission(s) => EffectRows::Submission(
                [
                    s.receipt_number.clone(),
                    s.kiosk_id.clone(),
                    s.idempotency_key.clone(),
                    s.service_id.clone(),
                    s.card_number.clone(),
                    s.id_number.clone(),
                    s.applicant_name.clone(),
                    to_json(&s.fields)?,
                    time_text(s.received_at),
                ],
                s.application.clone(),
            ),
            WriteEffect::Rating(r) => EffectRows::Rating([
                Some(r.rating_id.clone()),
                Some(r.kiosk_id.clone()),
                Some(r.idempotency_key.clone()),
                Some(r.service_id.clone()),
                r.certificate_id.clone(),
                Some(r.score.clone()),
                Some(to_json(&r.reasons)?),
                Some(time_text(r.received_at)),
            ]),
        })
    }

    fn execute(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        match self {
            EffectRows::Certificate(values) => {
                tx.execute(
                    "INSERT INTO issued_certificates (certificate_id, verification_code, kiosk_id,
                         idempotency_key, service_id, card_number, id_number, locale, issued_at,
                         signature, qr_payload, document_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    rusqlite::params_from_iter(values.iter()),
                )?;
            }
            EffectRows::Submission(values, application) => {
                tx.execute(
                    "INSERT INTO submissions (receipt_number, kiosk_id, idempotency_key,
                         service_id, card_number, id_number, applicant_name, fields_json,
                         received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    rusqlite::params_from_iter(values.iter()),
                )?;
                insert_application(tx, application)?;
            }
            EffectRows::Rating(values) => {
                tx.execute(
                    "INSERT INTO ratings (rating_id, kiosk_id, idempotency_key, service_id,
                         certificate_id, score, reasons_json, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    rusqlite::params_from_iter(values.iter()),
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }
}
