//! The PostgreSQL store: any number of stateless replicas share one server.
//!
//! `tokio-postgres` with a `deadpool-postgres` pool; statements are prepared
//! once per connection (`prepare_cached`). Correctness across replicas rests on
//! the database, never on process memory: keyed writes insert their ledger
//! row first (`ON CONFLICT DO NOTHING`), so of two replicas racing with one key
//! exactly one commits; receipt numbers come from an upserted counter;
//! publishing and migrations take advisory locks.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use time::OffsetDateTime;
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::demo;
use super::migrate::{Dump, Kind, Value};
use super::model::*;
use crate::server::error::StoreError;
use crate::wire::{Category, LastHeartbeat, Locale, Period};

/// Ordered migrations; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "identity_codes",
        include_str!("../../../migrations/postgres/0002_identity_codes.sql"),
    ),
];

/// Advisory lock ids (arbitrary constants of this service).
const MIGRATION_LOCK: i64 = 0x6573_7461_0001;
const SEED_LOCK: i64 = 0x6573_7461_0002;
const PUBLISH_LOCK: i64 = 0x6573_7461_0003;

pub struct PgStore {
    pool: Pool,
    describe: String,
}

type Param<'a> = &'a (dyn ToSql + Sync);

impl PgStore {
    /// Connects, and migrates the schema to the newest version.
    pub async fn open(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let store = Self::connect(url, pool_size)?;
        store.migrate().await?;
        Ok(store)
    }

    /// A pool; no connection is made until first use.
    pub fn connect(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
        let describe = describe_config(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Config(format!("PostgreSQL pool: {e}")))?;
        Ok(PgStore { pool, describe })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Applies the migrations not applied yet, under an advisory lock so that
    /// replicas starting together migrate once. Answers the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version     integer PRIMARY KEY,
                 name        text NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let applied: HashSet<i32> = tx
            .query("SELECT version FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut now_applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            now_applied.push(*version);
        }
        tx.commit().await?;
        Ok(now_applied)
    }

    /// The newest schema version this build knows, and the one the database has.
    pub async fn schema_versions(&self) -> Result<(i32, Option<i32>), StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT MAX(version) FROM schema_migrations", &[])
            .await?;
        Ok((MIGRATIONS.last().map_or(0, |m| m.0), row.get(0)))
    }

    /// Writes a SQLite store's rows into this (migrated, empty) database, in one
    /// transaction. Refuses a database that already holds data.
    pub async fn import(&self, dump: &Dump) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let occupied: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM services) OR EXISTS (SELECT 1 FROM kiosks)",
                &[],
            )
            .await?
            .get(0);
        if occupied {
            return Err(StoreError::Config(
                "the PostgreSQL database already holds data; migrate into an empty one".into(),
            ));
        }
        for (spec, rows) in &dump.tables {
            let stmt = tx.prepare(spec.insert).await?;
            for row in rows {
                let params: Vec<Box<dyn ToSql + Sync + Send>> = row
                    .iter()
                    .zip(spec.kinds)
                    .map(|(v, k)| to_param(v, *k))
                    .collect();
                let refs: Vec<Param<'_>> = params.iter().map(|p| p.as_ref() as Param<'_>).collect();
                tx.execute(&stmt, &refs).await?;
            }
        }
        tx.execute(
            "SELECT setval(pg_get_serial_sequence('heartbeats', 'id'),
                           COALESCE((SELECT MAX(id) FROM heartbeats), 0) + 1, false)",
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows per table, in the order of the copy.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let client = self.client().await?;
        // One count per copied table, in the same order as the copy.
        let counts: Vec<String> = super::migrate::TABLES
            .iter()
            .map(|spec| format!("(SELECT COUNT(*) FROM {})", spec.name))
            .collect();
        let row = client
            .query_one(&format!("SELECT {}", counts.join(", ")), &[])
            .await?;
        super::migrate::TABLES
            .iter()
            .enumerate()
            .map(|(i, spec)| Ok((spec.name, row.try_get::<_, i64>(i)?)))
            .collect()
    }
}

