//! Moving a SQLite deployment's data to PostgreSQL (`estation-central
//! migrate-store`): every row of every table, read from the file and written
//! to an empty, migrated PostgreSQL schema in one transaction.
//!
//! Each table has its static SELECT (SQLite) and INSERT (PostgreSQL) and the
//! kind of each column, so that times stored as RFC 3339 text become
//! `timestamptz` and integers stored for booleans become `boolean`.

use rusqlite::Connection;
use rusqlite::types::Value as SqliteValue;
use time::OffsetDateTime;

use super::model::parse_rfc3339;
use crate::server::error::StoreError;

/// How a column is typed in PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Text,
    Int,
    Bool,
    Bytes,
    Time,
}

/// One column value, typed for PostgreSQL.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Bytes(Vec<u8>),
    Time(OffsetDateTime),
}

pub struct TableSpec {
    pub name: &'static str,
    pub select: &'static str,
    pub insert: &'static str,
    pub kinds: &'static [Kind],
}

use Kind::{Bool, Bytes, Int, Text, Time};

/// Tables in an order that respects foreign keys. `signing_keys` is not
/// copied: keys live in files.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "kiosks",
        select: "SELECT kiosk_id, token_sha256, created_at FROM kiosks",
        insert: "INSERT INTO kiosks (kiosk_id, token_sha256, created_at) VALUES ($1, $2, $3)",
        kinds: &[Text, Bytes, Time],
    },
    TableSpec {
        name: "admins",
        select: "SELECT admin_id, token_sha256, created_at FROM admins",
        insert: "INSERT INTO admins (admin_id, token_sha256, created_at) VALUES ($1, $2, $3)",
        kinds: &[Text, Bytes, Time],
    },
    TableSpec {
        name: "categories",
        select: "SELECT id, position, name_json FROM categories",
        insert: "INSERT INTO categories (id, position, name_json) VALUES ($1, $2, $3)",
        kinds: &[Text, Int, Text],
    },
    TableSpec {
        name: "services",
        select: "SELECT id, position, category_id, kind, needs_card, name_json, description_json,
                        opening_hours_json FROM services",
        insert: "INSERT INTO services (id, position, category_id, kind, needs_card, name_json,
                     description_json, opening_hours_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kinds: &[Text, Int, Text, Text, Bool, Text, Text, Text],
    },
    TableSpec {
        name: "residents",
        select: "SELECT card_number, id_number, name, gender, birth_date, address, household_head,
                        relationship_json FROM residents",
        insert: "INSERT INTO residents (card_number, id_number, name, gender, birth_date, address,
                     household_head, relationship_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kinds: &[Text, Text, Text, Text, Text, Text, Text, Text],
    },
    TableSpec {
        name: "contributions",
        select: "SELECT id_number, month, employer, base_cents, personal_cents, employer_cents
                 FROM contributions",
        insert: "INSERT INTO contributions (id_number, month, employer, base_cents, personal_cents,
                     employer_cents)
                 VALUES ($1, $2, $3, $4, $5, $6)",
        kinds: &[Text, Text, Text, Int, Int, Int],
    },
    TableSpec {
        name: "applications",
        select: "SELECT application_number, service_name_json, status, submitted_on,
                        expected_completion, steps_json, missing_json, applicant_id_number
                 FROM applications",
        insert: "INSERT INTO applications (application_number, service_name_json, status,
                     submitted_on, expected_completion, steps_json, missing_json,
                     applicant_id_number)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kinds: &[Text, Text, Text, Text, Text, Text, Text, Text],
    },
    TableSpec {
        name: "origin_certificates",
        select: "SELECT application_number, exporter_code, certificate_number, summary_json,
                        exporter_address, consignee, transport, goods_json, producer, invoice,
                        verification_code
                 FROM origin_certificates",
        insert: "INSERT INTO origin_certificates (application_number, exporter_code,
                     certificate_number, summary_json, exporter_address, consignee, transport,
                     goods_json, producer, invoice, verification_code)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        kinds: &[
            Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text,
        ],
    },
    TableSpec {
        name: "issued_certificates",
        select: "SELECT certificate_id, verification_code, kiosk_id, idempotency_key, service_id,
                        card_number, id_number, locale, issued_at, signature, qr_payload,
                        document_json
                 FROM issued_certificates",
        insert: "INSERT INTO issued_certificates (certificate_id, verification_code, kiosk_id,
                     idempotency_key, service_id, card_number, id_number, locale, issued_at,
                     signature, qr_payload, document_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        kinds: &[
            Text, Text, Text, Text, Text, Text, Text, Text, Time, Text, Text, Text,
        ],
    },
    TableSpec {
        name: "submissions",
        select: "SELECT receipt_number, kiosk_id, idempotency_key, service_id, card_number,
                        id_number, applicant_name, fields_json, received_at
                 FROM submissions",
        insert: "INSERT INTO submissions (receipt_number, kiosk_id, idempotency_key, service_id,
                     card_number, id_number, applicant_name, fields_json, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        kinds: &[Text, Text, Text, Text, Text, Text, Text, Text, Time],
    },
    TableSpec {
        name: "ratings",
        select: "SELECT rating_id, kiosk_id, idempotency_key, service_id, certificate_id, score,
                        reasons_json, received_at
                 FROM ratings",
        insert: "INSERT INTO ratings (rating_id, kiosk_id, idempotency_key, service_id,
                     certificate_id, score, reasons_json, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kinds: &[Text, Text, Text, Text, Text, Text, Text, Time],
    },
    TableSpec {
        name: "heartbeats",
        select: "SELECT id, kiosk_id, idempotency_key, sent_at, received_at, app_version,
                        config_version, outbox_backlog, devices_json, request_sha256,
                        acked_config_version
                 FROM heartbeats ORDER BY id",
        insert: "INSERT INTO heartbeats (id, kiosk_id, idempotency_key, sent_at, received_at,
                     app_version, config_version, outbox_backlog, devices_json, request_sha256,
                     acked_config_version)
                 OVERRIDING SYSTEM VALUE
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        kinds: &[
            Int, Text, Text, Time, Time, Text, Int, Int, Text, Bytes, Int,
        ],
    },
    TableSpec {
        name: "idempotency_keys",
        select: "SELECT kiosk_id, idempotency_key, endpoint, request_sha256, response_json,
                        created_at
                 FROM idempotency_keys",
        insert: "INSERT INTO idempotency_keys (kiosk_id, idempotency_key, endpoint,
                     request_sha256, response_json, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
        kinds: &[Text, Text, Text, Bytes, Text, Time],
    },
    TableSpec {
        name: "config_bundles",
        select: "SELECT version, payload, signature, created_at FROM config_bundles",
        insert: "INSERT INTO config_bundles (version, payload, signature, created_at)
                 VALUES ($1, $2, $3, $4)",
        kinds: &[Int, Text, Text, Time],
    },
    TableSpec {
        name: "published_bundles",
        select: "SELECT version, selector, payload, signature, key_id, expires_at, published_by,
                        published_at
                 FROM published_bundles",
        insert: "INSERT INTO published_bundles (version, selector, payload, signature, key_id,
                     expires_at, published_by, published_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        kinds: &[Int, Text, Text, Text, Text, Time, Text, Time],
    },
    TableSpec {
        name: "phone_links",
        select: "SELECT token_sha256, certificate_id, kiosk_id, created_at, expires_at
                 FROM phone_links",
        insert: "INSERT INTO phone_links (token_sha256, certificate_id, kiosk_id, created_at,
                     expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
        kinds: &[Bytes, Text, Text, Time, Time],
    },
    TableSpec {
        name: "receipt_counters",
        select: "SELECT day, last FROM receipt_counters",
        insert: "INSERT INTO receipt_counters (day, last) VALUES ($1, $2)",
        kinds: &[Text, Int],
    },
    TableSpec {
        name: "enrollment_codes",
        select: "SELECT code_sha256, kiosk_id, created_by, created_at, expires_at, used_at,
                        config_keys
                 FROM enrollment_codes",
        insert: "INSERT INTO enrollment_codes (code_sha256, kiosk_id, created_by, created_at,
                     expires_at, used_at, config_keys)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
        kinds: &[Bytes, Text, Text, Time, Time, Time, Text],
    },
    TableSpec {
        name: "identity_code_uses",
        select: "SELECT nonce, kiosk_id, request_key, used_at, expires_at
                 FROM identity_code_uses",
        insert: "INSERT INTO identity_code_uses (nonce, kiosk_id, request_key, used_at,
                     expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
        kinds: &[Bytes, Text, Text, Time, Time],
    },
];