fn describe_config(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or_default(),
        config.get_dbname().unwrap_or_default()
    )
}

fn to_param(value: &Value, kind: Kind) -> Box<dyn ToSql + Sync + Send> {
    match (value, kind) {
        (Value::Null, Kind::Text) => Box::new(None::<String>),
        (Value::Null, Kind::Int) => Box::new(None::<i64>),
        (Value::Null, Kind::Bool) => Box::new(None::<bool>),
        (Value::Null, Kind::Bytes) => Box::new(None::<Vec<u8>>),
        (Value::Null, Kind::Time) => Box::new(None::<OffsetDateTime>),
        (Value::Text(t), _) => Box::new(t.clone()),
        (Value::Int(i), _) => Box::new(*i),
        (Value::Bool(b), _) => Box::new(*b),
        (Value::Bytes(b), _) => Box::new(b.clone()),
        (Value::Time(t), _) => Box::new(*t),
    }
}

fn application_record(r: &tokio_postgres::Row) -> Result<ApplicationRecord, StoreError> {
    Ok(ApplicationRecord {
        application_number: r.get(0),
        service_name: from_json(r.get(1))?,
        status: from_json(r.get(2))?,
        submitted_on: r.get(3),
        expected_completion: r.get(4),
        steps: from_json(r.get(5))?,
        missing: from_json(r.get(6))?,
        applicant_id_number: r.get(7),
    })
}

fn origin_record(r: &tokio_postgres::Row) -> Result<OriginRecord, StoreError> {
    Ok(OriginRecord {
        summary: from_json(r.get(0))?,
        exporter_address: r.get(1),
        consignee: r.get(2),
        transport: r.get(3),
        goods: from_json(r.get(4))?,
        producer: r.get(5),
        invoice: r.get(6),
        verification_code: r.get(7),
    })
}

fn service_record(r: &tokio_postgres::Row) -> Result<ServiceRecord, StoreError> {
    Ok(ServiceRecord {
        id: r.get(0),
        category: r.get(1),
        kind: kind_from_text(r.get(2))?,
        needs_card: r.get(3),
        name: from_json(r.get(4))?,
        description: from_json(r.get(5))?,
        opening_hours: from_json(r.get(6))?,
    })
}

fn gender_text(gender: crate::wire::Gender) -> &'static str {
    match gender {
        crate::wire::Gender::Female => "F",
        crate::wire::Gender::Male => "M",
    }
}

async fn insert_application(
    tx: &deadpool_postgres::Transaction<'_>,
    app: &ApplicationRecord,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO applications (application_number, service_name_json, status,
                 submitted_on, expected_completion, steps_json, missing_json, applicant_id_number)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &app.application_number,
            &to_json(&app.service_name)?,
            &to_json(&app.status)?,
            &app.submitted_on,
            &app.expected_completion,
            &to_json(&app.steps)?,
            &to_json(&app.missing)?,
            &app.applicant_id_number,
        ],
    )
    .await?;
    Ok(())
}

async fn seed_demo_data(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
    let seed = demo::seed();
    for (position, category) in seed.categories.iter().enumerate() {
        tx.execute(
            "INSERT INTO categories (id, position, name_json) VALUES ($1, $2, $3)",
            &[&category.id, &(position as i64), &to_json(&category.name)?],
        )
        .await?;
    }
    for (position, s) in seed.services.iter().enumerate() {
        tx.execute(
            "INSERT INTO services (id, position, category_id, kind, needs_card, name_json,
                                   description_json, opening_hours_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &s.id,
                &(position as i64),
                &s.category,
                &kind_text(s.kind)?,
                &s.needs_card,
                &to_json(&s.name)?,
                &to_json(&s.description)?,
                &to_json(&s.opening_hours)?,
            ],
        )
        .await?;
    }
    for r in &seed.residents {
        tx.execute(
            "INSERT INTO residents (card_number, id_number, name, gender, birth_date, address,
                                    household_head, relationship_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &r.card_number,
                &r.id_number,
                &r.name,
                &gender_text(r.gender),
                &r.birth_date,
                &r.address,
                &r.household_head,
                &to_json(&r.relationship)?,
            ],
        )
        .await?;
    }
    for app in &seed.applications {
        insert_application(tx, app).await?;
    }
    for o in &seed.origins {
        tx.execute(
            "INSERT INTO origin_certificates (application_number, exporter_code,
                 certificate_number, summary_json, exporter_address, consignee, transport,
                 goods_json, producer, invoice, verification_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &o.summary.application_number,
                &o.summary.exporter_code,
                &o.summary.certificate_number,
                &to_json(&o.summary)?,
                &o.exporter_address,
                &o.consignee,
                &o.transport,
                &to_json(&o.goods)?,
                &o.producer,
                &o.invoice,
                &o.verification_code,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn refresh_demo_data(
    tx: &deadpool_postgres::Transaction<'_>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for resident in demo::contribution_plans() {
        let present: Option<String> = tx
            .query_opt(
                "SELECT id_number FROM residents WHERE card_number = $1",
                &[&resident.card_number],
            )
            .await?
            .map(|r| r.get(0));
        if present.as_deref() != Some(resident.id_number) {
            continue;
        }
        let newest: Option<String> = tx
            .query_one(
                "SELECT MAX(month) FROM contributions WHERE id_number = $1",
                &[&resident.id_number],
            )
            .await?
            .get(0);
        let insert = tx
            .prepare(
                "INSERT INTO contributions (id_number, month, employer, base_cents,
                                            personal_cents, employer_cents)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .await?;
        for row in demo::contributions_to_add(&resident.plan, newest.as_deref(), now) {
            tx.execute(
                &insert,
                &[
                    &resident.id_number,
                    &row.month,
                    &row.employer,
                    &row.base_cents,
                    &row.personal_cents,
                    &row.employer_cents,
                ],
            )
            .await?;
        }
    }
    let seed = demo::seed();
    for o in &seed.origins {
        tx.execute(
            "UPDATE origin_certificates
             SET producer = COALESCE(producer, $3), invoice = COALESCE(invoice, $4),
                 verification_code = COALESCE(verification_code, $5)
             WHERE application_number = $1 AND exporter_code = $2",
            &[
                &o.summary.application_number,
                &o.summary.exporter_code,
                &o.producer,
                &o.invoice,
                &o.verification_code,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn ledger_entry(
    client: &deadpool_postgres::ClientWrapper,
    kiosk: &str,
    key: &str,
) -> Result<Option<LedgerEntry>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT endpoint, request_sha256, response_json FROM idempotency_keys
             WHERE kiosk_id = $1 AND idempotency_key = $2",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&kiosk, &key])
        .await?
        .map(|r| LedgerEntry {
            endpoint: r.get(0),
            request_sha256: r.get(1),
            response_json: r.get(2),
        }))
}

#[async_trait]
impl Store for PgStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn prepare_demo_data(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEED_LOCK])
            .await?;
        let services: i64 = tx
            .query_one("SELECT COUNT(*) FROM services", &[])
            .await?
            .get(0);
        if services == 0 {
            seed_demo_data(&tx).await?;
        }
        refresh_demo_data(&tx, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn kiosk_token_sha256(&self, kiosk_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT token_sha256 FROM kiosks WHERE kiosk_id = $1")
            .await?;
        Ok(client
            .query_opt(&stmt, &[&kiosk_id])
            .await?
            .map(|r| r.get(0)))
    }

    async fn admin_token_sha256(&self, admin_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT token_sha256 FROM admins WHERE admin_id = $1")
            .await?;
        Ok(client
            .query_opt(&stmt, &[&admin_id])
            .await?
            .map(|r| r.get(0)))
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
        // The last token given for an id wins, as with one call per kiosk.
        let mut unique: HashMap<&str, &[u8; 32]> = HashMap::new();
        for (id, hash) in kiosks {
            unique.insert(id, hash);
        }
        let ids: Vec<&str> = unique.keys().copied().collect();
        let hashes: Vec<&[u8]> = ids.iter().map(|id| &unique[id][..]).collect();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO kiosks (kiosk_id, token_sha256, created_at)
                 SELECT id, hash, $3 FROM UNNEST($1::text[], $2::bytea[]) AS t (id, hash)
                 ON CONFLICT (kiosk_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
                &[&ids, &hashes, &now],
            )
            .await?;
        Ok(())
    }

    async fn register_admin(
        &self,
        admin_id: &str,
        token_sha256: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO admins (admin_id, token_sha256, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (admin_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
                &[&admin_id, &&token_sha256[..], &now],
            )
            .await?;
        Ok(())
    }

    async fn kiosk_ids(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT kiosk_id FROM kiosks ORDER BY kiosk_id")
            .await?;
        Ok(client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT id, name_json FROM categories ORDER BY position")
            .await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(Category {
                    id: r.get(0),
                    name: from_json(r.get(1))?,
                })
            })
            .collect()
    }

    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, category_id, kind, needs_card, name_json, description_json,
                        opening_hours_json
                 FROM services ORDER BY position",
            )
            .await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(service_record)
            .collect()
    }

    async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, category_id, kind, needs_card, name_json, description_json,
                        opening_hours_json
                 FROM services WHERE id = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .as_ref()
            .map(service_record)
            .transpose()
    }

    async fn resident(&self, card_number: &str) -> Result<Option<ResidentRow>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT card_number, id_number, name, gender, birth_date, address,
                        household_head, relationship_json
                 FROM residents WHERE card_number = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&card_number])
            .await?
            .map(|r| {
                Ok(ResidentRow {
                    card_number: r.get(0),
                    id_number: r.get(1),
                    name: r.get(2),
                    gender: gender_from_text(r.get(3)),
                    birth_date: r.get(4),
                    address: r.get(5),
                    household_head: r.get(6),
                    relationship: from_json(r.get(7))?,
                })
            })
            .transpose()
    }

    async fn has_contributions(&self, id_number: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT 1 FROM contributions WHERE id_number = $1 LIMIT 1")
            .await?;
        Ok(client.query_opt(&stmt, &[&id_number]).await?.is_some())
    }

    async fn contributions(
        &self,
        id_number: &str,
        period: &Period,
    ) -> Result<Vec<ContributionRow>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT month, employer, base_cents, personal_cents, employer_cents
                 FROM contributions
                 WHERE id_number = $1 AND month BETWEEN $2 AND $3 ORDER BY month",
            )
            .await?;
        Ok(client
            .query(&stmt, &[&id_number, &period.from, &period.to])
            .await?
            .iter()
            .map(|r| ContributionRow {
                month: r.get(0),
                employer: r.get(1),
                base_cents: r.get(2),
                personal_cents: r.get(3),
                employer_cents: r.get(4),
            })
            .collect())
    }

    async fn application(
        &self,
        application_number: &str,
    ) -> Result<Option<ApplicationRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT application_number, service_name_json, status, submitted_on,
                        expected_completion, steps_json, missing_json, applicant_id_number
                 FROM applications WHERE application_number = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&application_number])
            .await?
            .as_ref()
            .map(application_record)
            .transpose()
    }

    async fn applications_of(
        &self,
        id_number: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT application_number, service_name_json, status, submitted_on,
                        expected_completion, steps_json, missing_json, applicant_id_number
                 FROM applications WHERE applicant_id_number = $1
                 ORDER BY submitted_on DESC, application_number DESC LIMIT $2",
            )
            .await?;
        client
            .query(&stmt, &[&id_number, &limit])
            .await?
            .iter()
            .map(application_record)
            .collect()
    }

    async fn origin(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<Option<OriginRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT summary_json, exporter_address, consignee, transport, goods_json,
                        COALESCE(producer, ''), COALESCE(invoice, ''), verification_code
                 FROM origin_certificates
                 WHERE application_number = $1 AND exporter_code = $2",
            )
            .await?;
        client
            .query_opt(&stmt, &[&application_number, &exporter_code])
            .await?
            .as_ref()
            .map(origin_record)
            .transpose()
    }

    async fn origin_by_verification_code(
        &self,
        code: &str,
    ) -> Result<Option<OriginRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT summary_json, exporter_address, consignee, transport, goods_json,
                        COALESCE(producer, ''), COALESCE(invoice, ''), verification_code
                 FROM origin_certificates WHERE verification_code = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&code])
            .await?
            .as_ref()
            .map(origin_record)
            .transpose()
    }

    async fn certificate_by_code(
        &self,
        code: &str,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT certificate_id, verification_code, kiosk_id, idempotency_key, service_id,
                        card_number, id_number, locale, issued_at, signature, qr_payload,
                        document_json
                 FROM issued_certificates WHERE verification_code = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&code])
            .await?
            .map(|r| {
                Ok(CertificateRecord {
                    certificate_id: r.get(0),
                    verification_code: r.get(1),
                    kiosk_id: r.get(2),
                    idempotency_key: r.get(3),
                    service_id: r.get(4),
                    card_number: r.get(5),
                    id_number: r.get(6),
                    locale: Locale::from_tag(r.get(7)),
                    issued_at: r.get(8),
                    signature: r.get(9),
                    qr_payload: r.get(10),
                    document: from_json(r.get(11))?,
                })
            })
            .transpose()
    }

    async fn certificate_issuer(
        &self,
        certificate_id: &str,
    ) -> Result<Option<(String, OffsetDateTime)>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT kiosk_id, issued_at FROM issued_certificates WHERE certificate_id = $1",
            )
            .await?;
        Ok(client
            .query_opt(&stmt, &[&certificate_id])
            .await?
            .map(|r| (r.get(0), r.get(1))))
    }

    async fn insert_phone_link(&self, link: &PhoneLinkRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO phone_links (token_sha256, certificate_id, kiosk_id, created_at,
                                          expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &&link.token_sha256[..],
                    &link.certificate_id,
                    &link.kiosk_id,
                    &link.created_at,
                    &link.expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn phone_link(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<PhoneLinkTarget>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT l.expires_at, c.document_json, c.locale
                 FROM phone_links l
                 JOIN issued_certificates c ON c.certificate_id = l.certificate_id
                 WHERE l.token_sha256 = $1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&&token_sha256[..]])
            .await?
            .map(|r| {
                Ok(PhoneLinkTarget {
                    expires_at: r.get(0),
                    document: from_json(r.get(1))?,
                    locale: Locale::from_tag(r.get(2)),
                })
            })
            .transpose()
    }

    async fn ledger_entry(
        &self,
        kiosk_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let client = self.client().await?;
        ledger_entry(&client, kiosk_id, idempotency_key).await
    }

    async fn commit_write(
        &self,
        ledger: &NewLedgerEntry,
        effect: &WriteEffect,
    ) -> Result<Commit, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The ledger row first: a concurrent attempt with the same key (another
        // replica) waits here until this transaction ends, then finds the row.
        let claimed = tx
            .execute(
                "INSERT INTO idempotency_keys (kiosk_id, idempotency_key, endpoint,
                     request_sha256, response_json, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING",
                &[
                    &ledger.kiosk_id,
                    &ledger.idempotency_key,
                    &ledger.endpoint,
                    &&ledger.request_sha256[..],
                    &ledger.response_json,
                    &ledger.created_at,
                ],
            )
            .await?;
        if claimed == 0 {
            tx.rollback().await?;
            return match ledger_entry(&client, &ledger.kiosk_id, &ledger.idempotency_key).await? {
                Some(previous) => Ok(Commit::AlreadyRecorded(previous)),
                None => Err(StoreError::Corrupt(
                    "idempotency key conflicted but has no entry".into(),
                )),
            };
        }
        match effect {
            WriteEffect::Certificate(c) => {
                tx.execute(
                    "INSERT INTO issued_certificates (certificate_id, verification_code, kiosk_id,
                         idempotency_key, service_id, card_number, id_number, locale, issued_at,
                         signature, qr_payload, document_json)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        &c.certificate_id,
                        &c.verification_code,
                        &c.kiosk_id,
                        &c.idempotency_key,
                        &c.service_id,
                        &c.card_number,
                        &c.id_number,
                        &c.locale.as_str(),
                        &c.issued_at,
                        &c.signature,
                        &c.qr_payload,
                        &to_json(&c.document)?,
                    ],
                )
                .await?;
            }
            WriteEffect::Submission(s) => {
                tx.execute(
                    "INSERT INTO submissions (receipt_number, kiosk_id, idempotency_key,
                         service_id, card_number, id_number, applicant_name, fields_json,
                         received_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &s.receipt_number,
                        &s.kiosk_id,
                        &s.idempotency_key,
                        &s.service_id,
                        &s.card_number,
                        &s.id_number,
                        &s.applicant_name,
                        &to_json(&s.fields)?,
                        &s.received_at,
                    ],
                )
                .await?;
                insert_application(&tx, &s.application).await?;
            }
            WriteEffect::Rating(r) => {
                tx.execute(
                    "INSERT INTO ratings (rating_id, kiosk_id, idempotency_key, service_id,
                         certificate_id, score, reasons_json, received_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &r.rating_id,
                        &r.kiosk_id,
                        &r.idempotency_key,
                        &r.service_id,
                        &r.certificate_id,
                        &r.score,
                        &to_json(&r.reasons)?,
                        &r.received_at,
                    ],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Commit::Committed)
    }

    async fn next_receipt_sequence(&self, day: &str) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO receipt_counters (day, last) VALUES ($1, 1)
                 ON CONFLICT (day) DO UPDATE SET last = receipt_counters.last + 1
                 RETURNING last",
            )
            .await?;
        Ok(client.query_one(&stmt, &[&day]).await?.get(0))
    }

    async fn record_heartbeats(
        &self,
        batch: &[HeartbeatRecord],
    ) -> Result<Vec<StoredHeartbeat>, StoreError> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        let kiosks: Vec<&str> = batch.iter().map(|h| h.kiosk_id.as_str()).collect();
        let keys: Vec<&str> = batch.iter().map(|h| h.idempotency_key.as_str()).collect();
        let sent: Vec<OffsetDateTime> = batch.iter().map(|h| h.sent_at).collect();
        let received: Vec<OffsetDateTime> = batch.iter().map(|h| h.received_at).collect();
        let versions: Vec<&str> = batch.iter().map(|h| h.app_version.as_str()).collect();
        let configs: Vec<Option<i64>> = batch.iter().map(|h| h.config_version).collect();
        let backlogs: Vec<i64> = batch.iter().map(|h| h.outbox_backlog).collect();
        let devices = batch
            .iter()
            .map(|h| to_json(&h.devices))
            .collect::<Result<Vec<_>, _>>()?;
        let hashes: Vec<&[u8]> = batch.iter().map(|h| &h.request_sha256[..]).collect();
        let acked: Vec<Option<i64>> = batch.iter().map(|h| h.acked_config_version).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One statement for the whole batch; a key seen before keeps its first row.
        let insert = tx
            .prepare_cached(
                "INSERT INTO heartbeats (kiosk_id, idempotency_key, sent_at, received_at,
                     app_version, config_version, outbox_backlog, devices_json, request_sha256,
                     acked_config_version)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[],
                     $4::timestamptz[], $5::text[], $6::bigint[], $7::bigint[], $8::text[],
                     $9::bytea[], $10::bigint[])
                 ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING
                 RETURNING kiosk_id, idempotency_key",
            )
            .await?;
        let inserted: HashSet<(String, String)> = tx
            .query(
                &insert,
                &[
                    &kiosks, &keys, &sent, &received, &versions, &configs, &backlogs, &devices,
                    &hashes, &acked,
                ],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut own: HashSet<(&str, &str)> = HashSet::new();
        let mut missing: Vec<usize> = Vec::new();
        for (i, h) in batch.iter().enumerate() {
            let id = (h.kiosk_id.as_str(), h.idempotency_key.as_str());
            let fresh = inserted.contains(&(h.kiosk_id.clone(), h.idempotency_key.clone()));
            if !(fresh && own.insert(id)) {
                missing.push(i);
            }
        }
        let mut earlier: HashMap<(String, String), StoredHeartbeat> = HashMap::new();
        if !missing.is_empty() {
            let kiosks: Vec<&str> = missing.iter().map(|&i| kiosks[i]).collect();
            let keys: Vec<&str> = missing.iter().map(|&i| keys[i]).collect();
            let rows = tx
                .query(
                    "SELECT h.kiosk_id, h.idempotency_key, h.request_sha256, h.received_at,
                            h.acked_config_version
                     FROM heartbeats h
                     JOIN UNNEST($1::text[], $2::text[]) AS k (kiosk_id, idempotency_key)
                       ON h.kiosk_id = k.kiosk_id AND h.idempotency_key = k.idempotency_key",
                    &[&kiosks, &keys],
                )
                .await?;
            for r in rows {
                earlier.insert(
                    (r.get(0), r.get(1)),
                    StoredHeartbeat {
                        request_sha256: r.get::<_, Option<Vec<u8>>>(2).unwrap_or_default(),
                        received_at: r.get(3),
                        acked_config_version: r.get(4),
                    },
                );
            }
        }
        tx.commit().await?;
        let missing: HashSet<usize> = missing.into_iter().collect();
        batch
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if missing.contains(&i) {
                    earlier
                        .get(&(h.kiosk_id.clone(), h.idempotency_key.clone()))
                        .cloned()
                        .ok_or_else(|| StoreError::Corrupt("heartbeat vanished".into()))
                } else {
                    Ok(StoredHeartbeat {
                        request_sha256: h.request_sha256.to_vec(),
                        received_at: h.received_at,
                        acked_config_version: h.acked_config_version,
                    })
                }
            })
            .collect()
    }

    async fn prune_heartbeats(
        &self,
        before: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM heartbeats WHERE id IN (
                     SELECT h.id FROM heartbeats h
                     WHERE h.received_at < $1
                       AND h.id < (SELECT MAX(n.id) FROM heartbeats n WHERE n.kiosk_id = h.kiosk_id)
                     LIMIT $2)",
                &[&before, &limit],
            )
            .await?)
    }

    async fn fleet(&self) -> Result<Vec<(String, Option<LastHeartbeat>)>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT k.kiosk_id, h.sent_at, h.received_at, h.app_version, h.config_version,
                        h.outbox_backlog, h.devices_json
                 FROM kiosks k
                 LEFT JOIN LATERAL (
                     SELECT sent_at, received_at, app_version, config_version, outbox_backlog,
                            devices_json
                     FROM heartbeats WHERE kiosk_id = k.kiosk_id ORDER BY id DESC LIMIT 1
                 ) h ON true
                 ORDER BY k.kiosk_id",
            )
            .await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|r| {
                let received: Option<OffsetDateTime> = r.get(2);
                let last = match received {
                    Some(received_at) => Some(LastHeartbeat {
                        sent_at: r.get(1),
                        received_at,
                        app_version: r.get(3),
                        config_version: r
                            .get::<_, Option<i64>>(4)
                            .and_then(|v| u64::try_from(v).ok()),
                        outbox_backlog: u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX),
                        devices: from_json(r.get(6))?,
                    }),
                    None => None,
                };
                Ok((r.get(0), last))
            })
            .collect()
    }

    async fn config_versions(&self) -> Result<ConfigVersions, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT (SELECT MAX(version) FROM published_bundles),
                        (SELECT MAX(version) FROM config_bundles)",
            )
            .await?;
        let row = client.query_one(&stmt, &[]).await?;
        Ok(ConfigVersions {
            published: row.get(0),
            default: row.get(1),
        })
    }

    async fn published_bundles(&self) -> Result<Vec<PublishedBundleRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT version, selector, payload, signature, key_id, expires_at, published_by,
                        published_at
                 FROM published_bundles ORDER BY version DESC",
            )
            .await?;
        Ok(client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|r| PublishedBundleRecord {
                version: r.get(0),
                selector: r.get(1),
                payload: r.get(2),
                signature: r.get(3),
                key_id: r.get(4),
                expires_at: r.get(5),
                published_by: r.get(6),
                published_at: r.get(7),
            })
            .collect())
    }

    async fn publish_bundle(
        &self,
        b: &PublishedBundleRecord,
    ) -> Result<Result<(), PublishRefused>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PUBLISH_LOCK])
            .await?;
        let newest: Option<i64> = tx
            .query_one("SELECT MAX(version) FROM published_bundles", &[])
            .await?
            .get(0);
        if let Some(newest) = newest
            && b.version <= newest
        {
            return Ok(Err(PublishRefused::NotNewer { newest }));
        }
        tx.execute(
            "INSERT INTO published_bundles (version, selector, payload, signature, key_id,
                 expires_at, published_by, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &b.version,
                &b.selector,
                &b.payload,
                &b.signature,
                &b.key_id,
                &b.expires_at,
                &b.published_by,
                &b.published_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn default_config(&self) -> Result<Option<DefaultConfigRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT version, payload, signature, created_at FROM config_bundles
                 ORDER BY version DESC LIMIT 1",
                &[],
            )
            .await?
            .map(|r| DefaultConfigRecord {
                version: r.get(0),
                payload: r.get(1),
                signature: r.get(2),
                created_at: r.get(3),
            }))
    }

    async fn insert_default_config(&self, b: &DefaultConfigRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO config_bundles (version, payload, signature, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING",
                &[&b.version, &b.payload, &b.signature, &b.created_at],
            )
            .await?;
        Ok(())
    }

    async fn create_enrollment_code(&self, code: &EnrollmentCodeRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO enrollment_codes (code_sha256, kiosk_id, created_by, created_at,
                                               expires_at, config_keys)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &&code.code_sha256[..],
                    &code.kiosk_id,
                    &code.created_by,
                    &code.created_at,
                    &code.expires_at,
                    &to_json(&code.config_keys)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn spend_identity_code(&self, spend: &IdentityCodeSpend) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let inserted = client
            .execute(
                "INSERT INTO identity_code_uses (nonce, kiosk_id, request_key, used_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (nonce) DO NOTHING",
                &[
                    &&spend.nonce[..],
                    &spend.kiosk_id,
                    &spend.request_key,
                    &spend.used_at,
                    &spend.expires_at,
                ],
            )
            .await?;
        if inserted == 1 {
            return Ok(true);
        }
        let replay = client
            .query_opt(
                "SELECT kiosk_id = $2 AND request_key = $3 FROM identity_code_uses
                 WHERE nonce = $1",
                &[&&spend.nonce[..], &spend.kiosk_id, &spend.request_key],
            )
            .await?
            .and_then(|r| r.get::<_, Option<bool>>(0));
        Ok(replay == Some(true))
    }

    async fn prune_identity_code_uses(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM identity_code_uses WHERE expires_at < $1",
                &[&before],
            )
            .await?)
    }

    async fn redeem_enrollment_code(
        &self,
        code_sha256: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<Redeemed, StoreError> {
        let client = self.client().await?;
        if let Some(row) = client
            .query_opt(
                "UPDATE enrollment_codes SET used_at = $2
                 WHERE code_sha256 = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING kiosk_id, config_keys",
                &[&&code_sha256[..], &now],
            )
            .await?
        {
            let keys: String = row.get(1);
            return Ok(Redeemed::Enrolled {
                kiosk_id: row.get(0),
                config_keys: from_json(&keys)?,
            });
        }
        let used = client
            .query_opt(
                "SELECT used_at IS NOT NULL FROM enrollment_codes WHERE code_sha256 = $1",
                &[&&code_sha256[..]],
            )
            .await?
            .map(|r| r.get::<_, bool>(0));
        Ok(match used {
            Some(true) => Redeemed::AlreadyUsed,
            Some(false) => Redeemed::Expired,
            None => Redeemed::Unknown,
        })
    }
}