/// Every table's rows, in the order of [`TABLES`].
pub struct Dump {
    pub tables: Vec<(&'static TableSpec, Vec<Vec<Value>>)>,
}

impl Dump {
    pub fn rows(&self, table: &str) -> usize {
        self.tables
            .iter()
            .find(|(spec, _)| spec.name == table)
            .map_or(0, |(_, rows)| rows.len())
    }
}

fn convert(value: SqliteValue, kind: Kind, table: &str) -> Result<Value, StoreError> {
    let wrong = |what: &str| StoreError::Corrupt(format!("{table}: unexpected {what}"));
    Ok(match (value, kind) {
        (SqliteValue::Null, _) => Value::Null,
        (SqliteValue::Text(t), Kind::Text) => Value::Text(t),
        (SqliteValue::Text(t), Kind::Time) => Value::Time(parse_rfc3339(&t)?),
        (SqliteValue::Integer(i), Kind::Int) => Value::Int(i),
        (SqliteValue::Integer(i), Kind::Bool) => Value::Bool(i != 0),
        (SqliteValue::Blob(b), Kind::Bytes) => Value::Bytes(b),
        (SqliteValue::Integer(_), _) => return Err(wrong("integer")),
        (SqliteValue::Real(_), _) => return Err(wrong("real")),
        (SqliteValue::Text(_), _) => return Err(wrong("text")),
        (SqliteValue::Blob(_), _) => return Err(wrong("blob")),
    })
}

/// Reads every table of a SQLite store.
pub(crate) fn dump_sqlite(conn: &Connection) -> Result<Dump, StoreError> {
    let mut tables = Vec::with_capacity(TABLES.len());
    for spec in TABLES {
        let mut stmt = conn.prepare(spec.select)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(spec.kinds.len());
            for (i, kind) in spec.kinds.iter().enumerate() {
                values.push(convert(row.get::<_, SqliteValue>(i)?, *kind, spec.name)?);
            }
            out.push(values);
        }
        tables.push((spec, out));
    }
    Ok(Dump { tables })
}
